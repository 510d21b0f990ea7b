// The cluster fingerprint: what every node of one cluster must agree on (nodes, replication
// factor, partitions, protocol and storage format versions). The peer handshake compares it,
// and the data directory remembers it, so a node never joins, or starts from the data of, a
// different cluster.
import { createHash } from 'node:crypto';

export const PROTOCOL_VERSION = 1;
export const STORAGE_FORMAT_VERSION = 1;

export interface ClusterShape {
  readonly nodes: readonly string[];
  readonly replicationFactor: number;
  readonly partitions: number;
}

export function clusterFingerprint(c: ClusterShape): string {
  const canonical = JSON.stringify({ nodes: [...c.nodes].sort(), rf: c.replicationFactor, partitions: c.partitions, protocol: PROTOCOL_VERSION });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/** A readable account of a shape, for refusal messages. */
export function describeShape(c: ClusterShape): string {
  return `nodes [${[...c.nodes].sort().join(', ')}], replication_factor ${c.replicationFactor}, partitions ${c.partitions}, protocol ${PROTOCOL_VERSION}`;
}
