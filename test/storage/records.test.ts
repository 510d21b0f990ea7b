// Example-based tests of the record store: each operation, the value order, the encodings and
// the errors. The model-based run (records-model.test.ts) covers random interleavings.
import { describe, expect, it } from 'vitest';
import { MemStore } from '../../core/storage/memstore.js';
import { logIndex } from '../../core/types.js';
import { timestamp, type ApplyContext } from '../../core/storage/types.js';
import {
  RecordStore,
  RecordError,
  bool,
  integer,
  long,
  double,
  str,
  link,
  timestampMicros,
  where,
  compareValues,
  encodeValue,
  decodeValue,
  type Value,
  type RecordRevisionEvent,
  parseCriteria,
  type Criteria,
  type RecordWrite,
} from '../../core/storage/records/index.js';
import { literalPrefix } from '../../core/storage/records/criteria.js';
import { compareBytes } from '../../core/storage/port.js';

let tick = 0;
function ctx(ts?: number): ApplyContext {
  tick = ts ?? tick + 10;
  return { index: logIndex(tick), timestamp: timestamp(tick) };
}
function fresh(): { store: RecordStore; kv: MemStore; events: RecordRevisionEvent[] } {
  tick = 0;
  const kv = new MemStore();
  const events: RecordRevisionEvent[] = [];
  return { store: new RecordStore(kv, { onRevision: (e) => events.push(e) }), kv, events };
}
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof RecordError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('values and their order', () => {
  const samples: Value[] = [
    bool(false),
    bool(true),
    integer(-5),
    long(-(1n << 62n)),
    double(-1.5),
    integer(0),
    long(0n),
    double(0),
    double(0.5),
    integer(1),
    long(1),
    double(1),
    long((1n << 53n) + 1n),
    double(2 ** 53),
    long((1n << 63n) - 1n),
    double(1e300),
    timestampMicros(-3n),
    timestampMicros(0n),
    timestampMicros(1700000000000000n),
    str(''),
    str('\u0000'),
    str('A'),
    str('a'),
    str('ab'),
    str('\uffff'),
    str('\u{1F600}'),
    link(0),
    link(7),
    link((1n << 63n) - 1n),
  ];
  it('byte order of encodings equals compareValues, and encodings round-trip', () => {
    for (const a of samples) {
      expect(decodeValue(encodeValue(a))).toEqual(a);
      for (const b of samples) {
        expect(Math.sign(compareBytes(encodeValue(a), encodeValue(b)))).toBe(Math.sign(compareValues(a, b)));
      }
    }
  });
  it('longs beyond 2^53 keep their exact value and order', () => {
    const big = (1n << 53n) + 1n;
    expect(decodeValue(encodeValue(long(big)))).toEqual(long(big));
    expect(compareValues(long(big), double(2 ** 53))).toBeGreaterThan(0);
    expect(compareValues(long(big - 1n), double(2 ** 53))).toBeLessThan(0); // equal number: long < double by type tag
    expect(compareValues(long(big - 2n), double(2 ** 53))).toBeLessThan(0);
  });
  it('rejects bad values with clear errors', () => {
    expect(code(() => integer(2 ** 31))).toBe('bad-value');
    expect(code(() => integer(1.5))).toBe('bad-value');
    expect(code(() => double(NaN))).toBe('bad-value');
    expect(code(() => double(Infinity))).toBe('bad-value');
    expect(code(() => long(1n << 63n))).toBe('bad-value');
    expect(code(() => str('\ud800'))).toBe('bad-value');
    expect(code(() => link(-1))).toBe('bad-record');
  });
});

describe('writes and reads', () => {
  it('add, remove, set, clear, get, select, describe, verify', () => {
    const { store } = fresh();
    expect(store.add('name', str('jeff'), 1n, ctx())).toBe(true);
    expect(store.add('name', str('jeff'), 1n, ctx())).toBe(false);
    expect(store.add('name', str('jeffrey'), 1n, ctx())).toBe(true);
    expect(store.add('age', integer(30), 1n, ctx())).toBe(true);
    expect(store.select('name', 1n)).toEqual([str('jeff'), str('jeffrey')]);
    expect(store.get('name', 1n)).toEqual(str('jeffrey'));
    expect(store.describe(1n)).toEqual(['age', 'name']);
    expect(store.verify('age', integer(30), 1n)).toBe(true);
    expect(store.verify('age', long(30), 1n)).toBe(false); // a long 30 is another value than an integer 30
    expect(store.remove('name', str('nobody'), 1n, ctx())).toBe(false);
    expect(store.remove('name', str('jeff'), 1n, ctx())).toBe(true);
    store.set('name', str('J'), 1n, ctx());
    expect(store.select('name', 1n)).toEqual([str('J')]);
    store.clear(1n, ctx(), 'name');
    expect(store.describe(1n)).toEqual(['age']);
    store.clear(1n, ctx());
    expect(store.describe(1n)).toEqual([]);
    expect(store.inventory()).toEqual([]);
    expect(store.audit(1n).length).toBe(8);
  });

  it('reads at past timestamps, audit, chronologize, diff, revert', () => {
    const { store } = fresh();
    store.add('x', integer(1), 5n, ctx(100));
    store.add('x', integer(2), 5n, ctx(200));
    store.remove('x', integer(1), 5n, ctx(300));
    store.set('x', integer(3), 5n, ctx(400));
    expect(store.select('x', 5n, timestamp(99))).toEqual([]);
    expect(store.select('x', 5n, timestamp(100))).toEqual([integer(1)]);
    expect(store.select('x', 5n, timestamp(250))).toEqual([integer(1), integer(2)]);
    expect(store.select('x', 5n, timestamp(350))).toEqual([integer(2)]);
    expect(store.select('x', 5n)).toEqual([integer(3)]);
    expect(store.audit(5n, 'x').map((r) => `${r.action} ${r.value.value as number} @${r.timestamp}`)).toEqual([
      'ADD 1 @100',
      'ADD 2 @200',
      'REMOVE 1 @300',
      'REMOVE 2 @400',
      'ADD 3 @400',
    ]);
    expect(store.chronologize('x', 5n).map((c) => [c.timestamp, c.values.map((v) => v.value)])).toEqual([
      [100, [1]],
      [200, [1, 2]],
      [300, [2]],
      [400, [3]],
    ]);
    expect(store.chronologize('x', 5n, timestamp(150), timestamp(300)).map((c) => c.timestamp)).toEqual([200, 300]);
    expect(store.diff(5n, timestamp(250))).toEqual([{ key: 'x', added: [integer(3)], removed: [integer(1), integer(2)] }]);
    expect(store.revert(5n, timestamp(250), ctx(500))).toBe(3);
    expect(store.select('x', 5n)).toEqual([integer(1), integer(2)]);
    expect(store.select('x', 5n, timestamp(450))).toEqual([integer(3)]);
    expect(store.find(where.eq('x', integer(3)), timestamp(450))).toEqual([5n]);
    expect(store.find(where.eq('x', integer(3)))).toEqual([]);
  });

  it.each([
    ['checkpoints + log replay', {}],
    ['history scan only', { replayMax: 0 }],
    ['frequent checkpoints, short replays', { checkpointEvery: 5, replayMax: 3 }],
  ])('past reads over long histories match a replay (%s)', (_name, tuning) => {
    tick = 0;
    const store = new RecordStore(new MemStore(), tuning);
    const want: Value[][] = [];
    const stamps: number[] = [];
    for (let i = 0; i < 120; i++) {
      const t = 100 + i * 10;
      if (i % 3 === 2) store.set('k', integer(i % 5), 9n, ctx(t));
      else if (i % 2 === 0) store.add('k', str('on'), 9n, ctx(t));
      else store.remove('k', str('on'), 9n, ctx(t));
      store.add('other', integer(i), 9n, ctx(t)); // rows of another key around the long groups
      stamps.push(t);
      want.push(store.select('k', 9n));
    }
    stamps.forEach((t, i) => {
      expect(store.select('k', 9n, timestamp(t))).toEqual(want[i]);
      expect(store.select('k', 9n, timestamp(t + 5))).toEqual(want[i]);
      expect(store.find(where.eq('k', str('on')), timestamp(t))).toEqual(want[i]!.some((v) => v.type === 'string') ? [9n] : []);
    });
  });

  it('refuses timestamps that go back, and keeps the store unchanged on a bad batch', () => {
    const { store, kv } = fresh();
    store.add('a', integer(1), 1n, ctx(100));
    expect(code(() => store.add('a', integer(2), 1n, ctx(50)))).toBe('bad-time');
    const size = kv.size();
    expect(
      code(() =>
        store.apply(
          [
            { op: 'add', key: 'a', value: integer(3), record: 1n },
            { op: 'add', key: 'bad key', value: integer(3), record: 1n },
          ],
          ctx(200),
        ),
      ),
    ).toBe('bad-key');
    expect(kv.size()).toBe(size);
    expect(store.select('a', 1n)).toEqual([integer(1)]);
    expect(code(() => store.apply([{ op: 'frobnicate' } as unknown as RecordWrite], ctx(300)))).toBe('bad-value');
    expect(code(() => store.add('a', { type: 'integer', value: 2 ** 40 } as Value, 1n, ctx(300)))).toBe('bad-value');
    expect(code(() => store.add('a', { type: 'decimal', value: 1 } as unknown as Value, 1n, ctx(300)))).toBe('bad-value');
    expect(code(() => store.add('a', integer(1), -1n, ctx(300)))).toBe('bad-record');
    expect(code(() => store.calculate('median' as 'sum', 'a'))).toBe('bad-criteria');
    expect(code(() => store.select('a', 1n, timestamp(-1)))).toBe('bad-time');
    expect(kv.size()).toBe(size);
  });

  it('a list of staged writes applies as one batch: later ops see earlier ones; one timestamp', () => {
    const { store, events } = fresh();
    const results = store.apply(
      [
        { op: 'add', key: 'n', value: integer(1), record: 1n },
        { op: 'add', key: 'n', value: integer(1), record: 1n },
        { op: 'verifyAndSwap', key: 'n', expected: integer(1), record: 1n, replacement: integer(2) },
        { op: 'findOrAdd', key: 'n', value: integer(2) },
      ],
      ctx(1000),
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
    expect(results[3]!.record).toBe(1n);
    expect(events.map((e) => [e.action, e.version, e.timestamp, e.logIndex])).toEqual([
      ['ADD', 1, 1000, 1000],
      ['REMOVE', 2, 1000, 1000],
      ['ADD', 3, 1000, 1000],
    ]);
    expect(store.version()).toBe(3);
    const p = store.prepare([{ op: 'add', key: 'n', value: integer(9), record: 1n }], ctx(1100));
    expect(p.reader.select('n', 1n)).toEqual([integer(2), integer(9)]);
    expect(store.select('n', 1n)).toEqual([integer(2)]); // not committed yet
    p.commit();
    expect(store.select('n', 1n)).toEqual([integer(2), integer(9)]);
    expect(() => p.commit()).toThrow(/twice/);
    const stale = store.prepare([{ op: 'add', key: 'n', value: integer(10), record: 1n }], ctx(1200));
    store.add('n', integer(11), 1n, ctx(1300));
    expect(() => stale.commit()).toThrow(/changed between prepare and commit/);
    expect(store.select('n', 1n)).toEqual([integer(2), integer(9), integer(11)]);
  });

  it('verifyOrSet, findOrAdd duplicates, link rules', () => {
    const { store } = fresh();
    store.verifyOrSet('k', integer(1), 1n, ctx());
    store.add('k', integer(2), 1n, ctx());
    store.verifyOrSet('k', integer(2), 1n, ctx());
    expect(store.select('k', 1n)).toEqual([integer(1), integer(2)]);
    store.verifyOrSet('k', integer(3), 1n, ctx());
    expect(store.select('k', 1n)).toEqual([integer(3)]);
    store.add('k', integer(3), 2n, ctx());
    expect(code(() => store.findOrAdd('k', integer(3), ctx()))).toBe('duplicate');
    const r = store.findOrAdd('k', integer(4), ctx());
    expect(store.select('k', r)).toEqual([integer(4)]);
    expect(code(() => store.link('friend', 1n, 1n, ctx()))).toBe('bad-record');
    expect(store.link('friend', 1n, 2n, ctx())).toBe(true);
    expect(store.unlink('friend', 1n, 2n, ctx())).toBe(true);
    expect(store.unlink('friend', 1n, 2n, ctx())).toBe(false);
  });
});

describe('long strings', () => {
  it('keep every port key within LMDB\'s 511 bytes and read back whole', () => {
    const { store, kv } = fresh();
    const key = 'k'.repeat(255);
    const big = 'x'.repeat(5000) + '\u{1F600}' + '\u0000'.repeat(300);
    const big2 = 'x'.repeat(5000) + 'y';
    store.add(key, str(big), (1n << 63n) - 1n, ctx());
    store.add(key, str(big2), 2n, ctx());
    store.add(key, str('x'.repeat(199) + '\u0000' + 'tail'), 3n, ctx());
    let longest = 0;
    for (const e of kv.range()) longest = Math.max(longest, e.key.length);
    expect(longest).toBeLessThanOrEqual(511);
    expect(store.select(key, (1n << 63n) - 1n)).toEqual([str(big)]);
    expect(store.find(where.eq(key, str(big2)))).toEqual([2n]);
    expect(store.find(where.gt(key, str('x'.repeat(5000))))).toEqual([2n, (1n << 63n) - 1n]);
    expect(store.find(where.gt(key, str(big2)))).toEqual([(1n << 63n) - 1n]);
    expect(store.find(where.lt(key, str(big2)))).toEqual([3n]); // U+1F600 sorts after 'y'
    expect(store.find(where.regex(key, 'x{5000}y'))).toEqual([2n]);
    expect(store.search(key, 'XY')).toEqual([2n]);
    expect(store.browse(key).map((b) => b.records)).toEqual([[3n], [2n], [(1n << 63n) - 1n]]);
    expect(store.audit(2n)[0]!.value).toEqual(str(big2));
    store.remove(key, str(big2), 2n, ctx());
    expect(store.select(key, 2n, timestamp(tick - 5))).toEqual([str(big2)]);
  });
});

describe('regex literal prefixes', () => {
  it('takes the literal text before the first metacharacter, dropping an optional last character', () => {
    expect(literalPrefix('Bob .*')).toBe('Bob ');
    expect(literalPrefix('ab+c')).toBe('ab');
    expect(literalPrefix('abc?')).toBe('ab');
    expect(literalPrefix('ab*')).toBe('a');
    expect(literalPrefix('a{2}')).toBe('');
    expect(literalPrefix('abc')).toBe('abc');
    expect(literalPrefix('a|b')).toBe('');
    expect(literalPrefix('.*x')).toBe('');
    expect(literalPrefix('\\.x')).toBe('');
  });
});

describe('criteria text (CCL-style)', () => {
  it('parses operators, values, precedence and parentheses', () => {
    expect(parseCriteria('age > 30')).toEqual(where.gt('age', integer(30)));
    expect(parseCriteria("name = 'Ada \\'L\\''")).toEqual(where.eq('name', str("Ada 'L'")));
    expect(parseCriteria('a eq 5000000000')).toEqual(where.eq('a', long(5000000000n)));
    expect(parseCriteria('a=-5')).toEqual(where.eq('a', integer(-5)));
    expect(parseCriteria('a = 5L')).toEqual(where.eq('a', long(5)));
    expect(parseCriteria('a = 1.5')).toEqual(where.eq('a', double(1.5)));
    expect(parseCriteria('a = 2D')).toEqual(where.eq('a', double(2)));
    expect(parseCriteria('a = TRUE')).toEqual(where.eq('a', bool(true)));
    expect(parseCriteria('a = @7')).toEqual(where.eq('a', link(7)));
    expect(parseCriteria('a = ts:-9')).toEqual(where.eq('a', timestampMicros(-9n)));
    expect(parseCriteria('a = bare')).toEqual(where.eq('a', str('bare')));
    expect(parseCriteria('a between 1 and 5')).toEqual(where.between('a', integer(1), integer(5)));
    expect(parseCriteria('a bw 1, 5')).toEqual(where.between('a', integer(1), integer(5)));
    expect(parseCriteria('n regex "A.*"')).toEqual(where.regex('n', 'A.*'));
    expect(parseCriteria('n not regex "A.*"')).toEqual(where.notRegex('n', 'A.*'));
    expect(parseCriteria('n nregex x')).toEqual(where.notRegex('n', 'x'));
    expect(parseCriteria("n contains 'mit'")).toEqual(where.contains('n', 'mit'));
    expect(parseCriteria('f links to @3')).toEqual(where.linksTo('f', 3n));
    expect(parseCriteria('f -> 3')).toEqual(where.linksTo('f', 3n));
    expect(parseCriteria('a = 1 or b = 2 and c = 3')).toEqual(where.or(where.eq('a', integer(1)), where.and(where.eq('b', integer(2)), where.eq('c', integer(3)))));
    expect(parseCriteria('(a = 1 || b = 2) && c != 3')).toEqual(where.and(where.or(where.eq('a', integer(1)), where.eq('b', integer(2))), where.ne('c', integer(3))));
    expect(parseCriteria('a between 1 and 5 and b = 2')).toEqual(where.and(where.between('a', integer(1), integer(5)), where.eq('b', integer(2))));
  });
  it('says what is wrong', () => {
    expect(code(() => parseCriteria('a ~ 1'))).toBe('bad-operator');
    expect(code(() => parseCriteria('a = '))).toBe('bad-criteria');
    expect(code(() => parseCriteria('(a = 1'))).toBe('bad-criteria');
    expect(code(() => parseCriteria('a = 1 b'))).toBe('bad-criteria');
    expect(code(() => parseCriteria("a = 'x"))).toBe('bad-criteria');
    expect(code(() => parseCriteria('1a = 1'))).toBe('bad-key');
    expect(code(() => parseCriteria('   '))).toBe('bad-criteria');
  });
  it('finds with parsed criteria', () => {
    const { store } = fresh();
    store.insert({ name: 'Ada', age: 36 }, ctx());
    store.insert({ name: 'Bob', age: 20 }, ctx());
    expect(store.find(parseCriteria("age >= 30 or name = 'Bob'"))).toEqual([1n, 2n]);
    expect(store.find(parseCriteria('age between 10 and 30'))).toEqual([2n]);
  });
});

describe('insert', () => {
  it('types values by Concourse rules and turns nested objects into linked records', () => {
    const { store } = fresh();
    const id = store.insert(
      {
        name: 'Ada',
        age: 36,
        big: 2 ** 40,
        ratio: 0.5,
        tags: ['x', 'y', 'x'],
        admin: false,
        boss: { $link: 77 },
        born: { $timestamp: '-4000000000000000' },
        employer: { name: 'Analytical', city: { name: 'London' } },
      },
      ctx(),
    );
    expect(store.select('age', id)).toEqual([integer(36)]);
    expect(store.select('big', id)).toEqual([long(2 ** 40)]);
    expect(store.select('ratio', id)).toEqual([double(0.5)]);
    expect(store.select('tags', id)).toEqual([str('x'), str('y')]);
    expect(store.select('boss', id)).toEqual([link(77)]);
    expect(store.select('born', id)).toEqual([timestampMicros(-4000000000000000n)]);
    expect(store.navigate('employer.city.name', id)).toEqual([{ record: expect.any(BigInt), values: [str('London')] }]);
    expect(store.navigate('employer.name', id)[0]!.values).toEqual([str('Analytical')]);
    expect(store.insertInto({ name: 'Ada' }, id, ctx())).toBe(false);
    expect(store.insertInto({ name: 'Augusta' }, id, ctx())).toBe(true);
    expect(code(() => store.insert({ a: null }, ctx()))).toBe('bad-document');
    expect(code(() => store.insert({ a: [[1]] }, ctx()))).toBe('bad-document');
    expect(code(() => store.insert({ 'bad key': 1 }, ctx()))).toBe('bad-document');
    expect(code(() => store.insert([1], ctx()))).toBe('bad-document');
  });

  it('allocates ids deterministically, skipping used ids and rejected ones', () => {
    const kv = new MemStore();
    const store = new RecordStore(kv, { acceptRecordId: (id) => id % 3n === 0n });
    store.add('a', integer(1), 3n, ctx(10));
    expect(store.insert({ a: 1 }, ctx(20))).toBe(6n);
    expect(store.insert({ a: 1 }, ctx(30))).toBe(9n);
    const again = new RecordStore(kv, { acceptRecordId: (id) => id % 3n === 0n });
    expect(again.findOrInsert(where.eq('a', integer(2)), { a: 2 }, ctx(40))).toBe(12n);
    expect(again.findOrInsert(where.eq('a', integer(2)), { a: 2 }, ctx(50))).toBe(12n);
    expect(code(() => again.findOrInsert(where.eq('a', integer(1)), { a: 1 }, ctx(60)))).toBe('duplicate');
  });
});

describe('find, search, browse, navigate, calculate', () => {
  function people(): RecordStore {
    const { store } = fresh();
    store.apply(
      [
        { op: 'insert', document: { name: 'Alice Smith', age: 30, score: 1.5, kind: 'p' }, record: 1n },
        { op: 'insert', document: { name: 'Bob Jones', age: { $long: 40 }, score: 2, kind: 'p' }, record: 2n },
        { op: 'insert', document: { name: 'carol smithers', age: 25.5, kind: 'p' }, record: 3n },
        { op: 'insert', document: { name: 'Dave', age: 'unknown', kind: 'p' }, record: 4n },
        { op: 'link', key: 'friend', source: 1n, destination: 2n },
        { op: 'link', key: 'friend', source: 2n, destination: 3n },
        { op: 'link', key: 'friend', source: 3n, destination: 1n },
      ],
      ctx(100),
    );
    return store;
  }
  it('every operator', () => {
    const s = people();
    // Each condition alone (index ranges) and behind a clause every record passes (so it is
    // checked record by record), with the same answer.
    const pinned = new RecordStore(s.port, { andOrder: 'given' });
    const both = (q: Criteria, want: bigint[]): void => {
      expect(s.find(q)).toEqual(want);
      expect(s.find(where.and(where.eq('kind', str('p')), q))).toEqual(want);
      expect(pinned.find(where.and(where.eq('kind', str('p')), q))).toEqual(want);
    };
    both(where.eq('age', integer(40)), [2n]); // long 40 matches integer 40
    both(where.eq('age', double(30)), [1n]);
    both(where.ne('age', integer(30)), [2n, 3n, 4n]);
    both(where.gt('age', integer(25)), [1n, 2n, 3n]);
    both(where.gt('age', double(25.5)), [1n, 2n]);
    both(where.gte('age', double(25.5)), [1n, 2n, 3n]);
    both(where.lt('age', integer(30)), [3n]);
    both(where.lte('age', integer(30)), [1n, 3n]);
    both(where.between('age', integer(25), integer(40)), [1n, 3n]);
    both(where.between('age', integer(40), integer(25)), []);
    both(where.gt('age', str('a')), [4n]);
    both(where.regex('name', '.*[Ss]mith.*'), [1n, 3n]);
    both(where.regex('name', 'Smith'), []); // whole-value match
    both(where.regex('name', 'Bob .*'), [2n]); // read from the "Bob " slice only
    both(where.regex('name', 'Dav?e'), [4n]);
    both(where.regex('name', 'Dave|Bob.*'), [2n, 4n]);
    both(where.notRegex('name', '.*[Ss]mith.*'), [2n, 4n]);
    both(where.contains('name', 'mith'), [1n, 3n]);
    both(where.contains('name', 'Smith'), [1n]); // contains is case-sensitive
    both(where.contains('name', 'o'), [2n, 3n]);
    both(where.linksTo('friend', 3n), [2n]);
    expect(s.find(where.and(where.gt('age', integer(20)), where.lt('score', integer(2))))).toEqual([1n]);
    expect(s.find(where.or(where.eq('name', str('Dave')), where.linksTo('friend', 1n)))).toEqual([3n, 4n]);
    expect(code(() => s.find({ kind: 'condition', key: 'age', operator: '~', value: integer(1) }))).toBe('bad-operator');
    expect(code(() => s.find(where.regex('name', '(')))).toBe('bad-criteria');
    expect(code(() => s.find(where.between('age', integer(1), str('z'))))).toBe('bad-criteria');
    expect(code(() => s.find(where.eq('no such', integer(1))))).toBe('bad-key');
  });
  it('search: case-insensitive infix, via trigrams with verification', () => {
    const s = people();
    expect(s.search('name', 'SMITH')).toEqual([1n, 3n]);
    expect(s.search('name', 'ice sm')).toEqual([1n]);
    expect(s.search('name', 'ob')).toEqual([2n]);
    expect(s.search('name', 'zzz')).toEqual([]);
    expect(s.gramCount('name', 'smi', 1n)).toBe(1);
    s.set('name', str('Alice'), 1n, ctx(200));
    expect(s.search('name', 'smith')).toEqual([3n]);
    expect(s.gramCount('name', 'smi', 1n)).toBe(0);
    expect(code(() => s.search('name', ' '))).toBe('bad-query');
  });
  it('browse, navigate, calculate', () => {
    const s = people();
    expect(s.browse('score')).toEqual([
      { value: double(1.5), records: [1n] },
      { value: integer(2), records: [2n] },
    ]);
    expect(s.navigate('friend.friend.name', 1n)).toEqual([{ record: 3n, values: [str('carol smithers')] }]);
    expect(s.navigate('friend.name', [1n, 2n])).toEqual([
      { record: 2n, values: [str('Bob Jones')] },
      { record: 3n, values: [str('carol smithers')] },
    ]);
    expect(code(() => s.navigate('friend..name', 1n))).toBe('bad-path');
    expect(s.count('age')).toBe(4);
    expect(s.sum('score')).toEqual(double(3.5));
    expect(s.sum('age', { records: [1n, 2n] })).toEqual(long(70n));
    expect(s.average('age', { criteria: where.gt('age', integer(0)) })).toBeCloseTo((30 + 40 + 25.5) / 3);
    expect(s.min('age', { records: [1n, 2n, 3n] })).toEqual(double(25.5));
    expect(s.max('score')).toEqual(integer(2));
    expect(code(() => s.sum('age'))).toBe('not-numeric');
    expect(s.calculate('count', 'name', { criteria: where.contains('name', 'o') })).toBe(2);
  });
});
