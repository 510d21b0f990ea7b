// Stories about log replication: the Raft paper's Figure 7, fast backtracking, batching,
// the inflight window, and proposal forwarding.
import { describe, expect, it } from 'vitest';
import { Cluster, enc, persistedLog, type Message } from './harness.js';

// Figure 7 of the Raft paper: the leader of term 8 and six followers (a)-(f) whose logs differ.
const LEADER = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
const FOLLOWERS: Record<string, number[]> = {
  a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
  b: [1, 1, 1, 4],
  c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
  d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
  e: [1, 1, 1, 4, 4, 4, 4],
  f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
};

function figure7(): Cluster {
  const logs = [LEADER, ...Object.values(FOLLOWERS)];
  // Everyone is in term 7 (d saw a leader of term 7); only the first 3 entries are committed.
  return new Cluster(7, { electionTicks: 10 }, (i) => ({ persisted: persistedLog(logs[i]!, 7, 3) }));
}

describe('replication', () => {
  it('Figure 7: a new leader brings every follower log (a)-(f) in line with its own', () => {
    const c = figure7();
    // n1 times out first; a, b, e and f (n2, n3, n6, n7) find its log up to date and elect it.
    while (c.raft('n1').status().role !== 'pre-candidate') c.tick(['n1']);
    const rejects = new Map<string, number>();
    const count = (m: Message) => {
      if (m.type === 'append-response' && m.reject) rejects.set(m.from, (rejects.get(m.from) ?? 0) + 1);
      return true;
    };
    c.deliverAll(count);
    expect(c.raft('n1').status()).toMatchObject({ role: 'leader', term: 8 });
    c.run(3);
    const expected = [...LEADER, 8].map(String);
    for (const id of c.ids) expect(c.logOf(id), id).toEqual(expected);
    for (const id of c.ids) expect(c.raft(id).status().commit).toBe(11);
    // c's extra 6 and d's two 7s were uncommitted and are gone; f's terms 2-3 are replaced.
    expect(c.node('n5').applied.map((a) => a.term)).toEqual(expected.map(Number));
    // Fast backtracking: each divergent follower needed at most two rejected probes.
    for (const [id, n] of rejects) expect(n, id).toBeLessThanOrEqual(2);
    expect(rejects.get('n7')).toBe(1); // (f): one hint skips all of terms 2 and 3
    expect(c.violations).toEqual([]);
  });

  it('fast backtracking: a follower with 200 divergent entries is repaired in a bounded number of round trips', () => {
    const leaderLog = [1, ...Array.from({ length: 200 }, () => 3)];
    const staleLog = [1, ...Array.from({ length: 250 }, () => 2)];
    const c = new Cluster(3, { maxEntriesBytesPerMsg: 1 << 20 }, (i) => ({
      persisted: persistedLog(i === 2 ? staleLog : leaderLog, 3, 1),
    }));
    while (c.raft('n1').status().role !== 'pre-candidate') c.tick(['n1']);
    let rejected = 0;
    let appends = 0;
    c.deliverAll((m) => {
      if (m.type === 'append-response' && m.reject && m.from === 'n3') rejected++;
      if (m.type === 'append' && m.to === 'n3') appends++;
      return true;
    });
    c.run(2);
    expect(c.logOf('n3')).toEqual(c.logOf('n1'));
    // Without hints this would take ~200 one-entry-back probes.
    expect(rejected).toBe(1);
    expect(appends).toBeLessThanOrEqual(4);
  });

  it('batching: one append carries at most maxEntriesBytesPerMsg of entries (and always at least one)', () => {
    // A window of one message: while it is out, proposals queue up and then go out in batches.
    const c = new Cluster(3, { maxEntriesBytesPerMsg: 200, maxInflightMsgs: 1 });
    c.elect('n1');
    c.run(2);
    for (let i = 0; i < 40; i++) c.raft('n1').propose(enc(`value-${String(i).padStart(3, '0')}`)); // 9 bytes + 24
    c.process();
    const sizes: number[] = [];
    c.deliverAll((m) => {
      if (m.type === 'append' && m.entries.length > 0) {
        const bytes = m.entries.reduce((s, e) => s + e.data.byteLength + 24, 0);
        expect(bytes <= 200 || m.entries.length === 1).toBe(true);
        sizes.push(m.entries.length);
      }
      return true;
    });
    c.run(2);
    expect(Math.max(...sizes)).toBe(6); // floor(200 / 33)
    expect(c.node('n3').applied.length).toBe(41);
    // A single entry larger than a message is refused up front.
    expect(c.raft('n1').propose(new Uint8Array(300))).toEqual({ kind: 'dropped', reason: 'too-large' });
  });

  it('pipelining within a bounded inflight window: at most maxInflightMsgs appends outstanding per follower', () => {
    const c = new Cluster(3, { maxInflightMsgs: 3, maxEntriesBytesPerMsg: 30 });
    c.elect('n1');
    c.run(2);
    for (let i = 0; i < 20; i++) c.raft('n1').propose(enc(`${i % 10}`));
    c.process();
    const toN2 = c.queue.filter((m) => m.type === 'append' && m.to === 'n2');
    // One entry per message (30-byte limit), three in flight, the rest wait for acks.
    expect(toN2.length).toBe(3);
    expect(toN2.map((m) => (m.type === 'append' ? m.prevIndex : -1))).toEqual([1, 2, 3]);
    // Acks open the window again and everything gets through.
    c.deliverAll();
    c.run(2);
    expect(c.node('n2').applied.length).toBe(21);
  });

  it('the inflight window is bounded by bytes too', () => {
    const c = new Cluster(3, { maxInflightMsgs: 100, maxInflightBytes: 100, maxEntriesBytesPerMsg: 60 });
    c.elect('n1');
    c.run(2);
    for (let i = 0; i < 20; i++) c.raft('n1').propose(new Uint8Array(26)); // 50 bytes each
    c.process();
    const toN2 = c.queue.filter((m) => m.type === 'append' && m.to === 'n2');
    // 50 + 50 reaches 100 bytes: the window is full after two messages.
    expect(toN2.length).toBe(2);
    c.deliverAll();
    c.run(2);
    expect(c.node('n2').applied.length).toBe(21);
  });

  it('a follower forwards proposals to its leader; without a leader they are dropped', () => {
    const c = new Cluster(3);
    expect(c.raft('n2').propose(enc('early'))).toEqual({ kind: 'dropped', reason: 'no-leader' });
    c.elect('n1');
    c.run(2);
    expect(c.raft('n2').propose(enc('via-n2'))).toEqual({ kind: 'forwarded', to: 'n1' });
    c.process();
    expect(c.queue.some((m) => m.type === 'propose' && m.from === 'n2' && m.to === 'n1')).toBe(true);
    c.deliverAll();
    c.run(2);
    for (const id of c.ids) expect(c.node(id).applied.map((a) => a.data)).toEqual(['', 'via-n2']);
  });

  it('a lost append is repaired: heartbeat responses re-open a stuck window', () => {
    const c = new Cluster(3, { maxInflightMsgs: 2, maxEntriesBytesPerMsg: 30 });
    c.elect('n1');
    c.run(2);
    for (let i = 0; i < 6; i++) c.raft('n1').propose(enc(`${i}`));
    c.process();
    // The network loses everything sent to n3.
    expect(c.drop((m) => m.to === 'n3')).toBeGreaterThan(0);
    c.deliverAll();
    c.run(10);
    expect(c.node('n3').applied.length).toBe(7);
    expect(c.logOf('n3')).toEqual(c.logOf('n1'));
  });
});
