// The liveness check must be able to fire: a cluster that cannot elect a leader within the run,
// or cannot commit a write after the faults heal, is reported, not passed.
import { describe, expect, it } from 'vitest';
import { defaultOptions } from '../../sim/options.js';
import { DEFAULT_TUNING } from '../../sim/tuning.js';
import { runSimulation } from '../../sim/world.js';

const quiet = { faults: new Set<never>(), swarm: false, schedule: [], durationMs: 8_000, checkLinearizability: false } as const;

describe('liveness', () => {
  it('a healthy cluster with no faults elects a leader and commits writes', () => {
    const r = runSimulation(defaultOptions(3, { ...quiet, tuning: DEFAULT_TUNING }));
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.stats.committed).toBeGreaterThan(0);
  });

  it('a cluster whose election timeout outlasts the run is reported as not live', () => {
    // 100,000 ticks of 10 ms: no node's election timer can fire in 8 s of virtual time.
    const stuck = { ...DEFAULT_TUNING, electionTicks: 100_000 };
    const r = runSimulation(defaultOptions(3, { ...quiet, tuning: stuck }));
    expect(r.ok).toBe(false);
    const kinds = r.violations.map((v) => v.kind);
    expect(kinds).toContain('liveness');
    // Only liveness fails: nothing unsafe happened, nothing happened at all.
    expect(kinds.every((k) => k === 'liveness')).toBe(true);
    expect(r.violations.map((v) => v.message).join('\n')).toMatch(/no leader|no write/);
  });
});
