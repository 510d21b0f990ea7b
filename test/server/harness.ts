// Real server processes on 127.0.0.1 for tests: free ports, generated configs, bounded waits,
// and every process stopped by its pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'conclave');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface NodeProc {
  readonly peer: string;
  readonly http: string;
  readonly dataDir: string;
  readonly configFile: string;
  proc: ChildProcess | null;
  stderr: string;
  stdout: string;
  exitCode: number | null;
}

export interface ClusterSpec {
  readonly dir: string;
  readonly nodes: NodeProc[];
}

export async function makeCluster(n: number, partitions = 4, secretFile: string | null = null, replicationFactor: number | null = 3): Promise<ClusterSpec> {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-srv-'));
  const peers: string[] = [];
  const https: string[] = [];
  for (let i = 0; i < n; i++) {
    peers.push(`127.0.0.1:${await freePort()}`);
    https.push(`127.0.0.1:${await freePort()}`);
  }
  const nodes: NodeProc[] = [];
  for (let i = 0; i < n; i++) {
    const configFile = join(dir, `node${i}.yaml`);
    writeFileSync(
      configFile,
      [
        `node: ${peers[i]}`,
        `http: ${https[i]}`,
        `data_dir: data${i}`,
        'cluster:',
        `  nodes: [${peers.join(', ')}]`,
        `  partitions: ${partitions}`,
        // Default: every node replicates every partition (the kill -9 test needs every partition to
        // keep a quorum without any one node). null: the cluster's default RF.
        ...(replicationFactor !== null ? [`  replication_factor: ${replicationFactor}`] : []),
        ...(secretFile !== null ? [`  secret_file: ${secretFile}`] : []),
        'request_timeout_ms: 3000',
      ].join('\n') + '\n',
    );
    nodes.push({ peer: peers[i]!, http: https[i]!, dataDir: join(dir, `data${i}`), configFile, proc: null, stderr: '', stdout: '', exitCode: null });
  }
  return { dir, nodes };
}

export function start(n: NodeProc, args: string[] = ['--config', n.configFile]): void {
  const proc = spawn(process.execPath, [BIN, 'server', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  n.proc = proc;
  n.exitCode = null;
  proc.stdout!.on('data', (c: Buffer) => (n.stdout += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (n.stderr += c.toString()));
  proc.on('exit', (code, sig) => {
    n.exitCode = code ?? (sig !== null ? 128 : -1);
  });
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Wait (bounded) for the process to exit; returns its code or null on time-out. */
export async function waitExit(n: NodeProc, ms: number): Promise<number | null> {
  const end = Date.now() + ms;
  while (n.exitCode === null && Date.now() < end) await sleep(25);
  return n.exitCode;
}

/** SIGTERM by pid, then SIGKILL if it lingers. */
export async function stop(n: NodeProc): Promise<void> {
  const p = n.proc;
  if (p === null || p.pid === undefined || n.exitCode !== null) return;
  process.kill(p.pid, 'SIGTERM');
  if ((await waitExit(n, 8000)) === null) {
    process.kill(p.pid, 'SIGKILL');
    await waitExit(n, 3000);
  }
}

export async function kill9(n: NodeProc): Promise<void> {
  const p = n.proc;
  if (p === null || p.pid === undefined || n.exitCode !== null) return;
  process.kill(p.pid, 'SIGKILL');
  await waitExit(n, 5000);
}

export interface Res {
  status: number;
  body: any;
}

export async function http(n: NodeProc | string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const base = typeof n === 'string' ? n : n.http;
  const init: RequestInit = { method, headers: { ...headers }, signal: AbortSignal.timeout(8000) };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  try {
    const r = await fetch(`http://${base}${path}`, init);
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: r.status, body: parsed };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

/** Poll until `pred` holds or `ms` passes (bounded count and time). */
export async function until<T>(ms: number, f: () => Promise<T>, pred: (t: T) => boolean): Promise<T> {
  const end = Date.now() + ms;
  let last = await f();
  for (let i = 0; i < 10_000 && !pred(last) && Date.now() < end; i++) {
    await sleep(100);
    last = await f();
  }
  return last;
}
