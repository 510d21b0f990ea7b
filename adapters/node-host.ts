// Drives one ClusterNode with real time, exactly as sim/world.ts drives it with virtual time:
// tick(nowMs) on a timer, receive(pm) for each peer message, request(req) for client work, and
// drain() after every call. Plain code: this is the hot path.
//
// Group commit and "never acknowledge before durable": everything the node asked storage to
// persist during one turn of the event loop (every peer frame and client request handled in
// that turn) is written at the end of the turn (setImmediate) as ONE LMDB transaction whose
// synchronous commit fsyncs before it returns (lmdb-storage.ts). Only then are the messages and
// replies drained in that turn released. Each turn's flush completes before the next turn
// starts, so whatever a turn releases can only depend on state that is already durable.
import { randomBytes } from 'node:crypto';
import seedrandom from 'seedrandom';
import { ClusterNode } from '../core/node/node.js';
import type { NodeOp } from '../core/node/command.js';
import type { Bugs } from '../core/bugs.js';
import { DEFAULT_NODE_TUNING, type ClientReply, type ClientResult, type NodeConfig, type PeerMessage, type StepDownResult, type UnbatchedPeerMessage } from '../core/node/types.js';
import { nodeId, partitionId, type NodeId } from '../core/types.js';
import type { Logger } from './log.js';
import type { LmdbStorage } from './storage/lmdb-storage.js';

export interface HostOptions {
  readonly id: string;
  readonly nodes: readonly string[];
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly storage: LmdbStorage;
  readonly send: (messages: readonly PeerMessage[]) => void;
  readonly log: Logger;
  /** Called when the disk refuses a write: the node must stop (its memory is ahead of its disk). */
  readonly onFatal: (err: unknown) => void;
  /** A partition's leader, as this node sees it, changed. */
  readonly onLeaderChange?: (partition: number, leader: string | null) => void;
  /** Most client requests in flight at once on this node; more wait in a bounded queue. */
  readonly maxInFlight?: number;
  readonly maxQueued?: number;
  /** Planted bugs (adapters/planted.ts): only the real-process harness sets them. */
  readonly bugs?: Bugs;
}

export type HostResult = ClientResult | { readonly kind: 'timeout' } | { readonly kind: 'overloaded' } | { readonly kind: 'stopped' };

interface Waiter {
  readonly op: NodeOp;
  readonly deadlineMs: number;
  readonly resolve: (r: HostResult) => void;
  slot: number;
  seq: number;
  retryTimer: NodeJS.Timeout | null;
}

export const SERVER_ELECTION_TICKS = 50;

/** How long to wait before re-asking after "no leader known" (elections take ~150-300 ms). */
const RETRY_UNAVAILABLE_MS = 40;

/** Most the node's clock advances per timer firing: two ticks (see start()). */
const MAX_CLOCK_STEP_MS = 2 * DEFAULT_NODE_TUNING.tickMs;

/** A buffer of commit-index-only writes is flushed at the latest this long after it formed. */
const LAZY_FLUSH_MS = 20;

export class NodeHost {
  readonly node: ClusterNode;
  private readonly id: NodeId;
  private readonly opts: HostOptions;
  private readonly slotBase: number;
  private readonly freeSlots: number[] = [];
  private readonly slotSeq: number[] = [];
  private readonly waiting = new Map<string, Waiter>();
  private readonly queued: Waiter[] = [];
  private turnMessages: PeerMessage[] = [];
  private turnReplies: ClientReply[] = [];
  private turnScheduled = false;
  private ticker: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly started = performance.now();
  /** Every partition's group has at least two voters (replies may overtake the fsync: endTurn). */
  private readonly multiVoter: boolean;
  /** The clock given to node.tick (see start()). */
  private nodeClock = 0;
  private readonly maxQueued: number;
  private readonly leaders = new Map<number, string | null>();
  readonly stats = { turns: 0, flushes: 0, requests: 0, released: 0, earlySent: 0 };

  constructor(opts: HostOptions) {
    this.opts = opts;
    this.id = nodeId(opts.id);
    const seed = randomBytes(8).toString('hex');
    const config: NodeConfig = {
      id: this.id,
      nodes: opts.nodes.map(nodeId),
      partitions: opts.partitions,
      replicationFactor: opts.replicationFactor,
      ...DEFAULT_NODE_TUNING,
      // Real disks stall (an fsync of tens of ms on a busy machine holds back every message of
      // its turn): elections after 500-1000 ms of silence, as etcd does by default, instead of
      // the simulator's 150-300 ms, so a slow fsync is not taken for a dead leader. Heartbeats
      // stay at 30 ms: they also carry commit indexes to followers coordinating requests.
      electionTicks: SERVER_ELECTION_TICKS,
      ...(opts.bugs !== undefined && opts.bugs.size > 0 ? { bugs: opts.bugs } : {}),
      observer: {
        roleChanged: (_node, partition, role, term, leader) => {
          const before = this.leaders.get(partition) ?? null;
          if (leader !== before) {
            this.leaders.set(partition, leader);
            opts.onLeaderChange?.(partition, leader);
            if (role === 'leader') opts.log.debug('leader elected', { partition, term, leader });
          }
        },
      },
      random: { next: (() => { const rng = seedrandom(seed); return () => rng(); })() },
    };
    this.node = new ClusterNode(config, opts.storage);
    this.multiVoter = this.node.map.replicationFactor >= 2;
    // Client sessions: (clientId, seq) must never repeat across restarts of this node, or the
    // state machine would take a new command for a duplicate. clientId = node index and slot;
    // seq starts at epoch * 2^32 (the epoch grows on every start, persisted in the data dir).
    const index = opts.nodes.indexOf(opts.id);
    const maxInFlight = opts.maxInFlight ?? 512;
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.slotBase = (index + 1) * 1_000_000;
    for (let s = maxInFlight - 1; s >= 0; s--) {
      this.freeSlots.push(s);
      this.slotSeq[s] = opts.storage.epoch * 2 ** 32;
    }
    opts.log.info('node started', { node: opts.id, partitions: opts.partitions, epoch: opts.storage.epoch, raft_seed: seed });
    this.afterCall();
  }

  start(): void {
    this.ticker = setInterval(() => {
      // The node's clock follows the wall clock but moves at most MAX_CLOCK_STEP_MS per
      // firing. After a stall (a slow fsync, a starved CPU) the wall clock jumps; fed as is,
      // the core would run every tick that fell due before it sees the peer messages that
      // queued meanwhile, so followers would time out their leader and leaders would fail
      // checkQuorum at once — spurious elections, each stalling its partition for ~1 s. Capped,
      // the clock catches up at twice real speed over the next firings, with the queued
      // messages handled in between. (Raft's safety does not depend on time; reads use a
      // ReadIndex round, not a lease.)
      const behind = this.now() - this.nodeClock;
      this.nodeClock += Math.min(Math.max(behind, 0), MAX_CLOCK_STEP_MS);
      this.node.tick(this.nodeClock);
      this.afterCall();
    }, DEFAULT_NODE_TUNING.tickMs);
  }

  now(): number {
    return performance.now() - this.started;
  }

  receive(pm: PeerMessage): void {
    if (this.stopped) return;
    this.node.receive(pm);
    this.afterCall();
  }

  /** Run one operation through the node; answers within `timeoutMs` (a timeout's outcome is unknown). */
  submit(op: NodeOp, timeoutMs: number): Promise<HostResult> {
    if (this.stopped) return Promise.resolve({ kind: 'stopped' });
    return new Promise((resolve) => {
      const w: Waiter = { op, deadlineMs: this.now() + timeoutMs, resolve, slot: -1, seq: 0, retryTimer: null };
      const timer = setTimeout(() => this.finish(w, { kind: 'timeout' }), timeoutMs);
      const done = w.resolve;
      (w as { resolve: (r: HostResult) => void }).resolve = (r) => {
        clearTimeout(timer);
        done(r);
      };
      if (this.freeSlots.length === 0) {
        if (this.queued.length >= this.maxQueued) {
          w.resolve({ kind: 'overloaded' });
          return;
        }
        this.queued.push(w);
        return;
      }
      w.slot = this.freeSlots.pop()!;
      this.issue(w);
    });
  }

  private issue(w: Waiter): void {
    w.retryTimer = null;
    const seq = ++this.slotSeq[w.slot]!;
    w.seq = seq;
    const clientId = this.slotBase + w.slot;
    this.waiting.set(`${clientId}:${seq}`, w);
    this.stats.requests++;
    this.node.request({ clientId, seq, op: w.op });
    this.afterCall();
  }

  private finish(w: Waiter, r: HostResult): void {
    if (w.slot >= 0) {
      this.waiting.delete(`${this.slotBase + w.slot}:${w.seq}`);
      if (w.retryTimer !== null) clearTimeout(w.retryTimer);
      const slot = w.slot;
      w.slot = -2; // finished
      const next = this.queued.shift();
      if (next !== undefined && !this.stopped) {
        next.slot = slot;
        this.issue(next);
      } else this.freeSlots.push(slot);
    } else if (w.slot === -1) {
      const i = this.queued.indexOf(w);
      if (i >= 0) this.queued.splice(i, 1);
      w.slot = -2;
    } else return; // already finished
    w.resolve(r);
  }

  private afterCall(): void {
    const out = this.node.drain();
    if (out.messages.length > 0) this.turnMessages.push(...out.messages);
    if (out.replies.length > 0) this.turnReplies.push(...out.replies);
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(() => this.endTurn());
    }
  }

  private endTurn(): void {
    this.turnScheduled = false;
    if (this.stopped) return;
    this.stats.turns++;
    const messages = this.turnMessages;
    const replies = this.turnReplies;
    this.turnMessages = [];
    this.turnReplies = [];
    const storage = this.opts.storage;
    if (!storage.hasPending()) {
      this.release(messages, replies);
      return;
    }
    if (!storage.needsSync() && !this.lazyFlushDue) {
      // Only commit indexes moved (Raft's mustSync is false): nothing released depends on
      // them being on disk. They are written with the next turn that must sync, or shortly.
      this.release(messages, replies);
      this.scheduleLazyFlush();
      return;
    }
    // What may leave before this turn's fsync, and why (docs/server.md, Performance):
    // - a leader's appends and heartbeats (Raft §10.2.1: the leader writes its log in parallel
    //   with replicating it). The leader counts itself toward a commit only on a follower's
    //   answer, and no answer can be handled before this synchronous flush returns (it runs
    //   within this same callback): every entry a follower can acknowledge is then durable here.
    // - requests handed on (forward, propose): they vouch for nothing on this disk.
    // - client replies and forward replies, when every group has at least two voters: a reply
    //   reveals only committed (applied) state, and with two or more voters an entry commits
    //   only on another node's acknowledgement, which arrives in a later turn than the one that
    //   appended the entry here — whose flush has returned by then. Everything at the start of
    //   a turn is durable, so nothing a reply depends on is in this turn's buffer. (With one
    //   voter an entry commits in the turn that appends it: then replies wait.)
    // What waits: acknowledgements (append-response), votes, heartbeat and read-index answers,
    // snapshots, timeout-now — each vouches for state this turn may have just written.
    const early: PeerMessage[] = [];
    const late: PeerMessage[] = [];
    for (const pm of messages) (this.mayLeaveEarly(pm) ? early : late).push(pm);
    const earlyReplies = this.multiVoter ? replies : [];
    if (early.length > 0 || earlyReplies.length > 0) this.release(early, earlyReplies);
    this.stats.earlySent += early.length + earlyReplies.length;
    if (!this.flushTurn()) return;
    this.release(late, this.multiVoter ? [] : replies);
  }

  /** Whether a message may be sent before this turn's fsync returns (see endTurn). */
  private mayLeaveEarly(pm: PeerMessage | UnbatchedPeerMessage): boolean {
    switch (pm.kind) {
      case 'forward':
        return true;
      case 'forward-reply':
        return this.multiVoter;
      // Coalesced heartbeats: a leader's beats may go early, answers to beats wait (as the
      // individual heartbeat and heartbeat-response below).
      case 'heartbeats':
        return pm.acks.length === 0;
      // A batch keeps its order: it goes early only if every message in it may.
      case 'batch':
        return pm.messages.every((m) => this.mayLeaveEarly(m));
      case 'raft': {
        const t = pm.message.type;
        return t === 'append' || t === 'heartbeat' || t === 'propose';
      }
    }
  }

  private lazyFlush: NodeJS.Timeout | null = null;
  private lazyFlushDue = false;

  private scheduleLazyFlush(): void {
    if (this.lazyFlush !== null) return;
    this.lazyFlush = setTimeout(() => {
      this.lazyFlush = null;
      this.lazyFlushDue = true;
      // Through a turn, so that output drained meanwhile keeps its order behind the flush.
      this.afterCall();
    }, LAZY_FLUSH_MS);
  }

  /** Make what this turn persisted durable (one transaction, one fsync). False: the disk refused; the node stopped. */
  private flushTurn(): boolean {
    const storage = this.opts.storage;
    if (!storage.hasPending()) return true;
    this.stats.flushes++;
    this.lazyFlushDue = false;
    try {
      storage.flushSync();
      return true;
    } catch (err) {
      if (!this.stopped) {
        this.stopped = true;
        this.opts.log.error('storage write failed; the node stops (nothing unflushed was acknowledged)', { error: err instanceof Error ? err.message : String(err) });
        this.opts.onFatal(err);
      }
      return false;
    }
  }

  private release(messages: readonly PeerMessage[], replies: readonly ClientReply[]): void {
    if (this.stopped) return;
    this.stats.released += messages.length + replies.length;
    if (messages.length > 0) this.opts.send(messages);
    for (const r of replies) {
      const w = this.waiting.get(`${r.clientId}:${r.seq}`);
      if (w === undefined) continue;
      const res = r.result;
      if (res.kind === 'unavailable' && this.now() + RETRY_UNAVAILABLE_MS < w.deadlineMs) {
        // No leader yet (an election is running): ask again shortly, under a new seq.
        this.waiting.delete(`${r.clientId}:${r.seq}`);
        w.retryTimer = setTimeout(() => {
          if (w.slot >= 0 && !this.stopped) this.issue(w);
        }, RETRY_UNAVAILABLE_MS);
        continue;
      }
      this.finish(w, res);
    }
  }

  /** Node operations (docs/operations.md): run on the node, then send what they produced. */
  stepDown(partition: number, to?: NodeId): StepDownResult {
    const r = this.node.stepDown(partition, to);
    this.afterCall();
    return r;
  }

  startDraining(): void {
    this.node.startDraining();
    this.afterCall();
  }

  activate(): void {
    this.node.activate();
    this.afterCall();
  }

  /** Partitions with no leader known to this node (empty: it can serve). */
  leaderlessPartitions(): number[] {
    const out: number[] = [];
    for (const p of this.node.hostedPartitions()) if (this.node.status(p).leader === null) out.push(p);
    return out;
  }

  inFlight(): number {
    return this.waiting.size + this.queued.length;
  }

  /** Stop taking work, answer what waits as stopped, and flush what the node persisted. */
  async stop(): Promise<void> {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    if (this.lazyFlush !== null) clearTimeout(this.lazyFlush);
    this.lazyFlush = null;
    if (!this.stopped) {
      // The last turn's output (if its setImmediate has not run yet) goes out once durable.
      const messages = this.turnMessages;
      const replies = this.turnReplies;
      this.turnMessages = [];
      this.turnReplies = [];
      if (this.flushTurn()) this.release(messages, replies);
    }
    this.stopped = true;
    for (const w of [...this.waiting.values(), ...this.queued]) this.finish(w, { kind: 'stopped' });
  }
}
