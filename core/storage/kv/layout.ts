// Where the key-value face keeps its state inside the OrderedKV. Every key starts with the
// namespace byte 'K' (0x4B) and a table byte, so the face can share a store with the record
// model (namespace 'R') and the snapshot of the store is the snapshot of the face.
//
//   K D <tuple(key)>              -> entry: createRevision, modRevision, version, expiry, value
//   K X <tuple(expiresAtMs, key)> -> (empty)   the expiry index, ordered by (time, key)
//   K M                           -> meta: store revision, applied index, applied timestamp
//
// tuple(...) is encodeKey, so data keys sort by Unicode code point order of the key and a key
// prefix p selects exactly the keys starting with p.
import { assert } from '../../types.js';
import { ByteWriter, DecodeError, decodeKey, encodeKey, prefixEnd } from '../encoding.js';
import type { Bytes, RangeOptions } from '../port.js';

export const KV_NAMESPACE = 0x4b;
const TABLE_DATA = 0x44;
const TABLE_EXPIRY = 0x58;
const TABLE_META = 0x4d;

const DATA_PREFIX = Uint8Array.of(KV_NAMESPACE, TABLE_DATA);
const EXPIRY_PREFIX = Uint8Array.of(KV_NAMESPACE, TABLE_EXPIRY);
export const META_KEY = Uint8Array.of(KV_NAMESPACE, TABLE_META);

function withPrefix(prefix: Bytes, rest: Bytes): Uint8Array {
  const out = new Uint8Array(prefix.length + rest.length);
  out.set(prefix, 0);
  out.set(rest, prefix.length);
  return out;
}

export function dataKey(key: string): Uint8Array {
  return withPrefix(DATA_PREFIX, encodeKey([key]));
}

/** The user key of a data-table key. */
export function parseDataKey(k: Bytes): string {
  const parts = decodeKey(k.subarray(DATA_PREFIX.length));
  const key = parts[0];
  if (parts.length !== 1 || typeof key !== 'string') throw new DecodeError('not a key-value data key');
  return key;
}

/** Every data key; options narrow it to a key prefix or a [start, end) key range. */
export function dataRange(): RangeOptions {
  return { start: DATA_PREFIX, end: prefixEnd(DATA_PREFIX) };
}

/** Data keys whose user key starts with `prefix` (a string element without its terminator). */
export function dataPrefixRange(prefix: string): RangeOptions {
  const full = dataKey(prefix);
  // Drop the 0x00 that ends the string element: what is left prefixes every longer key.
  const open = full.subarray(0, full.length - 1);
  return { start: open, end: prefixEnd(open) };
}

/** Data keys with start <= key < end (by code point order). */
export function dataKeyRange(start: string | undefined, end: string | undefined): RangeOptions {
  const all = dataRange();
  return { start: start === undefined ? all.start! : dataKey(start), end: end === undefined ? all.end! : dataKey(end) };
}

export function expiryKey(expiresAtMs: number, key: string): Uint8Array {
  return withPrefix(EXPIRY_PREFIX, encodeKey([expiresAtMs, key]));
}

/** Expiry-index entries with expiresAt <= nowMs, earliest first. */
export function expiredRange(nowMs: number): RangeOptions {
  return { start: EXPIRY_PREFIX, end: withPrefix(EXPIRY_PREFIX, encodeKey([nowMs + 1])) };
}

export function parseExpiryKey(k: Bytes): { expiresAtMs: number; key: string } {
  const parts = decodeKey(k.subarray(EXPIRY_PREFIX.length));
  const [at, key] = parts;
  if (parts.length !== 2 || typeof at !== 'number' || typeof key !== 'string') throw new DecodeError('not a key-value expiry key');
  return { expiresAtMs: at, key };
}

/** A stored entry, value still encoded (so conditions compare bytes without decoding). */
export interface StoredEntry {
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly expiresAtMs: number | null;
  readonly value: Bytes;
}

export function encodeEntry(e: StoredEntry): Uint8Array {
  const w = new ByteWriter(e.value.length + 16);
  w.varint(e.createRevision);
  w.varint(e.modRevision);
  w.varint(e.version);
  // 0 = never; otherwise expiresAt + 1 (an expiry at 0 ms is legal).
  w.varint(e.expiresAtMs === null ? 0 : e.expiresAtMs + 1);
  w.bytes(e.value);
  return w.finish();
}

function varintAt(b: Bytes, pos: { at: number }): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    if (pos.at >= b.length) throw new DecodeError('truncated key-value entry');
    const c = b[pos.at++]!;
    n += (c & 0x7f) * scale;
    if ((c & 0x80) === 0) return n;
    scale *= 0x80;
    if (scale > 2 ** 56) throw new DecodeError('varint too long in key-value entry');
  }
}

export function decodeEntry(b: Bytes): StoredEntry {
  const pos = { at: 0 };
  const createRevision = varintAt(b, pos);
  const modRevision = varintAt(b, pos);
  const version = varintAt(b, pos);
  const exp = varintAt(b, pos);
  return { createRevision, modRevision, version, expiresAtMs: exp === 0 ? null : exp - 1, value: b.subarray(pos.at) };
}

/** The face's counters, kept in the store so a restored snapshot resumes exactly. */
export interface Meta {
  /** The last store revision assigned (0 before any write). */
  readonly revision: number;
  /** The last log index applied (0 before any). */
  readonly appliedIndex: number;
  /** The timestamp of that entry. */
  readonly appliedTimestamp: number;
}

export const INITIAL_META: Meta = { revision: 0, appliedIndex: 0, appliedTimestamp: 0 };

export function encodeMeta(m: Meta): Uint8Array {
  const w = new ByteWriter(24);
  w.varint(m.revision);
  w.varint(m.appliedIndex);
  w.varint(m.appliedTimestamp);
  return w.finish();
}

export function decodeMeta(b: Bytes): Meta {
  const pos = { at: 0 };
  const m = { revision: varintAt(b, pos), appliedIndex: varintAt(b, pos), appliedTimestamp: varintAt(b, pos) };
  assert(pos.at === b.length, 'key-value meta has trailing bytes');
  return m;
}
