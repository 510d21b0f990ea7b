// A snapshot of any OrderedKV as one byte string, and its verified restore. Because both faces
// of the store keep all their state in the OrderedKV, this is the state machine snapshot Raft
// ships to a lagging follower.
//
// Format (all integers big-endian):
//   magic "CSNP" | u32 format version (1) | u64 entry count |
//   entry* (u32 key length, key, u32 value length, value; keys strictly ascending) |
//   u32 CRC-32C of everything before it
//
// Restore checks the magic, version, checksum, every length, the count and the key order before
// it touches the target; then it replaces the target's contents in ONE write batch. A damaged
// snapshot is refused with SnapshotError and the target is left exactly as it was.
import { crc32c } from './checksum.js';
import { compareBytes, type Bytes, type KeyValue, type OrderedKV, type WriteOp } from './port.js';

export const SNAPSHOT_MAGIC = Uint8Array.of(0x43, 0x53, 0x4e, 0x50); // "CSNP"
export const SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = 4 + 4 + 8;
const TRAILER_BYTES = 4;
/** u32 lengths: no single key or value may reach 4 GiB. */
const ITEM_BYTES_MAX = 0xffffffff;

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

/** Serializes every entry of `store`, in key order. */
export function takeSnapshot(store: OrderedKV): Uint8Array {
  const entries: KeyValue[] = [];
  let size = HEADER_BYTES + TRAILER_BYTES;
  for (const e of store.range()) {
    if (e.key.length > ITEM_BYTES_MAX || e.value.length > ITEM_BYTES_MAX) throw new SnapshotError('an entry is too large for the snapshot format');
    entries.push(e);
    size += 8 + e.key.length + e.value.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(SNAPSHOT_MAGIC, 0);
  view.setUint32(4, SNAPSHOT_FORMAT_VERSION);
  view.setUint32(8, Math.floor(entries.length / 2 ** 32));
  view.setUint32(12, entries.length >>> 0);
  let pos = HEADER_BYTES;
  for (const { key, value } of entries) {
    view.setUint32(pos, key.length);
    out.set(key, pos + 4);
    pos += 4 + key.length;
    view.setUint32(pos, value.length);
    out.set(value, pos + 4);
    pos += 4 + value.length;
  }
  view.setUint32(pos, crc32c(out, 0, pos));
  return out;
}

/** Parses and verifies a snapshot; throws SnapshotError on any damage. Entries share `bytes`' memory. */
export function readSnapshot(bytes: Bytes): KeyValue[] {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError('a snapshot must be a Uint8Array');
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) throw new SnapshotError(`snapshot is ${bytes.length} bytes, shorter than its header and checksum`);
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i]) throw new SnapshotError('not a snapshot (bad magic bytes)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.length - TRAILER_BYTES;
  const stored = view.getUint32(body);
  const actual = crc32c(bytes, 0, body);
  if (stored !== actual) {
    throw new SnapshotError(`snapshot checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}): the snapshot is corrupt`);
  }
  const version = view.getUint32(4);
  if (version !== SNAPSHOT_FORMAT_VERSION) throw new SnapshotError(`snapshot format version ${version} is not supported (this build reads ${SNAPSHOT_FORMAT_VERSION})`);
  const count = view.getUint32(8) * 2 ** 32 + view.getUint32(12);
  const entries: KeyValue[] = [];
  let pos = HEADER_BYTES;
  const take = (what: string): Uint8Array => {
    if (pos + 4 > body) throw new SnapshotError(`snapshot truncated in the ${what} length of entry ${entries.length}`);
    const n = view.getUint32(pos);
    if (pos + 4 + n > body) throw new SnapshotError(`snapshot truncated in the ${what} of entry ${entries.length}`);
    const b = bytes.subarray(pos + 4, pos + 4 + n);
    pos += 4 + n;
    return b;
  };
  while (pos < body) {
    if (entries.length === count) throw new SnapshotError(`snapshot holds more entries than its count ${count}`);
    const key = take('key');
    const value = take('value');
    if (key.length === 0) throw new SnapshotError(`snapshot entry ${entries.length} has an empty key`);
    const prev = entries[entries.length - 1];
    if (prev !== undefined && compareBytes(prev.key, key) >= 0) throw new SnapshotError(`snapshot keys out of order at entry ${entries.length}`);
    entries.push({ key, value });
  }
  if (entries.length !== count) throw new SnapshotError(`snapshot holds ${entries.length} entries, its header says ${count}`);
  return entries;
}

/**
 * Replaces everything in `target` with the snapshot's entries, atomically: the snapshot is
 * verified first, then one batch deletes the keys the snapshot lacks and puts all of its own.
 */
export function restoreSnapshot(bytes: Bytes, target: OrderedKV): void {
  const entries = readSnapshot(bytes);
  const ops: WriteOp[] = [];
  // Walk the target and the snapshot together (both in key order): delete only what must go.
  let i = 0;
  for (const { key } of target.range()) {
    while (i < entries.length && compareBytes(entries[i]!.key, key) < 0) i++;
    if (i < entries.length && compareBytes(entries[i]!.key, key) === 0) continue;
    ops.push({ type: 'delete', key });
  }
  for (const e of entries) ops.push({ type: 'put', key: e.key, value: e.value });
  target.write(ops);
}
