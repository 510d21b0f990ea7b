// A write batch that can be read back before it is applied: each operation of a batch (and each
// op of a transaction's staged list) sees the effects of the ones before it, and the port gets
// ONE atomic write at the end — or nothing, when an op fails validation halfway.
import { compareBytes, type Bytes, type KeyValue, type OrderedKV, type RangeOptions, type WriteOp } from '../port.js';

/** The read half of the port: what every read function of the store needs. */
export interface KVReader {
  get(key: Bytes): Bytes | undefined;
  range(options?: RangeOptions): Iterable<KeyValue>;
}

function mapKey(b: Bytes): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

interface Pending {
  readonly key: Bytes;
  readonly value: Bytes | undefined;
}

export class StagedKV implements KVReader {
  private readonly pending = new Map<string, Pending>();
  private sorted: Pending[] | undefined;

  constructor(private readonly base: KVReader) {}

  get(key: Bytes): Bytes | undefined {
    const p = this.pending.get(mapKey(key));
    if (p !== undefined) return p.value;
    return this.base.get(key);
  }

  put(key: Bytes, value: Bytes): void {
    this.pending.set(mapKey(key), { key, value });
    this.sorted = undefined;
  }

  delete(key: Bytes): void {
    this.pending.set(mapKey(key), { key, value: undefined });
    this.sorted = undefined;
  }

  get size(): number {
    return this.pending.size;
  }

  /** The batch for OrderedKV.write, in key order (a defined order, whatever the insertion order). */
  ops(): WriteOp[] {
    return this.sortedPending().map((p) =>
      p.value === undefined ? { type: 'delete', key: p.key } : { type: 'put', key: p.key, value: p.value },
    );
  }

  commitTo(kv: OrderedKV): void {
    if (this.pending.size > 0) kv.write(this.ops());
  }

  private sortedPending(): Pending[] {
    if (this.sorted === undefined) this.sorted = [...this.pending.values()].sort((a, b) => compareBytes(a.key, b.key));
    return this.sorted;
  }

  *range(options: RangeOptions = {}): Iterable<KeyValue> {
    if (this.pending.size === 0) {
      yield* this.base.range(options);
      return;
    }
    const { start, end, reverse = false, limit = Infinity } = options;
    const inRange = (k: Bytes): boolean =>
      (start === undefined || compareBytes(k, start) >= 0) && (end === undefined || compareBytes(k, end) < 0);
    const mine = this.sortedPending().filter((p) => inRange(p.key));
    if (reverse) mine.reverse();
    const baseOptions: RangeOptions = {
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
      reverse,
    };
    const dir = reverse ? -1 : 1;
    let i = 0;
    let n = 0;
    if (n >= limit) return;
    for (const kv of this.base.range(baseOptions)) {
      // Emit staged keys that come before this base key.
      while (i < mine.length && dir * compareBytes(mine[i]!.key, kv.key) < 0) {
        const p = mine[i++]!;
        if (p.value !== undefined) {
          yield { key: p.key, value: p.value };
          if (++n >= limit) return;
        }
      }
      if (i < mine.length && compareBytes(mine[i]!.key, kv.key) === 0) {
        const p = mine[i++]!;
        if (p.value !== undefined) {
          yield { key: p.key, value: p.value };
          if (++n >= limit) return;
        }
        continue;
      }
      yield kv;
      if (++n >= limit) return;
    }
    while (i < mine.length) {
      const p = mine[i++]!;
      if (p.value !== undefined) {
        yield { key: p.key, value: p.value };
        if (++n >= limit) return;
      }
    }
  }
}
