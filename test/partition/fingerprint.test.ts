import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, PartitionMap, compareFingerprints, fingerprintText, type ClusterFingerprint } from '../../core/partition/index.js';
import { nodeId } from '../../core/types.js';

const base: ClusterFingerprint = { protocolVersion: 1, nodes: [nodeId('a'), nodeId('b'), nodeId('c')], replicationFactor: 2, partitions: 64 };

describe('cluster fingerprint', () => {
  it('a map states its fingerprint', () => {
    const f = new PartitionMap({ nodes: base.nodes }).fingerprint();
    expect(f).toEqual({ ...base, protocolVersion: PROTOCOL_VERSION });
    expect(fingerprintText(f)).toBe(`v${PROTOCOL_VERSION}/rf2/p64/[a,b,c]`);
  });

  it('equal fingerprints compare the same', () => {
    expect(compareFingerprints(base, { ...base, nodes: [...base.nodes] })).toEqual({ kind: 'same' });
  });

  it('names the differing field', () => {
    const cases: Array<[Partial<ClusterFingerprint>, string, RegExp]> = [
      [{ protocolVersion: 2 }, 'protocolVersion', /protocol version differs: ours 1, peer's 2/],
      [{ replicationFactor: 3 }, 'replicationFactor', /cluster.replication_factor differs: ours 2, peer's 3/],
      [{ partitions: 8 }, 'partitions', /cluster.partitions differs: ours 64, peer's 8/],
      [{ nodes: [nodeId('a'), nodeId('b')] }, 'nodes', /peer lacks c/],
      [{ nodes: [nodeId('a'), nodeId('b'), nodeId('c'), nodeId('d')] }, 'nodes', /peer adds d/],
      [{ nodes: [nodeId('b'), nodeId('a'), nodeId('c')] }, 'nodes', /same nodes in a different order/],
    ];
    for (const [change, field, reason] of cases) {
      const r = compareFingerprints(base, { ...base, ...change });
      expect(r.kind).toBe('different');
      if (r.kind === 'different') {
        expect(r.field).toBe(field);
        expect(r.reason).toMatch(reason);
      }
    }
  });

  it('reports the first differing field in a fixed order (version, nodes, RF, partitions)', () => {
    const r = compareFingerprints(base, { ...base, partitions: 8, replicationFactor: 3 });
    expect(r.kind === 'different' && r.field).toBe('replicationFactor');
  });
});
