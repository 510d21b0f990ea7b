// The history generators, checked on their own (without the checker under test): the
// histories are well formed, deterministic, linearizable by the witness they carry, and a
// planted stale read is non-linearizable by an independent brute-force search.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { eventsToJsonl, generateHistory, type GeneratedHistory, type GeneratedOp, type GenerateOptions } from '../../jepsen/generate/history.js';
import { plantStaleRead } from '../../jepsen/generate/stale.js';
import { plantFutureRead } from '../../jepsen/generate/future.js';
import { manyKeysCase, singleKeyCase } from '../../jepsen/generate/hard.js';
import { AtomicStore, sameValue } from '../../jepsen/generate/store.js';
import { pairOperations, parseJsonl } from '../../jepsen/history.js';
import { runGenerate } from '../../jepsen/generate/main.js';

/** Replays the generator's own witness (effect instants in order) and checks every answer. */
function checkWitness(h: GeneratedHistory): void {
  const store = new AtomicStore();
  const effects = h.ops.filter((op) => op.effectMs !== null).sort((a, b) => a.effectMs! - b.effectMs!);
  for (const op of h.ops) {
    if (op.status === 'ok') {
      expect(op.effectMs).not.toBeNull();
      expect(op.effectMs!).toBeGreaterThanOrEqual(op.invokeMs);
      expect(op.effectMs!).toBeLessThanOrEqual(op.completeMs);
    }
    if (op.effectMs !== null) expect(op.effectMs).toBeGreaterThanOrEqual(op.invokeMs);
    if (op.status === 'fail') expect(op.f).toBe('cas');
    expect(op.callPos).toBeLessThan(op.retPos);
  }
  for (const op of effects) {
    switch (op.f) {
      case 'read':
        if (op.status === 'ok') expect(sameValue(store.read(op.key), op.output)).toBe(true);
        break;
      case 'write':
        store.write(op.key, op.input);
        break;
      case 'cas': {
        const [e, n] = op.input as [unknown, unknown];
        const swapped = store.cas(op.key, e, n);
        if (op.status === 'ok') expect(swapped).toBe(true);
        if (op.status === 'fail') expect(swapped).toBe(false);
        break;
      }
      case 'delete':
        store.delete(op.key);
        break;
    }
  }
}

/**
 * An independent, exhaustive linearizability check for tiny single-key histories: depth-first
 * over which pending operation takes effect next, respecting real time; `ok` operations must
 * all be placed, `info` ones may be placed or left out, `fail` ones never happened.
 */
function bruteForceLinearizable(ops: readonly GeneratedOp[]): boolean {
  const live = ops.filter((o) => o.status !== 'fail');
  if (live.length > 22) throw new Error('too many operations for the brute-force check');
  const okMask = live.reduce((m, o, i) => (o.status === 'ok' ? m | (1 << i) : m), 0);
  const seen = new Set<string>();
  const go = (done: number, state: unknown): boolean => {
    if ((done & okMask) === okMask) return true;
    const memo = `${done}:${JSON.stringify(state)}`;
    if (seen.has(memo)) return false;
    seen.add(memo);
    // Earliest completion among ok ops not yet placed: nothing invoked after it can go first.
    let horizon = Infinity;
    live.forEach((o, i) => {
      if (!(done & (1 << i)) && o.status === 'ok') horizon = Math.min(horizon, o.retPos);
    });
    for (let i = 0; i < live.length; i++) {
      const o = live[i]!;
      if (done & (1 << i) || o.callPos > horizon) continue;
      let next: unknown = state;
      switch (o.f) {
        case 'read':
          if (o.status === 'ok' && !sameValue(state, o.output)) continue;
          break;
        case 'write':
          next = o.input;
          break;
        case 'delete':
          next = null;
          break;
        case 'cas': {
          const [e, n] = o.input as [unknown, unknown];
          if (!sameValue(state, e)) continue;
          next = n;
          break;
        }
      }
      if (go(done | (1 << i), next)) return true;
    }
    return false;
  };
  return go(0, null);
}

const small = (seed: number, extra: Partial<GenerateOptions> = {}): GeneratedHistory =>
  generateHistory({ seed, ops: 14, processes: 3, register: true, infoRate: 0.25, mix: { read: 0.5, write: 0.35, cas: 0.1, delete: 0.05 }, ...extra });

describe('generateHistory', () => {
  it('is deterministic: the same seed gives the same history, another seed another', () => {
    const opts: GenerateOptions = { seed: 42, ops: 300, processes: 6, keys: 4, infoRate: 0.2 };
    expect(eventsToJsonl(generateHistory(opts).events)).toBe(eventsToJsonl(generateHistory(opts).events));
    expect(eventsToJsonl(generateHistory({ ...opts, seed: 43 }).events)).not.toBe(eventsToJsonl(generateHistory(opts).events));
  });

  it('writes JSON Lines that the history reader accepts and reads back to the same events', () => {
    const h = generateHistory({ seed: 7, ops: 500, processes: 8, keys: 5, infoRate: 0.2, readInfoRate: 0.05 });
    const back = parseJsonl(eventsToJsonl(h.events));
    expect(back.length).toBe(h.events.length);
    back.forEach((e, i) => {
      const g = h.events[i]!;
      expect([e.process, e.type, e.f, e.key, e.time]).toEqual([g.process, g.type, g.f, g.key, g.time]);
      expect(e.value).toEqual(g.value);
    });
    const paired = pairOperations(back);
    const live = h.ops.filter((o) => o.status !== 'fail');
    expect(paired.length).toBe(live.length);
    h.ops.forEach((o, i) => expect(o.index).toBe(i));
    // Same order as the reader's ids: invoke order.
    paired.forEach((p, i) => expect([p.call, p.process, p.f, p.key]).toEqual([live[i]!.callPos, live[i]!.process, live[i]!.f, live[i]!.key]));
  });

  it('keeps each process to one open operation, retires processes after info, and keeps `processes` slots busy', () => {
    const h = generateHistory({ seed: 3, ops: 2000, processes: 16, register: true, mix: { read: 0.5, write: 0.5 }, infoRate: 0.3 });
    const open = new Set<number>();
    const retired = new Set<number>();
    let maxOpen = 0;
    let prevTime = -Infinity;
    for (const e of h.events) {
      expect(e.time!).toBeGreaterThanOrEqual(prevTime);
      prevTime = e.time!;
      if (e.type === 'invoke') {
        expect(open.has(e.process)).toBe(false);
        expect(retired.has(e.process)).toBe(false);
        open.add(e.process);
        maxOpen = Math.max(maxOpen, open.size);
      } else {
        expect(open.delete(e.process)).toBe(true);
        if (e.type === 'info') retired.add(e.process);
      }
    }
    expect(maxOpen).toBe(16);
    const writes = h.ops.filter((o) => o.f === 'write');
    const infoShare = writes.filter((o) => o.status === 'info').length / writes.length;
    expect(infoShare).toBeGreaterThan(0.25);
    expect(infoShare).toBeLessThan(0.35);
    expect(retired.size).toBe(h.ops.filter((o) => o.status === 'info').length);
  });

  it('is linearizable by its own witness: effects in instant order reproduce every answer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), (seed, processes, keys, dup) => {
        checkWitness(generateHistory({ seed, ops: 200, processes, keys, infoRate: 0.2, readInfoRate: 0.05, ...(dup ? { values: 4 } : {}) }));
      }),
      { numRuns: 60 },
    );
  });

  it('is judged linearizable by an independent brute-force search (tiny histories)', () => {
    for (let seed = 0; seed < 60; seed++) expect(bruteForceLinearizable(small(seed).ops)).toBe(true);
  });

  it('draws unique values by default and repeats them when asked', () => {
    const unique = generateHistory({ seed: 5, ops: 1000, processes: 4, mix: { read: 0, write: 1 } });
    const vals = unique.ops.map((o) => o.input);
    expect(new Set(vals).size).toBe(vals.length);
    const dup = generateHistory({ seed: 5, ops: 1000, processes: 4, mix: { read: 0, write: 1 }, values: 3 });
    expect(new Set(dup.ops.map((o) => o.input)).size).toBe(3);
  });

  it('skews keys with Zipf: the hottest key gets far more operations than the coldest', () => {
    const h = generateHistory({ seed: 9, ops: 20_000, processes: 8, keys: 100, keyDistribution: { kind: 'zipf', exponent: 1 } });
    const count = (k: string): number => h.ops.filter((o) => o.key === k).length;
    expect(count('k0')).toBeGreaterThan(20 * count('k99'));
    const u = generateHistory({ seed: 9, ops: 20_000, processes: 8, keys: 100 });
    const c0 = u.ops.filter((o) => o.key === 'k0').length;
    expect(c0).toBeGreaterThan(100);
    expect(c0).toBeLessThan(300);
  });

  it('makes cas both succeed and fail, and reports the failures as fail', () => {
    const h = generateHistory({ seed: 11, ops: 2000, processes: 10, register: true, mix: { read: 0.4, write: 0.3, cas: 0.3 } });
    const cas = h.ops.filter((o) => o.f === 'cas');
    expect(cas.filter((o) => o.status === 'ok').length).toBeGreaterThan(50);
    expect(cas.filter((o) => o.status === 'fail').length).toBeGreaterThan(50);
    const fails = h.events.filter((e) => e.type === 'fail');
    expect(fails.every((e) => e.f === 'cas')).toBe(true);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => generateHistory({ seed: 1, ops: 10, processes: 0 })).toThrow(/processes must be an integer >= 1/);
    expect(() => generateHistory({ seed: 1, ops: -1, processes: 2 })).toThrow(/ops must be/);
    expect(() => generateHistory({ seed: 1, ops: 10, processes: 2, keys: 3, register: true })).toThrow(/exactly 1 key/);
    expect(() => generateHistory({ seed: 1, ops: 10, processes: 2, infoRate: 1.5 })).toThrow(/infoRate must be in \[0, 1\]/);
    expect(() => generateHistory({ seed: 1, ops: 10, processes: 2, mix: { read: 0, write: 0, cas: 0, delete: 0 } })).toThrow(/weights sum to 0/);
  });
});

describe('plantStaleRead', () => {
  it('meets its proof conditions: W1 the only writer of the value, W1 before W2 before the read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 4 }), (seed, processes, keys) => {
        const h = generateHistory({ seed, ops: 150, processes, keys, infoRate: 0.2, values: seed % 2 === 0 ? 'unique' : 6 });
        const s = plantStaleRead(h, { position: seed % 3 === 0 ? 'random' : 'late', seed });
        if (s === null) return;
        const r = s.ops[s.stale.read]!;
        const w1 = s.ops[s.stale.staleWrite]!;
        const w2 = s.ops[s.stale.overwrite]!;
        expect(r.output).toEqual(w1.input);
        expect(s.events[r.retPos]!.value).toEqual(w1.input);
        expect([r.key, w2.key]).toEqual([w1.key, w1.key]);
        expect(w1.status === 'ok' && w2.status === 'ok' && r.status === 'ok').toBe(true);
        expect(w1.retPos).toBeLessThan(w2.callPos);
        expect(w2.retPos).toBeLessThan(r.callPos);
        const writersOfV1 = s.ops.filter(
          (o) => o.key === w1.key && o.status !== 'fail' && ((o.f === 'write' && sameValue(o.input, w1.input)) || (o.f === 'cas' && sameValue((o.input as unknown[])[1], w1.input))),
        );
        expect(writersOfV1.map((o) => o.index)).toEqual([w1.index]);
        // Only the read's completion changed.
        const changed = s.events.filter((e, i) => e !== h.events[i]);
        expect(changed.length).toBe(1);
      }),
      { numRuns: 80 },
    );
  });

  it('picks the last qualifying read with position late', () => {
    const h = generateHistory({ seed: 21, ops: 3000, processes: 16, register: true, mix: { read: 0.5, write: 0.5 }, infoRate: 0.2 });
    const s = plantStaleRead(h)!;
    expect(s).not.toBeNull();
    const lastRead = Math.max(...h.ops.filter((o) => o.f === 'read' && o.status === 'ok').map((o) => o.callPos));
    expect(h.ops[s.stale.read]!.callPos).toBeGreaterThan(lastRead - 200);
  });

  it('is judged NOT linearizable by an independent brute-force search (tiny histories)', () => {
    let planted = 0;
    for (let seed = 0; seed < 200 && planted < 40; seed++) {
      const s = plantStaleRead(small(seed, { ops: 16, infoRate: 0.2 }), { position: 'random', seed });
      if (s === null) continue;
      planted++;
      expect(bruteForceLinearizable(s.ops)).toBe(false);
    }
    expect(planted).toBe(40);
  });

  it('returns null when no read can be made stale', () => {
    const onlyReads = generateHistory({ seed: 1, ops: 50, processes: 3, mix: { read: 1, write: 0, cas: 0, delete: 0 } });
    expect(plantStaleRead(onlyReads)).toBeNull();
  });
});

describe('plantFutureRead', () => {
  it('meets its proof conditions: the value is written once, by an op invoked after the read completed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 4 }), (seed, processes, keys) => {
        const h = generateHistory({ seed, ops: 150, processes, keys, infoRate: 0.2, values: seed % 2 === 0 ? 'unique' : 8 });
        const f = plantFutureRead(h, { position: seed % 3 === 0 ? 'random' : 'late', seed });
        if (f === null) return;
        const r = f.ops[f.future.read]!;
        const w = f.ops[f.future.write]!;
        expect(r.f === 'read' && r.status === 'ok').toBe(true);
        expect(r.output).toEqual(f.future.futureValue);
        expect(f.future.futureValue).not.toBeNull();
        expect(w.callPos).toBeGreaterThan(r.retPos);
        const writers = f.ops.filter(
          (o) => o.key === r.key && o.status !== 'fail' && ((o.f === 'write' && sameValue(o.input, f.future.futureValue)) || (o.f === 'cas' && sameValue((o.input as unknown[])[1], f.future.futureValue))),
        );
        expect(writers.map((o) => o.index)).toEqual([w.index]);
        expect(f.events.filter((e, i) => e !== h.events[i]).length).toBe(1);
      }),
      { numRuns: 80 },
    );
  });

  it('is judged NOT linearizable by an independent brute-force search (tiny histories)', () => {
    let planted = 0;
    for (let seed = 0; seed < 200 && planted < 40; seed++) {
      const f = plantFutureRead(small(seed, { ops: 16, infoRate: 0.2 }), { position: 'random', seed });
      if (f === null) continue;
      planted++;
      expect(bruteForceLinearizable(f.ops)).toBe(false);
    }
    expect(planted).toBe(40);
  });
});

describe('hard presets', () => {
  it('build the single-key and many-key cases with the verdicts they claim', () => {
    const lin = singleKeyCase({ processes: 8, ops: 1000, infoRate: 0.1, stale: false, seed: 1 });
    expect(lin.expected).toBe(true);
    checkWitness(lin.history);
    const stale = singleKeyCase({ processes: 8, ops: 1000, infoRate: 0.1, stale: true, seed: 1 });
    expect(stale.expected).toBe(false);
    expect(stale.staleRead).toBeDefined();
    expect(stale.history.ops[stale.staleRead!]!.callPos).toBeGreaterThan(stale.history.events.length * 0.8);
    // 64 processes really are open at once, and about 30% of writes end info.
    const wide = singleKeyCase({ processes: 64, ops: 5000, infoRate: 0.3, stale: true, seed: 4 });
    let open = 0;
    let maxOpen = 0;
    for (const e of wide.history.events) {
      open += e.type === 'invoke' ? 1 : -1;
      maxOpen = Math.max(maxOpen, open);
    }
    expect(maxOpen).toBe(64);
    const writes = wide.history.ops.filter((o) => o.f === 'write');
    expect(writes.filter((o) => o.status === 'info').length / writes.length).toBeCloseTo(0.3, 1);
    expect(wide.history.ops[wide.staleRead!]!.callPos).toBeGreaterThan(wide.history.events.length * 0.9);
    const many = manyKeysCase({ keys: 20, processes: 8, ops: 2000, skew: 'zipf', seed: 2 });
    expect(many.model).toBe('kv');
    expect(new Set(many.history.ops.map((o) => o.key)).size).toBe(20);
  });
});

describe('the generate command (jepsen/generate/main.ts)', () => {
  const run = (argv: string[]): { code: number; out: string; err: string } => {
    let out = '';
    let err = '';
    const code = runGenerate(argv, (s) => (out += s), (s) => (err += s));
    return { code, out, err };
  };

  it('prints a JSON Lines history and a summary, and plants a stale read on request', () => {
    const ok = run(['--seed', '5', '--ops', '300', '--processes', '6', '--keys', '4', '--zipf', '1', '--info', '0.1']);
    expect(ok.code).toBe(0);
    expect(ok.err).toMatch(/^generate: 300 ops, 600 events; linearizable by construction/);
    const events = parseJsonl(ok.out);
    expect(events.length).toBe(600);
    expect(new Set(events.map((e) => e.key)).size).toBe(4);
    const stale = run(['--seed', '5', '--ops', '300', '--processes', '6', '--keys', '4', '--stale', 'late']);
    expect(stale.code).toBe(0);
    expect(stale.err).toMatch(/NOT linearizable: op \d+ \(a read of "k\d"\) now returns \d+/);
    const future = run(['--seed', '5', '--ops', '300', '--processes', '6', '--keys', '4', '--future', 'random']);
    expect(future.code).toBe(0);
    expect(future.err).toMatch(/NOT linearizable: op \d+ \(a read of "k\d"\) now returns \d+, first written by op \d+ after the read completed/);
    const reg = run(['--register', '--ops', '50', '--mix', '1,1,0,0', '--values', '3']);
    expect(reg.code).toBe(0);
    expect(parseJsonl(reg.out).every((e) => e.key === null && (e.f === 'read' || e.f === 'write'))).toBe(true);
  });

  it('rejects bad usage with exit 2 and one line', () => {
    for (const argv of [['--ops', 'many'], ['--bogus'], ['--stale', 'early'], ['--mix', '1,2'], ['--processes', '0'], ['--keys', '3', '--register'], ['--stale', 'late', '--future', 'late']]) {
      const r = run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/^generate: .+\n$/);
      expect(r.out).toBe('');
    }
    const none = run(['--ops', '20', '--mix', '1,0,0,0', '--stale', 'late']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no read can be made stale/);
  });
});
