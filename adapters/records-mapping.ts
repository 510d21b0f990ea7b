// The one place where HTTP's records and listing surfaces meet the node's operations
// (docs/server.md has the mapping); the KV routes' twin is kv-mapping.ts.
//
// Values in JSON (CONTRACTS.md): a boolean, string or number stands for itself (an integral
// number is an integer when it fits 32 bits, else a long; any other number a double); a typed
// form {"type": "long"|"link"|"timestamp"|"double"|"integer"|"boolean"|"string", "value": v}
// names the type (64-bit payloads as a JSON number or a decimal string). Answers use the plain
// form wherever it reads back as the same typed value, else the typed form. Record ids are
// decimal strings; `at` is microseconds since the epoch (digits) or an ISO 8601 time.
import type { AtomicTxnOp, FanOutOp, NodeOp } from '../core/node/command.js';
import type { ClientResult } from '../core/node/types.js';
import type { Value } from '../core/storage/encoding.js';
import { bool, double, integer, INT32_MAX, INT32_MIN, link, long, RECORD_ID_MAX, str, timestampMicros, type Value as RecordValue } from '../core/storage/records/values.js';
import { RecordError } from '../core/storage/records/errors.js';
import { planDocument } from '../core/storage/records/documents.js';
import { parseCriteria } from '../core/storage/records/ccl.js';
import type { Consistency } from './kv-mapping.js';

/** A client's mistake, naming the field: answered 400. */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`field '${field}': ${message}`);
  }
}

const DECIMAL_ID = /^(0|[1-9][0-9]{0,18})$/;

/** A record id from its decimal string. */
export function parseRecordId(text: string, field = 'id'): bigint {
  if (!DECIMAL_ID.test(text)) throw new FieldError(field, `a record id is a decimal integer in [0, 2^63), got ${JSON.stringify(text)}`);
  const id = BigInt(text);
  if (id > RECORD_ID_MAX) throw new FieldError(field, `record id ${text} is above 2^63 - 1`);
  return id;
}

function big(field: string, x: unknown): bigint {
  if (typeof x === 'number' && Number.isSafeInteger(x)) return BigInt(x);
  if (typeof x === 'string' && /^-?[0-9]{1,20}$/.test(x)) return BigInt(x);
  throw new FieldError(field, `a 64-bit integer (a JSON integer or a decimal string) expected, got ${JSON.stringify(x)}`);
}

/** A JSON value as a typed record value. */
export function recordValueOf(x: unknown, field: string): RecordValue {
  try {
    if (typeof x === 'boolean') return bool(x);
    if (typeof x === 'string') return str(x);
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) throw new FieldError(field, 'a number must be finite');
      if (Number.isInteger(x) && x >= INT32_MIN && x <= INT32_MAX) return integer(x);
      if (Number.isSafeInteger(x)) return long(x);
      return double(x);
    }
    if (typeof x === 'object' && x !== null && !Array.isArray(x)) {
      const o = x as { type?: unknown; value?: unknown };
      const extra = Object.keys(o).filter((k) => k !== 'type' && k !== 'value');
      if (extra.length > 0 || !('value' in o)) throw new FieldError(field, 'a typed value is {"type": ..., "value": ...} and nothing else');
      switch (o.type) {
        case 'long':
          return long(big(field, o.value));
        case 'link':
          return link(parseRecordId(typeof o.value === 'number' ? String(o.value) : String(o.value), `${field}.value`));
        case 'timestamp':
          return timestampMicros(big(field, o.value));
        case 'double':
          return double(o.value as number);
        case 'integer':
          return integer(o.value as number);
        case 'boolean':
          return bool(o.value as boolean);
        case 'string':
          return str(o.value as string);
        default:
          throw new FieldError(`${field}.type`, `one of long, link, timestamp, double, integer, boolean, string expected, got ${JSON.stringify(o.type)}`);
      }
    }
  } catch (e) {
    if (e instanceof RecordError) throw new FieldError(field, e.message);
    throw e;
  }
  throw new FieldError(field, `a boolean, number, string or typed value expected, got ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`);
}

const jsonInt = (b: bigint): number | string => (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString());

/** A typed record value (as the node answers it: {type, value}) in its JSON form. */
export function jsonOfRecordValue(v: Value): unknown {
  const o = v as { type: RecordValue['type']; value: unknown };
  switch (o.type) {
    case 'boolean':
    case 'string':
    case 'integer':
      return o.value;
    case 'double': {
      const n = o.value as number;
      return Number.isInteger(n) ? { type: 'double', value: n } : n;
    }
    case 'long': {
      const b = BigInt(o.value as bigint | number);
      // A safe integer outside 32 bits reads back as a long by itself.
      return b >= BigInt(INT32_MIN) && b <= BigInt(INT32_MAX) ? { type: 'long', value: Number(b) } : Number.isSafeInteger(Number(b)) && BigInt(Number(b)) === b ? Number(b) : { type: 'long', value: b.toString() };
    }
    case 'link':
      return { type: 'link', value: BigInt(o.value as bigint | number).toString() };
    case 'timestamp':
      return { type: 'timestamp', value: jsonInt(BigInt(o.value as bigint | number)) };
    default:
      return o;
  }
}

/** `at`: microseconds since the epoch (digits) or an ISO 8601 time, as a store timestamp. */
export function parseAt(text: string | number, field = 'at'): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw new FieldError(field, `microseconds since the epoch (a non-negative integer) expected, got ${text}`);
  }
  if (/^[0-9]{1,16}$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new FieldError(field, `microseconds since the epoch or an ISO 8601 time expected, got ${JSON.stringify(text)}`);
  // Microseconds of the last instant of that millisecond: a read "at T" sees what was written at T.
  return ms * 1000 + 999;
}

/** POST /v1/records: the body's data as an insert (each key: a value or a list of values). */
export function insertOp(data: Readonly<Record<string, unknown>>): NodeOp {
  const doc: Record<string, Value> = {};
  const keys = Object.keys(data);
  if (keys.length === 0) throw new FieldError('data', 'a record needs at least one key');
  for (const k of keys) {
    const raw = data[k];
    const items = Array.isArray(raw) ? raw : [raw];
    if (items.length === 0) throw new FieldError(`data.${k}`, 'an empty list adds nothing');
    const tagged: Value[] = items.map((x, i) => {
      const v = recordValueOf(x, Array.isArray(raw) ? `data.${k}[${i}]` : `data.${k}`);
      const payload: Value = typeof v.value === 'bigint' ? v.value.toString() : v.value;
      return { [`$${v.type}`]: payload } as Value;
    });
    Object.defineProperty(doc, k, { value: tagged, enumerable: true, writable: true, configurable: true });
  }
  try {
    planDocument(doc);
  } catch (e) {
    if (e instanceof RecordError) throw new FieldError('data', e.message.replace(/^document key /, 'key '));
    throw e;
  }
  return { f: 'insert', document: doc };
}

export function keysParam(text: string | undefined): readonly string[] | undefined {
  if (text === undefined) return undefined;
  const keys = text.split(',').filter((k) => k.length > 0);
  if (keys.length === 0) throw new FieldError('keys', 'a comma-separated list of key names expected');
  return keys;
}

export function findOp(criteria: string, at: string | undefined, consistency: Consistency): FanOutOp {
  try {
    parseCriteria(criteria); // a client's mistake is a 400 naming the field, before any partition is asked
  } catch (e) {
    if (e instanceof RecordError) throw new FieldError('criteria', e.message);
    throw e;
  }
  return { f: 'find', criteria, consistency, ...(at !== undefined ? { at: parseAt(at) } : {}) };
}

/** The store's error code in an `invalid` reason, mapped to the HTTP field it is about. */
const FIELD_OF_CODE: Readonly<Record<string, string>> = {
  'bad-key': 'key',
  'bad-value': 'value',
  'bad-record': 'id',
  'bad-document': 'data',
  'bad-criteria': 'criteria',
  'bad-operator': 'criteria',
  'bad-time': 'at',
  'bad-query': 'query',
  'bad-path': 'path',
  'not-numeric': 'key',
  duplicate: 'data',
};

/** A node's `invalid` reason as a 400 message naming the field. */
export function invalidMessage(reason: string, fallbackField: string): string {
  if (reason.startsWith('field ')) return reason;
  const m = /^([a-z-]+): (.*)$/s.exec(reason);
  const field = m !== null ? FIELD_OF_CODE[m[1]!] : undefined;
  return field !== undefined ? `field '${field}': ${m![2]}` : `field '${fallbackField}': ${reason}`;
}

export type RecordsOutcome =
  | { readonly kind: 'ok'; readonly value: Value }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export function recordsOutcomeOf(r: ClientResult, fallbackField: string): RecordsOutcome {
  switch (r.kind) {
    case 'ok':
      return { kind: 'ok', value: r.value };
    case 'invalid':
      return { kind: 'invalid', message: invalidMessage(r.reason, fallbackField) };
    case 'cas-failed':
      return { kind: 'invalid', message: `field '${fallbackField}': a condition failed` };
    case 'unavailable':
      return { kind: 'unavailable', reason: r.reason };
    case 'no-quorum':
      return { kind: 'unavailable', reason: `no quorum: ${r.reason}` };
    default: {
      const _: never = r;
      return { kind: 'unavailable', reason: `unknown result ${JSON.stringify(_)}` };
    }
  }
}

/** A write's answer {changed, version}. */
export function changeOf(v: Value): { changed: boolean; version: number } {
  const o = v as { changed: boolean; version: number };
  return { changed: o.changed, version: o.version };
}

/** A select's answer as {record, data} (values in JSON form), or null when the record never held data. */
export function recordDataOf(id: bigint, v: Value): { record: string; data: Record<string, unknown[]> } | null {
  const o = v as { exists: boolean; data: Record<string, Value[]> };
  if (!o.exists) return null;
  const data: Record<string, unknown[]> = {};
  for (const [k, vs] of Object.entries(o.data)) Object.defineProperty(data, k, { value: vs.map(jsonOfRecordValue), enumerable: true, writable: true, configurable: true });
  return { record: id.toString(), data };
}

export function auditOf(v: Value): { revisions: Array<{ version: number; timestamp: number; action: 'ADD' | 'REMOVE'; key: string; value: unknown }> } {
  const revs = v as ReadonlyArray<{ version: number; timestamp: number; action: 'ADD' | 'REMOVE'; key: string; value: Value }>;
  return { revisions: revs.map((r) => ({ version: r.version, timestamp: r.timestamp, action: r.action, key: r.key, value: jsonOfRecordValue(r.value) })) };
}

export function recordIdsOf(v: Value): { records: string[] } {
  return { records: (v as ReadonlyArray<bigint | number>).map((id) => BigInt(id).toString()) };
}

/** POST /v1/txn/atomic: records operations as one transaction (one partition; see docs/server.md). */
export function atomicOp(ops: ReadonlyArray<{ readonly op: string; readonly record?: string | undefined; readonly key?: string | undefined; readonly value?: unknown }>): NodeOp {
  if (ops.length === 0) throw new FieldError('ops', 'a transaction needs at least one operation');
  const out: AtomicTxnOp[] = ops.map((o, i) => {
    const f = `ops[${i}]`;
    if (o.op === 'put' || o.op === 'delete') throw new FieldError(`${f}.op`, 'KV operations inside a transaction are not built yet (use POST /v1/kv/_bulk)');
    if (o.record === undefined) throw new FieldError(`${f}.record`, 'is missing');
    const record = parseRecordId(o.record, `${f}.record`);
    const key = (): string => {
      if (o.key === undefined) throw new FieldError(`${f}.key`, 'is missing');
      return o.key;
    };
    switch (o.op) {
      case 'select':
        return { type: 'select', record };
      case 'get':
        return { type: 'get', record, key: key() };
      case 'add':
      case 'remove':
      case 'set':
        if (o.value === undefined) throw new FieldError(`${f}.value`, 'is missing');
        return { type: o.op, record, key: key(), value: recordValueOf(o.value, `${f}.value`) };
      default:
        throw new FieldError(`${f}.op`, `one of get, select, add, remove, set expected, got ${JSON.stringify(o.op)}`);
    }
  });
  return { f: 'atomic', ops: out };
}

/** A committed transaction's answer in JSON: per operation {values} / {data} / {changed}. */
export function atomicResultOf(v: Value): { results: unknown[]; version: number } {
  const o = v as { results: ReadonlyArray<{ type: string; values?: Value[]; keys?: Array<[string, Value[]]>; changed?: boolean }>; version: number };
  const results = o.results.map((r) => {
    switch (r.type) {
      case 'values':
        return { values: (r.values ?? []).map(jsonOfRecordValue) };
      case 'record': {
        const data: Record<string, unknown[]> = {};
        for (const [k, vs] of r.keys ?? []) Object.defineProperty(data, k, { value: vs.map(jsonOfRecordValue), enumerable: true, writable: true, configurable: true });
        return { data };
      }
      default:
        return { changed: r.changed === true };
    }
  });
  return { results, version: o.version };
}
