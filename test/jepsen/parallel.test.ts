// checkHistoryParallel must give exactly checkHistory's result, whichever parts it decides in
// its own thread and whichever it hands to worker threads. Workers load compiled code, so this
// test runs against dist/.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as CheckModule from '../../jepsen/check.js';
import { manyKeysCase, singleKeyCase } from '../../jepsen/generate/hard.js';
import type { CheckResult } from '../../jepsen/types.js';

const root = resolve(__dirname, '..', '..');
let check: typeof CheckModule;

beforeAll(async () => {
  // dist/ is built once for the whole run by test/global-setup.ts.
  const compiled = join(root, 'dist', 'jepsen', 'check.js');
  if (!existsSync(join(root, 'dist', 'jepsen', 'check-worker.js'))) throw new Error('dist/jepsen/check-worker.js was not built');
  check = (await import(pathToFileURL(compiled).href)) as typeof CheckModule;
}, 120_000);

/** What must not depend on scheduling: verdicts, witnesses and counterexamples, part by part. */
function essence(r: CheckResult): unknown {
  return {
    valid: r.valid,
    ops: r.ops,
    explanation: r.explanation ?? null,
    partitions: r.partitions.map((p) => ({ key: p.key, valid: p.valid, linearized: p.linearized, counterexample: p.counterexample ?? null, method: p.method })),
  };
}

const cases = [
  manyKeysCase({ keys: 20, processes: 16, ops: 4_000, skew: 'zipf', seed: 11 }),
  manyKeysCase({ keys: 20, processes: 16, ops: 4_000, skew: 'uniform', stale: true, seed: 12 }),
  // Repeated values: keys that need the general search, so some parts are hard.
  singleKeyCase({ processes: 16, ops: 600, infoRate: 0.1, stale: false, values: 40, seed: 13 }),
];

describe('checkHistoryParallel', () => {
  for (const c of cases) {
    it(`${c.name}: the same result as checkHistory, probed or all in workers`, async () => {
      const sequential = check.checkHistory(c.history.events, c.model);
      expect(sequential.valid).toBe(c.expected);
      const probed = await check.checkHistoryParallel(c.history.events, c.model, { jobs: 2 });
      const allInWorkers = await check.checkHistoryParallel(c.history.events, c.model, { jobs: 2, probeSteps: 0 });
      expect(essence(probed)).toEqual(essence(sequential));
      expect(essence(allInWorkers)).toEqual(essence(sequential));
    });
  }

  it('a step budget smaller than the probe is final: unknown stays unknown, never a guess', async () => {
    const c = singleKeyCase({ processes: 16, ops: 600, infoRate: 0.1, stale: false, values: 40, seed: 13 });
    const sequential = check.checkHistory(c.history.events, c.model, { maxSteps: 5 });
    const parallel = await check.checkHistoryParallel(c.history.events, c.model, { jobs: 2, maxSteps: 5 });
    expect(essence(parallel)).toEqual(essence(sequential));
  });
});
