// Each planted Raft bug, caught: one failing seed per bug (found by `conclave sim sweep
// --bug NAME`), kept as a regression case and run through the library API. The same seed
// without the bug passes, so it is the bug, not the world, that fails it.
import { describe, expect, it } from 'vitest';
import { PLANTED_BUGS, type PlantedBug } from '../../core/bugs.js';
import { defaultFlags, optionsFromFlags, BUGS_NEEDING_WORKLOAD } from '../../sim/options.js';
import { runSimulation } from '../../sim/world.js';

const REGRESSIONS: ReadonlyArray<{ readonly bug: PlantedBug; readonly seed: number; readonly kind: string }> = [
  { bug: 'vote-without-log-check', seed: 2, kind: 'committed-entry-unsafe' },
  { bug: 'forget-vote-on-restart', seed: 2, kind: 'double-vote' },
  { bug: 'commit-previous-term', seed: 4, kind: 'committed-entry-unsafe' },
  { bug: 'ack-before-durable', seed: 1, kind: 'leader-completeness' },
  { bug: 'stale-read', seed: 5, kind: 'linearizability' },
  { bug: 'apply-uncommitted', seed: 4, kind: 'acknowledged-write-lost' },
  { bug: 'truncate-committed', seed: 2, kind: 'committed-entry-unsafe' },
  { bug: 'eventual-as-strong', seed: 1, kind: 'linearizability' },
];

function run(seed: number, bug: PlantedBug | null, linearizability: boolean) {
  return runSimulation(optionsFromFlags(seed, { ...defaultFlags(), bug }, { checkLinearizability: linearizability }));
}

describe('planted bugs are caught', () => {
  for (const { bug, seed, kind } of REGRESSIONS) {
    it(`${bug}: seed ${seed} fails with ${kind}, and passes without the bug`, () => {
      const lin = kind === 'linearizability';
      const bad = run(seed, bug, lin);
      expect(bad.ok).toBe(false);
      expect(bad.violations[0]?.kind).toBe(kind);
      const good = run(seed, null, lin);
      expect(good.violations).toEqual([]);
      expect(good.ok).toBe(true);
    });
  }

  it('every planted bug outside the lock layer has a regression seed here', () => {
    const covered = new Set(REGRESSIONS.map((r) => r.bug));
    const missing = (Object.keys(PLANTED_BUGS) as PlantedBug[]).filter((b) => !covered.has(b) && BUGS_NEEDING_WORKLOAD[b] === undefined);
    expect(missing).toEqual([]);
  });
});
