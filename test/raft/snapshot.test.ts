// Stories about log compaction and InstallSnapshot.
import { describe, expect, it } from 'vitest';
import { Cluster, enc, type TestNode } from './harness.js';
import { nodeId, term, type LogIndex } from '../../core/types.js';

/** The driver's compaction: snapshot the state machine at its applied index. */
function compactAt(n: TestNode, index: number): void {
  const data = enc(JSON.stringify(n.applied.filter((a) => a.index <= index)));
  n.disk.saveSnapshot(n.raft.compact(index as LogIndex, data));
}

describe('snapshots', () => {
  it('a follower behind the leader\'s first index is caught up by a snapshot', () => {
    const c = new Cluster(3);
    c.elect('n1');
    c.run(1);
    c.crash('n3');
    for (let i = 0; i < 30; i++) c.raft('n1').propose(enc(`v${i}`));
    c.deliverAll();
    c.run(2);
    const leader = c.node('n1');
    expect(leader.appliedIndex()).toBe(31);
    compactAt(leader, 25);
    expect(c.raft('n1').status()).toMatchObject({ firstIndex: 26, snapshotIndex: 25, snapshotTerm: 1 });
    expect(c.raft('n1').termAt(10 as LogIndex)).toBe(null);
    expect(c.raft('n1').entries(1 as LogIndex, 27 as LogIndex).map((e) => e.index)).toEqual([26]);
    c.restart('n3');
    const snaps: number[] = [];
    for (let i = 0; i < 5; i++) {
      c.tick();
      c.deliverAll((m) => {
        if (m.type === 'snapshot') snaps.push(m.meta.index);
        return true;
      });
    }
    expect(snaps).toEqual([25]);
    const n3 = c.node('n3');
    // The follower put the snapshot in a Ready, reset its log, then received the rest.
    expect(n3.readies.some((r) => r.snapshot?.meta.index === 25)).toBe(true);
    expect(c.raft('n3').status()).toMatchObject({ snapshotIndex: 25, firstIndex: 26, lastIndex: 31, commit: 31, applied: 31 });
    expect(n3.applied.map((a) => a.data)).toEqual(leader.applied.map((a) => a.data));
    expect(c.violations).toEqual([]);
  });

  it('a node restarts from its snapshot and the entries after it', () => {
    const c = new Cluster(3);
    c.elect('n1');
    for (let i = 0; i < 10; i++) c.raft('n1').propose(enc(`v${i}`));
    c.deliverAll();
    c.run(2);
    compactAt(c.node('n2'), 8);
    c.crash('n2');
    c.node('n2').restart(); // (without the Ready loop yet)
    expect(c.raft('n2').status()).toMatchObject({ snapshotIndex: 8, firstIndex: 9, lastIndex: 11, applied: 8 });
    // The first Ready re-applies what follows the snapshot (commit came back from the hard state).
    c.node('n2').readies = [];
    c.process();
    expect(c.node('n2').readies[0]!.committedEntries.map((e) => e.index)).toEqual([9, 10, 11]);
    c.run(2);
    expect(c.node('n2').applied.map((a) => a.data)).toEqual(c.node('n1').applied.map((a) => a.data));
  });

  it('a lost snapshot is sent again after an election timeout', () => {
    const c = new Cluster(3, { electionTicks: 10 });
    c.elect('n1');
    c.crash('n3');
    for (let i = 0; i < 5; i++) c.raft('n1').propose(enc(`v${i}`));
    c.deliverAll();
    c.run(2);
    compactAt(c.node('n1'), 6);
    c.restart('n3');
    let sent = 0;
    for (let i = 0; i < 30; i++) {
      c.tick();
      c.deliverAll((m) => m.type !== 'snapshot' || sent++ > 0); // the first snapshot is lost
      c.drop((m) => m.type === 'snapshot' && sent === 1);
    }
    expect(sent).toBeGreaterThanOrEqual(2);
    expect(c.raft('n3').status().applied).toBe(6);
  });

  it('a follower that already holds the snapshot\'s last entry just moves its commit index', () => {
    const c = new Cluster(3);
    c.elect('n1');
    for (let i = 0; i < 5; i++) c.raft('n1').propose(enc(`v${i}`));
    c.process();
    // n2 gets the entries but no commit yet.
    c.deliverAll((m) => m.type === 'append' && m.to === 'n2');
    const before = c.raft('n2').status();
    expect(before.lastIndex).toBe(6);
    expect(before.commit).toBe(1);
    const data = enc('[]');
    const meta = { index: 5 as LogIndex, term: term(1), conf: { voters: c.ids } };
    c.raft('n2').step({ type: 'snapshot', from: nodeId('n1'), to: nodeId('n2'), term: term(1), meta, offset: 0, totalBytes: data.byteLength, data });
    expect(c.raft('n2').status()).toMatchObject({ commit: 5, lastIndex: 6, snapshotIndex: 0 });
  });

  it('compaction refuses indexes it cannot honour', () => {
    const c = new Cluster(1);
    c.tick(['n1'], 20);
    expect(() => c.raft('n1').compact(5 as LogIndex, enc(''))).toThrow(/no entry at that index/);
    c.raft('n1').propose(enc('x'));
    c.raft('n1').propose(enc('y'));
    // Entries appended but not yet applied cannot be compacted.
    expect(() => c.raft('n1').compact(3 as LogIndex, enc(''))).toThrow(/beyond the applied index/);
  });
});
