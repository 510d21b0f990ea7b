// --token / CONCLAVE_TOKEN against a real node with auth on: without a token the commands exit 2
// (unauthorized, an input error) with the server's message; with the token, from the flag or the
// environment, they succeed; the --json failure object names the error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { treeMain } from '../../cli/tree.js';
import { ROOT, freePort, http, start, stop, until, type NodeProc } from '../server/harness.js';

const procs: NodeProc[] = [];
afterAll(async () => {
  for (const n of procs) await stop(n);
});

async function conclave(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const saved = process.env['CONCLAVE_TOKEN'];
  delete process.env['CONCLAVE_TOKEN'];
  Object.assign(process.env, env);
  try {
    const code = await treeMain(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), color: false });
    return { code, stdout, stderr };
  } finally {
    if (saved === undefined) delete process.env['CONCLAVE_TOKEN'];
    else process.env['CONCLAVE_TOKEN'] = saved;
  }
}

describe('client commands with auth on', () => {
  it('send the token from --token or CONCLAVE_TOKEN; without it exit 2', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'conclave-cli-auth-')), 'data');
    const created = spawnSync(process.execPath, [join(ROOT, 'bin', 'conclave'), 'token', 'create', '--data-dir', dataDir, '--json'], { encoding: 'utf8', timeout: 30_000 });
    expect(created.status, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const n: NodeProc = { peer: `127.0.0.1:${await freePort()}`, http: `127.0.0.1:${await freePort()}`, dataDir, configFile: '', proc: null, stderr: '', stdout: '', exitCode: null };
    procs.push(n);
    start(n, ['--node', n.peer, '--http', n.http, '--data-dir', dataDir, '--auth-enabled', 'true']);
    expect((await until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200)).status, n.stderr).toBe(200);

    const none = await conclave(['kv', 'put', 'k', 'v', '--endpoint', n.http, '--json']);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stdout)).toMatchObject({ ok: false, error: 'unauthorized', status: 401 });
    expect(none.stderr).toMatch(/^conclave kv put: /);
    const bad = await conclave(['kv', 'get', 'k', '--endpoint', n.http, '--token', 'cnc_00000000_guess']);
    expect(bad.code).toBe(2);

    const flag = await conclave(['kv', 'put', 'k', 'v', '--endpoint', n.http, '--token', token]);
    expect(flag.code, flag.stderr).toBe(0);
    const env = await conclave(['kv', 'get', 'k', '--endpoint', n.http], { CONCLAVE_TOKEN: token });
    expect([env.code, env.stdout]).toEqual([0, 'v\n']);
    const status = await conclave(['cluster', 'status', '--endpoint', n.http, '--json'], { CONCLAVE_TOKEN: token });
    expect(status.code, status.stdout).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ healthy: true });
  });
});
