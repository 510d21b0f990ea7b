// `conclave jepsen run`: real `conclave server` processes on 127.0.0.1, every peer link through
// the fault proxy (network.ts), a client load over HTTP recording a CONTRACTS.md history, faults
// on a seeded schedule, then heal, recover, read every key a final time, stop every pid, check.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import seedrandom from 'seedrandom';
import { PLANTED_BUG_ENV, type PlantedBug } from '../../core/bugs.js';
import { checkHistoryParallel } from '../check.js';
import { parseJsonl } from '../history.js';
import type { CheckResult } from '../types.js';
import { ProxyNetwork } from './network.js';
import type { PartitionShape } from './partitions.js';
import { freePorts, LOOPBACK } from './ports.js';
import { pidExists, ProcessSupervisor, type ProcessSpec } from './processes.js';

export const WORKLOADS = ['register', 'kv'] as const;
export type Workload = (typeof WORKLOADS)[number];
/** Every nemesis CONTRACTS.md names; the built ones are BUILT_NEMESES. */
export const NEMESES = ['kill', 'pause', 'partition', 'clock', 'disk', 'stepdown', 'drain', 'none'] as const;
export type Nemesis = (typeof NEMESES)[number];
export const BUILT_NEMESES: readonly Nemesis[] = ['kill', 'pause', 'partition', 'none'];

export interface RunOptions {
  readonly nodes: 3 | 5;
  readonly timeLimitS: number;
  /** Client operations per second, over all clients together. */
  readonly rate: number;
  readonly concurrency: number;
  readonly workload: Workload;
  readonly nemesis: readonly Nemesis[];
  readonly seed: number;
  readonly out: string;
  /**
   * A planted bug (core/bugs.ts) switched on in every node through CONCLAVE_UNSAFE_PLANTED_BUG,
   * to show the harness catches a broken server (default: none).
   */
  readonly bug?: PlantedBug;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** A fault as results.json lists it; times in ms since the load started. */
export interface FaultRecord {
  readonly kind: 'kill' | 'pause' | 'partition';
  readonly nodes: readonly string[];
  readonly detail: string;
  readonly startMs: number;
  endMs: number | null;
}

export interface RunResults {
  readonly valid: boolean | 'unknown';
  readonly workload: Workload;
  readonly model: string;
  readonly seed: number;
  /** The planted bug the nodes ran with (`--bug`), or null. */
  readonly plantedBug: PlantedBug | null;
  readonly nodes: readonly { readonly name: string; readonly peer: string; readonly http: string; readonly restarts: number; readonly pids: readonly number[]; readonly log: string }[];
  readonly counts: { readonly ok: number; readonly fail: number; readonly info: number; readonly invoke: number };
  readonly faults: readonly FaultRecord[];
  /** Flight-recorder files; the recorder is not built yet, so this is empty. */
  readonly recordings: readonly string[];
  readonly checker: { readonly valid: boolean | 'unknown'; readonly ops: number; readonly ms: number; readonly explanation?: string };
  readonly finalReads: Readonly<Record<string, unknown>>;
  /** Per directed peer link ("n1->n2"): the proxy's counters (bytes passed and dropped, connections). */
  readonly links: Readonly<Record<string, unknown>>;
  /** Every change the proxy network applied, ms since the network started. */
  readonly networkEvents: readonly { readonly atMs: number; readonly what: string }[];
  readonly timing: { readonly loadMs: number; readonly totalMs: number };
  readonly history: string;
  readonly report: string;
}

/** The harness itself failed (exit 3): a node would not start or become healthy, a pid survived. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/** Bounds, all named. */
export const HEALTH_TIMEOUT_MS = 60_000;
export const SERVER_REQUEST_TIMEOUT_MS = 1_500;
/** A client gives up (info) this long after sending: past the server's own 503 bound. */
export const CLIENT_TIMEOUT_MS = SERVER_REQUEST_TIMEOUT_MS + 2_000;
export const FINAL_READ_ATTEMPTS = 40;
export const PARTITIONS = 4;
const KV_KEYS = 5;

function findBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'bin', 'conclave');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new HarnessError('cannot find bin/conclave above ' + dirname(fileURLToPath(import.meta.url)));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One HTTP request; rejects with the socket error code or 'timeout'. */
function http(agent: Agent, hostPort: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<HttpAnswer> {
  const i = hostPort.lastIndexOf(':');
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolveP, reject) => {
    const req = request(
      { agent, host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)), method, path, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            /* keep the text */
          }
          resolveP({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(new Error((e as NodeJS.ErrnoException).code ?? e.message));
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error((e as NodeJS.ErrnoException).code ?? e.message));
    });
    req.end(data);
  });
}

interface Node {
  readonly name: string;
  readonly peer: string;
  readonly http: string;
  readonly spec: ProcessSpec;
  readonly agent: Agent;
}

class History {
  private readonly lines: string[] = [];
  readonly counts = { ok: 0, fail: 0, info: 0, invoke: 0 };
  constructor(private readonly t0: number) {}
  add(e: Record<string, unknown>): void {
    const type = e['type'] as 'ok' | 'fail' | 'info' | 'invoke';
    this.counts[type]++;
    this.lines.push(JSON.stringify({ ...e, time: Math.round((performance.now() - this.t0) * 1000) / 1000 }));
  }
  text(): string {
    return this.lines.join('\n') + (this.lines.length > 0 ? '\n' : '');
  }
}

/** An operation's fate from an HTTP answer (or error), per CONTRACTS.md and docs/server.md. */
function classify(f: string, ans: HttpAnswer | Error): { type: 'ok' | 'fail' | 'info'; value?: unknown; error?: string } {
  if (ans instanceof Error) {
    // Refused: nothing was sent, so nothing happened. Anything else may have been delivered.
    if (ans.message === 'ECONNREFUSED') return { type: 'fail', error: 'ECONNREFUSED' };
    return { type: f === 'read' ? 'fail' : 'info', error: ans.message };
  }
  const err = typeof ans.body === 'object' && ans.body !== null ? String((ans.body as Record<string, unknown>)['error'] ?? '') : '';
  if (f === 'read') {
    if (ans.status === 200) return { type: 'ok', value: (ans.body as Record<string, unknown>)['value'] ?? null };
    if (ans.status === 404) return { type: 'ok', value: null };
    // A read has no effect: one without an answer is simply not a read.
    return { type: 'fail', error: `${ans.status} ${err}` };
  }
  if (ans.status === 200) return { type: 'ok' };
  if (f === 'cas' && (ans.status === 412 || ans.status === 404)) return { type: 'fail', error: `${ans.status} ${err}` };
  if (ans.status === 503) return { type: 'info', error: `503 ${err}` };
  if (ans.status >= 400 && ans.status < 500) return { type: 'fail', error: `${ans.status} ${err}` };
  return { type: 'info', error: `${ans.status} ${err}` };
}

async function waitHealthy(nodes: readonly Node[], timeoutMs: number, alive: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(nodes.map((n) => n.name));
  let last = '';
  while (pending.size > 0) {
    const dead = alive();
    if (dead !== null) throw new HarnessError(dead);
    if (Date.now() > deadline) throw new HarnessError(`node(s) ${[...pending].join(', ')} not healthy within ${timeoutMs} ms (last answer: ${last})`);
    for (const n of nodes) {
      if (!pending.has(n.name)) continue;
      try {
        const a = await http(n.agent, n.http, 'GET', '/v1/health', undefined, 1_000);
        if (a.status === 200) pending.delete(n.name);
        else last = `${n.name}: ${a.status} ${JSON.stringify(a.body)}`;
      } catch (e) {
        last = `${n.name}: ${(e as Error).message}`;
      }
    }
    if (pending.size > 0) await sleep(200);
  }
}

/** Run the whole test; throws HarnessError when the harness (not the database) failed. */
export async function jepsenRun(o: RunOptions): Promise<RunResults> {
  const say = o.log ?? (() => {});
  const startedAt = performance.now();
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const bin = findBin();
  const ports = await freePorts(o.nodes * 2);
  const peers = ports.slice(0, o.nodes).map((p) => `${LOOPBACK}:${p}`);
  const https = ports.slice(o.nodes).map((p) => `${LOOPBACK}:${p}`);
  const names = peers.map((_, i) => `n${i + 1}`);
  const nameOf = new Map(peers.map((p, i) => [p, names[i]!]));
  const net = await ProxyNetwork.start({ nodes: peers.map((id) => ({ id, host: LOOPBACK, port: Number(id.split(':')[1]) })), seed: o.seed });
  const supervisor = new ProcessSupervisor({ termTimeoutMs: 5_000, killTimeoutMs: 5_000 });
  const nodes: Node[] = peers.map((peer, i) => {
    const name = names[i]!;
    const dir = join(out, name);
    mkdirSync(dir, { recursive: true });
    const config = {
      node: peer,
      http: https[i],
      data_dir: join(dir, 'data'),
      // Every node replicates every partition (RF = nodes), so a kill never leaves a partition
      // without a quorum. Chosen while routed requests were lost (fixed in adapters/transport,
      // docs/server.md); a run at the default RF is the next step (it exercises routing).
      cluster: { nodes: peers, replication_factor: peers.length, partitions: PARTITIONS, dial: net.dialMap(peer) },
      log_format: 'json',
      request_timeout_ms: SERVER_REQUEST_TIMEOUT_MS,
    };
    const configPath = join(dir, 'config.yaml');
    // JSON is YAML.
    writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
    return {
      name,
      peer,
      http: https[i]!,
      spec: {
        name,
        command: process.execPath,
        args: [bin, 'server', '--config', configPath],
        logFile: join(dir, 'node.log'),
        ...(o.bug !== undefined ? { env: { [PLANTED_BUG_ENV]: o.bug } } : {}),
      },
      agent: new Agent({ keepAlive: true, maxSockets: Math.max(4, o.concurrency) }),
    };
  });
  const allPids = new Set<number>();
  const pidsOf = new Map<string, number[]>();
  const faults: FaultRecord[] = [];
  const t0 = performance.now();
  const now = (): number => Math.round(performance.now() - t0);
  const history = new History(t0);
  const killed = new Set<string>();
  const paused = new Set<string>();
  let loadMs = 0;
  const finalReads: Record<string, unknown> = {};
  const links: Record<string, unknown> = {};
  const deadNode = (): string | null => {
    for (const n of nodes) {
      if (killed.has(n.name)) continue;
      const p = supervisor.all().find((m) => m.name === n.name);
      if (p !== undefined && p.state === 'exited') return `node ${n.name} exited (${JSON.stringify(p.exit)}); see ${n.spec.logFile}`;
    }
    return null;
  };
  const startNode = async (n: Node, restart: boolean): Promise<void> => {
    const p = restart ? await supervisor.restart(n.name) : await supervisor.start(n.spec);
    allPids.add(p.pid);
    pidsOf.set(n.name, [...(pidsOf.get(n.name) ?? []), p.pid]);
  };
  try {
    for (const n of nodes) await startNode(n, false);
    say(`started ${nodes.map((n) => `${n.name} (pid ${supervisor.get(n.name).pid}, http ${n.http})`).join(', ')}`);
    await waitHealthy(nodes, HEALTH_TIMEOUT_MS, deadNode);
    say('all nodes healthy');

    // ---- the load ---------------------------------------------------------------------
    const keys = o.workload === 'register' ? ['r'] : Array.from({ length: KV_KEYS }, (_, i) => `k${i}`);
    const histKey = (k: string): string | null => (o.workload === 'register' ? null : k);
    const rnd = seedrandom.alea(`${o.seed}/load`);
    const loadEnd = performance.now() + o.timeLimitS * 1000;
    let slot = 0;
    let nextProcess = 0;
    let nextValue = 1;
    const lastSeen = new Map<string, unknown>();
    const loadStart = performance.now();
    const worker = async (): Promise<void> => {
      let proc = nextProcess++;
      while (true) {
        const at = loadStart + (slot++ * 1000) / o.rate;
        if (at >= loadEnd) return;
        await sleep(at - performance.now());
        const key = keys[Math.floor(rnd() * keys.length)]!;
        const node = nodes[proc % nodes.length]!;
        const roll = rnd();
        const seen = lastSeen.get(key);
        const f = roll < 0.45 ? 'read' : roll < 0.8 || seen === undefined || seen === null ? 'write' : 'cas';
        const base = { process: proc, f, key: histKey(key) };
        let ans: HttpAnswer | Error;
        let value: unknown = null;
        if (f === 'read') {
          history.add({ ...base, type: 'invoke', value: null, node: node.name });
          ans = await http(node.agent, node.http, 'GET', `/v1/kv/${key}?consistency=strong`, undefined, CLIENT_TIMEOUT_MS).catch((e: Error) => e);
        } else {
          const v = nextValue++;
          value = f === 'write' ? v : [seen, v];
          history.add({ ...base, type: 'invoke', value, node: node.name });
          const body = f === 'write' ? { value: v } : { value: v, expected: seen };
          ans = await http(node.agent, node.http, 'PUT', `/v1/kv/${key}`, body, CLIENT_TIMEOUT_MS).catch((e: Error) => e);
        }
        const c = classify(f, ans);
        const completionValue = f === 'read' ? (c.type === 'ok' ? c.value : null) : value;
        history.add({ ...base, type: c.type, value: completionValue, ...(c.error !== undefined ? { error: c.error } : {}) });
        if (c.type === 'ok') lastSeen.set(key, f === 'read' ? c.value : f === 'write' ? value : (value as unknown[])[1]);
        if (c.type === 'info') proc = nextProcess++;
      }
    };

    // ---- the nemesis ------------------------------------------------------------------
    const kinds = o.nemesis.filter((k): k is 'kill' | 'pause' | 'partition' => k === 'kill' || k === 'pause' || k === 'partition');
    const nrnd = seedrandom.alea(`${o.seed}/nemesis`);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(nrnd() * xs.length)]!;
    const nemesis = async (): Promise<void> => {
      if (kinds.length === 0) return;
      let i = 0;
      while (true) {
        const quiet = 1_000 + nrnd() * 1_500;
        const active = 2_000 + nrnd() * 1_500;
        // Leave time at the end of the load for the cluster to serve while healed.
        if (performance.now() + quiet + active + 1_500 > loadEnd) return;
        await sleep(quiet);
        const kind = kinds[i++ % kinds.length]!;
        if (kind === 'kill') {
          const n = pick(nodes);
          const f: FaultRecord = { kind, nodes: [n.name], detail: `SIGKILL ${n.name} (pid ${supervisor.get(n.name).pid}), restart on the same data dir`, startMs: now(), endMs: null };
          faults.push(f);
          killed.add(n.name);
          await supervisor.kill(n.name);
          say(`${f.startMs} ms: ${f.detail}`);
          await sleep(active);
          await startNode(n, true);
          killed.delete(n.name);
          f.endMs = now();
          say(`${f.endMs} ms: ${n.name} restarted (pid ${supervisor.get(n.name).pid})`);
        } else if (kind === 'pause') {
          const n = pick(nodes);
          const f: FaultRecord = { kind, nodes: [n.name], detail: `SIGSTOP ${n.name}, then SIGCONT`, startMs: now(), endMs: null };
          faults.push(f);
          paused.add(n.name);
          supervisor.pause(n.name);
          say(`${f.startMs} ms: ${f.detail}`);
          await sleep(active);
          supervisor.resume(n.name);
          paused.delete(n.name);
          f.endMs = now();
          say(`${f.endMs} ms: ${n.name} resumed`);
        } else {
          const drawn = pick(['majority-minority', 'isolate', 'isolate-leader'] as const);
          let shape: PartitionShape = drawn === 'majority-minority' ? { kind: 'majority-minority' } : { kind: 'isolate' };
          let what: string = drawn === 'isolate-leader' ? 'isolate (no leader known: a drawn node)' : drawn;
          if (drawn === 'isolate-leader') {
            // A partition's leader, as a drawn node sees it (the draw is seeded; who leads is not).
            const asked = pick(nodes);
            const part = Math.floor(nrnd() * PARTITIONS);
            const st = await http(asked.agent, asked.http, 'GET', '/v1/status', undefined, 1_000).catch((e: Error) => e);
            const leader = st instanceof Error || st.status !== 200 ? null : ((st.body as { partitions?: { partition: number; leader: string | null }[] }).partitions?.find((x) => x.partition === part)?.leader ?? null);
            if (leader !== null && nameOf.has(leader)) {
              shape = { kind: 'isolate', node: leader };
              what = `isolate the leader of partition ${part} (${nameOf.get(leader)}, per ${asked.name})`;
            }
          }
          const cuts = await net.partitionShape(shape);
          const involved = [...new Set(cuts.flat())].map((p) => nameOf.get(p) ?? p).sort();
          const f: FaultRecord = {
            kind,
            nodes: involved,
            detail: `${what}: ${cuts.map(([a, b]) => `${nameOf.get(a)}->${nameOf.get(b)}`).join(' ')}`,
            startMs: now(),
            endMs: null,
          };
          faults.push(f);
          say(`${f.startMs} ms: partition ${f.detail}`);
          await sleep(active);
          await net.heal();
          f.endMs = now();
          say(`${f.endMs} ms: healed`);
        }
      }
    };
    await Promise.all([...Array.from({ length: o.concurrency }, () => worker()), nemesis()]);
    loadMs = now();
    say(`load done at ${loadMs} ms: ${history.counts.ok} ok, ${history.counts.fail} fail, ${history.counts.info} info`);

    // ---- heal, recover, final reads ---------------------------------------------------
    await net.heal();
    for (const n of paused) supervisor.resume(n);
    paused.clear();
    for (const n of nodes) {
      if (killed.has(n.name)) {
        await startNode(n, true);
        killed.delete(n.name);
      }
    }
    for (const f of faults) if (f.endMs === null) f.endMs = now();
    await waitHealthy(nodes, HEALTH_TIMEOUT_MS, deadNode);
    say('recovered: all nodes healthy');
    for (const [ki, key] of keys.entries()) {
      let done = false;
      for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS && !done; attempt++) {
        const proc = nextProcess++;
        const node = nodes[(ki + attempt) % nodes.length]!;
        history.add({ process: proc, type: 'invoke', f: 'read', key: histKey(key), value: null, node: node.name, final: true });
        const ans = await http(node.agent, node.http, 'GET', `/v1/kv/${key}?consistency=strong`, undefined, CLIENT_TIMEOUT_MS).catch((e: Error) => e);
        const c = classify('read', ans);
        history.add({ process: proc, type: c.type, f: 'read', key: histKey(key), value: c.type === 'ok' ? c.value : null, final: true, ...(c.error !== undefined ? { error: c.error } : {}) });
        if (c.type === 'ok') {
          finalReads[key] = c.value;
          done = true;
        } else await sleep(250);
      }
      if (!done) throw new HarnessError(`final read of '${key}' got no answer in ${FINAL_READ_ATTEMPTS} attempts after recovery`);
    }
  } finally {
    for (const n of nodes) n.agent.destroy();
    let stopError: unknown = null;
    try {
      await supervisor.stopAll();
    } catch (e) {
      stopError = e;
    }
    for (const [a, b] of ProxyNetwork.pairs(peers)) links[`${nameOf.get(a)}->${nameOf.get(b)}`] = { ...net.link(a, b).stats };
    await net.close();
    writeFileSync(join(out, 'history.jsonl'), history.text());
    const survivors = [...allPids].filter((p) => pidExists(p));
    if (survivors.length > 0) throw new HarnessError(`pid(s) ${survivors.join(', ')} survived the stop`);
    if (stopError !== null) throw new HarnessError(`stopping the nodes failed: ${(stopError as Error).message}`);
  }
  say(`stopped every node (${allPids.size} pids, none alive)`);

  // ---- check ----------------------------------------------------------------------------
  const historyPath = join(out, 'history.jsonl');
  const model = o.workload === 'register' ? 'cas-register' : 'kv';
  const events = parseJsonl(history.text());
  const result: CheckResult = await checkHistoryParallel(events, model, { timeoutMs: 120_000 });
  const reportPath = join(out, 'report.html');
  const { writeHtmlReport } = await import('../report/html.js');
  writeHtmlReport(result, reportPath, { title: `jepsen run seed ${o.seed} (${o.workload}, ${o.nemesis.join(',')})`, axis: 'time' });
  const results: RunResults = {
    valid: result.valid,
    workload: o.workload,
    model,
    seed: o.seed,
    plantedBug: o.bug ?? null,
    nodes: nodes.map((n) => ({ name: n.name, peer: n.peer, http: n.http, restarts: supervisor.restarts(n.name), pids: pidsOf.get(n.name) ?? [], log: `${n.name}/node.log` })),
    counts: history.counts,
    faults,
    recordings: [],
    checker: { valid: result.valid, ops: result.ops, ms: result.ms, ...(result.explanation !== undefined ? { explanation: result.explanation } : {}) },
    finalReads,
    links,
    networkEvents: net.events.map((e) => ({ atMs: e.atMs, what: peers.reduce((w, p) => w.split(p).join(nameOf.get(p)!), e.what) })),
    timing: { loadMs, totalMs: Math.round(performance.now() - startedAt) },
    history: 'history.jsonl',
    report: 'report.html',
  };
  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  void historyPath;
  return results;
}
