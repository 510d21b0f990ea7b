// Value intervals and the criteria → range mapping that guards find against phantoms. The
// mapping must be sound: any value that can make a condition true lies inside its range,
// or a writer of that value would slip past a reader's range lock.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isEmptyRange, point, rangeContains, rangeContainsValue, rangesOverlap, type Bound, type ValueRange } from '../../core/lock/range.js';
import { compareValuesForLocks, criteriaRanges } from '../../core/lock/recordStore.js';
import { MemStore } from '../../core/storage/memstore.js';
import {
  checkCriteria,
  compareValues,
  RecordStore,
  valuesEqualForCriteria,
  type Criteria,
  type Value,
} from '../../core/storage/records/index.js';
import { timestampFromMs } from '../../core/storage/types.js';
import { logIndex } from '../../core/types.js';

const num = (a: number, b: number): number => a - b;

describe('value ranges', () => {
  it('edges: open and closed ends, empty and unbounded ranges', () => {
    const r = (lo: number | undefined, loIn: boolean, hi: number | undefined, hiIn: boolean): ValueRange<number> => ({
      ...(lo === undefined ? {} : { lo: { value: lo, inclusive: loIn } }),
      ...(hi === undefined ? {} : { hi: { value: hi, inclusive: hiIn } }),
    });
    expect(rangesOverlap(r(1, true, 3, false), r(3, true, 5, true), num)).toBe(false);
    expect(rangesOverlap(r(1, true, 3, true), r(3, true, 5, true), num)).toBe(true);
    expect(rangesOverlap(r(undefined, false, undefined, false), point(7), num)).toBe(true);
    expect(isEmptyRange(r(3, false, 3, true), num)).toBe(true);
    expect(rangesOverlap(r(3, false, 3, true), r(undefined, false, undefined, false), num)).toBe(false);
    expect(rangeContains(r(0, true, 10, true), r(0, false, 10, false), num)).toBe(true);
    expect(rangeContains(r(0, false, 10, true), r(0, true, 10, true), num)).toBe(false);
    expect(rangeContains(r(0, true, undefined, false), r(undefined, false, 5, true), num)).toBe(false);
    expect(rangeContainsValue(r(0, true, 10, false), 10, num)).toBe(false);
  });

  // Integer bounds; every region between them holds a multiple of 0.5, so this grid decides exactly.
  const grid = Array.from({ length: 29 }, (_, i) => -2 + i * 0.5);
  const boundArb: fc.Arbitrary<Bound<number> | undefined> = fc.option(fc.record({ value: fc.integer({ min: 0, max: 10 }), inclusive: fc.boolean() }), { nil: undefined });
  const rangeArb: fc.Arbitrary<ValueRange<number>> = fc.record({ lo: boundArb, hi: boundArb }).map(({ lo, hi }) => ({
    ...(lo === undefined ? {} : { lo }),
    ...(hi === undefined ? {} : { hi }),
  }));
  const inside = (r: ValueRange<number>, x: number): boolean =>
    (r.lo === undefined || x > r.lo.value || (r.lo.inclusive && x === r.lo.value)) && (r.hi === undefined || x < r.hi.value || (r.hi.inclusive && x === r.hi.value));

  it('overlap and containment agree with brute force', () => {
    fc.assert(
      fc.property(rangeArb, rangeArb, (a, b) => {
        expect(rangesOverlap(a, b, num)).toBe(grid.some((x) => inside(a, x) && inside(b, x)));
        expect(rangesOverlap(a, b, num)).toBe(rangesOverlap(b, a, num));
        expect(rangeContains(a, b, num)).toBe(grid.every((x) => !inside(b, x) || inside(a, x)));
        expect(isEmptyRange(a, num)).toBe(!grid.some((x) => inside(a, x)));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('criteria ranges over the record store', () => {
  const valueArb: fc.Arbitrary<Value> = fc.oneof(
    fc.boolean().map((value): Value => ({ type: 'boolean', value })),
    fc.integer({ min: -5, max: 5 }).map((value): Value => ({ type: 'integer', value })),
    fc.bigInt({ min: -5n, max: 5n }).map((value): Value => ({ type: 'long', value })),
    fc.oneof(fc.integer({ min: -10, max: 10 }).map((n) => n / 2)).map((value): Value => ({ type: 'double', value: value === 0 ? 0 : value })),
    fc.constantFrom('', 'a', 'ab', 'b', 'abc', 'ba').map((value): Value => ({ type: 'string', value })),
    fc.bigInt({ min: 0n, max: 4n }).map((value): Value => ({ type: 'link', value })),
    fc.bigInt({ min: -3n, max: 3n }).map((value): Value => ({ type: 'timestamp', value })),
  );
  const conditionArb: fc.Arbitrary<Criteria> = fc.oneof(
    fc.record({ operator: fc.constantFrom('=', '!=', '>', '>=', '<', '<=' as const), value: valueArb }).map(
      ({ operator, value }): Criteria => ({ kind: 'condition', key: 'k', operator, value }),
    ),
    fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 5 })).map(
      ([a, b]): Criteria => ({ kind: 'condition', key: 'k', operator: 'between', value: { type: 'integer', value: Math.min(a, b) }, upper: { type: 'double', value: Math.max(a, b) } }),
    ),
    fc.record({ operator: fc.constantFrom('regex', 'not regex', 'contains' as const), pattern: fc.constantFrom('a', 'a.*', 'b', '.*') }).map(
      ({ operator, pattern }): Criteria => ({ kind: 'condition', key: 'k', operator, pattern }),
    ),
    fc.bigInt({ min: 0n, max: 4n }).map((record): Criteria => ({ kind: 'condition', key: 'k', operator: 'links to', record })),
  );
  const criteriaArb: fc.Arbitrary<Criteria> = fc.oneof(
    { weight: 3, arbitrary: conditionArb },
    { weight: 1, arbitrary: fc.tuple(conditionArb, conditionArb, fc.boolean()).map(([a, b, and]): Criteria => ({ kind: and ? 'and' : 'or', clauses: [a, b] })) },
  );

  // The operands themselves (and their numeric twins of other types) are the edge cases.
  const operands = (c: Criteria): Value[] => {
    if (c.kind !== 'condition') return c.clauses.flatMap(operands);
    switch (c.operator) {
      case 'between':
        return [c.value, c.upper];
      case 'regex':
      case 'not regex':
      case 'contains':
        return [{ type: 'string', value: c.pattern.replace('.*', '') }];
      case 'links to':
        return [{ type: 'link', value: c.record }];
      default: {
        const v = c.value;
        const twins: Value[] = v.type === 'integer' ? [{ type: 'long', value: BigInt(v.value) }, { type: 'double', value: v.value }] : [];
        return [v, ...twins];
      }
    }
  };
  const withValues = criteriaArb.chain((criteria) =>
    fc.tuple(fc.constant(criteria), fc.array(fc.oneof(valueArb, fc.constantFrom(...operands(criteria))), { minLength: 1, maxLength: 3 })),
  );

  it('every value that makes find match lies inside one of the criteria ranges of its key', () => {
    fc.assert(
      fc.property(withValues, ([criteria, values]) => {
        const store = new RecordStore(new MemStore());
        store.apply(
          values.map((value) => ({ op: 'add' as const, key: 'k', value, record: 1n })),
          { index: logIndex(1), timestamp: timestampFromMs(1) },
        );
        const ranges = criteriaRanges(checkCriteria(criteria)).filter((kr) => kr.key === 'k');
        const matched = store.find(criteria).includes(1n);
        // Remove each value on its own: if that changes membership, the value must be locked by a range.
        for (const v of values) {
          const without = new RecordStore(new MemStore());
          const rest = values.filter((x) => !(x.type === v.type && x.value === v.value));
          if (rest.length > 0) {
            without.apply(
              rest.map((value) => ({ op: 'add' as const, key: 'k', value, record: 1n })),
              { index: logIndex(1), timestamp: timestampFromMs(1) },
            );
          }
          if (without.find(criteria).includes(1n) !== matched) {
            expect(ranges.some((kr) => rangeContainsValue(kr.range, v, compareValuesForLocks))).toBe(true);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the lock order is the store order with numeric types tied', () => {
    fc.assert(
      fc.property(valueArb, valueArb, (a, b) => {
        const lock = Math.sign(compareValuesForLocks(a, b));
        if (valuesEqualForCriteria(a, b)) expect(lock).toBe(0);
        else expect(lock).toBe(Math.sign(compareValues(a, b)));
      }),
      { numRuns: 1_000 },
    );
  });
});
