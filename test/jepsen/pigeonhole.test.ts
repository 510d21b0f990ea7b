// Too few producers for a chain of needers (jepsen/certain-violations.ts, findProducerShortage;
// docs/checker.md proof 5c), and issue 12's generated family (jepsen/generate/repeated.ts).
// Hand-written cases where the rule must fire and where it must not, a property that whenever
// it fires on a small random history the textbook search agrees (for the history and for the
// witness alone), and the generated constructions decided with the verdict they were built for.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../jepsen/check.js';
import { chainDecision, findProducerShortage } from '../../jepsen/certain-violations.js';
import { replayAccepts } from '../../jepsen/replay.js';
import { generateHistory } from '../../jepsen/generate/history.js';
import { repeatedCase } from '../../jepsen/generate/repeated.js';
import { pairOperations } from '../../jepsen/history.js';
import { casRegister } from '../../jepsen/models.js';
import { pruneRegisterOps } from '../../jepsen/prune.js';
import type { HistoryEvent } from '../../jepsen/types.js';
import { searchLinearization } from '../../jepsen/wgl.js';
import { events } from './checker-helpers.js';

describe('findProducerShortage', () => {
  it('fires on a stale read ruled out only by a cas (the cas needs the only producer)', () => {
    // An earlier write of 4, overwritten by a write of 0, makes 4 a repeated value.
    const h = events(
      [1, 'invoke', 'write', 4],
      [1, 'ok', 'write', 4],
      [1, 'invoke', 'write', 0],
      [1, 'ok', 'write', 0],
      [0, 'invoke', 'write', 4],
      [0, 'ok', 'write', 4],
      [0, 'invoke', 'cas', [4, 1]],
      [0, 'ok', 'cas', [4, 1]],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
    );
    expect(findProducerShortage(pairOperations(h))).not.toBeNull();
    const r = checkHistory(h, 'cas-register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.method).toMatch(/^(pigeonhole|stale-read|no-source)/);
    expect(r.partitions[0]?.counterexampleMinimal).toBe(true);
  });

  it('fires on three reads of 4 separated by writes of 1, with two concurrent writes of 4', () => {
    const h = events(
      [1, 'invoke', 'write', 4],
      [2, 'invoke', 'write', 4],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
      [1, 'ok', 'write', 4],
      [2, 'ok', 'write', 4],
    );
    expect(findProducerShortage(pairOperations(h))).not.toBeNull();
    expect(searchLinearization(casRegister, pairOperations(h)).valid).toBe(false);
    expect(checkHistory(h, 'register').valid).toBe(false);
  });

  it('stays quiet when a third writer of 4 is there (or one may be info)', () => {
    const base: Array<Parameters<typeof events>[number]> = [
      [1, 'invoke', 'write', 4],
      [2, 'invoke', 'write', 4],
      [3, 'invoke', 'write', 4],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
      [1, 'ok', 'write', 4],
      [2, 'ok', 'write', 4],
    ];
    for (const last of ['ok', 'info'] as const) {
      const h = events(...base, [3, last, 'write', 4]);
      expect(findProducerShortage(pairOperations(h))).toBeNull();
      expect(checkHistory(h, 'register').valid).toBe(true);
    }
  });
});

/** Replaces the value of the k-th ok read with `value`. */
function corruptRead(h: readonly HistoryEvent[], k: number, value: number): HistoryEvent[] {
  const okReads = h.map((e, i) => [e, i] as const).filter(([e]) => e.type === 'ok' && e.f === 'read');
  if (okReads.length === 0) return [...h];
  const [, at] = okReads[k % okReads.length] as readonly [HistoryEvent, number];
  return h.map((e, i) => (i === at ? { ...e, value } : e));
}

describe('findProducerShortage agrees with the textbook search', () => {
  it('fires only on histories (and witnesses) that are not linearizable', () => {
    let fired = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 30 }), (seed, value, k) => {
        const g = generateHistory({
          seed,
          ops: 6 + (seed % 10),
          processes: 2 + (seed % 4),
          register: true,
          mix: { read: 0.5, write: 0.35, cas: 0.15, delete: 0 },
          infoRate: 0.25,
          values: 2 + (seed % 3),
          valueMin: 0,
        });
        const h = k % 4 === 0 ? [...g.events] : corruptRead(g.events, k, value);
        const ops = pairOperations(h);
        const witness = findProducerShortage(pruneRegisterOps(ops).kept);
        if (witness === null) return;
        fired++;
        expect(searchLinearization(casRegister, ops).valid).toBe(false);
        const keep = new Set(witness);
        expect(searchLinearization(casRegister, ops.filter((op) => keep.has(op.id))).valid).toBe(false);
      }),
      { numRuns: 600 },
    );
    expect(fired).toBeGreaterThan(10);
  });
});

describe('the search with info twins as counts (proofs 6b, 6c) agrees with the textbook search', () => {
  it('on small histories with values 0..2, cas and many info writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 30 }), (seed, value, k) => {
        const g = generateHistory({
          seed,
          ops: 6 + (seed % 9),
          processes: 2 + (seed % 3),
          register: true,
          mix: { read: 0.45, write: 0.4, cas: 0.15, delete: 0 },
          infoRate: 0.4,
          values: 3,
          valueMin: 0,
        });
        const h = k % 3 === 0 ? [...g.events] : corruptRead(g.events, k, value);
        const expected = searchLinearization(casRegister, pairOperations(h)).valid;
        expect(checkHistory(h, 'cas-register').valid).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });
});

describe('issue 12 generated family', () => {
  for (const variant of ['linearizable', 'stale', 'pigeonhole'] as const) {
    it(`decides a small ${variant} case as built`, () => {
      const c = repeatedCase({ seed: 12, ops: 120, processes: 6, infoRate: 0.2, variant });
      const r = checkHistory(c.history.events, c.model, { timeoutMs: 20_000 });
      expect(r.valid).toBe(c.expected);
    });
  }
});

describe('the sharper producers of proof 5c and the order built from the matching', () => {
  it('does not count a cas [4, 4] or a cas [2, 4] that can never find 2', () => {
    // Two reads of 4 separated by a write of 1; producers: one info write of 4, one info cas
    // [4, 4] (needs 4 already) and one info cas [2, 4] (nothing ever writes 2). Counting all
    // three, the interval rule sees enough; only one can bring 4 back.
    const h = events(
      [1, 'invoke', 'write', 4],
      [2, 'invoke', 'cas', [4, 4]],
      [3, 'invoke', 'cas', [2, 4]],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 4],
    );
    const ops = pairOperations(h);
    expect(searchLinearization(casRegister, ops).valid).toBe(false);
    expect(findProducerShortage(ops)).not.toBeNull();
    const r = checkHistory(h, 'cas-register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.counterexampleMinimal).toBe(true);
    // With a write of 2 in the second window the cas [2, 4] can serve it: linearizable, and the
    // order comes from the matching (replayed).
    const ok = events(...h.slice(0, 7).map((e) => [e.process, e.type, e.f, e.value] as const), [4, 'invoke', 'write', 2], [4, 'ok', 'write', 2], [0, 'invoke', 'read'], [0, 'ok', 'read', 4]);
    const okOps = pairOperations(ok);
    expect(findProducerShortage(okOps)).toBeNull();
    const d = chainDecision(okOps);
    expect(d?.order).not.toBeNull();
    expect(replayAccepts(casRegister, okOps, d?.order ?? [])).toBe(true);
    expect(checkHistory(ok, 'cas-register').valid).toBe(true);
  });

  it('agrees with the textbook search on small one-value histories (order replays, shortage refutes)', () => {
    let orders = 0;
    let shortages = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 9 }), (seed, value, k) => {
        const g = generateHistory({
          seed,
          ops: 6 + (seed % 9),
          processes: 2 + (seed % 4),
          register: true,
          mix: seed % 2 === 0 ? { read: 0.5, write: 0.5, cas: 0, delete: 0 } : { read: 0.45, write: 0.4, cas: 0.15, delete: 0 },
          infoRate: 0.3,
          values: 3,
          valueMin: 0,
        });
        // Only the ok reads of one value kept (the shape the shrinker's candidates have); half
        // the time the others are made to see it too (mostly not linearizable then).
        const h = k % 2 === 0 ? onlyReadsOf(g.events, value) : g.events.map((e) => (e.type === 'ok' && e.f === 'read' ? { ...e, value } : e));
        const ops = pruneRegisterOps(pairOperations(h)).kept;
        const expected = searchLinearization(casRegister, pairOperations(h)).valid;
        const d = chainDecision(ops);
        if (d?.shortage != null) {
          shortages++;
          expect(expected).toBe(false);
          const keep = new Set(d.shortage);
          expect(searchLinearization(casRegister, ops.filter((op) => keep.has(op.id))).valid).toBe(false);
        }
        if (d?.order != null && replayAccepts(casRegister, ops, d.order)) {
          orders++;
          expect(expected).toBe(true);
        }
        expect(checkHistory(h, 'cas-register').valid).toBe(expected);
      }),
      { numRuns: 600 },
    );
    expect(orders).toBeGreaterThan(10);
    expect(shortages).toBeGreaterThan(5);
  });
});

describe('replayAccepts', () => {
  it('rejects orders that break real time, the model, or leave out an ok op', () => {
    const ops = pairOperations(events([0, 'invoke', 'write', 1], [0, 'ok', 'write', 1], [1, 'invoke', 'read'], [1, 'ok', 'read', 1], [2, 'invoke', 'write', 2]));
    const [w, r, info] = ops.map((o) => o.id) as [number, number, number];
    expect(replayAccepts(casRegister, ops, [w, r])).toBe(true);
    expect(replayAccepts(casRegister, ops, [w, r, info])).toBe(true);
    expect(replayAccepts(casRegister, ops, [r, w])).toBe(false); // model (and real time)
    expect(replayAccepts(casRegister, ops, [w])).toBe(false); // ok read left out
    expect(replayAccepts(casRegister, ops, [w, info, r])).toBe(false); // the read would see 2
    expect(replayAccepts(casRegister, ops, [w, r, r])).toBe(false); // twice
  });
});

/** The history without its ok reads of values other than `value` (their invoke and completion). */
function onlyReadsOf(h: readonly HistoryEvent[], value: number): HistoryEvent[] {
  const open = new Map<number, number>();
  const drop = new Set<number>();
  h.forEach((e, i) => {
    if (e.type === 'invoke') open.set(e.process, i);
    else {
      const at = open.get(e.process);
      if (at !== undefined && e.f === 'read' && e.type === 'ok' && e.value !== value) {
        drop.add(at);
        drop.add(i);
      }
    }
  });
  return h.filter((_, i) => !drop.has(i));
}
