// What a node keeps per peer: the heartbeats and heartbeat answers of all the groups the two
// share, held until the node's next heartbeat tick and sent as one CoalescedHeartbeats, and
// node-level liveness (when we last heard anything from the peer, and its incarnation).
// Liveness is what lets quiescent groups stay quiet: a follower of a quiescent group does not
// need its leader's heartbeats while it keeps hearing from the leader's node (docs/node.md).
import type { LogIndex, NodeId, PartitionId, Term } from '../types.js';
import type { CoalescedAck, CoalescedBeat, CoalescedHeartbeats } from './types.js';

interface Link {
  readonly peer: NodeId;
  /** Per partition, the newest heartbeat / answer not yet sent (a newer one replaces an older). */
  readonly beats: Map<PartitionId, CoalescedBeat>;
  readonly acks: Map<PartitionId, CoalescedAck>;
  /** The node tick at which we last heard anything from the peer; -1: never. */
  heardAtTick: number;
  /** The node tick of the last CoalescedHeartbeats sent to the peer; -1: never. */
  sentAtTick: number;
  live: boolean;
  epoch: number | null;
}

/** A change in what we know of a peer's node. */
export type LivenessChange = 'live' | 'restarted' | null;

export class PeerLinks {
  private readonly links = new Map<NodeId, Link>();
  private ticks = 0;

  constructor(
    private readonly self: NodeId,
    /** The peers that share at least one group with this node, in cluster order. */
    peers: readonly NodeId[],
    /** This incarnation's epoch, carried in every CoalescedHeartbeats. */
    private readonly epoch: number,
    /** Silence for this many node ticks makes a peer's node dead (an election timeout). */
    private readonly deadAfterTicks: number,
    /**
     * An empty CoalescedHeartbeats (nothing but liveness) goes at most this often; one carrying
     * beats or acks goes at every flush. A third of deadAfterTicks: two may be lost in a row.
     */
    private readonly livenessEveryTicks: number,
  ) {
    for (const p of peers) this.links.set(p, { peer: p, beats: new Map(), acks: new Map(), heardAtTick: -1, sentAtTick: -1, live: false, epoch: null });
  }

  /** Whether we heard from `peer`'s node within the last election timeout. */
  isLive(peer: NodeId): boolean {
    return this.links.get(peer)?.live === true;
  }

  holdBeat(to: NodeId, partition: PartitionId, term: Term, commit: LogIndex, quiesce: boolean): boolean {
    const l = this.links.get(to);
    if (l === undefined) return false;
    l.beats.set(partition, [partition, term, commit, quiesce]);
    return true;
  }

  holdAck(to: NodeId, partition: PartitionId, term: Term, quiesced: boolean): boolean {
    const l = this.links.get(to);
    if (l === undefined) return false;
    l.acks.set(partition, [partition, term, quiesced]);
    return true;
  }

  /** Anything arrived from `from` (epoch: when it was a CoalescedHeartbeats). */
  heard(from: NodeId, epoch: number | null): LivenessChange {
    const l = this.links.get(from);
    if (l === undefined) return null;
    l.heardAtTick = this.ticks;
    let change: LivenessChange = null;
    if (epoch !== null) {
      if (l.epoch !== null && l.epoch !== epoch) change = 'restarted';
      l.epoch = epoch;
    }
    if (!l.live) {
      l.live = true;
      if (change === null) change = 'live';
    }
    return change;
  }

  /** One node tick. Returns the peers whose nodes just went silent for an election timeout. */
  tick(): NodeId[] | null {
    this.ticks++;
    let dead: NodeId[] | null = null;
    for (const l of this.links.values()) {
      if (l.live && this.ticks - l.heardAtTick >= this.deadAfterTicks) {
        l.live = false;
        (dead ??= []).push(l.peer);
      }
    }
    return dead;
  }

  /**
   * The CoalescedHeartbeats due: every peer with beats or acks waiting, and every peer that has
   * had none for livenessEveryTicks (empty, they are the liveness signal).
   */
  flush(): CoalescedHeartbeats[] {
    const out: CoalescedHeartbeats[] = [];
    for (const l of this.links.values()) {
      if (l.beats.size === 0 && l.acks.size === 0 && l.sentAtTick >= 0 && this.ticks - l.sentAtTick < this.livenessEveryTicks) continue;
      l.sentAtTick = this.ticks;
      out.push({ kind: 'heartbeats', from: this.self, to: l.peer, epoch: this.epoch, beats: [...l.beats.values()], acks: [...l.acks.values()] });
      l.beats.clear();
      l.acks.clear();
    }
    return out;
  }
}
