// What two nodes must agree on to be one cluster: the node list (in order: it is part of the
// placement), the replication factor, the partition count, and the protocol version (the wire
// format and the placement hash). Peers exchange it at handshake; a mismatch is refused with
// a reason naming the field.
import type { NodeId } from '../types.js';

/** Bumped whenever placement, the log command encoding or the peer messages change incompatibly. */
export const PROTOCOL_VERSION = 1;

export interface ClusterFingerprint {
  readonly protocolVersion: number;
  readonly nodes: readonly NodeId[];
  readonly replicationFactor: number;
  readonly partitions: number;
}

export type FingerprintField = 'protocolVersion' | 'nodes' | 'replicationFactor' | 'partitions';

export type FingerprintComparison =
  | { readonly kind: 'same' }
  | { readonly kind: 'different'; readonly field: FingerprintField; readonly reason: string };

/** Compare ours with a peer's; the first differing field (in the order above) is named. */
export function compareFingerprints(ours: ClusterFingerprint, theirs: ClusterFingerprint): FingerprintComparison {
  if (ours.protocolVersion !== theirs.protocolVersion) {
    return { kind: 'different', field: 'protocolVersion', reason: `protocol version differs: ours ${ours.protocolVersion}, peer's ${theirs.protocolVersion}` };
  }
  const a = ours.nodes;
  const b = theirs.nodes;
  if (a.length !== b.length || a.some((n, i) => n !== b[i])) {
    const missing = a.filter((n) => !b.includes(n));
    const extra = b.filter((n) => !a.includes(n));
    const detail =
      missing.length > 0 || extra.length > 0
        ? `${missing.length > 0 ? ` peer lacks ${missing.join(', ')};` : ''}${extra.length > 0 ? ` peer adds ${extra.join(', ')};` : ''}`
        : ' same nodes in a different order;';
    return { kind: 'different', field: 'nodes', reason: `cluster.nodes differs:${detail} ours [${a.join(', ')}], peer's [${b.join(', ')}]` };
  }
  if (ours.replicationFactor !== theirs.replicationFactor) {
    return { kind: 'different', field: 'replicationFactor', reason: `cluster.replication_factor differs: ours ${ours.replicationFactor}, peer's ${theirs.replicationFactor}` };
  }
  if (ours.partitions !== theirs.partitions) {
    return { kind: 'different', field: 'partitions', reason: `cluster.partitions differs: ours ${ours.partitions}, peer's ${theirs.partitions}` };
  }
  return { kind: 'same' };
}

/** A short printable digest of a fingerprint (for logs and status pages; the comparison uses the fields). */
export function fingerprintText(f: ClusterFingerprint): string {
  return `v${f.protocolVersion}/rf${f.replicationFactor}/p${f.partitions}/[${f.nodes.join(',')}]`;
}
