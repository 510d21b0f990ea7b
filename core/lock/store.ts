// The port between transactions and the versioned record store: what a transaction reads
// (committed state with its own intents laid over), how criteria map to value ranges for
// range locks, and how a commit lands as one atomic batch. The records engine provides it
// (core/lock/recordStore.ts adapts core/storage/records); the manager never touches storage.
import type { ApplyContext } from '../storage/types.js';
import type { Compare, ValueRange } from './range.js';

/** One staged write: an intent until its transaction commits. */
export interface Intent<R, V> {
  readonly type: 'add' | 'remove';
  readonly record: R;
  readonly key: string;
  readonly value: V;
}

/** Current committed state as one transaction sees it: its own intents applied on top. */
export interface TxnReadView<R, V, C> {
  /** Values of one key of one record, in the store's order. */
  get(record: R, key: string): readonly V[];
  /** Every non-empty key of one record with its values, keys ascending. */
  select(record: R): ReadonlyArray<readonly [string, readonly V[]]>;
  /** Records matching the criteria, ascending. */
  find(criteria: C): readonly R[];
}

/** One shared range lock a find takes: the values of `key` the criteria could match. */
export interface KeyRange<V> {
  readonly key: string;
  readonly range: ValueRange<V>;
}

export interface TxnStore<R, V, C> {
  /** Canonical string of a record id: lock-table index and map key. */
  recordKey(record: R): string;
  /**
   * The value order range locks are intervals of. It may tie distinct values that criteria
   * treat as equal (1 = 1.0): ties only make locks more conservative.
   */
  readonly compareValues: Compare<V>;
  /** Whether two values are one value of a key's set (what add and remove compare by). */
  sameValue(a: V, b: V): boolean;
  /** Reject a malformed record, key, value or criteria with a clear message (throws). */
  check(what: { readonly record?: R; readonly key?: string; readonly value?: V; readonly criteria?: C }): void;
  /**
   * Value intervals per key holding every value that can make the criteria match: a record's
   * membership in find(criteria) changes only when a value inside one of them is added or removed.
   */
  criteriaRanges(criteria: C): readonly KeyRange<V>[];
  /** The read view of a transaction, during the apply of the log entry `ctx`. */
  view(intents: readonly Intent<R, V>[], ctx: ApplyContext): TxnReadView<R, V, C>;
  /**
   * Apply a committed transaction's intents, in order, as one atomic batch stamped with the
   * commit's log entry. Each intent was effective when staged (an add of an absent value, a
   * remove of a present one) and its (record, key) stayed exclusively locked since.
   */
  apply(intents: readonly Intent<R, V>[], ctx: ApplyContext): void;
}
