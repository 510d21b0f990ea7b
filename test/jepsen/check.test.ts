// Known answers for the checker: small histories whose verdicts are clear by hand.
import { describe, expect, it } from 'vitest';
import { repeatedCase } from '../../jepsen/generate/repeated.js';
import { checkHistory, checkHistoryParallel } from '../../jepsen/check.js';
import { parseEdn } from '../../jepsen/history.js';
import { HistoryError } from '../../jepsen/history.js';
import { events } from './checker-helpers.js';

describe('checkHistory: registers', () => {
  it('accepts concurrent writes followed by reads of either (but one) value', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [1, 'invoke', 'write', 2],
      [0, 'ok', 'write', 1],
      [1, 'ok', 'write', 2],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 1],
      [3, 'invoke', 'read'],
      [3, 'ok', 'read', 1],
    );
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(true);
    expect(r.partitions[0]?.linearized).toEqual([1, 0, 2, 3]);
  });

  it('rejects reads that flip between the two concurrent writes afterwards', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [1, 'invoke', 'write', 2],
      [0, 'ok', 'write', 1],
      [1, 'ok', 'write', 2],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 1],
      [3, 'invoke', 'read'],
      [3, 'ok', 'read', 2],
    );
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.counterexample).toEqual([0, 1, 2, 3]);
  });

  it('accepts a read of a value whose write is still open', () => {
    const h = events([0, 'invoke', 'write', 7], [1, 'invoke', 'read'], [1, 'ok', 'read', 7]);
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('rejects a read that returned before the write of its value was called', () => {
    const h = events([1, 'invoke', 'read'], [1, 'ok', 'read', 7], [0, 'invoke', 'write', 7], [0, 'ok', 'write', 7]);
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.counterexample).toEqual([0, 1]);
  });

  it('accepts an info write observed much later', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'write', 2],
      [1, 'info', 'write', 2],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 1],
      [3, 'invoke', 'write', 3],
      [3, 'ok', 'write', 3],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 3],
      [4, 'invoke', 'read'],
      [4, 'ok', 'read', 2],
    );
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('treats a never-completed write like info: it may never happen', () => {
    const h = events([0, 'invoke', 'write', 1], [1, 'invoke', 'read'], [1, 'ok', 'read', null], [1, 'invoke', 'read'], [1, 'ok', 'read', null]);
    expect(checkHistory(h, 'register').valid).toBe(true);
  });

  it('ignores failed operations entirely', () => {
    const h = events([0, 'invoke', 'write', 1], [0, 'fail', 'write', 1], [1, 'invoke', 'read'], [1, 'ok', 'read', 1]);
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(false);
    expect(r.explanation).toMatch(/saw 1/);
  });

  it('rejects a stale read after a completed overwrite, with the three operations as counterexample', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [5, 'invoke', 'read'],
      [5, 'ok', 'read', 1],
      [1, 'invoke', 'write', 2],
      [1, 'ok', 'write', 2],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 2],
      [3, 'invoke', 'read'],
      [3, 'ok', 'read', 1],
    );
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(false);
    const p = r.partitions[0];
    expect(p?.counterexample).toEqual([0, 2, 4]);
    expect(p?.counterexampleMinimal).toBe(true);
    expect(r.explanation).toMatch(/wrote 1/);
    expect(r.explanation).toMatch(/read and saw 1/);
    expect(r.explanation).toMatch(/#2 returned before #3 was called/);
  });

  it('follows a cas chain, and rejects a cas whose expected value cannot be current', () => {
    const ok = events(
      [0, 'invoke', 'write', 0],
      [0, 'ok', 'write', 0],
      [1, 'invoke', 'cas', [0, 1]],
      [1, 'ok', 'cas', [0, 1]],
      [2, 'invoke', 'cas', [1, 2]],
      [3, 'invoke', 'cas', [2, 3]],
      [3, 'ok', 'cas', [2, 3]],
      [2, 'ok', 'cas', [1, 2]],
      [4, 'invoke', 'read'],
      [4, 'ok', 'read', 3],
    );
    expect(checkHistory(ok, 'cas-register').valid).toBe(true);
    const bad = events(
      [0, 'invoke', 'write', 0],
      [0, 'ok', 'write', 0],
      [1, 'invoke', 'cas', [0, 1]],
      [1, 'ok', 'cas', [0, 1]],
      [2, 'invoke', 'cas', [0, 2]],
      [2, 'ok', 'cas', [0, 2]],
    );
    const r = checkHistory(bad, 'cas-register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.counterexample).toEqual([0, 1, 2]);
  });

  it('lets an info cas take effect or not', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'cas', [1, 2]],
      [1, 'info', 'cas', [1, 2]],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 1],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', 2],
    );
    expect(checkHistory(h, 'cas-register').valid).toBe(true);
  });

  it('handles deletes: absent after delete, and reads of absent before any write', () => {
    const ok = events(
      [0, 'invoke', 'read'],
      [0, 'ok', 'read', null],
      [0, 'invoke', 'write', 5],
      [0, 'ok', 'write', 5],
      [1, 'invoke', 'delete'],
      [1, 'ok', 'delete'],
      [2, 'invoke', 'read'],
      [2, 'ok', 'read', null],
    );
    expect(checkHistory(ok, 'register').valid).toBe(true);
    const bad = events([0, 'invoke', 'write', 5], [0, 'ok', 'write', 5], [1, 'invoke', 'delete'], [1, 'ok', 'delete'], [2, 'invoke', 'read'], [2, 'ok', 'read', 5]);
    expect(checkHistory(bad, 'register').valid).toBe(false);
  });

  it('finds a certain stale read without searching, when deletes rule out the fast path', () => {
    const h = events(
      [0, 'invoke', 'write', 1],
      [0, 'ok', 'write', 1],
      [1, 'invoke', 'delete'],
      [1, 'ok', 'delete'],
      [2, 'invoke', 'write', 2],
      [2, 'ok', 'write', 2],
      [3, 'invoke', 'read'],
      [3, 'ok', 'read', 1],
    );
    const r = checkHistory(h, 'register');
    expect(r.valid).toBe(false);
    expect(r.partitions[0]?.method).toBe('stale-read');
    expect(r.partitions[0]?.counterexample).toEqual([0, 1, 3]);
  });

  it('compares structured values by content, not key order', () => {
    const h = events([0, 'invoke', 'write', { a: 1, b: [2] }], [0, 'ok', 'write', { a: 1, b: [2] }], [1, 'invoke', 'read'], [1, 'ok', 'read', { b: [2], a: 1 }]);
    expect(checkHistory(h, 'register').valid).toBe(true);
  });
});

describe('checkHistory: kv', () => {
  const h = events(
    [0, 'invoke', 'write', 1, 'x'],
    [1, 'invoke', 'write', 1, 'y'],
    [0, 'ok', 'write', 1, 'x'],
    [1, 'ok', 'write', 1, 'y'],
    [0, 'invoke', 'write', 2, 'y'],
    [0, 'ok', 'write', 2, 'y'],
    [2, 'invoke', 'read', null, 'x'],
    [2, 'ok', 'read', 1, 'x'],
    [3, 'invoke', 'read', null, 'y'],
    [3, 'ok', 'read', 1, 'y'],
  );

  it('checks key by key and names the key of a violation', () => {
    const r = checkHistory(h, 'kv');
    expect(r.valid).toBe(false);
    expect(r.partitions.map((p) => [p.key, p.valid])).toEqual([
      ['x', true],
      ['y', false],
    ]);
    expect(r.partitions[1]?.counterexample).toEqual([1, 2, 4]);
    expect(r.explanation).toMatch(/on key "y"/);
  });

  it('gives the same verdict in parallel (in-thread under vitest)', async () => {
    const r = await checkHistoryParallel(h, 'kv', { jobs: 2 });
    expect(r.valid).toBe(false);
    expect(r.partitions.map((p) => p.valid)).toEqual([true, false]);
  });

  it('refuses keys on a single-register model, and unknown functions', () => {
    expect(() => checkHistory(h, 'register')).toThrow(HistoryError);
    expect(() => checkHistory(events([0, 'invoke', 'cas', [1, 2]], [0, 'ok', 'cas', [1, 2]]), 'register')).toThrow(/no operation 'cas'/);
    expect(() => checkHistory(events([0, 'invoke', 'cas', 5], [0, 'ok', 'cas', 5]), 'cas-register')).toThrow(/\[expected, new\]/);
  });
});

describe('checkHistory: limits', () => {
  it('answers unknown, never a wrong verdict, when out of steps', () => {
    // A hot register with values 0..4, 16 processes and 30% info writes (issue 12's family):
    // no rule decides it, the search needs far more than 50 steps. (Hand-made hard cases of
    // concurrent info cas are now refuted at once by the sharper pigeonhole rule.)
    const c = repeatedCase({ seed: 7, ops: 2000, processes: 16, infoRate: 0.3, variant: 'linearizable' });
    const bounded = checkHistory(c.history.events, c.model, { maxSteps: 50 });
    expect(bounded.valid).toBe('unknown');
    expect(bounded.explanation).toMatch(/unknown/);
    expect(checkHistory(c.history.events, c.model).valid).toBe(true);
  });
});

describe('checkHistory on EDN', () => {
  it('checks an independent (multi-key) Jepsen history with the kv model', () => {
    const h = parseEdn(`{:process 0, :type :invoke, :f :write, :value [:a 1]}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 0, :type :ok, :f :write, :value [:a 1]}
{:process 1, :type :invoke, :f :read, :value [:b nil]}
{:process 1, :type :ok, :f :read, :value [:b nil]}
{:process 1, :type :invoke, :f :read, :value [:a nil]}
{:process 1, :type :ok, :f :read, :value [:a nil]}`);
    const r = checkHistory(h, 'kv');
    expect(r.valid).toBe(false);
    expect(r.partitions.map((p) => p.key)).toEqual(['a', 'b']);
  });
});
