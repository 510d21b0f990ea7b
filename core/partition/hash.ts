// The stable hash behind placement: the same bytes give the same 32-bit value on every node,
// every platform and every version of this code (changing it would move data: the protocol
// version in the cluster fingerprint must change with it).
//
// FNV-1a over the bytes, then a 32-bit finalizer (MurmurHash3's fmix32) so that nearby keys
// ("k1", "k2") land far apart when reduced modulo a small partition count.

const utf8 = new TextEncoder();

export function fnv1a32(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The placement hash of a byte string. */
export function stableHash(bytes: Uint8Array): number {
  return fmix32(fnv1a32(bytes));
}

/** The placement hash of a string, over its UTF-8 bytes (not UTF-16 code units: the bytes are what the wire carries). */
export function stableHashString(s: string): number {
  return stableHash(utf8.encode(s));
}

/** The placement hash of a 64-bit unsigned integer (a record id), over its 8 big-endian bytes. */
export function stableHashU64(v: bigint): number {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`stableHashU64: ${v} is not a 64-bit unsigned integer`);
  const b = new Uint8Array(8);
  let x = v;
  for (let i = 7; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return stableHash(b);
}
