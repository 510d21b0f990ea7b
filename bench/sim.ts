// Benchmark of the simulator. `npm run bench:sim`. Prints numbers, asserts nothing.
//   1. speed: a 5-node cluster under faults with a 200 ops/s client load for 60 s of virtual
//      time — virtual/wall ratio (target >= 100x), with and without the end-of-run
//      linearizability check, and virtual/CPU (the machine may be shared);
//   2. sweep throughput: seeds per second of `sim sweep` with the default options, one thread;
//   3. memory: peak RSS and heap of a 10-minute virtual run (target < 200 MB; compaction keeps
//      logs and disks bounded), measured in a child process so this one's heap does not count.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultFlags } from '../sim/options.js';
import { runSeed } from '../sim/sweep.js';
import { defaultOptions } from '../sim/options.js';
import { runSimulation, type SimResult } from '../sim/world.js';

// One request outstanding per client process, and faults stall some: 40 client machines offer 200 ops/s.
const LOAD = { opsPerSec: 200, clients: 40 } as const;

function timed(f: () => SimResult): { r: SimResult; wallMs: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = f();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { r, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

function speed(): void {
  process.stdout.write('1. speed: 5 nodes, all faults (swarm), 200 ops/s offered by 40 clients, 60 s virtual\n');
  runSimulation(defaultOptions(99, { workloadConfig: LOAD, durationMs: 20_000 })); // warm up the JIT
  process.stdout.write('   seed  check  wall ms  cpu ms  virtual/wall  virtual/cpu  events  messages  ops/s done  committed  ok\n');
  const ratios: number[] = [];
  for (const seed of [1, 2, 3, 4, 5]) {
    for (const check of [false, true]) {
      const { r, wallMs, cpuMs } = timed(() => runSimulation(defaultOptions(seed, { workloadConfig: LOAD, checkLinearizability: check })));
      const s = r.stats;
      if (check) ratios.push(s.virtualMs / wallMs);
      process.stdout.write(
        `   ${String(seed).padStart(4)}  ${check ? 'yes' : 'no '}  ${wallMs.toFixed(0).padStart(7)}  ${cpuMs.toFixed(0).padStart(6)}  ${(s.virtualMs / wallMs).toFixed(0).padStart(11)}x  ${(s.virtualMs / cpuMs).toFixed(0).padStart(10)}x  ${String(s.events).padStart(6)}  ${String(s.messages).padStart(8)}  ${(s.clientOps / (s.virtualMs / 1000)).toFixed(0).padStart(10)}  ${String(s.committed).padStart(9)}  ${r.ok}\n`,
      );
    }
  }
  {
    // The same load with no faults: the offered rate is met when nothing stalls the clients.
    const { r, wallMs, cpuMs } = timed(() => runSimulation(defaultOptions(1, { workloadConfig: LOAD, faults: new Set(), swarm: false })));
    const s = r.stats;
    process.stdout.write(
      `   no faults (seed 1, with check): ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms cpu, ${(s.virtualMs / wallMs).toFixed(0)}x wall, ${(s.clientOps / (s.virtualMs / 1000)).toFixed(0)} ops/s done, ${s.events} events, ok ${r.ok}\n`,
    );
  }
  ratios.sort((a, b) => a - b);
  process.stdout.write(`   median virtual/wall with the check: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(0)}x\n`);
}

function sweepRate(): void {
  const n = 20;
  const t0 = performance.now();
  let failed = 0;
  for (let s = 1; s <= n; s++) if (!runSeed(s, defaultFlags()).ok) failed++;
  const sec = (performance.now() - t0) / 1000;
  process.stdout.write(`2. sweep: ${n} seeds (defaults: 5 nodes, 60 s, all faults) in ${sec.toFixed(1)} s = ${(n / sec).toFixed(2)} seeds/s on one thread (${failed} failed)\n`);
}

/**
 * Runs the 10-minute simulation in a fresh process. Uncapped, V8 on a large machine lets
 * garbage pile up, so peak RSS says little about what the run needs; with a hard heap cap
 * (`--max-old-space-size`) the run must finish or die out of memory, which shows that its
 * live memory is bounded (compaction works).
 */
function memory(heapCapMb: number | null): void {
  const world = fileURLToPath(new URL('../sim/world.js', import.meta.url));
  const options = fileURLToPath(new URL('../sim/options.js', import.meta.url));
  const code = `
    const { runSimulation } = await import(${JSON.stringify(world)});
    const { defaultOptions } = await import(${JSON.stringify(options)});
    const t0 = performance.now();
    const r = runSimulation(defaultOptions(9, { durationMs: 600000, workloadConfig: { opsPerSec: 200, clients: 40 }, checkLinearizability: false }));
    const heap = process.memoryUsage().heapUsed;
    process.stdout.write(JSON.stringify({ wallMs: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS, heapMb: heap / 1048576, ok: r.ok, ops: r.stats.clientOps, applied: r.stats.appliedEntries, diskBytes: r.stats.diskBytes, historyEvents: r.history.length }));
  `;
  const flags = heapCapMb === null ? [] : [`--max-old-space-size=${heapCapMb}`];
  const res = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', code], { encoding: 'utf8' });
  if (res.status !== 0) {
    process.stdout.write(`3. memory${heapCapMb === null ? '' : ` (heap capped at ${heapCapMb} MB)`}: the child failed: ${res.stderr.split('\n').slice(-3).join(' ')}\n`);
    return;
  }
  const m = JSON.parse(res.stdout) as { wallMs: number; maxRssKb: number; heapMb: number; ok: boolean; ops: number; applied: number; diskBytes: number; historyEvents: number };
  process.stdout.write(
    `3. memory${heapCapMb === null ? '' : ` (heap capped at ${heapCapMb} MB)`}: 10 min virtual (seed 9, 200 ops/s, faults): peak RSS ${(m.maxRssKb / 1024).toFixed(0)} MB, heap at end ${m.heapMb.toFixed(0)} MB ` +
      `(holding a ${m.historyEvents}-event history), simulated disks ${(m.diskBytes / 1024).toFixed(0)} KiB after ${m.applied} applied entries, ` +
      `${(600000 / m.wallMs).toFixed(0)}x, ok=${m.ok}\n`,
  );
}

speed();
sweepRate();
memory(null);
memory(96);
