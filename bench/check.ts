// Benchmark of the linearizability checker on generated histories (jepsen/generate/).
// `npm run bench:check`. It prints numbers and asserts nothing; a verdict that differs from
// the one the history was built to have is printed as MISMATCH, loudly.
//
// Options: --quick (smaller hard cases), --only <substring> (run matching cases),
//          --timeout-ms N (the checker's budget per case; default 10000).
import { checkHistory, checkHistoryParallel } from '../jepsen/check.js';
import type { CheckResult, Verdict } from '../jepsen/types.js';
import { generateHistory } from '../jepsen/generate/history.js';
import { manyKeysCase, singleKeyCase, type HardCase } from '../jepsen/generate/hard.js';
import { plantStaleRead } from '../jepsen/generate/stale.js';
import { repeatedCase, repeatedName } from '../jepsen/generate/repeated.js';

interface Row {
  readonly name: string;
  readonly model: string;
  readonly ops: number;
  readonly events: number;
  readonly expected: boolean;
  readonly verdict: Verdict;
  readonly ms: number;
  readonly opsPerSec: number;
  readonly methods: string;
  readonly status: 'ok' | 'MISMATCH' | 'UNKNOWN';
  readonly targetMs: number;
  readonly genMs: number;
}

function parseArgs(argv: readonly string[]): { quick: boolean; only: string | null; timeoutMs: number; jobs: number } {
  let quick = false;
  let only: string | null = null;
  let timeoutMs = 10_000;
  let jobs = 2;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--only') only = argv[++i] ?? null;
    else if (a === '--timeout-ms') timeoutMs = Number(argv[++i]);
    else if (a === '--jobs') jobs = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node dist/bench/check.js [--quick] [--only SUBSTRING] [--timeout-ms N] [--jobs J]\n');
      process.exit(0);
    } else {
      process.stderr.write(`bench/check: unknown option ${String(a)}\n`);
      process.exit(2);
    }
  }
  if (!(timeoutMs > 0) || !(jobs >= 1)) {
    process.stderr.write('bench/check: --timeout-ms and --jobs must be positive\n');
    process.exit(2);
  }
  return { quick, only, timeoutMs, jobs };
}

interface Case {
  readonly build: () => HardCase;
  readonly name: string;
  readonly targetMs: number;
  readonly parallel?: boolean;
  /** Checker option `cuts` (quiescent-point cuts, docs/checker.md proof 8); default on. */
  readonly cuts?: boolean;
}

function cases(quick: boolean): Case[] {
  const out: Case[] = [];
  out.push({
    name: '1 key, 10 procs, 2000 ops, 30% cas',
    targetMs: 1000,
    build: () => ({
      name: '1 key, 10 procs, 2000 ops, 30% cas',
      model: 'cas-register',
      expected: true,
      history: generateHistory({ seed: 101, ops: 2000, processes: 10, register: true, mix: { read: 0.4, write: 0.3, cas: 0.3 } }),
    }),
  });
  out.push({
    name: '200 keys, 32 procs, 20000 ops',
    targetMs: 1000,
    build: () => ({
      name: '200 keys, 32 procs, 20000 ops',
      model: 'kv',
      expected: true,
      history: generateHistory({ seed: 102, ops: 20_000, processes: 32, keys: 200, infoRate: 0.05 }),
    }),
  });
  // The hard single-key histories: every concurrency level, at the small and the large end
  // of the ops and info ranges, linearizable and with one stale read late.
  const sizes: ReadonlyArray<{ ops: number; info: number }> = quick
    ? [{ ops: 1000, info: 0.1 }]
    : [
        { ops: 1000, info: 0.1 },
        { ops: 5000, info: 0.3 },
      ];
  for (const processes of [8, 16, 32, 64]) {
    for (const { ops, info } of sizes) {
      for (const stale of [false, true]) {
        const seed = 1000 + processes * 10 + (stale ? 1 : 0) + ops;
        const name = `1 key, ${processes} procs, ${ops} ops, ${Math.round(info * 100)}% info, ${stale ? 'stale late' : 'linearizable'}`;
        out.push({ name, targetMs: 10_000, build: () => ({ ...singleKeyCase({ processes, ops, infoRate: info, stale, seed }), name }) });
      }
    }
  }
  // The same shapes with 20% cas (model cas-register).
  for (const processes of [8, 16, 32, 64]) {
    for (const { ops, info } of sizes) {
      for (const stale of [false, true]) {
        const seed = 2000 + processes * 10 + (stale ? 1 : 0) + ops;
        const name = `1 key, ${processes} procs, ${ops} ops, ${Math.round(info * 100)}% info, 20% cas, ${stale ? 'stale late' : 'linearizable'}`;
        out.push({ name, targetMs: 10_000, build: () => ({ ...singleKeyCase({ processes, ops, infoRate: info, stale, seed, cas: 0.2 }), name }) });
      }
    }
  }
  // Repeated values (1..500 over ~500 writes): a read's value no longer names the write it
  // saw, so a checker cannot decide by unique values and must search.
  for (const processes of [8, 16, 32, 64]) {
    for (const stale of [false, true]) {
      const seed = 3000 + processes * 10 + (stale ? 1 : 0);
      const name = `1 key, ${processes} procs, 1000 ops, 10% info, values 1..500, ${stale ? 'stale late' : 'linearizable'}`;
      out.push({ name, targetMs: 10_000, build: () => ({ ...singleKeyCase({ processes, ops: 1000, infoRate: 0.1, stale, seed, values: 500 }), name }) });
    }
  }
  // One read late that sees a value from the future (jepsen/generate/future.ts): a violation
  // that no stale-read pattern names, so the search has to refute it.
  for (const processes of [8, 16, 32, 64]) {
    for (const values of [undefined, 500] as const) {
      const ops = values === undefined ? 5000 : 1000;
      const info = values === undefined ? 0.3 : 0.1;
      const seed = 4000 + processes * 10 + (values === undefined ? 0 : 1);
      const name = `1 key, ${processes} procs, ${ops} ops, ${Math.round(info * 100)}% info${values === undefined ? '' : `, values 1..${values}`}, future read late`;
      out.push({
        name,
        targetMs: 10_000,
        build: () => ({ ...singleKeyCase({ processes, ops, infoRate: info, stale: false, future: true, seed, ...(values === undefined ? {} : { values }) }), name }),
      });
    }
  }
  // Small but hard: one register, few processes, repeated values (1..5) and 25% info. Found
  // by the property tests (test/jepsen/generated.test.ts): equal values do not tell the open
  // info writes apart, so proving the stale read takes the search a long time.
  for (const stale of [false, true]) {
    const name = `1 key, 3 procs, 113 ops, 25% info, repeated values, ${stale ? 'stale late' : 'linearizable'}`;
    out.push({
      name,
      targetMs: 1000,
      build: () => {
        const history = generateHistory({ seed: 1153977273, ops: 113, processes: 3, register: true, mix: { read: 0.5, write: 0.4, delete: 0.1 }, infoRate: 0.25, values: 5 });
        if (!stale) return { name, model: 'register', expected: true, history };
        const planted = plantStaleRead(history, { position: 'late' });
        if (planted === null) throw new Error(`${name}: no read could be made stale`);
        return { name, model: 'register', expected: false, history: planted };
      },
    });
  }
  // Issue 12: hot keys with values 0..4, many processes, many info writes (--only 'values 0..4').
  // Linearizable from the atomic store; 'stale' and 'pigeonhole' planted late by the
  // constructions proven in jepsen/generate/repeated.ts.
  const repSizes: ReadonlyArray<{ ops: number; info: number }> = quick
    ? [{ ops: 500, info: 0.1 }]
    : [
        { ops: 500, info: 0.1 },
        { ops: 5000, info: 0.3 },
      ];
  const variants = ['linearizable', 'stale', 'pigeonhole'] as const;
  for (const processes of [4, 16, 64]) {
    for (const { ops, info } of repSizes) {
      variants.forEach((variant, vi) => {
        const p = { seed: 5000 + processes * 10 + vi + ops, ops, processes, infoRate: info, variant };
        out.push({ name: repeatedName(p), targetMs: 10_000, build: () => repeatedCase(p) });
      });
    }
  }
  for (const keys of [3, 4]) {
    variants.forEach((variant, vi) => {
      const p = { seed: 6000 + keys * 10 + vi, ops: 2000, processes: 32, infoRate: 0.2, keys, variant };
      out.push({ name: repeatedName(p), targetMs: 10_000, build: () => repeatedCase(p) });
    });
  }
  // Quiescent-point cuts (proof 8): a long one-key history with low concurrency and no info,
  // values 0..4 (so the search decides it), checked without and with cuts, side by side
  // (--only quiescent).
  const qOps = quick ? 5000 : 20_000;
  for (const cuts of [false, true]) {
    const name = `1 key, 2 procs, ${qOps} ops, no info, 5 values, quiescent, cuts ${cuts ? 'on' : 'off'}`;
    out.push({
      name,
      targetMs: 10_000,
      cuts,
      build: () => ({ name, model: 'cas-register', expected: true, history: generateHistory({ seed: 7002, ops: qOps, processes: 2, register: true, mix: { read: 0.5, write: 0.4, cas: 0.1 }, values: 5, valueMin: 0 }) }),
    });
  }
  const bigOps = quick ? 10_000 : 50_000;
  for (const skew of ['uniform', 'zipf'] as const) {
    for (const stale of [false, true]) {
      const name = `100 keys ${skew}, 32 procs, ${bigOps} ops, ${stale ? 'stale late' : 'linearizable'}`;
      out.push({ name, targetMs: 10_000, build: () => ({ ...manyKeysCase({ keys: 100, processes: 32, ops: bigOps, skew, stale, seed: skew === 'zipf' ? 7 : 8 }), name }) });
    }
    const pname = `100 keys ${skew}, 32 procs, ${bigOps} ops, linearizable, parallel`;
    out.push({ name: pname, targetMs: 10_000, parallel: true, build: () => ({ ...manyKeysCase({ keys: 100, processes: 32, ops: bigOps, skew, seed: skew === 'zipf' ? 7 : 8 }), name: pname }) });
  }
  return out;
}

function methodsOf(r: CheckResult): string {
  const counts = new Map<string, number>();
  for (const p of r.partitions) counts.set(p.method ?? '?', (counts.get(p.method ?? '?') ?? 0) + 1);
  return [...counts.entries()].map(([m, n]) => (r.partitions.length === 1 ? m : `${m}×${n}`)).join(' ');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function padLeft(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows: Row[] = [];
  const selected = cases(args.quick).filter((c) => args.only === null || c.name.includes(args.only));
  process.stdout.write(`bench:check — ${selected.length} cases, checker timeout ${args.timeoutMs} ms, node ${process.version}\n\n`);
  for (const c of selected) {
    const g0 = performance.now();
    const hc = c.build();
    const genMs = performance.now() - g0;
    const events = hc.history.events;
    const t0 = performance.now();
    const result = c.parallel === true
      ? await checkHistoryParallel(events, hc.model, { timeoutMs: args.timeoutMs, jobs: args.jobs })
      : checkHistory(events, hc.model, { timeoutMs: args.timeoutMs, ...(c.cuts !== undefined ? { cuts: c.cuts } : {}) });
    const ms = performance.now() - t0;
    const status: Row['status'] = result.valid === 'unknown' ? 'UNKNOWN' : result.valid === hc.expected ? 'ok' : 'MISMATCH';
    const row: Row = {
      name: c.name,
      model: hc.model,
      ops: result.ops,
      events: events.length,
      expected: hc.expected,
      verdict: result.valid,
      ms: Math.round(ms * 10) / 10,
      opsPerSec: Math.round(result.ops / (ms / 1000)),
      methods: methodsOf(result),
      status,
      targetMs: c.targetMs,
      genMs: Math.round(genMs),
    };
    rows.push(row);
    const flag = status === 'MISMATCH' ? `   <<<<<<<<<< MISMATCH: expected ${String(hc.expected)}, checker said ${String(result.valid)} >>>>>>>>>>` : status === 'UNKNOWN' ? '   (UNKNOWN: the checker ran out of time)' : '';
    const slow = ms > c.targetMs ? `  [over the ${c.targetMs} ms target]` : '';
    process.stdout.write(`${pad(c.name, 70)} ${pad(String(result.valid), 8)} ${padLeft(row.ms.toFixed(1), 9)} ms ${padLeft(String(row.opsPerSec), 9)} ops/s${slow}${flag}\n`);
  }

  process.stdout.write('\nsummary\n');
  const header = `${pad('case', 70)} ${pad('model', 12)} ${padLeft('ops', 6)} ${pad('expect', 6)} ${pad('verdict', 8)} ${padLeft('ms', 9)} ${padLeft('ops/s', 9)}  ${pad('status', 8)} method`;
  process.stdout.write(`${header}\n${'-'.repeat(header.length + 10)}\n`);
  for (const r of rows) {
    process.stdout.write(
      `${pad(r.name, 70)} ${pad(r.model, 12)} ${padLeft(String(r.ops), 6)} ${pad(String(r.expected), 6)} ${pad(String(r.verdict), 8)} ${padLeft(r.ms.toFixed(1), 9)} ${padLeft(String(r.opsPerSec), 9)}  ${pad(r.status, 8)} ${r.methods}\n`,
    );
  }
  const mismatches = rows.filter((r) => r.status === 'MISMATCH');
  const unknowns = rows.filter((r) => r.status === 'UNKNOWN');
  const slow = rows.filter((r) => r.ms > r.targetMs);
  process.stdout.write(`\n${rows.length} cases: ${mismatches.length} MISMATCH, ${unknowns.length} unknown, ${slow.length} over target\n`);
  for (const r of mismatches) process.stdout.write(`MISMATCH: ${r.name}: expected ${String(r.expected)}, got ${String(r.verdict)}\n`);
  process.stdout.write(
    JSON.stringify({
      bench: 'check',
      timeoutMs: args.timeoutMs,
      mismatches: mismatches.length,
      unknown: unknowns.length,
      overTarget: slow.length,
      cases: rows,
    }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/check: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(3);
});
