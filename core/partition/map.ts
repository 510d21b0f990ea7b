// The partition map: which partition holds a key or record, which nodes replicate each
// partition, and which of them should lead it. A pure function of (nodes, replication factor,
// partition count): every node computes the same map, and nothing about it is stored.
import { partitionId, type NodeId, type PartitionId } from '../types.js';
import { PartitionConfigError } from './errors.js';
import { PROTOCOL_VERSION, type ClusterFingerprint } from './fingerprint.js';
import { stableHashString, stableHashU64 } from './hash.js';
import { assignPreferredLeaders } from './leaders.js';
import { boundedReplicaSets } from './rendezvous.js';
import { resolveReplicationFactor } from './replication-factor.js';

export const DEFAULT_PARTITIONS = 64;
/** Partition ids fit comfortably in any message field; more would only cost memory. */
export const MAX_PARTITIONS = 65_536;

export interface PartitionMapConfig {
  readonly nodes: readonly NodeId[];
  /** Default 64. */
  readonly partitions?: number;
  /** Default from the cluster size (1→1, 2–3→2, 4+→3). */
  readonly replicationFactor?: number;
}

export function partitionOfKey(key: string, partitions: number): PartitionId {
  return partitionId(stableHashString(key) % partitions);
}

export function partitionOfRecord(record: bigint, partitions: number): PartitionId {
  return partitionId(stableHashU64(record) % partitions);
}

export class PartitionMap {
  readonly nodes: readonly NodeId[];
  readonly partitions: number;
  readonly replicationFactor: number;
  private readonly replicas: readonly (readonly NodeId[])[];
  private readonly leaders: readonly NodeId[];
  private readonly hosted = new Map<NodeId, readonly PartitionId[]>();

  constructor(config: PartitionMapConfig) {
    const nodes = config.nodes;
    if (nodes.length === 0) throw new PartitionConfigError('cluster.nodes', 'cluster.nodes is empty: a cluster needs at least one node');
    const seen = new Set<NodeId>();
    for (const n of nodes) {
      if (n.length === 0) throw new PartitionConfigError('cluster.nodes', 'cluster.nodes holds an empty node address');
      if (seen.has(n)) throw new PartitionConfigError('cluster.nodes', `cluster.nodes lists ${n} twice`);
      seen.add(n);
    }
    const partitions = config.partitions ?? DEFAULT_PARTITIONS;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new PartitionConfigError('cluster.partitions', `cluster.partitions must be an integer in 1..${MAX_PARTITIONS}, got ${partitions}`);
    }
    this.nodes = [...nodes];
    this.partitions = partitions;
    this.replicationFactor = resolveReplicationFactor(nodes.length, config.replicationFactor);
    const sets = boundedReplicaSets(this.nodes, partitions, this.replicationFactor);
    this.leaders = assignPreferredLeaders(this.nodes, sets);
    // Replica lists name the preferred leader first, then the rest in rendezvous rank.
    this.replicas = sets.map((s, p) => {
      const lead = this.leaders[p]!;
      return [lead, ...s.filter((n) => n !== lead)];
    });
    for (const n of this.nodes) this.hosted.set(n, []);
    this.replicas.forEach((s, p) => {
      for (const n of s) (this.hosted.get(n) as PartitionId[]).push(partitionId(p));
    });
  }

  partitionOfKey(key: string): PartitionId {
    return partitionOfKey(key, this.partitions);
  }

  partitionOfRecord(record: bigint): PartitionId {
    return partitionOfRecord(record, this.partitions);
  }

  /** The replicas of `p`, preferred leader first. */
  replicasOf(p: PartitionId): readonly NodeId[] {
    const r = this.replicas[p];
    if (r === undefined) throw new RangeError(`no partition ${p} (the cluster has ${this.partitions})`);
    return r;
  }

  preferredLeader(p: PartitionId): NodeId {
    return this.replicasOf(p)[0]!;
  }

  isReplica(node: NodeId, p: PartitionId): boolean {
    return this.replicasOf(p).includes(node);
  }

  /** The partitions `node` replicates, ascending. Empty for a node outside the cluster. */
  partitionsOf(node: NodeId): readonly PartitionId[] {
    return this.hosted.get(node) ?? [];
  }

  /** The partitions `node` should lead when healthy, ascending. */
  preferredLeadershipsOf(node: NodeId): PartitionId[] {
    const out: PartitionId[] = [];
    this.leaders.forEach((n, p) => {
      if (n === node) out.push(partitionId(p));
    });
    return out;
  }

  fingerprint(): ClusterFingerprint {
    return { protocolVersion: PROTOCOL_VERSION, nodes: this.nodes, replicationFactor: this.replicationFactor, partitions: this.partitions };
  }
}
