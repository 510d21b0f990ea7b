// One partition's replica on this node: its Raft group, its state machine, the requests waiting
// on it, and the Ready loop that persists, sends, applies and compacts (core/raft/types.ts states
// the contract). The node (core/node) owns one Replica per partition it hosts and routes to it.
import type { Bugs } from '../bugs.js';
import { Raft } from '../raft/index.js';
import type { Entry, Message, PersistedState, RaftGroup, RaftStatus, Ready, SoftState } from '../raft/types.js';
import { AssertionError, type LogIndex, type NodeId, type PartitionId, type Random } from '../types.js';
import { isReadOp, type ReadOp, type WriteOp } from '../node/command.js';
import type { StoragePort } from '../node/storage-port.js';
import type { KvCommand } from '../storage/kv/commands.js';
import { encodeReplicaCommand, type AnswerShape } from './command.js';
import type { SessionAnswer } from './sessions.js';
import { PartitionStateMachine, SnapshotCorruptError } from './state-machine.js';
import { DEFAULT_RAFT_TUNING, type ClientRequest, type ClientResult, type NodeObserver, type RaftPeerMessage, type RaftTuning } from '../node/types.js';

/** Where the answer to a request goes: this node's own client, or the coordinator that forwarded it. */
export type ReplyTo = { readonly kind: 'client' } | { readonly kind: 'peer'; readonly node: NodeId; readonly attempt: number };

export interface ReplicaHost {
  send(pm: RaftPeerMessage): void;
  /** A request this replica accepted has its answer. */
  answer(request: ClientRequest, replyTo: ReplyTo, result: ClientResult): void;
}

export interface ReplicaConfig {
  readonly node: NodeId;
  readonly partition: PartitionId;
  /** The partition's replica set: the group's voters. */
  readonly voters: readonly NodeId[];
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly compactAfterEntries: number;
  readonly requestTimeoutMs: number;
  readonly sessionTtlMs?: number;
  readonly random: Random;
  readonly raft?: Partial<RaftTuning>;
  readonly bugs?: Bugs;
  readonly observer?: NodeObserver;
  /** The node's liveness view of its peers (quiescence needs it; without it groups never quiesce). */
  readonly peerLive?: (id: NodeId) => boolean;
}

/** The replica cannot start from its stored state. */
export class ReplicaStartError extends Error {
  override readonly name = 'ReplicaStartError';
}

interface Waiter {
  readonly request: ClientRequest;
  replyTo: ReplyTo;
  readonly deadlineMs: number;
  /** For reads: the read index granted by the leader, once known. */
  index: LogIndex | null;
  /** For writes: it was only forwarded to a leader (which may be gone with it). */
  forwarded?: boolean;
}

export class Replica {
  readonly id: PartitionId;
  readonly raft: RaftGroup;
  readonly sm: PartitionStateMachine;
  private readonly writes = new Map<string, Waiter>();
  private readonly reads = new Map<string, Waiter>();
  private soft: SoftState;
  /** The node's clock as last seen (reads judge TTL expiry by it). */
  private nowMs = 0;
  private snapshotIndex: number;
  /** The commit index last reported to the observer. */
  private reportedCommit: number;

  constructor(
    private readonly config: ReplicaConfig,
    persisted: PersistedState,
    private readonly storage: StoragePort,
    private readonly host: ReplicaHost,
  ) {
    this.id = config.partition;
    this.sm = new PartitionStateMachine(config.sessionTtlMs);
    if (persisted.snapshot !== null) {
      try {
        this.sm.restore(persisted.snapshot.data);
      } catch (err) {
        if (err instanceof SnapshotCorruptError) throw new ReplicaStartError(`snapshot of ${config.node}/${config.partition}: ${err.message}`);
        throw err;
      }
      if (this.sm.applied !== persisted.snapshot.meta.index) {
        throw new ReplicaStartError(`snapshot of ${config.node}/${config.partition} holds index ${this.sm.applied}, its meta says ${persisted.snapshot.meta.index}`);
      }
    }
    this.raft = new Raft(
      {
        id: config.node,
        conf: { voters: config.voters },
        electionTicks: config.electionTicks,
        heartbeatTicks: config.heartbeatTicks,
        ...DEFAULT_RAFT_TUNING,
        ...(config.raft ?? {}),
        random: config.random,
        ...(config.bugs !== undefined ? { bugs: config.bugs } : {}),
        ...(config.peerLive !== undefined ? { peerLive: config.peerLive } : {}),
      },
      persisted,
    );
    const st = this.raft.status();
    this.soft = { leader: st.leader, role: st.role };
    this.snapshotIndex = persisted.snapshot?.meta.index ?? 0;
    this.reportedCommit = st.commit;
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  get pending(): number {
    return this.writes.size + this.reads.size;
  }

  tick(): void {
    this.raft.tick();
  }

  step(pm: RaftPeerMessage): void {
    this.raft.step(pm.message);
  }

  /** A Raft message that arrived without its own envelope (unpacked from CoalescedHeartbeats). */
  stepMessage(m: Message): void {
    this.raft.step(m);
  }

  get quiesced(): boolean {
    return this.raft.isQuiesced();
  }

  /**
   * Take a client request. Returns its answer when it is known at once (a definite refusal, or
   * a retransmission already applied), else null: the answer comes later through host.answer.
   */
  submit(req: ClientRequest, replyTo: ReplyTo, nowMs: number): ClientResult | null {
    this.nowMs = nowMs;
    const ctx = `${req.clientId}:${req.seq}`;
    const deadlineMs = nowMs + this.config.requestTimeoutMs;
    const op = req.op;
    if (isReadOp(op)) {
      const asked = op.consistency ?? 'strong';
      const level = asked === 'strong' && this.config.bugs?.has('eventual-as-strong') === true ? 'eventual' : asked;
      const st = this.raft.status();
      switch (level) {
        case 'eventual':
          // Any replica's applied state, with or without a quorum: possibly stale, never uncommitted.
          return this.readNow(op, this.sm.applied as LogIndex);
        case 'leader':
          // The leader's applied state without a round: stale if it was deposed and does not know yet.
          if (st.role !== 'leader') return { kind: 'unavailable', leaderHint: st.leader, reason: 'not the leader' };
          return this.readNow(op, this.sm.applied as LogIndex);
        case 'strong':
          break;
        default: {
          const _: never = level;
          return { kind: 'invalid', reason: `unknown consistency ${JSON.stringify(_)}` };
        }
      }
      const inFlight = this.reads.get(ctx);
      if (inFlight !== undefined) {
        inFlight.replyTo = replyTo; // a retry of a read in progress: answer the latest asker
        return null;
      }
      if (st.leader === null) return { kind: 'unavailable', leaderHint: null, reason: 'no leader known' };
      this.reads.set(ctx, { request: req, replyTo, deadlineMs, index: null });
      this.raft.readIndex(ctx);
      return null;
    }
    const inFlight = this.writes.get(ctx);
    if (inFlight !== undefined) {
      inFlight.replyTo = replyTo;
      // A retry of a write we only forwarded: the leader it went to may have died with it, so
      // propose it again (the session makes a second copy apply as the first; never twice).
      if (inFlight.forwarded === true) {
        const { shape, kv } = commandOf(op);
        const again = this.raft.propose(encodeReplicaCommand({ clientId: req.clientId, seq: req.seq, proposedAtMs: nowMs, shape, kv }));
        if (again.kind === 'proposed') inFlight.forwarded = false;
      }
      return null;
    }
    const done = this.sm.sessionResult(req.clientId, req.seq);
    // Already applied (a retransmission): answer as the first time, never "unavailable".
    if (done !== null) return this.resultOf(done);
    const { shape, kv } = commandOf(op);
    const res = this.raft.propose(encodeReplicaCommand({ clientId: req.clientId, seq: req.seq, proposedAtMs: nowMs, shape, kv }));
    if (res.kind === 'dropped') return { kind: 'unavailable', leaderHint: this.raft.status().leader, reason: res.reason };
    this.writes.set(ctx, { request: req, replyTo, deadlineMs, index: null, forwarded: res.kind === 'forwarded' });
    return null;
  }

  private readNow(op: ReadOp, index: LogIndex): ClientResult {
    const rec = this.sm.get(op.key, this.nowMs);
    return { kind: 'ok', value: rec?.value ?? null, revision: rec?.revision ?? 0, index, partition: this.id };
  }

  /** The node's first tick: waits taken before it were timed from 0. */
  clockStarted(nowMs: number): void {
    for (const w of this.writes.values()) (w as { deadlineMs: number }).deadlineMs += nowMs;
    for (const r of this.reads.values()) (r as { deadlineMs: number }).deadlineMs += nowMs;
  }

  /**
   * Answer what has waited past its bound: `no-quorum` (retryable; a write's outcome is unknown,
   * it may still commit later and its session answers a retry). Nothing waits forever.
   */
  expire(nowMs: number): void {
    this.nowMs = nowMs;
    if (this.writes.size === 0 && this.reads.size === 0) return;
    for (const [k, w] of this.writes) {
      if (w.deadlineMs > nowMs) continue;
      this.writes.delete(k);
      this.host.answer(w.request, w.replyTo, { kind: 'no-quorum', leaderHint: this.raft.status().leader, reason: `partition ${this.id}: the write did not commit within ${this.config.requestTimeoutMs} ms; its outcome is unknown` });
    }
    for (const [k, r] of this.reads) {
      if (r.deadlineMs > nowMs) continue;
      this.reads.delete(k);
      this.host.answer(r.request, r.replyTo, { kind: 'no-quorum', leaderHint: this.raft.status().leader, reason: `partition ${this.id}: the leader did not confirm the read within ${this.config.requestTimeoutMs} ms` });
    }
  }

  /** Run the Ready loop until the group has nothing more to do. */
  pump(): void {
    while (this.raft.hasReady()) this.handleReady(this.raft.ready());
  }

  private handleReady(rd: Ready): void {
    const observer = this.config.observer;
    const node = this.config.node;
    if (rd.softState.role !== this.soft.role || rd.softState.leader !== this.soft.leader) {
      this.soft = rd.softState;
      observer?.roleChanged?.(node, this.id, rd.softState.role, this.raft.status().term, rd.softState.leader, this.raft);
    }
    // a. persist (and fsync when asked) before anything that depends on it leaves.
    if (rd.snapshot !== null || rd.entries.length > 0 || rd.hardState !== null) {
      this.storage.save({ partition: this.id, snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState, sync: rd.mustSync });
      if (rd.entries.length > 0) observer?.persisted?.(node, this.id, rd.entries);
    }
    if (rd.hardState !== null && rd.hardState.commit !== this.reportedCommit) {
      this.reportedCommit = rd.hardState.commit;
      observer?.commitMoved?.(node, this.id, rd.hardState.commit);
    }
    // b. send.
    for (const message of rd.messages) this.host.send({ kind: 'raft', from: message.from, to: message.to, partition: this.id, message });
    // c. apply.
    if (rd.snapshot !== null) {
      this.sm.restore(rd.snapshot.data);
      this.snapshotIndex = rd.snapshot.meta.index;
    }
    for (const e of rd.committedEntries) this.apply(e);
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.context);
      if (r !== undefined) r.index = rs.index;
    }
    // d. advance.
    this.raft.advance(rd);
    this.serveReads();
    this.maybeCompact();
  }

  private apply(e: Entry): void {
    if (e.index <= this.sm.applied) return; // covered by the snapshot already installed
    let result: SessionAnswer | null = null;
    if (e.kind === 'normal' && e.data.length > 0) {
      const applied = this.sm.apply(e.index, e.data);
      result = applied.answer;
      const ctx = `${applied.clientId}:${applied.seq}`;
      const w = this.writes.get(ctx);
      if (w !== undefined) {
        this.writes.delete(ctx);
        this.host.answer(w.request, w.replyTo, this.resultOf(result));
      }
    } else {
      this.sm.applyNoop(e.index);
    }
    this.config.observer?.applied?.(this.config.node, this.id, e, result);
  }

  private resultOf(a: SessionAnswer): ClientResult {
    switch (a.kind) {
      case 'ok':
        return { kind: 'ok', value: a.value, revision: a.revision, index: a.index as LogIndex, partition: this.id };
      case 'cas-failed':
        return { kind: 'cas-failed', current: a.current };
      case 'invalid':
        return { kind: 'invalid', reason: a.reason };
    }
  }

  private serveReads(): void {
    if (this.reads.size === 0) return;
    for (const [ctx, r] of this.reads) {
      if (r.index === null || r.index > this.sm.applied) continue;
      this.reads.delete(ctx);
      const op = r.request.op;
      if (!isReadOp(op)) throw new AssertionError(`replica ${this.id}: a ${op.f} waits as a read`);
      this.host.answer(r.request, r.replyTo, this.readNow(op, r.index));
    }
  }

  private maybeCompact(): void {
    const applied = this.sm.applied;
    if (applied - this.snapshotIndex < this.config.compactAfterEntries) return;
    const snap = this.raft.compact(applied as LogIndex, this.sm.snapshot());
    this.storage.compact(this.id, snap);
    this.snapshotIndex = applied;
  }
}

/** The KV face's command for a write op, and how its answer is shaped. */
function commandOf(op: WriteOp): { readonly shape: AnswerShape; readonly kv: KvCommand } {
  switch (op.f) {
    case 'write':
      return { shape: 'write', kv: { op: 'put', key: op.key, value: op.value } };
    case 'cas':
      return { shape: 'cas', kv: op.expected === null ? { op: 'put', key: op.key, value: op.value, ifAbsent: true } : { op: 'put', key: op.key, value: op.value, expected: op.expected } };
    case 'delete':
      return op.expected === undefined ? { shape: 'delete', kv: { op: 'delete', key: op.key } } : { shape: 'remove', kv: { op: 'delete', key: op.key, expected: op.expected } };
    case 'put': {
      const kv: KvCommand = {
        op: 'put',
        key: op.key,
        value: op.value,
        ...(op.ttlMs !== undefined ? { ttlMs: op.ttlMs } : {}),
        ...(op.expected !== undefined ? { expected: op.expected } : {}),
        ...(op.expectedRevision !== undefined ? { expectedRevision: op.expectedRevision } : {}),
        ...(op.ifAbsent !== undefined ? { ifAbsent: op.ifAbsent } : {}),
      };
      return { shape: 'put', kv };
    }
    default: {
      const _: never = op;
      throw new AssertionError(`commandOf: unknown op ${JSON.stringify(_)}`);
    }
  }
}
