// Node operations over HTTP against real server processes (docs/operations.md): a stepdown
// moves a partition's leadership to the chosen node; a drain leaves the node with no
// leadership within a bound while writes keep succeeding; activate; bad input is a 400 naming
// the field, a stepdown at a non-leader a 409 naming the leader; the routes need the token.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, freePort, http, makeCluster, start, stop, until, sleep, type ClusterSpec, type NodeProc } from './harness.js';

let cluster: ClusterSpec | null = null;
const extra: NodeProc[] = [];
afterAll(async () => {
  for (const n of [...(cluster?.nodes ?? []), ...extra]) await stop(n);
});

const PARTITIONS = 4;
const healthy = (n: NodeProc) => until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200);

/** Who leads partition p, as the nodes that replicate it report (the highest term wins). */
async function leaderOf(nodes: readonly NodeProc[], p: number): Promise<string | null> {
  let best: { leader: string | null; term: number } = { leader: null, term: -1 };
  for (const n of nodes) {
    const s = await http(n, 'GET', '/v1/status');
    const ps = (s.body?.partitions ?? []).find((x: { partition: number }) => x.partition === p);
    if (ps !== undefined && ps.leader !== null && ps.term > best.term) best = { leader: ps.leader, term: ps.term };
  }
  return best.leader;
}

describe('admin routes on a three-node cluster', () => {
  it('stepdown to a chosen node, drain within a bound while writes succeed, activate', async () => {
    cluster = await makeCluster(3, PARTITIONS);
    const nodes = cluster.nodes as [NodeProc, NodeProc, NodeProc];
    for (const n of nodes) start(n);
    for (const n of nodes) expect((await healthy(n)).status, n.stderr).toBe(200);
    const byPeer = (peer: string) => nodes.find((n) => n.peer === peer)!;

    expect((await http(nodes[0], 'GET', '/v1/status')).body).toMatchObject({ state: 'active' });
    expect(await http(nodes[0], 'GET', '/v1/admin/drain')).toMatchObject({ status: 200, body: { node: nodes[0].peer, state: 'active' } });

    // Bad input: 400 naming the field.
    const bad = async (body: unknown, field: string) => {
      const r = await http(nodes[0], 'POST', '/v1/admin/stepdown', body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: 'bad_request' });
      expect(r.body.message).toContain(field);
    };
    await bad({ partition: 99 }, "'partition'");
    await bad({ partition: -1 }, 'partition');
    await bad({ partition: 'x' }, 'partition');
    await bad({ to: 'nowhere:1' }, "'to'");
    expect((await http(nodes[0], 'POST', '/v1/admin/stepdown', '{not json')).status).toBe(400);

    // Stepdown of partition 0 to a chosen successor.
    const leader0 = await until(10_000, () => leaderOf(nodes, 0), (l) => l !== null);
    expect(leader0).not.toBeNull();
    const leaderNode = byPeer(leader0!);
    const follower = nodes.find((n) => n !== leaderNode)!;
    const refused = await http(follower, 'POST', '/v1/admin/stepdown', { partition: 0 });
    expect(refused).toMatchObject({ status: 409, body: { error: 'not_leader', leader: leader0 } });
    const to = nodes.find((n) => n !== leaderNode && n !== follower)!;
    const sd = await http(leaderNode, 'POST', '/v1/admin/stepdown', { partition: 0, to: to.peer });
    expect(sd).toMatchObject({ status: 200, body: { transfers: [{ partition: 0, to: to.peer }], skipped: [] } });
    expect(await until(5_000, () => leaderOf(nodes, 0), (l) => l === to.peer)).toBe(to.peer);

    // Drain the node that leads the most partitions, writing all the while.
    const counts = await Promise.all(nodes.map(async (n) => ((await http(n, 'GET', '/v1/admin/drain')).body.leaderships as number[]).length));
    const victim = nodes[counts.indexOf(Math.max(...counts))]!;
    const other = nodes.find((n) => n !== victim)!;
    const started = await http(victim, 'POST', '/v1/admin/drain');
    expect(started).toMatchObject({ status: 200, body: { node: victim.peer, state: 'draining' } });
    const t0 = Date.now();
    let acked = 0;
    let attempts = 0;
    let progress = started;
    for (let i = 0; i < 200 && Date.now() - t0 < 10_000; i++) {
      attempts++;
      // Writes through the draining node and another; a transfer in progress may answer 503 (retryable).
      const w = await http(i % 2 === 0 ? victim : other, 'PUT', `/v1/kv/drain-${i}`, { value: i });
      if (w.status === 200) acked++;
      else expect(w.status).toBe(503);
      progress = await http(victim, 'GET', '/v1/admin/drain');
      if (progress.body.leaderships.length === 0) break;
    }
    expect(progress.body, `drain did not finish in ${Date.now() - t0} ms`).toMatchObject({ state: 'draining', leaderships: [] });
    expect(acked).toBeGreaterThanOrEqual(Math.floor(attempts / 2));
    expect((await http(victim, 'GET', '/v1/status')).body).toMatchObject({ state: 'draining' });
    // Drained: it stays without leadership, and writes through it succeed (routed to the leaders).
    await sleep(1000);
    for (let i = 0; i < 8; i++) {
      const w = await until(3_000, () => http(victim, 'PUT', `/v1/kv/after-${i}`, { value: i }), (r) => r.status === 200);
      expect(w.status).toBe(200);
    }
    expect((await http(victim, 'GET', '/v1/admin/drain')).body.leaderships).toEqual([]);
    for (let p = 0; p < PARTITIONS; p++) expect(await leaderOf(nodes, p)).not.toBe(victim.peer);

    // Activate, then hand it a partition back.
    expect(await http(victim, 'POST', '/v1/admin/activate')).toMatchObject({ status: 200, body: { state: 'active' } });
    const l1 = (await leaderOf(nodes, 1))!;
    expect((await http(byPeer(l1), 'POST', '/v1/admin/stepdown', { partition: 1, to: victim.peer })).status).toBe(200);
    expect(await until(5_000, () => leaderOf(nodes, 1), (l) => l === victim.peer)).toBe(victim.peer);

    // Without a partition: every partition this node leads is handed away.
    const all = await http(victim, 'POST', '/v1/admin/stepdown', {});
    expect(all.status).toBe(200);
    expect(all.body.transfers.map((t: { partition: number }) => t.partition)).toContain(1);
    const after = await until(5_000, () => http(victim, 'GET', '/v1/admin/drain'), (r) => r.body.leaderships.length === 0);
    expect(after.body.leaderships).toEqual([]);
  });

  it('with auth on, the admin routes need the bearer token', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'conclave-admin-auth-')), 'data');
    const created = spawnSync(process.execPath, [join(ROOT, 'bin', 'conclave'), 'token', 'create', '--data-dir', dataDir, '--json'], { encoding: 'utf8' });
    expect(created.status, created.stderr).toBe(0);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const n: NodeProc = { peer: `127.0.0.1:${await freePort()}`, http: `127.0.0.1:${await freePort()}`, dataDir, configFile: '', proc: null, stderr: '', stdout: '', exitCode: null };
    extra.push(n);
    start(n, ['--node', n.peer, '--http', n.http, '--data-dir', dataDir, '--partitions', '2', '--auth-enabled', 'true']);
    expect((await healthy(n)).status, n.stderr).toBe(200);
    expect(await http(n, 'POST', '/v1/admin/drain')).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect((await http(n, 'GET', '/v1/admin/drain')).status).toBe(401);
    expect((await http(n, 'POST', '/v1/admin/stepdown', {})).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    expect(await http(n, 'POST', '/v1/admin/drain', undefined, auth)).toMatchObject({ status: 200, body: { state: 'draining' } });
    // A single node: nobody to hand to, so it leads on (a drain never makes a partition unavailable).
    expect(await http(n, 'POST', '/v1/admin/stepdown', { partition: 0 }, auth)).toMatchObject({ status: 400, body: { error: 'bad_request' } });
    expect((await http(n, 'PUT', '/v1/kv/x', { value: 1 }, auth)).status).toBe(200);
    expect(await http(n, 'POST', '/v1/admin/activate', undefined, auth)).toMatchObject({ status: 200, body: { state: 'active' } });
  });
});
