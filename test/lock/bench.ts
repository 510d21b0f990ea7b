// A transaction manager over the real record store on the in-memory port, driven by log
// commands with an advancing log clock: the pieces a node wires together, minus Raft.
import { MemStore } from '../../core/storage/memstore.js';
import { restoreSnapshot, takeSnapshot } from '../../core/storage/snapshot.js';
import { RecordStore, integer, type Criteria, type RecordId, type Value } from '../../core/storage/records/index.js';
import { timestampFromMs, type ApplyContext } from '../../core/storage/types.js';
import { logIndex } from '../../core/types.js';
import { RecordTxnStore } from '../../core/lock/recordStore.js';
import { decodeTxnState, encodeTxnState } from '../../core/lock/snapshot.js';
import { TransactionManager, type TxnCommand, type TxnOptions, type TxnOutput } from '../../core/lock/transactions.js';

export type Cmd = TxnCommand<RecordId, Value, Criteria>;
export type Out = TxnOutput<RecordId, Value>;

export class Bench {
  readonly kv: MemStore;
  readonly records: RecordStore;
  readonly mgr: TransactionManager<RecordId, Value, Criteria>;
  index: number;
  nowMs: number;

  /**
   * The transaction state always lives in the port too (what a node does). `from`: a replica
   * restored from a port snapshot, its transaction state read back from the port itself, or
   * taken from separately encoded image bytes.
   */
  constructor(
    readonly options: Partial<TxnOptions> = {},
    from?: { kv: MemStore; state: Uint8Array | 'in-port'; index: number; nowMs: number },
  ) {
    this.kv = from?.kv ?? new MemStore();
    this.records = new RecordStore(this.kv);
    const store = new RecordTxnStore(this.records);
    if (from?.state === 'in-port') this.mgr = TransactionManager.fromPort(store, this.kv, options);
    else if (from !== undefined) this.mgr = new TransactionManager(store, options, { image: decodeTxnState(from.state), port: this.kv });
    else this.mgr = new TransactionManager(store, options, { port: this.kv });
    this.index = from?.index ?? 0;
    this.nowMs = from?.nowMs ?? 1_000;
  }

  /** The context of the next log entry, `advanceMs` of log time after the previous one. */
  next(advanceMs = 1): ApplyContext {
    this.nowMs += advanceMs;
    this.index += 1;
    return { index: logIndex(this.index), timestamp: timestampFromMs(this.nowMs) };
  }

  run(cmd: Cmd, advanceMs = 1): Out {
    return this.mgr.apply(cmd, this.next(advanceMs));
  }

  /** Committed balances written outside any transaction (set-up). */
  seed(key: string, values: ReadonlyArray<readonly [RecordId, number]>): void {
    this.records.apply(
      values.map(([record, v]) => ({ op: 'set' as const, key, value: integer(v), record })),
      this.next(),
    );
  }

  /**
   * A replica restored from this one's snapshot (core/storage/snapshot.ts bytes of the port).
   * 'in-port': the transaction state comes back out of the port; 'image': from encodeTxnState.
   */
  restoreCopy(via: 'in-port' | 'image' = 'in-port'): Bench {
    const kv = new MemStore();
    restoreSnapshot(takeSnapshot(this.kv), kv);
    const state = via === 'in-port' ? 'in-port' : encodeTxnState(this.mgr.image());
    return new Bench(this.options, { kv, state, index: this.index, nowMs: this.nowMs });
  }
}
