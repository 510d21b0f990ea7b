// Cluster benchmark: a 3-node cluster of real `conclave server` processes on loopback (fsync
// on: every acknowledged write is durable on a majority of its replicas), keep-alive HTTP
// clients, 100-byte values. Puts at concurrency 1, 16 and 64, strong gets at 16; throughput
// and p50/p99 latency. Then the HTTP layer's cost: one single-node server serving the hot KV
// routes through the plain node:http path (adapters/http/plain-kv.ts) and one serving them
// through the HttpApi (CONCLAVE_HTTP_KV_PATH=httpapi), same handler logic and decoders, same
// load, with the server CPU each request cost.
//
// `--vs-etcd`: installs Debian's etcd-server if `etcd` is missing (apt-get), starts a 3-member
// etcd on loopback (free ports, data in a temp dir, fsync on as etcd defaults) and runs the
// same load through its JSON gateway (/v3/kv/put, /v3/kv/range: linearizable reads) in the
// same run, phase by phase alternating with Conclave, and prints the ratios side by side.
// Every process it starts is stopped by its pid.
//
// `--baseline DIR`: a third cluster from another built checkout (DIR/bin/conclave), e.g. the
// code before a change, same load, alternating: before/after in one run.
//
// `npm run bench:cluster [-- --seconds S --partitions P --rf R --vs-etcd --baseline DIR --no-overhead]`.
// The LAST line printed is one JSON object with every figure. It asserts nothing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const flag = (name: string): boolean => args.includes(`--${name}`);
const SECONDS = opt('seconds', 5);
const PARTITIONS = opt('partitions', 16);
/** 0: the cluster's default (2 of 3 nodes per partition). */
const RF = opt('rf', 0);
const VS_ETCD = flag('vs-etcd');
/** `--baseline DIR`: also run a cluster of another built checkout's bin/conclave (e.g. before a change), same load, alternating. */
const BASELINE = (() => {
  const i = args.indexOf('--baseline');
  return i >= 0 ? args[i + 1]! : null;
})();
const OVERHEAD = !flag('no-overhead');
const VALUE_BYTES = 100;

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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function call(host: string, method: string, path: string, body?: string): Promise<number> {
  const i = host.lastIndexOf(':');
  return new Promise((resolve) => {
    const req = request({ host: host.slice(0, i), port: Number(host.slice(i + 1)), method, path, agent, headers: body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
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

type Op = (host: string, i: number) => Promise<number>;

async function phase(label: string, concurrency: number, hosts: readonly string[], op: Op): Promise<Phase> {
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
  process.stdout.write(`  ${label.padEnd(30)} ${String(r.ops_per_s).padStart(7)} ops/s  p50 ${r.p50_ms.toFixed(2).padStart(7)} ms  p99 ${r.p99_ms.toFixed(2).padStart(7)} ms  errors ${errors}\n`);
  return r;
}

// ---- processes -----------------------------------------------------------------------------

const procs: ChildProcess[] = [];

function track(p: ChildProcess): ChildProcess {
  procs.push(p);
  return p;
}

async function stopAll(): Promise<void> {
  for (const p of procs) if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) process.kill(p.pid, 'SIGTERM');
  for (const p of procs) {
    for (let i = 0; i < 300 && p.exitCode === null && p.signalCode === null; i++) await sleep(50);
    if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) process.kill(p.pid, 'SIGKILL');
  }
}

async function waitHealthy(h: string, path: string, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await call(h, 'GET', path)) === 200) return;
    await sleep(100);
  }
  throw new Error(`${what} ${h} did not become healthy within 30 s`);
}

function serverArgs(): string[] {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the servers (e.g. --cpu-prof --cpu-prof-dir=D).
  return (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

async function startConclave(dir: string, n: number, env: Record<string, string> = {}, root: string = ROOT): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const peers: string[] = [];
  const https: string[] = [];
  for (let i = 0; i < n; i++) {
    peers.push(`127.0.0.1:${await freePort()}`);
    https.push(`127.0.0.1:${await freePort()}`);
  }
  for (let i = 0; i < n; i++) {
    const cfg = join(dir, `n${i}.yaml`);
    const rf = RF > 0 && n > 1 ? `  replication_factor: ${RF}\n` : '';
    writeFileSync(cfg, `node: ${peers[i]}\nhttp: ${https[i]}\ndata_dir: data${i}\ncluster:\n  nodes: [${peers.join(', ')}]\n  partitions: ${PARTITIONS}\n${rf}log_format: json\n`);
    track(spawn(process.execPath, [...serverArgs(), join(root, 'bin', 'conclave'), 'server', '--config', cfg], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, ...env } }));
  }
  for (const h of https) await waitHealthy(h, '/v1/health', 'conclave node');
  return https;
}

function ensureEtcd(): string {
  const which = () => spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' }).stdout.trim();
  let bin = which();
  if (bin !== '') return bin;
  process.stdout.write('etcd not found: installing Debian\'s etcd-server (apt-get update && apt-get install -y etcd-server)\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const up = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  if (up.status !== 0) throw new Error(`apt-get update failed (exit ${up.status})`);
  const inst = spawnSync('apt-get', ['install', '-y', 'etcd-server'], { stdio: 'inherit', env });
  if (inst.status !== 0) throw new Error(`apt-get install -y etcd-server failed (exit ${inst.status})`);
  bin = which();
  if (bin === '') throw new Error('etcd-server installed but no etcd on PATH');
  return bin;
}

async function startEtcd(bin: string, dir: string): Promise<string[]> {
  const clients: string[] = [];
  const peers: string[] = [];
  for (let i = 0; i < 3; i++) {
    clients.push(`127.0.0.1:${await freePort()}`);
    peers.push(`127.0.0.1:${await freePort()}`);
  }
  const cluster = peers.map((p, i) => `e${i}=http://${p}`).join(',');
  const token = `bench-${process.pid}-${Date.now()}`;
  for (let i = 0; i < 3; i++) {
    track(
      spawn(
        bin,
        [
          `--name=e${i}`,
          `--data-dir=${join(dir, `etcd${i}`)}`,
          `--listen-client-urls=http://${clients[i]}`,
          `--advertise-client-urls=http://${clients[i]}`,
          `--listen-peer-urls=http://${peers[i]}`,
          `--initial-advertise-peer-urls=http://${peers[i]}`,
          `--initial-cluster=${cluster}`,
          '--initial-cluster-state=new',
          `--initial-cluster-token=${token}`,
          '--logger=zap',
          '--log-level=error',
        ],
        { stdio: ['ignore', 'ignore', 'ignore'] },
      ),
    );
  }
  for (const h of clients) await waitHealthy(h, '/health', 'etcd member');
  return clients;
}

// ---- metrics scraped from the Conclave nodes ------------------------------------------------

async function scrape(h: string): Promise<string> {
  return fetch(`http://${h}/metrics`).then((r) => r.text()).catch(() => '');
}
const metric = (text: string, re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
async function cpuSeconds(hosts: readonly string[]): Promise<number> {
  let s = 0;
  for (const h of hosts) s += metric(await scrape(h), /^conclave_process_process_cpu_seconds_total (\S+)/m);
  return s;
}

// ---- the run --------------------------------------------------------------------------------

const b64 = (s: string) => Buffer.from(s).toString('base64');
const conclaveValue = JSON.stringify({ value: 'v'.repeat(VALUE_BYTES) });
const etcdValue = b64('v'.repeat(VALUE_BYTES));
const conclavePut: Op = (h, i) => call(h, 'PUT', `/v1/kv/key-${i % 10_000}`, conclaveValue);
const conclaveGet: Op = (h, i) => call(h, 'GET', `/v1/kv/key-${i % 10_000}?consistency=strong`);
const etcdPut: Op = (h, i) => call(h, 'POST', '/v3/kv/put', JSON.stringify({ key: b64(`key-${i % 10_000}`), value: etcdValue }));
// Linearizable (serializable: false, the default): a quorum read, like Conclave's strong get.
const etcdGet: Op = (h, i) => call(h, 'POST', '/v3/kv/range', JSON.stringify({ key: b64(`key-${i % 10_000}`) }));

const PHASES = [
  { name: 'put_c1', label: 'put c=1', c: 1, kind: 'put' },
  { name: 'put_c16', label: 'put c=16', c: 16, kind: 'put' },
  { name: 'put_c64', label: 'put c=64', c: 64, kind: 'put' },
  { name: 'get_strong_c16', label: 'get strong c=16', c: 16, kind: 'get' },
] as const;

const ratio = (a: number, b: number) => +(a / b).toFixed(2);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-'));
  const out: Record<string, unknown> = { nodes: 3, partitions: PARTITIONS, replication_factor: RF > 0 ? RF : 'default (2)', seconds_per_phase: SECONDS, value_bytes: VALUE_BYTES, fsync: true };
  try {
    const etcdBin = VS_ETCD ? ensureEtcd() : null;
    const conclave = await startConclave(join(dir, 'conclave'), 3);
    const etcd = etcdBin !== null ? await startEtcd(etcdBin, join(dir, 'etcd')) : null;
    const base = BASELINE !== null ? await startConclave(join(dir, 'baseline'), 3, {}, BASELINE) : null;
    process.stdout.write(`3 nodes on loopback, ${PARTITIONS} partitions, RF ${RF > 0 ? RF : 'default (2 of 3)'}, ${SECONDS} s per phase, ${VALUE_BYTES}-byte values, keep-alive clients spread over all nodes${etcd !== null ? '; etcd: 3 members, JSON gateway, same load, phases alternating' : ''}\n`);
    const cc: Record<string, Phase> = {};
    const ee: Record<string, Phase> = {};
    const bb: Record<string, Phase> = {};
    for (const ph of PHASES) {
      const cpu0 = await cpuSeconds(conclave);
      cc[ph.name] = await phase(`conclave ${ph.label}`, ph.c, conclave, ph.kind === 'put' ? conclavePut : conclaveGet);
      const cpu = (await cpuSeconds(conclave)) - cpu0;
      (cc[ph.name] as Phase & { server_cpu_ms_per_op?: number }).server_cpu_ms_per_op = +((cpu * 1000) / Math.max(1, cc[ph.name]!.ops)).toFixed(3);
      if (base !== null) bb[ph.name] = await phase(`baseline ${ph.label}`, ph.c, base, ph.kind === 'put' ? conclavePut : conclaveGet);
      if (etcd !== null) ee[ph.name] = await phase(`etcd     ${ph.label}`, ph.c, etcd, ph.kind === 'put' ? etcdPut : etcdGet);
    }
    if (base !== null) {
      out['baseline'] = { root: BASELINE, ...bb };
      process.stdout.write(`\nconclave / baseline (${BASELINE})\n`);
      const rs: Record<string, unknown> = {};
      for (const ph of PHASES) {
        const c = cc[ph.name]!;
        const b = bb[ph.name]!;
        rs[ph.name] = { throughput: ratio(c.ops_per_s, b.ops_per_s), p99: ratio(c.p99_ms, b.p99_ms) };
        process.stdout.write(`  ${ph.label.padEnd(16)} conclave ${String(c.ops_per_s).padStart(6)} ops/s p99 ${c.p99_ms.toFixed(1).padStart(7)} ms | baseline ${String(b.ops_per_s).padStart(6)} ops/s p99 ${b.p99_ms.toFixed(1).padStart(7)} ms | throughput x${ratio(c.ops_per_s, b.ops_per_s)}\n`);
      }
      out['vs_baseline'] = rs;
    }
    out['conclave'] = cc;
    let leaderChanges = 0;
    const flushes: Array<Record<string, unknown>> = [];
    for (const h of conclave) {
      const text = await scrape(h);
      if (process.env['BENCH_METRICS_DIR'] !== undefined) writeFileSync(join(process.env['BENCH_METRICS_DIR'], `metrics-${h.replace(/[:.]/g, '_')}.txt`), text);
      for (const m of text.matchAll(/^conclave_raft_leader_changes_total\{[^}]*\} (\d+)/gm)) leaderChanges += Number(m[1]);
      const sum = metric(text, /^conclave_storage_flush_seconds_sum (\S+)/m);
      const count = metric(text, /^conclave_storage_flush_seconds_count (\S+)/m);
      const ops = metric(text, /^conclave_storage_flush_ops_sum (\S+)/m);
      const slow = metric(text, /^conclave_storage_flush_seconds_bucket\{le="0.025"\} (\S+)/m);
      const lag = metric(text, /^conclave_process_nodejs_eventloop_lag_mean_seconds (\S+)/m);
      flushes.push({ node: h, flushes: count, mean_flush_ms: +((sum / count) * 1000).toFixed(2), over_25ms: count - slow, mean_records_per_flush: +(ops / count).toFixed(1), event_loop_lag_mean_ms: +(lag * 1000).toFixed(1) });
    }
    // Each node counts the first election of every partition it replicates: 2 × partitions at RF 2 is a calm run.
    process.stdout.write(`leader changes seen (sum over nodes, including the first elections): ${leaderChanges}\n`);
    for (const f of flushes) process.stdout.write(`group commits on ${String(f['node'])}: ${JSON.stringify(f)}\n`);
    out['leader_changes_seen'] = leaderChanges;
    out['flushes'] = flushes;
    // Backward-compatible top-level figures (the Conclave cluster's).
    for (const ph of PHASES) out[ph.name] = cc[ph.name];
    if (etcd !== null) {
      out['etcd'] = ee;
      const ratios: Record<string, unknown> = {};
      process.stdout.write('\nconclave / etcd (throughput: higher is better for conclave; p99: lower is better for conclave)\n');
      for (const ph of PHASES) {
        const c = cc[ph.name]!;
        const e = ee[ph.name]!;
        const r = { throughput: ratio(c.ops_per_s, e.ops_per_s), p50: ratio(c.p50_ms, e.p50_ms), p99: ratio(c.p99_ms, e.p99_ms) };
        ratios[ph.name] = r;
        process.stdout.write(`  ${ph.label.padEnd(16)} conclave ${String(c.ops_per_s).padStart(6)} ops/s p99 ${c.p99_ms.toFixed(1).padStart(7)} ms | etcd ${String(e.ops_per_s).padStart(6)} ops/s p99 ${e.p99_ms.toFixed(1).padStart(7)} ms | throughput x${r.throughput}  p99 x${r.p99}\n`);
      }
      const p64 = ratios['put_c64'] as { throughput: number; p99: number };
      const g16 = ratios['get_strong_c16'] as { throughput: number };
      out['ratios'] = ratios;
      out['targets'] = { put_c64_throughput_2x: p64.throughput >= 2, put_c64_p99_no_worse: p64.p99 <= 1, get_strong_c16_throughput_2x: g16.throughput >= 2 };
      process.stdout.write(`targets: put c=64 >= 2x etcd: ${p64.throughput >= 2 ? 'met' : 'NOT met'} (x${p64.throughput}); put c=64 p99 <= etcd's: ${p64.p99 <= 1 ? 'met' : 'NOT met'} (x${p64.p99}); strong get c=16 >= 2x etcd: ${g16.throughput >= 2 ? 'met' : 'NOT met'} (x${g16.throughput})\n`);
    }
    await stopAll();
    procs.length = 0;
    if (OVERHEAD) {
      // The HTTP layer alone: two single-node servers, hot KV routes through the plain path or
      // through the HttpApi; same handler logic, same decoders. A leader-consistency get answers
      // from memory (no Raft round, no fsync), so it shows the HTTP layer's cost; a put adds
      // one fsync per group commit.
      process.stdout.write('\nHTTP layer: plain node:http path vs HttpApi, one single-node server each, phases alternating\n');
      const plain = await startConclave(join(dir, 'plain'), 1);
      const api = await startConclave(join(dir, 'httpapi'), 1, { CONCLAVE_HTTP_KV_PATH: 'httpapi' });
      const getLeader: Op = (h, i) => call(h, 'GET', `/v1/kv/key-${i % 1000}?consistency=leader`);
      const res: Record<string, unknown> = {};
      for (const [name, label, c, op] of [
        ['put_c64', 'put c=64', 64, conclavePut],
        ['get_leader_c16', 'get leader c=16', 16, getLeader],
      ] as const) {
        const row: Record<string, unknown> = {};
        for (const [path, hosts] of [
          ['plain', plain],
          ['httpapi', api],
        ] as const) {
          const cpu0 = await cpuSeconds(hosts);
          const r = await phase(`${path.padEnd(7)} ${label}`, c, hosts, op);
          const cpu = (await cpuSeconds(hosts)) - cpu0;
          row[path] = { ...r, server_cpu_ms_per_op: +((cpu * 1000) / Math.max(1, r.ops)).toFixed(3) };
        }
        const p = row['plain'] as Phase & { server_cpu_ms_per_op: number };
        const a = row['httpapi'] as Phase & { server_cpu_ms_per_op: number };
        row['plain_over_httpapi'] = { throughput: ratio(p.ops_per_s, a.ops_per_s), server_cpu_per_op: ratio(p.server_cpu_ms_per_op, a.server_cpu_ms_per_op) };
        process.stdout.write(`  ${label}: plain ${p.ops_per_s} ops/s (${p.server_cpu_ms_per_op} ms CPU/op) vs HttpApi ${a.ops_per_s} ops/s (${a.server_cpu_ms_per_op} ms CPU/op): throughput x${ratio(p.ops_per_s, a.ops_per_s)}\n`);
        res[name] = row;
      }
      out['http_overhead'] = res;
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    await stopAll();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
