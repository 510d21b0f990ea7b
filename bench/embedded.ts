// Embedded-mode benchmark: durable writes/s and point reads/s of `open(dir)` (one node, the
// whole core: Raft log, apply, LMDB with group commit), 100-byte values like Concord's claim.
// `npm run bench:embedded` (BENCH_WRITES, BENCH_READS, BENCH_CONCURRENCY to change the sizes).
// Prints numbers beside Concord's published figure and the ratio; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Database } from '../adapters/embedded.js';
import type { Consistency } from '../client/index.js';

const WRITES = Number(process.env['BENCH_WRITES'] ?? 20_000);
const READS = Number(process.env['BENCH_READS'] ?? 50_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 256);
const KEYS = 10_000;
const CONCORD_LOW = 600_000;
const CONCORD_HIGH = 870_000;
const VALUE = 'v'.repeat(100);

/** Run `total` operations with `concurrency` in flight; ops per second of wall time. */
async function rate(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'conclave-bench-embedded-'));
  let db: Database | null = null;
  try {
    db = await open(join(root, 'db'), { partitions: 8 });
    const d = db;
    const writes = await rate(WRITES, CONCURRENCY, (i) => d.kv.put(`k${i % KEYS}`, VALUE));
    const writesSerial = await rate(Math.min(2000, WRITES), 1, (i) => d.kv.put(`s${i % KEYS}`, VALUE));
    const reads: Record<Consistency, number> = { strong: 0, leader: 0, eventual: 0 };
    for (const c of ['strong', 'leader', 'eventual'] as const) reads[c] = await rate(READS, CONCURRENCY, (i) => d.kv.get(`k${(i * 7919) % KEYS}`, { consistency: c }));
    const best = Math.max(writes, ...Object.values(reads));
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const lines = [
      `embedded mode (1 node, 8 partitions, LMDB, 100-byte values, ${CONCURRENCY} in flight; a shared, loaded machine)`,
      `  durable writes/s           ${fmt(writes).padStart(10)}   (one at a time: ${fmt(writesSerial)}/s)`,
      `  point reads/s, strong      ${fmt(reads.strong).padStart(10)}`,
      `  point reads/s, leader      ${fmt(reads.leader).padStart(10)}`,
      `  point reads/s, eventual    ${fmt(reads.eventual).padStart(10)}`,
      `Concord's published claim: ${fmt(CONCORD_LOW)}-${fmt(CONCORD_HIGH)} ops/s (in memory, unreplicated)`,
      `  ours / Concord low: writes ${(writes / CONCORD_LOW).toFixed(3)}, best reads ${(best / CONCORD_LOW).toFixed(3)}`,
      'What differs: every write here goes through a Raft log entry, the state machine and an LMDB',
      'commit with fsync before it resolves (durable; group commit shares one fsync among the writes',
      'in flight); Concord\'s figure is in memory with nothing durable. A strong read here is a',
      'ReadIndex read through the core; each operation is a Promise through the node host.',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    process.stdout.write(JSON.stringify({ writes_per_s: Math.round(writes), writes_serial_per_s: Math.round(writesSerial), reads_per_s: Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, Math.round(v)])), concurrency: CONCURRENCY, writes: WRITES, reads: READS, concord_ops_per_s: [CONCORD_LOW, CONCORD_HIGH] }) + '\n');
  } finally {
    await db?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
