// Stories about linearizable reads with ReadIndex (Raft thesis §6.4): the leader confirms it
// is still leader with a heartbeat round before answering, a new leader waits for its first
// commit, followers forward reads, and a deposed leader never answers — unless the planted
// bug stale-read skips the confirmation.
import { describe, expect, it } from 'vitest';
import { Cluster, enc } from './harness.js';

describe('ReadIndex', () => {
  it('a leader answers once a quorum has acknowledged a heartbeat sent after the request', () => {
    const c = new Cluster(3);
    c.elect('n1');
    c.raft('n1').propose(enc('x'));
    c.deliverAll();
    c.run(1);
    const commit = c.raft('n1').status().commit;
    c.read('n1', 'r1');
    // Not yet: the heartbeat round is in flight.
    expect(c.node('n1').readStates).toEqual([]);
    const hbs = c.queue.filter((m) => m.type === 'heartbeat' && m.context !== null);
    expect(hbs.length).toBe(2);
    // One follower's answer (plus the leader itself) is a quorum of three.
    c.deliverAll((m) => m.to === 'n2' || m.from === 'n2');
    expect(c.node('n1').readStates).toEqual([{ index: commit, context: 'r1' }]);
    expect(c.violations).toEqual([]);
  });

  it('a single-node group answers at once', () => {
    const c = new Cluster(1);
    c.tick(['n1'], 20);
    c.read('n1', 'solo');
    expect(c.node('n1').readStates).toEqual([{ index: 1, context: 'solo' }]);
  });

  it('a new leader waits until it has committed an entry of its term', () => {
    const c = new Cluster(3);
    while (c.raft('n1').status().role !== 'pre-candidate') c.tick(['n1']);
    c.deliverAll((m) => m.type === 'vote' || m.type === 'vote-response');
    expect(c.raft('n1').status().role).toBe('leader');
    // The noop is not committed yet: the read is queued.
    c.read('n1', 'early');
    c.deliverAll((m) => m.type === 'heartbeat' || m.type === 'heartbeat-response');
    expect(c.node('n1').readStates).toEqual([]);
    // Once the noop commits, the read goes through a heartbeat round and is answered at or
    // after the noop's index.
    c.deliverAll();
    expect(c.node('n1').readStates.map((r) => r.context)).toEqual(['early']);
    expect(c.node('n1').readStates[0]!.index).toBeGreaterThanOrEqual(1);
  });

  it('a follower forwards the read to the leader and gets the read index back', () => {
    const c = new Cluster(3);
    c.elect('n1');
    c.raft('n1').propose(enc('a'));
    c.deliverAll();
    c.run(1);
    c.read('n3', 'via-n3');
    expect(c.queue.some((m) => m.type === 'read-index' && m.from === 'n3' && m.to === 'n1')).toBe(true);
    c.deliverAll();
    expect(c.node('n3').readStates).toEqual([{ index: 2, context: 'via-n3' }]);
    expect(c.node('n1').readStates).toEqual([]);
    // Without a leader, a follower drops the read (the client retries).
    const lonely = new Cluster(3);
    lonely.read('n2', 'nobody');
    expect(lonely.queue).toEqual([]);
  });

  it('reads queued behind one heartbeat round are all answered, in order', () => {
    const c = new Cluster(5);
    c.elect('n1');
    c.run(1);
    c.read('n1', 'a');
    c.read('n1', 'b');
    c.read('n4', 'c');
    c.deliverAll();
    expect(c.node('n1').readStates.map((r) => r.context)).toEqual(['a', 'b']);
    expect(c.node('n4').readStates.map((r) => r.context)).toEqual(['c']);
  });

  /** n1 leads; it is cut off with n2 while n3-n5 elect n3 and commit a write. */
  function partitionedOldLeader(bugs: ('stale-read')[] = []): Cluster {
    const c = new Cluster(5, { electionTicks: 10, bugs });
    c.elect('n1');
    c.raft('n1').propose(enc('v1'));
    c.deliverAll();
    c.run(1);
    c.partition(['n1', 'n2'], ['n3', 'n4', 'n5']);
    // Only the majority side's clocks run, so n1 has not yet noticed (check-quorum).
    for (let i = 0; i < 40 && c.leader() === 'n1'; i++) {
      c.tick(['n3', 'n4', 'n5']);
      c.deliverAll();
    }
    const l = c.raft('n3').status().role === 'leader' ? 'n3' : c.ids.find((id) => c.raft(id).status().role === 'leader' && id !== 'n1')!;
    expect(['n3', 'n4', 'n5']).toContain(l);
    c.raft(l).propose(enc('v2'));
    c.deliverAll();
    c.run(0);
    expect(c.raft('n1').status().role).toBe('leader');
    return c;
  }

  it('a partitioned old leader cannot commit, never answers a read, and steps down via check-quorum', () => {
    const c = partitionedOldLeader();
    const r = c.raft('n1').propose(enc('lost'));
    expect(r.kind).toBe('proposed');
    c.read('n1', 'stale?');
    let ticks = 0;
    while (c.raft('n1').status().role === 'leader') {
      c.tick(['n1', 'n2']);
      c.deliverAll();
      ticks++;
    }
    expect(ticks).toBeLessThanOrEqual(20);
    expect(c.node('n1').readStates).toEqual([]);
    expect(c.node('n1').applied.map((a) => a.data)).not.toContain('lost');
    // After healing, n1 follows the new leader and its uncommitted entry is replaced.
    c.heal();
    c.run(10);
    expect(c.node('n1').applied.map((a) => a.data)).toContain('v2');
    expect(c.node('n1').applied.map((a) => a.data)).not.toContain('lost');
    expect(c.violations).toEqual([]);
  });

  it('with stale-read the deposed leader answers from its old commit index', () => {
    const c = partitionedOldLeader(['stale-read']);
    c.read('n1', 'stale!');
    expect(c.node('n1').readStates.map((r) => r.context)).toEqual(['stale!']);
    expect(c.violations.join('\n')).toMatch(/stale read: n1 answered read stale!/);
  });
});
