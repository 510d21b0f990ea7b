// The one way a planted bug reaches a server process: CONCLAVE_UNSAFE_PLANTED_BUG, for the
// real-process harness. Unknown names are refused (the server exits 2 on them at start-up).
import { describe, expect, it } from 'vitest';
import { PlantedBugError, plantedBugsFromEnv } from '../../adapters/planted.js';

describe('plantedBugsFromEnv', () => {
  it('is empty when the variable is unset or blank', () => {
    expect(plantedBugsFromEnv({}).size).toBe(0);
    expect(plantedBugsFromEnv({ CONCLAVE_UNSAFE_PLANTED_BUG: '  ' }).size).toBe(0);
  });
  it('reads comma-separated names', () => {
    expect([...plantedBugsFromEnv({ CONCLAVE_UNSAFE_PLANTED_BUG: 'eventual-as-strong, stale-read' })].sort()).toEqual(['eventual-as-strong', 'stale-read']);
  });
  it('refuses an unknown name, naming it and the known ones', () => {
    expect(() => plantedBugsFromEnv({ CONCLAVE_UNSAFE_PLANTED_BUG: 'stale-read,bogus' })).toThrow(PlantedBugError);
    expect(() => plantedBugsFromEnv({ CONCLAVE_UNSAFE_PLANTED_BUG: 'bogus' })).toThrow(/unknown planted bug 'bogus' \(known: .*eventual-as-strong/);
  });
});
