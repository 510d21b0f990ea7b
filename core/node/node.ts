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
import { PeerLinks, type LivenessChange } from './peer-links.js';
import {
  DEFAULT_NODE_TUNING,
  type ClientReply,
  type ClientRequest,
  type ClientResult,
  type CoalescedHeartbeats,
  type NodeConfig,
  type PeerMessage,
  type RaftPeerMessage,
  type UnbatchedPeerMessage,
} from './types.js';

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

const NOTHING: Drained = Object.freeze({ messages: Object.freeze([]), replies: Object.freeze([]) });

export class ClusterNode {
  readonly id: NodeId;
  /** Placement: which partitions exist, who replicates and who should lead each. */
  readonly map: PartitionMap;
  /** This node's replicas, in ascending partition order. */
  private readonly replicas = new Map<PartitionId, Replica>();
  private readonly coordinator: Coordinator;
  private readonly fanouts: FanOuts;
  /** Per peer: coalesced heartbeats waiting for the next heartbeat tick, and node liveness. */
  private readonly links: PeerLinks;
  /** Per peer, the replicas whose groups it is a voter of. */
  private readonly shared = new Map<NodeId, Replica[]>();
  /** Replicas touched since the last pump (only they can have a Ready). */
  private readonly dirty = new Set<Replica>();
  private ticks = 0;
  private messages: UnbatchedPeerMessage[] = [];
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
    const peers = config.nodes.filter((n) => n !== config.id && this.map.partitionsOf(config.id).some((p) => this.map.isReplica(n, p)));
    // An incarnation number: peers that see it change know this node restarted.
    this.links = new PeerLinks(config.id, peers, Math.floor(config.random.next() * 0x7fffffff), config.electionTicks, Math.max(config.heartbeatTicks, Math.floor(config.electionTicks / 3)));
    const host = {
      send: (pm: RaftPeerMessage) => this.sendRaft(pm),
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
              peerLive: (id: NodeId) => this.links.isLive(id),
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
    for (const r of this.replicas.values()) {
      this.dirty.add(r);
      for (const v of this.map.replicasOf(r.id)) {
        if (v === config.id) continue;
        let list = this.shared.get(v);
        if (list === undefined) this.shared.set(v, (list = []));
        list.push(r);
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
      this.ticks++;
      const dead = this.links.tick();
      if (dead !== null) for (const peer of dead) this.peerDown(peer);
      // A quiescent group's tick does nothing: skip it.
      for (const r of this.replicas.values()) {
        if (r.quiesced) continue;
        r.tick();
        this.dirty.add(r);
      }
      if (this.ticks % this.config.heartbeatTicks === 0) {
        // Pump first, so this tick's heartbeats are in the coalesced messages.
        this.pump();
        for (const hb of this.links.flush()) this.messages.push(hb);
      }
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
    if (pm.kind === 'batch') {
      for (const m of pm.messages) if (m.to === this.id && m.from === pm.from) this.receiveOne(m);
    } else this.receiveOne(pm);
    this.pump();
  }

  private receiveOne(pm: UnbatchedPeerMessage): void {
    this.livenessChanged(pm.from, this.links.heard(pm.from, pm.kind === 'heartbeats' ? pm.epoch : null));
    switch (pm.kind) {
      case 'raft': {
        // A group we do not host: a peer with another placement; the handshake's fingerprint check refuses those.
        const r = this.replicas.get(pm.partition);
        if (r !== undefined) {
          r.step(pm);
          this.dirty.add(r);
        }
        break;
      }
      case 'heartbeats':
        this.receiveHeartbeats(pm);
        break;
      case 'forward': {
        const r = this.replicas.get(pm.partition);
        const replyTo: ReplyTo = { kind: 'peer', node: pm.from, attempt: pm.attempt };
        if (r === undefined) {
          this.answer(pm.request, replyTo, { kind: 'unavailable', leaderHint: null, reason: `${this.id} is not a replica of partition ${pm.partition}` });
          break;
        }
        const now = r.submit(pm.request, replyTo, this.nowMs);
        this.dirty.add(r);
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
  }

  /** Each beat and ack is stepped into its group as the Raft message it stands for. */
  private receiveHeartbeats(pm: CoalescedHeartbeats): void {
    for (const [partition, term, commit, quiesce] of pm.beats) {
      const r = this.replicas.get(partition);
      if (r === undefined) continue;
      r.stepMessage({ type: 'heartbeat', from: pm.from, to: this.id, term, commit, context: null, ...(quiesce ? { quiesce: true } : {}) });
      this.dirty.add(r);
    }
    for (const [partition, term, quiesced] of pm.acks) {
      const r = this.replicas.get(partition);
      if (r === undefined) continue;
      r.stepMessage({ type: 'heartbeat-response', from: pm.from, to: this.id, term, context: null, ...(quiesced ? { quiesced: true } : {}) });
      this.dirty.add(r);
    }
  }

  /**
   * A replica's Raft message. Heartbeats and their answers without a read context wait for the
   * next heartbeat tick and travel coalesced; everything else goes out with this call's drain.
   * (A heartbeat carrying a ReadIndex context goes at once: a read waits on it.)
   */
  private sendRaft(pm: RaftPeerMessage): void {
    const m = pm.message;
    if (m.type === 'heartbeat' && m.context === null) {
      if (this.links.holdBeat(pm.to, pm.partition, m.term, m.commit, m.quiesce === true)) return;
    } else if (m.type === 'heartbeat-response' && m.context === null) {
      if (this.links.holdAck(pm.to, pm.partition, m.term, m.quiesced === true)) return;
    }
    this.messages.push(pm);
  }

  /** A peer's node fell silent for an election timeout. */
  private peerDown(peer: NodeId): void {
    for (const r of this.shared.get(peer) ?? []) {
      if (!r.quiesced) continue;
      const st = r.status();
      // A leader resumes (check-quorum runs again; it will not re-quiesce while a follower is
      // down); a follower of the silent node ends its lease and will campaign.
      if (st.role === 'leader') r.raft.wake(false);
      else if (st.leader === peer) r.raft.wake(true);
      else continue;
      this.dirty.add(r);
    }
  }

  /** A peer's node came back (or restarted): wake what depends on it. */
  private livenessChanged(peer: NodeId, change: LivenessChange): void {
    if (change === null) return;
    for (const r of this.shared.get(peer) ?? []) {
      if (!r.quiesced) continue;
      const st = r.status();
      // Leaders heartbeat it again (a restarted follower must learn who leads before it
      // campaigns); a follower whose leader restarted knows that leadership is gone.
      if (st.role === 'leader') r.raft.wake(false);
      else if (change === 'restarted' && st.leader === peer) r.raft.wake(true);
      else continue;
      this.dirty.add(r);
    }
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
      this.dirty.add(r);
      // A `leader` read on a follower replica goes to the leader it names, like any routed request.
      if (now !== null && now.kind === 'unavailable' && now.leaderHint !== null && now.leaderHint !== this.id && isReadOp(req.op) && consistencyOf(req.op) === 'leader') {
        this.coordinator.route(req, p, this.nowMs, now.leaderHint);
      } else if (now !== null) this.reply(req, now);
    }
  }

  /** What the node must now send: peer messages (already covered by durable state) and client replies. */
  drain(): Drained {
    if (this.messages.length === 0 && this.replies.length === 0) return NOTHING;
    const out = { messages: batchPerPeer(this.id, this.messages), replies: this.replies };
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
    if (this.dirty.size === 0) return;
    for (const r of this.dirty) r.pump();
    this.dirty.clear();
  }
}

/** The messages of one call, one PeerMessage per destination: a lone message as is, more as a batch (order kept). */
function batchPerPeer(self: NodeId, messages: readonly UnbatchedPeerMessage[]): PeerMessage[] {
  if (messages.length <= 1) return messages as PeerMessage[];
  const byPeer = new Map<NodeId, UnbatchedPeerMessage[]>();
  for (const m of messages) {
    const list = byPeer.get(m.to);
    if (list === undefined) byPeer.set(m.to, [m]);
    else list.push(m);
  }
  const out: PeerMessage[] = [];
  for (const [to, list] of byPeer) out.push(list.length === 1 ? list[0]! : { kind: 'batch', from: self, to, messages: list });
  return out;
}
