// One partition's replica on this node: its Raft group, its state machine, the requests waiting
// on it, and the Ready loop that persists, sends, applies and compacts (core/raft/types.ts states
// the contract). The node (core/node) owns one Replica per partition it hosts and routes to it.
import type { Bugs } from '../bugs.js';
import { Raft } from '../raft/index.js';
import type { Entry, Message, PersistedState, RaftGroup, RaftStatus, Ready, SoftState } from '../raft/types.js';
import { AssertionError, type LogIndex, type NodeId, type PartitionId, type Random } from '../types.js';
import { consistencyOf, isFanOutOp, isKvWriteOp, isReadOp, type AtomicOp, type KvBulkOp, type KvWriteOp, type ReadOp, type RecordWriteOp } from '../node/command.js';
import type { StoragePort } from '../node/storage-port.js';
import type { KvCommand } from '../storage/kv/commands.js';
import { encodeRecordCommand, encodeReplicaCommand, encodeTxnCommand, type AnswerShape, type LoggedRecordWrite, type LoggedTxnOp } from './command.js';
import { serveRead } from './reads.js';
import { planDocument } from '../storage/records/documents.js';
import { RecordError } from '../storage/records/errors.js';
import { checkKey, checkValue, recordId } from '../storage/records/values.js';
import { timestamp } from '../storage/types.js';
import { partitionOfRecord } from '../partition/map.js';
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
  /** The cluster's partition count: new record ids are allocated among those hashing to this partition. Default 1. */
  readonly partitions?: number;
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
    this.sm = new PartitionStateMachine(config.sessionTtlMs, { partition: config.partition, partitions: config.partitions ?? 1 });
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
    if (isFanOutOp(op)) return { kind: 'invalid', reason: `${op.f} reads every partition; the node splits it (replica ${this.id} got it whole)` };
    if (isReadOp(op)) {
      const asked = consistencyOf(op);
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
        const bytes = this.commandBytes(req, nowMs);
        if (typeof bytes !== 'string') {
          const again = this.raft.propose(bytes);
          if (again.kind === 'proposed') inFlight.forwarded = false;
        }
      }
      return null;
    }
    const done = this.sm.sessionResult(req.clientId, req.seq);
    // Already applied (a retransmission): answer as the first time, never "unavailable".
    if (done !== null) return this.resultOf(done);
    const bytes = this.commandBytes(req, nowMs);
    if (typeof bytes === 'string') return { kind: 'invalid', reason: bytes };
    const res = this.raft.propose(bytes);
    if (res.kind === 'dropped') return { kind: 'unavailable', leaderHint: this.raft.status().leader, reason: res.reason };
    this.writes.set(ctx, { request: req, replyTo, deadlineMs, index: null, forwarded: res.kind === 'forwarded' });
    return null;
  }

  /** A write request's log command (KV, one-shot transaction or record write), or why it is invalid. */
  private commandBytes(req: ClientRequest, nowMs: number): Uint8Array | string {
    const op = req.op;
    if (isFanOutOp(op) || isReadOp(op)) return `${op.f} is not a write`;
    if (isKvWriteOp(op)) {
      const { shape, kv } = commandOf(op);
      return encodeReplicaCommand({ clientId: req.clientId, seq: req.seq, proposedAtMs: nowMs, shape, kv });
    }
    if (op.f === 'atomic') {
      const ops = this.txnOpsOf(op);
      if (typeof ops === 'string') return ops;
      return encodeTxnCommand({ clientId: req.clientId, seq: req.seq, proposedAtMs: nowMs, txn: `${req.clientId}/${req.seq}`, ops });
    }
    const w = this.recordWriteOf(op);
    if (typeof w === 'string') return w;
    return encodeRecordCommand({ clientId: req.clientId, seq: req.seq, proposedAtMs: nowMs, write: w });
  }

  private readNow(op: ReadOp, index: LogIndex): ClientResult {
    return serveRead(this.sm, op, this.nowMs, index, this.id, this.config.bugs);
  }

  /** A one-shot transaction's operations, checked (every record in this partition); or why not. */
  private txnOpsOf(op: AtomicOp): LoggedTxnOp[] | string {
    const out: LoggedTxnOp[] = [];
    for (const [i, o] of op.ops.entries()) {
      try {
        const record = recordId(o.record);
        const p = partitionOfRecord(record, this.config.partitions ?? 1);
        if (p !== this.id) return `ops[${i}]: record ${record} belongs to partition ${p}, not ${this.id}`;
        switch (o.type) {
          case 'select':
            out.push({ type: 'select', record });
            break;
          case 'get':
            out.push({ type: 'get', record, key: checkKey(o.key) });
            break;
          case 'add':
          case 'remove':
          case 'set':
            out.push({ type: o.type, record, key: checkKey(o.key), value: checkValue(o.value) });
            break;
          default: {
            const _: never = o;
            return `ops[${i}]: unknown operation ${JSON.stringify(_)}`;
          }
        }
      } catch (e) {
        if (e instanceof RecordError) return `ops[${i}]: ${e.code}: ${e.message}`;
        throw e;
      }
    }
    return out;
  }

  /**
   * The store's write for a record op, checked before it is proposed (a bad key, value, record
   * id or document is the client's mistake: answered at once, never logged); or why not.
   */
  private recordWriteOf(op: RecordWriteOp): LoggedRecordWrite | string {
    try {
      const mine = (id: bigint): bigint => {
        const r = recordId(id);
        const p = partitionOfRecord(r, this.config.partitions ?? 1);
        if (p !== this.id) throw new RecordError('bad-record', `record ${r} belongs to partition ${p}, not ${this.id}`);
        return r;
      };
      switch (op.f) {
        case 'add':
        case 'set':
          return { op: op.f, record: mine(op.record), key: checkKey(op.key), value: checkValue(op.value) };
        case 'remove':
          return op.value === undefined
            ? { op: 'clear', record: mine(op.record), key: checkKey(op.key) }
            : { op: 'remove', record: mine(op.record), key: checkKey(op.key), value: checkValue(op.value) };
        case 'insert':
          planDocument(op.document);
          return { op: 'insert', document: op.document };
        case 'link':
          return { op: 'link', source: mine(op.record), key: checkKey(op.key), destination: recordId(op.destination) };
        case 'revert': {
          if (!Number.isSafeInteger(op.at) || op.at < 0) throw new RecordError('bad-time', `at must be a non-negative integer timestamp (microseconds), got ${op.at}`);
          const keys = op.keys?.map((k) => checkKey(k));
          return keys === undefined ? { op: 'revert', record: mine(op.record), at: timestamp(op.at) } : { op: 'revert', record: mine(op.record), at: timestamp(op.at), keys };
        }
        default: {
          const _: never = op;
          return `unknown op ${JSON.stringify(_)}`;
        }
      }
    } catch (e) {
      if (e instanceof RecordError) return `${e.code}: ${e.message}`;
      throw e;
    }
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
function commandOf(op: KvWriteOp | KvBulkOp): { readonly shape: AnswerShape; readonly kv: KvCommand } {
  switch (op.f) {
    case 'write':
      return { shape: 'write', kv: { op: 'put', key: op.key, value: op.value } };
    case 'cas':
      return { shape: 'cas', kv: op.expected === null ? { op: 'put', key: op.key, value: op.value, ifAbsent: true } : { op: 'put', key: op.key, value: op.value, expected: op.expected } };
    case 'delete':
      return op.expected === undefined ? { shape: 'delete', kv: { op: 'delete', key: op.key } } : { shape: 'remove', kv: { op: 'delete', key: op.key, expected: op.expected } };
    case 'bulk':
      return { shape: 'bulk', kv: { op: 'bulk-write', items: op.items, atomic: true } };
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
