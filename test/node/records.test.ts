// Records through the replicas of a partitioned cluster: every op routed by its record's
// partition (insert by its request id), answered the same through any node, at every level.
import { describe, expect, it } from 'vitest';
import { partitionOfRecord } from '../../core/partition/map.js';
import { integer, link, str } from '../../core/storage/records/values.js';
import { nodeId } from '../../core/types.js';
import { TestCluster } from './harness.js';

const P = 8;

function okValue(r: { kind: string }): any {
  expect(r.kind, JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe('ok');
  return (r as { value: unknown }).value;
}

describe('records through the replicas', () => {
  it('insert allocates ids unique across partitions, in the partition they hash to; every node reads them', () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    const ids: bigint[] = [];
    for (let i = 0; i < 24; i++) {
      const r = c.call(c.ids[i % 3]!, 1 + (i % 4), { f: 'insert', document: { name: `n${i}`, i } });
      const v = okValue(r);
      ids.push(v.record);
      expect(partitionOfRecord(v.record, P)).toBe((r as { partition: number }).partition);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => partitionOfRecord(id, P))).size).toBeGreaterThan(3);
    for (const [i, id] of ids.entries()) {
      const v = okValue(c.call(c.ids[(i + 1) % 3]!, 9, { f: 'select', record: id }));
      expect(v).toEqual({ exists: true, data: { name: [{ type: 'string', value: `n${i}` }], i: [{ type: 'integer', value: i }] } });
    }
  });

  it('a retried insert (same client and seq, through another node) applies once and answers the same id', () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    c.request(c.ids[0]!, { clientId: 5, seq: 1, op: { f: 'insert', document: { a: 1 } } });
    c.run(200);
    const first = c.reply(5, 1)!.result;
    c.replies.length = 0;
    c.request(c.ids[2]!, { clientId: 5, seq: 1, op: { f: 'insert', document: { a: 1 } } });
    c.run(200);
    const again = c.reply(5, 1)!.result;
    expect(okValue(again).record).toBe(okValue(first).record);
    expect(okValue(c.call(c.ids[1]!, 6, { f: 'find', criteria: 'a = 1' }))).toEqual([okValue(first).record]);
  });

  it('add, set, remove, link, select at a time, audit and revert', () => {
    const c = TestCluster.of(3, P, 3);
    c.settle();
    const [a, b, d] = c.ids as [ReturnType<typeof nodeId>, ReturnType<typeof nodeId>, ReturnType<typeof nodeId>];
    const rec = 42n;
    expect(okValue(c.call(a, 1, { f: 'add', record: rec, key: 'name', value: str('Ada') }))).toMatchObject({ changed: true });
    expect(okValue(c.call(b, 1, { f: 'add', record: rec, key: 'name', value: str('Ada') }))).toMatchObject({ changed: false });
    c.call(d, 1, { f: 'add', record: rec, key: 'tag', value: str('x') });
    c.call(d, 1, { f: 'add', record: rec, key: 'tag', value: str('y') });
    c.run(20);
    const audit1 = okValue(c.call(a, 2, { f: 'audit', record: rec }));
    const t1 = audit1[audit1.length - 1].timestamp as number;
    c.run(50);
    expect(okValue(c.call(a, 1, { f: 'set', record: rec, key: 'name', value: str('Grace') }))).toMatchObject({ changed: true });
    expect(okValue(c.call(b, 1, { f: 'remove', record: rec, key: 'tag', value: str('x') }))).toMatchObject({ changed: true });
    expect(okValue(c.call(b, 1, { f: 'remove', record: rec, key: 'tag', value: str('x') }))).toMatchObject({ changed: false });
    expect(okValue(c.call(d, 1, { f: 'link', record: rec, key: 'friend', destination: 7n }))).toMatchObject({ changed: true });
    const now = okValue(c.call(a, 2, { f: 'select', record: rec }));
    expect(now.data).toEqual({ name: [{ type: 'string', value: 'Grace' }], tag: [{ type: 'string', value: 'y' }], friend: [link(7n)] });
    const past = okValue(c.call(b, 2, { f: 'select', record: rec, at: t1, keys: ['name', 'tag'] }));
    expect(past.data).toEqual({ name: [str('Ada')], tag: [str('x'), str('y')] });
    const nameAudit = okValue(c.call(d, 2, { f: 'audit', record: rec, key: 'name', consistency: 'eventual' }));
    expect(nameAudit.map((r: { action: string; value: unknown }) => [r.action, r.value])).toEqual([
      ['ADD', str('Ada')],
      ['REMOVE', str('Ada')],
      ['ADD', str('Grace')],
    ]);
    // Versions and timestamps only grow along the log.
    for (let i = 1; i < audit1.length; i++) expect(audit1[i].timestamp).toBeGreaterThanOrEqual(audit1[i - 1].timestamp);
    expect(okValue(c.call(a, 1, { f: 'revert', record: rec, at: t1, keys: ['name', 'tag'] }))).toMatchObject({ changed: true });
    const reverted = okValue(c.call(b, 2, { f: 'select', record: rec })).data;
    expect({ ...reverted, tag: [...reverted.tag].sort((x: { value: string }, y: { value: string }) => x.value.localeCompare(y.value)) }).toEqual({ name: [str('Ada')], tag: [str('x'), str('y')], friend: [link(7n)] });
    expect(okValue(c.call(b, 1, { f: 'remove', record: rec, key: 'tag' }))).toMatchObject({ changed: true });
    expect(okValue(c.call(a, 2, { f: 'select', record: rec, keys: ['tag'] })).data).toEqual({});
  });

  it("bad input is answered invalid and logs nothing: a bad key, a bad value, an id out of range, a bad document", () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    const bad = [
      { f: 'add', record: 1n, key: 'no spaces', value: str('x') },
      { f: 'add', record: 1n, key: 'k', value: { type: 'integer', value: 1.5 } },
      { f: 'add', record: -1n, key: 'k', value: integer(1) },
      { f: 'select', record: 1n << 64n },
      { f: 'insert', document: { k: null } },
      { f: 'insert', document: [1, 2] },
      { f: 'revert', record: 1n, at: -5 },
    ] as const;
    for (const op of bad) expect(c.call(c.ids[0]!, 3, op as never).kind, JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe('invalid');
    for (const id of c.ids) for (const p of c.node(id).hostedPartitions()) expect(c.node(id).stateMachine(p).records.version()).toBe(0);
  });

  it('a one-shot transaction over records of one partition commits as one entry through core/lock; across partitions it is refused', () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    const same = [...Array(200).keys()].map((i) => BigInt(i + 1)).filter((id) => partitionOfRecord(id, P) === partitionOfRecord(1n, P));
    const [r1, r2] = [same[0]!, same[1]!];
    const other = [...Array(200).keys()].map((i) => BigInt(i + 1)).find((id) => partitionOfRecord(id, P) !== partitionOfRecord(1n, P))!;
    okValue(c.call(c.ids[0]!, 1, { f: 'add', record: r1, key: 'balance', value: integer(100) }));
    const v = okValue(
      c.call(c.ids[1]!, 2, {
        f: 'atomic',
        ops: [
          { type: 'get', record: r1, key: 'balance' },
          { type: 'set', record: r1, key: 'balance', value: integer(70) },
          { type: 'add', record: r2, key: 'balance', value: integer(30) },
          { type: 'add', record: r2, key: 'balance', value: integer(30) },
          { type: 'select', record: r2 },
        ],
      }),
    );
    expect(v.results).toEqual([
      { type: 'values', values: [integer(100)] },
      { type: 'changed', changed: true },
      { type: 'changed', changed: true },
      { type: 'changed', changed: false },
      { type: 'record', keys: [['balance', [integer(30)]]] },
    ]);
    expect(okValue(c.call(c.ids[2]!, 3, { f: 'select', record: r1 })).data).toEqual({ balance: [integer(70)] });
    expect(okValue(c.call(c.ids[2]!, 3, { f: 'select', record: r2 })).data).toEqual({ balance: [integer(30)] });
    // One revision batch: both records' writes carry the same timestamp.
    const t1 = okValue(c.call(c.ids[0]!, 3, { f: 'audit', record: r1, key: 'balance' })).at(-1).timestamp;
    const t2 = okValue(c.call(c.ids[0]!, 3, { f: 'audit', record: r2 })).at(-1).timestamp;
    expect(t1).toBe(t2);
    const cross = c.call(c.ids[0]!, 4, { f: 'atomic', ops: [{ type: 'add', record: r1, key: 'x', value: integer(1) }, { type: 'add', record: other, key: 'x', value: integer(1) }] });
    expect(cross).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('2PC') });
    const bad = c.call(c.ids[0]!, 4, { f: 'atomic', ops: [{ type: 'add', record: r1, key: 'ok', value: integer(1) }, { type: 'add', record: r1, key: 'bad key', value: integer(1) }] });
    expect(bad).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('ops[1]') });
    expect(okValue(c.call(c.ids[0]!, 5, { f: 'select', record: r1, keys: ['ok', 'x'] })).data).toEqual({});
    // A restored replica resumes the transaction state from the store's snapshot.
    const host = c.ids.find((id) => c.node(id).hosts(partitionOfRecord(r1, P)))!;
    const sm = c.node(host).stateMachine(partitionOfRecord(r1, P));
    const copy = new (sm.constructor as new (...a: unknown[]) => typeof sm)(undefined, { partition: partitionOfRecord(r1, P), partitions: P });
    copy.restore(sm.snapshot());
    expect(copy.records.select('balance', r1)).toEqual([integer(70)]);
  });

  it('record reads take the consistency levels: eventual is served from a cut-off replica, strong fails retryably there', () => {
    const c = TestCluster.of(3, P, 3);
    c.settle();
    okValue(c.call(c.ids[0]!, 1, { f: 'add', record: 9n, key: 'k', value: integer(1) }));
    c.run(100);
    const lonely = c.ids[2]!;
    c.isolate(lonely);
    expect(okValue(c.call(lonely, 2, { f: 'select', record: 9n, consistency: 'eventual' })).data).toEqual({ k: [integer(1)] });
    expect(okValue(c.call(lonely, 2, { f: 'find', criteria: 'k = 1', consistency: 'eventual' }))).toEqual([9n]);
    expect(['unavailable', 'no-quorum']).toContain(c.call(lonely, 2, { f: 'select', record: 9n }, 5000).kind);
    expect(['unavailable', 'no-quorum']).toContain(c.call(lonely, 2, { f: 'audit', record: 9n, consistency: 'leader' }, 5000).kind);
  });
});
