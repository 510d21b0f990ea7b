// Node operations: stepdown to a chosen successor, drain (a draining node ends up holding no
// leadership, and writes keep succeeding), activate, and the drain's liveness rule: a draining
// replica does not campaign while another could win, but still does when only it can.
import { describe, expect, it } from 'vitest';
import { PASSIVE_EXTRA_ELECTIONS } from '../../core/raft/raft.js';
import { nodeId, partitionId, type NodeId, type PartitionId } from '../../core/types.js';
import { TestCluster } from './harness.js';

const ELECTION_MS = 10 * 10; // harness: tickMs 10, electionTicks 10

function leaderships(c: TestCluster, id: NodeId): PartitionId[] {
  return c.node(id).drainProgress().leaderships.slice();
}

describe('stepDown', () => {
  it('moves a partition to the named successor', () => {
    const c = TestCluster.of(3, 4, 3);
    c.settle();
    const p = partitionId(1);
    const leader = c.leaderOf(p)!;
    const to = c.ids.find((n) => n !== leader)!;
    const r = c.node(leader).stepDown(1, to);
    expect(r).toEqual({ kind: 'ok', partition: p, to });
    c.run(ELECTION_MS);
    expect(c.leaderOf(p)).toBe(to);
    expect(c.call(to, 1, { f: 'write', key: 'k', value: 1 }).kind).toBe('ok');
  });

  it('without a successor picks another replica; refuses bad input and non-leaders with a hint', () => {
    const c = TestCluster.of(3, 2, 3);
    c.settle();
    const p = partitionId(0);
    const leader = c.leaderOf(p)!;
    const follower = c.ids.find((n) => n !== leader)!;
    expect(c.node(follower).stepDown(0)).toMatchObject({ kind: 'not-leader', leaderHint: leader });
    expect(c.node(leader).stepDown(7)).toMatchObject({ kind: 'invalid' });
    expect(c.node(leader).stepDown(0.5)).toMatchObject({ kind: 'invalid' });
    expect(c.node(leader).stepDown(0, nodeId('n9'))).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('n9 is not a replica') });
    expect(c.node(leader).stepDown(0, leader)).toMatchObject({ kind: 'invalid' });
    const r = c.node(leader).stepDown(0);
    expect(r.kind).toBe('ok');
    c.run(ELECTION_MS);
    expect(c.leaderOf(p)).not.toBe(leader);
    expect(c.leaderOf(p)).toBe(r.kind === 'ok' ? r.to : null);
  });

  it('a single-replica partition has nobody to step down to', () => {
    const c = TestCluster.of(1, 1, 1);
    c.settle();
    expect(c.node(nodeId('n1')).stepDown(0)).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('no other replica') });
  });
});

describe('drain', () => {
  it('a drained node holds no leadership within a bound, writes keep succeeding, activate lets it lead again', () => {
    const c = TestCluster.of(3, 8, 3);
    c.settle();
    // The node that leads the most partitions.
    const n = c.ids.reduce((a, b) => (leaderships(c, a).length >= leaderships(c, b).length ? a : b));
    expect(leaderships(c, n).length).toBeGreaterThan(0);
    c.node(n).startDraining();
    expect(c.node(n).state).toBe('draining');
    let clientSeq = 0;
    const other = c.ids.find((x) => x !== n)!;
    for (let t = 0; t < 3000 && leaderships(c, n).length > 0; t += 50) {
      c.run(50);
      // Writes through the draining node and another, to every partition over time.
      const r = c.call(t % 100 === 0 ? n : other, 1, { f: 'write', key: `k${clientSeq++}`, value: t });
      if (r.kind !== 'ok') expect(r.kind).toBe('unavailable'); // retryable while a transfer pauses writes
    }
    expect(leaderships(c, n)).toEqual([]);
    expect(c.node(n).drainProgress()).toEqual({ state: 'draining', leaderships: [], handoffs: 0 });
    // Stays drained: many election timeouts later it still leads nothing, and writes succeed.
    c.run(20 * ELECTION_MS);
    expect(leaderships(c, n)).toEqual([]);
    for (let i = 0; i < 8; i++) expect(c.call(n, 2, { f: 'write', key: `after${i}`, value: i }).kind).toBe('ok');
    c.node(n).activate();
    expect(c.node(n).state).toBe('active');
    const p = c.node(n).map.partitionsOf(n)[0]!;
    const leader = c.leaderOf(p)!;
    expect(c.node(leader).stepDown(p, n).kind).toBe('ok');
    c.run(ELECTION_MS);
    expect(c.leaderOf(p)).toBe(n);
  });

  it('a draining node still votes: draining a minority never stops a partition from electing', () => {
    const c = TestCluster.of(3, 4, 3);
    c.settle();
    const drained = nodeId('n1');
    c.node(drained).startDraining();
    c.run(10 * ELECTION_MS);
    expect(leaderships(c, drained)).toEqual([]);
    // Kill (isolate) the leader of partition 0: the remaining active node needs the drained one's vote.
    const leader = c.leaderOf(partitionId(0))!;
    c.isolate(leader);
    const survivor = c.ids.find((x) => x !== leader && x !== drained)!;
    c.run(4 * ELECTION_MS);
    expect(c.node(survivor).status(partitionId(0)).role).toBe('leader');
    expect(leaderships(c, drained)).toEqual([]);
  });

  it('a draining node campaigns when only it can win, then hands the leadership off once another has caught up', () => {
    const c = TestCluster.of(3, 1, 3);
    c.settle();
    const p = partitionId(0);
    const [a, b] = c.ids.filter((x) => x !== c.leaderOf(p));
    const leader = c.leaderOf(p)!;
    // a drains; b is cut off and falls behind while leader and a commit writes.
    c.node(a!).startDraining();
    c.isolate(b!);
    for (let i = 0; i < 5; i++) expect(c.call(leader, 1, { f: 'write', key: `x${i}`, value: i }).kind).toBe('ok');
    // The leader dies; b comes back. b's log is behind, so a refuses it its vote: only a can win.
    c.cut.clear();
    c.isolate(leader);
    let electedAtMs: number | null = null;
    const start = c.nowMs;
    for (let t = 0; t < (PASSIVE_EXTRA_ELECTIONS + 4) * ELECTION_MS && electedAtMs === null; t += 10) {
      c.run(10);
      if (c.node(a!).status(p).role === 'leader' || c.node(b!).status(p).role === 'leader') electedAtMs = c.nowMs;
    }
    expect(electedAtMs).not.toBeNull();
    // It waited out the extra silence first (an active replica that could win would have gone first).
    expect(electedAtMs! - start).toBeGreaterThanOrEqual(PASSIVE_EXTRA_ELECTIONS * ELECTION_MS);
    // The draining node's leadership is handed to b once b has caught up; the writes survive.
    c.run(10 * ELECTION_MS);
    expect(c.node(b!).status(p).role).toBe('leader');
    expect(leaderships(c, a!)).toEqual([]);
    expect(c.call(b!, 2, { f: 'read', key: 'x4' })).toMatchObject({ kind: 'ok', value: 4 });
  });
});

describe('preferred-leader balancing (balanceLeadersMs)', () => {
  it('moves every leadership to its preferred leader once that one has caught up, and skips a draining one', () => {
    const c = TestCluster.of(3, 6, 3, { balanceLeadersMs: 200 });
    c.settle();
    const map = c.node(nodeId('n1')).map;
    const n1 = nodeId('n1');
    // Take every leadership n1 should hold away from it, while it drains.
    c.node(n1).startDraining();
    c.run(20 * ELECTION_MS);
    expect(leaderships(c, n1)).toEqual([]);
    // Draining: balancing leaves n1's preferred partitions with the others (n1 refuses TimeoutNow).
    c.run(20 * ELECTION_MS);
    expect(leaderships(c, n1)).toEqual([]);
    expect(c.call(n1, 1, { f: 'write', key: 'during', value: 1 }).kind).toBe('ok');
    // Active again: within a few rounds every partition is led by its preferred leader.
    c.node(n1).activate();
    c.run(40 * ELECTION_MS);
    for (let p = 0; p < 6; p++) expect(c.leaderOf(partitionId(p))).toBe(map.preferredLeader(partitionId(p)));
    expect(leaderships(c, n1).length).toBe(map.preferredLeadershipsOf(n1).length);
  });
});
