// The lock table as stories: compatibility of each pair of lock kinds, wound-wait outcomes,
// grant order, bounded waits, snapshots; then a property over random request sequences.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LockTable, conflicts, covers, type AcquireResult } from '../../core/lock/lockTable.js';
import { point, type ValueRange } from '../../core/lock/range.js';
import { comparePriority, isOlder, txnId, type LockRequest, type Priority, type TxnId } from '../../core/lock/types.js';
import { timestamp } from '../../core/storage/types.js';

const cmp = (a: number, b: number): number => a - b;
const T = (name: string, ts: number): Priority => ({ ts: timestamp(ts), id: txnId(name) });
const old = T('old', 100);
const mid = T('mid', 200);
const young = T('young', 300);
const youngest = T('youngest', 400);

const tokenS = (record: string, key: string): LockRequest<number> => ({ target: { kind: 'token', record, key }, mode: 'shared' });
const tokenX = (record: string, key: string): LockRequest<number> => ({ target: { kind: 'token', record, key }, mode: 'exclusive' });
const recordS = (record: string): LockRequest<number> => ({ target: { kind: 'record', record }, mode: 'shared' });
const rangeS = (key: string, range: ValueRange<number>): LockRequest<number> => ({ target: { kind: 'range', key, range }, mode: 'shared' });
const pointX = (key: string, v: number): LockRequest<number> => ({ target: { kind: 'range', key, range: point(v) }, mode: 'exclusive' });
const above = (v: number): ValueRange<number> => ({ lo: { value: v, inclusive: false } });

const anyone = (): boolean => true;
const nobody = (): boolean => false;

function acq(table: LockTable<number>, who: Priority, req: LockRequest<number>, nowMs = 0, canWound = anyone): AcquireResult {
  return table.acquire(who.id, who, req, nowMs, canWound);
}

describe('lock compatibility', () => {
  it('shared token locks coexist; shared and exclusive on one token conflict', () => {
    const t = new LockTable(cmp);
    expect(acq(t, old, tokenS('1', 'name'))).toEqual({ outcome: 'granted' });
    expect(acq(t, young, tokenS('1', 'name'))).toEqual({ outcome: 'granted' });
    const w = acq(t, mid, tokenX('1', 'name'));
    // mid is blocked by old (older: wait) and by young (younger: wound).
    expect(w).toEqual({ outcome: 'waiting', blockers: [old.id, young.id], wound: [young.id] });
  });

  it('locks on other keys or other records never conflict', () => {
    const t = new LockTable(cmp);
    expect(acq(t, old, tokenX('1', 'name'))).toEqual({ outcome: 'granted' });
    expect(acq(t, young, tokenX('1', 'age'))).toEqual({ outcome: 'granted' });
    expect(acq(t, mid, tokenX('2', 'name'))).toEqual({ outcome: 'granted' });
    expect(acq(t, youngest, recordS('3'))).toEqual({ outcome: 'granted' });
  });

  it('a shared range conflicts with an exclusive point inside it, not with one outside', () => {
    const t = new LockTable(cmp);
    expect(acq(t, old, rangeS('age', above(10)))).toEqual({ outcome: 'granted' });
    expect(acq(t, young, pointX('age', 10))).toEqual({ outcome: 'granted' }); // 10 is not > 10
    expect(acq(t, youngest, pointX('other', 11))).toEqual({ outcome: 'granted' });
    expect(acq(t, mid, pointX('age', 11))).toEqual({ outcome: 'waiting', blockers: [old.id], wound: [] });
  });

  it('a writer holding a point blocks a younger reader whose range covers it; an older reader wounds it', () => {
    const t = new LockTable(cmp);
    expect(acq(t, mid, pointX('age', 50))).toEqual({ outcome: 'granted' });
    expect(acq(t, young, rangeS('age', { lo: { value: 40, inclusive: true }, hi: { value: 60, inclusive: false } }))).toEqual({
      outcome: 'waiting',
      blockers: [mid.id],
      wound: [],
    });
    expect(acq(t, old, rangeS('age', above(0)))).toEqual({ outcome: 'waiting', blockers: [mid.id], wound: [mid.id] });
  });

  it('ranges with ranges and points with points are compatible', () => {
    const t = new LockTable(cmp);
    expect(acq(t, old, rangeS('age', above(0)))).toEqual({ outcome: 'granted' });
    expect(acq(t, young, rangeS('age', above(5)))).toEqual({ outcome: 'granted' });
    const u = new LockTable(cmp);
    expect(acq(u, old, pointX('age', 7))).toEqual({ outcome: 'granted' });
    expect(acq(u, young, pointX('age', 7))).toEqual({ outcome: 'granted' });
  });

  it('a shared record lock conflicts with a write to any key of that record, not with reads', () => {
    const t = new LockTable(cmp);
    expect(acq(t, old, recordS('9'))).toEqual({ outcome: 'granted' });
    expect(acq(t, young, tokenS('9', 'name'))).toEqual({ outcome: 'granted' });
    // young's read of another key does not stand in the way; old's whole-record read does.
    expect(acq(t, mid, tokenX('9', 'brand-new-key'))).toEqual({ outcome: 'waiting', blockers: [old.id], wound: [] });
    expect(acq(t, youngest, tokenX('9', 'name'))).toEqual({ outcome: 'waiting', blockers: [old.id, young.id], wound: [] });
    expect(acq(t, T('other', 500), tokenX('8', 'name'))).toEqual({ outcome: 'granted' });
  });

  it('the conflict and cover relations are what the matrix in docs/locking.md says', () => {
    expect(conflicts(tokenS('1', 'a'), tokenS('1', 'a'), cmp)).toBe(false);
    expect(conflicts(tokenS('1', 'a'), tokenX('1', 'a'), cmp)).toBe(true);
    expect(conflicts(tokenX('1', 'a'), tokenX('1', 'a'), cmp)).toBe(true);
    expect(conflicts(recordS('1'), tokenX('1', 'a'), cmp)).toBe(true);
    expect(conflicts(recordS('1'), recordS('1'), cmp)).toBe(false);
    expect(conflicts(rangeS('a', above(1)), pointX('a', 2), cmp)).toBe(true);
    expect(conflicts(rangeS('a', above(1)), tokenX('1', 'a'), cmp)).toBe(false);
    // A transaction's own locks: an exclusive token covers a shared one, a record lock its tokens.
    expect(covers(tokenX('1', 'a'), tokenS('1', 'a'), cmp)).toBe(true);
    expect(covers(tokenS('1', 'a'), tokenX('1', 'a'), cmp)).toBe(false);
    expect(covers(recordS('1'), tokenS('1', 'a'), cmp)).toBe(true);
    expect(covers(rangeS('a', above(1)), rangeS('a', above(2)), cmp)).toBe(true);
    expect(covers(rangeS('a', above(2)), rangeS('a', above(1)), cmp)).toBe(false);
    expect(covers(pointX('a', 5), rangeS('a', point(5)), cmp)).toBe(false);
  });

  it('a transaction re-asking for a lock it covers is granted without a new entry', () => {
    const t = new LockTable(cmp);
    acq(t, old, tokenX('1', 'a'));
    expect(acq(t, old, tokenS('1', 'a'))).toEqual({ outcome: 'granted' });
    expect(t.heldCount()).toBe(1);
  });

  it('an upgrade from shared to exclusive waits only for other holders', () => {
    const t = new LockTable(cmp);
    acq(t, old, tokenS('1', 'a'));
    expect(acq(t, old, tokenX('1', 'a'))).toEqual({ outcome: 'granted' });
    acq(t, young, tokenS('2', 'a'));
    acq(t, mid, tokenS('2', 'a'));
    // Two readers both upgrading: the older wounds the younger, never a deadlock.
    expect(acq(t, mid, tokenX('2', 'a'))).toEqual({ outcome: 'waiting', blockers: [young.id], wound: [young.id] });
    expect(t.releaseAll(young.id)).toEqual([{ txn: mid.id, ...tokenX('2', 'a') }]);
  });
});

describe('wound-wait and grant order', () => {
  it('an older requester wounds a younger holder; a younger requester waits for an older one', () => {
    const t = new LockTable(cmp);
    acq(t, young, tokenX('1', 'a'));
    expect(acq(t, old, tokenX('1', 'a'))).toEqual({ outcome: 'waiting', blockers: [young.id], wound: [young.id] });
    // The manager aborts the victim; its release grants the wounder.
    expect(t.releaseAll(young.id)).toEqual([{ txn: old.id, ...tokenX('1', 'a') }]);
    expect(acq(t, youngest, tokenS('1', 'a'))).toEqual({ outcome: 'waiting', blockers: [old.id], wound: [] });
  });

  it('a holder that may not be wounded (prepared) makes even an older requester wait', () => {
    const t = new LockTable(cmp);
    acq(t, young, tokenX('1', 'a'));
    expect(acq(t, old, tokenX('1', 'a'), 0, nobody)).toEqual({ outcome: 'waiting', blockers: [young.id], wound: [] });
  });

  it('waiters are granted first come first served among equals, shared requests together', () => {
    const t = new LockTable(cmp);
    const a = T('a', 10);
    const b = T('b', 20);
    const c = T('c', 30);
    const d = T('d', 40);
    acq(t, a, tokenX('1', 'k'));
    expect(acq(t, b, tokenS('1', 'k')).outcome).toBe('waiting');
    expect(acq(t, c, tokenS('1', 'k')).outcome).toBe('waiting');
    expect(acq(t, d, tokenX('1', 'k')).outcome).toBe('waiting');
    expect(t.waiting().map((w) => w.txn)).toEqual([b.id, c.id, d.id]);
    // a goes: both readers are granted at once, in queue order; the writer keeps waiting.
    expect(t.releaseAll(a.id).map((g) => g.txn)).toEqual([b.id, c.id]);
    expect(t.releaseAll(b.id)).toEqual([]);
    expect(t.releaseAll(c.id).map((g) => g.txn)).toEqual([d.id]);
  });

  it('a younger reader does not barge past an older waiting writer (no writer starvation)', () => {
    const t = new LockTable(cmp);
    acq(t, old, tokenS('1', 'k'));
    expect(acq(t, mid, tokenX('1', 'k'))).toEqual({ outcome: 'waiting', blockers: [old.id], wound: [] });
    expect(acq(t, young, tokenS('1', 'k'))).toEqual({ outcome: 'waiting', blockers: [mid.id], wound: [] });
    expect(t.releaseAll(old.id).map((g) => g.txn)).toEqual([mid.id]);
    expect(t.releaseAll(mid.id).map((g) => g.txn)).toEqual([young.id]);
  });

  it('a grant never jumps an older conflicting waiter, even when the younger one could share with the holders', () => {
    const t = new LockTable(cmp);
    const other = T('other', 50);
    acq(t, old, tokenS('1', 'k'));
    acq(t, other, tokenX('2', 'z'));
    expect(acq(t, mid, tokenX('1', 'k')).outcome).toBe('waiting');
    expect(acq(t, young, tokenS('1', 'k')).outcome).toBe('waiting');
    // An unrelated release runs the grant scan: young still may not pass mid.
    expect(t.releaseAll(other.id)).toEqual([]);
    expect(t.waiting().map((w) => w.txn)).toEqual([mid.id, young.id]);
  });

  it('an older transaction that must wait is queued ahead of younger waiters', () => {
    const t = new LockTable(cmp);
    acq(t, old, tokenX('1', 'k'));
    acq(t, youngest, tokenX('1', 'k'));
    acq(t, mid, tokenX('1', 'k'));
    expect(t.waiting().map((w) => w.txn)).toEqual([mid.id, youngest.id]);
    expect(t.releaseAll(old.id).map((g) => g.txn)).toEqual([mid.id]);
  });

  it('releasing a waiter unblocks the younger ones queued behind it', () => {
    const t = new LockTable(cmp);
    acq(t, old, tokenS('1', 'k'));
    acq(t, mid, tokenX('1', 'k'));
    expect(acq(t, young, tokenS('1', 'k')).outcome).toBe('waiting');
    // mid gives up (timed out or aborted): young can share with old now.
    expect(t.releaseAll(mid.id).map((g) => g.txn)).toEqual([young.id]);
  });

  it('reports waits longer than the bound, oldest first', () => {
    const t = new LockTable(cmp);
    acq(t, old, tokenX('1', 'k'), 0);
    acq(t, young, tokenX('1', 'k'), 1_000);
    acq(t, mid, tokenX('1', 'k'), 3_000);
    expect(t.expired(5_000, 4_000)).toEqual([]); // exactly at the bound is still allowed
    expect(t.expired(5_001, 4_000)).toEqual([young.id]);
    expect(t.expired(7_001, 4_000)).toEqual([mid.id, young.id]);
    expect(t.expired(3_000, 4_000)).toEqual([]);
  });

  it('an image restores an identical table', () => {
    const t = new LockTable(cmp);
    acq(t, old, rangeS('age', above(3)));
    acq(t, mid, tokenX('1', 'k'));
    acq(t, young, pointX('age', 5), 70);
    acq(t, youngest, tokenS('1', 'k'), 80);
    const image = JSON.parse(JSON.stringify(t.image())) as ReturnType<typeof t.image>;
    const u = LockTable.fromImage(image, cmp);
    expect(u.image()).toEqual(t.image());
    expect(u.releaseAll(old.id)).toEqual(t.releaseAll(old.id));
    expect(u.releaseAll(mid.id)).toEqual(t.releaseAll(mid.id));
    expect(u.image()).toEqual(t.image());
  });
});

describe('lock table invariants under random requests', () => {
  const names = ['t0', 't1', 't2', 't3', 't4', 't5'];
  const reqArb: fc.Arbitrary<LockRequest<number>> = fc.oneof(
    fc.record({ r: fc.constantFrom('1', '2'), k: fc.constantFrom('a', 'b'), x: fc.boolean() }).map(({ r, k, x }) => (x ? tokenX(r, k) : tokenS(r, k))),
    fc.constantFrom('1', '2').map(recordS),
    fc.integer({ min: 0, max: 6 }).map((v) => pointX('a', v)),
    fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })).map(([x, y]) =>
      rangeS('a', { lo: { value: Math.min(x, y), inclusive: true }, hi: { value: Math.max(x, y), inclusive: x !== y } }),
    ),
  );
  const stepArb = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('acquire' as const), who: fc.integer({ min: 0, max: 5 }), req: reqArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), who: fc.integer({ min: 0, max: 5 }) }) },
  );

  it('no two transactions hold conflicting locks, and every wait is for an older transaction', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
        const t = new LockTable(cmp);
        const prio = (i: number): Priority => T(names[i]!, 100 + i);
        for (const s of steps) {
          const p = prio(s.who);
          if (s.kind === 'release') t.releaseAll(p.id);
          else if (t.waitingOf(p.id) === undefined) {
            const r = t.acquire(p.id, p, s.req, 0, anyone);
            if (r.outcome === 'waiting') {
              for (const b of r.blockers) {
                const bp = prio(names.indexOf(b));
                // Blockers older than the requester are waited for; younger ones are wounded.
                if (!isOlder(bp, p)) expect(r.wound).toContain(b);
              }
              for (const v of r.wound) t.releaseAll(v as TxnId);
            }
          }
          const held = t.image().held;
          for (const a of held) for (const b of held) if (a.txn !== b.txn) expect(conflicts(a, b, cmp)).toBe(false);
          const q = t.waiting();
          for (let i = 1; i < q.length; i++) expect(comparePriority(q[i - 1]!.priority, q[i]!.priority)).toBeLessThan(0);
          for (const w of q) {
            // With every holder woundable, nothing younger may hold a lock an older waiter wants:
            // it was wounded when the waiter asked, and no grant may jump the queue since.
            for (const h of held) if (h.txn !== w.txn && conflicts(h, w, cmp)) expect(isOlder(h.priority, w.priority)).toBe(true);
            // Still waiting means really blocked.
            const blockers = t.conflictingHolders(w.txn, w);
            const olderWaiter = q.some((o) => o !== w && isOlder(o.priority, w.priority) && conflicts(o, w, cmp));
            expect(blockers.length > 0 || olderWaiter).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
