// One real server process: the lead's hook check (empty folder, defaults), bad input gets 4xx
// and the node stays healthy, graceful SIGTERM, a foreign data dir refused with exit 2.
import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, http, start, stop, until, waitExit, type NodeProc } from './harness.js';

const procs: NodeProc[] = [];
afterAll(async () => {
  for (const p of procs) await stop(p);
});

async function single(extraArgs: string[] = [], dataDir?: string): Promise<NodeProc> {
  const dir = dataDir ?? join(mkdtempSync(join(tmpdir(), 'conclave-one-')), 'data');
  const n: NodeProc = { peer: `127.0.0.1:${await freePort()}`, http: `127.0.0.1:${await freePort()}`, dataDir: dir, configFile: '', proc: null, stderr: '', stdout: '', exitCode: null };
  procs.push(n);
  start(n, ['--node', n.peer, '--http', n.http, '--data-dir', dir, '--partitions', '4', ...extraArgs]);
  return n;
}

describe('a single-node server', () => {
  it('serves health, put and get, and refuses bad input with 4xx while staying healthy', async () => {
    const n = await single();
    const h = await until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200);
    expect(h.status, n.stderr).toBe(200);
    expect(n.stdout).toContain(`http://${n.http}`);
    expect(n.stdout).toMatch(/curl -X PUT/);
    expect((await http(n, 'PUT', '/v1/kv/hook-check', { value: 'hook' })).status).toBe(200);
    expect(await http(n, 'GET', '/v1/kv/hook-check')).toMatchObject({ status: 200, body: { value: 'hook' } });
    expect((await http(n, 'GET', '/v1/kv/absent')).status).toBe(404);
    // compare-and-swap
    expect((await http(n, 'PUT', '/v1/kv/c', { value: { a: 1, b: [2] } })).status).toBe(200);
    expect((await http(n, 'PUT', '/v1/kv/c', { value: 2, expected: { b: [2], a: 1 } })).status).toBe(200);
    expect(await http(n, 'PUT', '/v1/kv/c', { value: 3, expected: 9 })).toMatchObject({ status: 412, body: { error: 'condition_failed' } });
    expect(await http(n, 'PUT', '/v1/kv/none', { value: 3, expected: 9 })).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect((await http(n, 'DELETE', '/v1/kv/c')).status).toBe(200);
    expect((await http(n, 'DELETE', '/v1/kv/c')).status).toBe(404);
    // bad input
    const bad = [
      await http(n, 'PUT', '/v1/kv/a', '{"value":'),
      await http(n, 'PUT', '/v1/kv/a', { valu: 1 }),
      await http(n, 'PUT', '/v1/kv/a', { value: 1, ttl: 'soon' }),
      await http(n, 'GET', '/v1/kv/a?consistency=bogus'),
      await http(n, 'GET', '/v1/nothing-here'),
      await http(n, 'PUT', '/v1/kv/a', JSON.stringify({ value: 'x'.repeat(2 * 1024 * 1024) })),
    ];
    expect(bad.map((r) => r.status)).toEqual([400, 400, 400, 400, 404, 413]);
    for (const r of bad) expect(typeof r.body.message, JSON.stringify(r.body)).toBe('string');
    expect(bad[1]!.body.message).toMatch(/field 'value'/);
    expect(bad[2]!.body.message).toMatch(/field 'ttl'/);
    expect(bad[3]!.body.message).toMatch(/field 'consistency'/);
    expect((await http(n, 'GET', '/v1/health')).status).toBe(200);
    const api = await http(n, 'GET', '/v1/openapi.json');
    expect(api.status).toBe(200);
    expect(Object.keys(api.body.paths)).toEqual(expect.arrayContaining(['/v1/kv/{key}', '/v1/health', '/v1/status']));
    const metrics = await fetch(`http://${n.http}/metrics`).then(async (r) => [r.status, await r.text()] as const);
    expect(metrics[0]).toBe(200);
    expect(metrics[1]).toMatch(/conclave_http_requests_total\{route="\/v1\/kv\/\{key\}",method="PUT",status="412"\} 1/);
    expect(metrics[1]).toMatch(/conclave_partition_leader_here\{partition="0"\} 1/);
    expect(metrics[1]).toMatch(/conclave_storage_flush_seconds_count [1-9]/);
    // graceful stop: exit 0, storage flushed and closed
    process.kill(n.proc!.pid!, 'SIGTERM');
    expect(await waitExit(n, 10_000)).toBe(0);
    expect(n.stderr).toMatch(/storage closed/);
    // restart from the same data: the value is still there
    start(n, ['--node', n.peer, '--http', n.http, '--data-dir', n.dataDir, '--partitions', '4']);
    await until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200);
    expect(await http(n, 'GET', '/v1/kv/hook-check')).toMatchObject({ status: 200, body: { value: 'hook' } });
    expect(n.stderr).toMatch(/epoch=2/);
    await stop(n);
  });

  it('refuses a data dir of another node or holding other files, and leaves it as it was', async () => {
    const n = await single();
    await until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200);
    await stop(n);
    const before = readdirSync(n.dataDir).sort();
    const foreign = await single([], n.dataDir); // new ports: a different node id
    expect(await waitExit(foreign, 15_000)).toBe(2);
    expect(foreign.stderr).toMatch(/belongs to node .*refusing/);
    expect(readdirSync(n.dataDir).sort()).toEqual(before);

    const other = join(mkdtempSync(join(tmpdir(), 'conclave-other-')), 'd');
    mkdirSync(other);
    writeFileSync(join(other, 'precious.txt'), 'keep me');
    const s = await single([], other);
    expect(await waitExit(s, 15_000)).toBe(2);
    expect(s.stderr).toMatch(/not a Conclave data directory/);
    expect(readdirSync(other)).toEqual(['precious.txt']);
  });

  it('refuses a bad config naming the field and the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-cfg-'));
    writeFileSync(join(dir, 'c.yaml'), 'cluster:\n  partitions: -3\n');
    const n: NodeProc = { peer: '', http: '', dataDir: '', configFile: join(dir, 'c.yaml'), proc: null, stderr: '', stdout: '', exitCode: null };
    procs.push(n);
    start(n, ['--config', n.configFile]);
    expect(await waitExit(n, 15_000)).toBe(2);
    expect(n.stderr).toMatch(/c\.yaml: field 'cluster\.partitions'/);
  });
});
