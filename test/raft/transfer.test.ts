// Stories about leadership transfer: the leader stops taking proposals, catches the target
// up, and tells it to campaign at once; it gives up after an election timeout.
import { describe, expect, it } from 'vitest';
import { Cluster, enc } from './harness.js';
import { nodeId } from '../../core/types.js';

describe('leader transfer', () => {
  it('catches a lagging target up, then hands over with timeout-now', () => {
    const c = new Cluster(3);
    c.elect('n1');
    c.run(1);
    const term = c.raft('n1').status().term;
    // n3 misses some entries.
    for (let i = 0; i < 5; i++) c.raft('n1').propose(enc(`v${i}`));
    c.process();
    c.drop((m) => m.to === 'n3');
    c.deliverAll();
    expect(c.raft('n3').status().lastIndex).toBeLessThan(c.raft('n1').status().lastIndex);

    c.raft('n1').transferLeader(nodeId('n3'));
    expect(c.raft('n1').propose(enc('during'))).toEqual({ kind: 'dropped', reason: 'transferring' });
    // The leader first catches n3 up; only then does it send timeout-now.
    expect(c.queue.some((m) => m.type === 'timeout-now')).toBe(false);
    let timeoutNow = 0;
    c.deliverAll((m) => {
      if (m.type === 'timeout-now') timeoutNow++;
      return true;
    });
    expect(timeoutNow).toBe(1);
    expect(c.leader()).toBe('n3');
    expect(c.raft('n3').status().term).toBe(term + 1);
    expect(c.raft('n1').status()).toMatchObject({ role: 'follower', leader: 'n3' });
    c.run(2);
    expect(c.node('n1').applied.map((a) => a.data).filter((d) => d !== '')).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(c.violations).toEqual([]);
  });

  it('the target campaigns even when followers are in a leader lease (transfer skips pre-vote and the lease)', () => {
    const c = new Cluster(3, { preVote: true, checkQuorum: true });
    c.elect('n1');
    c.run(1);
    c.raft('n1').transferLeader(nodeId('n2'));
    c.deliverAll();
    expect(c.leader()).toBe('n2');
  });

  it('aborts after an election timeout when the target does not take over', () => {
    const c = new Cluster(3, { electionTicks: 10 });
    c.elect('n1');
    c.run(1);
    c.isolate('n3');
    c.raft('n1').transferLeader(nodeId('n3'));
    expect(c.raft('n1').propose(enc('x')).kind).toBe('dropped');
    c.tick(['n1', 'n2'], 10);
    c.deliverAll();
    expect(c.raft('n1').status().role).toBe('leader');
    expect(c.raft('n1').propose(enc('y')).kind).toBe('proposed');
  });

  it('ignores a transfer to itself or from a non-leader; refuses a non-voter', () => {
    const c = new Cluster(3);
    c.elect('n1');
    c.raft('n1').transferLeader(nodeId('n1'));
    c.raft('n2').transferLeader(nodeId('n3'));
    expect(c.raft('n1').propose(enc('still-leader')).kind).toBe('proposed');
    expect(() => c.raft('n1').transferLeader(nodeId('n9'))).toThrow(/not a voter/);
  });
});
