import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MemStore } from '../../core/storage/memstore.js';
import { compareBytes, type Bytes, type WriteOp } from '../../core/storage/port.js';

const hex = (b: Bytes): string => Buffer.from(b).toString('hex');
const key = (n: number, width = 4): Bytes => {
  const b = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    b[i] = n & 0xff;
    n >>>= 8;
  }
  return b;
};

/** The reference: a Map plus a sort on every read. Slow and obviously right. */
class ModelStore {
  readonly map = new Map<string, { key: Bytes; value: Bytes }>();
  write(batch: readonly WriteOp[]): void {
    for (const op of batch) {
      if (op.type === 'put') this.map.set(hex(op.key), { key: op.key.slice(), value: op.value.slice() });
      else this.map.delete(hex(op.key));
    }
  }
  range(start?: Bytes, end?: Bytes, reverse = false, limit?: number): string[] {
    let all = [...this.map.values()].sort((a, b) => compareBytes(a.key, b.key));
    all = all.filter((e) => (start === undefined || compareBytes(e.key, start) >= 0) && (end === undefined || compareBytes(e.key, end) < 0));
    if (reverse) all.reverse();
    if (limit !== undefined) all = all.slice(0, limit);
    return all.map((e) => `${hex(e.key)}=${hex(e.value)}`);
  }
}

const collect = (it: Iterable<{ key: Bytes; value: Bytes }>): string[] => [...it].map((e) => `${hex(e.key)}=${hex(e.value)}`);

describe('MemStore', () => {
  it('stores, overwrites, deletes and counts', () => {
    const s = new MemStore();
    s.write([{ type: 'put', key: key(1), value: key(10) }]);
    s.write([{ type: 'put', key: key(1), value: key(11) }, { type: 'put', key: key(2), value: key(20) }]);
    expect(s.get(key(1))).toEqual(key(11));
    expect(s.size()).toBe(2);
    s.write([{ type: 'delete', key: key(1) }, { type: 'delete', key: key(3) }]);
    expect(s.get(key(1))).toBeUndefined();
    expect(s.size()).toBe(1);
  });

  it('keeps a tree that stays balanced through 20,000 inserts and deletes in mixed order', () => {
    const s = new MemStore();
    const n = 20_000;
    // A deterministic permutation: multiply by a unit modulo n.
    for (let i = 0; i < n; i++) s.write([{ type: 'put', key: key((i * 7919) % n), value: key(i) }]);
    s.checkInvariants();
    expect(s.size()).toBe(n);
    const all = [...s.range()];
    expect(all.length).toBe(n);
    for (let i = 1; i < all.length; i++) expect(compareBytes(all[i - 1]!.key, all[i]!.key)).toBeLessThan(0);
    for (let i = 0; i < n; i += 3) s.write([{ type: 'delete', key: key((i * 104729) % n) }]);
    s.checkInvariants();
    for (let i = 0; i < n; i++) if (i % 3 !== 0) s.write([{ type: 'delete', key: key((i * 104729) % n) }]);
    s.checkInvariants();
    expect(s.size()).toBe(0);
    expect([...s.range()]).toEqual([]);
  });

  it('copies keys and values so callers can reuse buffers', () => {
    const s = new MemStore();
    const k = key(5);
    const v = key(6);
    s.write([{ type: 'put', key: k, value: v }]);
    k[3] = 9;
    v[3] = 9;
    expect(s.get(key(5))).toEqual(key(6));
    expect(s.get(k)).toBeUndefined();
  });

  it('refuses a bad batch entirely', () => {
    const s = new MemStore();
    const bad = [{ type: 'put', key: key(1), value: key(1) }, { type: 'put', key: new Uint8Array(0), value: key(1) }] as const;
    expect(() => s.write(bad)).toThrow(/empty key/);
    expect(s.size()).toBe(0);
    expect(() => s.write([{ type: 'put', key: key(1), value: 'x' as unknown as Bytes }])).toThrow(/Uint8Array/);
    expect(() => s.write([{ type: 'nope', key: key(1) } as unknown as WriteOp])).toThrow(/unknown type/);
    expect(s.size()).toBe(0);
    expect(() => s.range({ limit: -1 })).toThrow(/limit/);
  });

  it('continues a scan correctly when the caller writes during it', () => {
    const s = new MemStore();
    for (let i = 0; i < 500; i++) s.write([{ type: 'put', key: key(i * 2), value: key(i) }]);
    const seen: number[] = [];
    for (const { key: k } of s.range()) {
      const n = new DataView(k.buffer, k.byteOffset).getUint32(0);
      seen.push(n);
      // Delete the key just yielded and the next one; insert one ahead (bounded, so the scan ends).
      s.write([{ type: 'delete', key: k }, { type: 'delete', key: key(n + 2) }]);
      if (n < 600 && n % 2 === 0) s.write([{ type: 'put', key: key(n + 3), value: key(0) }]);
    }
    s.checkInvariants();
    // Every key yielded was live when yielded, in ascending order.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    // Inserted keys ahead of the cursor are seen; deleted ones are not.
    expect(seen.slice(0, 4)).toEqual([0, 3, 4, 7]);
    const back: number[] = [];
    for (const { key: k } of s.range({ reverse: true })) {
      back.push(new DataView(k.buffer, k.byteOffset).getUint32(0));
      s.write([{ type: 'delete', key: k }]);
    }
    for (let i = 1; i < back.length; i++) expect(back[i]!).toBeLessThan(back[i - 1]!);
    expect(s.size()).toBe(0);
  });

  it('agrees with a reference model on random batches and range queries', () => {
    const smallKey = fc.uint8Array({ minLength: 1, maxLength: 3, max: 6 });
    const op = fc.oneof(
      fc.record({ type: fc.constant('put' as const), key: smallKey, value: fc.uint8Array({ maxLength: 2 }) }),
      fc.record({ type: fc.constant('delete' as const), key: smallKey }),
    );
    const query = fc.record({
      start: fc.option(smallKey, { nil: undefined }),
      end: fc.option(smallKey, { nil: undefined }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat(20), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 30 }), { maxLength: 30 }), fc.array(query, { maxLength: 5 }), (batches, queries) => {
        const s = new MemStore();
        const m = new ModelStore();
        for (const b of batches) {
          s.write(b);
          m.write(b);
        }
        s.checkInvariants();
        expect(s.size()).toBe(m.map.size);
        for (const [, e] of m.map) expect(s.get(e.key)).toEqual(e.value);
        for (const q of queries) {
          const opts = { reverse: q.reverse, ...(q.start ? { start: q.start } : {}), ...(q.end ? { end: q.end } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}) };
          expect(collect(s.range(opts))).toEqual(m.range(q.start, q.end, q.reverse, q.limit));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('handles edge inputs: Buffers, long keys, empty ranges, limit 0, bad arguments', () => {
    const s = new MemStore();
    const long = new Uint8Array(10_000).map((_, i) => (i * 31) & 0xff);
    s.write([
      { type: 'put', key: Buffer.from('buf'), value: Buffer.from('v') },
      { type: 'put', key: long, value: key(1) },
      { type: 'put', key: Uint8Array.of(0xff, 0xff), value: key(2) },
      { type: 'put', key: Uint8Array.of(0x00), value: key(3) },
    ]);
    expect(s.get(new Uint8Array(Buffer.from('buf')))).toEqual(new Uint8Array(Buffer.from('v')));
    expect(s.get(long.slice())).toEqual(key(1));
    expect([...s.range()].map((e) => e.key.length)).toEqual([1, 10_000, 3, 2]);
    // Scans hand out fresh key bytes: changing them cannot reach the store.
    for (const e of s.range()) e.key.fill(0x41);
    expect(s.get(Uint8Array.of(0xff, 0xff))).toEqual(key(2));
    expect([...s.range({ start: Uint8Array.of(0x80), end: Uint8Array.of(0x10) })]).toEqual([]);
    expect([...s.range({ limit: 0 })]).toEqual([]);
    expect([...s.range({ start: Uint8Array.of(0xff, 0xff), reverse: true })].length).toBe(1);
    expect([...s.range({ end: Uint8Array.of(0x00), reverse: true })]).toEqual([]);
    expect(() => s.get('x' as unknown as Bytes)).toThrow(/Uint8Array/);
    expect(() => s.range({ start: [1] as unknown as Bytes })).toThrow(/Uint8Array/);
    expect(() => s.write('nope' as unknown as WriteOp[])).toThrow(/array/);
    // Deleting an absent key is a no-op, not an error.
    s.write([{ type: 'delete', key: key(999) }]);
    expect(s.size()).toBe(4);
  });

  it('sees a batch as applied in order: a later op on the same key wins', () => {
    const s = new MemStore();
    s.write([
      { type: 'put', key: key(1), value: key(1) },
      { type: 'delete', key: key(1) },
      { type: 'put', key: key(2), value: key(1) },
      { type: 'put', key: key(2), value: key(2) },
    ]);
    expect(s.get(key(1))).toBeUndefined();
    expect(s.get(key(2))).toEqual(key(2));
    s.checkInvariants();
  });
});
