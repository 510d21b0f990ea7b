// Stories about elections: randomized timeouts, pre-vote, check-quorum, votes that survive a
// restart, and the planted bugs that break election rules.
import { describe, expect, it } from 'vitest';
import { Cluster, enc, persistedLog } from './harness.js';

describe('elections', () => {
  it('a follower times out after a randomized timeout in [electionTicks, 2*electionTicks)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const c = new Cluster(3, { electionTicks: 10, seed });
      let ticks = 0;
      // Tick one node alone until it asks for (pre-)votes.
      while (c.queue.length === 0) {
        c.tick(['n1']);
        ticks++;
        expect(ticks).toBeLessThan(20);
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      seen.add(ticks);
      const first = c.queue[0]!;
      expect(first.type).toBe('vote');
      expect(first.type === 'vote' && first.preVote).toBe(true);
      // Pre-vote: asking changed no term.
      expect(c.raft('n1').status().term).toBe(0);
    }
    // The draw really is random: several distinct timeouts over 40 seeds.
    expect(seen.size).toBeGreaterThan(4);
  });

  it('a single node elects itself at once and commits its noop', () => {
    const c = new Cluster(1);
    c.tick(['n1'], 20);
    expect(c.raft('n1').status().role).toBe('leader');
    expect(c.raft('n1').status().commit).toBe(1);
    const r = c.raft('n1').propose(enc('solo'));
    expect(r).toEqual({ kind: 'proposed', index: 2, term: 1 });
    c.process();
    expect(c.node('n1').applied.map((a) => a.data)).toEqual(['', 'solo']);
  });

  it('pre-vote: a node cut off from the others does not inflate its term, and does not disrupt on rejoin', () => {
    const c = new Cluster(3, { preVote: true });
    const l = c.elect('n1');
    const term = c.raft(l).status().term;
    c.isolate('n3');
    // n3 times out again and again, but no pre-vote majority means no term bump.
    for (let i = 0; i < 100; i++) {
      c.tick(['n3']);
      c.tick(['n1', 'n2']);
      c.deliverAll();
    }
    expect(c.raft('n3').status().term).toBe(term);
    expect(c.raft('n3').status().role).toBe('pre-candidate');
    c.heal();
    c.run(5);
    expect(c.leader()).toBe('n1');
    expect(c.raft('n1').status().term).toBe(term);
    expect(c.raft('n3').status().leader).toBe('n1');
  });

  it('without pre-vote the same rejoining node inflates its term and deposes the leader', () => {
    const c = new Cluster(3, { preVote: false });
    const l = c.elect('n1');
    const term = c.raft(l).status().term;
    c.isolate('n3');
    for (let i = 0; i < 100; i++) {
      c.tick(['n3']);
      c.tick(['n1', 'n2']);
      c.deliverAll();
    }
    expect(c.raft('n3').status().term).toBeGreaterThan(term + 3);
    c.heal();
    c.run(40);
    // The leader learned n3's higher term and had to step down: an election happened.
    expect(c.raft('n1').status().term).toBeGreaterThan(term + 3);
    expect(c.violations).toEqual([]);
  });

  it('check-quorum: followers that hear from a live leader ignore a disruptive candidate', () => {
    const c = new Cluster(3, { preVote: false, checkQuorum: true });
    c.elect('n1');
    const term = c.raft('n1').status().term;
    // n3 stops hearing from the leader (one-way loss) and campaigns at term+1.
    c.partition(['n1'], ['n3']);
    c.tick(['n3'], 25);
    expect(c.raft('n3').status().role).toBe('candidate');
    const votes = c.take((m) => m.type === 'vote' && m.from === 'n3' && m.to === 'n2');
    expect(votes.length).toBeGreaterThan(0);
    // n2 heard from n1 within the election timeout: it drops the request, keeps its term.
    for (const v of votes) c.deliver(v);
    c.process();
    expect(c.raft('n2').status().term).toBe(term);
    expect(c.queue.filter((m) => m.type === 'vote-response' && m.from === 'n2')).toEqual([]);
  });

  it('check-quorum: a leader that cannot hear from a quorum steps down within an election timeout', () => {
    const c = new Cluster(5, { electionTicks: 10 });
    c.elect('n1');
    c.partition(['n1', 'n2'], ['n3', 'n4', 'n5']);
    let ticks = 0;
    while (c.raft('n1').status().role === 'leader') {
      c.tick(['n1', 'n2']);
      c.deliverAll();
      ticks++;
      expect(ticks).toBeLessThanOrEqual(20);
    }
    expect(c.raft('n1').status().role).toBe('follower');
    expect(c.raft('n1').status().leader).toBe(null);
  });

  it('a node grants a vote only to a candidate whose log is at least as up to date (§5.4.1)', () => {
    // n3 missed entry 2; n1, n2 have it committed. n3 cannot win; with the planted bug it can.
    const setup = (bugs: ('vote-without-log-check')[] = []) =>
      new Cluster(3, { preVote: false, bugs }, (i) => ({
        persisted: i === 2 ? persistedLog([1], 1, 1) : persistedLog([1, 1], 1, 2),
      }));
    const ok = setup();
    ok.tick(['n3'], 25);
    ok.deliverAll();
    expect(ok.raft('n3').status().role).not.toBe('leader');

    const bad = setup(['vote-without-log-check']);
    // Let n1 and n2 apply the committed entries first.
    bad.process();
    bad.tick(['n3'], 25);
    bad.deliverAll();
    expect(bad.raft('n3').status().role).toBe('leader');
    // The new leader overwrites committed entry 2 with its noop: state machine safety breaks.
    bad.run(3);
    expect(bad.violations.join('\n')).toMatch(/state machine safety/);
  });

  it('a restarted node remembers its vote; with forget-vote-on-restart it votes twice in one term', () => {
    const story = (bugs: ('forget-vote-on-restart')[]) => {
      const c = new Cluster(3, { preVote: false, checkQuorum: false, bugs });
      // n1 campaigns in term 1; only n3 hears it and votes for it.
      while (c.raft('n1').status().role !== 'candidate') c.tick(['n1']);
      // (Only the election messages: n3 does not receive n1's noop either.)
      c.deliverAll((m) => m.to !== 'n2' && (m.type === 'vote' || m.type === 'vote-response'));
      expect(c.raft('n1').status().role).toBe('leader');
      c.drop();
      expect(c.raft('n3').status().vote).toBe('n1');
      // n3 crashes and restarts from its disk.
      c.crash('n3');
      c.restart('n3');
      // n2 (still in term 0) campaigns for term 1 and asks n3.
      while (c.raft('n2').status().role !== 'candidate') c.tick(['n2']);
      expect(c.raft('n2').status().term).toBe(1);
      c.drop((m) => m.to === 'n1');
      c.deliverAll((m) => m.to !== 'n1');
      return c;
    };
    const ok = story([]);
    expect(ok.raft('n3').status()).toMatchObject({ term: 1, vote: 'n1' });
    expect(ok.raft('n2').status().role).toBe('candidate');
    expect(ok.violations).toEqual([]);

    const bad = story(['forget-vote-on-restart']);
    expect(bad.raft('n2').status().role).toBe('leader');
    expect(bad.raft('n2').status().term).toBe(1);
    expect(bad.violations.join('\n')).toMatch(/election safety: n1 and n2 both led term 1/);
  });
});
