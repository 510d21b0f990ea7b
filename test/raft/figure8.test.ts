// The Raft paper's Figure 8: why a leader must not commit an entry of an earlier term by
// counting replicas (§5.4.2), and what goes wrong with the planted bug commit-previous-term.
import { describe, expect, it } from 'vitest';
import { Cluster, persistedLog } from './harness.js';
import type { PlantedBug } from '../../core/bugs.js';

// The state of Figure 8 (c): S1 led term 2 and put 2@2 on S1 and S2; S5 led term 3 and wrote
// 2@3 only to itself. Everybody is in term 3 and S5 is down. S1 wins term 4 and replicates
// 2@2 to S3 one entry per message (a small message limit), so S3 acknowledges index 2 before
// it has the term-4 noop at index 3 — the moment where counting replicas would be wrong.
describe('Figure 8', () => {
  it('an entry of an earlier term on a majority is not committed by counting, so a later leader may replace it', () => {
    const logs = [[1, 2], [1, 2], [1], [1], [1, 3]];
    const c = new Cluster(5, { maxEntriesBytesPerMsg: 30, preVote: false, checkQuorum: false }, (i) => ({ persisted: persistedLog(logs[i]!, 3, 1, i === 4 ? 'n5' : null) }));
    c.crash('n5');
    // S1 campaigns and wins term 4 with S2 and S3 (S4's messages are lost).
    while (c.raft('n1').status().role !== 'candidate') c.tick(['n1']);
    c.drop((m) => m.to === 'n4');
    c.deliverAll((m) => m.type === 'vote' || m.type === 'vote-response');
    expect(c.raft('n1').status()).toMatchObject({ role: 'leader', term: 4 });
    // Deliver S1's appends to S2 fully, and to S3 only until S3 holds 2@2 (not the noop 3@4).
    c.deliverAll((m) => m.to === 'n2' || m.from === 'n2');
    c.deliverAll((m) => (m.to === 'n3' && m.type === 'append' && c.raft('n3').status().lastIndex < 2) || (m.from === 'n3' && m.type === 'append-response'));
    expect(c.logOf('n3')).toEqual(['1', '2']);
    expect(c.logOf('n2')).toEqual(['1', '2', '4']);
    // 2@2 is on S1, S2, S3, a majority — yet not committed: its term is not the current one.
    expect(c.raft('n1').status().commit).toBe(1);
    // S1 crashes before the noop reaches S3. S5 comes back and wins term 5 with S3 and S4
    // (its last term 3 beats their 2 and 1), overwriting index 2. Nothing committed is lost.
    c.crash('n1');
    c.drop();
    c.restart('n5');
    c.elect('n5');
    c.run(5);
    expect(c.logOf('n3').slice(0, 2)).toEqual(['1', '3']);
    expect(c.violations).toEqual([]);
  });

  it('once the new leader\'s noop reaches a majority, the earlier entry commits with it', () => {
    const logs = [[1, 2], [1, 2], [1], [1], [1, 3]];
    const c = new Cluster(5, { maxEntriesBytesPerMsg: 30, preVote: false, checkQuorum: false }, (i) => ({ persisted: persistedLog(logs[i]!, 3, 1, i === 4 ? 'n5' : null) }));
    c.crash('n5');
    c.elect('n1');
    c.run(3);
    expect(c.raft('n1').status().commit).toBe(3);
    expect(c.node('n3').applied.map((a) => `${a.index}@${a.term}`)).toEqual(['1@1', '2@2', '3@4']);
  });

  it('with commit-previous-term the same schedule commits 2@2, and a later leader overwrites it', () => {
    const logs = [[1, 2], [1, 2], [1], [1], [1, 3]];
    const c = new Cluster(5, { maxEntriesBytesPerMsg: 30, preVote: false, checkQuorum: false, bugs: ['commit-previous-term'] }, (i) => ({
      persisted: persistedLog(logs[i]!, 3, 1, i === 4 ? 'n5' : null),
    }));
    c.crash('n5');
    while (c.raft('n1').status().role !== 'candidate') c.tick(['n1']);
    c.drop((m) => m.to === 'n4');
    c.deliverAll((m) => m.type === 'vote' || m.type === 'vote-response');
    c.deliverAll((m) => m.to === 'n2' || m.from === 'n2');
    c.deliverAll((m) => (m.to === 'n3' && m.type === 'append' && c.raft('n3').status().lastIndex < 2) || (m.from === 'n3' && m.type === 'append-response'));
    // Counting replicas, S1 commits 2@2 and applies it. (With the bug there is no noop at
    // index 3 at all: the leader's log ends in the earlier-term entry.)
    expect(c.raft('n1').status().lastIndex).toBe(2);
    expect(c.raft('n1').status().commit).toBe(2);
    expect(c.node('n1').applied.map((a) => `${a.index}@${a.term}`)).toContain('2@2');
    c.crash('n1');
    c.drop();
    c.restart('n5');
    c.elect('n5');
    c.run(5);
    // S5 replaced the "committed" 2@2 with 2@3 on a majority and applied it: two different
    // entries were applied at index 2.
    expect(c.violations.join('\n')).toMatch(/state machine safety: .* at 2/);
  });
});
