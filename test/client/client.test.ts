// conclave/client against real server processes: imported by the package's own name (the
// `exports` entry, resolved to dist/), failover when the endpoint's node is killed, retries
// bounded in count, and writes not retried when their outcome is unknown.
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, ConclaveError } from 'conclave/client';
import { freePort, http, kill9, makeCluster, start, stop, until, type ClusterSpec, type NodeProc } from '../server/harness.js';

let cluster: ClusterSpec | null = null;
afterAll(async () => {
  for (const n of cluster?.nodes ?? []) await stop(n);
});

// A shorter request time-out than the harness's 3000 ms keeps the no-quorum 503s quick.
const run = (n: NodeProc) => start(n, ['--config', n.configFile, '--request-timeout-ms', '1500']);
const healthy = (n: NodeProc) => until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200);

async function failure(p: Promise<unknown>): Promise<ConclaveError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ConclaveError);
    return err as ConclaveError;
  }
  throw new Error('expected the call to fail');
}

describe('conclave/client', () => {
  it('bounds its retries, never retries a write of unknown outcome, and fails over when a node is killed', async () => {
    // Nothing listens: every attempt is refused, so reads and writes are both retried, up to the bound.
    const closed = `127.0.0.1:${await freePort()}`;
    const nowhere = createClient({ endpoints: [closed], retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 40 } });
    const t0 = Date.now();
    const refusedGet = await failure(nowhere.kv.get('k'));
    expect(refusedGet).toMatchObject({ code: 'connection_failed', attempts: 4, outcome: 'not_applied' });
    const refusedPut = await failure(nowhere.kv.put('k', 1));
    expect(refusedPut).toMatchObject({ code: 'connection_failed', attempts: 4, outcome: 'not_applied' });
    expect(Date.now() - t0).toBeLessThan(10_000);

    cluster = await makeCluster(3, 4);
    const [a, b, c] = cluster.nodes as [NodeProc, NodeProc, NodeProc];

    // One node of three: no quorum, 503 (retryable). A read is retried to the bound; a write is
    // not retried at all (the 503 does not say whether it applied).
    run(a);
    expect((await until(20_000, () => http(a, 'GET', '/v1/health'), (r) => r.status === 503)).status, a.stderr).toBe(503);
    const lone = createClient({ endpoints: [a.http], retry: { attempts: 2, baseDelayMs: 10 } });
    const noQuorumGet = await failure(lone.kv.get('k'));
    expect(noQuorumGet).toMatchObject({ code: 'unavailable', status: 503, retryable: true, attempts: 2, outcome: 'answered' });
    const noQuorumPut = await failure(lone.kv.put('k', 1));
    expect(noQuorumPut).toMatchObject({ code: 'unavailable', status: 503, attempts: 1, outcome: 'unknown' });
    expect(noQuorumPut.message).toMatch(/not retried/);

    run(b);
    run(c);
    for (const n of [a, b, c]) expect((await healthy(n)).status, n.stderr).toBe(200);

    const client = createClient({ endpoints: [a.http, b.http, c.http], retry: { attempts: 6, baseDelayMs: 20 } });
    for (let i = 0; i < 10; i++) expect(await client.kv.put(`k${i}`, { i }, i % 2 === 0 ? { ttl: 600 } : {})).toMatchObject({ revision: expect.any(Number) });
    expect(client.current()).toBe(`http://${a.http}`);
    expect(await client.kv.get('k3')).toMatchObject({ value: { i: 3 } });
    expect(await client.kv.get('absent')).toBeNull();
    const cas = await failure(client.kv.put('k1', 'x', { expected: 'not-the-value' }));
    expect(cas).toMatchObject({ code: 'condition_failed', status: 412, retryable: false });
    expect(await client.kv.put('k1', 'x', { expected: { i: 1 } })).toMatchObject({ revision: expect.any(Number) });
    expect(await client.kv.delete('k2', { expected: { i: 2 } })).toMatchObject({ revision: expect.any(Number) });
    expect(await failure(client.kv.delete('k2'))).toMatchObject({ code: 'not_found', status: 404 });
    expect((await client.node.status()).partitions.length).toBe(4);

    // Kill -9 the node the client talks to: the next calls are refused there and go to another
    // node. Reads are retried through the elections of the partitions it led (503s); then writes.
    await kill9(a);
    const read = async (i: number) => {
      const r = await client.kv.get(`k${i}`);
      if (i === 1) expect(r?.value).toBe('x');
      else if (i === 2) expect(r).toBeNull();
      else expect(r?.value).toEqual({ i });
    };
    for (let i = 0; i < 10; i++) await read(i);
    expect(client.current()).not.toBe(`http://${a.http}`);
    for (let i = 10; i < 20; i++) await client.kv.put(`k${i}`, { i });
    for (let i = 0; i < 20; i++) await read(i);
  });
});
