// `--consistency`: leader and eventual reads are kept out of the linearizability history and
// checked against what their level promises (a committed value of that key, or absent).
import { describe, expect, it } from 'vitest';
import { defaultFlags, optionsFromFlags, unsupported } from '../../sim/options.js';
import { runSimulation } from '../../sim/world.js';

describe('sim --consistency', () => {
  it('each level runs clean on a partitioned cluster, deterministically, and weak reads stay out of the history', () => {
    for (const consistency of ['leader', 'eventual', 'mixed'] as const) {
      const flags = { ...defaultFlags(), partitions: 4, consistency, durationMs: 20_000 };
      const a = runSimulation(optionsFromFlags(5, flags));
      expect(a.violations, consistency).toEqual([]);
      const b = runSimulation(optionsFromFlags(5, flags));
      expect(b.traceHash).toBe(a.traceHash);
      const reads = a.history.filter((e) => e.f === 'read' && e.type === 'invoke').length;
      if (consistency === 'mixed') expect(reads).toBeGreaterThan(0); // strong reads remain
      else expect(reads).toBe(0);
    }
  });

  it('the weak-read check sees a replica serving uncommitted state (apply-uncommitted, eventual reads)', () => {
    const r = runSimulation(optionsFromFlags(2, { ...defaultFlags(), partitions: 4, consistency: 'eventual', bug: 'apply-uncommitted' }));
    expect(r.ok).toBe(false);
    expect(r.violations[0]?.kind).toBe('weak-read-uncommitted');
  });

  it('a replication factor above the node count is a usage error', () => {
    expect(unsupported({ ...defaultFlags(), nodes: 3, replicationFactor: 4 })).toMatch(/more than --nodes 3/);
    expect(unsupported({ ...defaultFlags(), nodes: 3, replicationFactor: 3 })).toBeNull();
  });
});
