// Stories: a cluster elects a leader, replicates and commits proposals, and survives restarts.
import { describe, expect, it } from 'vitest';
import { Cluster, dec, enc } from './harness.js';
import { logIndex } from '../../core/types.js';

describe('raft basics', () => {
  it('elects one leader, which commits a noop of its term', () => {
    const c = new Cluster(3);
    const l = c.elect();
    const s = c.raft(l).status();
    expect(s.role).toBe('leader');
    expect(s.term).toBe(1);
    c.run(2);
    for (const id of c.ids) {
      expect(c.raft(id).status().commit).toBe(1);
      expect(c.node(id).applied).toEqual([{ index: 1, term: 1, data: '' }]);
    }
    expect(c.violations).toEqual([]);
  });

  it('replicates proposals and applies them on every node', () => {
    const c = new Cluster(5);
    const l = c.elect();
    for (let i = 0; i < 20; i++) {
      const r = c.raft(l).propose(enc(`v${i}`));
      expect(r.kind).toBe('proposed');
    }
    c.deliverAll();
    c.run(2);
    for (const id of c.ids) {
      const n = c.node(id);
      expect(n.applied.map((a) => a.data).slice(1)).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    }
    expect(c.violations).toEqual([]);
  });

  it('a restarted node keeps its term, vote and log', () => {
    const c = new Cluster(3);
    const l = c.elect();
    c.raft(l).propose(enc('x'));
    c.deliverAll();
    const f = c.ids.find((id) => id !== l)!;
    const before = c.raft(f).status();
    c.crash(f);
    c.restart(f);
    const after = c.raft(f).status();
    expect(after.term).toBe(before.term);
    expect(after.vote).toBe(before.vote);
    expect(after.lastIndex).toBe(before.lastIndex);
    c.run(3);
    expect(c.node(f).applied.map((a) => a.data)).toEqual(['', 'x']);
    expect(dec(c.raft(f).entries(logIndex(2), logIndex(3))[0]!.data)).toBe('x');
  });
});
