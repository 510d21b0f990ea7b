// The staged batch (core/storage/records/staged.ts) reads like the port would after the batch:
// random base contents, random staged puts/deletes, random ranges (bounds, reverse, limit),
// compared with a plain sorted array that has the batch applied.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemStore } from '../../core/storage/memstore.js';
import { compareBytes, type Bytes, type RangeOptions } from '../../core/storage/port.js';
import { StagedKV } from '../../core/storage/records/staged.js';

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 3, max: 4 });
const valArb = fc.uint8Array({ minLength: 0, maxLength: 2 });
const hex = (b: Bytes): string => Buffer.from(b).toString('hex');

describe('StagedKV', () => {
  it('get and range see the staged writes over the base, in order, with bounds, reverse and limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, valArb), { maxLength: 30 }),
        fc.array(fc.oneof(fc.tuple(fc.constant('put' as const), keyArb, valArb), fc.tuple(fc.constant('del' as const), keyArb, fc.constant(new Uint8Array()))), { maxLength: 30 }),
        fc.array(fc.record({ start: fc.option(keyArb, { nil: undefined }), end: fc.option(keyArb, { nil: undefined }), reverse: fc.boolean(), limit: fc.option(fc.nat({ max: 8 }), { nil: undefined }) }), { minLength: 1, maxLength: 8 }),
        (base, staged, ranges) => {
          const kv = new MemStore();
          const model = new Map<string, { key: Bytes; value: Bytes }>();
          if (base.length > 0) kv.write(base.map(([key, value]) => ({ type: 'put' as const, key, value })));
          for (const [key, value] of base) model.set(hex(key), { key, value });
          const s = new StagedKV(kv);
          staged.forEach(([op, key, value], i) => {
            if (op === 'put') {
              s.put(key, value);
              model.set(hex(key), { key, value });
            } else {
              s.delete(key);
              model.delete(hex(key));
            }
            // Interleave reads with writes, as a batch does.
            if (i % 5 === 0) expect(s.get(key) === undefined).toBe(!model.has(hex(key)));
          });
          const sorted = [...model.values()].sort((a, b) => compareBytes(a.key, b.key));
          for (const r of ranges) {
            const opts: RangeOptions = { ...(r.start ? { start: r.start } : {}), ...(r.end ? { end: r.end } : {}), reverse: r.reverse, ...(r.limit !== undefined ? { limit: r.limit } : {}) };
            let want = sorted.filter((e) => (r.start === undefined || compareBytes(e.key, r.start) >= 0) && (r.end === undefined || compareBytes(e.key, r.end) < 0));
            if (r.reverse) want = want.reverse();
            if (r.limit !== undefined) want = want.slice(0, r.limit);
            expect([...s.range(opts)].map((e) => [hex(e.key), hex(e.value)])).toEqual(want.map((e) => [hex(e.key), hex(e.value)]));
          }
          for (const e of sorted) expect(hex(s.get(e.key)!)).toBe(hex(e.value));
          // Committing gives the port exactly the model's contents.
          s.commitTo(kv);
          expect([...kv.range()].map((e) => [hex(e.key), hex(e.value)])).toEqual(sorted.map((e) => [hex(e.key), hex(e.value)]));
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});
