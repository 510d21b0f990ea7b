// The errors a transaction command can answer with. Only 'txn-conflict' is retryable: the
// transaction lost a lock fight (wounded, or waited past the bound) and running it again from
// the start can succeed. The HTTP face maps it to 409.
import { describeAbort, type AbortReason, type TxnId } from './types.js';

export type TxnErrorCode =
  /** Aborted by the system (wound-wait or a timeout); retry the whole transaction. */
  | 'txn-conflict'
  /** No such transaction here (never begun, or finished long enough ago to be forgotten). */
  | 'txn-unknown'
  /** begin named an id that is already in use. */
  | 'txn-exists'
  /** A command arrived while the transaction still waits for a lock on its previous one. */
  | 'txn-busy'
  /** The transaction is no longer open for this command (committed, or prepared). */
  | 'txn-not-active'
  /** The command itself is malformed. */
  | 'bad-request';

export type TxnError =
  | { readonly code: 'txn-conflict'; readonly retryable: true; readonly txn: TxnId; readonly reason: AbortReason; readonly message: string }
  | {
      readonly code: Exclude<TxnErrorCode, 'txn-conflict'>;
      readonly retryable: false;
      readonly txn?: TxnId;
      readonly message: string;
    };

export function conflictError(txn: TxnId, reason: AbortReason): TxnError {
  return { code: 'txn-conflict', retryable: true, txn, reason, message: `transaction ${txn} aborted: ${describeAbort(reason)}; retry it` };
}

export function txnError(code: Exclude<TxnErrorCode, 'txn-conflict'>, txn: TxnId | undefined, message: string): TxnError {
  return txn === undefined ? { code, retryable: false, message } : { code, retryable: false, txn, message };
}
