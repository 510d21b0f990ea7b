// Drives one ClusterNode with real time, exactly as sim/world.ts drives it with virtual time:
// tick(nowMs) on a timer, receive(pm) for each peer message, request(req) for client work, and
// drain() after every call. Plain code: this is the hot path.
//
// Group commit and "never acknowledge before durable": everything the node asked storage to
// persist during one turn of the event loop is flushed as one LMDB transaction at the end of the
// turn (setImmediate), and the messages and replies drained in that turn are released only once
// that flush — and every earlier one — is durable. A turn that persisted nothing still waits for
// the earlier flushes, so no reply can reveal state that is not yet on disk.
import { randomBytes } from 'node:crypto';
import seedrandom from 'seedrandom';
import { ClusterNode } from '../core/node/node.js';
import type { NodeOp } from '../core/node/command.js';
import type { Bugs } from '../core/bugs.js';
import { DEFAULT_NODE_TUNING, type ClientReply, type ClientResult, type NodeConfig, type PeerMessage, type StepDownResult } from '../core/node/types.js';
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
  /** Output of turns whose persistence is not yet durable, in turn order. */
  private held: Array<{ readonly messages: readonly PeerMessage[]; readonly replies: readonly ClientReply[] }> = [];
  private flushing = false;
  private readonly idleWaiters: Array<() => void> = [];
  private ticker: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly started = performance.now();
  private readonly maxQueued: number;
  private readonly leaders = new Map<number, string | null>();
  readonly stats = { turns: 0, flushes: 0, requests: 0, released: 0 };

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
      this.node.tick(this.now());
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
    this.stats.turns++;
    const messages = this.turnMessages;
    const replies = this.turnReplies;
    this.turnMessages = [];
    this.turnReplies = [];
    const storage = this.opts.storage;
    if (!this.flushing && this.held.length === 0 && !storage.hasPending()) {
      // Nothing buffered and nothing waiting for the disk: this turn's output can go now.
      this.release(messages, replies);
      return;
    }
    if (messages.length > 0 || replies.length > 0) this.held.push({ messages, replies });
    if (!this.flushing) this.startFlush();
  }

  /**
   * Group commit: one flush at a time. While it runs, later turns keep buffering; when it is
   * durable, its turns' output is released and everything buffered meanwhile goes into the
   * next single transaction.
   */
  private startFlush(): void {
    this.flushing = true;
    const outs = this.held;
    this.held = [];
    this.stats.flushes++;
    this.opts.storage.flush().then(
      () => {
        for (const o of outs) this.release(o.messages, o.replies);
        this.flushing = false;
        if (this.held.length > 0 || this.opts.storage.hasPending()) this.startFlush();
        else for (const w of this.idleWaiters.splice(0)) w();
      },
      (err: unknown) => {
        this.flushing = false;
        for (const w of this.idleWaiters.splice(0)) w();
        if (!this.stopped) {
          this.stopped = true;
          this.opts.log.error('storage write failed; the node stops (nothing unflushed was acknowledged)', { error: err instanceof Error ? err.message : String(err) });
          this.opts.onFatal(err);
        }
      },
    );
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
    if (!this.flushing && (this.held.length > 0 || this.opts.storage.hasPending())) this.startFlush();
    if (this.flushing) await new Promise<void>((r) => this.idleWaiters.push(r));
    this.stopped = true;
    for (const w of [...this.waiting.values(), ...this.queued]) this.finish(w, { kind: 'stopped' });
  }
}
