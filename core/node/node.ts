// One process's whole state: its Raft groups (one per partition), each with its key-value state
// machine, plus the client request/reply interface. It drives every group through the Ready
// contract of core/raft/types.ts against a StoragePort, and is itself sans-IO: the driver feeds
// it time (tick), peer messages (receive) and client requests (request), and collects what it
// must send with drain(). Persistence happens inside those calls, before any message that
// depends on it is handed out.
import { Raft } from '../raft/index.js';
import { EMPTY_PERSISTED_STATE, type Entry, type RaftGroup, type RaftStatus, type Ready, type SoftState } from '../raft/types.js';
import { AssertionError, partitionId, type LogIndex, type NodeId, type PartitionId } from '../types.js';
import { encodeCommand, hashKey, type KvOp } from './command.js';
import { KvStateMachine, SnapshotCorruptError, type ApplyResult } from './kv-state-machine.js';
import type { StoragePort } from './storage-port.js';
import { DEFAULT_RAFT_TUNING, type ClientReply, type ClientRequest, type ClientResult, type NodeConfig, type PeerMessage } from './types.js';

/** The node cannot start from its storage (damage it cannot repair); it must stay down. */
export class NodeStartError extends Error {
  override readonly name = 'NodeStartError';
}

interface PendingWrite {
  readonly request: ClientRequest;
  readonly deadlineMs: number;
}

interface PendingRead {
  readonly request: ClientRequest & { readonly op: Extract<KvOp, { f: 'read' }> };
  readonly deadlineMs: number;
  /** The read index granted by the leader, once known. */
  index: LogIndex | null;
}

interface Group {
  readonly id: PartitionId;
  readonly raft: RaftGroup;
  readonly sm: KvStateMachine;
  readonly writes: Map<string, PendingWrite>;
  readonly reads: Map<string, PendingRead>;
  soft: SoftState;
  term: number;
  snapshotIndex: number;
}

/** Most Raft ticks one tick() call may catch up (after a long pause) — bounds the work. */
const MAX_CATCH_UP_TICKS = 1000;

export function partitionOfKey(key: string, partitions: number): PartitionId {
  return partitionId(hashKey(key) % partitions);
}

export interface Drained {
  readonly messages: readonly PeerMessage[];
  readonly replies: readonly ClientReply[];
}

export class ClusterNode {
  readonly id: NodeId;
  private readonly groups = new Map<PartitionId, Group>();
  private messages: PeerMessage[] = [];
  private replies: ClientReply[] = [];
  private nowMs = 0;
  private nextTickMs: number | null = null;

  constructor(
    private readonly config: NodeConfig,
    private readonly storage: StoragePort,
  ) {
    if (!Number.isInteger(config.partitions) || config.partitions < 1) throw new AssertionError(`partitions must be >= 1, got ${config.partitions}`);
    if (!config.nodes.includes(config.id)) throw new AssertionError(`node ${config.id} is not one of the cluster's nodes`);
    this.id = config.id;
    const loaded = storage.load();
    if (loaded.kind === 'damaged') throw new NodeStartError(`storage of ${config.id} is damaged: ${loaded.reason}`);
    for (let p = 0; p < config.partitions; p++) {
      const pid = partitionId(p);
      const persisted = loaded.groups.get(pid) ?? EMPTY_PERSISTED_STATE;
      const sm = new KvStateMachine();
      if (persisted.snapshot !== null) {
        try {
          sm.restore(persisted.snapshot.data);
        } catch (err) {
          if (err instanceof SnapshotCorruptError) throw new NodeStartError(`snapshot of ${config.id}/${p}: ${err.message}`);
          throw err;
        }
        if (sm.applied !== persisted.snapshot.meta.index) {
          throw new NodeStartError(`snapshot of ${config.id}/${p} holds index ${sm.applied}, its meta says ${persisted.snapshot.meta.index}`);
        }
      }
      const raft = new Raft(
        {
          id: config.id,
          conf: { voters: config.nodes },
          electionTicks: config.electionTicks,
          heartbeatTicks: config.heartbeatTicks,
          ...DEFAULT_RAFT_TUNING,
          ...(config.raft ?? {}),
          random: config.random,
          ...(config.bugs !== undefined ? { bugs: config.bugs } : {}),
        },
        persisted,
      );
      const st = raft.status();
      this.groups.set(pid, {
        id: pid,
        raft,
        sm,
        writes: new Map(),
        reads: new Map(),
        soft: { leader: st.leader, role: st.role },
        term: st.term,
        snapshotIndex: persisted.snapshot?.meta.index ?? 0,
      });
    }
    this.pump();
  }

  get partitions(): number {
    return this.config.partitions;
  }

  /** The driver's clock (this node's local view, skew and all). Runs every group's ticks that fell due. */
  tick(nowMs: number): void {
    this.nowMs = nowMs;
    if (this.nextTickMs === null) this.nextTickMs = nowMs + this.config.tickMs;
    let n = 0;
    while (nowMs >= this.nextTickMs && n < MAX_CATCH_UP_TICKS) {
      for (const g of this.groups.values()) g.raft.tick();
      this.nextTickMs += this.config.tickMs;
      n++;
    }
    if (n === MAX_CATCH_UP_TICKS) this.nextTickMs = nowMs + this.config.tickMs;
    this.expire();
    this.pump();
  }

  receive(pm: PeerMessage): void {
    const g = this.groups.get(pm.partition);
    if (g === undefined) return; // a peer with a different partition count; the handshake (adapters) rejects those
    g.raft.step(pm.message);
    this.pump();
  }

  request(req: ClientRequest): void {
    const g = this.groupOf(req.op.key);
    const ctx = `${req.clientId}:${req.seq}`;
    const deadlineMs = this.nowMs + this.config.requestTimeoutMs;
    const op = req.op;
    if (op.f === 'read') {
      if (g.reads.has(ctx)) return; // a duplicate of a read in progress
      const leader = g.raft.status().leader;
      if (leader === null) {
        this.reply(req, { kind: 'unavailable', leaderHint: null, reason: 'no leader known' });
        return;
      }
      g.reads.set(ctx, { request: { ...req, op }, deadlineMs, index: null });
      g.raft.readIndex(ctx);
    } else {
      if (g.writes.has(ctx)) return; // a duplicate of a write in progress
      const done = g.sm.sessionResult(req.clientId, req.seq);
      if (done !== null) {
        // Already applied (a retransmission): answer as the first time, never "unavailable".
        this.reply(req, this.resultOf(op, done, g));
        return;
      }
      const res = g.raft.propose(encodeCommand({ clientId: req.clientId, seq: req.seq, op }));
      if (res.kind === 'dropped') {
        this.reply(req, { kind: 'unavailable', leaderHint: g.raft.status().leader, reason: res.reason });
        return;
      }
      g.writes.set(ctx, { request: req, deadlineMs });
    }
    this.pump();
  }

  /** What the node must now send: peer messages (already covered by durable state) and client replies. */
  drain(): Drained {
    const out = { messages: this.messages, replies: this.replies };
    this.messages = [];
    this.replies = [];
    return out;
  }

  status(partition: PartitionId): RaftStatus {
    return this.mustGroup(partition).raft.status();
  }

  /** The group itself, for read-only inspection by checks (termAt, entries). */
  raftGroup(partition: PartitionId): RaftGroup {
    return this.mustGroup(partition).raft;
  }

  stateMachine(partition: PartitionId): KvStateMachine {
    return this.mustGroup(partition).sm;
  }

  pendingRequests(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.writes.size + g.reads.size;
    return n;
  }

  private mustGroup(partition: PartitionId): Group {
    const g = this.groups.get(partition);
    if (g === undefined) throw new AssertionError(`node ${this.id} has no partition ${partition}`);
    return g;
  }

  private groupOf(key: string): Group {
    return this.mustGroup(partitionOfKey(key, this.config.partitions));
  }

  private reply(request: ClientRequest, result: ClientResult): void {
    this.replies.push({ clientId: request.clientId, seq: request.seq, result });
  }

  private expire(): void {
    for (const g of this.groups.values()) {
      for (const [k, w] of g.writes) if (w.deadlineMs < this.nowMs) g.writes.delete(k);
      for (const [k, r] of g.reads) if (r.deadlineMs < this.nowMs) g.reads.delete(k);
    }
  }

  private pump(): void {
    for (const g of this.groups.values()) {
      while (g.raft.hasReady()) this.handleReady(g, g.raft.ready());
    }
  }

  private handleReady(g: Group, rd: Ready): void {
    const observer = this.config.observer;
    const st = rd.hardState;
    if (st !== null) g.term = st.term;
    if (rd.softState.role !== g.soft.role || rd.softState.leader !== g.soft.leader) {
      g.soft = rd.softState;
      observer?.roleChanged?.(this.id, g.id, rd.softState.role, g.raft.status().term, rd.softState.leader, g.raft);
    }
    // a. persist (and fsync when asked) before anything that depends on it leaves.
    if (rd.snapshot !== null || rd.entries.length > 0 || rd.hardState !== null) {
      this.storage.save({ partition: g.id, snapshot: rd.snapshot, entries: rd.entries, hardState: rd.hardState, sync: rd.mustSync });
      if (rd.entries.length > 0) observer?.persisted?.(this.id, g.id, rd.entries);
    }
    // b. send.
    for (const message of rd.messages) this.messages.push({ partition: g.id, message });
    // c. apply.
    if (rd.snapshot !== null) {
      g.sm.restore(rd.snapshot.data);
      g.snapshotIndex = rd.snapshot.meta.index;
    }
    for (const e of rd.committedEntries) this.apply(g, e);
    for (const rs of rd.readStates) {
      const r = g.reads.get(rs.context);
      if (r !== undefined) r.index = rs.index;
    }
    // d. advance.
    g.raft.advance(rd);
    this.serveReads(g);
    this.maybeCompact(g);
  }

  private apply(g: Group, e: Entry): void {
    if (e.index <= g.sm.applied) return; // covered by the snapshot already installed
    let result: ApplyResult | null = null;
    if (e.kind === 'normal' && e.data.length > 0) {
      const applied = g.sm.apply(e.index, e.data);
      result = applied.result;
      const ctx = `${applied.command.clientId}:${applied.command.seq}`;
      const w = g.writes.get(ctx);
      if (w !== undefined) {
        g.writes.delete(ctx);
        this.reply(w.request, this.resultOf(applied.command.op, result, g, e.index));
      }
    } else {
      g.sm.applyNoop(e.index);
    }
    this.config.observer?.applied?.(this.id, g.id, e, result);
  }

  private resultOf(op: Exclude<KvOp, { f: 'read' }>, result: ApplyResult, g: Group, index?: LogIndex): ClientResult {
    if (result.kind === 'cas-failed') return { kind: 'cas-failed', current: result.current };
    return {
      kind: 'ok',
      value: op.f === 'delete' ? null : op.value,
      revision: result.revision,
      index: index ?? (result.revision as LogIndex),
      partition: g.id,
    };
  }

  private serveReads(g: Group): void {
    if (g.reads.size === 0) return;
    for (const [ctx, r] of g.reads) {
      if (r.index === null || r.index > g.sm.applied) continue;
      g.reads.delete(ctx);
      const rec = g.sm.get(r.request.op.key);
      this.reply(r.request, {
        kind: 'ok',
        value: rec?.value ?? null,
        revision: rec?.revision ?? 0,
        index: r.index,
        partition: g.id,
      });
    }
  }

  private maybeCompact(g: Group): void {
    const applied = g.sm.applied;
    if (applied - g.snapshotIndex < this.config.compactAfterEntries) return;
    const snap = g.raft.compact(applied as LogIndex, g.sm.snapshot());
    this.storage.compact(g.id, snap);
    g.snapshotIndex = applied;
  }
}
