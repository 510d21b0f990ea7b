// Which replica a coordinator tries next for a partition: the leader it last heard of, else
// the partition's preferred leader, then round the replica set. Leader hints from refusals
// move the cache; nothing here is replicated, a wrong guess costs one more attempt.
import type { PartitionMap } from '../partition/index.js';
import type { NodeId, PartitionId } from '../types.js';

export class LeaderCache {
  private readonly known = new Map<PartitionId, NodeId>();

  constructor(private readonly map: PartitionMap) {}

  /** The replica to try first. */
  first(p: PartitionId): NodeId {
    return this.known.get(p) ?? this.map.preferredLeader(p);
  }

  /** After `tried` failed: a hint naming another replica wins, else the next replica in order. */
  next(p: PartitionId, tried: NodeId, hint: NodeId | null): NodeId {
    const replicas = this.map.replicasOf(p);
    if (hint !== null && hint !== tried && replicas.includes(hint)) return hint;
    const i = replicas.indexOf(tried);
    return replicas[(i + 1) % replicas.length]!;
  }

  /** A replica answered as, or named, the leader. */
  learn(p: PartitionId, leader: NodeId | null): void {
    if (leader === null || !this.map.isReplica(leader, p)) return;
    this.known.set(p, leader);
  }

  forget(p: PartitionId, node: NodeId): void {
    if (this.known.get(p) === node) this.known.delete(p);
  }
}
