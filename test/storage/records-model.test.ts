// Model-based test of the record store: random command sequences run against the store (over
// MemStore) and against a reference model that is nothing but a plain array of revisions, every
// read recomputed from that array by replay. Snapshot/restore happens mid-run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemStore } from '../../core/storage/memstore.js';
import { ChangeFeed } from '../../core/storage/changes.js';
import { restoreSnapshot, takeSnapshot } from '../../core/storage/snapshot.js';
import { logIndex } from '../../core/types.js';
import { timestamp, type Timestamp } from '../../core/storage/types.js';
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
  type Criteria,
  type RecordId,
  type RecordWrite,
  type Value,
  type RecordRevisionEvent,
  type CalculateFunction,
  AND_VERIFY_MAX,
} from '../../core/storage/records/index.js';

// ---- the reference model ----------------------------------------------------------------------

interface Rev {
  readonly record: RecordId;
  readonly key: string;
  readonly action: 'ADD' | 'REMOVE';
  readonly value: Value;
  readonly version: number;
  readonly timestamp: number;
}

interface Model {
  revs: Rev[];
  ts: number;
  lastId: bigint;
}

interface Real {
  tuning: { andVerifyMax: number; andOrder: 'given' | 'estimate'; checkpointEvery: number; replayMax: number };
  kv: MemStore;
  store: RecordStore;
  feed: ChangeFeed<Value>;
}

const same = (a: Value, b: Value): boolean => a.type === b.type && a.value === b.value;
const RANK: Record<Value['type'], number> = { boolean: 0, integer: 1, long: 1, double: 1, timestamp: 2, string: 3, link: 4 };
const TYPE_RANK: Record<Value['type'], number> = { boolean: 0, integer: 0, long: 1, double: 2, timestamp: 0, string: 0, link: 0 };
function codePoints(s: string): number[] {
  return Array.from(s, (c) => c.codePointAt(0)!);
}
/** The documented cross-type order, written independently of the store's code. */
function within(a: Value, b: Value): number {
  if (a.type === 'string') {
    const x = codePoints(a.value);
    const y = codePoints(b.value as string);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }
  // The generated numbers are small: Number() is exact for all of them.
  const x = Number(a.value);
  const y = Number(b.value);
  return x < y ? -1 : x > y ? 1 : 0;
}
function order(a: Value, b: Value): number {
  if (RANK[a.type] !== RANK[b.type]) return RANK[a.type] - RANK[b.type];
  return within(a, b) || TYPE_RANK[a.type] - TYPE_RANK[b.type];
}
const sameClass = (a: Value, b: Value): boolean => RANK[a.type] === RANK[b.type];

/** record → key → values in insertion order, replaying revisions with timestamp <= at. */
function stateAt(revs: readonly Rev[], at?: number): Map<RecordId, Map<string, Value[]>> {
  const st = new Map<RecordId, Map<string, Value[]>>();
  for (const r of revs) {
    if (at !== undefined && r.timestamp > at) break;
    let keys = st.get(r.record);
    if (keys === undefined) st.set(r.record, (keys = new Map()));
    const vs = keys.get(r.key) ?? [];
    if (r.action === 'ADD') vs.push(r.value);
    else vs.splice(vs.findIndex((v) => same(v, r.value)), 1);
    if (vs.length === 0) keys.delete(r.key);
    else keys.set(r.key, vs);
    if (keys.size === 0) st.delete(r.record);
  }
  return st;
}
const valuesOf = (revs: readonly Rev[], record: RecordId, key: string, at?: number): Value[] =>
  stateAt(revs, at).get(record)?.get(key) ?? [];
const sortBig = (xs: Iterable<bigint>): bigint[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function matches(c: Criteria, v: Value): boolean {
  if (c.kind !== 'condition') throw new Error('not a condition');
  switch (c.operator) {
    case '=':
      return sameClass(v, c.value) && within(v, c.value) === 0;
    case '!=':
      return !(sameClass(v, c.value) && within(v, c.value) === 0);
    case '>':
      return sameClass(v, c.value) && within(v, c.value) > 0;
    case '>=':
      return sameClass(v, c.value) && within(v, c.value) >= 0;
    case '<':
      return sameClass(v, c.value) && within(v, c.value) < 0;
    case '<=':
      return sameClass(v, c.value) && within(v, c.value) <= 0;
    case 'between':
      return sameClass(v, c.value) && within(v, c.value) >= 0 && within(v, c.upper) < 0;
    case 'regex':
      return v.type === 'string' && new RegExp(`^(?:${c.pattern})$`, 'u').test(v.value);
    case 'not regex':
      return v.type === 'string' && !new RegExp(`^(?:${c.pattern})$`, 'u').test(v.value);
    case 'contains':
      return v.type === 'string' && v.value.includes(c.pattern);
    case 'links to':
      return v.type === 'link' && v.value === c.record;
  }
}

function modelFind(revs: readonly Rev[], c: Criteria, at?: number): bigint[] {
  const st = stateAt(revs, at);
  const hit = (crit: Criteria, keys: Map<string, Value[]>): boolean => {
    if (crit.kind === 'and') return crit.clauses.every((x) => hit(x, keys));
    if (crit.kind === 'or') return crit.clauses.some((x) => hit(x, keys));
    return (keys.get(crit.key) ?? []).some((v) => matches(crit, v));
  };
  return sortBig([...st].filter(([, keys]) => hit(c, keys)).map(([r]) => r));
}

class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** The model's write semantics: the revisions an op makes, given the state so far. */
function modelApply(m: Model, ops: readonly RecordWrite[], ts: number): { ok: boolean; record?: RecordId }[] {
  const results: { ok: boolean; record?: RecordId }[] = [];
  const rev = (action: 'ADD' | 'REMOVE', record: RecordId, key: string, value: Value): void => {
    m.revs.push({ record, key, action, value, version: m.revs.length + 1, timestamp: ts });
  };
  const cur = (record: RecordId, key: string): Value[] => valuesOf(m.revs, record, key);
  const has = (record: RecordId, key: string, v: Value): boolean => cur(record, key).some((x) => same(x, v));
  const allocate = (): RecordId => {
    let id = m.lastId + 1n;
    while (m.revs.some((r) => r.record === id)) id++;
    m.lastId = id;
    return id;
  };
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        if (!KEYS.includes(op.key)) throw new ModelError('bad-key');
        results.push({ ok: !has(op.record, op.key, op.value) });
        if (results[results.length - 1]!.ok) rev('ADD', op.record, op.key, op.value);
        break;
      case 'remove':
        results.push({ ok: has(op.record, op.key, op.value) });
        if (results[results.length - 1]!.ok) rev('REMOVE', op.record, op.key, op.value);
        break;
      case 'set':
        for (const v of cur(op.record, op.key)) if (!same(v, op.value)) rev('REMOVE', op.record, op.key, v);
        if (!has(op.record, op.key, op.value)) rev('ADD', op.record, op.key, op.value);
        results.push({ ok: true });
        break;
      case 'clear': {
        const keys = op.key !== undefined ? [op.key] : [...(stateAt(m.revs).get(op.record)?.keys() ?? [])].sort();
        for (const k of keys) for (const v of cur(op.record, k)) rev('REMOVE', op.record, k, v);
        results.push({ ok: true });
        break;
      }
      case 'link':
        results.push({ ok: !has(op.source, op.key, link(op.destination)) });
        if (results[results.length - 1]!.ok) rev('ADD', op.source, op.key, link(op.destination));
        break;
      case 'verifyAndSwap': {
        const ok = has(op.record, op.key, op.expected);
        if (ok && !same(op.expected, op.replacement)) {
          rev('REMOVE', op.record, op.key, op.expected);
          if (!has(op.record, op.key, op.replacement)) rev('ADD', op.record, op.key, op.replacement);
        }
        results.push({ ok });
        break;
      }
      case 'verifyOrSet':
        if (!has(op.record, op.key, op.value)) {
          for (const v of cur(op.record, op.key)) rev('REMOVE', op.record, op.key, v);
          rev('ADD', op.record, op.key, op.value);
        }
        results.push({ ok: true });
        break;
      case 'insert': {
        // Flat documents only in this model: key → one value or a list.
        const doc = op.document as Record<string, Value[]>;
        const record = op.record ?? allocate();
        const entries = Object.keys(doc).flatMap((k) => doc[k]!.map((v) => [k, v] as const));
        if (op.record !== undefined && entries.some(([k, v]) => has(record, k, v))) {
          results.push({ ok: false, record });
          break;
        }
        for (const [k, v] of entries) if (!has(record, k, v)) rev('ADD', record, k, v);
        results.push({ ok: true, record });
        break;
      }
      case 'revert': {
        const keys = op.keys !== undefined ? [...new Set(op.keys)].sort() : [...new Set(m.revs.filter((r) => r.record === op.record).map((r) => r.key))].sort();
        for (const k of keys) {
          const target = valuesOf(m.revs, op.record, k, op.at);
          const now = cur(op.record, k);
          for (const v of now) if (!target.some((t) => same(t, v))) rev('REMOVE', op.record, k, v);
          for (const t of target) if (!now.some((v) => same(t, v))) rev('ADD', op.record, k, t);
        }
        results.push({ ok: true });
        break;
      }
      case 'findOrAdd': {
        if (!KEYS.includes(op.key)) throw new ModelError('bad-key');
        const found = modelFind(m.revs, { kind: 'condition', key: op.key, operator: '=', value: op.value });
        if (found.length > 1) throw new ModelError('duplicate');
        if (found.length === 1) {
          results.push({ ok: true, record: found[0]! });
          break;
        }
        const record = allocate();
        rev('ADD', record, op.key, op.value);
        results.push({ ok: true, record });
        break;
      }
      default:
        throw new Error(`model does not do ${op.op}`);
    }
  }
  return results;
}

// ---- generators -------------------------------------------------------------------------------

const KEYS = ['a', 'b', 'name', 'friend'];
const recordArb: fc.Arbitrary<RecordId> = fc.constantFrom<RecordId>(1n, 2n, 3n, 4n, 5n, 6n);
const keyArb = fc.constantFrom(...KEYS);
// Long strings (over the 200 key bytes) share their kept bytes, so the index orders them by hash
// and the reader must re-check: they are here to catch that.
const LONG = 'L'.repeat(210);
const STRINGS = ['', 'x', 'xy', 'Xyz', 'abc', 'abcd', 'bca', 'zz', 'é', 'e\u{1F600}', 'hello world', 'Hello', LONG + 'a', LONG + 'b', LONG + 'ab', LONG, 'L'.repeat(199) + '\u0000x'.repeat(5)];
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constantFrom(bool(true), bool(false)),
  fc.constantFrom(integer(-1), integer(0), integer(1), integer(2), long(1), long(2), long(-3), double(1), double(2.5), double(-0.5)),
  fc.constantFrom(...STRINGS).map(str),
  fc.constantFrom(1n, 2n, 3n, 4n).map((r) => link(r)),
  fc.constantFrom(-5n, 0n, 7n).map((t) => timestampMicros(t)),
);
const operandArb: fc.Arbitrary<Value> = fc.oneof(valueArb, fc.constantFrom(integer(3), double(1.5), str('b'), str('y'), str(LONG + 'aa'), str(LONG.slice(5))));

const conditionArb: fc.Arbitrary<Criteria> = fc.oneof(
  fc.record({ kind: fc.constant('condition' as const), key: keyArb, operator: fc.constantFrom('=', '!=', '>', '>=', '<', '<=') as fc.Arbitrary<'=' | '!=' | '>' | '>=' | '<' | '<='>, value: operandArb }),
  fc
    .tuple(keyArb, fc.constantFrom([integer(0), double(2.5)], [long(-3), integer(1)], [str('a'), str('y')], [str('x'), str('é')], [timestampMicros(-5n), timestampMicros(7n)], [str(LONG + 'a'), str(LONG + 'b')], [str('K'), str(LONG + 'aa')]))
    .map(([key, [lo, hi]]) => ({ kind: 'condition' as const, key, operator: 'between' as const, value: lo!, upper: hi! })),
  fc.tuple(keyArb, fc.constantFrom('L{210}a.*', 'LLL.*b', 'x.*', '.*c.*', '[a-z]+', 'é|zz', '.', 'ab.*', 'xy?', 'hello world', 'a+bc', 'e\\u{1F600}'), fc.boolean()).map(([key, pattern, neg]) => ({
    kind: 'condition' as const,
    key,
    operator: neg ? ('not regex' as const) : ('regex' as const),
    pattern,
  })),
  fc.tuple(keyArb, fc.constantFrom('LLa', 'x', 'bc', 'abc', 'yz', 'llo wo', 'Hel', '\u{1F600}')).map(([key, pattern]) => ({ kind: 'condition' as const, key, operator: 'contains' as const, pattern })),
  fc.tuple(keyArb, fc.constantFrom(1n, 2n, 3n)).map(([key, record]) => ({ kind: 'condition' as const, key, operator: 'links to' as const, record })),
);
const criteriaArb: fc.Arbitrary<Criteria> = fc.oneof(
  { weight: 3, arbitrary: conditionArb },
  { weight: 1, arbitrary: fc.tuple(conditionArb, conditionArb).map(([x, y]) => ({ kind: 'and' as const, clauses: [x, y] })) },
  { weight: 1, arbitrary: fc.tuple(conditionArb, conditionArb).map(([x, y]) => ({ kind: 'or' as const, clauses: [x, y] })) },
);

const docArb = fc.dictionary(keyArb, fc.array(valueArb, { minLength: 1, maxLength: 2 }), { minKeys: 1, maxKeys: 3 });
function docToJson(doc: Record<string, Value[]>): Record<string, unknown> {
  const tagged = (v: Value): unknown => {
    switch (v.type) {
      case 'boolean':
      case 'string':
        return v.value;
      case 'integer':
        return { $integer: v.value };
      case 'long':
        return { $long: v.value };
      case 'double':
        return { $double: v.value };
      case 'link':
        return { $link: v.value };
      case 'timestamp':
        return { $timestamp: v.value };
    }
  };
  return Object.fromEntries(Object.entries(doc).map(([k, vs]) => [k, vs.map(tagged)]));
}

const writeArb = (): fc.Arbitrary<RecordWrite> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), key: keyArb, value: valueArb, record: recordArb }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), key: keyArb, value: valueArb, record: recordArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, value: valueArb, record: recordArb }) },
    { weight: 1, arbitrary: fc.tuple(recordArb, fc.option(keyArb, { nil: undefined })).map(([record, key]) => (key === undefined ? { op: 'clear' as const, record } : { op: 'clear' as const, record, key })) },
    { weight: 2, arbitrary: fc.tuple(recordArb, recordArb).filter(([a, b]) => a !== b).map(([source, destination]) => ({ op: 'link' as const, key: 'friend', source, destination })) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('verifyAndSwap' as const), key: keyArb, expected: valueArb, record: recordArb, replacement: valueArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('verifyOrSet' as const), key: keyArb, value: valueArb, record: recordArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('findOrAdd' as const), key: keyArb, value: valueArb }) },
    // A bad op: the whole batch must fail and leave no trace.
    { weight: 1, arbitrary: fc.constant<RecordWrite>({ op: 'add', key: 'bad key', value: integer(1), record: 1n }) },
    { weight: 1, arbitrary: fc.tuple(docArb, fc.option(recordArb, { nil: undefined })).map(([doc, record]) => (record === undefined ? { op: 'insert' as const, document: doc } : { op: 'insert' as const, document: doc, record })) },
  );

// ---- commands ---------------------------------------------------------------------------------

type Cmd = fc.Command<Model, Real>;

function atArb(): fc.Arbitrary<number | undefined> {
  return fc.option(fc.nat({ max: 400 }), { nil: undefined });
}
/** A past time within the run so far: `at` values are drawn in [0, 400] and clamped to now + 1. */
const clampAt = (m: Model, at: number | undefined): Timestamp | undefined => (at === undefined ? undefined : timestamp(Math.min(at, m.ts + 1)));

class Write implements Cmd {
  constructor(
    readonly ops: readonly RecordWrite[],
    readonly step: number,
  ) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const ts = m.ts + this.step;
    const before = m.revs.length;
    // The store takes JSON for insert; the model takes the value lists.
    const storeOps = this.ops.map((o) => (o.op === 'insert' ? { ...o, document: docToJson(o.document as Record<string, Value[]>) } : o));
    const ctx = { index: logIndex(before + 1), timestamp: timestamp(ts) };
    let expected: { ok: boolean; record?: RecordId }[];
    const lastId = m.lastId;
    try {
      expected = modelApply(m, this.ops, ts);
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      // The batch fails as a whole: the model forgets its partial work, the store writes nothing.
      m.revs.length = before;
      m.lastId = lastId;
      const size = r.kv.size();
      expect(errCode(() => r.store.apply(storeOps, ctx))).toBe(e.code);
      expect(r.kv.size()).toBe(size);
      expect(r.feed.drain()).toEqual([]);
      return;
    }
    m.ts = ts;
    const got = r.store.apply(storeOps, ctx);
    expect(got.map((x) => x.ok)).toEqual(expected.map((x) => x.ok));
    got.forEach((g, i) => {
      if (expected[i]!.record !== undefined) expect(g.record).toBe(expected[i]!.record);
    });
    const made = r.feed.drain() as RecordRevisionEvent[];
    expect(made.every((e) => e.kind === 'record' && e.logIndex === before + 1)).toBe(true);
    expect(made.map((e) => ({ record: e.record, key: e.key, action: e.action, value: e.value, version: e.version, timestamp: e.timestamp }))).toEqual(m.revs.slice(before));
  }
  toString = (): string => `write(+${this.step}) ${stringify(this.ops)}`;
}

class Revert implements Cmd {
  constructor(
    readonly record: RecordId,
    readonly at: number,
    readonly keys: readonly string[] | undefined,
  ) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const at = Math.min(this.at, m.ts);
    const op: RecordWrite = this.keys === undefined ? { op: 'revert', record: this.record, at: timestamp(at) } : { op: 'revert', record: this.record, at: timestamp(at), keys: this.keys };
    new Write([op], 1).run(m, r);
  }
  toString = (): string => `revert ${this.record} at ${this.at} ${this.keys ?? 'all'}`;
}

class Read implements Cmd {
  constructor(
    readonly what: string,
    readonly fn: (m: Model, r: Real) => void,
  ) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    this.fn(m, r);
  }
  toString = (): string => this.what;
}

class SnapshotRestore implements Cmd {
  constructor(readonly dirtyTarget: boolean) {}
  check = (): boolean => true;
  run(_m: Model, r: Real): void {
    // The whole state is in the port: the shared snapshot of the port is the store's snapshot.
    const bytes = takeSnapshot(r.kv);
    const target = new MemStore();
    if (this.dirtyTarget) {
      // A replica with stale state of its own: restore must replace it entirely.
      const stale = new RecordStore(target);
      stale.apply([{ op: 'add', key: 'stale', value: str('x'), record: 99n }], { index: logIndex(1), timestamp: timestamp(10_000) });
    }
    restoreSnapshot(bytes, target);
    r.kv = target;
    r.store = new RecordStore(target, { changes: r.feed, ...r.tuning });
  }
  toString = (): string => `snapshot+restore${this.dirtyTarget ? ' over stale state' : ''}`;
}

function stringify(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

function errCode(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof RecordError) return e.code;
    throw e;
  }
}

const findCmdArb = fc.tuple(criteriaArb, atArb()).map(
    ([c, at0]) =>
      new Read(`find ${stringify(c)} at ${at0}`, (m, r) => {
        const at = clampAt(m, at0);
        expect(r.store.find(c, at)).toEqual(modelFind(m.revs, c, at));
      }),
  );
const writeCmdArb = fc.tuple(fc.array(writeArb(), { minLength: 1, maxLength: 3 }), fc.constantFrom(0, 1, 1, 5, 20)).map(([ops, step]) => new Write(ops, step));
const commandArbs: fc.Arbitrary<Cmd>[] = [
  // Writes are most of a run, so reads see populated state.
  ...Array.from({ length: 10 }, () => writeCmdArb),
  ...Array.from({ length: 4 }, () => findCmdArb),
  fc.tuple(recordArb, fc.nat({ max: 400 }), fc.option(fc.subarray(KEYS, { minLength: 1 }), { nil: undefined })).map(([rec, at, keys]) => new Revert(rec, at, keys)),
  fc.tuple(recordArb, keyArb, atArb()).map(
    ([rec, key, at0]) =>
      new Read(`select ${key} ${rec} at ${at0}`, (m, r) => {
        const at = clampAt(m, at0);
        const want = valuesOf(m.revs, rec, key, at);
        expect(r.store.select(key, rec, at)).toEqual(want);
        expect(r.store.get(key, rec, at)).toEqual(want[want.length - 1]);
        const rs = stateAt(m.revs, at).get(rec) ?? new Map<string, Value[]>();
        expect([...r.store.selectRecord(rec, undefined, at)]).toEqual([...rs].sort(([x], [y]) => (x < y ? -1 : 1)));
        expect(r.store.describe(rec, at)).toEqual([...rs.keys()].sort());
      }),
  ),
  fc.tuple(keyArb, atArb()).map(
    ([key, at0]) =>
      new Read(`browse ${key} at ${at0}`, (m, r) => {
        const at = clampAt(m, at0);
        const pairs: { value: Value; record: RecordId }[] = [];
        for (const [rec, keys] of stateAt(m.revs, at)) for (const value of keys.get(key) ?? []) pairs.push({ value, record: rec });
        pairs.sort((x, y) => order(x.value, y.value) || (x.record < y.record ? -1 : 1));
        const want: { value: Value; records: RecordId[] }[] = [];
        for (const p of pairs) {
          const last = want[want.length - 1];
          if (last !== undefined && same(last.value, p.value)) last.records.push(p.record);
          else want.push({ value: p.value, records: [p.record] });
        }
        expect(r.store.browse(key, at)).toEqual(want);
        expect(r.store.inventory(at)).toEqual(sortBig(stateAt(m.revs, at).keys()));
      }),
  ),
  fc.tuple(recordArb, fc.option(keyArb, { nil: undefined })).map(
    ([rec, key]) =>
      new Read(`audit ${rec} ${key}`, (m, r) => {
        expect(r.store.audit(rec, key)).toEqual(m.revs.filter((x) => x.record === rec && (key === undefined || x.key === key)));
      }),
  ),
  fc.tuple(recordArb, keyArb, fc.nat({ max: 400 }), fc.nat({ max: 400 })).map(
    ([rec, key, a, b]) =>
      new Read(`chronologize/diff ${key} ${rec} ${a} ${b}`, (m, r) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const revs = m.revs.filter((x) => x.record === rec && x.key === key);
        const want: { timestamp: number; values: Value[] }[] = [];
        for (let i = 0; i < revs.length; i++) {
          const x = revs[i]!;
          if (revs[i + 1]?.timestamp === x.timestamp) continue;
          if (x.timestamp < start || x.timestamp > end) continue;
          want.push({ timestamp: x.timestamp, values: valuesOf(m.revs, rec, key, x.timestamp) });
        }
        expect(r.store.chronologize(key, rec, timestamp(start), timestamp(end)).map((c) => ({ timestamp: c.timestamp, values: c.values }))).toEqual(want);
        const before = valuesOf(m.revs, rec, key, start);
        const after = valuesOf(m.revs, rec, key, end);
        const added = after.filter((x) => !before.some((y) => same(x, y)));
        const removed = before.filter((x) => !after.some((y) => same(x, y)));
        expect(r.store.diff(rec, timestamp(start), timestamp(end), key)).toEqual(added.length + removed.length > 0 ? [{ key, added, removed }] : []);
        // The same key across all records: per value, the records that gained or lost it.
        const holders = (at: number): Array<{ value: Value; record: RecordId }> => {
          const out: Array<{ value: Value; record: RecordId }> = [];
          for (const [x, keys] of stateAt(m.revs, at)) for (const value of keys.get(key) ?? []) out.push({ value, record: x });
          return out;
        };
        const h0 = holders(start);
        const h1 = holders(end);
        const values: Value[] = [];
        for (const h of [...h0, ...h1]) if (!values.some((v) => same(v, h.value))) values.push(h.value);
        values.sort(order);
        const perValue = values
          .map((value) => {
            const b = sortBig(h0.filter((h) => same(h.value, value)).map((h) => h.record));
            const a = sortBig(h1.filter((h) => same(h.value, value)).map((h) => h.record));
            return { value, added: a.filter((x) => !b.includes(x)), removed: b.filter((x) => !a.includes(x)) };
          })
          .filter((d) => d.added.length + d.removed.length > 0);
        expect(r.store.diffKey(key, timestamp(start), timestamp(end))).toEqual(perValue);
      }),
  ),
  fc.tuple(fc.constantFrom('friend.name', 'friend.friend.a', 'friend.friend.friend', 'a.b', 'friend'), fc.array(recordArb, { minLength: 1, maxLength: 2 }), atArb()).map(
    ([path, starts, at0]) =>
      new Read(`navigate ${path} ${starts} at ${at0}`, (m, r) => {
        const at = clampAt(m, at0);
        const st = stateAt(m.revs, at);
        const hops = path.split('.');
        let cur = new Set(starts);
        for (const h of hops.slice(0, -1)) {
          const next = new Set<RecordId>();
          for (const x of cur) for (const v of st.get(x)?.get(h) ?? []) if (v.type === 'link') next.add(v.value);
          cur = next;
        }
        const last = hops[hops.length - 1]!;
        const want = sortBig(cur)
          .map((x) => ({ record: x, values: st.get(x)?.get(last) ?? [] }))
          .filter((x) => x.values.length > 0);
        expect(r.store.navigate(path, starts, at)).toEqual(want);
      }),
  ),
  fc.tuple(fc.constantFrom<CalculateFunction>('count', 'sum', 'average', 'min', 'max'), keyArb, fc.option(fc.array(recordArb, { maxLength: 3 }), { nil: undefined }), atArb()).map(
    ([fn, key, records, at0]) =>
      new Read(`calculate ${fn} ${key} ${records} at ${at0}`, (m, r) => {
        const at = clampAt(m, at0);
        const st = stateAt(m.revs, at);
        const scope = records === undefined ? undefined : { records };
        const vals: Value[] = [];
        for (const [rec, keys] of st) if (records === undefined || records.includes(rec)) vals.push(...(keys.get(key) ?? []));
        if (fn === 'count') {
          expect(r.store.calculate(fn, key, scope, at)).toBe(vals.length);
          return;
        }
        const numeric = vals.every((v) => v.type === 'integer' || v.type === 'long' || v.type === 'double');
        if (!numeric) {
          expect(errCode(() => r.store.calculate(fn, key, scope, at))).toBe('not-numeric');
          return;
        }
        const got = r.store.calculate(fn, key, scope, at);
        if (vals.length === 0) {
          expect(got).toBeUndefined();
          return;
        }
        const total = vals.reduce((s, v) => s + Number(v.value), 0);
        switch (fn) {
          case 'sum':
            expect(got).toEqual(vals.some((v) => v.type === 'double') ? double(total) : long(BigInt(total)));
            break;
          case 'average':
            expect(got as number).toBeCloseTo(total / vals.length, 9);
            break;
          case 'min':
          case 'max': {
            const sorted = [...vals].sort(order);
            const want = fn === 'min' ? sorted[0]! : sorted[sorted.length - 1]!;
            expect(got).toEqual(want);
            break;
          }
        }
      }),
  ),
  fc.tuple(keyArb, fc.constantFrom('LLLA', 'x', 'XY', 'abc', 'bc', 'HELLO', 'o w', 'é', 'zz', 'lo', 'ell', 'BCA', 'cd')).map(
    ([key, q]) =>
      new Read(`search ${key} ${q}`, (m, r) => {
        const st = stateAt(m.revs);
        const want = sortBig([...st].filter(([, keys]) => (keys.get(key) ?? []).some((v) => v.type === 'string' && v.value.toLowerCase().includes(q.toLowerCase()))).map(([x]) => x));
        expect(r.store.search(key, q)).toEqual(want);
      }),
  ),
  fc.boolean().map((dirty) => new SnapshotRestore(dirty)),
];

describe('record store against a reference model', () => {
  it('writes, past reads, audit, revert, find, navigate, calculate, search agree with the model', () => {
    fc.assert(
      fc.property(fc.commands(commandArbs, { maxCommands: 80, size: 'max' }), fc.boolean(), fc.boolean(), fc.constantFrom(2, 3, 64), fc.constantFrom(0, 2, 256), (cmds, intersect, given, checkpointEvery, replayMax) => {
        const kv = new MemStore();
        const feed = new ChangeFeed<Value>();
        // Half the runs answer every `and` by intersecting index results, half by checking
        // the later clauses record by record.
        const andVerifyMax = intersect ? 0 : AND_VERIFY_MAX;
        const andOrder = given ? ('given' as const) : ('estimate' as const);
        // Past reads come from checkpoints + log replay, or (replayMax 0, or too far from a
        // checkpoint) from the history scan.
        const tuning = { andVerifyMax, andOrder, checkpointEvery, replayMax };
        const real: Real = { tuning, kv, store: new RecordStore(kv, { changes: feed, ...tuning }), feed };
        fc.modelRun(() => ({ model: { revs: [], ts: 0, lastId: 0n }, real }), cmds);
      }),
      { numRuns: 300, seed: 20261122 },
    );
  });
});

describe('replicas', () => {
  it('the same log gives byte-identical state, with or without a snapshot/restore in the middle', () => {
    fc.assert(
      fc.property(fc.array(fc.array(writeArb(), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 30 }), fc.nat(), (batches, cut) => {
        const a = new MemStore();
        let b = new MemStore();
        const sa = new RecordStore(a);
        let sb = new RecordStore(b);
        const at = cut % batches.length;
        batches.forEach((ops, i) => {
          const json = ops.map((o) => (o.op === 'insert' ? { ...o, document: docToJson(o.document as Record<string, Value[]>) } : o));
          const ctx = { index: logIndex(i + 1), timestamp: timestamp(100 * (i + 1)) };
          // A refused batch (bad key, duplicate) must be refused alike on both and change nothing.
          expect(errCode(() => sb.apply(json, ctx))).toBe(errCode(() => sa.apply(json, ctx)));
          if (i === at) {
            const restored = new MemStore();
            restoreSnapshot(takeSnapshot(b), restored);
            b = restored;
            sb = new RecordStore(b);
          }
        });
        expect(takeSnapshot(b)).toEqual(takeSnapshot(a));
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});
