// The lock table: which transaction holds which lock, and who waits for what, as plain
// deterministic data. It decides compatibility and queueing; the transaction manager decides
// what a wound or a timeout does to a transaction (it aborts it and calls releaseAll).
//
// Wound-wait: a request that conflicts with a holder younger than the requester names that
// holder as a victim to wound; a request blocked by an older holder waits. The wait queue is
// kept oldest-first, and a waiting request is granted only when it conflicts with no holder
// and with no older request still waiting, so every wait is for an older transaction (or for
// a prepared one, which waits for nothing): the wait-for graph has no cycles.
import { assert } from '../types.js';
import { rangeContains, rangesOverlap, type Compare } from './range.js';
import { comparePriority, isOlder, type LockMode, type LockRequest, type LockTarget, type Priority, type TxnId } from './types.js';

export interface HeldLock<V> {
  /** Order of acquisition, table-wide: it fixes iteration order after a restore. */
  readonly seq: number;
  readonly txn: TxnId;
  readonly priority: Priority;
  readonly target: LockTarget<V>;
  readonly mode: LockMode;
}

export interface WaitingRequest<V> {
  readonly seq: number;
  readonly txn: TxnId;
  readonly priority: Priority;
  readonly target: LockTarget<V>;
  readonly mode: LockMode;
  /** Log time (ms) at which the request started waiting: bounded waits count from here. */
  readonly sinceMs: number;
}

export type AcquireResult =
  | { readonly outcome: 'granted' }
  | {
      readonly outcome: 'waiting';
      /** Transactions the request waits for (holders and older waiters), in a fixed order. */
      readonly blockers: readonly TxnId[];
      /** Younger, woundable holders the requester wounds: abort them, then releaseAll each. */
      readonly wound: readonly TxnId[];
    };

/** A waiting request that became a held lock. */
export interface Grant<V> {
  readonly txn: TxnId;
  readonly target: LockTarget<V>;
  readonly mode: LockMode;
}

/** Everything the table holds, for snapshots; restoring it gives an identical table. */
export interface LockTableImage<V> {
  readonly nextSeq: number;
  readonly held: readonly HeldLock<V>[];
  readonly queue: readonly WaitingRequest<V>[];
}

/** Whether locks of two different transactions can coexist. */
export function conflicts<V>(a: LockRequest<V>, b: LockRequest<V>, compare: Compare<V>): boolean {
  if (a.mode === 'shared' && b.mode === 'shared') return false;
  const ta = a.target;
  const tb = b.target;
  if (ta.kind === 'range' || tb.kind === 'range') {
    if (ta.kind !== 'range' || tb.kind !== 'range') return false;
    // Range locks guard index membership only: a reader's range against a writer's point.
    // Two writers' points never conflict here; writers of one record and key already
    // exclude each other through their exclusive token locks.
    return ta.key === tb.key && a.mode !== b.mode && rangesOverlap(ta.range, tb.range, compare);
  }
  if (ta.record !== tb.record) return false;
  if (ta.kind === 'record' || tb.kind === 'record') return true;
  return ta.key === tb.key;
}

/** Whether a lock already held by a transaction makes a further request of its own redundant. */
export function covers<V>(held: LockRequest<V>, want: LockRequest<V>, compare: Compare<V>): boolean {
  const h = held.target;
  const w = want.target;
  if (h.kind === 'range' || w.kind === 'range') {
    // A point held for writing does not stop other writers' points, so it cannot stand in for
    // a shared range, nor the other way round: range modes cover only themselves.
    if (h.kind !== 'range' || w.kind !== 'range') return false;
    return held.mode === want.mode && h.key === w.key && rangeContains(h.range, w.range, compare);
  }
  if (want.mode === 'exclusive' && held.mode !== 'exclusive') return false;
  if (h.record !== w.record) return false;
  if (h.kind === 'record') return true;
  return w.kind === 'token' && h.key === w.key;
}

function bucketKey<V>(t: LockTarget<V>): string {
  // Token and record locks meet in their record's bucket, range locks in their key's bucket.
  return t.kind === 'range' ? `k:${t.key}` : `r:${t.record}`;
}

export class LockTable<V> {
  private nextSeq = 1;
  private readonly byTxn = new Map<TxnId, HeldLock<V>[]>();
  private readonly buckets = new Map<string, HeldLock<V>[]>();
  /** Oldest first: the order in which waiting requests are considered for a grant. */
  private queue: WaitingRequest<V>[] = [];
  /** Locks taken since the last takeNewlyHeld(): what a persister must write. */
  private fresh: HeldLock<V>[] = [];

  constructor(private readonly compare: Compare<V>) {}

  /** Whether `txn` already holds a lock that covers the request. */
  holds(txn: TxnId, req: LockRequest<V>): boolean {
    const mine = this.byTxn.get(txn);
    if (mine === undefined) return false;
    return mine.some((h) => covers(h, req, this.compare));
  }

  /** The locks `txn` holds, in acquisition order. */
  locksOf(txn: TxnId): readonly HeldLock<V>[] {
    return this.byTxn.get(txn) ?? [];
  }

  /** The request `txn` is waiting on, if any (a transaction waits on at most one). */
  waitingOf(txn: TxnId): WaitingRequest<V> | undefined {
    return this.queue.find((w) => w.txn === txn);
  }

  /** Waiting requests, oldest transaction first. */
  waiting(): readonly WaitingRequest<V>[] {
    return this.queue;
  }

  /** Transactions holding at least one lock, in first-acquisition order. */
  holders(): readonly TxnId[] {
    return [...this.byTxn.keys()];
  }

  heldCount(): number {
    let n = 0;
    for (const locks of this.byTxn.values()) n += locks.length;
    return n;
  }

  /** Distinct other transactions holding locks that conflict with `req`, oldest first. */
  conflictingHolders(txn: TxnId, req: LockRequest<V>): readonly Priority[] {
    const seen = new Map<TxnId, Priority>();
    for (const h of this.buckets.get(bucketKey(req.target)) ?? []) {
      if (h.txn !== txn && !seen.has(h.txn) && conflicts(h, req, this.compare)) seen.set(h.txn, h.priority);
    }
    return [...seen.values()].sort(comparePriority);
  }

  /**
   * Ask for a lock. Granted at once when nothing conflicts (no other holder, no older waiter);
   * otherwise the request joins the queue and the answer names whom it waits for and which
   * younger holders it wounds. `canWound` says whether a holder may still be aborted (a
   * prepared transaction may not: it has voted and waits for its coordinator's decision).
   */
  acquire(txn: TxnId, priority: Priority, req: LockRequest<V>, nowMs: number, canWound: (victim: TxnId) => boolean): AcquireResult {
    assert(priority.id === txn, () => `priority id ${priority.id} does not name transaction ${txn}`);
    if (this.holds(txn, req)) return { outcome: 'granted' };
    assert(this.waitingOf(txn) === undefined, () => `transaction ${txn} asked for a lock while already waiting for one`);
    const holders = this.conflictingHolders(txn, req);
    const olderWaiters = this.queue.filter((w) => w.txn !== txn && isOlder(w.priority, priority) && conflicts(w, req, this.compare));
    if (holders.length === 0 && olderWaiters.length === 0) {
      this.addHeld(txn, priority, req);
      return { outcome: 'granted' };
    }
    const waiting: WaitingRequest<V> = { seq: this.nextSeq++, txn, priority, target: req.target, mode: req.mode, sinceMs: nowMs };
    const at = this.queue.findIndex((w) => comparePriority(priority, w.priority) < 0);
    if (at < 0) this.queue.push(waiting);
    else this.queue.splice(at, 0, waiting);
    const blockers: TxnId[] = [];
    for (const p of holders) blockers.push(p.id);
    for (const w of olderWaiters) if (!blockers.includes(w.txn)) blockers.push(w.txn);
    const wound = holders.filter((p) => isOlder(priority, p) && canWound(p.id)).map((p) => p.id);
    return { outcome: 'waiting', blockers, wound };
  }

  /**
   * Drop every lock and the waiting request of `txn` (commit, abort, wound, timeout) and grant
   * what that unblocks, oldest waiter first. The grants are returned in the order made.
   */
  releaseAll(txn: TxnId): readonly Grant<V>[] {
    const mine = this.byTxn.get(txn);
    if (mine !== undefined) {
      this.byTxn.delete(txn);
      for (const h of mine) {
        const key = bucketKey(h.target);
        const bucket = this.buckets.get(key);
        assert(bucket !== undefined, `lock table index lost bucket ${key}`);
        const rest = bucket.filter((x) => x.seq !== h.seq);
        if (rest.length === 0) this.buckets.delete(key);
        else this.buckets.set(key, rest);
      }
    }
    this.queue = this.queue.filter((w) => w.txn !== txn);
    return this.grantWaiting();
  }

  /** Transactions whose waiting request is older than `maxWaitMs` at `nowMs`, oldest first. */
  expired(nowMs: number, maxWaitMs: number): readonly TxnId[] {
    return this.queue.filter((w) => nowMs - w.sinceMs > maxWaitMs).map((w) => w.txn);
  }

  image(): LockTableImage<V> {
    const held: HeldLock<V>[] = [];
    for (const locks of this.byTxn.values()) held.push(...locks);
    held.sort((a, b) => a.seq - b.seq);
    return { nextSeq: this.nextSeq, held, queue: [...this.queue] };
  }

  static fromImage<V>(image: LockTableImage<V>, compare: Compare<V>): LockTable<V> {
    const t = new LockTable<V>(compare);
    const held = [...image.held].sort((a, b) => a.seq - b.seq);
    for (const h of held) {
      assert(h.seq < image.nextSeq, `lock table image holds seq ${h.seq} at or past nextSeq ${image.nextSeq}`);
      t.index(h);
    }
    for (let i = 1; i < image.queue.length; i++) {
      assert(comparePriority(image.queue[i - 1]!.priority, image.queue[i]!.priority) < 0, 'lock table image queue is not oldest-first');
    }
    t.queue = [...image.queue];
    t.nextSeq = image.nextSeq;
    return t;
  }

  /** The locks granted since the last call, in grant order (some may be released again since). */
  takeNewlyHeld(): readonly HeldLock<V>[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  /** The sequence number the next lock or request will get (persisted with the table). */
  peekNextSeq(): number {
    return this.nextSeq;
  }

  private addHeld(txn: TxnId, priority: Priority, req: LockRequest<V>): void {
    const h: HeldLock<V> = { seq: this.nextSeq++, txn, priority, target: req.target, mode: req.mode };
    this.index(h);
    this.fresh.push(h);
  }

  private index(h: HeldLock<V>): void {
    const mine = this.byTxn.get(h.txn);
    if (mine === undefined) this.byTxn.set(h.txn, [h]);
    else mine.push(h);
    const key = bucketKey(h.target);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, [h]);
    else bucket.push(h);
  }

  private grantWaiting(): readonly Grant<V>[] {
    const grants: Grant<V>[] = [];
    const still: WaitingRequest<V>[] = [];
    for (const w of this.queue) {
      const blocked =
        this.conflictingHolders(w.txn, w).length > 0 || still.some((o) => o.txn !== w.txn && conflicts(o, w, this.compare));
      if (blocked) {
        still.push(w);
        continue;
      }
      this.addHeld(w.txn, w.priority, w);
      grants.push({ txn: w.txn, target: w.target, mode: w.mode });
    }
    this.queue = still;
    return grants;
  }
}
