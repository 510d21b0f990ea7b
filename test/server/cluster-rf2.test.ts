// Three real processes at the 3-node default replication factor (2): each node replicates only
// some partitions, so a request for another partition is forwarded by the coordinator to a
// replica (`forward` / `forward-reply` peer messages). Every PUT sent to one node must succeed
// and be readable through the others.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { http, makeCluster, start, stop, until, type ClusterSpec } from './harness.js';

let cluster: ClusterSpec | null = null;
afterAll(async () => {
  for (const n of cluster?.nodes ?? []) await stop(n);
});

describe('a three-node cluster at the default replication factor', () => {
  it('routes requests for partitions a node does not replicate', async () => {
    cluster = await makeCluster(3, 4, 'secret.txt', null);
    writeFileSync(join(cluster.dir, 'secret.txt'), 'a-shared-cluster-secret-of-some-length\n');
    const [a, b, c] = cluster.nodes;
    for (const n of cluster.nodes) start(n);
    for (const n of cluster.nodes) expect((await until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200)).status, n.stderr).toBe(200);
    const failed: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await http(a!, 'PUT', `/v1/kv/k${i}`, { value: i });
      if (r.status !== 200) failed.push(`k${i}: ${r.status}`);
    }
    expect(failed, a!.stderr).toEqual([]);
    for (const n of [b!, c!]) {
      for (let i = 0; i < 20; i++) expect(await http(n, 'GET', `/v1/kv/k${i}?consistency=strong`)).toMatchObject({ status: 200, body: { value: i } });
    }
    for (const n of cluster.nodes) expect(n.stderr).not.toMatch(/message body missing/);
  });
});
