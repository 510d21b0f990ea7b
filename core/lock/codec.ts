// Transaction commands as log-entry bytes. The store's self-describing value encoding carries
// bigints (record ids, longs) and sorts object keys, so one command is one byte string on
// every replica. Decoding checks the shape and refuses anything else: a log entry is never
// guessed at. Operand validity (keys, values, criteria) is the manager's check at apply time.
import { decodeValue, encodeValue, type Value as StoredValue } from '../storage/encoding.js';
import { AssertionError } from '../types.js';
import type { TxnCommand } from './commands.js';

const OP_FIELDS: Readonly<Record<string, readonly string[]>> = {
  get: ['record', 'key'],
  select: ['record'],
  find: ['criteria'],
  add: ['record', 'key', 'value'],
  remove: ['record', 'key', 'value'],
  set: ['record', 'key', 'value'],
};

export function encodeTxnCommand<R, V, C>(cmd: TxnCommand<R, V, C>): Uint8Array {
  return encodeValue(cmd as unknown as StoredValue);
}

function bad(why: string): never {
  throw new AssertionError(`decodeTxnCommand: ${why}`);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

function checkOps(ops: unknown): void {
  if (!Array.isArray(ops)) bad('ops must be a list');
  for (const op of ops) {
    if (!isObject(op) || typeof op['type'] !== 'string') bad('an operation must be an object with a type');
    const fields = OP_FIELDS[op['type']];
    if (fields === undefined) bad(`unknown operation ${JSON.stringify(op['type'])}`);
    for (const f of fields) if (!(f in op)) bad(`operation ${op['type']} lacks ${f}`);
    if ('key' in op && typeof op['key'] !== 'string') bad('an operation key must be a string');
  }
}

export function decodeTxnCommand<R, V, C>(bytes: Uint8Array): TxnCommand<R, V, C> {
  let x: unknown;
  try {
    x = decodeValue(bytes);
  } catch (e) {
    return bad(`not an encoded value (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(x) || typeof x['type'] !== 'string') bad('a command must be an object with a type');
  const type = x['type'];
  if (type !== 'tick' && (typeof x['txn'] !== 'string' || x['txn'].length === 0)) bad(`${type} needs a transaction id`);
  if ('priority' in x && (typeof x['priority'] !== 'number' || !Number.isSafeInteger(x['priority']))) bad('priority must be an integer timestamp');
  switch (type) {
    case 'begin':
    case 'prepare':
    case 'commit':
    case 'abort':
    case 'tick':
      break;
    case 'ops':
    case 'atomic':
      checkOps(x['ops']);
      break;
    default:
      bad(`unknown command ${JSON.stringify(type)}`);
  }
  return x as unknown as TxnCommand<R, V, C>;
}
