// The data models, Porcupine style: a state, a step function, a partition, a hash.
// A register's state is the canonical text of its value (values.ts), so equal values are
// equal states and the hash is the state itself. Initial state: null (absent).

import { HistoryError } from './history.js';
import type { Model, Operation } from './types.js';
import { NULL_KEY, valueKey } from './values.js';

export type ModelName = 'register' | 'cas-register' | 'kv';
export const MODEL_NAMES: readonly ModelName[] = ['register', 'cas-register', 'kv'];

/** The functions each model accepts. */
const FUNCTIONS: Readonly<Record<ModelName, ReadonlySet<string>>> = {
  register: new Set(['read', 'write', 'delete']),
  'cas-register': new Set(['read', 'write', 'cas', 'delete']),
  kv: new Set(['read', 'write', 'cas', 'delete']),
};

/** Canonical texts of an operation's values, computed once per operation. */
interface OpKeys {
  /** read: the value seen; write: the value written; cas: the value expected; delete: null. */
  readonly a: string;
  /** cas: the new value. */
  readonly b: string;
}
const keyCache = new WeakMap<Operation, OpKeys>();

export function opKeys(op: Operation): OpKeys {
  let k = keyCache.get(op);
  if (k === undefined) {
    switch (op.f) {
      case 'read':
        k = { a: valueKey(op.output), b: NULL_KEY };
        break;
      case 'cas': {
        const pair = Array.isArray(op.input) ? op.input : [];
        k = { a: valueKey(pair[0]), b: valueKey(pair[1]) };
        break;
      }
      case 'write':
        k = { a: valueKey(op.input), b: NULL_KEY };
        break;
      default:
        k = { a: NULL_KEY, b: NULL_KEY };
    }
    keyCache.set(op, k);
  }
  return k;
}

/** The register's step on canonical value texts; shared by all three models. */
export function registerStep(state: string, op: Operation): readonly string[] {
  const k = opKeys(op);
  switch (op.f) {
    case 'read':
      return state === k.a ? [state] : [];
    case 'write':
      return [k.a];
    case 'delete':
      return [NULL_KEY];
    case 'cas':
      return state === k.a ? [k.b] : [];
    default:
      return [];
  }
}

function describeValueKey(k: string): string {
  return k === NULL_KEY ? 'absent' : k;
}

export function describeRegisterOp(op: Operation): string {
  const k = opKeys(op);
  const who = `process ${op.process}`;
  const on = op.key === null ? '' : ` key ${JSON.stringify(op.key)}`;
  const maybe = op.status === 'info' ? ' (outcome unknown)' : '';
  switch (op.f) {
    case 'read':
      return `${who} read${on} and saw ${describeValueKey(k.a)}`;
    case 'write':
      return `${who} wrote ${k.a} to${on || ' the register'}${maybe}`;
    case 'delete':
      return `${who} deleted${on || ' the register'}${maybe}`;
    case 'cas':
      return `${who} compare-and-set${on} from ${describeValueKey(k.a)} to ${describeValueKey(k.b)}${op.status === 'ok' ? ' (succeeded)' : maybe}`;
    default:
      return `${who} ${op.f}${on}`;
  }
}

function singlePartition(ops: readonly Operation[]): ReadonlyArray<{ readonly key: string | null; readonly ops: readonly Operation[] }> {
  return [{ key: ops[0]?.key ?? null, ops }];
}

function byKey(ops: readonly Operation[]): ReadonlyArray<{ readonly key: string | null; readonly ops: readonly Operation[] }> {
  const groups = new Map<string | null, Operation[]>();
  for (const op of ops) {
    let g = groups.get(op.key);
    if (g === undefined) groups.set(op.key, (g = []));
    g.push(op);
  }
  // A defined order (null first, then keys by code unit) keeps verdicts and reports stable.
  return [...groups.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1))
    .map(([key, g]) => ({ key, ops: g }));
}

function registerModel(name: ModelName, partition: Model<string>['partition']): Model<string> {
  return {
    name,
    init: () => NULL_KEY,
    step: registerStep,
    partition,
    hash: (s) => s,
    describeOp: describeRegisterOp,
    describeState: describeValueKey,
  };
}

export const register: Model<string> = registerModel('register', singlePartition);
export const casRegister: Model<string> = registerModel('cas-register', singlePartition);
export const kv: Model<string> = registerModel('kv', byKey);

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

export function modelByName(name: string): Model<string> {
  switch (name) {
    case 'register':
      return register;
    case 'cas-register':
      return casRegister;
    case 'kv':
      return kv;
    default:
      throw new Error(`unknown model '${name}' (known: ${MODEL_NAMES.join(', ')})`);
  }
}

/** Bad input for a model (an unknown function, a malformed cas, keys on a single register). */
export function validateForModel(name: ModelName, ops: readonly Operation[]): void {
  const allowed = FUNCTIONS[name];
  let firstKey: Operation | undefined;
  for (const op of ops) {
    if (!allowed.has(op.f)) {
      throw new HistoryError(op.line, `the ${name} model has no operation '${op.f}' (it knows ${[...allowed].join(', ')})`);
    }
    if (op.f === 'cas' && (!Array.isArray(op.input) || op.input.length !== 2)) {
      throw new HistoryError(op.line, `cas needs the value [expected, new], got ${JSON.stringify(op.input)}`);
    }
    if (name !== 'kv') {
      if (firstKey === undefined) firstKey = op;
      else if (op.key !== firstKey.key) {
        throw new HistoryError(op.line, `key ${JSON.stringify(op.key)} differs from key ${JSON.stringify(firstKey.key)} on line ${firstKey.line}: the ${name} model is one register; use --model kv`);
      }
    }
  }
}
