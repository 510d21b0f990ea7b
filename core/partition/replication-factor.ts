// How many replicas each partition has. The default follows the cluster size: one node holds
// everything; two or three nodes keep two copies (so one node may be lost without losing data,
// though with RF 2 a partition needs BOTH replicas for a quorum: see docs/partitioning.md);
// four or more keep three copies (a quorum of two survives one loss).
import { PartitionConfigError } from './errors.js';

export function defaultReplicationFactor(nodeCount: number): number {
  if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new PartitionConfigError('cluster.nodes', `a cluster needs at least one node, got ${nodeCount}`);
  if (nodeCount === 1) return 1;
  if (nodeCount <= 3) return 2;
  return 3;
}

/** The replication factor in force: the override when given (checked), else the default for the size. */
export function resolveReplicationFactor(nodeCount: number, override?: number): number {
  const byDefault = defaultReplicationFactor(nodeCount);
  if (override === undefined) return byDefault;
  if (!Number.isInteger(override) || override < 1) {
    throw new PartitionConfigError('cluster.replication_factor', `cluster.replication_factor must be a positive integer, got ${override}`);
  }
  if (override > nodeCount) {
    throw new PartitionConfigError(
      'cluster.replication_factor',
      `cluster.replication_factor is ${override} but cluster.nodes lists only ${nodeCount} node${nodeCount === 1 ? '' : 's'}: a partition cannot have more replicas than there are nodes`,
    );
  }
  return override;
}
