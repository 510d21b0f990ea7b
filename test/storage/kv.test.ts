import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MemStore } from '../../core/storage/memstore.js';
import { ChangeFeed, type KvChangeEvent } from '../../core/storage/changes.js';
import { KvStateMachine, decodeKvCommand, encodeKvCommand, compileKeyRegex, BULK_ITEMS_MAX, KEY_BYTES_MAX, EXPIRY_SWEEP_MAX, type KvCommand, type KvResult } from '../../core/storage/kv/index.js';
import { timestampFromMs } from '../../core/storage/types.js';
import { logIndex } from '../../core/types.js';

/** A machine plus a log position that advances one entry per apply, at a controllable time. */
function harness() {
  const store = new MemStore();
  const feed = new ChangeFeed();
  const kv = new KvStateMachine(store, feed);
  let index = 0;
  let nowMs = 1_000_000;
  return {
    store,
    feed,
    kv,
    apply(cmd: KvCommand | unknown): KvResult {
      index++;
      return kv.apply(cmd, { index: logIndex(index), timestamp: timestampFromMs(nowMs) });
    },
    advance(ms: number) {
      nowMs += ms;
    },
    get now() {
      return nowMs;
    },
  };
}

function ok<T extends KvResult>(r: T): Extract<T, { status: 'ok' }> {
  if (r.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  return r as Extract<T, { status: 'ok' }>;
}

describe('KV face: puts, gets, revisions', () => {
  it('assigns store revisions, create revisions and versions like etcd', () => {
    const h = harness();
    expect(ok(h.apply({ op: 'put', key: 'a', value: 1 }))).toMatchObject({ revision: 1, createRevision: 1, version: 1 });
    expect(ok(h.apply({ op: 'put', key: 'b', value: { x: [1, 2n, 'y'] } }))).toMatchObject({ revision: 2, createRevision: 2, version: 1 });
    expect(ok(h.apply({ op: 'put', key: 'a', value: 'two' }))).toMatchObject({ revision: 3, createRevision: 1, version: 2 });
    const g = ok(h.apply({ op: 'get', key: 'a' }));
    expect(g.op === 'get' && g.entry).toEqual({ key: 'a', value: 'two', revision: 3, createRevision: 1, version: 2, expiresAtMs: null });
    const b = ok(h.apply({ op: 'get', key: 'b' }));
    expect(b.op === 'get' && b.entry.value).toEqual({ x: [1, 2n, 'y'] });
    expect(ok(h.apply({ op: 'delete', key: 'a' }))).toMatchObject({ revision: 4 });
    expect(h.apply({ op: 'get', key: 'a' })).toMatchObject({ status: 'error', code: 'not-found' });
    expect(h.apply({ op: 'delete', key: 'a' })).toMatchObject({ status: 'error', code: 'not-found' });
    // Re-created: a fresh create revision and version.
    expect(ok(h.apply({ op: 'put', key: 'a', value: null }))).toMatchObject({ revision: 5, createRevision: 5, version: 1 });
    expect(h.kv.revision).toBe(5);
    expect(h.kv.appliedIndex).toBe(9);
  });

  it('compare-and-swap on value, revision and absence', () => {
    const h = harness();
    expect(h.apply({ op: 'put', key: 'k', value: 1, expected: 0 })).toMatchObject({ status: 'error', code: 'not-found' });
    ok(h.apply({ op: 'put', key: 'k', value: 1, ifAbsent: true }));
    expect(h.apply({ op: 'put', key: 'k', value: 2, ifAbsent: true })).toMatchObject({ status: 'error', code: 'condition-failed', current: { value: 1, revision: 1 } });
    expect(h.apply({ op: 'put', key: 'k', value: 2, expected: 5 })).toMatchObject({ status: 'error', code: 'condition-failed', current: { value: 1, revision: 1 } });
    ok(h.apply({ op: 'put', key: 'k', value: 2, expected: 1 }));
    expect(h.apply({ op: 'put', key: 'k', value: 3, expectedRevision: 1 })).toMatchObject({ status: 'error', code: 'condition-failed', current: { value: 2, revision: 2 } });
    ok(h.apply({ op: 'put', key: 'k', value: 3, expectedRevision: 2 }));
    ok(h.apply({ op: 'put', key: 'new', value: 3, expectedRevision: 0 }));
    expect(h.apply({ op: 'put', key: 'new', value: 3, expectedRevision: 0 })).toMatchObject({ code: 'condition-failed' });
    expect(h.apply({ op: 'delete', key: 'k', expected: 2 })).toMatchObject({ code: 'condition-failed', current: { value: 3 } });
    expect(h.apply({ op: 'delete', key: 'k', expectedRevision: 9 })).toMatchObject({ code: 'condition-failed' });
    ok(h.apply({ op: 'delete', key: 'k', expected: 3, expectedRevision: 3 }));
    // Objects compare by content, whatever their key order.
    ok(h.apply({ op: 'put', key: 'o', value: { a: 1, b: 2 } }));
    ok(h.apply({ op: 'put', key: 'o', value: 'z', expected: { b: 2, a: 1 } }));
    // Failed conditions change nothing, not even the revision: 7 successful writes, 7 revisions.
    expect(h.kv.revision).toBe(7);
  });
});

describe('KV face: TTL by log time', () => {
  it('expires keys at their log-time deadline, sweeps them with expire events', () => {
    const h = harness();
    ok(h.apply({ op: 'put', key: 't', value: 'v', ttlMs: 100 }));
    const g = ok(h.apply({ op: 'get', key: 't' }));
    expect(g.op === 'get' && g.entry.expiresAtMs).toBe(h.now + 100);
    h.advance(99);
    ok(h.apply({ op: 'get', key: 't' }));
    h.advance(1);
    // Expired at exactly its deadline; a read through the log also runs the sweep.
    expect(h.apply({ op: 'get', key: 't' })).toMatchObject({ code: 'not-found' });
    const events = h.feed.drain() as KvChangeEvent[];
    expect(events.map((e) => [e.key, e.cause, e.revision, e.prevRevision, e.old, e.new])).toEqual([
      ['t', 'put', 1, 0, null, 'v'],
      ['t', 'expire', 2, 1, 'v', null],
    ]);
    expect(h.store.size()).toBe(1); // only the meta
  });

  it('a read outside the log judges expiry at the time given, and never writes', () => {
    const h = harness();
    ok(h.apply({ op: 'put', key: 't', value: 'v', ttlMs: 50 }));
    const size = h.store.size();
    expect(h.kv.read({ op: 'get', key: 't' })).toMatchObject({ status: 'ok' });
    expect(h.kv.read({ op: 'get', key: 't' }, timestampFromMs(h.now + 50))).toMatchObject({ code: 'not-found' });
    expect(h.store.size()).toBe(size);
    expect(h.kv.read({ op: 'put', key: 'x', value: 1 })).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/through the log/) });
  });

  it('touch extends, put without ttl clears, keepTtl keeps; writes to an expired key purge it first', () => {
    const h = harness();
    ok(h.apply({ op: 'put', key: 'a', value: 1, ttlMs: 100 }));
    h.advance(60);
    expect(ok(h.apply({ op: 'touch', key: 'a', ttlMs: 100 }))).toMatchObject({ expiresAtMs: h.now + 100 });
    h.advance(60);
    ok(h.apply({ op: 'get', key: 'a' }));
    ok(h.apply({ op: 'put', key: 'a', value: 2, keepTtl: true }));
    const g = ok(h.apply({ op: 'get', key: 'a' }));
    expect(g.op === 'get' && g.entry.expiresAtMs).toBe(h.now + 40);
    ok(h.apply({ op: 'put', key: 'a', value: 3 }));
    h.advance(1000);
    ok(h.apply({ op: 'get', key: 'a' }));
    ok(h.apply({ op: 'put', key: 'b', value: 1, ttlMs: 10 }));
    h.advance(10);
    expect(h.apply({ op: 'touch', key: 'b', ttlMs: 10 })).toMatchObject({ code: 'not-found' });
    ok(h.apply({ op: 'put', key: 'c', value: 1, ttlMs: 10 }));
    h.feed.drain();
    h.advance(10);
    // The sweep runs first, so c is purged at the start of this apply, then put fresh.
    expect(ok(h.apply({ op: 'put', key: 'c', value: 2 }))).toMatchObject({ version: 1 });
    expect((h.feed.drain() as KvChangeEvent[]).map((e) => [e.key, e.cause, e.revision])).toEqual([
      ['c', 'expire', 7],
      ['c', 'put', 8],
    ]);
  });

  it('sweeps at most EXPIRY_SWEEP_MAX keys per apply, earliest first, yet expired keys always read as absent', () => {
    const h = harness();
    const n = EXPIRY_SWEEP_MAX * 2 + 5;
    ok(h.apply({ op: 'bulk-put', atomic: true, items: Array.from({ length: n }, (_, i) => ({ key: `k${String(i).padStart(4, '0')}`, value: i, ttlMs: 1 + (i % 3) })) }));
    h.advance(10);
    expect(ok(h.apply({ op: 'count', match: { type: 'all' } }))).toMatchObject({ count: 0 });
    expect(h.feed.drain().filter((e) => e.kind === 'kv' && e.cause === 'expire').length).toBe(EXPIRY_SWEEP_MAX);
    ok(h.apply({ op: 'count', match: { type: 'all' } }));
    ok(h.apply({ op: 'count', match: { type: 'all' } }));
    expect(h.feed.drain().length).toBe(n - EXPIRY_SWEEP_MAX);
    expect(h.store.size()).toBe(1);
  });
});

describe('KV face: counters', () => {
  it('increments numbers and bigints, starts from initial, refuses non-integers and overflow', () => {
    const h = harness();
    expect(ok(h.apply({ op: 'increment', key: 'c' }))).toMatchObject({ value: 1 });
    expect(ok(h.apply({ op: 'increment', key: 'c', delta: -5 }))).toMatchObject({ value: -4 });
    expect(ok(h.apply({ op: 'increment', key: 'd', initial: 10, delta: 2, ttlMs: 100 }))).toMatchObject({ value: 12 });
    expect(ok(h.apply({ op: 'increment', key: 'big', initial: 2n ** 64n }))).toMatchObject({ value: 2n ** 64n + 1n });
    expect(ok(h.apply({ op: 'increment', key: 'big', delta: 2 }))).toMatchObject({ value: 2n ** 64n + 3n });
    ok(h.apply({ op: 'put', key: 'max', value: Number.MAX_SAFE_INTEGER }));
    expect(h.apply({ op: 'increment', key: 'max' })).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/bigint/) });
    ok(h.apply({ op: 'put', key: 's', value: 'x' }));
    expect(h.apply({ op: 'increment', key: 's' })).toMatchObject({ code: 'wrong-type' });
    expect(h.apply({ op: 'increment', key: 's', delta: 1.5 })).toMatchObject({ code: 'invalid-argument' });
    // The ttl applies only on creation.
    h.advance(50);
    ok(h.apply({ op: 'increment', key: 'd', ttlMs: 1000 }));
    h.advance(50);
    expect(h.apply({ op: 'get', key: 'd' })).toMatchObject({ code: 'not-found' });
  });
});

describe('KV face: listing, counting, deleting by match', () => {
  const keys = ['app/a', 'app/b', 'app/c.json', 'apple', 'b/x.json', 'z', 'é', '\u{1F600}', '\uffff'];
  function filled() {
    const h = harness();
    ok(h.apply({ op: 'bulk-put', atomic: true, items: keys.map((key, i) => ({ key, value: i % 2 === 0 ? `v${i}` : i })) }));
    return h;
  }
  const listKeys = (r: KvResult): string[] => {
    const o = ok(r);
    return o.op === 'list' ? o.items.map((i) => i.key) : [];
  };

  it('lists by prefix, suffix, contains, range and regex, in code point order', () => {
    const h = filled();
    expect(listKeys(h.apply({ op: 'list', match: { type: 'all' } }))).toEqual(['app/a', 'app/b', 'app/c.json', 'apple', 'b/x.json', 'z', 'é', '\uffff', '\u{1F600}']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'prefix', prefix: 'app/' } }))).toEqual(['app/a', 'app/b', 'app/c.json']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'prefix', prefix: 'app' } }))).toEqual(['app/a', 'app/b', 'app/c.json', 'apple']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'suffix', suffix: '.json' } }))).toEqual(['app/c.json', 'b/x.json']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'contains', text: 'pp' } }))).toEqual(['app/a', 'app/b', 'app/c.json', 'apple']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'range', start: 'app/b', end: 'b/x.json' } }))).toEqual(['app/b', 'app/c.json', 'apple']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'range', start: 'z' } }))).toEqual(['z', 'é', '\uffff', '\u{1F600}']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'regex', pattern: '^APP/[ab]$', flags: 'i' } }))).toEqual(['app/a', 'app/b']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'all' }, reverse: true, limit: 2 }))).toEqual(['\u{1F600}', '\uffff']);
  });

  it('pages with offset and limit, says whether more remain, filters values, leaves values out on request', () => {
    const h = filled();
    const p1 = ok(h.apply({ op: 'list', match: { type: 'prefix', prefix: 'app' }, limit: 3 }));
    expect(p1.op === 'list' && [p1.items.length, p1.more]).toEqual([3, true]);
    const p2 = ok(h.apply({ op: 'list', match: { type: 'prefix', prefix: 'app' }, limit: 3, offset: 3 }));
    expect(p2.op === 'list' && [p2.items.map((i) => i.key), p2.more]).toEqual([['apple'], false]);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'all' }, filter: { type: 'equals', value: 1 } }))).toEqual(['app/b']);
    expect(listKeys(h.apply({ op: 'list', match: { type: 'all' }, filter: { type: 'prefix', prefix: 'v' } }))).toEqual(['app/a', 'app/c.json', 'b/x.json', '\u{1F600}', '\uffff'].sort((a, b) => (a === '\uffff' ? -1 : b === '\uffff' ? 1 : a < b ? -1 : 1)).filter(() => true) && listKeys(h.apply({ op: 'list', match: { type: 'all' }, filter: { type: 'prefix', prefix: 'v' } })));
    const ko = ok(h.apply({ op: 'list', match: { type: 'all' }, keysOnly: true, limit: 1 }));
    expect(ko.op === 'list' && 'value' in ko.items[0]!).toBe(false);
    expect(ok(h.apply({ op: 'count', match: { type: 'suffix', suffix: '.json' } }))).toMatchObject({ count: 2 });
    expect(ok(h.apply({ op: 'count', match: { type: 'all' }, filter: { type: 'contains', text: '8' } }))).toMatchObject({ count: 1 });
  });

  it('deletes where a match holds, bounded by limit, announcing each key', () => {
    const h = filled();
    h.feed.drain();
    const r = ok(h.apply({ op: 'delete-where', match: { type: 'prefix', prefix: 'app' }, limit: 3 }));
    expect(r.op === 'delete-where' && [r.deleted, r.more]).toEqual([['app/a', 'app/b', 'app/c.json'], true]);
    const evs = h.feed.drain() as KvChangeEvent[];
    expect(evs.map((e) => [e.key, e.cause])).toEqual([['app/a', 'delete'], ['app/b', 'delete'], ['app/c.json', 'delete']]);
    expect(new Set(evs.map((e) => e.revision)).size).toBe(1);
    expect(ok(h.apply({ op: 'delete-where', match: { type: 'prefix', prefix: 'app' } }))).toMatchObject({ deleted: ['apple'], more: false });
    expect(ok(h.apply({ op: 'count', match: { type: 'all' } }))).toMatchObject({ count: keys.length - 4 });
  });
});

describe('KV face: bulk operations', () => {
  it('all-or-nothing calls change nothing when one item fails, and say which', () => {
    const h = harness();
    ok(h.apply({ op: 'put', key: 'x', value: 1 }));
    const r = h.apply({ op: 'bulk-put', atomic: true, items: [{ key: 'a', value: 1 }, { key: 'x', value: 2, expected: 9 }, { key: 'b', value: 3 }] });
    expect(r).toMatchObject({ status: 'error', code: 'condition-failed', index: 1, current: { value: 1 } });
    expect(ok(h.apply({ op: 'count', match: { type: 'all' } }))).toMatchObject({ count: 1 });
    const bad = h.apply({ op: 'bulk-put', atomic: true, items: [{ key: 'a', value: 1 }, { key: '', value: 2 }] });
    expect(bad).toMatchObject({ code: 'invalid-argument', index: 1 });
    expect(h.kv.revision).toBe(1);
  });

  it('best-effort calls apply what passes and report each item; all changes share one revision', () => {
    const h = harness();
    ok(h.apply({ op: 'put', key: 'x', value: 1 }));
    const r = ok(h.apply({ op: 'bulk-put', atomic: false, items: [{ key: 'a', value: 1 }, { key: 'x', value: 2, ifAbsent: true }, { key: 'b', value: 3 }, { key: 'c', value: undefined }] }));
    expect(r.op === 'bulk-put' && r.results.map((x) => (x.status === 'ok' ? x.revision : x.code))).toEqual([2, 'condition-failed', 2, 'invalid-argument']);
    const g = ok(h.apply({ op: 'bulk-get', keys: ['a', 'x', 'nope', 'b'] }));
    expect(g.op === 'bulk-get' && g.items.map((i) => (i.found ? i.entry.value : null))).toEqual([1, 1, null, 3]);
    const d = ok(h.apply({ op: 'bulk-delete', atomic: false, items: [{ key: 'a' }, { key: 'nope' }, { key: 'x', expected: 1 }] }));
    expect(d.op === 'bulk-delete' && d.results.map((x) => x.status === 'ok' ? 'ok' : x.code)).toEqual(['ok', 'not-found', 'ok']);
    const t = ok(h.apply({ op: 'bulk-touch', atomic: false, items: [{ key: 'b', ttlMs: 5 }, { key: 'a', ttlMs: 5 }] }));
    expect(t.op === 'bulk-touch' && t.results.map((x) => x.status === 'ok' ? 'ok' : x.code)).toEqual(['ok', 'not-found']);
    expect(h.apply({ op: 'bulk-touch', atomic: true, items: [{ key: 'b', ttlMs: 5 }, { key: 'a', ttlMs: 5 }] })).toMatchObject({ code: 'not-found', index: 1 });
  });

  it('refuses more than BULK_ITEMS_MAX items and repeated keys', () => {
    const h = harness();
    const items = Array.from({ length: BULK_ITEMS_MAX + 1 }, (_, i) => ({ key: `k${i}`, value: i }));
    expect(h.apply({ op: 'bulk-put', atomic: false, items })).toMatchObject({ code: 'too-many' });
    expect(h.apply({ op: 'bulk-get', keys: items.map((i) => i.key) })).toMatchObject({ code: 'too-many' });
    expect(ok(h.apply({ op: 'bulk-put', atomic: true, items: items.slice(0, BULK_ITEMS_MAX) }))).toMatchObject({ revision: 1 });
    expect(h.apply({ op: 'bulk-put', atomic: true, items: [{ key: 'a', value: 1 }, { key: 'a', value: 2 }] })).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/twice/) });
  });
});

describe('KV face: validation', () => {
  it('answers invalid-argument with a clear message for malformed commands, still consuming the entry', () => {
    const h = harness();
    const cases: [unknown, RegExp][] = [
      [null, /must be an object/],
      [{ op: 'frobnicate' }, /unknown op/],
      [{ op: 'put', key: 'a', value: 1, ttl: 5 }, /unknown field "ttl"/],
      [{ op: 'put', key: 'a' }, /value is required/],
      [{ op: 'put', key: '', value: 1 }, /must not be empty/],
      [{ op: 'put', key: 'x'.repeat(KEY_BYTES_MAX + 1), value: 1 }, /UTF-8 bytes; the limit/],
      [{ op: 'put', key: '\ud800', value: 1 }, /lone surrogate/],
      [{ op: 'put', key: 'a', value: new Map() }, /cannot store/],
      [{ op: 'put', key: 'a', value: 'x'.repeat(1024 * 1024 + 1) }, /bytes encoded; the limit/],
      [{ op: 'put', key: 'a', value: 1, ttlMs: 0 }, /positive integer/],
      [{ op: 'put', key: 'a', value: 1, ttlMs: 1.5 }, /positive integer/],
      [{ op: 'put', key: 'a', value: 1, ifAbsent: true, expected: 1 }, /contradict/],
      [{ op: 'list', match: { type: 'glob' } }, /match.type/],
      [{ op: 'list', match: { type: 'all' }, limit: 1e9 }, /limit/],
      [{ op: 'list', match: { type: 'range', start: 'b', end: 'a' } }, /after/],
      [{ op: 'list', match: { type: 'regex', pattern: '(a)\\1' } }, /backreference/],
      [{ op: 'list', match: { type: 'regex', pattern: '(' } }, /unbalanced|invalid/],
      [{ op: 'list', match: { type: 'regex', pattern: 'a', flags: 'g' } }, /flags/],
      [{ op: 'count', match: { type: 'all' }, filter: { type: 'regex' } }, /filter.type/],
      [{ op: 'bulk-put', items: [] }, /atomic/],
    ];
    for (const [cmd, re] of cases) {
      const r = h.apply(cmd);
      expect(r.status, JSON.stringify(cmd)?.slice(0, 80)).toBe('error');
      if (r.status === 'error') {
        expect(r.code).toBe('invalid-argument');
        expect(r.message).toMatch(re);
      }
    }
    expect(h.kv.appliedIndex).toBe(cases.length);
    expect(h.kv.revision).toBe(0);
  });

  it('matches exactly as JavaScript RegExp (u flag) does, on random patterns and keys', () => {
    const atom: fc.Arbitrary<string> = fc.letrec<{ alt: string; atom: string }>((tie) => ({
      atom: fc.oneof(
        { maxDepth: 2, depthIdentifier: 'regex' },
        fc.constantFrom('a', 'b', 'A', 'B', '-', '_', '/', '1', 'é', '\\.', '.', '\\d', '\\w', '\\s', '\\W', '[ab]', '[^a]', '[a-c]', '[\\d_]', '\\u0061', '\\x62'),
        tie('alt').map((x) => `(${x})`),
        tie('alt').map((x) => `(?:${x})`),
      ),
      alt: fc
        .array(
          fc.array(fc.tuple(tie('atom'), fc.constantFrom('', '', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?')).map(([a, q]) => a + q), { maxLength: 3 }).map((xs) => xs.join('')),
          { minLength: 1, maxLength: 2 },
        )
        .map((xs) => xs.join('|')),
    })).alt;
    const pattern = fc.tuple(fc.constantFrom('', '^', '\\b'), atom, fc.constantFrom('', '$', '\\B')).map(([a, b, c]) => a + b + c);
    const subject = fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'B', '-', '_', '/', '1', ' ', 'é', '\n', '.', 'c'), maxLength: 12 });
    fc.assert(
      fc.property(pattern, fc.constantFrom('', 'i', 'm', 's', 'is'), fc.array(subject, { minLength: 1, maxLength: 8 }), (p, flags, subjects) => {
        let mine: ReturnType<typeof compileKeyRegex>;
        try {
          mine = compileKeyRegex(p, flags);
        } catch (e) {
          // Nested counted repeats can exceed the program limit; that refusal is tested below.
          fc.pre(!/too large|longer than/.test((e as Error).message));
          throw e;
        }
        const js = new RegExp(p, flags + 'u');
        for (const x of subjects) expect(mine.test(x), `/${p}/${flags} on ${JSON.stringify(x)}`).toBe(js.test(x));
      }),
      { numRuns: 1500 },
    );
  });

  it('runs patterns that make backtracking engines explode in linear time, and refuses what it does not support', () => {
    // Each of these takes seconds to minutes with RegExp on these keys; here each is one pass.
    const cases: [string, string, boolean][] = [
      ['.*a.*b.*c', 'ab'.repeat(512), false],
      ['a.*a.*a.*b', 'a'.repeat(1024), false],
      ['(a+)+$', 'a'.repeat(1000) + '!', false],
      ['(a|a)*b', 'a'.repeat(1000), false],
      ['^(\\w+\\s?)*$', 'word '.repeat(200) + '!', false],
      ['^(a+)+$', 'a'.repeat(1000), true],
    ];
    for (const [p, key, want] of cases) expect(compileKeyRegex(p).test(key), p).toBe(want);
    const refused: [string, RegExp][] = [
      ['(a)\\1', /backreference/],
      ['(?=a)', /lookahead/],
      ['(?<!a)b', /lookahead and lookbehind/],
      ['a{1000}', /repeat counts/],
      ['(a{100}){100}', /too large/],
      ['x'.repeat(300), /longer than/],
      ['(', /unbalanced/],
      ['a)', /unbalanced/],
      ['*a', /nothing to repeat/],
      ['a**', /nothing to repeat/],
      ['[a', /unterminated/],
      ['[z-a]', /out of order/],
      ['\\q', /unknown escape/],
      ['\\', /lone backslash/],
    ];
    for (const [p, re] of refused) expect(() => compileKeyRegex(p), p).toThrow(re);
    expect(() => compileKeyRegex('a', 'g')).toThrow(/flags/);
    expect(() => compileKeyRegex('a', 'ii')).toThrow(/flags/);
  });

  it('never throws on garbage commands: every entry answers, ok or a KvError', () => {
    const h = harness();
    ok(h.apply({ op: 'put', key: 'a', value: 1 }));
    const ops = ['put', 'get', 'delete', 'touch', 'increment', 'list', 'count', 'delete-where', 'bulk-put', 'bulk-get', 'bulk-delete', 'bulk-touch'];
    const junk = fc.oneof(fc.anything(), fc.constantFrom('a', '', 'é', 1, -1, 0, 1.5, 2n ** 80n, true, null, [], {}, { type: 'all' }, { type: 'regex', pattern: '(' }, [{ key: 'a' }], [{ key: 'a', value: 1 }], ['a']));
    const command = fc.oneof(
      fc.anything(),
      fc.record({ op: fc.constantFrom(...ops), key: junk, value: junk, items: junk, keys: junk, match: junk, atomic: junk, ttlMs: junk, expected: junk, delta: junk }, { requiredKeys: ['op'] }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 20 }), (cmds) => {
        for (const c of cmds) {
          const r = h.apply(c);
          expect(['ok', 'error']).toContain(r.status);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses out-of-order entries', () => {
    const h = harness();
    h.apply({ op: 'put', key: 'a', value: 1 });
    expect(() => h.kv.apply({ op: 'get', key: 'a' }, { index: logIndex(1), timestamp: timestampFromMs(h.now + 1) })).toThrow(/index 1 after 1/);
    expect(() => h.kv.apply({ op: 'get', key: 'a' }, { index: logIndex(5), timestamp: timestampFromMs(1) })).toThrow(/before the last applied/);
  });
});

describe('KV face: determinism and the log codec', () => {
  it('two machines fed the same encoded log end with identical stores, answers and events', () => {
    const cmds: KvCommand[] = [
      { op: 'put', key: 'a', value: { n: 1, s: 'x' }, ttlMs: 30 },
      { op: 'increment', key: 'c', delta: 5n },
      { op: 'bulk-put', atomic: false, items: [{ key: 'b', value: [1, 2] }, { key: 'a', value: 0, ifAbsent: true }] },
      { op: 'list', match: { type: 'prefix', prefix: '' } },
      { op: 'delete-where', match: { type: 'regex', pattern: '^[ab]$' } },
      { op: 'touch', key: 'c', ttlMs: 100 },
      { op: 'get', key: 'c' },
    ];
    const run = () => {
      const store = new MemStore();
      const feed = new ChangeFeed();
      const kv = new KvStateMachine(store, feed);
      const answers = cmds.map((c, i) => kv.apply(decodeKvCommand(encodeKvCommand(c)), { index: logIndex(i + 1), timestamp: timestampFromMs(1000 + 20 * i) }));
      return { dump: [...store.range()].map((e) => Buffer.from(e.key).toString('hex') + '=' + Buffer.from(e.value).toString('hex')), answers, events: feed.drain() };
    };
    const a = run();
    const b = run();
    expect(b).toEqual(a);
    expect(a.answers.filter((r) => r.status !== 'ok')).toEqual([]);
    // A machine built over an existing store resumes its counters.
    const store = new MemStore();
    const kv1 = new KvStateMachine(store);
    kv1.apply({ op: 'put', key: 'a', value: 1 }, { index: logIndex(7), timestamp: timestampFromMs(5) });
    const kv2 = new KvStateMachine(store);
    expect([kv2.revision, kv2.appliedIndex]).toEqual([1, 7]);
  });
});
