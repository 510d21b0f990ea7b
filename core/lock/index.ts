// The public face of core/lock: lock table, transactions over the record store, snapshots.
// See docs/locking.md.
export { txnId, comparePriority, isOlder, describeAbort, describeTarget } from './types.js';
export type { TxnId, Priority, LockMode, LockTarget, LockRequest, AbortReason } from './types.js';
export { ALL_VALUES, point, isEmptyRange, rangesOverlap, rangeContains, rangeContainsValue } from './range.js';
export type { Compare, Bound, ValueRange } from './range.js';
export { LockTable, conflicts, covers } from './lockTable.js';
export type { HeldLock, WaitingRequest, AcquireResult, Grant, LockTableImage } from './lockTable.js';
export type { TxnErrorCode, TxnError } from './errors.js';
export type { TxnOp, OpResult, TxnCommand, TxnReply, TxnEvent, TxnOutput } from './commands.js';
export { TransactionManager, DEFAULT_TXN_OPTIONS } from './transactions.js';
export type { TxnRecord, TxnStatus, PendingOps, FinishedTxn, TxnOptions, TxnStateImage } from './transactions.js';
export type { Intent, TxnReadView, KeyRange, TxnStore } from './store.js';
export { RecordTxnStore, compareValuesForLocks, criteriaRanges } from './recordStore.js';
export { encodeTxnState, decodeTxnState } from './snapshot.js';
export { encodeTxnCommand, decodeTxnCommand } from './codec.js';
export { LOCK_NAMESPACE, loadTxnImage } from './persist.js';
