// The transaction port over the Concourse record store (core/storage/records): reads through
// the store, a transaction's own view through RecordStore.prepare (a staged batch that is
// read and dropped, never committed), commits through RecordStore.apply, and the value order
// and criteria ranges the lock table needs.
import type { ApplyContext } from '../storage/types.js';
import {
  checkCriteria,
  checkKey,
  criteriaKeys,
  checkValue,
  classOf,
  compareWithinClass,
  recordId,
  sameValue,
  str,
  VALUE_CLASSES,
  type CheckedCriteria,
  type Criteria,
  type RecordId,
  type RecordStore,
  type RecordWrite,
  type Value,
} from '../storage/records/index.js';
import { ALL_VALUES, point, type ValueRange } from './range.js';
import type { Intent, KeyRange, TxnReadView, TxnStore } from './store.js';

/**
 * The lock order of values: comparison class, then value within the class, ignoring the type
 * (1 = 1L = 1.0D tie). Criteria compare numbers across types, so a point lock on 1.0D must
 * meet a find on `= 1`; a tie makes two locks overlap, never miss each other.
 */
export function compareValuesForLocks(a: Value, b: Value): number {
  const ca = VALUE_CLASSES.indexOf(classOf(a));
  const cb = VALUE_CLASSES.indexOf(classOf(b));
  if (ca !== cb) return ca - cb;
  return compareWithinClass(a, b);
}

// Strings sit between timestamps and links in the class order: [""] .. (first link).
const STRINGS: ValueRange<Value> = { lo: { value: str(''), inclusive: true }, hi: { value: { type: 'link', value: 0n }, inclusive: false } };

/** The value interval per key that can make a checked criteria true. */
export function criteriaRanges(c: CheckedCriteria): KeyRange<Value>[] {
  switch (c.op) {
    case 'and':
    case 'or':
      // Membership under and/or changes only when some clause's truth changes for a record.
      return c.clauses.flatMap(criteriaRanges);
    case 'cmp': {
      const v = c.value;
      switch (c.operator) {
        case '=':
          return [{ key: c.key, range: point(v) }];
        case '!=':
          return [{ key: c.key, range: ALL_VALUES }];
        case '>':
          return [{ key: c.key, range: { lo: { value: v, inclusive: false } } }];
        case '>=':
          return [{ key: c.key, range: { lo: { value: v, inclusive: true } } }];
        case '<':
          return [{ key: c.key, range: { hi: { value: v, inclusive: false } } }];
        case '<=':
          return [{ key: c.key, range: { hi: { value: v, inclusive: true } } }];
        default: {
          const _: never = c.operator;
          return _;
        }
      }
    }
    case 'between':
      // Concourse's between: lower inclusive, upper exclusive (as the reader scans it).
      return [{ key: c.key, range: { lo: { value: c.lower, inclusive: true }, hi: { value: c.upper, inclusive: false } } }];
    case 'regex':
    case 'contains':
      return [{ key: c.key, range: STRINGS }];
    default: {
      const _: never = c;
      return _;
    }
  }
}

function toWrite(i: Intent<RecordId, Value>): RecordWrite {
  return { op: i.type, key: i.key, value: i.value, record: i.record };
}

export class RecordTxnStore implements TxnStore<RecordId, Value, Criteria> {
  readonly compareValues = compareValuesForLocks;

  constructor(private readonly records: RecordStore) {}

  recordKey(record: RecordId): string {
    return record.toString();
  }

  sameValue(a: Value, b: Value): boolean {
    return sameValue(a, b);
  }

  check(what: { readonly record?: RecordId; readonly key?: string; readonly value?: Value; readonly criteria?: Criteria }): void {
    if (what.record !== undefined) recordId(what.record);
    if (what.key !== undefined) checkKey(what.key);
    if (what.value !== undefined) checkValue(what.value);
    if (what.criteria !== undefined) checkCriteria(what.criteria);
  }

  criteriaRanges(criteria: Criteria): readonly KeyRange<Value>[] {
    return criteriaRanges(checkCriteria(criteria));
  }

  view(intents: readonly Intent<RecordId, Value>[], ctx: ApplyContext): TxnReadView<RecordId, Value, Criteria> {
    // Reads of (record, key)s the transaction did not write go straight to the store; its own
    // writes are laid over the committed values the way the store orders them (oldest add
    // first, so a new add goes last). A find touching keys it wrote runs on a staged batch of
    // those intents (RecordStore.prepare: read and dropped, never committed). The cost of a
    // read is then independent of how much else the transaction wrote.
    const records = this.records;
    const overlay = (record: RecordId, key: string, base: readonly Value[]): Value[] => {
      let values = [...base];
      for (const i of intents) {
        if (i.record !== record || i.key !== key) continue;
        if (i.type === 'remove') values = values.filter((v) => !sameValue(v, i.value));
        else if (!values.some((v) => sameValue(v, i.value))) values.push(i.value);
      }
      return values;
    };
    return {
      get: (record, key) => {
        const base = records.select(key, record);
        return intents.some((i) => i.record === record && i.key === key) ? overlay(record, key, base) : base;
      },
      select: (record) => {
        const committed = records.selectRecord(record);
        const mine = intents.filter((i) => i.record === record);
        if (mine.length === 0) return [...committed.entries()];
        const keys = [...new Set([...committed.keys(), ...mine.map((i) => i.key)])].sort();
        const out: Array<readonly [string, readonly Value[]]> = [];
        for (const k of keys) {
          const values = overlay(record, k, committed.get(k) ?? []);
          if (values.length > 0) out.push([k, values]);
        }
        return out;
      },
      find: (criteria) => {
        const keys = criteriaKeys(checkCriteria(criteria));
        const mine = intents.filter((i) => keys.includes(i.key));
        return mine.length === 0 ? records.find(criteria) : records.prepare(mine.map(toWrite), ctx).reader.find(criteria);
      },
    };
  }

  apply(intents: readonly Intent<RecordId, Value>[], ctx: ApplyContext): void {
    if (intents.length > 0) this.records.apply(intents.map(toWrite), ctx);
  }
}
