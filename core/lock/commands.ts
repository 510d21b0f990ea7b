// The transaction layer's log commands and what applying one answers: a reply for the
// command's client, events for other transactions' clients, and the commits it applied.
import type { Timestamp } from '../storage/types.js';
import type { TxnError } from './errors.js';
import type { TxnId } from './types.js';

/** One operation of a transaction: reads take shared locks, writes exclusive ones and are staged. */
export type TxnOp<R, V, C> =
  | { readonly type: 'get'; readonly record: R; readonly key: string }
  | { readonly type: 'select'; readonly record: R }
  | { readonly type: 'find'; readonly criteria: C }
  | { readonly type: 'add'; readonly record: R; readonly key: string; readonly value: V }
  | { readonly type: 'remove'; readonly record: R; readonly key: string; readonly value: V }
  | { readonly type: 'set'; readonly record: R; readonly key: string; readonly value: V };

export type OpResult<R, V> =
  | { readonly type: 'values'; readonly values: readonly V[] }
  | { readonly type: 'record'; readonly keys: ReadonlyArray<readonly [string, readonly V[]]> }
  | { readonly type: 'records'; readonly records: readonly R[] }
  /** add/remove/set: whether the transaction's view changed (an add of a present value does not). */
  | { readonly type: 'changed'; readonly changed: boolean };

export type TxnCommand<R, V, C> =
  /** `priority`: a retried transaction passes its first timestamp to keep its seniority. */
  | { readonly type: 'begin'; readonly txn: TxnId; readonly priority?: Timestamp }
  /** Run operations in order; the reply (or a later 'completed' event) carries all results. */
  | { readonly type: 'ops'; readonly txn: TxnId; readonly ops: readonly TxnOp<R, V, C>[] }
  /** 2PC phase one: keep locks and intents, vote. */
  | { readonly type: 'prepare'; readonly txn: TxnId }
  | { readonly type: 'commit'; readonly txn: TxnId }
  | { readonly type: 'abort'; readonly txn: TxnId }
  /** A one-shot transaction: begin, run the operations, commit. */
  | { readonly type: 'atomic'; readonly txn: TxnId; readonly ops: readonly TxnOp<R, V, C>[]; readonly priority?: Timestamp }
  /** Nothing but the passage of log time: lets timeouts fire when no other command arrives. */
  | { readonly type: 'tick' };

export type TxnReply<R, V> =
  | { readonly type: 'begun'; readonly txn: TxnId; readonly priority: Timestamp }
  | { readonly type: 'done'; readonly txn: TxnId; readonly results: readonly OpResult<R, V>[] }
  | { readonly type: 'waiting'; readonly txn: TxnId; readonly blockers: readonly TxnId[] }
  | { readonly type: 'prepared'; readonly txn: TxnId }
  | { readonly type: 'committed'; readonly txn: TxnId; readonly commitTs: Timestamp; readonly results: readonly OpResult<R, V>[] }
  | { readonly type: 'aborted'; readonly txn: TxnId }
  | { readonly type: 'ticked' }
  | { readonly type: 'error'; readonly error: TxnError };

export type TxnEvent<R, V> =
  /** A parked 'ops' command finished: its results, for the waiting client. */
  | { readonly type: 'completed'; readonly txn: TxnId; readonly results: readonly OpResult<R, V>[] }
  /** A parked 'atomic' command finished and committed. */
  | { readonly type: 'committed'; readonly txn: TxnId; readonly commitTs: Timestamp; readonly results: readonly OpResult<R, V>[] }
  /** The system aborted the transaction (always a retryable 'txn-conflict'). */
  | { readonly type: 'aborted'; readonly txn: TxnId; readonly error: TxnError };

export interface TxnOutput<R, V> {
  readonly reply: TxnReply<R, V>;
  readonly events: readonly TxnEvent<R, V>[];
  /** Transactions whose intents reached the store during this command, in the order written. */
  readonly applied: readonly TxnId[];
}
