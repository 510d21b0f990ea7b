// The shortcuts against the plain search on histories too large for brute force: the
// unique-values decision, pruning and forcing must give the verdicts the frontier search
// and the textbook WGL search give on the untouched operations.
import { describe, expect, it } from 'vitest';
import { generateHistory } from '../../jepsen/generate/history.js';
import { pairOperations } from '../../jepsen/history.js';
import { casRegister } from '../../jepsen/models.js';
import { pruneRegisterOps } from '../../jepsen/prune.js';
import { searchFrontier } from '../../jepsen/frontier-search.js';
import { checkUniqueValues, uniqueValuesApplies } from '../../jepsen/unique-values.js';
import { searchLinearization } from '../../jepsen/wgl.js';
import { decidePart } from '../../jepsen/check.js';
import type { HistoryEvent } from '../../jepsen/types.js';

const readOnly = (op: { f: string; status: string }): boolean => op.f === 'read' && op.status === 'ok';

/** Makes the k-th ok read (by position) return the value of some earlier ok write. */
function corrupt(events: readonly HistoryEvent[], k: number): HistoryEvent[] {
  const out = [...events];
  const reads = out.map((e, i) => [e, i] as const).filter(([e]) => e.type === 'ok' && e.f === 'read');
  const target = reads[k % Math.max(1, reads.length)];
  if (target === undefined) return out;
  const [e, i] = target;
  const written = out.slice(0, i).filter((x) => x.type === 'ok' && x.f === 'write' && JSON.stringify(x.value) !== JSON.stringify(e.value));
  const pick = written[(k * 7) % Math.max(1, written.length)];
  if (pick !== undefined) out[i] = { ...e, value: pick.value };
  return out;
}

describe('shortcuts agree with the plain search', () => {
  it('on 80 generated single-register histories with cas and info operations, half corrupted', () => {
    let decided = 0;
    let invalid = 0;
    for (let seed = 1; seed <= 80; seed++) {
      const h = generateHistory({ seed, ops: 120, processes: 5, register: true, mix: { read: 0.5, write: 0.3, cas: 0.2 }, infoRate: 0.2 });
      const events = seed % 2 === 0 ? corrupt(h.events, seed) : [...h.events];
      const ops = pairOperations(events);
      const { kept } = pruneRegisterOps(ops);
      expect(uniqueValuesApplies(kept)).toBe(true);
      const fast = checkUniqueValues(kept).valid;
      const searchPruned = searchFrontier(casRegister, kept, { readOnly }).valid;
      const searchAll = searchFrontier(casRegister, ops, { readOnly, maxSteps: 30_000 }).valid;
      const wgl = searchLinearization(casRegister, ops, { maxSteps: 30_000 }).valid;
      expect({ seed, searchPruned }).toEqual({ seed, searchPruned: fast });
      if (searchAll !== 'unknown') expect({ seed, searchAll }).toEqual({ seed, searchAll: fast });
      if (wgl !== 'unknown') {
        decided++;
        expect({ seed, wgl }).toEqual({ seed, wgl: fast });
      }
      if (fast === false) invalid++;
    }
    expect(decided).toBeGreaterThan(45);
    expect(invalid).toBeGreaterThan(10);
    expect(invalid).toBeLessThan(70);
  });

  it('on 40 generated histories with repeated values and deletes (no fast path): frontier = WGL', () => {
    let invalid = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const h = generateHistory({ seed, ops: 80, processes: 4, register: true, values: 3, mix: { read: 0.5, write: 0.3, cas: 0.1, delete: 0.1 }, infoRate: 0.15 });
      const events = seed % 2 === 0 ? corrupt(h.events, seed) : [...h.events];
      const ops = pairOperations(events);
      const { kept } = pruneRegisterOps(ops);
      const frontier = searchFrontier(casRegister, kept, { readOnly }).valid;
      const wgl = searchLinearization(casRegister, ops).valid;
      expect({ seed, frontier }).toEqual({ seed, frontier: wgl });
      // The whole pipeline: pruning, stale reads, and every rule of the search.
      const full = decidePart(casRegister, ops, {}).valid;
      expect({ seed, full }).toEqual({ seed, full: wgl });
      if (wgl === false) invalid++;
    }
    expect(invalid).toBeGreaterThan(3);
  });

  it('keeps its verdicts with no memo at all (the memo bound only costs time)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const h = generateHistory({ seed: seed + 500, ops: 40, processes: 4, register: true, values: 3, mix: { read: 0.5, write: 0.3, cas: 0.1, delete: 0.1 }, infoRate: 0.2 });
      const events = seed % 2 === 0 ? corrupt(h.events, seed) : [...h.events];
      const ops = pairOperations(events);
      const withMemo = searchLinearization(casRegister, ops).valid;
      expect({ seed, wgl: searchLinearization(casRegister, ops, { memoWordsMax: 0, maxSteps: 2_000_000 }).valid }).toEqual({ seed, wgl: withMemo });
      const noMemo = searchFrontier(casRegister, ops, { readOnly, memoWordsMax: 0, maxSteps: 2_000_000 }).valid;
      if (noMemo !== 'unknown') expect({ seed, frontier: noMemo }).toEqual({ seed, frontier: withMemo });
    }
  });

  it('on 60 more concurrent histories with repeated values and many info writes: pipeline = WGL', () => {
    let decided = 0;
    let invalid = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const h = generateHistory({ seed: seed + 1000, ops: 60, processes: 6, register: true, values: 4, mix: { read: 0.5, write: 0.4, delete: 0.1 }, infoRate: 0.35 });
      const events = seed % 2 === 0 ? corrupt(h.events, seed) : [...h.events];
      const ops = pairOperations(events);
      const wgl = searchLinearization(casRegister, ops, { maxSteps: 200_000 }).valid;
      if (wgl === 'unknown') continue;
      decided++;
      const full = decidePart(casRegister, ops, {}).valid;
      expect({ seed, full }).toEqual({ seed, full: wgl });
      if (wgl === false) invalid++;
    }
    expect(decided).toBeGreaterThan(40);
    expect(invalid).toBeGreaterThan(3);
  });
});
