// Vocabulary of the lock table and transactions: ids, priorities, lock targets and modes.
import type { Brand } from '../types.js';
import type { Timestamp } from '../storage/types.js';
import type { ValueRange } from './range.js';

/**
 * A transaction's id, chosen by its coordinator and unique cluster-wide (e.g. "n2:17"): a
 * string so the same id can name the transaction in every partition it touches (2PC).
 */
export type TxnId = Brand<string, 'TxnId'>;
export const txnId = (s: string): TxnId => {
  if (typeof s !== 'string' || s.length === 0) throw new TypeError(`a transaction id must be a non-empty string, got ${JSON.stringify(s)}`);
  return s as TxnId;
};

/**
 * Wound-wait seniority: the smaller timestamp is older and wins; the id breaks ties so two
 * transactions are never equally old. A retried transaction keeps its first timestamp, so it
 * ages and cannot starve.
 */
export interface Priority {
  readonly ts: Timestamp;
  readonly id: TxnId;
}

/** Negative when `a` is older (higher priority) than `b`. */
export function comparePriority(a: Priority, b: Priority): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export const isOlder = (a: Priority, b: Priority): boolean => comparePriority(a, b) < 0;

export type LockMode = 'shared' | 'exclusive';

/**
 * What a lock covers. Records are named by a canonical string (the records engine's id
 * rendering) so the table can index them without knowing the id type.
 * - token: one key of one record (read: shared; write: exclusive).
 * - record: every key of one record, present and future (a whole-record read such as select).
 * - range: the values of one key in an interval, across all records. Readers (find) hold
 *   shared ranges; a writer adding or removing value v holds the exclusive point [v, v].
 */
export type LockTarget<V> =
  | { readonly kind: 'token'; readonly record: string; readonly key: string }
  | { readonly kind: 'record'; readonly record: string }
  | { readonly kind: 'range'; readonly key: string; readonly range: ValueRange<V> };

export interface LockRequest<V> {
  readonly target: LockTarget<V>;
  readonly mode: LockMode;
}

/** Why a transaction was aborted by the system rather than by its client. */
export type AbortReason =
  | { readonly kind: 'wounded'; readonly by: TxnId }
  | { readonly kind: 'wait-timeout'; readonly waitedMs: number }
  | { readonly kind: 'idle-timeout'; readonly idleMs: number }
  | { readonly kind: 'client' }
  | { readonly kind: 'coordinator' };

export function describeAbort(reason: AbortReason): string {
  switch (reason.kind) {
    case 'wounded':
      return `wounded by older transaction ${reason.by} (wound-wait)`;
    case 'wait-timeout':
      return `waited ${reason.waitedMs} ms for a lock, longer than the bound`;
    case 'idle-timeout':
      return `idle for ${reason.idleMs} ms while holding locks`;
    case 'client':
      return 'aborted by its client';
    case 'coordinator':
      return 'aborted by its coordinator';
    default: {
      const _: never = reason;
      return _;
    }
  }
}

export function describeTarget<V>(t: LockTarget<V>, show: (v: V) => string = String): string {
  switch (t.kind) {
    case 'token':
      return `token(${t.key} @ ${t.record})`;
    case 'record':
      return `record(${t.record})`;
    case 'range': {
      const lo = t.range.lo === undefined ? '(-inf' : `${t.range.lo.inclusive ? '[' : '('}${show(t.range.lo.value)}`;
      const hi = t.range.hi === undefined ? '+inf)' : `${show(t.range.hi.value)}${t.range.hi.inclusive ? ']' : ')'}`;
      return `range(${t.key} in ${lo}, ${hi})`;
    }
    default: {
      const _: never = t;
      return _;
    }
  }
}
