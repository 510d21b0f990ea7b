// One process's whole database: the replicas of exactly the partitions the partition map gives
// this node (core/replica), a coordinator that routes requests for the other partitions to
// their replicas (core/coordinator), and the client request/reply interface. Sans-IO: the driver
// feeds it time (tick), peer messages (receive) and client requests (request), and collects what
// it must send with drain(). Persistence happens inside those calls, before any message that
// depends on it is handed out.
import { Coordinator, FanOuts } from '../coordinator/index.js';
import { PartitionMap, partitionOfKey as mapPartitionOfKey } from '../partition/index.js';
import { EMPTY_PERSISTED_STATE, type RaftGroup, type RaftStatus } from '../raft/types.js';
import { Replica, ReplicaStartError, type ReplyTo } from '../replica/index.js';
import { AssertionError, type NodeId, type PartitionId } from '../types.js';
import type { PartitionStateMachine } from '../replica/state-machine.js';
import { consistencyOf, InvalidRequestError, isFanOutOp, isReadOp, partitionOfRequest } from './command.js';
import type { StoragePort } from './storage-port.js';
import { DEFAULT_NODE_TUNING, type ClientReply, type ClientRequest, type ClientResult, type NodeConfig, type PeerMessage } from './types.js';

/** The node cannot start from its storage (damage it cannot repair); it must stay down. */
export class NodeStartError extends Error {
  override readonly name = 'NodeStartError';
}

/** Most Raft ticks one tick() call may catch up (after a long pause) — bounds the work. */
const MAX_CATCH_UP_TICKS = 1000;

/** The partition holding a KV key (core/partition's stable hash). */
export function partitionOfKey(key: string, partitions: number): PartitionId {
  return mapPartitionOfKey(key, partitions);
}

export interface Drained {
  readonly messages: readonly PeerMessage[];
  readonly replies: readonly ClientReply[];
}

export class ClusterNode {
  readonly id: NodeId;
  /** Placement: which partitions exist, who replicates and who should lead each. */
  readonly map: PartitionMap;
  /** This node's replicas, in ascending partition order. */
  private readonly replicas = new Map<PartitionId, Replica>();
  private readonly coordinator: Coordinator;
  private readonly fanouts: FanOuts;
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
    this.map = new PartitionMap({
      nodes: config.nodes,
      partitions: config.partitions,
      ...(config.replicationFactor !== undefined ? { replicationFactor: config.replicationFactor } : {}),
    });
    const loaded = storage.load();
    if (loaded.kind === 'damaged') throw new NodeStartError(`storage of ${config.id} is damaged: ${loaded.reason}`);
    const host = {
      send: (pm: PeerMessage) => this.messages.push(pm),
      answer: (req: ClientRequest, replyTo: ReplyTo, result: ClientResult) => this.answer(req, replyTo, result),
    };
    for (const p of this.map.partitionsOf(config.id)) {
      try {
        this.replicas.set(
          p,
          new Replica(
            {
              node: config.id,
              partition: p,
              // In cluster order (the order Raft addresses its peers in), not preference order.
              voters: config.nodes.filter((n) => this.map.isReplica(n, p)),
              partitions: config.partitions,
              electionTicks: config.electionTicks,
              heartbeatTicks: config.heartbeatTicks,
              compactAfterEntries: config.compactAfterEntries,
              // Waiting on the group is bounded like routing: the client hears within this.
              requestTimeoutMs: Math.min(config.requestTimeoutMs, config.routeTimeoutMs ?? DEFAULT_NODE_TUNING.routeTimeoutMs),
              ...(config.sessionTtlMs !== undefined ? { sessionTtlMs: config.sessionTtlMs } : {}),
              random: config.random,
              ...(config.raft !== undefined ? { raft: config.raft } : {}),
              ...(config.bugs !== undefined ? { bugs: config.bugs } : {}),
              ...(config.observer !== undefined ? { observer: config.observer } : {}),
            },
            loaded.groups.get(p) ?? EMPTY_PERSISTED_STATE,
            storage,
            host,
          ),
        );
      } catch (err) {
        if (err instanceof ReplicaStartError) throw new NodeStartError(err.message);
        throw err;
      }
    }
    const electionMs = config.tickMs * config.electionTicks;
    this.coordinator = new Coordinator(
      {
        self: config.id,
        routeTimeoutMs: config.routeTimeoutMs ?? DEFAULT_NODE_TUNING.routeTimeoutMs,
        forwardRetryMs: config.forwardRetryMs ?? electionMs,
        refusalBackoffMs: config.tickMs * config.heartbeatTicks,
      },
      this.map,
      { send: (pm) => this.messages.push(pm), answer: (req, result) => this.reply(req, result) },
    );
    this.fanouts = new FanOuts(config.partitions, { dispatch: (part) => this.dispatch(part), answer: (req, result) => this.reply(req, result) });
    this.pump();
  }

  get partitions(): number {
    return this.config.partitions;
  }

  /** Whether this node replicates partition p. */
  hosts(p: PartitionId): boolean {
    return this.replicas.has(p);
  }

  /** The partitions this node replicates, ascending. */
  hostedPartitions(): readonly PartitionId[] {
    return this.map.partitionsOf(this.id);
  }

  /** The driver's clock (this node's local view, skew and all). Runs every group's ticks that fell due. */
  tick(nowMs: number): void {
    this.nowMs = nowMs;
    if (this.nextTickMs === null) {
      // The first reading of the clock: anything timed before it was timed from 0.
      this.nextTickMs = nowMs + this.config.tickMs;
      this.coordinator.clockStarted(nowMs);
      for (const r of this.replicas.values()) r.clockStarted(nowMs);
    }
    let n = 0;
    while (nowMs >= this.nextTickMs && n < MAX_CATCH_UP_TICKS) {
      for (const r of this.replicas.values()) r.tick();
      this.nextTickMs += this.config.tickMs;
      n++;
    }
    if (n === MAX_CATCH_UP_TICKS) this.nextTickMs = nowMs + this.config.tickMs;
    for (const r of this.replicas.values()) r.expire(nowMs);
    this.coordinator.tick(nowMs);
    this.pump();
  }

  receive(pm: PeerMessage): void {
    if (pm.to !== this.id) return; // misdelivered: not ours to act on
    switch (pm.kind) {
      case 'raft': {
        // A group we do not host: a peer with another placement; the handshake's fingerprint check refuses those.
        this.replicas.get(pm.partition)?.step(pm);
        break;
      }
      case 'forward': {
        const r = this.replicas.get(pm.partition);
        const replyTo: ReplyTo = { kind: 'peer', node: pm.from, attempt: pm.attempt };
        if (r === undefined) {
          this.answer(pm.request, replyTo, { kind: 'unavailable', leaderHint: null, reason: `${this.id} is not a replica of partition ${pm.partition}` });
          break;
        }
        const now = r.submit(pm.request, replyTo, this.nowMs);
        if (now !== null) this.answer(pm.request, replyTo, now);
        break;
      }
      case 'forward-reply':
        this.coordinator.onReply(pm, this.nowMs);
        break;
      default: {
        const _: never = pm;
        throw new AssertionError(`receive: unknown peer message ${JSON.stringify(_)}`);
      }
    }
    this.pump();
  }

  request(req: ClientRequest): void {
    if (isFanOutOp(req.op)) this.fanouts.start(req, req.op);
    else this.dispatch(req);
    this.pump();
  }

  /** A single-partition request: to this node's replica of its partition, or routed to one. */
  private dispatch(req: ClientRequest): void {
    let p: PartitionId;
    try {
      p = partitionOfRequest(this.map, req);
    } catch (e) {
      if (!(e instanceof InvalidRequestError)) throw e;
      this.reply(req, { kind: 'invalid', reason: e.message });
      return;
    }
    const r = this.replicas.get(p);
    if (r === undefined) this.coordinator.route(req, p, this.nowMs);
    else {
      const now = r.submit(req, { kind: 'client' }, this.nowMs);
      // A `leader` read on a follower replica goes to the leader it names, like any routed request.
      if (now !== null && now.kind === 'unavailable' && now.leaderHint !== null && now.leaderHint !== this.id && isReadOp(req.op) && consistencyOf(req.op) === 'leader') {
        this.coordinator.route(req, p, this.nowMs, now.leaderHint);
      } else if (now !== null) this.reply(req, now);
    }
  }

  /** What the node must now send: peer messages (already covered by durable state) and client replies. */
  drain(): Drained {
    const out = { messages: this.messages, replies: this.replies };
    this.messages = [];
    this.replies = [];
    return out;
  }

  status(partition: PartitionId): RaftStatus {
    return this.mustReplica(partition).status();
  }

  /** The group itself, for read-only inspection by checks (termAt, entries). */
  raftGroup(partition: PartitionId): RaftGroup {
    return this.mustReplica(partition).raft;
  }

  stateMachine(partition: PartitionId): PartitionStateMachine {
    return this.mustReplica(partition).sm;
  }

  pendingRequests(): number {
    let n = this.coordinator.pending + this.fanouts.pending;
    for (const r of this.replicas.values()) n += r.pending;
    return n;
  }

  private mustReplica(partition: PartitionId): Replica {
    const r = this.replicas.get(partition);
    if (r === undefined) throw new AssertionError(`node ${this.id} does not replicate partition ${partition}`);
    return r;
  }

  private answer(req: ClientRequest, replyTo: ReplyTo, result: ClientResult): void {
    if (replyTo.kind === 'client') {
      this.reply(req, result);
      return;
    }
    this.messages.push({
      kind: 'forward-reply',
      from: this.id,
      to: replyTo.node,
      partition: partitionOfRequest(this.map, req),
      attempt: replyTo.attempt,
      clientId: req.clientId,
      seq: req.seq,
      result,
    });
  }

  private reply(request: ClientRequest, result: ClientResult): void {
    if (this.fanouts.onPart(request, result)) return; // one partition's share of a fan-out read
    this.replies.push({ clientId: request.clientId, seq: request.seq, result });
  }

  private pump(): void {
    for (const r of this.replicas.values()) r.pump();
  }
}
