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
import type { DrainProgress, NodeState, StepDownResult } from './types.js';

/** The node cannot start from its storage (damage it cannot repair); it must stay down. */
export class NodeStartError extends Error {
  override readonly name = 'NodeStartError';
}

/** Most leadership transfers a drain keeps under way at once (each pauses its partition's writes briefly). */
const DRAIN_HANDOFFS_IN_FLIGHT_MAX = 8;
/** After every replica of a partition refused a drain's handoff, wait this many election timeouts before the next round. */
const DRAIN_ROUND_BACKOFF_ELECTIONS = 10;

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
  /** Node operations (drain / activate); not persisted, so a restart comes back active. */
  private opState: NodeState = 'active';
  /** The drain's transfers under way: partition -> (target, local time started). */
  private readonly handoffs = new Map<PartitionId, { readonly to: NodeId; readonly sinceMs: number }>();
  /** Preferred-leader balancing: when the next round is due, and when each partition was last handed over by it. */
  private nextBalanceMs: number | null = null;
  private readonly balanced = new Map<PartitionId, number>();
  /** Per partition: targets that did not take over in this round, and when the next round may start. */
  private readonly refused = new Map<PartitionId, { readonly nodes: NodeId[]; retryAtMs: number }>();

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
    if (this.opState === 'draining') this.driveDrain(nowMs);
    else if (this.config.balanceLeadersMs !== undefined) this.balanceLeaders(nowMs, this.config.balanceLeadersMs);
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

  // ------------------------------------------------------------ node operations (docs/operations.md)

  get state(): NodeState {
    return this.opState;
  }

  /**
   * Hand this node's leadership of `partition` to `to` (a replica of it), or, without `to`, to
   * the most caught-up other replica (the preferred leader among equals). `ok` means the
   * transfer started: the successor takes over within an election timeout once it holds the
   * leader's log, or the transfer is abandoned and this node leads on (writes pause meanwhile).
   */
  stepDown(partition: number, to?: NodeId): StepDownResult {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.config.partitions) {
      return { kind: 'invalid', reason: `partition must be an integer in 0..${this.config.partitions - 1}, got ${partition}` };
    }
    const p = partition as PartitionId;
    const replicas = this.map.replicasOf(p);
    if (to !== undefined && !replicas.includes(to)) return { kind: 'invalid', reason: `${to} is not a replica of partition ${p} (its replicas: ${replicas.join(', ')})` };
    const r = this.replicas.get(p);
    if (r === undefined) return { kind: 'not-leader', partition: p, leaderHint: null, reason: `${this.id} is not a replica of partition ${p}` };
    const st = r.status();
    if (st.role !== 'leader') return { kind: 'not-leader', partition: p, leaderHint: st.leader, reason: `${this.id} does not lead partition ${p}` };
    if (to === this.id) return { kind: 'invalid', reason: `${to} already leads partition ${p}; name another replica` };
    const target = to ?? this.successorOf(p, []);
    if (target === null) return { kind: 'invalid', reason: `partition ${p} has no other replica to lead it` };
    r.raft.transferLeader(target);
    this.pump();
    return { kind: 'ok', partition: p, to: target };
  }

  /**
   * Start draining: give away every leadership (at most DRAIN_HANDOFFS_IN_FLIGHT_MAX transfers
   * at once) and stop campaigning while another replica could win. Still votes and replicates.
   * A draining replica campaigns after a long silence (raft PASSIVE_EXTRA_ELECTIONS), so a drain
   * never leaves a partition leaderless; a leadership won so is handed off again. (Named so
   * because drain() already hands the driver its output.)
   */
  startDraining(): void {
    if (this.opState === 'draining') return;
    this.opState = 'draining';
    for (const r of this.replicas.values()) r.raft.setPassive(true);
    this.driveDrain(this.nowMs);
    this.pump();
  }

  /** Back to active: campaigns and leads as usual again (leaderships come back through elections, stepdowns or balancing). */
  activate(): void {
    if (this.opState === 'active') return;
    this.opState = 'active';
    this.handoffs.clear();
    this.refused.clear();
    for (const r of this.replicas.values()) r.raft.setPassive(false);
  }

  drainProgress(): DrainProgress {
    const leaderships: PartitionId[] = [];
    for (const [p, r] of this.replicas) if (r.status().role === 'leader') leaderships.push(p);
    return { state: this.opState, leaderships, handoffs: this.handoffs.size };
  }

  /** The other replica of p with the highest match index; the preferred leader among equals, then map order. */
  private successorOf(p: PartitionId, exclude: readonly NodeId[]): NodeId | null {
    const g = this.mustReplica(p).raft;
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const n of this.map.replicasOf(p)) {
      // replicasOf lists the preferred leader first: ties keep it.
      if (n === this.id || exclude.includes(n)) continue;
      const m = g.matchOf(n) ?? 0;
      if (m > bestMatch) {
        best = n;
        bestMatch = m;
      }
    }
    return best;
  }

  /**
   * Preferred-leader balancing (NodeConfig.balanceLeadersMs): hand each partition led here to
   * its preferred leader once that one holds the whole log. Bounded: at most
   * DRAIN_HANDOFFS_IN_FLIGHT_MAX transfers a round, and a partition handed over (or refused:
   * the preferred one drains or is cut off) is left alone for 5 rounds.
   */
  private balanceLeaders(nowMs: number, everyMs: number): void {
    if (this.nextBalanceMs === null) this.nextBalanceMs = nowMs + everyMs;
    if (nowMs < this.nextBalanceMs) return;
    this.nextBalanceMs = nowMs + everyMs;
    let started = 0;
    for (const [p, r] of this.replicas) {
      if (started >= DRAIN_HANDOFFS_IN_FLIGHT_MAX) break;
      const preferred = this.map.preferredLeader(p);
      if (preferred === this.id) continue;
      const st = r.status();
      if (st.role !== 'leader' || r.raft.transferee() !== null) continue;
      const last = this.balanced.get(p);
      if (last !== undefined && nowMs - last < 5 * everyMs) continue;
      if (r.raft.matchOf(preferred) !== st.lastIndex) continue;
      r.raft.transferLeader(preferred);
      this.balanced.set(p, nowMs);
      started++;
    }
  }

  /** One step of the drain: notice finished or abandoned handoffs, start new ones within the bound. */
  private driveDrain(nowMs: number): void {
    const electionMs = this.config.tickMs * this.config.electionTicks;
    for (const [p, r] of this.replicas) {
      if (r.status().role !== 'leader') {
        this.handoffs.delete(p);
        this.refused.delete(p);
        continue;
      }
      const h = this.handoffs.get(p);
      if (h !== undefined) {
        // Raft abandons a transfer after an election timeout; the bound here is a backstop.
        if (r.raft.transferee() === h.to && nowMs - h.sinceMs < 2 * electionMs) continue;
        this.handoffs.delete(p);
        const ref = this.refused.get(p) ?? { nodes: [], retryAtMs: 0 };
        ref.nodes.push(h.to);
        this.refused.set(p, ref);
      }
      if (this.handoffs.size >= DRAIN_HANDOFFS_IN_FLIGHT_MAX) continue;
      const ref = this.refused.get(p);
      if (ref !== undefined && nowMs < ref.retryAtMs) continue;
      const target = this.successorOf(p, ref?.nodes ?? []);
      if (target === null && ref !== undefined && ref.nodes.length > 0) {
        // Every other replica refused (draining too, or unreachable): lead on, try again later.
        ref.nodes.length = 0;
        ref.retryAtMs = nowMs + DRAIN_ROUND_BACKOFF_ELECTIONS * electionMs;
        continue;
      }
      if (target === null) continue; // a single replica: nobody to hand to
      r.raft.transferLeader(target);
      this.handoffs.set(p, { to: target, sinceMs: nowMs });
    }
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
