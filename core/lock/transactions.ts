// Serializable transactions as a replicated state machine. Every change arrives as a log
// command (begin, ops, prepare, commit, abort, atomic, tick) applied with the entry's
// ApplyContext; the answer is a reply to that command plus events for other transactions
// (a parked operation that completed because a lock was granted, a transaction wounded or
// timed out). Strict two-phase locking: reads take shared locks and see committed state plus
// the transaction's own intents; writes take exclusive locks and are staged as intents; the
// commit writes all intents as one batch in its own log entry and only then releases locks.
// Deadlocks cannot form (wound-wait, see lockTable.ts); bounded waits are a second net.
import type { Bugs } from '../bugs.js';
import type { OrderedKV, WriteOp } from '../storage/port.js';
import { NO_BUGS } from '../bugs.js';
import type { ApplyContext, Timestamp } from '../storage/types.js';
import { timestampMs } from '../storage/types.js';
import { assert, unreachable } from '../types.js';
import type { OpResult, TxnCommand, TxnEvent, TxnOp, TxnOutput, TxnReply } from './commands.js';
import { conflictError, txnError, type TxnError } from './errors.js';
import { LockTable, type LockTableImage } from './lockTable.js';
import { closeDeletes, finishedDelete, finishedPut, headPut, intentPut, loadTxnImage, lockPut, metaPut, type Counters } from './persist.js';
import { point } from './range.js';
import type { Intent, TxnStore } from './store.js';
import type { AbortReason, LockRequest, Priority, TxnId } from './types.js';

export type { TxnOp, OpResult, TxnCommand, TxnReply, TxnEvent, TxnOutput } from './commands.js';

export type TxnStatus = 'active' | 'prepared';

/** Operations of one command still to run (parked while a lock is awaited). */
export interface PendingOps<R, V, C> {
  readonly ops: readonly TxnOp<R, V, C>[];
  readonly results: readonly OpResult<R, V>[];
  /** An atomic command commits itself when its last operation is done. */
  readonly autoCommit: boolean;
}

/** An open transaction, exactly as replicated. */
export interface TxnRecord<R, V, C> {
  readonly id: TxnId;
  /** Begin order (0, 1, ...): iteration order, and the transaction's key in the port. */
  readonly seq: number;
  readonly priority: Priority;
  readonly status: TxnStatus;
  readonly intents: readonly Intent<R, V>[];
  readonly pending?: PendingOps<R, V, C>;
  /** Log time (ms) of the last command from its client: idle transactions are aborted. */
  readonly lastActiveMs: number;
}

/** What is remembered about a finished transaction, so late or repeated commands get a clear answer. */
export type FinishedTxn =
  | { readonly id: TxnId; readonly seq: number; readonly outcome: 'committed'; readonly commitTs: Timestamp }
  | { readonly id: TxnId; readonly seq: number; readonly outcome: 'aborted'; readonly reason: AbortReason };

type Outcome = { readonly outcome: 'committed'; readonly commitTs: Timestamp } | { readonly outcome: 'aborted'; readonly reason: AbortReason };

export interface TxnOptions {
  /** A transaction waiting longer than this for one lock is aborted (log time). */
  readonly maxWaitMs: number;
  /** An active transaction with no command for this long is aborted, freeing its locks. */
  readonly idleTimeoutMs: number;
  /** How many finished transactions are remembered (oldest forgotten first). */
  readonly finishedRetain: number;
  readonly bugs: Bugs;
}

export const DEFAULT_TXN_OPTIONS: TxnOptions = { maxWaitMs: 5_000, idleTimeoutMs: 30_000, finishedRetain: 4_096, bugs: NO_BUGS };

/** The whole replicated state of the transaction layer, for snapshots. */
export interface TxnStateImage<R, V, C> {
  readonly version: 1;
  readonly txns: readonly TxnRecord<R, V, C>[];
  readonly finished: readonly FinishedTxn[];
  /** The next begin and finish sequence numbers. */
  readonly counters: { readonly open: number; readonly finish: number };
  readonly locks: LockTableImage<V>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class TransactionManager<R, V, C> {
  private readonly options: TxnOptions;
  private locks: LockTable<V>;
  /** Open transactions in begin order: timeouts and snapshots iterate in this order. */
  private readonly txns = new Map<TxnId, Mutable<TxnRecord<R, V, C>>>();
  private readonly finished = new Map<TxnId, FinishedTxn>();
  private nextOpen = 0;
  private nextFinish = 0;

  // Persistence into the port (when given): what this command changed.
  private readonly port: OrderedKV | undefined;
  private dirty = new Set<TxnId>();
  private closed = new Map<TxnId, number>();
  private newlyFinished: FinishedTxn[] = [];
  private evicted: FinishedTxn[] = [];
  /** Intents already in the port, per open transaction (derived, not replicated). */
  private readonly persistedIntents = new Map<TxnId, number>();
  /** The counters last written to the port (derived): unchanged counters are not rewritten. */
  private persistedCounters: Counters | undefined;

  // Scratch of the command being applied; empty between commands.
  private nowMs = 0;
  private ctx: ApplyContext | undefined;
  private events: TxnEvent<R, V>[] = [];
  private resume: TxnId[] = [];
  private applied: TxnId[] = [];

  /**
   * `from.image`: start from a snapshot image. `from.port`: keep the state in that OrderedKV too
   * (written at the end of every command; see persist.ts), so a snapshot of the port holds it.
   */
  constructor(
    private readonly store: TxnStore<R, V, C>,
    options: Partial<TxnOptions> = {},
    from: { readonly image?: TxnStateImage<R, V, C>; readonly port?: OrderedKV } = {},
  ) {
    this.options = { ...DEFAULT_TXN_OPTIONS, ...options };
    assert(this.options.maxWaitMs > 0 && this.options.idleTimeoutMs > 0, 'transaction timeouts must be positive');
    assert(Number.isInteger(this.options.finishedRetain) && this.options.finishedRetain >= 0, 'finishedRetain must be a non-negative integer');
    this.locks = new LockTable<V>(store.compareValues);
    this.port = from.port;
    if (from.image !== undefined) this.restore(from.image);
    else if (from.port !== undefined) {
      assert(loadTxnImage(from.port) === undefined, 'the port already holds transaction state: resume it with TransactionManager.fromPort');
    }
  }

  /** A manager whose state lives in `port`: resumes what the port holds (e.g. after a snapshot restore). */
  static fromPort<R, V, C>(store: TxnStore<R, V, C>, port: OrderedKV, options: Partial<TxnOptions> = {}): TransactionManager<R, V, C> {
    const loaded = loadTxnImage<R, V, C>(port);
    return new TransactionManager(store, options, loaded === undefined ? { port } : { port, image: loaded.image });
  }

  /** Apply one committed log command. Deterministic: same state + command + ctx, same output. */
  apply(cmd: TxnCommand<R, V, C>, ctx: ApplyContext): TxnOutput<R, V> {
    assert(this.ctx === undefined, 'TransactionManager.apply re-entered');
    this.ctx = ctx;
    this.nowMs = timestampMs(ctx.timestamp);
    this.events = [];
    this.resume = [];
    this.applied = [];
    try {
      this.expire();
      let reply = this.dispatch(cmd);
      this.drain();
      if (reply.type === 'waiting') reply = this.foldOwnEvent(reply);
      if (this.port !== undefined) this.persist(this.port);
      return { reply, events: this.events, applied: this.applied };
    } finally {
      this.ctx = undefined;
      this.events = [];
      this.resume = [];
      this.applied = [];
      this.dirty = new Set();
      this.closed = new Map();
      this.newlyFinished = [];
      this.evicted = [];
      this.locks.takeNewlyHeld(); // drained here too when nothing persists, so it never grows
    }
  }

  /** Open transactions, in begin order (read-only view for status pages and tests). */
  open(): readonly TxnRecord<R, V, C>[] {
    return [...this.txns.values()];
  }

  get(txn: TxnId): TxnRecord<R, V, C> | undefined {
    return this.txns.get(txn);
  }

  outcome(txn: TxnId): FinishedTxn | undefined {
    return this.finished.get(txn);
  }

  lockTable(): LockTable<V> {
    return this.locks;
  }

  /** Counts for status pages and metrics. */
  stats(): { readonly open: number; readonly prepared: number; readonly waiting: number; readonly locksHeld: number; readonly intents: number; readonly remembered: number } {
    let prepared = 0;
    let intents = 0;
    for (const t of this.txns.values()) {
      if (t.status === 'prepared') prepared += 1;
      intents += t.intents.length;
    }
    return { open: this.txns.size, prepared, waiting: this.locks.waiting().length, locksHeld: this.locks.heldCount(), intents, remembered: this.finished.size };
  }

  image(): TxnStateImage<R, V, C> {
    return {
      version: 1,
      txns: [...this.txns.values()].map((t) => ({ ...t })),
      finished: [...this.finished.values()],
      counters: { open: this.nextOpen, finish: this.nextFinish },
      locks: this.locks.image(),
    };
  }

  /** Write what this command changed into the port, as one batch. */
  private persist(port: OrderedKV): void {
    const ops: WriteOp[] = [];
    for (const [id, seq] of this.closed) {
      ops.push(...closeDeletes(port, seq));
      this.persistedIntents.delete(id);
    }
    for (const id of this.dirty) {
      const t = this.txns.get(id);
      if (t === undefined) continue;
      ops.push(headPut(t, this.locks.waitingOf(id)));
      const done = this.persistedIntents.get(id) ?? 0;
      for (let i = done; i < t.intents.length; i++) ops.push(intentPut(t.seq, i, t.intents[i]!));
      this.persistedIntents.set(id, t.intents.length);
    }
    for (const lock of this.locks.takeNewlyHeld()) {
      const t = this.txns.get(lock.txn);
      if (t !== undefined) ops.push(lockPut(t.seq, lock));
    }
    for (const f of this.evicted) ops.push(finishedDelete(f));
    for (const f of this.newlyFinished) if (this.finished.get(f.id) === f) ops.push(finishedPut(f));
    const counters = { lockSeq: this.locks.peekNextSeq(), open: this.nextOpen, finish: this.nextFinish };
    const last = this.persistedCounters;
    if (last === undefined || last.lockSeq !== counters.lockSeq || last.open !== counters.open || last.finish !== counters.finish) {
      ops.push(metaPut(counters));
      this.persistedCounters = counters;
    }
    if (ops.length > 0) port.write(ops);
  }

  private restore(image: TxnStateImage<R, V, C>): void {
    assert(image.version === 1, `unknown transaction state image version ${String(image.version)}`);
    this.locks = LockTable.fromImage(image.locks, this.store.compareValues);
    for (const t of image.txns) {
      this.txns.set(t.id, { ...t });
      this.persistedIntents.set(t.id, t.intents.length);
    }
    for (const f of image.finished) this.finished.set(f.id, f);
    this.nextOpen = image.counters.open;
    this.nextFinish = image.counters.finish;
    this.persistedCounters = undefined; // the next command writes them once, whatever the port held
    for (const h of image.locks.held) assert(this.txns.has(h.txn), `lock held by unknown transaction ${h.txn}`);
    for (const w of image.locks.queue) {
      assert(this.txns.get(w.txn)?.pending !== undefined, `transaction ${w.txn} waits without parked operations`);
    }
  }

  // ---- commands ----

  private dispatch(cmd: TxnCommand<R, V, C>): TxnReply<R, V> {
    switch (cmd.type) {
      case 'begin':
        return this.begin(cmd.txn, cmd.priority);
      case 'ops':
        return this.ops(cmd.txn, cmd.ops);
      case 'prepare':
        return this.prepare(cmd.txn);
      case 'commit':
        return this.commitCmd(cmd.txn);
      case 'abort':
        return this.abortCmd(cmd.txn);
      case 'atomic':
        return this.atomic(cmd.txn, cmd.ops, cmd.priority);
      case 'tick':
        return { type: 'ticked' };
      default:
        return unreachable(cmd);
    }
  }

  private begin(id: TxnId, priority: Timestamp | undefined): TxnReply<R, V> {
    const bad = this.checkNew(id, priority);
    if (bad !== undefined) return bad;
    const ts = priority ?? this.ctx!.timestamp;
    this.txns.set(id, { id, seq: this.nextOpen++, priority: { ts, id }, status: 'active', intents: [], lastActiveMs: this.nowMs });
    this.dirty.add(id);
    return { type: 'begun', txn: id, priority: ts };
  }

  private atomic(id: TxnId, ops: readonly TxnOp<R, V, C>[], priority: Timestamp | undefined): TxnReply<R, V> {
    const bad = this.checkNew(id, priority) ?? this.checkOps(id, ops);
    if (bad !== undefined) return bad;
    const ts = priority ?? this.ctx!.timestamp;
    const t: Mutable<TxnRecord<R, V, C>> = { id, seq: this.nextOpen++, priority: { ts, id }, status: 'active', intents: [], lastActiveMs: this.nowMs };
    this.txns.set(id, t);
    this.dirty.add(id);
    t.pending = { ops, results: [], autoCommit: true };
    return this.advance(t);
  }

  private ops(id: TxnId, ops: readonly TxnOp<R, V, C>[]): TxnReply<R, V> {
    const t = this.openTxn(id);
    if ('type' in t) return t;
    const bad = this.checkOps(id, ops);
    if (bad !== undefined) return bad;
    if (t.status !== 'active') return this.error(txnError('txn-not-active', id, `transaction ${id} is prepared; it takes no more operations`));
    if (t.pending !== undefined) return this.error(txnError('txn-busy', id, `transaction ${id} is still waiting for a lock`));
    t.lastActiveMs = this.nowMs;
    t.pending = { ops, results: [], autoCommit: false };
    return this.advance(t);
  }

  private prepare(id: TxnId): TxnReply<R, V> {
    const t = this.openTxn(id);
    if ('type' in t) return t;
    if (t.pending !== undefined) return this.error(txnError('txn-busy', id, `transaction ${id} is still waiting for a lock`));
    t.status = 'prepared';
    t.lastActiveMs = this.nowMs;
    this.dirty.add(id);
    return { type: 'prepared', txn: id };
  }

  private commitCmd(id: TxnId): TxnReply<R, V> {
    const done = this.finished.get(id);
    if (done?.outcome === 'committed') return { type: 'committed', txn: id, commitTs: done.commitTs, results: [] };
    const t = this.openTxn(id);
    if ('type' in t) return t;
    if (t.pending !== undefined) return this.error(txnError('txn-busy', id, `transaction ${id} is still waiting for a lock; abort it or wait`));
    return this.commit(t, []);
  }

  private abortCmd(id: TxnId): TxnReply<R, V> {
    const done = this.finished.get(id);
    if (done?.outcome === 'aborted') return { type: 'aborted', txn: id };
    if (done?.outcome === 'committed') return this.error(txnError('txn-not-active', id, `transaction ${id} already committed`));
    const t = this.txns.get(id);
    if (t === undefined) return this.error(txnError('txn-unknown', id, `no transaction ${id}`));
    // A prepared transaction may be aborted only by its coordinator's decision: this command is it.
    this.abort(t.id, t.status === 'prepared' ? { kind: 'coordinator' } : { kind: 'client' }, false);
    return { type: 'aborted', txn: id };
  }

  // ---- the engine ----

  /** Run the parked operations of `t` as far as locks allow. */
  private advance(t: Mutable<TxnRecord<R, V, C>>): TxnReply<R, V> {
    this.dirty.add(t.id);
    for (;;) {
      const p = t.pending;
      assert(p !== undefined, `advance of ${t.id} without parked operations`);
      const op = p.ops[p.results.length];
      if (op === undefined) break;
      const need = this.locksFor(t, op).find((req) => !this.locks.holds(t.id, req));
      if (need === undefined) {
        t.pending = { ...p, results: [...p.results, this.execute(t, op)] };
        continue;
      }
      const got = this.locks.acquire(t.id, t.priority, need, this.nowMs, (v) => this.txns.get(v)?.status === 'active');
      if (got.outcome === 'granted') continue;
      for (const victim of got.wound) this.abort(victim, { kind: 'wounded', by: t.id }, true);
      return { type: 'waiting', txn: t.id, blockers: got.blockers };
    }
    const p = t.pending;
    assert(p !== undefined, `parked operations of ${t.id} vanished`);
    delete t.pending;
    if (p.autoCommit) return this.commit(t, p.results);
    return { type: 'done', txn: t.id, results: p.results };
  }

  private commit(t: Mutable<TxnRecord<R, V, C>>, results: readonly OpResult<R, V>[]): TxnReply<R, V> {
    const commitTs = this.ctx!.timestamp;
    if (this.options.bugs.has('lock-release-early')) {
      // PLANTED BUG: locks go (and waiters run) before the intents are written.
      this.finish(t.id, { outcome: 'committed', commitTs });
      this.release(t.id);
      this.drain();
      this.store.apply(t.intents, this.ctx!);
      this.applied.push(t.id);
    } else {
      // The store first: if it refuses (a broken invariant, e.g. time going backwards), the
      // transaction is untouched and the error surfaces as a crash, not as a half commit.
      this.store.apply(t.intents, this.ctx!);
      this.applied.push(t.id);
      this.finish(t.id, { outcome: 'committed', commitTs });
      this.release(t.id);
    }
    return { type: 'committed', txn: t.id, commitTs, results };
  }

  /** Abort an open transaction: drop its intents and parked operations, free its locks. */
  private abort(id: TxnId, reason: AbortReason, announce: boolean): void {
    const t = this.txns.get(id);
    assert(t !== undefined, `abort of unknown transaction ${id}`);
    this.finish(id, { outcome: 'aborted', reason });
    this.release(id);
    if (announce) this.events.push({ type: 'aborted', txn: id, error: conflictError(id, reason) });
  }

  private release(id: TxnId): void {
    for (const g of this.locks.releaseAll(id)) {
      this.dirty.add(g.txn);
      if (!this.resume.includes(g.txn)) this.resume.push(g.txn);
    }
  }

  /** Resume transactions whose awaited lock was granted, in grant order, until none is left. */
  private drain(): void {
    while (this.resume.length > 0) {
      const id = this.resume.shift()!;
      const t = this.txns.get(id);
      if (t === undefined || t.pending === undefined || this.locks.waitingOf(id) !== undefined) continue;
      const reply = this.advance(t);
      switch (reply.type) {
        case 'done':
          this.events.push({ type: 'completed', txn: id, results: reply.results });
          break;
        case 'committed':
          this.events.push({ type: 'committed', txn: id, commitTs: reply.commitTs, results: reply.results });
          break;
        case 'waiting':
          break;
        default:
          assert(false, `advance answered ${reply.type}`);
      }
    }
  }

  /** Bounded waits and idle transactions, checked at every command's log time. */
  private expire(): void {
    for (const id of this.locks.expired(this.nowMs, this.options.maxWaitMs)) {
      const w = this.locks.waitingOf(id);
      if (w !== undefined && this.txns.has(id)) this.abort(id, { kind: 'wait-timeout', waitedMs: this.nowMs - w.sinceMs }, true);
    }
    for (const t of [...this.txns.values()]) {
      const idleMs = this.nowMs - t.lastActiveMs;
      if (t.status === 'active' && t.pending === undefined && idleMs > this.options.idleTimeoutMs) {
        this.abort(t.id, { kind: 'idle-timeout', idleMs }, true);
      }
    }
    this.drain();
  }

  /** A command that parked its own transaction may have finished it in the same command. */
  private foldOwnEvent(reply: TxnReply<R, V> & { type: 'waiting' }): TxnReply<R, V> {
    const i = this.events.findIndex((e) => e.txn === reply.txn);
    if (i < 0) return reply;
    const e = this.events[i]!;
    this.events.splice(i, 1);
    switch (e.type) {
      case 'completed':
        return { type: 'done', txn: e.txn, results: e.results };
      case 'committed':
        return { type: 'committed', txn: e.txn, commitTs: e.commitTs, results: e.results };
      case 'aborted':
        return { type: 'error', error: e.error };
      default:
        return unreachable(e);
    }
  }

  // ---- locks and views ----

  /** The locks an operation needs, given the transaction's view; the first is never view-dependent. */
  private locksFor(t: TxnRecord<R, V, C>, op: TxnOp<R, V, C>): LockRequest<V>[] {
    switch (op.type) {
      case 'get':
        return [{ target: { kind: 'token', record: this.store.recordKey(op.record), key: op.key }, mode: 'shared' }];
      case 'select':
        return [{ target: { kind: 'record', record: this.store.recordKey(op.record) }, mode: 'shared' }];
      case 'find':
        return this.store.criteriaRanges(op.criteria).map((kr) => ({ target: { kind: 'range', key: kr.key, range: kr.range }, mode: 'shared' }));
      case 'add':
      case 'remove':
        return [this.tokenX(op.record, op.key), this.pointX(op.key, op.value)];
      case 'set': {
        // Which old values a set removes is read only once the token lock is held (it comes
        // first), so the points asked for are the ones actually written.
        const out = [this.tokenX(op.record, op.key)];
        for (const v of this.view(t, op.record, op.key)) if (!this.store.sameValue(v, op.value)) out.push(this.pointX(op.key, v));
        out.push(this.pointX(op.key, op.value));
        return out;
      }
      default:
        return unreachable(op);
    }
  }

  private tokenX(record: R, key: string): LockRequest<V> {
    return { target: { kind: 'token', record: this.store.recordKey(record), key }, mode: 'exclusive' };
  }

  private pointX(key: string, value: V): LockRequest<V> {
    return { target: { kind: 'range', key, range: point(value) }, mode: 'exclusive' };
  }

  /** Run an operation whose locks are all held. */
  private execute(t: Mutable<TxnRecord<R, V, C>>, op: TxnOp<R, V, C>): OpResult<R, V> {
    switch (op.type) {
      case 'get':
        return { type: 'values', values: this.view(t, op.record, op.key) };
      case 'select':
        return { type: 'record', keys: this.store.view(t.intents, this.ctx!).select(op.record) };
      case 'find':
        return { type: 'records', records: this.store.view(t.intents, this.ctx!).find(op.criteria) };
      case 'add': {
        if (this.view(t, op.record, op.key).some((v) => this.store.sameValue(v, op.value))) return { type: 'changed', changed: false };
        t.intents = [...t.intents, { type: 'add', record: op.record, key: op.key, value: op.value }];
        return { type: 'changed', changed: true };
      }
      case 'remove': {
        if (!this.view(t, op.record, op.key).some((v) => this.store.sameValue(v, op.value))) return { type: 'changed', changed: false };
        t.intents = [...t.intents, { type: 'remove', record: op.record, key: op.key, value: op.value }];
        return { type: 'changed', changed: true };
      }
      case 'set': {
        const current = this.view(t, op.record, op.key);
        const staged: Intent<R, V>[] = [];
        for (const v of current) if (!this.store.sameValue(v, op.value)) staged.push({ type: 'remove', record: op.record, key: op.key, value: v });
        if (!current.some((v) => this.store.sameValue(v, op.value))) staged.push({ type: 'add', record: op.record, key: op.key, value: op.value });
        t.intents = [...t.intents, ...staged];
        return { type: 'changed', changed: staged.length > 0 };
      }
      default:
        return unreachable(op);
    }
  }

  /** Values of (record, key) as the transaction sees them: committed, then its own intents. */
  private view(t: TxnRecord<R, V, C>, record: R, key: string): readonly V[] {
    return this.store.view(t.intents, this.ctx!).get(record, key);
  }

  // ---- bookkeeping ----

  private openTxn(id: TxnId): Mutable<TxnRecord<R, V, C>> | TxnReply<R, V> {
    const t = this.txns.get(id);
    if (t !== undefined) return t;
    const done = this.finished.get(id);
    if (done === undefined) return this.error(txnError('txn-unknown', id, `no transaction ${id}`));
    if (done.outcome === 'aborted') return this.error(conflictError(id, done.reason));
    return this.error(txnError('txn-not-active', id, `transaction ${id} already committed`));
  }

  private checkNew(id: TxnId, priority: Timestamp | undefined): TxnReply<R, V> | undefined {
    if (typeof id !== 'string' || id.length === 0) return this.error(txnError('bad-request', undefined, 'a transaction id must be a non-empty string'));
    if (this.txns.has(id) || this.finished.has(id)) return this.error(txnError('txn-exists', id, `transaction id ${id} is already in use`));
    // Any timestamp will do: it is the coordinator's to choose (the first attempt's begin
    // timestamp, shared by every partition a 2PC transaction touches, whose HLCs may lag it).
    if (priority !== undefined && !(Number.isSafeInteger(priority) && priority >= 0)) {
      return this.error(txnError('bad-request', id, `priority ${String(priority)} must be a non-negative integer timestamp`));
    }
    return undefined;
  }

  private checkOps(id: TxnId, ops: readonly TxnOp<R, V, C>[]): TxnReply<R, V> | undefined {
    if (!Array.isArray(ops) || ops.length === 0) return this.error(txnError('bad-request', id, 'a command needs at least one operation'));
    for (const op of ops) {
      try {
        switch (op.type) {
          case 'get':
            this.store.check({ record: op.record, key: op.key });
            break;
          case 'select':
            this.store.check({ record: op.record });
            break;
          case 'find':
            this.store.check({ criteria: op.criteria });
            break;
          case 'add':
          case 'remove':
          case 'set':
            this.store.check({ record: op.record, key: op.key, value: op.value });
            break;
          default:
            return this.error(txnError('bad-request', id, `unknown operation ${JSON.stringify((op as { type?: unknown }).type)}`));
        }
      } catch (e) {
        return this.error(txnError('bad-request', id, `operation ${op.type}: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
    return undefined;
  }

  /** Close an open transaction: forget its record, remember its outcome. */
  private finish(id: TxnId, outcome: Outcome): void {
    const t = this.txns.get(id);
    assert(t !== undefined, `finish of unknown transaction ${id}`);
    this.txns.delete(id);
    this.closed.set(id, t.seq);
    const f: FinishedTxn = { ...outcome, id, seq: this.nextFinish++ };
    this.finished.set(id, f);
    this.newlyFinished.push(f);
    while (this.finished.size > this.options.finishedRetain) {
      const oldest = this.finished.values().next();
      if (oldest.done === true) break;
      this.finished.delete(oldest.value.id);
      this.evicted.push(oldest.value);
    }
  }

  private error(error: TxnError): TxnReply<R, V> {
    return { type: 'error', error };
  }
}
