// Placement: the same inputs give the same map on every node; replicas and preferred
// leaderships spread over the nodes; the replication factor follows the cluster size.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PARTITIONS,
  PartitionConfigError,
  PartitionMap,
  defaultReplicationFactor,
  partitionOfKey,
  partitionOfRecord,
  replicaSet,
  resolveReplicationFactor,
  stableHashString,
} from '../../core/partition/index.js';
import { nodeId, partitionId, type NodeId } from '../../core/types.js';

const ids = (n: number, name = (i: number) => `n${i + 1}`): NodeId[] => Array.from({ length: n }, (_, i) => nodeId(name(i)));

function counts(m: PartitionMap): { replicas: number[]; leaders: number[] } {
  return {
    replicas: m.nodes.map((n) => m.partitionsOf(n).length),
    leaders: m.nodes.map((n) => m.preferredLeadershipsOf(n).length),
  };
}

describe('replication factor', () => {
  it('defaults by cluster size: 1 -> 1, 2-3 -> 2, 4+ -> 3', () => {
    expect([1, 2, 3, 4, 5, 7, 20].map(defaultReplicationFactor)).toEqual([1, 2, 2, 3, 3, 3, 3]);
  });

  it('takes an override up to the node count', () => {
    expect(resolveReplicationFactor(5, 5)).toBe(5);
    expect(resolveReplicationFactor(5, 1)).toBe(1);
    expect(new PartitionMap({ nodes: ids(3), replicationFactor: 3 }).replicationFactor).toBe(3);
  });

  it('refuses RF above the node count, naming the field', () => {
    let err: unknown;
    try {
      new PartitionMap({ nodes: ids(3), replicationFactor: 4 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PartitionConfigError);
    expect((err as PartitionConfigError).field).toBe('cluster.replication_factor');
    expect((err as Error).message).toMatch(/replication_factor is 4 but cluster.nodes lists only 3 nodes/);
    expect(() => resolveReplicationFactor(3, 0)).toThrow(/positive integer/);
    expect(() => resolveReplicationFactor(3, 2.5)).toThrow(/positive integer/);
  });

  it('refuses empty or duplicate node lists and bad partition counts', () => {
    expect(() => new PartitionMap({ nodes: [] })).toThrow(/at least one node/);
    expect(() => new PartitionMap({ nodes: [nodeId('a'), nodeId('a')] })).toThrow(/lists a twice/);
    expect(() => new PartitionMap({ nodes: ids(3), partitions: 0 })).toThrow(/cluster.partitions/);
    expect(() => new PartitionMap({ nodes: ids(3), partitions: 1.5 })).toThrow(/cluster.partitions/);
  });
});

describe('partition of a key or record', () => {
  it('is stable: fixed values pin the hash (changing it moves data and needs a protocol bump)', () => {
    // Golden values: if these change, stored data lands in other partitions.
    expect([stableHashString('a'), stableHashString('user:42'), stableHashString('é')]).toMatchInlineSnapshot(`
      [
        444641715,
        599759890,
        2387039943,
      ]
    `);
    expect(partitionOfRecord(1n, 64)).toBe(partitionOfRecord(1n, 64));
    expect([partitionOfKey('user:42', 64), partitionOfRecord(1n, 64), partitionOfRecord(0xffff_ffff_ffff_ffffn, 64)]).toMatchInlineSnapshot(`
      [
        18,
        36,
        23,
      ]
    `);
  });

  it('spreads sequential keys over partitions', () => {
    const hits = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) hits[partitionOfKey(`k${i}`, 64)]!++;
    expect(Math.min(...hits)).toBeGreaterThan(850);
    expect(Math.max(...hits)).toBeLessThan(1150);
    const rec = new Array<number>(64).fill(0);
    for (let i = 1; i <= 64_000; i++) rec[partitionOfRecord(BigInt(i), 64)]!++;
    expect(Math.min(...rec)).toBeGreaterThan(850);
    expect(Math.max(...rec)).toBeLessThan(1150);
  });

  it('refuses a record id outside 64 bits', () => {
    expect(() => partitionOfRecord(-1n, 64)).toThrow(RangeError);
    expect(() => partitionOfRecord(1n << 64n, 64)).toThrow(RangeError);
  });
});

describe('partition map', () => {
  it('defaults to 64 partitions', () => {
    expect(new PartitionMap({ nodes: ids(3) }).partitions).toBe(DEFAULT_PARTITIONS);
    expect(DEFAULT_PARTITIONS).toBe(64);
  });

  it('the same inputs give the same map (two independently built maps agree everywhere)', () => {
    const a = new PartitionMap({ nodes: ids(5), partitions: 64 });
    const b = new PartitionMap({ nodes: ids(5), partitions: 64 });
    for (let p = 0; p < 64; p++) expect(b.replicasOf(partitionId(p))).toEqual(a.replicasOf(partitionId(p)));
    // Pinned, so a change of placement is a visible, deliberate diff.
    expect([0, 1, 2, 3].map((p) => a.replicasOf(partitionId(p)).join(','))).toMatchInlineSnapshot(`
      [
        "n1,n5,n3",
        "n4,n3,n2",
        "n2,n4,n3",
        "n5,n1,n4",
      ]
    `);
  });

  it('every replica set has RF distinct nodes of the cluster, preferred leader first', () => {
    for (const n of [1, 2, 3, 4, 5, 7]) {
      const m = new PartitionMap({ nodes: ids(n), partitions: 64 });
      for (let p = 0; p < 64; p++) {
        const r = m.replicasOf(partitionId(p));
        expect(r.length).toBe(m.replicationFactor);
        expect(new Set(r).size).toBe(r.length);
        for (const x of r) expect(m.nodes).toContain(x);
        expect(m.preferredLeader(partitionId(p))).toBe(r[0]);
        for (const x of m.nodes) expect(m.isReplica(x, partitionId(p))).toBe(r.includes(x));
      }
    }
  });

  it('partitionsOf is the inverse of replicasOf', () => {
    const m = new PartitionMap({ nodes: ids(5), partitions: 64 });
    let total = 0;
    for (const n of m.nodes) {
      for (const p of m.partitionsOf(n)) expect(m.replicasOf(p)).toContain(n);
      total += m.partitionsOf(n).length;
    }
    expect(total).toBe(64 * 3);
    expect(m.partitionsOf(nodeId('stranger'))).toEqual([]);
    expect(() => m.replicasOf(partitionId(64))).toThrow(/no partition 64/);
  });

  it('replicas spread over the nodes at least 80% and at most 110% of the mean (64+ partitions, 3-9 nodes)', () => {
    for (const n of [3, 4, 5, 6, 7, 9]) {
      for (const parts of [64, 256]) {
        for (const naming of [(i: number) => `n${i + 1}`, (i: number) => `127.0.0.1:${7100 + i}`]) {
          const m = new PartitionMap({ nodes: ids(n, naming), partitions: parts });
          const mean = (parts * m.replicationFactor) / n;
          const { replicas } = counts(m);
          expect(Math.min(...replicas), `${n} nodes, ${parts} partitions: ${replicas}`).toBeGreaterThanOrEqual(Math.floor(mean * 0.8));
          expect(Math.max(...replicas), `${n} nodes, ${parts} partitions: ${replicas}`).toBeLessThanOrEqual(Math.ceil(mean * 1.1));
        }
      }
    }
  });

  it('preferred leaderships spread evenly: every node leads floor(P/N) or ceil(P/N)', () => {
    for (const n of [2, 3, 4, 5, 6, 7, 9]) {
      for (const parts of [8, 64, 256]) {
        const m = new PartitionMap({ nodes: ids(n), partitions: parts });
        const { leaders } = counts(m);
        expect(leaders.reduce((a, b) => a + b, 0)).toBe(parts);
        expect(Math.max(...leaders), `${n} nodes, ${parts}: ${leaders}`).toBeLessThanOrEqual(Math.ceil(parts / n));
        expect(Math.min(...leaders), `${n} nodes, ${parts}: ${leaders}`).toBeGreaterThanOrEqual(Math.floor(parts / n));
      }
    }
    // The common shapes are exact: 5 x 64 gives 12 or 13 each.
    const { leaders } = counts(new PartitionMap({ nodes: ids(5), partitions: 64 }));
    for (const l of leaders) expect([12, 13]).toContain(l);
  });

  it('with RF = N every node replicates every partition', () => {
    const m = new PartitionMap({ nodes: ids(5), partitions: 16, replicationFactor: 5 });
    for (const n of m.nodes) expect(m.partitionsOf(n).length).toBe(16);
  });

  it('plain rendezvous: adding a node moves only the partitions whose replica set it joins', () => {
    const before = ids(5);
    const after = ids(6);
    let moved = 0;
    for (let p = 0; p < 256; p++) {
      const a = replicaSet(before, partitionId(p), 3);
      const b = replicaSet(after, partitionId(p), 3);
      const lost = a.filter((x) => !b.includes(x));
      if (b.includes(nodeId('n6'))) {
        expect(lost.length).toBe(1);
        moved++;
      } else expect(b).toEqual(a);
    }
    // The new node takes about RF/N of the partitions.
    expect(moved).toBeGreaterThan(256 * 0.35);
    expect(moved).toBeLessThan(256 * 0.65);
  });

  it('the bounded map stays close to plain rendezvous (most partitions keep their top-RF set)', () => {
    const nodes = ids(5);
    const m = new PartitionMap({ nodes, partitions: 256 });
    let same = 0;
    for (let p = 0; p < 256; p++) {
      const plain = replicaSet(nodes, partitionId(p), 3);
      if ([...m.replicasOf(partitionId(p))].sort().join() === [...plain].sort().join()) same++;
    }
    expect(same).toBeGreaterThan(256 * 0.8);
  });
});
