// Quiescence: an idle group stops heartbeating and its followers stop their election timers;
// any message, proposal or read wakes it. Followers campaign only once the driver says the
// leader's node fell silent (wake(true)). The driver's node-level liveness is the cluster's
// `live` set here.
import { describe, expect, it } from 'vitest';
import { Cluster, enc } from './harness.js';

const E = 10;

function quiet(): Cluster {
  const c = new Cluster(3, { quiesce: true, electionTicks: E, heartbeatTicks: 2 });
  c.elect('n1');
  c.run(6);
  return c;
}

const allQuiesced = (c: Cluster): boolean => c.ids.every((id) => c.raft(id).status().quiesced);

describe('quiescence', () => {
  it('an idle group goes quiet after a heartbeat round and sends nothing for many election timeouts', () => {
    const c = quiet();
    expect(allQuiesced(c)).toBe(true);
    const term = c.raft('n1').status().term;
    for (let i = 0; i < 20 * E; i++) {
      c.tick();
      expect(c.queue).toEqual([]);
    }
    expect(c.raft('n1').status()).toMatchObject({ role: 'leader', term });
    expect(c.raft('n2').status()).toMatchObject({ role: 'follower', leader: 'n1', term });
  });

  it('a proposal wakes the group; it goes quiet again once every follower holds the entry', () => {
    const c = quiet();
    c.raft('n1').propose(enc('x'));
    expect(c.raft('n1').status().quiesced).toBe(false);
    c.deliverAll();
    expect(c.raft('n2').status().quiesced).toBe(false);
    c.run(6);
    expect(allQuiesced(c)).toBe(true);
    expect(c.node('n3').applied.map((a) => a.data).filter((d) => d !== '')).toEqual(['x']);
  });

  it('a follower proposal and a read wake the group and are served', () => {
    const c = quiet();
    expect(c.raft('n2').propose(enc('y')).kind).toBe('forwarded');
    c.deliverAll();
    c.run(2);
    expect(c.node('n1').applied.map((a) => a.data).filter((d) => d !== '')).toEqual(['y']);
    c.run(6);
    expect(allQuiesced(c)).toBe(true);
    c.read('n3', 'r1');
    c.deliverAll();
    expect(c.node('n3').readStates.map((r) => r.context)).toEqual(['r1']);
  });

  it('followers do not campaign while the leader node is live; once told it is down they elect a new leader', () => {
    const c = quiet();
    c.crash('n1');
    for (let i = 0; i < 10 * E; i++) c.tick(['n2', 'n3']);
    expect(c.raft('n2').status()).toMatchObject({ role: 'follower', leader: 'n1' });
    // The driver's liveness: nothing heard from n1's node for an election timeout.
    c.live.delete(c.ids[0]!);
    c.raft('n2').wake(true);
    c.raft('n3').wake(true);
    for (let i = 0; i < 2 * E + 2 && c.leader() === null; i++) {
      c.tick(['n2', 'n3']);
      c.deliverAll();
    }
    expect(['n2', 'n3']).toContain(c.leader());
    expect(c.violations).toEqual([]);
  });

  it('a leader does not quiesce while a follower node is not live', () => {
    const c = new Cluster(3, { quiesce: true, electionTicks: E, heartbeatTicks: 2 });
    c.live.delete(c.ids[2]!);
    c.elect('n1');
    c.run(10);
    expect(c.raft('n1').status().quiesced).toBe(false);
    c.tick(c.ids, 2);
    expect(c.queue.some((m) => m.type === 'heartbeat')).toBe(true);
    c.live.add(c.ids[2]!);
    c.deliverAll();
    c.run(6);
    expect(allQuiesced(c)).toBe(true);
  });

  it('until every follower has answered the request to quiesce, the leader keeps heartbeating', () => {
    const c = new Cluster(3, { quiesce: true, electionTicks: E, heartbeatTicks: 2 });
    c.elect('n1');
    c.run(1);
    let dropped = 0;
    for (let i = 0; i < 4; i++) {
      c.tick();
      c.deliverAll((m) => {
        if (m.type === 'heartbeat-response' && m.from === 'n3' && m.quiesced === true) {
          dropped++;
          return false;
        }
        return true;
      });
      c.drop((m) => m.type === 'heartbeat-response' && m.from === 'n3');
    }
    expect(dropped).toBeGreaterThan(0);
    expect(c.raft('n1').status().quiesced).toBe(false);
    c.run(6);
    expect(allQuiesced(c)).toBe(true);
  });

  it('a late answer to the request to quiesce does not wake the leader; any other message does', () => {
    const c = quiet();
    const term = c.raft('n1').status().term;
    c.raft('n1').step({ type: 'heartbeat-response', from: c.ids[1]!, to: c.ids[0]!, term, context: null, quiesced: true });
    expect(c.raft('n1').status().quiesced).toBe(true);
    c.raft('n1').step({ type: 'heartbeat-response', from: c.ids[1]!, to: c.ids[0]!, term, context: null });
    expect(c.raft('n1').status().quiesced).toBe(false);
  });

  it('a quiescent leader cut off from its quorum and woken steps down by check-quorum', () => {
    const c = quiet();
    c.isolate('n1');
    c.live.delete(c.ids[1]!);
    c.live.delete(c.ids[2]!);
    c.raft('n1').wake(false);
    c.tick(['n1'], 2 * E + 1);
    expect(c.raft('n1').status().role).toBe('follower');
  });

  it('a quiescent follower in its lease ignores a disruptive pre-vote, but wakes', () => {
    const c = quiet();
    c.raft('n3').wake(true); // n3 alone believes the leader is gone
    for (let i = 0; i < 2 * E + 1 && c.raft('n3').status().role === 'follower'; i++) c.tick(['n3']);
    expect(c.raft('n3').status().role).toBe('pre-candidate');
    const term = c.raft('n1').status().term;
    c.deliverAll();
    // n1 (leader) and n2 (in lease: its leader's node is live) refuse; nobody's term moved.
    expect(c.raft('n2').status()).toMatchObject({ term, leader: 'n1', quiesced: false });
    expect(c.raft('n1').status()).toMatchObject({ term, role: 'leader' });
    c.run(8);
    expect(c.raft('n3').status()).toMatchObject({ role: 'follower', leader: 'n1', term });
  });
});
