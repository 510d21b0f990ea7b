// Reads with no possible source (jepsen/certain-violations.ts, findReadWithoutSource): a
// violation decided without search for repeated values, where the value a read returned is
// written by several operations, each of which real time rules out. Hand-written cases where
// it must fire and where it must not, and a property: whenever it fires on a random history,
// the textbook search agrees that the history, and the witness alone, are not linearizable.
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../jepsen/check.js';
import { findReadWithoutSource } from '../../jepsen/certain-violations.js';
import { generateHistory } from '../../jepsen/generate/history.js';
import { plantFutureRead } from '../../jepsen/generate/future.js';
import { pairOperations } from '../../jepsen/history.js';
import { casRegister, register } from '../../jepsen/models.js';
import { pruneRegisterOps } from '../../jepsen/prune.js';
import type { HistoryEvent } from '../../jepsen/types.js';
import { searchLinearization } from '../../jepsen/wgl.js';
import { events } from './checker-helpers.js';

describe('findReadWithoutSource: fires', () => {
  it('on a read whose value was written earlier, overwritten, and written again only after the read', () => {
    const h = events(
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
      [1, 'invoke', 'write', 8],
      [1, 'ok', 'write', 8],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 7],
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
    );
    expect(findReadWithoutSource(pairOperations(h))).toEqual([0, 1, 2, 3]);
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.method).toBe('no-source');
    // Shrunk to the read and the write of 7 called after it returned.
    expect(r.partitions[0]?.counterexample).toEqual([2, 3]);
  });

  it('on a read whose value only writes called after it returned produce (ok and info)', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 5],
      [0, 'invoke', 'write', 5],
      [1, 'invoke', 'write', 5],
      [0, 'ok', 'write', 5],
      [1, 'info', 'write', 5],
    );
    expect(findReadWithoutSource(pairOperations(h))).toEqual([1, 2, 3]);
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.method).toBe('no-source');
    expect(r.partitions[0]?.counterexample).toEqual([1, 2]);
  });

  it('when two earlier writes of the value are both overwritten, the later one by a write of the same value first', () => {
    // write 7 (a), write 7 (b) after a, write 9 after b, read 7: the first write returning
    // after a is b, which writes 7 itself; b is ruled out by the write of 9, which rules out a too.
    const h = events(
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
      [1, 'invoke', 'write', 7],
      [1, 'ok', 'write', 7],
      [0, 'invoke', 'write', 9],
      [0, 'ok', 'write', 9],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 7],
    );
    const ops = pairOperations(h);
    expect(findReadWithoutSource(ops)).toEqual([0, 1, 2, 3]);
    expect(searchLinearization(register, ops).valid).toBe(false);
    expect(checkHistory(h, 'register').valid).toBe(false);
  });

  it('on a read of null after a completed write when every delete is called after the read returned', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'read'],
      [1, 'ok', 'read', null],
      [0, 'invoke', 'delete'],
      [0, 'ok', 'delete'],
    );
    expect(findReadWithoutSource(pairOperations(h))).toEqual([0, 1, 2]);
    expect(checkHistory(h, 'register').valid).toBe(false);
  });
});

describe('findReadWithoutSource: must not fire', () => {
  it('when an earlier write of the value is not overwritten before the read', () => {
    const h = events(
      [1, 'invoke', 'write', 8],
      [1, 'ok', 'write', 8],
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 7],
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
    );
    expect(findReadWithoutSource(pairOperations(h))).toBeNull();
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('when the overwrite is concurrent with the read', () => {
    const h = events(
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
      [1, 'invoke', 'write', 8],
      [2, 'invoke', 'read'],
      [1, 'ok', 'write', 8],
      [2, 'ok', 'read', 7],
    );
    expect(findReadWithoutSource(pairOperations(h))).toBeNull();
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('when the overwrite is an info write (it may never have happened)', () => {
    const h = events(
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
      [1, 'invoke', 'write', 8],
      [1, 'info', 'write', 8],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 7],
    );
    expect(findReadWithoutSource(pairOperations(h))).toBeNull();
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('when an info write of the value was called before the read returned, even after an overwrite', () => {
    const h = events(
      [0, 'invoke', 'write', 7],
      [0, 'ok', 'write', 7],
      [1, 'invoke', 'write', 8],
      [1, 'ok', 'write', 8],
      [3, 'invoke', 'write', 7],
      [3, 'info', 'write', 7],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 7],
    );
    expect(findReadWithoutSource(pairOperations(h))).toBeNull();
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('when the later write of the value overlaps the read', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [2, 'invoke', 'read'],
      [0, 'invoke', 'write', 5],
      [2, 'ok', 'read', 5],
      [0, 'ok', 'write', 5],
    );
    expect(findReadWithoutSource(pairOperations(h))).toBeNull();
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('when every producer of the value is a cas (left to the search, which still refutes it)', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 5],
      [0, 'invoke', 'cas', [1, 5]],
      [0, 'ok', 'cas', [1, 5]],
    );
    expect(findReadWithoutSource(pairOperations(h))).toBeNull();
    const r = checkHistory(h, 'cas-register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.method).not.toMatch(/^no-source/);
  });

  it('on a read of null before any write returned (the initial state is its source)', () => {
    const h = events([0, 'invoke', 'write', 1], [1, 'invoke', 'read'], [1, 'ok', 'read', null], [0, 'ok', 'write', 1]);
    expect(findReadWithoutSource(pairOperations(h))).toBeNull();
    expect(checkHistory(h, 'register').valid).toBe(true);
  });
});

/** Replaces the value of the k-th ok read with `value` (a random corruption). */
function corruptRead(h: readonly HistoryEvent[], k: number, value: number): HistoryEvent[] {
  const okReads = h.map((e, i) => [e, i] as const).filter(([e]) => e.type === 'ok' && e.f === 'read');
  if (okReads.length === 0) return [...h];
  const [, at] = okReads[k % okReads.length] as readonly [HistoryEvent, number];
  return h.map((e, i) => (i === at ? { ...e, value } : e));
}

describe('findReadWithoutSource: agrees with the textbook search', () => {
  it('fires only on histories (and witnesses) that are not linearizable', () => {
    let fired = 0;
    let notFired = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const cas = seed % 3 === 0 ? 0.2 : 0;
      const g = generateHistory({
        seed: `no-source-${seed}`,
        ops: 8 + (seed % 9),
        processes: 2 + (seed % 4),
        register: true,
        mix: { read: 0.5, write: 0.35 - cas, cas, delete: 0.15 },
        infoRate: 0.25,
        values: 1 + (seed % 4),
      });
      const planted = seed % 5 === 0 ? plantFutureRead(g) : null;
      const h = planted !== null ? [...planted.events] : corruptRead(g.events, seed, seed % 6);
      const model = cas > 0 ? casRegister : register;
      const ops = pairOperations(h);
      const { kept } = pruneRegisterOps(ops);
      const witness = findReadWithoutSource(kept);
      if (witness === null) {
        notFired++;
        continue;
      }
      fired++;
      expect({ seed, whole: searchLinearization(model, ops).valid }).toEqual({ seed, whole: false });
      const keep = new Set(witness);
      expect({ seed, witness: searchLinearization(model, ops.filter((op) => keep.has(op.id))).valid }).toEqual({ seed, witness: false });
    }
    // Both branches are exercised.
    expect(fired).toBeGreaterThan(20);
    expect(notFired).toBeGreaterThan(20);
  });
});
