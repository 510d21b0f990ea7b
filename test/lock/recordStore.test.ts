// The transaction port over the record store: its fast read view (committed reads, own
// intents laid over only where they touch) must answer exactly what the store's own staged
// batch of all the intents answers.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RecordTxnStore } from '../../core/lock/recordStore.js';
import type { Intent } from '../../core/lock/store.js';
import { MemStore } from '../../core/storage/memstore.js';
import { RecordStore, double, integer, sameValue, where, type Criteria, type RecordId, type Value } from '../../core/storage/records/index.js';
import { timestampFromMs, type ApplyContext } from '../../core/storage/types.js';
import { logIndex } from '../../core/types.js';

const ctx = (n: number): ApplyContext => ({ index: logIndex(n), timestamp: timestampFromMs(n) });
const records: readonly RecordId[] = [1n, 2n, 3n];
const keys = ['x', 'y'] as const;
const valueArb: fc.Arbitrary<Value> = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.boolean()).map(([v, d]) => (d ? double(v) : integer(v)));
const writeArb = fc.record({ type: fc.constantFrom('add' as const, 'remove' as const), record: fc.constantFrom(...records), key: fc.constantFrom(...keys), value: valueArb });
const criteria: readonly Criteria[] = [
  where.gt('x', integer(1)),
  where.eq('y', integer(2)),
  where.ne('x', integer(0)),
  where.between('y', integer(1), integer(3)),
  where.or(where.lt('x', integer(2)), where.gte('y', double(3))),
  where.and(where.gt('x', integer(0)), where.lte('y', integer(4))),
];

describe('RecordTxnStore read view', () => {
  it('equals a staged batch of all intents, for every get, select and find', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 12 }), fc.array(writeArb, { maxLength: 12 }), (base, candidates) => {
        const store = new RecordStore(new MemStore());
        const committed = base.filter((w) => w.type === 'add').map((w) => ({ op: 'add' as const, key: w.key, value: w.value, record: w.record }));
        if (committed.length > 0) store.apply(committed, ctx(1));
        // Keep only effective intents, as the manager stages them (add of absent, remove of present).
        const intents: Intent<RecordId, Value>[] = [];
        for (const c of candidates) {
          const now = intents.length === 0 ? store.select(c.key, c.record) : store.prepare(intents.map((i) => ({ op: i.type, key: i.key, value: i.value, record: i.record })), ctx(2)).reader.select(c.key, c.record);
          const present = now.some((v) => sameValue(v, c.value));
          if ((c.type === 'add') !== present) intents.push(c);
        }
        const port = new RecordTxnStore(store);
        const fast = port.view(intents, ctx(2));
        const reference = intents.length === 0 ? store : store.prepare(intents.map((i) => ({ op: i.type, key: i.key, value: i.value, record: i.record })), ctx(2)).reader;
        for (const r of records) {
          for (const k of keys) expect(fast.get(r, k)).toEqual(reference.select(k, r));
          expect(fast.select(r)).toEqual([...reference.selectRecord(r).entries()]);
        }
        for (const c of criteria) expect(fast.find(c)).toEqual(reference.find(c));
      }),
      { numRuns: 300 },
    );
  });
});
