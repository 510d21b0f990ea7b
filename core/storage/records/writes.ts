// The write operations, as data: a transaction stages a list of RecordWrite and the store
// applies the list as ONE batch under one ApplyContext. Each op reads the effects of the ops
// before it; any bad op fails the whole list before the port is touched.
import type { Timestamp } from '../types.js';
import type { Criteria } from './criteria.js';
import type { RecordId, Value } from './values.js';

export type RecordWrite =
  /** Adds value to key in record; no revision when it is already there. */
  | { readonly op: 'add'; readonly key: string; readonly value: Value; readonly record: RecordId }
  /** Removes value from key in record; no revision when it is absent. */
  | { readonly op: 'remove'; readonly key: string; readonly value: Value; readonly record: RecordId }
  /** Makes value the only value of key in record. */
  | { readonly op: 'set'; readonly key: string; readonly value: Value; readonly record: RecordId }
  /** Removes every value of key (or of every key, without `key`) in record. */
  | { readonly op: 'clear'; readonly record: RecordId; readonly key?: string }
  /** Adds a JSON document's data to a new record (or to `record`); nested objects become linked records. */
  | { readonly op: 'insert'; readonly document: unknown; readonly record?: RecordId }
  /** Adds a link from source to destination under key. */
  | { readonly op: 'link'; readonly key: string; readonly source: RecordId; readonly destination: RecordId }
  | { readonly op: 'unlink'; readonly key: string; readonly source: RecordId; readonly destination: RecordId }
  /** Atomically replaces expected with replacement, only if expected is there. */
  | { readonly op: 'verifyAndSwap'; readonly key: string; readonly expected: Value; readonly record: RecordId; readonly replacement: Value }
  /** Leaves key alone if it holds value, else sets it to value. */
  | { readonly op: 'verifyOrSet'; readonly key: string; readonly value: Value; readonly record: RecordId }
  /** The one record where key = value, adding value to a new record when there is none. */
  | { readonly op: 'findOrAdd'; readonly key: string; readonly value: Value }
  /** The one record matching criteria, inserting the document into a new record when there is none. */
  | { readonly op: 'findOrInsert'; readonly criteria: Criteria; readonly document: unknown }
  /** Brings key(s) of record back to their values at `at`, as new revisions. */
  | { readonly op: 'revert'; readonly record: RecordId; readonly at: Timestamp; readonly keys?: readonly string[] };

export type RecordWriteOp = RecordWrite['op'];

export interface WriteResult {
  readonly op: RecordWriteOp;
  /**
   * add/remove/link/unlink: the value was absent/present and now is not; verifyAndSwap: expected
   * was present; insert: the data went in (false: a value was already there, nothing written);
   * set/clear/verifyOrSet/revert/findOrAdd/findOrInsert: always true.
   */
  readonly ok: boolean;
  /** Revisions this op wrote. */
  readonly revisions: number;
  /** insert, findOrAdd, findOrInsert: the record (found or new). */
  readonly record?: RecordId;
  /** insert, findOrAdd, findOrInsert: records this op allocated (a nested document's records too). */
  readonly created?: readonly RecordId[];
}
