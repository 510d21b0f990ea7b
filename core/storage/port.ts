// The ordered key-value port that versioned storage runs on. Keys and values are bytes; keys
// compare as unsigned bytes (lexicographic), exactly as LMDB orders them, so the encoding
// chosen in core/storage makes byte order equal index order. Implementations: the in-memory
// sorted store in core/storage (simulator, tests) and LMDB in adapters/ (later).

export type Bytes = Uint8Array;

export interface RangeOptions {
  /** Inclusive lower bound (default: the first key). */
  readonly start?: Bytes;
  /** Exclusive upper bound (default: past the last key). */
  readonly end?: Bytes;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export interface KeyValue {
  readonly key: Bytes;
  readonly value: Bytes;
}

export type WriteOp =
  | { readonly type: 'put'; readonly key: Bytes; readonly value: Bytes }
  | { readonly type: 'delete'; readonly key: Bytes };

export interface OrderedKV {
  get(key: Bytes): Bytes | undefined;
  /** Entries with start <= key < end in byte order (reverse: descending). */
  range(options?: RangeOptions): Iterable<KeyValue>;
  /** Apply every op or none; later ops in one batch see earlier ones. */
  write(batch: readonly WriteOp[]): void;
  /** Number of keys held (for stats and tests). */
  size(): number;
}

/** Unsigned byte-wise comparison, the order of every OrderedKV. */
export function compareBytes(a: Bytes, b: Bytes): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
