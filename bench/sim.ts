// Benchmark of the simulator. `npm run bench:sim`. Prints numbers, asserts nothing.
//   1. speed: a 5-node cluster under faults with a 200 ops/s client load for 60 s of virtual
//      time — virtual/wall ratio (target >= 100x), with and without the end-of-run
//      linearizability check, and virtual/CPU (the machine may be shared);
//   2. sweep throughput: seeds per second of `sim sweep` with the default options, one thread;
//   3. memory: peak RSS and heap of a 10-minute virtual run (target < 200 MB; compaction keeps
//      logs and disks bounded), measured in a child process so this one's heap does not count.
//   4. idle: a 5-node x 64-partition cluster (RF 3) with no load for 60 s of virtual time in the
//      simulator (virtual/wall, target >= 500x; messages/s), then what an idle node costs on the
//      wire (messages/s and msgpack bytes/s per node, through the real frame encoder, on a
//      perfect network) and in memory (heap per hosted partition replica).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeFrame } from '../adapters/transport/frame.js';
import { ClusterNode } from '../core/node/node.js';
import type { PeerMessage } from '../core/node/types.js';
import { nodeId, type NodeId } from '../core/types.js';
import { SimDisk } from '../sim/disk.js';
import { Rng } from '../sim/rng.js';
import { DEFAULT_TUNING } from '../sim/tuning.js';
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

/** The simulator on an idle 5 x 64 cluster (no faults, default tuning, one client asking once a minute). */
function idleSim(): void {
  const tuning = { ...DEFAULT_TUNING, workload: { ...DEFAULT_TUNING.workload, clients: 1, opsPerSec: 1 / 60 } };
  const run = (): { r: SimResult; wallMs: number; cpuMs: number } =>
    timed(() => runSimulation(defaultOptions(1, { nodes: 5, partitions: 64, durationMs: 60_000, faults: new Set(), swarm: false, tuning, checkLinearizability: false })));
  run(); // warm up
  const { r, wallMs, cpuMs } = run();
  const s = r.stats;
  process.stdout.write(
    `4. idle: 5 nodes x 64 partitions (RF 3), no load, 60 s virtual: ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms cpu, ` +
      `${(s.virtualMs / wallMs).toFixed(0)}x virtual/wall (target >= 500x), ${(s.virtualMs / cpuMs).toFixed(0)}x virtual/cpu, ` +
      `${s.events} events, ${(s.messages / (s.virtualMs / 1000)).toFixed(0)} messages/s in the cluster, ${s.elections} elections\n`,
  );
}

/**
 * Five ClusterNodes on a perfect network (every message delivered at once), ticked every 10 ms
 * of a shared clock: after a warm-up in which the groups elect and go quiet, what an idle node
 * sends per second (messages and bytes, each message encoded by the real transport's frame
 * encoder), and the heap the cluster holds per hosted partition replica.
 */
export function idleCost(nodes = 5, partitions = 64): { msgsPerNodeSec: number; bytesPerNodeSec: number; heapPerReplicaBytes: number; replicas: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const ids: NodeId[] = Array.from({ length: nodes }, (_, i) => nodeId(`n${i + 1}`));
  const cluster = new Map(
    ids.map((id) => [
      id,
      new ClusterNode(
        { id, nodes: ids, partitions, tickMs: 10, electionTicks: 15, heartbeatTicks: 3, compactAfterEntries: 500, requestTimeoutMs: 10_000, random: new Rng(`idle/${id}`) },
        new SimDisk(),
      ),
    ]),
  );
  let counting = false;
  let msgs = 0;
  let bytes = 0;
  const queue: PeerMessage[] = [];
  const collect = (id: NodeId): void => {
    for (const pm of cluster.get(id)!.drain().messages) {
      if (counting) {
        msgs++;
        bytes += encodeFrame({ t: 'msgs', ms: [pm] }).length;
      }
      queue.push(pm);
    }
  };
  for (const id of ids) collect(id);
  let nowMs = 0;
  const run = (ms: number): void => {
    for (let t = 0; t < ms; t += 10) {
      nowMs += 10;
      for (const id of ids) {
        cluster.get(id)!.tick(nowMs);
        collect(id);
      }
      for (let i = 0; i < queue.length; i++) {
        const pm = queue[i]!;
        cluster.get(pm.to)!.receive(pm);
        collect(pm.to);
      }
      queue.length = 0;
    }
  };
  run(5_000);
  counting = true;
  run(10_000);
  gc?.();
  const heap1 = process.memoryUsage().heapUsed;
  let replicas = 0;
  for (const n of cluster.values()) replicas += n.hostedPartitions().length;
  return { msgsPerNodeSec: msgs / 10 / nodes, bytesPerNodeSec: bytes / 10 / nodes, heapPerReplicaBytes: (heap1 - heap0) / replicas, replicas };
}

function idleCostReport(): void {
  const self = fileURLToPath(import.meta.url);
  const code = `const { idleCost } = await import(${JSON.stringify(self)}); process.stdout.write(JSON.stringify(idleCost()));`;
  const res = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, CONCLAVE_BENCH_CHILD: '1' } });
  if (res.status !== 0) {
    process.stdout.write(`   idle cost: the child failed: ${res.stderr.split('\n').slice(-3).join(' ')}\n`);
    return;
  }
  const c = JSON.parse(res.stdout) as ReturnType<typeof idleCost>;
  process.stdout.write(
    `   an idle node of 5 x 64 (RF 3, ~${(c.replicas / 5).toFixed(0)} replicas each): ${c.msgsPerNodeSec.toFixed(0)} messages/s and ${(c.bytesPerNodeSec / 1024).toFixed(1)} KiB/s sent (framed msgpack); ` +
      `heap ${(c.heapPerReplicaBytes / 1024).toFixed(1)} KiB per hosted partition replica (${((c.heapPerReplicaBytes * 3) / 1024).toFixed(1)} KiB per partition at RF 3)\n`,
  );
}

if (process.env['CONCLAVE_BENCH_CHILD'] === undefined) {
  const only = process.argv[2];
  if (only === undefined || only === 'speed') speed();
  if (only === undefined || only === 'sweep') sweepRate();
  if (only === undefined || only === 'memory') {
    memory(null);
    memory(96);
  }
  if (only === undefined || only === 'idle') {
    idleSim();
    idleCostReport();
  }
}
