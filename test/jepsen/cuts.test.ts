// Cuts at quiescent points (jepsen/cuts.ts, docs/checker.md proof 8) and pending reads
// (proof 8b): the cut search agrees with the textbook search on small random histories with
// quiescent points and info operations, its `true` witnesses replay, the checker with cuts
// (shrinker included) gives the same verdicts and counterexamples that are themselves not
// linearizable; and pending reads of one value are never enumerated as subsets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../jepsen/check.js';
import { cutPoints, searchWithCuts } from '../../jepsen/cuts.js';
import { searchFrontier } from '../../jepsen/frontier-search.js';
import { generateHistory } from '../../jepsen/generate/history.js';
import { pairOperations } from '../../jepsen/history.js';
import { casRegister } from '../../jepsen/models.js';
import { pruneRegisterOps, resultKey } from '../../jepsen/prune.js';
import { replayAccepts } from '../../jepsen/replay.js';
import { neededKey } from '../../jepsen/shrink.js';
import type { HistoryEvent, Operation } from '../../jepsen/types.js';
import { searchLinearization } from '../../jepsen/wgl.js';
import { events, type Step } from './checker-helpers.js';

const opts = {
  readOnly: (op: Operation) => op.f === 'read' && op.status === 'ok',
  unconditional: (op: Operation) => op.f === 'write' || op.f === 'delete',
  values: { needs: neededKey, produces: resultKey, stateValue: (s: string) => s },
};

/** A small history of a real atomic register with few processes (so quiescent points), maybe one read corrupted. */
function smallHistory(seed: number, processes: number, info: number, corrupt: number): HistoryEvent[] {
  const h = generateHistory({ seed, ops: 6 + (seed % 9), processes, register: true, mix: { read: 0.45, write: 0.35, cas: 0.15, delete: 0.05 }, infoRate: info, readInfoRate: info / 2, values: 3, valueMin: 0 });
  const evs = [...h.events];
  if (corrupt >= 0) {
    const okReads = evs.map((e, i) => [e, i] as const).filter(([e]) => e.type === 'ok' && e.f === 'read');
    const pick = okReads[corrupt % Math.max(1, okReads.length)];
    if (pick !== undefined) evs[pick[1]] = { ...pick[0], value: (corrupt % 4) === 3 ? null : corrupt % 4 };
  }
  return evs;
}

describe('cutPoints', () => {
  it('cuts where every op so far returned, and not across an info write whose value is read later', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 1],
      [1, 'invoke', 'write', 2], // info: 2 is read later, so no cut until that read
      [1, 'info', 'write', 2],
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', 2],
      [0, 'invoke', 'write', 3],
      [0, 'ok', 'write', 3],
    );
    const ops = pairOperations(h);
    const segs = cutPoints(ops, opts.values, 1).map((s) => s.map((i) => (ops[i] as Operation).id));
    // {w1}, {r1}, {w2 info, r2} (the info write may feed r2), {w3}: after r2 nothing needs 2.
    expect(segs).toEqual([[0], [1], [2, 3], [4]]);
  });

  it('does not cut after a forced (ok, never-returning) op', () => {
    const h = events([1, 'invoke', 'write', 7], [1, 'info', 'write', 7], [0, 'invoke', 'read'], [0, 'ok', 'read', 7], [0, 'invoke', 'write', 1], [0, 'ok', 'write', 1]);
    const { kept } = pruneRegisterOps(pairOperations(h));
    expect(cutPoints(kept, opts.values, 1)).toHaveLength(1);
  });
});

describe('searchWithCuts', () => {
  it('carries several end states: two concurrent writes, then a read of either', () => {
    for (const seen of [1, 2, 3]) {
      const h = events([0, 'invoke', 'write', 1], [1, 'invoke', 'write', 2], [0, 'ok', 'write', 1], [1, 'ok', 'write', 2], [0, 'invoke', 'read'], [0, 'ok', 'read', seen]);
      const ops = pairOperations(h);
      const r = searchWithCuts(casRegister, ops, { ...opts, minSegment: 1 });
      expect(r.segments).toBe(2);
      expect(r.valid).toBe(seen !== 3);
      if (r.valid === true) expect(replayAccepts(casRegister, ops, r.linearized)).toBe(true);
    }
  });

  it('agrees with the textbook search on small random histories (quiescent points, info ops, corrupted reads)', () => {
    let cut = 0;
    let cutWithInfo = 0;
    let falses = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 0.2, 0.4), fc.integer({ min: -3, max: 12 }), (seed, processes, info, corrupt) => {
        const ops = pairOperations(smallHistory(seed, processes, info, corrupt));
        const brute = searchLinearization(casRegister, ops).valid;
        for (const list of [ops, pruneRegisterOps(ops).kept]) {
          const r = searchWithCuts(casRegister, list, { ...opts, minSegment: 1 });
          expect(r.valid).toBe(brute);
          if (r.valid === true) expect(replayAccepts(casRegister, ops, r.linearized)).toBe(true);
          if (r.segments > 1) {
            cut++;
            if (list.some((op) => op.status === 'info')) cutWithInfo++;
          }
        }
        if (brute === false) falses++;
      }),
      { numRuns: 600, seed: 12 },
    );
    // The property is about cut histories: most are cut, many across info ops, many are false.
    expect(cut).toBeGreaterThan(300);
    expect(cutWithInfo).toBeGreaterThan(30);
    expect(falses).toBeGreaterThan(50);
  });

  it('the whole checker with cuts: same verdicts, counterexamples that cannot be ordered', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 0.3), fc.integer({ min: -2, max: 12 }), (seed, processes, info, corrupt) => {
        const h = smallHistory(seed, processes, info, corrupt);
        const ops = pairOperations(h);
        const brute = searchLinearization(casRegister, ops).valid;
        const r = checkHistory(h, 'cas-register', { cutMinSegment: 1 });
        expect(r.valid).toBe(brute);
        const part = r.partitions[0];
        if (r.valid === true && part !== undefined) expect(replayAccepts(casRegister, ops, part.linearized)).toBe(true);
        if (r.valid === false && part?.counterexample !== undefined) {
          const keep = new Set(part.counterexample);
          expect(searchLinearization(casRegister, ops.filter((op) => keep.has(op.id))).valid).toBe(false);
          expect(part.counterexampleMinimal).toBe(true);
        }
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it('a long linearizable one-key history with many quiescent points is decided by cut search', () => {
    const h = generateHistory({ seed: 99, ops: 3000, processes: 2, register: true, mix: { read: 0.5, write: 0.4, cas: 0.1 }, values: 5, valueMin: 0 });
    const r = checkHistory(h.events, 'cas-register');
    expect(r.valid).toBe(true);
    expect(r.partitions[0]?.method).toMatch(/^search\+cuts/);
    expect(replayAccepts(casRegister, pairOperations(h.events), r.partitions[0]?.linearized ?? [])).toBe(true);
  });
});

describe('pending reads (proof 8b)', () => {
  it('are never enumerated: k concurrent reads of one value cost the frontier search O(k) steps, the textbook search 2^k', () => {
    // All concurrent: write 1, cas [1, 2], cas [2, 3], k reads of 1; then a read of 2 after
    // everything returned, which no order allows (the cas chain ends at 3). Not linearizable,
    // so both searches must exhaust every configuration.
    const build = (k: number): Operation[] => {
      const steps: Step[] = [[0, 'invoke', 'write', 1], [1, 'invoke', 'cas', [1, 2]], [2, 'invoke', 'cas', [2, 3]]];
      for (let j = 0; j < k; j++) steps.push([3 + j, 'invoke', 'read']);
      steps.push([0, 'ok', 'write', 1], [1, 'ok', 'cas', [1, 2]], [2, 'ok', 'cas', [2, 3]]);
      for (let j = 0; j < k; j++) steps.push([3 + j, 'ok', 'read', 1]);
      steps.push([0, 'invoke', 'read'], [0, 'ok', 'read', 2]);
      return pairOperations(events(...steps));
    };
    const frontier: number[] = [];
    const wgl: number[] = [];
    for (const k of [2, 4, 6, 8, 10]) {
      const ops = build(k);
      const f = searchFrontier(casRegister, ops, opts);
      const w = searchLinearization(casRegister, ops);
      expect(f.valid).toBe(false);
      expect(w.valid).toBe(false);
      frontier.push(f.steps);
      wgl.push(w.steps);
    }
    // Linear in k for the frontier search (greedy reads: one child per legal pending read) ...
    for (let j = 1; j < frontier.length; j++) expect((frontier[j] as number) - (frontier[j - 1] as number)).toBeLessThanOrEqual(2 * 2 + 2);
    // ... while the textbook search visits the subsets of reads taken before the cas.
    expect(wgl[wgl.length - 1] as number).toBeGreaterThan(16 * (frontier[frontier.length - 1] as number));
  });

  it('info reads are gone before the search: pruning drops every one (proof 1)', () => {
    const h = events([0, 'invoke', 'write', 1], [0, 'ok', 'write', 1], [1, 'invoke', 'read'], [1, 'info', 'read'], [2, 'invoke', 'read'], [2, 'info', 'read', 5], [0, 'invoke', 'read'], [0, 'ok', 'read', 1]);
    const { kept, dropped } = pruneRegisterOps(pairOperations(h));
    expect(dropped.map((op) => op.f)).toEqual(['read', 'read']);
    expect(kept.every((op) => op.f !== 'read' || op.status === 'ok')).toBe(true);
  });
});
