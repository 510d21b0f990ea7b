// KV bulk calls on keys of one partition: one log entry, all or nothing (the KV face's
// bulk-write); a failed condition names its item and writes nothing; several partitions refused.
import { describe, expect, it } from 'vitest';
import { partitionOfKey } from '../../core/partition/map.js';
import { TestCluster } from './harness.js';

const P = 8;

describe('KV bulk calls', () => {
  it('mixed puts and deletes in one partition apply together or not at all', () => {
    const c = TestCluster.of(3, P, 2);
    c.settle();
    const keys = [...Array(400).keys()].map((i) => `k${i}`).filter((k) => partitionOfKey(k, P) === partitionOfKey('k0', P));
    const [a, b, d, e] = keys as [string, string, string, string];
    const elsewhere = [...Array(50).keys()].map((i) => `o${i}`).find((k) => partitionOfKey(k, P) !== partitionOfKey('k0', P))!;
    expect(c.call(c.ids[0]!, 1, { f: 'put', key: a, value: 1 }).kind).toBe('ok');
    const ok = c.call(c.ids[1]!, 2, { f: 'bulk', items: [{ type: 'put', key: b, value: 'b' }, { type: 'delete', key: a, expected: 1 }, { type: 'put', key: d, value: [1, 2], ttlMs: 60_000 }] });
    expect(ok).toMatchObject({ kind: 'ok' });
    const get = (k: string) => c.call(c.ids[2]!, 3, { f: 'get', key: k });
    expect(get(a)).toMatchObject({ kind: 'ok', value: null });
    expect(get(b)).toMatchObject({ kind: 'ok', value: 'b' });
    expect(get(d)).toMatchObject({ kind: 'ok', value: [1, 2] });
    // The second item's condition fails: the first put must not land either.
    const failed = c.call(c.ids[0]!, 2, { f: 'bulk', items: [{ type: 'put', key: e, value: 'e' }, { type: 'put', key: b, value: 'B', expected: 'not b' }] });
    expect(failed).toEqual({ kind: 'cas-failed', current: { index: 1, key: b, current: 'b' } });
    expect(get(e)).toMatchObject({ kind: 'ok', value: null });
    const absent = c.call(c.ids[0]!, 2, { f: 'bulk', items: [{ type: 'delete', key: a, expected: 1 }] });
    expect(absent).toEqual({ kind: 'cas-failed', current: { index: 0, key: a, current: null } });
    expect(c.call(c.ids[0]!, 2, { f: 'bulk', items: [{ type: 'put', key: e, value: 1 }, { type: 'put', key: elsewhere, value: 1 }] })).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('2PC') });
    expect(c.call(c.ids[0]!, 2, { f: 'bulk', items: [{ type: 'put', key: e, value: 1 }, { type: 'put', key: e, value: 2 }] })).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('twice') });
    expect(c.call(c.ids[0]!, 2, { f: 'bulk', items: [] })).toMatchObject({ kind: 'invalid' });
    expect(get(e)).toMatchObject({ kind: 'ok', value: null });
  });
});
