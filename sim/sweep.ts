// `conclave sim sweep --seeds A..B`: run every seed (in worker threads with --jobs J > 1, over
// the compiled dist/ JS). On a failure no new seed is started; the lowest failing seed among
// those run is reported with its reproduce command (so the answer does not depend on timing).
import { Worker } from 'node:worker_threads';
import { defaultFlags, optionsFromFlags, parseIntArg, parseRunFlag, reproduceCommand, unsupported, UsageError, type RunFlags } from './options.js';
import { runSimulation } from './world.js';

export const SWEEP_HELP = `usage: conclave sim sweep --seeds A..B [options] [--jobs J] [--json]

Run every seed from A to B (inclusive). Exit 1 at the first failing seed (printed with the
command that reproduces it), else 0 with a summary (seeds run, wall time, seeds per second).

options: --nodes N, --partitions P, --duration-ms V, --faults LIST, --bug NAME, --workload kv
(as for conclave sim), and
  --jobs J     worker threads (default 1)
  --json       print one JSON summary object`;

export interface SeedOutcome {
  readonly seed: number;
  readonly ok: boolean;
  readonly traceHash: string;
  readonly violations: ReadonlyArray<{ readonly kind: string; readonly message: string }>;
  readonly linearizable: boolean | 'unknown' | null;
  readonly virtualMs: number;
  readonly wallMs: number;
}

export function runSeed(seed: number, flags: RunFlags): SeedOutcome {
  const r = runSimulation(optionsFromFlags(seed, flags));
  return {
    seed,
    ok: r.ok,
    traceHash: r.traceHash,
    violations: r.violations.map((v) => ({ kind: v.kind, message: v.message })),
    linearizable: r.linearizable,
    virtualMs: r.stats.virtualMs,
    wallMs: r.stats.wallMs,
  };
}

export function parseSeedRange(text: string | undefined): readonly [number, number] {
  const m = text === undefined ? null : /^(\d+)\.\.(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`--seeds expects A..B (e.g. 1..500), got '${text ?? ''}'`);
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (b < a) throw new UsageError(`--seeds ${text}: the range is empty`);
  return [a, b];
}

export interface SweepSummary {
  readonly ok: boolean;
  readonly seedsRun: number;
  readonly wallMs: number;
  readonly seedsPerSec: number;
  readonly failure: SeedOutcome | null;
}

/** Run seeds [a, b] in order on `jobs` workers (1: in this thread). */
export async function sweep(a: number, b: number, flags: RunFlags, jobs: number, onSeed?: (o: SeedOutcome) => void): Promise<SweepSummary> {
  const start = performance.now();
  const outcomes: SeedOutcome[] = [];
  let failure: SeedOutcome | null = null;
  if (jobs <= 1) {
    for (let s = a; s <= b; s++) {
      const o = runSeed(s, flags);
      outcomes.push(o);
      onSeed?.(o);
      if (!o.ok) {
        failure = o;
        break;
      }
    }
  } else {
    let next = a;
    let stop = false;
    await new Promise<void>((resolve, reject) => {
      let live = 0;
      const workers: Worker[] = [];
      const feed = (w: Worker): void => {
        if (stop || next > b) {
          void w.terminate();
          live--;
          if (live === 0) resolve();
          return;
        }
        w.postMessage(next++);
      };
      for (let j = 0; j < Math.min(jobs, b - a + 1); j++) {
        const w = new Worker(new URL('./sweep-worker.js', import.meta.url), { workerData: { flags } });
        workers.push(w);
        live++;
        w.on('message', (o: SeedOutcome) => {
          outcomes.push(o);
          onSeed?.(o);
          if (!o.ok) stop = true;
          feed(w);
        });
        w.on('error', (err) => {
          stop = true;
          for (const x of workers) void x.terminate();
          reject(err);
        });
        feed(w);
      }
    });
    const failed = outcomes.filter((o) => !o.ok).sort((x, y) => x.seed - y.seed);
    failure = failed[0] ?? null;
  }
  const wallMs = performance.now() - start;
  return { ok: failure === null, seedsRun: outcomes.length, wallMs, seedsPerSec: outcomes.length / (wallMs / 1000), failure };
}

export async function sweepMain(args: readonly string[]): Promise<number> {
  const flags = defaultFlags();
  let range: readonly [number, number] | null = null;
  let jobs = 1;
  let json = false;
  try {
    for (let i = 0; i < args.length; ) {
      const a = args[i]!;
      if (a === '-h' || a === '--help') {
        process.stdout.write(SWEEP_HELP + '\n');
        return 0;
      }
      const used = parseRunFlag(flags, args, i);
      if (used > 0) {
        i += used;
        continue;
      }
      if (a === '--seeds') {
        range = parseSeedRange(args[i + 1]);
        i += 2;
      } else if (a === '--jobs') {
        jobs = parseIntArg(a, args[i + 1], 1, 64);
        i += 2;
      } else if (a === '--json') {
        json = true;
        i += 1;
      } else throw new UsageError(`unknown option '${a}' (see conclave sim sweep --help)`);
    }
    if (range === null) throw new UsageError('--seeds A..B is required (see conclave sim sweep --help)');
    const why = unsupported(flags);
    if (why !== null) throw new UsageError(why);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`conclave sim sweep: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const [a, b] = range;
  const res = await sweep(a, b, flags, jobs, json ? undefined : (o) => {
    if (!o.ok) process.stdout.write(`seed ${o.seed}: FAILED ${o.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}\n`);
  });
  const summary = {
    ok: res.ok,
    seeds: `${a}..${b}`,
    seedsRun: res.seedsRun,
    wallMs: Math.round(res.wallMs),
    seedsPerSec: Math.round(res.seedsPerSec * 100) / 100,
    jobs,
    ...(res.failure !== null ? { failingSeed: res.failure.seed, violations: res.failure.violations, reproduce: reproduceCommand(res.failure.seed, flags) } : {}),
  };
  if (json) process.stdout.write(JSON.stringify(summary) + '\n');
  else if (res.failure !== null) {
    process.stdout.write(`sweep FAILED at seed ${res.failure.seed} after ${res.seedsRun} seeds (${(res.wallMs / 1000).toFixed(1)}s)\n`);
    process.stdout.write(`reproduce: ${reproduceCommand(res.failure.seed, flags)}\n`);
  } else {
    process.stdout.write(`sweep OK: ${res.seedsRun} seeds in ${(res.wallMs / 1000).toFixed(1)}s (${res.seedsPerSec.toFixed(2)} seeds/s, ${jobs} job(s))\n`);
  }
  return res.ok ? 0 : 1;
}
