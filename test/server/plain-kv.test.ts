// The plain hot path for PUT/GET of one key (adapters/http/plain-kv.ts) must answer exactly
// as the HttpApi does: one real single-node server per path (CONCLAVE_HTTP_KV_PATH=httpapi
// turns the plain path off), the same requests to both, the same statuses and bodies.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, freePort, http, stop, until, type NodeProc } from './harness.js';

const procs: NodeProc[] = [];
afterAll(async () => {
  for (const p of procs) await stop(p);
});

async function single(env: Record<string, string>): Promise<NodeProc> {
  const dir = join(mkdtempSync(join(tmpdir(), 'conclave-plain-')), 'data');
  const n: NodeProc = { peer: `127.0.0.1:${await freePort()}`, http: `127.0.0.1:${await freePort()}`, dataDir: dir, configFile: '', proc: null, stderr: '', stdout: '', exitCode: null };
  procs.push(n);
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'conclave'), 'server', '--node', n.peer, '--http', n.http, '--data-dir', dir, '--partitions', '2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  n.proc = proc;
  proc.stdout!.on('data', (c: Buffer) => (n.stdout += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (n.stderr += c.toString()));
  proc.on('exit', (code, sig) => {
    n.exitCode = code ?? (sig !== null ? 128 : -1);
  });
  return n;
}

/** Requests covering the plain path's successes, failures and decode errors, and what it hands on. */
const CASES: Array<[string, string, unknown?, Record<string, string>?]> = [
  ['PUT', '/v1/kv/a', { value: 'x'.repeat(100) }],
  ['GET', '/v1/kv/a'],
  ['GET', '/v1/kv/a?consistency=strong'],
  ['GET', '/v1/kv/a?consistency=leader'],
  ['GET', '/v1/kv/a?consistency=eventual'],
  ['GET', '/v1/kv/a?consistency=sometimes'],
  ['GET', '/v1/kv/absent'],
  ['PUT', '/v1/kv/b', { value: { n: 1, l: [1, 2] } }],
  ['PUT', '/v1/kv/b', { value: 2, expected: { l: [1, 2], n: 1 } }],
  ['PUT', '/v1/kv/b', { value: 3, expected: 9 }],
  ['PUT', '/v1/kv/none', { value: 3, expected: 9 }],
  ['PUT', '/v1/kv/t', { value: 1, ttl: 60 }],
  ['PUT', '/v1/kv/t', { value: 1, ttl: -1 }],
  ['PUT', '/v1/kv/t', { value: 1, ttl: 'soon' }],
  ['PUT', '/v1/kv/t', { ttl: 5 }],
  ['PUT', '/v1/kv/t', '[1,2]'],
  ['PUT', '/v1/kv/t', '{"value": '],
  ['PUT', '/v1/kv/t', 'null'],
  ['PUT', `/v1/kv/${'k'.repeat(100)}`, { value: 1 }],
  ['GET', `/v1/kv/${'k'.repeat(100)}`],
  ['PUT', `/v1/kv/${'k'.repeat(101)}`, { value: 1 }],
  ['PUT', `/v1/kv/${'k'.repeat(1025)}`, { value: 1 }],
  ['GET', `/v1/kv/${'k'.repeat(1025)}`],
  ['PUT', '/v1/kv/t', { value: 1 }, { 'content-type': 'text/plain' }],
  ['PUT', '/v1/kv/t', { value: 1 }, { 'content-type': 'application/json; charset=utf-8' }],
  ['GET', '/v1/kv/sp%20ace'],
  ['GET', '/v1/kv/a?consistency=strong&consistency=leader'],
  ['GET', '/v1/kv/a?other=1'],
];

describe('the plain KV path', () => {
  it('answers every case like the HttpApi path', async () => {
    const [plain, api] = await Promise.all([single({}), single({ CONCLAVE_HTTP_KV_PATH: 'httpapi' })]);
    for (const n of [plain!, api!]) expect((await until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200)).status, n.stderr).toBe(200);
    const answers = async (n: NodeProc) => {
      const out: string[] = [];
      for (const [method, path, body, headers] of CASES) {
        const r = await http(n, method, path, body, headers);
        // Revisions count log entries, which differ between two nodes (their elections).
        const b = r.body !== null && typeof r.body === 'object' && 'revision' in r.body ? { ...r.body, revision: typeof r.body.revision } : r.body;
        out.push(`${method} ${path.slice(0, 40)} ${JSON.stringify(body ?? null).slice(0, 40)} -> ${r.status} ${JSON.stringify(b)}`);
      }
      return out;
    };
    const viaPlain = await answers(plain!);
    const viaApi = await answers(api!);
    expect(viaPlain).toEqual(viaApi);
    // The cases exercise each kind of answer.
    for (const status of [200, 400, 404, 412]) expect(viaPlain.some((l) => l.includes(`-> ${status} `))).toBe(true);
  });
});
