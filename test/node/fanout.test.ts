// Reads over every partition (KV list and count, records find and search), merged by the
// node: the answers through any node equal a single-store oracle's, limit/offset and `more`
// included, across 8 partitions of a 3-node RF-2 cluster (so most parts are routed).
import { describe, expect, it } from 'vitest';
import { MemStore } from '../../core/storage/memstore.js';
import { parseCriteria } from '../../core/storage/records/ccl.js';
import { RecordStore } from '../../core/storage/records/store.js';
import { compareCodePoints, integer, str } from '../../core/storage/records/values.js';
import { timestamp } from '../../core/storage/types.js';
import { logIndex } from '../../core/types.js';
import type { PlantedBug } from '../../core/bugs.js';
import { ROUTE_TIMEOUT_MS, TestCluster } from './harness.js';

const P = 8;

function lcg(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function okValue(r: { kind: string }): any {
  expect(r.kind, JSON.stringify(r, (_, v) => (typeof v === "bigint" ? `${v}n` : v))).toBe('ok');
  return (r as { value: unknown }).value;
}

describe('fan-out reads', () => {
  it('KV list (prefix, range, limit, offset, more) and count equal a single-store oracle', () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    const rnd = lcg(7);
    const oracle = new Map<string, number>();
    const alphabet = ['a', 'b', 'ab', 'é', '😀', 'Z', 'a/', 'b/x'];
    for (let i = 0; i < 120; i++) {
      const key = `${alphabet[rnd(alphabet.length)]}${rnd(30)}`;
      if (rnd(6) === 0 && oracle.has(key)) {
        okValue(c.call(c.ids[i % 3]!, 1, { f: 'delete', key }));
        oracle.delete(key);
      } else {
        okValue(c.call(c.ids[i % 3]!, 1, { f: 'put', key, value: i }));
        oracle.set(key, i);
      }
    }
    const sorted = [...oracle.keys()].sort(compareCodePoints);
    expect(new Set(sorted.map((k) => c.node(c.ids[0]!).map.partitionOfKey(k))).size).toBe(P);
    const cases: Array<{ prefix?: string; start?: string; end?: string; limit?: number; offset?: number }> = [
      {},
      { prefix: 'a' },
      { prefix: 'b/' },
      { start: 'ab', end: 'é' },
      { start: 'b' },
      { end: 'b' },
      { limit: 5 },
      { limit: 5, offset: 5 },
      { prefix: 'a', limit: 3, offset: 2 },
      { offset: sorted.length - 2, limit: 10 },
      { offset: sorted.length + 3, limit: 10 },
      { limit: sorted.length },
    ];
    for (const [i, q] of cases.entries()) {
      const match = sorted.filter((k) => (q.prefix === undefined || k.startsWith(q.prefix)) && (q.start === undefined || compareCodePoints(k, q.start) >= 0) && (q.end === undefined || compareCodePoints(k, q.end) < 0));
      const offset = q.offset ?? 0;
      const limit = q.limit ?? 1000;
      const want = match.slice(offset, offset + limit);
      for (const consistency of ['strong', 'leader', 'eventual'] as const) {
        const v = okValue(c.call(c.ids[i % 3]!, 2, { f: 'list', ...q, consistency }));
        expect(v.items.map((it: { key: string }) => it.key), `${JSON.stringify(q)} ${consistency}`).toEqual(want);
        expect(v.items.map((it: { value: number }) => it.value)).toEqual(want.map((k) => oracle.get(k)));
        expect(v.more, JSON.stringify(q)).toBe(match.length > offset + limit);
      }
      if (q.limit === undefined && q.offset === undefined) expect(okValue(c.call(c.ids[(i + 1) % 3]!, 2, { f: 'count', ...q }))).toBe(match.length);
    }
    expect(c.call(c.ids[0]!, 2, { f: 'list', prefix: 'a', start: 'a' })).toMatchObject({ kind: 'invalid', reason: expect.stringContaining("'prefix'") });
    expect(c.call(c.ids[0]!, 2, { f: 'list', limit: 0 })).toMatchObject({ kind: 'invalid', reason: expect.stringContaining("'limit'") });
    expect(c.call(c.ids[0]!, 2, { f: 'list', limit: 10, offset: 9995 })).toMatchObject({ kind: 'invalid', reason: expect.stringContaining("'offset'") });
  });

  it('planted bug fanout-offset-per-partition: a page past the first loses keys, and this oracle check sees it', () => {
    const run = (bugs: ReadonlySet<PlantedBug>) => {
      const c = TestCluster.of(3, P, 2, { bugs });
      c.settle();
      for (let i = 0; i < 40; i++) okValue(c.call(c.ids[i % 3]!, 1, { f: 'put', key: `key${String(i).padStart(2, '0')}`, value: i }));
      return okValue(c.call(c.ids[0]!, 2, { f: 'list', limit: 10, offset: 10 })).items.map((it: { key: string }) => it.key);
    };
    const want = Array.from({ length: 10 }, (_, i) => `key${String(10 + i).padStart(2, '0')}`);
    expect(run(new Set())).toEqual(want);
    expect(run(new Set(['fanout-offset-per-partition']))).not.toEqual(want);
  });

  it('records find (criteria, at a past time) and search equal a single-store oracle', () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    const oracle = new RecordStore(new MemStore());
    let index = 0;
    let tsOracle = 1;
    const rnd = lcg(11);
    const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Leslie Lamport'];
    const ids: bigint[] = [];
    for (let i = 0; i < 30; i++) {
      const name = names[rnd(names.length)]!;
      const age = 20 + rnd(60);
      const v = okValue(c.call(c.ids[i % 3]!, 1 + (i % 3), { f: 'insert', document: { name, age } }));
      ids.push(v.record);
      oracle.apply([{ op: 'add', record: v.record, key: 'name', value: str(name) }, { op: 'add', record: v.record, key: 'age', value: integer(age) }], { index: logIndex(++index), timestamp: timestamp(tsOracle++) });
    }
    expect(new Set(ids.map((id) => c.node(c.ids[0]!).map.partitionOfRecord(id))).size).toBeGreaterThan(4);
    c.run(50);
    const midVersionT = okValue(c.call(c.ids[0]!, 5, { f: 'audit', record: ids[0]! }))[0].timestamp as number;
    const before = okValue(c.call(c.ids[1]!, 5, { f: 'find', criteria: 'age >= 0' }));
    // Later writes: a past-time find must not see them.
    for (const id of ids.slice(0, 10)) {
      okValue(c.call(c.ids[2]!, 6, { f: 'set', record: id, key: 'age', value: integer(99) }));
      oracle.apply([{ op: 'set', record: id, key: 'age', value: integer(99) }], { index: logIndex(++index), timestamp: timestamp(tsOracle++) });
    }
    const criteria = ['age > 50', 'age <= 30 or name = "Ada Lovelace"', 'name regex "^A" and age between 30 60', 'age = 99', 'name != "Alan Turing"'];
    for (const [i, cr] of criteria.entries()) {
      const want = oracle.find(parseCriteria(cr));
      for (const consistency of ['strong', 'eventual'] as const) expect(okValue(c.call(c.ids[i % 3]!, 7, { f: 'find', criteria: cr, consistency })), cr).toEqual(want);
    }
    expect(okValue(c.call(c.ids[0]!, 7, { f: 'find', criteria: 'age = 99', at: midVersionT }))).toEqual([]);
    expect(before).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    for (const q of ['ada', 'ing', 'la', 'grace hop']) expect(okValue(c.call(c.ids[1]!, 8, { f: 'search', key: 'name', query: q })), q).toEqual(oracle.search('name', q));
    expect(c.call(c.ids[0]!, 9, { f: 'find', criteria: 'age >' }).kind).toBe('invalid');
  });

  it('through a node cut off from the others, a strong fan-out fails retryably within the bound', () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    okValue(c.call(c.ids[0]!, 1, { f: 'put', key: 'k', value: 1 }));
    c.isolate(c.ids[1]!);
    const t0 = c.nowMs;
    const r = c.call(c.ids[1]!, 2, { f: 'list' }, ROUTE_TIMEOUT_MS * 6);
    expect(['unavailable', 'no-quorum']).toContain(r.kind);
    expect(c.nowMs - t0).toBeLessThanOrEqual(ROUTE_TIMEOUT_MS * 5 + 100);
    expect(c.node(c.ids[1]!).pendingRequests()).toBe(0);
  });
});
