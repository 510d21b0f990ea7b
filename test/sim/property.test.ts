// Fault schedules as fast-check values: with no bug, every schedule keeps every check; with a
// planted bug, fast-check finds a failing schedule and shrinks it to a handful of faults.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlantedBug } from '../../core/bugs.js';
import { PARTITION_SHAPES, type FaultEvent, type FaultSchedule } from '../../sim/faults.js';
import { defaultOptions } from '../../sim/options.js';
import { DEFAULT_TUNING } from '../../sim/tuning.js';
import { runSimulation } from '../../sim/world.js';

const NODES = 3;
const DURATION_MS = 6000; // faults until 2500ms, then 3500ms to recover (two client timeouts and more)

const faultArb: fc.Arbitrary<FaultEvent> = fc.oneof(
  fc.record({
    kind: fc.constant('partition' as const),
    atMs: fc.integer({ min: 0, max: 2400 }),
    durationMs: fc.integer({ min: 50, max: 1500 }),
    shape: fc.constantFrom(...PARTITION_SHAPES),
    pick: fc.integer({ min: 0, max: 1000 }),
  }),
  fc.record({
    kind: fc.constant('crash' as const),
    atMs: fc.integer({ min: 0, max: 2400 }),
    durationMs: fc.integer({ min: 1, max: 800 }),
    target: fc.oneof(fc.constant({ leader: true as const }), fc.record({ node: fc.integer({ min: 0, max: NODES - 1 }) })),
    count: fc.integer({ min: 1, max: NODES }),
    torn: fc.boolean(),
    pick: fc.integer({ min: 0, max: 1000 }),
  }),
  fc.record({
    kind: fc.constant('pause' as const),
    atMs: fc.integer({ min: 0, max: 2400 }),
    durationMs: fc.integer({ min: 1, max: 800 }),
    target: fc.oneof(fc.constant({ leader: true as const }), fc.record({ node: fc.integer({ min: 0, max: NODES - 1 }) })),
  }),
);

const scheduleArb = fc.array(faultArb, { maxLength: 25 }).map((fs) => [...fs].sort((a, b) => a.atMs - b.atMs) as FaultSchedule);

function ok(seed: number, schedule: FaultSchedule, bug: PlantedBug | null): boolean {
  const r = runSimulation(
    defaultOptions(seed, { nodes: NODES, durationMs: DURATION_MS, schedule, bug, tuning: DEFAULT_TUNING, checkLinearizability: false }),
  );
  return r.ok;
}

describe('fault schedules as a property', () => {
  it('without a bug, any schedule keeps every safety and liveness check', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), scheduleArb, (seed, schedule) => ok(seed, schedule, null)),
      { numRuns: 15, seed: 20261122 },
    );
  });

  it('with apply-uncommitted, a failing schedule is found and shrunk to a few faults', () => {
    const out = fc.check(
      fc.property(fc.constant(7), scheduleArb, (seed, schedule) => ok(seed, schedule, 'apply-uncommitted')),
      { numRuns: 100, seed: 1 },
    );
    expect(out.failed).toBe(true);
    const [, schedule] = out.counterexample!;
    expect(schedule.length).toBeGreaterThan(0);
    expect(schedule.length).toBeLessThanOrEqual(3);
    // The shrunk schedule still fails, and the same seed with no faults passes.
    expect(ok(7, schedule, 'apply-uncommitted')).toBe(false);
    expect(ok(7, [], 'apply-uncommitted')).toBe(true);
  });
});
