// Storage benchmark: MemStore point writes and reads, range scans, the key-value face's put and
// get through apply (and get as a ReadIndex read), snapshot throughput, and — when
// bench/storage-records.ts exists — the record model's figures. `npm run bench:storage`.
//
// Rates are operations per second of wall time, best of three rounds (the machine is shared;
// the best round is the one least disturbed). Each is also given per second of this process's
// CPU time (`_cpu`), which contention distorts less. The LAST line printed is one JSON object
// with every figure. It asserts nothing.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MemStore } from '../core/storage/memstore.js';
import { encodeKey } from '../core/storage/encoding.js';
import { takeSnapshot, restoreSnapshot } from '../core/storage/snapshot.js';
import { KvStateMachine, type KvCommand } from '../core/storage/kv/index.js';
import { timestampFromMs } from '../core/storage/types.js';
import { logIndex } from '../core/types.js';

const ROUNDS = 3;
const KEYS = 200_000;
const READS = 1_000_000;

interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `body` (which performs `ops` operations) ROUNDS times after `setup`; best rates. */
function measure(ops: number, setup: () => void, body: () => void): Rate {
  let wall = 0;
  let cpu = 0;
  for (let r = 0; r < ROUNDS; r++) {
    setup();
    const c0 = cpuMs();
    const t0 = performance.now();
    body();
    const dt = performance.now() - t0;
    const dc = cpuMs() - c0;
    wall = Math.max(wall, (ops / dt) * 1000);
    cpu = Math.max(cpu, (ops / Math.max(dc, 1e-3)) * 1000);
  }
  return { wall: Math.round(wall), cpu: Math.round(cpu) };
}

/** Deterministic pseudo-random keys shaped like real index keys: ('user', id, 'profile'). */
function makeKeys(n: number): Uint8Array[] {
  const keys: Uint8Array[] = [];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647;
    keys.push(encodeKey(['user', x, 'profile']));
  }
  return keys;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

async function main(): Promise<void> {
  const figures: Record<string, number> = {};
  const report = (name: string, r: Rate, unit = 'ops/s'): void => {
    figures[name] = r.wall;
    figures[`${name}_cpu`] = r.cpu;
    console.log(`${name.padEnd(36)} ${fmt(r.wall).padStart(12)} ${unit}   (${fmt(r.cpu)} per CPU-second)`);
  };

  const keys = makeKeys(KEYS);
  const value = new Uint8Array(64).fill(7);
  let store = new MemStore();

  report(
    'memstore_point_writes_per_s',
    measure(KEYS, () => (store = new MemStore()), () => {
      for (const key of keys) store.write([{ type: 'put', key, value }]);
    }),
  );
  report(
    'memstore_point_overwrites_per_s',
    measure(KEYS, () => undefined, () => {
      for (const key of keys) store.write([{ type: 'put', key, value }]);
    }),
  );
  report(
    'memstore_batched_writes_per_s',
    measure(KEYS, () => (store = new MemStore()), () => {
      for (let i = 0; i < keys.length; i += 100) store.write(keys.slice(i, i + 100).map((key) => ({ type: 'put' as const, key, value })));
    }),
  );
  let hits = 0;
  report(
    'memstore_point_reads_per_s',
    measure(READS, () => (hits = 0), () => {
      for (let i = 0; i < READS; i++) if (store.get(keys[i % KEYS]!) !== undefined) hits++;
    }),
  );
  if (hits !== READS) throw new Error(`benchmark bug: ${hits} of ${READS} reads hit`);
  report(
    'memstore_point_deletes_per_s',
    measure(KEYS, () => {
      store = new MemStore();
      for (let i = 0; i < keys.length; i += 1000) store.write(keys.slice(i, i + 1000).map((key) => ({ type: 'put' as const, key, value })));
    }, () => {
      for (const key of keys) store.write([{ type: 'delete', key }]);
    }),
  );
  store = new MemStore();
  for (let i = 0; i < keys.length; i += 1000) store.write(keys.slice(i, i + 1000).map((key) => ({ type: 'put' as const, key, value })));
  report(
    'memstore_range_entries_per_s',
    measure(KEYS, () => undefined, () => {
      let n = 0;
      for (const _ of store.range()) n++;
      if (n !== KEYS) throw new Error('benchmark bug: scan count');
    }),
    'entries/s',
  );

  let snap: Uint8Array = new Uint8Array(0);
  const snapMb = () => snap.length / 1e6;
  const snapRate = measure(1, () => undefined, () => (snap = takeSnapshot(store)));
  report('snapshot_take_mb_per_s', { wall: Math.round(snapRate.wall * snapMb()), cpu: Math.round(snapRate.cpu * snapMb()) }, 'MB/s');
  const restoreRate = measure(1, () => undefined, () => restoreSnapshot(snap, new MemStore()));
  report('snapshot_restore_mb_per_s', { wall: Math.round(restoreRate.wall * snapMb()), cpu: Math.round(restoreRate.cpu * snapMb()) }, 'MB/s');

  // The key-value face: every put is a full apply (validation, sweep, entry encoding, one batch).
  const KV_OPS = 100_000;
  const kvKeys = Array.from({ length: KV_OPS }, (_, i) => `user/${(i * 7919) % KV_OPS}/profile`);
  let kv = new KvStateMachine(new MemStore());
  let index = 0;
  const apply = (cmd: KvCommand) => kv.apply(cmd, { index: logIndex(++index), timestamp: timestampFromMs(1_000_000 + index) });
  report(
    'kv_put_per_s',
    measure(KV_OPS, () => {
      kv = new KvStateMachine(new MemStore());
      index = 0;
    }, () => {
      for (let i = 0; i < KV_OPS; i++) apply({ op: 'put', key: kvKeys[i]!, value: { name: 'x', n: i } });
    }),
  );
  let found = 0;
  report(
    'kv_get_per_s',
    measure(KV_OPS, () => (found = 0), () => {
      for (let i = 0; i < KV_OPS; i++) if (apply({ op: 'get', key: kvKeys[i]! }).status === 'ok') found++;
    }),
  );
  if (found !== KV_OPS) throw new Error(`benchmark bug: ${found} of ${KV_OPS} gets found`);
  report(
    'kv_read_index_get_per_s',
    measure(KV_OPS, () => undefined, () => {
      for (let i = 0; i < KV_OPS; i++) kv.read({ op: 'get', key: kvKeys[i]! });
    }),
  );

  const here = dirname(fileURLToPath(import.meta.url));
  const recordsBench = join(here, 'storage-records.js');
  if (existsSync(recordsBench)) {
    const mod = (await import(pathToFileURL(recordsBench).href)) as { recordBenchFigures?: () => Record<string, number> };
    if (typeof mod.recordBenchFigures === 'function') {
      for (const [k, v] of Object.entries(mod.recordBenchFigures())) {
        figures[`records_${k}`] = v;
        console.log(`records_${k}`.padEnd(36), fmt(v).padStart(12));
      }
    } else console.log('bench/storage-records.js has no recordBenchFigures(); record figures left out');
  } else console.log('bench/storage-records.js not built; record figures left out');

  console.log(JSON.stringify(figures));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(3);
});
