// Three real server processes on 127.0.0.1 from generated configs: a node alone is not ready
// and says why; writes through one node read back strongly through the others; kill -9 of a
// leader, a new leader within a bound, no acknowledged write lost; the killed node restarts from
// LMDB and catches up; garbage, oversized and wrong-secret frames on a peer port harm nothing.
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterFingerprint } from '../../adapters/fingerprint.js';
import { FrameDecoder, encodeFrame } from '../../adapters/transport/frame.js';
import { http, kill9, makeCluster, start, stop, until, sleep, waitExit, type ClusterSpec, type NodeProc } from './harness.js';

let cluster: ClusterSpec | null = null;
afterAll(async () => {
  for (const n of cluster?.nodes ?? []) await stop(n);
});

const healthy = (n: NodeProc) => until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200);

/** Talk to a peer port by hand; resolves with the frames received and whether it closed. */
async function rawPeer(peer: string, script: (s: Socket, frames: unknown[]) => Promise<void>): Promise<{ frames: unknown[]; closed: boolean }> {
  const [host, port] = [peer.slice(0, peer.lastIndexOf(':')), Number(peer.slice(peer.lastIndexOf(':') + 1))];
  const s = connect({ host, port });
  const frames: unknown[] = [];
  let closed = false;
  const dec = new FrameDecoder(1 << 20);
  s.on('data', (c) => {
    try {
      frames.push(...dec.push(c));
    } catch {
      /* ignore */
    }
  });
  s.on('close', () => (closed = true));
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('connect', () => r()));
  await script(s, frames);
  for (let i = 0; i < 60 && !closed; i++) await sleep(100);
  s.destroy();
  return { frames, closed };
}

describe('a three-node cluster of real processes', () => {
  it('replicates, survives kill -9 of a leader, catches up after restart, and shrugs off bad peers', async () => {
    const secretFile = 'secret.txt';
    cluster = await makeCluster(3, 4, secretFile);
    writeFileSync(join(cluster.dir, secretFile), 'a-shared-cluster-secret-of-some-length\n');
    const [a, b, c] = cluster.nodes as [NodeProc, NodeProc, NodeProc];

    // Alone, a node cannot reach a quorum: 503 with the reason.
    start(a);
    const alone = await until(20_000, () => http(a, 'GET', '/v1/health'), (r) => r.status === 503 && /waiting for/.test(String(r.body?.message)));
    expect(alone.status, a.stderr).toBe(503);
    expect(alone.body).toMatchObject({ error: 'unavailable', retryable: true });
    expect(alone.body.message).toContain(b.peer);

    // SIGTERM while a request is in flight (it waits for a quorum that is not there): the
    // request still gets its answer (a JSON 503 when its bound passes), and the node exits 0.
    const pending = http(a, 'PUT', '/v1/kv/in-flight', { value: 1 });
    await sleep(300);
    process.kill(a.proc!.pid!, 'SIGTERM');
    const answered = await pending;
    expect(answered.status).toBe(503);
    expect(answered.body).toMatchObject({ error: 'unavailable', retryable: true });
    expect(await waitExit(a, 10_000)).toBe(0);
    expect(a.stderr).toMatch(/shutting down.*in_flight=1/);
    expect(a.stderr).toMatch(/storage closed/);

    start(a);
    start(b);
    start(c);
    for (const n of [a, b, c]) expect((await healthy(n)).status, n.stderr).toBe(200);

    const acked = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const r = await http(a, 'PUT', `/v1/kv/k${i}`, { value: i });
      if (r.status === 200) acked.set(`k${i}`, i);
    }
    expect(acked.size).toBe(20);
    for (const n of [b, c]) {
      for (const [k, v] of acked) expect(await http(n, 'GET', `/v1/kv/${k}?consistency=strong`)).toMatchObject({ status: 200, body: { value: v } });
    }

    // kill -9 the leader of partition 0.
    const st = await http(b, 'GET', '/v1/status');
    const leaderPeer = st.body.partitions[0].leader as string;
    const victim = cluster.nodes.find((n) => n.peer === leaderPeer)!;
    const survivors = cluster.nodes.filter((n) => n !== victim);
    await kill9(victim);
    const t0 = Date.now();
    const newLeader = await until(
      15_000,
      () => http(survivors[0]!, 'GET', '/v1/status'),
      (r) => r.status === 200 && r.body.partitions.every((p: { leader: string | null }) => p.leader !== null && p.leader !== leaderPeer),
    );
    expect(newLeader.body.partitions.every((p: { leader: string | null }) => p.leader !== null && p.leader !== leaderPeer)).toBe(true);
    const electionMs = Date.now() - t0;
    expect(electionMs).toBeLessThan(15_000);
    for (let i = 20; i < 30; i++) {
      const r = await http(survivors[0]!, 'PUT', `/v1/kv/k${i}`, { value: i });
      if (r.status === 200) acked.set(`k${i}`, i);
    }
    expect(acked.size).toBe(30);
    for (const [k, v] of acked) expect(await http(survivors[1]!, 'GET', `/v1/kv/${k}`)).toMatchObject({ status: 200, body: { value: v } });

    // Restart the killed node from its LMDB data; it catches up (applied reaches the leaders' commit).
    start(victim);
    expect((await healthy(victim)).status, victim.stderr).toBe(200);
    const caught = await until(
      15_000,
      async () => [await http(victim, 'GET', '/v1/status'), await http(survivors[0]!, 'GET', '/v1/status')] as const,
      ([v, s]) => v.status === 200 && s.status === 200 && v.body.partitions.every((p: { applied: number }, i: number) => p.applied >= s.body.partitions[i].commit),
    );
    expect(caught[0].body.partitions.map((p: { applied: number }) => p.applied)).toEqual(caught[1].body.partitions.map((p: { commit: number }) => p.commit));
    for (const [k, v] of acked) expect(await http(victim, 'GET', `/v1/kv/${k}`)).toMatchObject({ status: 200, body: { value: v } });

    // Bad peers: garbage bytes, an oversized frame, a wrong secret. Each connection is closed.
    const garbage = await rawPeer(a.peer, async (s) => {
      s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'z'.repeat(100)));
    });
    expect(garbage.closed).toBe(true);
    const oversized = await rawPeer(a.peer, async (s) => {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(0x7fffffff, 0);
      s.write(h);
    });
    expect(oversized.closed).toBe(true);
    const fp = clusterFingerprint({ nodes: cluster.nodes.map((n) => n.peer), replicationFactor: 2, partitions: 4 });
    const wrong = await rawPeer(a.peer, async (s, frames) => {
      for (let i = 0; i < 50 && frames.length === 0; i++) await sleep(50);
      const ch = frames[0] as { nonce: string; v: number };
      const mac = createHmac('sha256', 'not-the-secret-at-all-nope').update(['dial', ch.nonce, b.peer, fp].join('|')).digest();
      s.write(encodeFrame({ t: 'hello', v: ch.v, from: b.peer, fingerprint: fp, nonce: 'n', mac }));
    });
    expect(wrong.closed).toBe(true);
    expect(wrong.frames.some((f) => (f as { t?: string; reason?: string }).t === 'reject' && /secret/.test(String((f as { reason?: string }).reason)))).toBe(true);
    expect(a.stderr).toMatch(/wrong cluster secret/);
    expect(a.stderr).toMatch(/exceeds the limit|expected a hello|checksum/);
    // ...and the node is unharmed.
    expect((await http(a, 'GET', '/v1/health')).status).toBe(200);
    expect((await http(a, 'PUT', '/v1/kv/after', { value: 'ok' })).status).toBe(200);
    expect(await http(c, 'GET', '/v1/kv/after')).toMatchObject({ status: 200, body: { value: 'ok' } });
    process.stdout.write(`cluster test: new leader after kill -9 in ${electionMs} ms\n`);
  });
});
