// A write batch that can be read back before it is applied: each operation of a batch (and each
// op of a transaction's staged list) sees the effects of the ones before it, and the port gets
// ONE atomic write at the end — or nothing, when an op fails validation halfway.
import { compareBytes, type Bytes, type KeyValue, type OrderedKV, type RangeOptions, type WriteOp } from '../port.js';

/** The read half of the port: what every read function of the store needs. */
export interface KVReader {
  get(key: Bytes): Bytes | undefined;
  range(options?: RangeOptions): Iterable<KeyValue>;
}

interface Pending {
  readonly key: Bytes;
  value: Bytes | undefined;
}

function mapKey(b: Bytes): string {
  // Keys are short (tens of bytes): one fromCharCode call beats a concatenation loop.
  return b.length <= 4096 ? String.fromCharCode.apply(null, b as unknown as number[]) : slowMapKey(b);
}

function slowMapKey(b: Bytes): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

/**
 * Pending writes: a Map for point reads, plus a key-sorted list built lazily for range reads
 * (new keys are sorted among themselves and merged in, so a batch that interleaves writes and
 * range reads pays O(pending) per read, not a full sort).
 */
export class StagedKV implements KVReader {
  private readonly pending = new Map<string, Pending>();
  private sorted: Pending[] = [];
  private fresh: Pending[] = [];

  constructor(private readonly base: KVReader) {}

  get(key: Bytes): Bytes | undefined {
    const p = this.pending.get(mapKey(key));
    if (p !== undefined) return p.value;
    return this.base.get(key);
  }

  private stage(key: Bytes, value: Bytes | undefined): void {
    const k = mapKey(key);
    const p = this.pending.get(k);
    if (p !== undefined) {
      p.value = value;
      return;
    }
    const n: Pending = { key, value };
    this.pending.set(k, n);
    this.fresh.push(n);
  }

  put(key: Bytes, value: Bytes): void {
    this.stage(key, value);
  }

  delete(key: Bytes): void {
    this.stage(key, undefined);
  }

  get size(): number {
    return this.pending.size;
  }

  /** The batch for OrderedKV.write, in the (deterministic) order keys were first staged. */
  ops(): WriteOp[] {
    const out: WriteOp[] = [];
    for (const p of this.pending.values()) out.push(p.value === undefined ? { type: 'delete', key: p.key } : { type: 'put', key: p.key, value: p.value });
    return out;
  }

  commitTo(kv: OrderedKV): void {
    if (this.pending.size > 0) kv.write(this.ops());
  }

  private sortedPending(): Pending[] {
    if (this.fresh.length > 0) {
      const add = this.fresh.sort((a, b) => compareBytes(a.key, b.key));
      this.fresh = [];
      const old = this.sorted;
      const merged: Pending[] = new Array<Pending>(old.length + add.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < old.length && j < add.length) merged[k++] = compareBytes(old[i]!.key, add[j]!.key) <= 0 ? old[i++]! : add[j++]!;
      while (i < old.length) merged[k++] = old[i++]!;
      while (j < add.length) merged[k++] = add[j++]!;
      this.sorted = merged;
    }
    return this.sorted;
  }

  /** Index of the first pending entry with key >= k. */
  private lowerBound(list: readonly Pending[], k: Bytes): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(list[mid]!.key, k) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  *range(options: RangeOptions = {}): Iterable<KeyValue> {
    if (this.pending.size === 0) {
      yield* this.base.range(options);
      return;
    }
    const { limit = Infinity, ...bounds } = options;
    if (limit <= 0) return;
    const reverse = options.reverse === true;
    const list = this.sortedPending();
    // The slice [from, to) of pending keys inside [start, end).
    const from = bounds.start === undefined ? 0 : this.lowerBound(list, bounds.start);
    const to = bounds.end === undefined ? list.length : this.lowerBound(list, bounds.end);
    let i = reverse ? to - 1 : from;
    const mineDone = (): boolean => (reverse ? i < from : i >= to);
    const dir = reverse ? -1 : 1;
    const theirs = this.base.range(bounds)[Symbol.iterator]();
    let t = theirs.next();
    let n = 0;
    while (!mineDone() || !t.done) {
      let c: number;
      if (mineDone()) c = 1;
      else if (t.done) c = -1;
      else c = dir * compareBytes(list[i]!.key, t.value.key);
      if (c <= 0) {
        // A pending write wins over (and hides) the base entry with the same key.
        const p = list[i]!;
        i += dir;
        if (c === 0) t = theirs.next();
        if (p.value === undefined) continue;
        yield { key: p.key, value: p.value };
      } else {
        yield t.value as KeyValue;
        t = theirs.next();
      }
      if (++n >= limit) return;
    }
  }
}
