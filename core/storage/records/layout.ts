// The tables of the record store inside the OrderedKV, all under one namespace byte so the
// key-value face and other state machines can share the port. Every key is a tuple of
// prefix-free encodings (codec.ts), so a tuple prefix selects exactly its rows and byte order
// is index order. See docs/storage-records.md for the table of tables.
import type { Bytes } from '../port.js';
import type { Timestamp } from '../types.js';
import { prefixEnd } from '../encoding.js';
import { ByteReader, ByteWriter, type LongStringResolver } from './codec.js';
import type { RecordId, Value } from './values.js';

/** 'R': every record-store key starts with this byte. */
export const NAMESPACE = 0x52;

export const TABLE = {
  /** R M <name\0> → counters (last version, last record id, last timestamp). */
  meta: 0x4d,
  /** R C <record><key\0><value> → version of the ADD that made it present. Current state. */
  current: 0x43,
  /** R I <key\0><value><record> → version of the ADD. Current secondary index (find, browse). */
  index: 0x49,
  /** R H <record><key\0><value><version> → action, timestamp. Revisions by record (audit, get at T). */
  history: 0x48,
  /** R J <key\0><value><record><version> → action, timestamp. Revisions by value (find at T). */
  valueHistory: 0x4a,
  /** R T <timestamp> → last version applied at that timestamp (time → version). */
  time: 0x54,
  /** R S <key\0><gram text><record> → u32 count of current values holding the gram (search). */
  search: 0x53,
  /** R D <long-string key encoding> → the full text. Strings too long to sit whole in a key. */
  dictionary: 0x44,
  /** R L <record><key\0><version> → action, value. The revision log of one (record, key), by version. */
  log: 0x4c,
  /** R P <record><key\0><version> → the key's values (with ADD versions) after that version. */
  checkpoint: 0x50,
  /** R N <record><key\0> → u32 revisions of the key since its last checkpoint. */
  sinceCheckpoint: 0x4e,
} as const;

export type Action = 'ADD' | 'REMOVE';
const ACTION_ADD = 1;
/** The first payload byte of an ADD row. */
export const ACTION_ADD_BYTE = ACTION_ADD;
const ACTION_REMOVE = 2;

// One scratch writer for every key built here (finish() copies out), to spare the allocator:
// building a key never re-enters another key builder.
const scratch = new ByteWriter(256);
function w(table: number): ByteWriter {
  return scratch.reset().byte(NAMESPACE).byte(table);
}

export function tablePrefix(table: number): Bytes {
  return w(table).finish();
}

export function metaKey(name: string): Bytes {
  return w(TABLE.meta).ascii0(name).finish();
}

// current: R C record key value
export function currentKey(record: RecordId, key: string, value: Value): Bytes {
  return w(TABLE.current).u64(record).ascii0(key).value(value).finish();
}
export function currentRecordPrefix(record: RecordId): Bytes {
  return w(TABLE.current).u64(record).finish();
}
export function currentKeyPrefix(record: RecordId, key: string): Bytes {
  return w(TABLE.current).u64(record).ascii0(key).finish();
}
/** Parses a current-table key: record, key, value. */
export function parseCurrentKey(k: Bytes, resolveLong?: LongStringResolver): { record: RecordId; key: string; value: Value } {
  const r = new ByteReader(k, 2, resolveLong);
  const record = r.u64();
  const key = r.ascii0();
  return { record, key, value: r.value() };
}

// index: R I key value record
export function indexKey(key: string, value: Value, record: RecordId): Bytes {
  return w(TABLE.index).ascii0(key).value(value).u64(record).finish();
}
export function indexKeyPrefix(key: string): Bytes {
  return w(TABLE.index).ascii0(key).finish();
}
/** Index rows of `key` whose value encoding starts with `valuePrefix`. */
export function indexValuePrefix(key: string, valuePrefix: Bytes): Bytes {
  return w(TABLE.index).ascii0(key).bytes(valuePrefix).finish();
}
export function parseIndexKey(k: Bytes, resolveLong?: LongStringResolver): { key: string; value: Value; record: RecordId } {
  const r = new ByteReader(k, 2, resolveLong);
  const key = r.ascii0();
  const value = r.value();
  return { key, value, record: r.u64() };
}

// history: R H record key value version
export function historyKey(record: RecordId, key: string, value: Value, version: number): Bytes {
  return w(TABLE.history).u64(record).ascii0(key).value(value).uint(version).finish();
}
export function historyRecordPrefix(record: RecordId): Bytes {
  return w(TABLE.history).u64(record).finish();
}
export function historyKeyPrefix(record: RecordId, key: string): Bytes {
  return w(TABLE.history).u64(record).ascii0(key).finish();
}
export function parseHistoryKey(k: Bytes, resolveLong?: LongStringResolver): { record: RecordId; key: string; value: Value; version: number } {
  const r = new ByteReader(k, 2, resolveLong);
  const record = r.u64();
  const key = r.ascii0();
  const value = r.value();
  return { record, key, value, version: r.uint() };
}

// valueHistory: R J key value record version
export function valueHistoryKey(key: string, value: Value, record: RecordId, version: number): Bytes {
  return w(TABLE.valueHistory).ascii0(key).value(value).u64(record).uint(version).finish();
}
export function valueHistoryKeyPrefix(key: string): Bytes {
  return w(TABLE.valueHistory).ascii0(key).finish();
}
export function valueHistoryValuePrefix(key: string, valuePrefix: Bytes): Bytes {
  return w(TABLE.valueHistory).ascii0(key).bytes(valuePrefix).finish();
}
export function parseValueHistoryKey(k: Bytes, resolveLong?: LongStringResolver): { key: string; value: Value; record: RecordId; version: number } {
  const r = new ByteReader(k, 2, resolveLong);
  const key = r.ascii0();
  const value = r.value();
  const record = r.u64();
  return { key, value, record, version: r.uint() };
}

/** A history row's payload: the action and the timestamp of the revision. */
export function encodeRevisionPayload(action: Action, ts: Timestamp): Bytes {
  return new ByteWriter(9).byte(action === 'ADD' ? ACTION_ADD : ACTION_REMOVE).uint(ts).finish();
}
export function decodeRevisionPayload(b: Bytes): { action: Action; timestamp: Timestamp } {
  const r = new ByteReader(b);
  const a = r.byte();
  return { action: a === ACTION_ADD ? 'ADD' : 'REMOVE', timestamp: r.uint() as Timestamp };
}

// log, checkpoint, sinceCheckpoint: per (record, key)
export function logKey(record: RecordId, key: string, version: number): Bytes {
  return w(TABLE.log).u64(record).ascii0(key).uint(version).finish();
}
export function logKeyPrefix(record: RecordId, key: string): Bytes {
  return w(TABLE.log).u64(record).ascii0(key).finish();
}
export function encodeLogPayload(action: Action, value: Value): Bytes {
  return new ByteWriter(24).byte(action === 'ADD' ? ACTION_ADD : ACTION_REMOVE).value(value).finish();
}
export function checkpointKey(record: RecordId, key: string, version: number): Bytes {
  return w(TABLE.checkpoint).u64(record).ascii0(key).uint(version).finish();
}
export function checkpointKeyPrefix(record: RecordId, key: string): Bytes {
  return w(TABLE.checkpoint).u64(record).ascii0(key).finish();
}
/** A checkpoint: each value's encoding followed by its ADD version (encodings are self-delimiting). */
export function encodeCheckpoint(entries: ReadonlyArray<{ readonly value: Value; readonly version: number }>): Bytes {
  const out = new ByteWriter(16 * entries.length + 1);
  for (const e of entries) out.value(e.value).uint(e.version);
  return out.finish();
}
export function decodeCheckpoint(b: Bytes, resolveLong: LongStringResolver): Array<{ value: Value; version: number }> {
  const r = new ByteReader(b, 0, resolveLong);
  const out: Array<{ value: Value; version: number }> = [];
  while (!r.done) {
    const value = r.value();
    out.push({ value, version: r.uint() });
  }
  return out;
}
export function sinceCheckpointKey(record: RecordId, key: string): Bytes {
  return w(TABLE.sinceCheckpoint).u64(record).ascii0(key).finish();
}

// dictionary: R D <value encoding of a long string>
export function dictionaryKey(encoded: Bytes): Bytes {
  return w(TABLE.dictionary).bytes(encoded).finish();
}
export function encodeText(s: string): Bytes {
  return new ByteWriter(s.length * 3 + 2).text(s).finish();
}
export function decodeText(b: Bytes): string {
  return new ByteReader(b).text();
}

// time: R T timestamp
export function timeKey(ts: number): Bytes {
  return w(TABLE.time).uint(ts).finish();
}

// search: R S key gram record
export function searchKey(key: string, gram: string, record: RecordId): Bytes {
  return w(TABLE.search).ascii0(key).text(gram).u64(record).finish();
}
export function searchGramPrefix(key: string, gram: string): Bytes {
  return w(TABLE.search).ascii0(key).text(gram).finish();
}

export function encodeUint(n: number): Bytes {
  return new ByteWriter(8).uint(n).finish();
}
export function decodeUint(b: Bytes): number {
  return new ByteReader(b).uint();
}
export function encodeU64(n: bigint): Bytes {
  return new ByteWriter(8).u64(n).finish();
}
export function decodeU64(b: Bytes): bigint {
  return new ByteReader(b).u64();
}
export function encodeU32(n: number): Bytes {
  return new ByteWriter(4).u32(n).finish();
}
export function decodeU32(b: Bytes): number {
  return new ByteReader(b).u32();
}
export function readLastU64(k: Bytes): bigint {
  return new ByteReader(k, k.length - 8).u64();
}
export function readLastUint(k: Bytes): number {
  return new ByteReader(k, k.length - 8).uint();
}

/** End bound of a prefix range (the shared prefixEnd); every prefix here starts with the namespace byte, so one exists. */
export function endOf(prefix: Bytes): Bytes {
  return prefixEnd(prefix);
}
