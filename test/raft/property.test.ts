// Property: whatever the network does (deliver in any order, drop, duplicate), whatever the
// nodes do (crash and restart from their synced disk, compact), a correct Raft never breaks
// election safety, log matching or state machine safety. With a planted bug on, the same
// search finds a violation (so the checks can see).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { action, runSchedule } from './schedule.js';

describe('raft under random schedules', () => {
  it('never violates election safety, log matching or state machine safety', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 5 }), fc.array(action, { minLength: 50, maxLength: 400 }), fc.nat(1000), (n, actions, seed) => {
        const r = runSchedule(n, actions, [], seed);
        expect(r.violations).toEqual([]);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});
