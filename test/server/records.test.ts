// Records and KV listing over HTTP on three real server processes (generated configs, free
// ports, RF 2 over 8 partitions so most requests are routed): records written through one node
// are found, read at a past time and audited through another; listings merge every partition;
// a client's mistake is a 400 naming the field (or a 404), never a 500, and the node stays healthy.
import { afterAll, describe, expect, it } from 'vitest';
import { http, makeCluster, start, stop, until, sleep, type ClusterSpec, type NodeProc } from './harness.js';

let cluster: ClusterSpec | null = null;
afterAll(async () => {
  for (const n of cluster?.nodes ?? []) await stop(n);
});

const healthy = (n: NodeProc) => until(20_000, () => http(n, 'GET', '/v1/health'), (r) => r.status === 200);

describe('records and listings over HTTP (3 processes)', () => {
  it('serves the records routes and the KV listing across partitions; bad input is 4xx naming the field', async () => {
    cluster = await makeCluster(3, 8, null, null);
    for (const n of cluster.nodes) start(n);
    for (const n of cluster.nodes) expect((await healthy(n)).status, n.stderr).toBe(200);
    const [a, b, c] = cluster.nodes as [NodeProc, NodeProc, NodeProc];

    // --- records: insert through a, read through b and c ----------------------------------
    const people = [
      { name: 'Ada Lovelace', age: 36, langs: ['en', 'fr'] },
      { name: 'Alan Turing', age: 41, langs: ['en'] },
      { name: 'Grace Hopper', age: 85, big: 2 ** 40 },
      { name: 'Barbara Liskov', age: 30, ts: { type: 'timestamp', value: '1700000000000000' } },
    ];
    const ids: string[] = [];
    for (const [i, p] of people.entries()) {
      const r = await http(cluster.nodes[i % 3]!, 'POST', '/v1/records', { data: p });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.record).toMatch(/^[0-9]+$/);
      ids.push(r.body.record);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(await http(b, 'GET', `/v1/records/${ids[0]}`)).toMatchObject({ status: 200, body: { record: ids[0], data: { name: ['Ada Lovelace'], age: [36], langs: ['en', 'fr'] } } });
    expect(await http(c, 'GET', `/v1/records/${ids[2]}?keys=big,name&consistency=eventual`).then((r) => (r.status === 200 ? r : http(c, 'GET', `/v1/records/${ids[2]}?keys=big,name`)))).toMatchObject({
      status: 200,
      body: { data: { big: [2 ** 40], name: ['Grace Hopper'] } },
    });
    expect((await http(c, 'GET', `/v1/records/${ids[3]}?keys=ts`)).body.data.ts).toEqual([{ type: 'timestamp', value: 1700000000000000 }]);

    // add / set / remove one value / clear, answered {changed, version}
    const id = ids[0]!;
    const added = await http(a, 'POST', `/v1/records/${id}/tag`, { value: 'x' });
    expect(added).toMatchObject({ status: 200, body: { changed: true } });
    expect(await http(b, 'POST', `/v1/records/${id}/tag`, { value: 'x' })).toMatchObject({ status: 200, body: { changed: false } });
    expect(await http(c, 'POST', `/v1/records/${id}/tag`, { value: { type: 'long', value: 5 } })).toMatchObject({ status: 200, body: { changed: true } });
    expect(await http(a, 'POST', `/v1/records/${id}/friend`, { value: { type: 'link', value: ids[1] } })).toMatchObject({ status: 200, body: { changed: true } });
    const audit0 = await http(b, 'GET', `/v1/records/${id}/audit`);
    expect(audit0.status).toBe(200);
    const t1 = audit0.body.revisions[audit0.body.revisions.length - 1].timestamp as number;
    await sleep(20);
    expect(await http(b, 'PUT', `/v1/records/${id}/age`, { value: 37 })).toMatchObject({ status: 200, body: { changed: true } });
    expect(await http(c, 'DELETE', `/v1/records/${id}/tag?value=${encodeURIComponent('"x"')}`)).toMatchObject({ status: 200, body: { changed: true } });
    expect(await http(a, 'GET', `/v1/records/${id}?keys=age,tag,friend`)).toMatchObject({ status: 200, body: { data: { age: [37], tag: [{ type: 'long', value: 5 }], friend: [{ type: 'link', value: ids[1] }] } } });
    // at a past time (microseconds), through another node
    expect(await http(c, 'GET', `/v1/records/${id}?keys=age,tag&at=${t1}`)).toMatchObject({ status: 200, body: { data: { age: [36], tag: ['x', { type: 'long', value: 5 }] } } });
    const ageAudit = await http(c, 'GET', `/v1/records/${id}/audit?key=age`);
    expect(ageAudit.body.revisions.map((r: { action: string; value: unknown }) => [r.action, r.value])).toEqual([
      ['ADD', 36],
      ['REMOVE', 36],
      ['ADD', 37],
    ]);
    expect(await http(a, 'POST', `/v1/records/${id}/revert`, { keys: ['age', 'tag'], at: t1 })).toMatchObject({ status: 200, body: { changed: true } });
    expect((await http(b, 'GET', `/v1/records/${id}?keys=age`)).body.data).toEqual({ age: [36] });
    expect(await http(b, 'DELETE', `/v1/records/${id}/tag`)).toMatchObject({ status: 200, body: { changed: true } });
    expect((await http(c, 'GET', `/v1/records/${id}?keys=tag`)).body.data).toEqual({});

    // find and search, merged over every partition (ascending ids)
    const sorted = (xs: string[]) => [...xs].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    expect(await http(b, 'GET', `/v1/find?criteria=${encodeURIComponent('age > 35')}`)).toEqual({ status: 200, body: { records: sorted([ids[0]!, ids[1]!, ids[2]!]) } });
    expect(await http(c, 'GET', `/v1/find?criteria=${encodeURIComponent('age > 35 and name = "Grace Hopper"')}`)).toEqual({ status: 200, body: { records: [ids[2]] } });
    expect(await http(a, 'GET', `/v1/find?criteria=${encodeURIComponent('age = 37')}&at=${t1}`)).toEqual({ status: 200, body: { records: [] } });
    expect(await http(a, 'GET', `/v1/search?key=name&query=ing`)).toEqual({ status: 200, body: { records: [ids[1]] } });
    expect(await http(a, 'GET', `/v1/search?key=name&query=a&consistency=leader`)).toMatchObject({ status: 200 });

    // --- KV listing over every partition --------------------------------------------------
    const keys = Array.from({ length: 30 }, (_, i) => `list/${String(i).padStart(2, '0')}`);
    for (const [i, k] of keys.entries()) expect((await http(cluster.nodes[i % 3]!, 'PUT', `/v1/kv/${encodeURIComponent(k)}`, { value: i })).status).toBe(200);
    expect((await http(a, 'PUT', '/v1/kv/other', { value: 'o' })).status).toBe(200);
    const page = await http(b, 'GET', '/v1/kv?prefix=list/&limit=7&offset=5');
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body.items.map((x: { key: string }) => x.key)).toEqual(keys.slice(5, 12));
    expect(page.body.items[0]).toMatchObject({ key: 'list/05', value: 5 });
    expect(page.body.more).toBe(true);
    const tail = await http(c, 'GET', '/v1/kv?prefix=list/&offset=25&consistency=eventual');
    expect(tail.body.items.map((x: { key: string }) => x.key)).toEqual(keys.slice(25));
    expect(tail.body.more).toBe(false);
    const range = await http(a, 'GET', `/v1/kv?start=${encodeURIComponent('list/10')}&range_end=${encodeURIComponent('list/13')}`);
    expect(range.body.items.map((x: { key: string }) => x.key)).toEqual(['list/10', 'list/11', 'list/12']);
    expect((await http(a, 'GET', '/v1/kv')).body.items.map((x: { key: string }) => x.key)).toEqual([...keys, 'other']);

    // --- one-partition bulk and transactions ---------------------------------------------
    // Keys / records of one partition, found through the node's own placement (8 partitions).
    const { partitionOfKey, partitionOfRecord } = await import('../../core/partition/map.js');
    const sameKeys = [...Array(400).keys()].map((i) => `bulk${i}`).filter((k) => partitionOfKey(k, 8) === partitionOfKey('bulk0', 8));
    const [k0, k1, k2] = sameKeys as [string, string, string];
    const otherKey = [...Array(100).keys()].map((i) => `x${i}`).find((k) => partitionOfKey(k, 8) !== partitionOfKey('bulk0', 8))!;
    expect((await http(a, 'POST', '/v1/kv/_bulk', { ops: [{ op: 'put', key: k0, value: 0 }, { op: 'put', key: k1, value: 'one', ttl: 600 }] })).status).toBe(200);
    const failed = await http(b, 'POST', '/v1/kv/_bulk', { ops: [{ op: 'put', key: k2, value: 2 }, { op: 'delete', key: k0, expected: 99 }] });
    expect(failed).toMatchObject({ status: 412, body: { error: 'condition_failed', message: expect.stringContaining(`ops[1]: key '${k0}'`) } });
    expect((await http(c, 'GET', `/v1/kv/${k2}`)).status).toBe(404);
    expect((await http(b, 'POST', '/v1/kv/_bulk', { ops: [{ op: 'delete', key: k0, expected: 0 }, { op: 'put', key: k2, value: 2 }] })).status).toBe(200);
    expect((await http(c, 'GET', `/v1/kv/${k0}`)).status).toBe(404);
    expect(await http(c, 'GET', `/v1/kv/${k2}`)).toMatchObject({ status: 200, body: { value: 2 } });
    expect(await http(a, 'POST', '/v1/kv/_bulk', { ops: [{ op: 'put', key: k0, value: 1 }, { op: 'put', key: otherKey, value: 1 }] })).toMatchObject({ status: 400, body: { message: expect.stringContaining('2PC') } });
    const sameRecs = [...Array(400).keys()].map((i) => BigInt(1000 + i)).filter((r) => partitionOfRecord(r, 8) === partitionOfRecord(1000n, 8));
    const [r0, r1] = [String(sameRecs[0]), String(sameRecs[1])];
    const txn = await http(c, 'POST', '/v1/txn/atomic', {
      ops: [
        { op: 'set', record: r0, key: 'balance', value: 70 },
        { op: 'add', record: r1, key: 'balance', value: 30 },
        { op: 'get', record: r0, key: 'balance' },
        { op: 'select', record: r1 },
      ],
    });
    expect(txn, JSON.stringify(txn.body)).toMatchObject({ status: 200, body: { results: [{ changed: true }, { changed: true }, { values: [70] }, { data: { balance: [30] } }] } });
    expect((await http(a, 'GET', `/v1/records/${r1}`)).body.data).toEqual({ balance: [30] });
    const otherRec = String([...Array(100).keys()].map((i) => BigInt(5000 + i)).find((r) => partitionOfRecord(r, 8) !== partitionOfRecord(1000n, 8))!);
    expect(await http(a, 'POST', '/v1/txn/atomic', { ops: [{ op: 'add', record: r0, key: 'k', value: 1 }, { op: 'add', record: otherRec, key: 'k', value: 1 }] })).toMatchObject({ status: 400, body: { message: expect.stringContaining('2PC') } });
    expect(await http(a, 'POST', '/v1/txn/atomic', { ops: [{ op: 'add', record: r0, key: 'k' }] })).toMatchObject({ status: 400, body: { message: expect.stringContaining("'ops[0].value'") } });
    expect(await http(a, 'POST', '/v1/txn/atomic', { ops: [{ op: 'fly', record: r0 }] })).toMatchObject({ status: 400, body: { message: expect.stringContaining("'ops[0].op'") } });
    expect(await http(a, 'POST', '/v1/kv/_bulk', { ops: [] })).toMatchObject({ status: 400 });
    expect((await http(b, 'GET', `/v1/records/${r0}?keys=k`)).body.data).toEqual({});

    // --- bad input: 400 naming the field, 404; never a 500 --------------------------------
    const bad: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/records', { data: { 'bad key': 1 } }, 400, "'data"],
      ['POST', '/v1/records', { data: { k: null } }, 400, "'data.k'"],
      ['POST', '/v1/records', { data: {} }, 400, "'data'"],
      ['POST', '/v1/records', { nodata: 1 }, 400, 'data'],
      ['POST', `/v1/records/${id}/k`, { value: { type: 'long', value: 'abc' } }, 400, "'value'"],
      ['POST', `/v1/records/${id}/k`, { value: { type: 'weird', value: 1 } }, 400, "'value.type'"],
      ['POST', `/v1/records/${id}/no%20space`, { value: 1 }, 400, "'key'"],
      ['POST', '/v1/records/99999999999999999999/k', { value: 1 }, 400, 'id'],
      ['POST', '/v1/records/-1/k', { value: 1 }, 400, 'id'],
      ['GET', '/v1/records/abc', undefined, 400, 'id'],
      ['GET', `/v1/records/${id}?at=yesterday`, undefined, 400, "'at'"],
      ['DELETE', `/v1/records/${id}/k?value=not-json`, undefined, 400, "'value'"],
      ['POST', `/v1/records/${id}/revert`, { at: 'never' }, 400, "'at'"],
      ['GET', '/v1/find?criteria=age%20%3E', undefined, 400, "'criteria'"],
      ['GET', '/v1/find', undefined, 400, 'criteria'],
      ['GET', '/v1/search?key=name', undefined, 400, 'query'],
      ['GET', '/v1/kv?prefix=a&start=b', undefined, 400, "'prefix'"],
      ['GET', '/v1/kv?limit=0', undefined, 400, "'limit'"],
      ['GET', '/v1/kv?limit=many', undefined, 400, 'limit'],
      ['GET', '/v1/kv?offset=9999&limit=10', undefined, 400, "'offset'"],
      ['GET', '/v1/records/123456789', undefined, 404, 'holds no data'],
    ];
    for (const [method, path, body, status, field] of bad) {
      const r = await http(a, method, path, body);
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(status);
      expect(r.body.message, `${method} ${path}`).toContain(field);
      expect(r.body.error).toBe(status === 404 ? 'not_found' : 'bad_request');
    }
    expect((await http(a, 'GET', '/v1/health')).status).toBe(200);
    // the OpenAPI document names the new routes
    const spec = await http(b, 'GET', '/v1/openapi.json');
    for (const p of ['/v1/records', '/v1/records/{id}', '/v1/records/{id}/{key}', '/v1/records/{id}/audit', '/v1/records/{id}/revert', '/v1/find', '/v1/search', '/v1/kv']) expect(Object.keys(spec.body.paths)).toContain(p);
  }, 90_000);
});
