// Model-based test of the key-value face: random command sequences run against the real
// machine (over MemStore) and against a tiny reference written from the documented semantics —
// a plain Map with explicit expiry and a revision counter. Every answer must agree exactly
// (messages aside), including revisions, TTL under advancing log time, CAS, counters, listing
// and bulk all-or-nothing; snapshot + restore into a fresh store happens mid-run.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MemStore } from '../../core/storage/memstore.js';
import { takeSnapshot, restoreSnapshot } from '../../core/storage/snapshot.js';
import { encodeValue, type Value } from '../../core/storage/encoding.js';
import { KvStateMachine, type KvCommand, type KvResult, type PutItem, type DeleteItem, type KeyMatch } from '../../core/storage/kv/index.js';
import { timestampFromMs } from '../../core/storage/types.js';
import { logIndex } from '../../core/types.js';

interface MEntry {
  value: Value;
  createRevision: number;
  modRevision: number;
  version: number;
  expiresAtMs: number | null;
}

class Model {
  readonly map = new Map<string, MEntry>();
  revision = 0;
  nowMs = 10_000;

  live(key: string): MEntry | undefined {
    const e = this.map.get(key);
    return e !== undefined && (e.expiresAtMs === null || e.expiresAtMs > this.nowMs) ? e : undefined;
  }

  /** The start of every apply: every expired key goes, under one shared revision. */
  purge(): void {
    let any = false;
    for (const [k, e] of this.map) {
      if (e.expiresAtMs !== null && e.expiresAtMs <= this.nowMs) {
        this.map.delete(k);
        any = true;
      }
    }
    if (any) this.revision++;
  }
}

const same = (a: Value, b: Value): boolean => Buffer.from(encodeValue(a)).equals(Buffer.from(encodeValue(b)));
const cur = (e: MEntry | undefined) => (e === undefined ? null : { value: e.value, revision: e.modRevision });
const entryOf = (key: string, e: MEntry) => ({ key, value: e.value, revision: e.modRevision, createRevision: e.createRevision, version: e.version, expiresAtMs: e.expiresAtMs });
type Fail = { status: 'error'; code: string; current?: unknown };
const fail = (code: string, current?: unknown): Fail => (current === undefined ? { status: 'error', code } : { status: 'error', code, current });

function putCheck(m: Model, p: PutItem): Fail | null {
  const e = m.live(p.key);
  if (p.ifAbsent === true && e !== undefined) return fail('condition-failed', cur(e));
  if (p.expected !== undefined) {
    if (e === undefined) return fail('not-found');
    if (!same(e.value, p.expected)) return fail('condition-failed', cur(e));
  }
  if (p.expectedRevision !== undefined && (e?.modRevision ?? 0) !== p.expectedRevision) return fail('condition-failed', cur(e));
  return null;
}

function putDo(m: Model, p: PutItem, rev: number): MEntry {
  const e = m.live(p.key);
  const next: MEntry = {
    value: p.value,
    createRevision: e?.createRevision ?? rev,
    modRevision: rev,
    version: (e?.version ?? 0) + 1,
    expiresAtMs: p.ttlMs !== undefined ? m.nowMs + p.ttlMs : p.keepTtl === true && e !== undefined ? e.expiresAtMs : null,
  };
  m.map.set(p.key, next);
  return next;
}

function deleteCheck(m: Model, d: DeleteItem): Fail | null {
  const e = m.live(d.key);
  if (e === undefined) return fail('not-found');
  if (d.expected !== undefined && !same(e.value, d.expected)) return fail('condition-failed', cur(e));
  if (d.expectedRevision !== undefined && e.modRevision !== d.expectedRevision) return fail('condition-failed', cur(e));
  return null;
}

/** Live keys the match selects, in key order (ASCII keys here, so JS order is code point order). */
function liveMatching(m: Model, match: KeyMatch): [string, MEntry][] {
  const test = (k: string): boolean => {
    switch (match.type) {
      case 'all': return true;
      case 'prefix': return k.startsWith(match.prefix);
      case 'suffix': return k.endsWith(match.suffix);
      case 'contains': return k.includes(match.text);
      case 'range': return (match.start === undefined || k >= match.start) && (match.end === undefined || k < match.end);
      case 'regex': return new RegExp(match.pattern, match.flags ?? '').test(k);
    }
  };
  return [...m.map.keys()].filter((k) => test(k) && m.live(k)).sort().map((k) => [k, m.map.get(k)!]);
}

/** What the reference answers; it mutates the model like apply mutates the store. */
function modelApply(m: Model, c: KvCommand): unknown {
  m.purge();
  switch (c.op) {
    case 'put': {
      const f = putCheck(m, c);
      if (f) return f;
      const e = putDo(m, c, ++m.revision);
      return { status: 'ok', op: 'put', revision: e.modRevision, createRevision: e.createRevision, version: e.version, expiresAtMs: e.expiresAtMs };
    }
    case 'get': {
      const e = m.live(c.key);
      return e === undefined ? fail('not-found') : { status: 'ok', op: 'get', entry: entryOf(c.key, e) };
    }
    case 'delete': {
      const f = deleteCheck(m, c);
      if (f) return f;
      m.map.delete(c.key);
      return { status: 'ok', op: 'delete', revision: ++m.revision };
    }
    case 'touch': {
      const e = m.live(c.key);
      if (e === undefined) return fail('not-found');
      e.expiresAtMs = m.nowMs + c.ttlMs;
      return { status: 'ok', op: 'touch', expiresAtMs: e.expiresAtMs };
    }
    case 'increment': {
      const e = m.live(c.key);
      const v = e === undefined ? 0 : e.value;
      if (!(typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)))) return fail('wrong-type');
      const rev = ++m.revision;
      const value = typeof v === 'bigint' ? v + BigInt(c.delta ?? 1) : v + Number(c.delta ?? 1);
      m.map.set(c.key, { value, createRevision: e?.createRevision ?? rev, modRevision: rev, version: (e?.version ?? 0) + 1, expiresAtMs: e === undefined ? (c.ttlMs === undefined ? null : m.nowMs + c.ttlMs) : e.expiresAtMs });
      return { status: 'ok', op: 'increment', value, revision: rev };
    }
    case 'list': {
      let all = liveMatching(m, c.match);
      if (c.reverse) all = all.reverse();
      const rest = all.slice(c.offset ?? 0);
      const limit = c.limit ?? 1000;
      return { status: 'ok', op: 'list', items: rest.slice(0, limit).map(([k, e]) => entryOf(k, e)), more: rest.length > limit, revision: m.revision };
    }
    case 'count': {
      return { status: 'ok', op: 'count', count: liveMatching(m, c.match).length, revision: m.revision };
    }
    case 'delete-where': {
      const all = liveMatching(m, c.match);
      const victims = all.slice(0, c.limit ?? 10_000);
      if (victims.length > 0) m.revision++;
      for (const [k] of victims) m.map.delete(k);
      return { status: 'ok', op: 'delete-where', deleted: victims.map(([k]) => k), more: all.length > victims.length, revision: m.revision };
    }
    case 'bulk-put':
    case 'bulk-delete': {
      const checks = c.items.map((it) => (c.op === 'bulk-put' ? putCheck(m, it as PutItem) : deleteCheck(m, it as DeleteItem)));
      const firstBad = checks.findIndex((x) => x !== null);
      if (c.atomic && firstBad >= 0) return { ...checks[firstBad]!, index: firstBad };
      const rev = checks.some((x) => x === null) ? ++m.revision : m.revision;
      const results = c.items.map((it, i) => {
        if (checks[i] !== null) return checks[i];
        if (c.op === 'bulk-put') putDo(m, it as PutItem, rev);
        else m.map.delete(it.key);
        return { status: 'ok', revision: rev };
      });
      return { status: 'ok', op: c.op, results, revision: m.revision };
    }
    default:
      throw new Error(`model does not cover ${c.op}`);
  }
}

/** Drops messages (wording is not part of the contract the model checks). */
function normalize(r: unknown): unknown {
  if (Array.isArray(r)) return r.map(normalize);
  if (r !== null && typeof r === 'object' && !(r instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'message').map(([k, v]) => [k, normalize(v)]));
  }
  return r;
}

class Real {
  store = new MemStore();
  kv = new KvStateMachine(this.store);
  index = 0;
  apply(c: KvCommand, nowMs: number): KvResult {
    return this.kv.apply(c, { index: logIndex(++this.index), timestamp: timestampFromMs(nowMs) });
  }
}


class Apply implements fc.Command<Model, Real> {
  constructor(readonly cmd: KvCommand) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const want = modelApply(model, this.cmd);
    const got = real.apply(this.cmd, model.nowMs);
    expect(normalize(got)).toEqual(want);
    expect(real.kv.revision).toBe(model.revision);
  }
  toString = () => JSON.stringify(this.cmd, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(model: Model): void {
    model.nowMs += this.ms;
  }
  toString = () => `advance ${this.ms}ms`;
}

/** A ReadIndex read: answered without the log, must agree with the model and write nothing. */
class ReadOutsideLog implements fc.Command<Model, Real> {
  constructor(readonly key: string) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const e = model.live(this.key);
    const size = real.store.size();
    const got = real.kv.read({ op: 'get', key: this.key }, timestampFromMs(model.nowMs));
    expect(normalize(got)).toEqual(e === undefined ? fail('not-found') : { status: 'ok', op: 'get', entry: entryOf(this.key, e) });
    expect(real.store.size()).toBe(size);
  }
  toString = () => `read ${this.key}`;
}

class SnapshotRestore implements fc.Command<Model, Real> {
  check = () => true;
  run(_model: Model, real: Real): void {
    const snap = takeSnapshot(real.store);
    const fresh = new MemStore();
    restoreSnapshot(snap, fresh);
    real.store = fresh;
    real.kv = new KvStateMachine(fresh);
  }
  toString = () => 'snapshot+restore';
}

const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const key = fc.constantFrom('a', 'b', 'ab', 'ba', 'b/c', 'c');
const value: fc.Arbitrary<Value> = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y', null, 1.5, 7n), fc.constant({ n: [1, 'z'] }));
const ttl = fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined });
const plainPut = fc.record({ key, value, ttlMs: ttl }).map((p) => clean(p) as PutItem);
/** Mostly absent: conditions that are always present would make most writes fail. */
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: a, weight: 1 });
const revision = fc.integer({ min: 0, max: 12 });

const putItem = fc.record({ key, value, ttlMs: ttl, expected: opt(value), expectedRevision: opt(revision), ifAbsent: opt(fc.boolean()), keepTtl: opt(fc.boolean()) })
  .filter((p) => !(p.ifAbsent === true && p.expected !== undefined))
  .map((p) => clean(p) as PutItem);
const deleteItem = fc.record({ key, expected: opt(value), expectedRevision: opt(revision) }).map((d) => clean(d) as DeleteItem);
const uniqueBy = <T extends { key: string }>(a: fc.Arbitrary<T>) => fc.uniqueArray(a, { selector: (x) => x.key, minLength: 1, maxLength: 4 });
const prefix = fc.constantFrom('', 'a', 'b', 'b/', 'z');
const match: fc.Arbitrary<KeyMatch> = fc.oneof(
  prefix.map((p) => ({ type: 'prefix' as const, prefix: p })),
  prefix.map((p) => ({ type: 'prefix' as const, prefix: p })),
  fc.constant({ type: 'all' as const }),
  fc.constantFrom('a', 'c', '/c', 'b').map((s) => ({ type: 'suffix' as const, suffix: s })),
  fc.constantFrom('a', 'b', '/').map((t) => ({ type: 'contains' as const, text: t })),
  fc.record({ start: opt(key), end: opt(key) }).filter((r) => r.start === undefined || r.end === undefined || r.start <= r.end).map((r) => clean({ type: 'range' as const, ...r }) as KeyMatch),
  fc.constantFrom('^b', 'a$', '^[ab]+$', 'B/', '^.$').map((p) => ({ type: 'regex' as const, pattern: p, flags: 'i' })),
);

const commandArbs = [
  putItem.map((p) => new Apply({ op: 'put', ...p })),
  plainPut.map((p) => new Apply({ op: 'put', ...p })),
  plainPut.map((p) => new Apply({ op: 'put', ...p })),
  key.map((k) => new Apply({ op: 'get', key: k })),
  deleteItem.map((d) => new Apply({ op: 'delete', ...d })),
  fc.record({ key, ttlMs: fc.integer({ min: 1, max: 60 }) }).map((t) => new Apply({ op: 'touch', ...t })),
  fc.record({ key, delta: fc.integer({ min: -5, max: 5 }), ttlMs: ttl }).map((i) => new Apply(clean({ op: 'increment', ...i }) as KvCommand)),
  fc.record({ match, limit: opt(fc.integer({ min: 0, max: 4 })), offset: opt(fc.integer({ min: 0, max: 3 })), reverse: opt(fc.boolean()) }).map(
    (l) => new Apply(clean({ op: 'list', match: l.match, limit: l.limit, offset: l.offset, reverse: l.reverse }) as KvCommand),
  ),
  match.map((mt) => new Apply({ op: 'count', match: mt })),
  fc.record({ match, limit: opt(fc.integer({ min: 1, max: 3 })) }).map((d) => new Apply(clean({ op: 'delete-where', match: d.match, limit: d.limit }) as KvCommand)),
  fc.record({ items: uniqueBy(putItem), atomic: fc.boolean() }).map((b) => new Apply({ op: 'bulk-put', ...b })),
  fc.record({ items: uniqueBy(deleteItem), atomic: fc.boolean() }).map((b) => new Apply({ op: 'bulk-delete', ...b })),
  fc.integer({ min: 0, max: 40 }).map((ms) => new Advance(ms)),
  fc.integer({ min: 0, max: 40 }).map((ms) => new Advance(ms)),
  key.map((k) => new ReadOutsideLog(k)),
  fc.constant(new SnapshotRestore()),
];

describe('KV face against a reference model', () => {
  it('agrees on every answer over random runs (TTL, CAS, counters, listing, bulk, snapshot/restore)', () => {
    fc.assert(
      fc.property(fc.commands(commandArbs, { maxCommands: 80, size: 'medium' }), (cmds) => {
        const setup = (): { model: Model; real: Real } => ({ model: new Model(), real: new Real() });
        fc.modelRun(setup, cmds);
        if (process.env['KV_MODEL_DEBUG']) console.log(cmds.toString());
      }),
      { numRuns: 400 },
    );
  });
});

