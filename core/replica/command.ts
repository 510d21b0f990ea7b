// A replica's log command: the client's session (clientId, seq), the proposer's clock reading
// (log time: TTLs and session expiry are judged by it, never by a replica's own clock) and the
// KV face's command, all in the store's binary value encoding (core/storage/encoding.ts), not
// JSON. Equal commands give equal bytes on every node.
import { DecodeError, decodeValue, encodeValue, type Value } from '../storage/encoding.js';
import { encodeKvCommand } from '../storage/kv/codec.js';
import type { KvCommand } from '../storage/kv/commands.js';
import { AssertionError } from '../types.js';
import { bool, double, integer, link, long, str, timestampMicros, VALUE_TYPES, type Value as RecordValue } from '../storage/records/values.js';
import type { RecordWrite } from '../storage/records/writes.js';
import { timestamp } from '../storage/types.js';

/** Bumped when the envelope changes shape. */
export const COMMAND_FORMAT_VERSION = 1;

/** How the answer to the client is shaped (the legacy ops and the richer ones read results differently). */
export type AnswerShape = 'write' | 'cas' | 'delete' | 'put' | 'remove' | 'bulk';

export interface ReplicaCommand {
  readonly clientId: number;
  readonly seq: number;
  /** The proposer's local clock, milliseconds. */
  readonly proposedAtMs: number;
  readonly shape: AnswerShape;
  readonly kv: KvCommand;
}

const SHAPES: readonly AnswerShape[] = ['write', 'cas', 'delete', 'put', 'remove', 'bulk'];

export function encodeReplicaCommand(c: ReplicaCommand): Uint8Array {
  return encodeValue([COMMAND_FORMAT_VERSION, c.clientId, c.seq, Math.floor(c.proposedAtMs), SHAPES.indexOf(c.shape), encodeKvCommand(c.kv)]);
}

/** The top-level value of a log entry's bytes; AssertionError when they do not decode (a log entry is never guessed at). */
function entryValue(bytes: Uint8Array, who: string): Value {
  try {
    return decodeValue(bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new AssertionError(`${who}: entry bytes are not a command (${e.message})`);
    throw e;
  }
}

/** Decodes a command written by encodeReplicaCommand; throws AssertionError on anything else. */
export function decodeReplicaCommand(bytes: Uint8Array): { readonly envelope: Omit<ReplicaCommand, 'kv'>; readonly kv: Value } {
  return kvOfValue(entryValue(bytes, 'decodeReplicaCommand'));
}

function kvOfValue(v: Value): { readonly envelope: Omit<ReplicaCommand, 'kv'>; readonly kv: Value } {
  if (!Array.isArray(v) || v.length !== 6 || v[0] !== COMMAND_FORMAT_VERSION) throw new AssertionError('decodeReplicaCommand: not a version-1 command envelope');
  const [, clientId, seq, at, shape, kv] = v as Value[];
  if (typeof clientId !== 'number' || typeof seq !== 'number' || typeof at !== 'number' || typeof shape !== 'number' || !(kv instanceof Uint8Array) || SHAPES[shape] === undefined) {
    throw new AssertionError('decodeReplicaCommand: malformed command envelope');
  }
  let cmd: Value;
  try {
    cmd = decodeValue(kv);
  } catch (e) {
    if (e instanceof DecodeError) throw new AssertionError(`decodeReplicaCommand: KV command bytes do not decode (${e.message})`);
    throw e;
  }
  return { envelope: { clientId, seq, proposedAtMs: at, shape: SHAPES[shape]! }, kv: cmd };
}

// ---- the records face's commands (format version 2) ---------------------------------------
//
// [2, clientId, seq, proposedAtMs, command] where command is one RecordWrite as a plain value
// list (below), also in the store's value encoding. KV commands keep format 1 byte for byte, so
// a log of KV commands reads exactly as before.

/** The envelope version of a records command. */
export const RECORD_COMMAND_FORMAT_VERSION = 2;

/** The record writes a log entry may carry (one per entry; transactions will carry lists). */
export type LoggedRecordWrite = Extract<RecordWrite, { readonly op: 'add' | 'remove' | 'set' | 'clear' | 'insert' | 'link' | 'revert' }>;

export interface RecordCommand {
  readonly clientId: number;
  readonly seq: number;
  readonly proposedAtMs: number;
  readonly write: LoggedRecordWrite;
}

export interface CommandEnvelope {
  readonly clientId: number;
  readonly seq: number;
  readonly proposedAtMs: number;
}

export type DecodedCommand =
  | { readonly kind: 'kv'; readonly envelope: Omit<ReplicaCommand, 'kv'>; readonly kv: Value }
  | { readonly kind: 'records'; readonly envelope: CommandEnvelope; readonly write: LoggedRecordWrite };

/** A typed record value as [type index, payload]: bigint payloads stay integers, doubles keep their type by the index. */
function encodeRecordValue(v: RecordValue): Value {
  return [VALUE_TYPES.indexOf(v.type), v.value];
}

function decodeRecordValue(v: Value | undefined): RecordValue {
  if (!Array.isArray(v) || v.length !== 2) throw new AssertionError('decodeCommand: malformed record value');
  const [t, x] = v as Value[];
  const type = typeof t === 'number' ? VALUE_TYPES[t] : undefined;
  switch (type) {
    case 'boolean':
      return bool(x as boolean);
    case 'integer':
      return integer(x as number);
    case 'double':
      return double(x as number);
    case 'string':
      return str(x as string);
    case 'long':
      return long(bigOf(x));
    case 'link':
      return link(bigOf(x));
    case 'timestamp':
      return timestampMicros(bigOf(x));
    default:
      throw new AssertionError(`decodeCommand: unknown record value type ${String(t)}`);
  }
}

function bigOf(x: Value | undefined): bigint {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'number' && Number.isSafeInteger(x)) return BigInt(x);
  throw new AssertionError('decodeCommand: an integer was expected');
}

function str0(x: Value | undefined): string {
  if (typeof x !== 'string') throw new AssertionError('decodeCommand: a string was expected');
  return x;
}

function encodeWrite(w: LoggedRecordWrite): Value {
  switch (w.op) {
    case 'add':
    case 'remove':
    case 'set':
      return [w.op, w.record, w.key, encodeRecordValue(w.value)];
    case 'clear':
      return ['clear', w.record, w.key ?? null];
    case 'insert':
      return ['insert', w.document as Value];
    case 'link':
      return ['link', w.source, w.key, w.destination];
    case 'revert':
      return ['revert', w.record, w.at, w.keys === undefined ? null : [...w.keys]];
    default: {
      const _: never = w;
      throw new AssertionError(`encodeWrite: unknown op ${JSON.stringify(_)}`);
    }
  }
}

function decodeWrite(v: Value): LoggedRecordWrite {
  if (!Array.isArray(v) || typeof v[0] !== 'string') throw new AssertionError('decodeCommand: malformed record command');
  const a = v as Value[];
  switch (a[0]) {
    case 'add':
    case 'remove':
    case 'set':
      return { op: a[0], record: bigOf(a[1]), key: str0(a[2]), value: decodeRecordValue(a[3]) };
    case 'clear':
      return a[2] === null ? { op: 'clear', record: bigOf(a[1]) } : { op: 'clear', record: bigOf(a[1]), key: str0(a[2]) };
    case 'insert':
      if (a[1] === undefined) throw new AssertionError('decodeCommand: insert without a document');
      return { op: 'insert', document: a[1] };
    case 'link':
      return { op: 'link', source: bigOf(a[1]), key: str0(a[2]), destination: bigOf(a[3]) };
    case 'revert': {
      const at = a[2];
      if (typeof at !== 'number') throw new AssertionError('decodeCommand: revert without a time');
      const keys = a[3];
      if (keys === null) return { op: 'revert', record: bigOf(a[1]), at: timestamp(at) };
      if (!Array.isArray(keys)) throw new AssertionError('decodeCommand: revert keys are not a list');
      return { op: 'revert', record: bigOf(a[1]), at: timestamp(at), keys: keys.map(str0) };
    }
    default:
      throw new AssertionError(`decodeCommand: unknown record command ${String(a[0])}`);
  }
}

export function encodeRecordCommand(c: RecordCommand): Uint8Array {
  return encodeValue([RECORD_COMMAND_FORMAT_VERSION, c.clientId, c.seq, Math.floor(c.proposedAtMs), encodeWrite(c.write)]);
}

/** Formats 1 and 2, from the entry's decoded top-level value. */
function commandOfValue(v: Value): DecodedCommand {
  if (Array.isArray(v) && v[0] === RECORD_COMMAND_FORMAT_VERSION) {
    const [, clientId, seq, at, body] = v as Value[];
    if (v.length !== 5 || typeof clientId !== 'number' || typeof seq !== 'number' || typeof at !== 'number' || body === undefined) throw new AssertionError('decodeCommand: malformed version-2 envelope');
    return { kind: 'records', envelope: { clientId, seq, proposedAtMs: at }, write: decodeWrite(body) };
  }
  return { kind: 'kv', ...kvOfValue(v) };
}

// ---- one-shot transactions (format version 3) ---------------------------------------------
//
// [3, clientId, seq, proposedAtMs, txnId, [op, ...]]: an `atomic` command of core/lock's
// TransactionManager (begin, run the operations under its locks, commit), with the operations
// in the same value-list form as format 2 (criteria as CCL text, parsed at apply).

export const TXN_COMMAND_FORMAT_VERSION = 3;

/** One operation of a one-shot transaction as logged. */
export type LoggedTxnOp =
  | { readonly type: 'get'; readonly record: bigint; readonly key: string }
  | { readonly type: 'select'; readonly record: bigint }
  | { readonly type: 'add' | 'remove' | 'set'; readonly record: bigint; readonly key: string; readonly value: RecordValue };

export interface TxnCommandEnvelope extends CommandEnvelope {
  readonly txn: string;
}

export function encodeTxnCommand(c: TxnCommandEnvelope & { readonly ops: readonly LoggedTxnOp[] }): Uint8Array {
  const ops: Value[] = c.ops.map((o) => (o.type === 'select' ? ['select', o.record] : o.type === 'get' ? ['get', o.record, o.key] : [o.type, o.record, o.key, encodeRecordValue(o.value)]));
  return encodeValue([TXN_COMMAND_FORMAT_VERSION, c.clientId, c.seq, Math.floor(c.proposedAtMs), c.txn, ops]);
}

function decodeTxnOps(v: Value | undefined): LoggedTxnOp[] {
  if (!Array.isArray(v)) throw new AssertionError('decodeCommand: transaction ops are not a list');
  return (v as Value[]).map((o) => {
    if (!Array.isArray(o)) throw new AssertionError('decodeCommand: a transaction op is not a list');
    const a = o as Value[];
    switch (a[0]) {
      case 'select':
        return { type: 'select', record: bigOf(a[1]) };
      case 'get':
        return { type: 'get', record: bigOf(a[1]), key: str0(a[2]) };
      case 'add':
      case 'remove':
      case 'set':
        return { type: a[0], record: bigOf(a[1]), key: str0(a[2]), value: decodeRecordValue(a[3]) };
      default:
        throw new AssertionError(`decodeCommand: unknown transaction op ${String(a[0])}`);
    }
  });
}

/** Decodes a log command of any format (1 KV, 2 records, 3 one-shot transaction), parsing the bytes once; AssertionError on anything else. */
export function decodeAnyCommand(bytes: Uint8Array): DecodedCommand | { readonly kind: 'txn'; readonly envelope: TxnCommandEnvelope; readonly ops: readonly LoggedTxnOp[] } {
  const v = entryValue(bytes, 'decodeCommand');
  if (Array.isArray(v) && v[0] === TXN_COMMAND_FORMAT_VERSION) {
    const [, clientId, seq, at, txn, ops] = v as Value[];
    if (v.length !== 6 || typeof clientId !== 'number' || typeof seq !== 'number' || typeof at !== 'number' || typeof txn !== 'string') throw new AssertionError('decodeCommand: malformed version-3 envelope');
    return { kind: 'txn', envelope: { clientId, seq, proposedAtMs: at, txn }, ops: decodeTxnOps(ops) };
  }
  return commandOfValue(v);
}
