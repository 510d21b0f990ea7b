// How often each planted bug is caught: every seed of a range is run with the bug on (no stop at
// the first failure, unlike `sim sweep`), and the share of seeds whose checks fail is printed per
// bug, with the checks that fired. Issue 8's bar: every planted bug caught on at least half of
// any seed range, by fault stories aimed at the rule it breaks.
//
//   npm run bench:catch -- --seeds 1..60 [--bugs a,b] [--jobs 2] [sim run flags: --nodes, --partitions, ...]
//
// The last line is one JSON object with every figure.
import { Worker } from 'node:worker_threads';
import { PLANTED_BUGS, isPlantedBug, type PlantedBug } from '../core/bugs.js';
import { defaultFlags, parseIntArg, parseRunFlag, type RunFlags } from '../sim/options.js';
import { parseSeedRange, type SeedOutcome } from '../sim/sweep.js';

/**
 * Bugs the KV workload's checks are meant to catch: lock-release-early needs the bank workload
 * and fanout-offset-per-partition a listing workload (neither is in the simulator yet; the
 * latter is caught by test/node/fanout.test.ts).
 */
const KV_BUGS = (Object.keys(PLANTED_BUGS) as PlantedBug[]).filter((b) => b !== 'lock-release-early' && b !== 'fanout-offset-per-partition');

async function runAll(seeds: readonly number[], flags: RunFlags, jobs: number): Promise<SeedOutcome[]> {
  const out: SeedOutcome[] = [];
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    let live = 0;
    const feed = (w: Worker): void => {
      if (next >= seeds.length) {
        void w.terminate();
        if (--live === 0) resolve();
        return;
      }
      w.postMessage(seeds[next++]);
    };
    for (let j = 0; j < Math.min(jobs, seeds.length); j++) {
      const w = new Worker(new URL('../sim/sweep-worker.js', import.meta.url), { workerData: { flags } });
      live++;
      w.on('message', (o: SeedOutcome) => {
        out.push(o);
        feed(w);
      });
      w.on('error', reject);
      feed(w);
    }
  });
  return out.sort((a, b) => a.seed - b.seed);
}

async function main(args: readonly string[]): Promise<void> {
  const flags = defaultFlags();
  let range: readonly [number, number] = [1, 40];
  let bugs: PlantedBug[] = KV_BUGS;
  let jobs = 2;
  for (let i = 0; i < args.length; ) {
    const a = args[i]!;
    if (a === '--seeds') {
      range = parseSeedRange(args[i + 1]);
      i += 2;
    } else if (a === '--bugs') {
      const names = (args[i + 1] ?? '').split(',').filter((s) => s !== '');
      for (const n of names) if (!isPlantedBug(n)) throw new Error(`--bugs: unknown planted bug '${n}'`);
      bugs = names as PlantedBug[];
      i += 2;
    } else if (a === '--jobs') {
      jobs = parseIntArg(a, args[i + 1], 1, 64);
      i += 2;
    } else {
      const used = parseRunFlag(flags, args, i);
      if (used === 0) throw new Error(`unknown argument '${a}'`);
      i += used;
    }
  }
  const seeds = Array.from({ length: range[1] - range[0] + 1 }, (_, k) => range[0] + k);
  console.log(`catch rates: seeds ${range[0]}..${range[1]}, ${flags.nodes} nodes, ${flags.partitions} partition(s), faults ${flags.faultsText}, ${jobs} job(s)`);
  const rows: Record<string, { caught: number; seeds: number; rate: number; checks: Record<string, number>; caughtSeeds: number[]; wallMs: number }> = {};
  for (const bug of bugs) {
    const t0 = performance.now();
    const outs = await runAll(seeds, { ...flags, bug }, jobs);
    const caught = outs.filter((o) => !o.ok);
    const checks: Record<string, number> = {};
    for (const o of caught) for (const k of new Set(o.violations.map((v) => v.kind))) checks[k] = (checks[k] ?? 0) + 1;
    const wallMs = Math.round(performance.now() - t0);
    rows[bug] = { caught: caught.length, seeds: outs.length, rate: caught.length / outs.length, checks, caughtSeeds: caught.map((o) => o.seed), wallMs };
    const pct = ((100 * caught.length) / outs.length).toFixed(0).padStart(3);
    console.log(`  ${bug.padEnd(24)} ${String(caught.length).padStart(4)}/${outs.length} ${pct}%  by ${Object.entries(checks).map(([k, n]) => `${k} ${n}`).join(', ') || '-'}  (${(wallMs / 1000).toFixed(1)} s)`);
  }
  console.log(JSON.stringify({ seeds: `${range[0]}..${range[1]}`, nodes: flags.nodes, partitions: flags.partitions, faults: flags.faultsText, bugs: rows }));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`bench:catch: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
