// Cluster benchmark: a 3-node cluster of real `conclave server` processes on loopback (fsync
// on: every acknowledged write is durable on a majority), keep-alive HTTP clients, 100-byte
// values. Puts at concurrency 1, 16 and 64, strong gets at 16; throughput and p50/p99 latency.
// `npm run bench:cluster [-- --seconds S --partitions P]`. The LAST line printed is one JSON
// object with every figure. It asserts nothing. (The `--vs-etcd` comparison is not built yet.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SECONDS = opt('seconds', 5);
const PARTITIONS = opt('partitions', 16);

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function call(host: string, method: string, path: string, body?: string): Promise<number> {
  const [h, p] = [host.slice(0, host.lastIndexOf(':')), Number(host.slice(host.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const req = request({ host: h, port: p, method, path, agent, headers: body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(10_000, () => req.destroy());
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function pct(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Phase {
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly errors: number;
  readonly ops: number;
}

async function phase(name: string, concurrency: number, hosts: string[], op: (host: string, i: number) => Promise<number>): Promise<Phase> {
  const lat: number[] = [];
  let errors = 0;
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const worker = async (w: number): Promise<void> => {
    const host = hosts[w % hosts.length]!;
    for (let i = 0; performance.now() < end && i < 10_000_000; i++) {
      const t = performance.now();
      const status = await op(host, w * 1_000_000 + i);
      lat.push(performance.now() - t);
      n++;
      if (status !== 200 && status !== 404) errors++; // a read of a key never written is a 404, a correct answer
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const r = { ops_per_s: Math.round(n / secs), p50_ms: +pct(lat, 0.5).toFixed(2), p99_ms: +pct(lat, 0.99).toFixed(2), errors, ops: n };
  process.stdout.write(`${name.padEnd(18)} c=${String(concurrency).padEnd(3)} ${String(r.ops_per_s).padStart(7)} ops/s  p50 ${r.p50_ms.toFixed(2)} ms  p99 ${r.p99_ms.toFixed(2)} ms  errors ${errors}\n`);
  return r;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-'));
  const peers: string[] = [];
  const https: string[] = [];
  for (let i = 0; i < 3; i++) {
    peers.push(`127.0.0.1:${await freePort()}`);
    https.push(`127.0.0.1:${await freePort()}`);
  }
  const procs: ChildProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const cfg = join(dir, `n${i}.yaml`);
      writeFileSync(cfg, `node: ${peers[i]}\nhttp: ${https[i]}\ndata_dir: data${i}\ncluster:\n  nodes: [${peers.join(', ')}]\n  partitions: ${PARTITIONS}\nlog_format: json\n`);
      procs.push(spawn(process.execPath, [join(ROOT, 'bin', 'conclave'), 'server', '--config', cfg], { stdio: ['ignore', 'ignore', 'ignore'] }));
    }
    for (const h of https) {
      let ok = false;
      for (let i = 0; i < 300 && !ok; i++) {
        ok = (await call(h, 'GET', '/v1/health')) === 200;
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      if (!ok) throw new Error(`node ${h} did not become healthy within 30 s`);
    }
    const value = JSON.stringify({ value: 'v'.repeat(100) });
    process.stdout.write(`3 nodes on loopback, ${PARTITIONS} partitions, ${SECONDS} s per phase, 100-byte values, clients spread over all nodes\n`);
    const put = (h: string, i: number) => call(h, 'PUT', `/v1/kv/key-${i % 10_000}`, value);
    const get = (h: string, i: number) => call(h, 'GET', `/v1/kv/key-${i % 10_000}?consistency=strong`);
    const put1 = await phase('put', 1, https, put);
    const put16 = await phase('put', 16, https, put);
    const put64 = await phase('put', 64, https, put);
    const get16 = await phase('get (strong)', 16, https, get);
    process.stdout.write(JSON.stringify({ nodes: 3, partitions: PARTITIONS, seconds_per_phase: SECONDS, value_bytes: 100, put_c1: put1, put_c16: put16, put_c64: put64, get_strong_c16: get16 }) + '\n');
  } finally {
    for (const p of procs) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGTERM');
    for (const p of procs) {
      for (let i = 0; i < 100 && p.exitCode === null && p.signalCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) process.kill(p.pid, 'SIGKILL');
    }
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
