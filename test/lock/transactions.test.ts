// Transactions as stories told in log commands: isolation of intents, blocking and wake-up,
// wound-wait, bounded waits, phantoms, one-shot atomics, prepare, and bad requests.
import { describe, expect, it } from 'vitest';
import { integer, str, where, type RecordId } from '../../core/storage/records/index.js';
import { txnId } from '../../core/lock/types.js';
import { timestampFromMs, type Timestamp } from '../../core/storage/types.js';
import { TransactionManager } from '../../core/lock/transactions.js';
import { RecordTxnStore } from '../../core/lock/recordStore.js';
import { Bench, type Out } from './bench.js';

const A = 1n;
const B = 2n;
const T1 = txnId('t1');
const T2 = txnId('t2');
const T3 = txnId('t3');

function values(out: Out): unknown {
  expect(out.reply.type).toBe('done');
  return out.reply.type === 'done' ? out.reply.results : undefined;
}

const get = (record: RecordId, key = 'balance') => ({ type: 'get' as const, record, key });
const set = (record: RecordId, v: number, key = 'balance') => ({ type: 'set' as const, record, key, value: integer(v) });
const add = (record: RecordId, key: string, v: number) => ({ type: 'add' as const, record, key, value: integer(v) });

describe('a transaction', () => {
  it('reads its own staged writes, hides them from others, and commits them as one batch in the commit entry', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100], [B, 50]]);
    expect(b.run({ type: 'begin', txn: T1 }).reply).toMatchObject({ type: 'begun', txn: T1 });
    expect(values(b.run({ type: 'ops', txn: T1, ops: [set(A, 70), set(B, 80), get(A), get(B)] }))).toEqual([
      { type: 'changed', changed: true },
      { type: 'changed', changed: true },
      { type: 'values', values: [integer(70)] },
      { type: 'values', values: [integer(80)] },
    ]);
    // Nothing reached the store yet.
    expect(b.records.select('balance', A)).toEqual([integer(100)]);
    const versionBefore = b.records.version();
    const commit = b.run({ type: 'commit', txn: T1 }, 5);
    expect(commit.reply).toMatchObject({ type: 'committed', txn: T1 });
    expect(b.records.select('balance', A)).toEqual([integer(70)]);
    expect(b.records.select('balance', B)).toEqual([integer(80)]);
    // Four revisions (two removes, two adds), all stamped with the commit entry's timestamp.
    expect(b.records.version()).toBe(versionBefore + 4);
    const ts = commit.reply.type === 'committed' ? commit.reply.commitTs : -1;
    expect(b.records.audit(A).filter((r) => r.timestamp === ts)).toHaveLength(2);
    expect(b.mgr.lockTable().heldCount()).toBe(0);
    expect(b.mgr.outcome(T1)).toMatchObject({ outcome: 'committed' });
  });

  it('abort drops its intents and frees its locks', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'ops', txn: T1, ops: [set(A, 1)] });
    expect(b.run({ type: 'abort', txn: T1 }).reply).toEqual({ type: 'aborted', txn: T1 });
    expect(b.records.select('balance', A)).toEqual([integer(100)]);
    expect(b.mgr.lockTable().heldCount()).toBe(0);
    // Aborting again is harmless; using it is a retryable conflict naming the reason.
    expect(b.run({ type: 'abort', txn: T1 }).reply).toEqual({ type: 'aborted', txn: T1 });
    expect(b.run({ type: 'ops', txn: T1, ops: [get(A)] }).reply).toMatchObject({ type: 'error', error: { code: 'txn-conflict', retryable: true } });
  });

  it('a younger reader waits for an older writer and wakes with the committed value', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    values(b.run({ type: 'ops', txn: T1, ops: [set(A, 60)] }));
    expect(b.run({ type: 'ops', txn: T2, ops: [get(A)] }).reply).toEqual({ type: 'waiting', txn: T2, blockers: [T1] });
    expect(b.run({ type: 'ops', txn: T2, ops: [get(A)] }).reply).toMatchObject({ type: 'error', error: { code: 'txn-busy' } });
    expect(b.run({ type: 'commit', txn: T2 }).reply).toMatchObject({ type: 'error', error: { code: 'txn-busy' } });
    // T1's set holds the token and two points (the removed 100, the added 60); T2 waits.
    expect(b.mgr.stats()).toEqual({ open: 2, prepared: 0, waiting: 1, locksHeld: 3, intents: 2, remembered: 0 });
    const commit = b.run({ type: 'commit', txn: T1 });
    expect(commit.reply.type).toBe('committed');
    expect(commit.events).toEqual([{ type: 'completed', txn: T2, results: [{ type: 'values', values: [integer(60)] }] }]);
    expect(b.mgr.stats()).toEqual({ open: 1, prepared: 0, waiting: 0, locksHeld: 1, intents: 0, remembered: 1 });
  });

  it('an older transaction wounds a younger holder, which learns it with a retryable txn-conflict', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    values(b.run({ type: 'ops', txn: T2, ops: [set(A, 5)] }));
    const out = b.run({ type: 'ops', txn: T1, ops: [get(A)] });
    // The wound frees the lock within the same command: T1 reads the committed 100 at once.
    expect(out.reply).toEqual({ type: 'done', txn: T1, results: [{ type: 'values', values: [integer(100)] }] });
    expect(out.events).toEqual([
      {
        type: 'aborted',
        txn: T2,
        error: expect.objectContaining({ code: 'txn-conflict', retryable: true, reason: { kind: 'wounded', by: T1 } }),
      },
    ]);
    const late = b.run({ type: 'commit', txn: T2 }).reply;
    expect(late).toMatchObject({ type: 'error', error: { code: 'txn-conflict', retryable: true } });
    expect(late.type === 'error' ? late.error.message : '').toMatch(/wounded by older transaction t1/);
  });

  it('a retried transaction keeps its first timestamp and so its seniority', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100]]);
    const first = b.run({ type: 'begin', txn: T1 }).reply;
    if (first.type !== 'begun') throw new Error('begin failed');
    const ts = first.priority;
    b.run({ type: 'begin', txn: T2 });
    b.run({ type: 'abort', txn: T1 });
    values(b.run({ type: 'ops', txn: T2, ops: [set(A, 1)] }));
    // T1 again as t1-retry with its old timestamp: still older than T2, so it wounds T2.
    const retry = txnId('t1-retry');
    expect(b.run({ type: 'begin', txn: retry, priority: ts }).reply).toEqual({ type: 'begun', txn: retry, priority: ts });
    expect(b.run({ type: 'ops', txn: retry, ops: [get(A)] }).events.map((e) => [e.type, e.txn])).toEqual([['aborted', T2]]);
    // A priority must be a timestamp; one ahead of this log's clock is fine (2PC: a lagging partition).
    expect(b.run({ type: 'begin', txn: T3, priority: -5 as Timestamp }).reply).toMatchObject({ error: { code: 'bad-request' } });
    expect(b.run({ type: 'begin', txn: T3, priority: timestampFromMs(b.nowMs + 10) }).reply).toMatchObject({ type: 'begun' });
  });

  it('a wait longer than the bound aborts the waiter; an idle holder is aborted too', () => {
    const b = new Bench({ maxWaitMs: 100, idleTimeoutMs: 1_000 });
    b.seed('balance', [[A, 100]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    values(b.run({ type: 'ops', txn: T1, ops: [set(A, 1)] }));
    expect(b.run({ type: 'ops', txn: T2, ops: [get(A)] }).reply.type).toBe('waiting');
    expect(b.run({ type: 'tick' }, 100).events).toEqual([]);
    const out = b.run({ type: 'tick' }, 1);
    expect(out.events).toEqual([
      { type: 'aborted', txn: T2, error: expect.objectContaining({ code: 'txn-conflict', reason: { kind: 'wait-timeout', waitedMs: 101 } }) },
    ]);
    // T1 holds its lock and says nothing for longer than the idle bound.
    const idle = b.run({ type: 'tick' }, 1_000);
    expect(idle.events.map((e) => (e.type === 'aborted' ? e.error : undefined))).toEqual([
      expect.objectContaining({ code: 'txn-conflict', reason: { kind: 'idle-timeout', idleMs: 1_102 } }),
    ]);
    expect(b.mgr.lockTable().heldCount()).toBe(0);
    expect(b.records.select('balance', A)).toEqual([integer(100)]);
  });

  it('an atomic command is a one-shot transaction: it waits like one and commits itself', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100], [B, 0]]);
    const now = b.run({ type: 'atomic', txn: T3, ops: [set(A, 90), set(B, 10)] });
    expect(now.reply).toMatchObject({ type: 'committed', txn: T3 });
    b.run({ type: 'begin', txn: T1 });
    values(b.run({ type: 'ops', txn: T1, ops: [get(B)] }));
    const parked = b.run({ type: 'atomic', txn: T2, ops: [get(A), set(B, 20)] });
    expect(parked.reply).toEqual({ type: 'waiting', txn: T2, blockers: [T1] });
    expect(b.records.select('balance', B)).toEqual([integer(10)]);
    const done = b.run({ type: 'commit', txn: T1 });
    expect(done.events).toEqual([
      expect.objectContaining({ type: 'committed', txn: T2, results: [{ type: 'values', values: [integer(90)] }, { type: 'changed', changed: true }] }),
    ]);
    expect(b.records.select('balance', B)).toEqual([integer(20)]);
  });

  it('a prepared transaction is never wounded: the older requester waits for the decision', () => {
    const b = new Bench({ maxWaitMs: 10_000 });
    b.seed('balance', [[A, 100]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    values(b.run({ type: 'ops', txn: T2, ops: [set(A, 7)] }));
    expect(b.run({ type: 'prepare', txn: T2 }).reply).toEqual({ type: 'prepared', txn: T2 });
    expect(b.run({ type: 'ops', txn: T2, ops: [get(A)] }).reply).toMatchObject({ error: { code: 'txn-not-active' } });
    const w = b.run({ type: 'ops', txn: T1, ops: [get(A)] });
    expect(w).toEqual({ reply: { type: 'waiting', txn: T1, blockers: [T2] }, events: [], applied: [] });
    // Nor does a prepared transaction time out while its coordinator decides.
    expect(b.run({ type: 'tick' }, 5_000).events).toEqual([]);
    const c = b.run({ type: 'commit', txn: T2 });
    expect(c.events).toEqual([{ type: 'completed', txn: T1, results: [{ type: 'values', values: [integer(7)] }] }]);
    // The decision may be delivered twice (a coordinator retrying): the answer is the same.
    expect(b.run({ type: 'commit', txn: T2 }).reply).toMatchObject({ type: 'committed', txn: T2 });
  });

  it('a whole-record read blocks a write to a new key of that record', () => {
    const b = new Bench();
    b.seed('balance', [[A, 1]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    expect(values(b.run({ type: 'ops', txn: T1, ops: [{ type: 'select', record: A }] }))).toEqual([
      { type: 'record', keys: [['balance', [integer(1)]]] },
    ]);
    expect(b.run({ type: 'ops', txn: T2, ops: [add(A, 'owner', 3)] }).reply.type).toBe('waiting');
    expect(values(b.run({ type: 'ops', txn: T1, ops: [{ type: 'select', record: A }] }))).toEqual([
      { type: 'record', keys: [['balance', [integer(1)]]] },
    ]);
    expect(b.run({ type: 'commit', txn: T1 }).events.map((e) => e.type)).toEqual(['completed']);
  });

  it('a commit the store refuses (time going backwards) changes nothing and crashes loudly', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100]]);
    b.run({ type: 'begin', txn: T1 });
    values(b.run({ type: 'ops', txn: T1, ops: [set(A, 1)] }));
    const stale = b.next();
    b.seed('other', [[B, 1]]); // a later entry reaches the store first
    expect(() => b.mgr.apply({ type: 'commit', txn: T1 }, stale)).toThrow(/before the last applied timestamp/);
    expect(b.mgr.get(T1)?.intents).toHaveLength(2);
    expect(b.mgr.lockTable().locksOf(T1).length).toBeGreaterThan(0);
    expect(b.run({ type: 'commit', txn: T1 }).reply.type).toBe('committed');
    expect(b.records.select('balance', A)).toEqual([integer(1)]);
  });

  it('finished transactions are remembered up to a bound, then forgotten oldest first', () => {
    const b = new Bench({ finishedRetain: 2 });
    for (const id of ['a', 'b', 'c']) b.run({ type: 'atomic', txn: txnId(id), ops: [get(A)] });
    expect(b.run({ type: 'commit', txn: txnId('c') }).reply.type).toBe('committed');
    expect(b.run({ type: 'commit', txn: txnId('a') }).reply).toMatchObject({ error: { code: 'txn-unknown' } });
  });

  it('a manager resumes the state its port holds, and refuses to start blank over it', () => {
    const b = new Bench();
    b.seed('balance', [[A, 100]]);
    b.run({ type: 'begin', txn: T1 });
    values(b.run({ type: 'ops', txn: T1, ops: [set(A, 5)] }));
    const again = TransactionManager.fromPort(new RecordTxnStore(b.records), b.kv);
    expect(again.image()).toEqual(b.mgr.image());
    expect(() => new TransactionManager(new RecordTxnStore(b.records), {}, { port: b.kv })).toThrow(/fromPort/);
  });

  it('bad requests are refused with clear, non-retryable errors', () => {
    const b = new Bench();
    expect(b.run({ type: 'ops', txn: T1, ops: [get(A)] }).reply).toMatchObject({ error: { code: 'txn-unknown', retryable: false } });
    b.run({ type: 'begin', txn: T1 });
    expect(b.run({ type: 'begin', txn: T1 }).reply).toMatchObject({ error: { code: 'txn-exists' } });
    expect(b.run({ type: 'ops', txn: T1, ops: [] }).reply).toMatchObject({ error: { code: 'bad-request' } });
    expect(b.run({ type: 'ops', txn: T1, ops: [get(A, 'no spaces')] }).reply).toMatchObject({ error: { code: 'bad-request', message: expect.stringMatching(/bad key/) } });
    expect(b.run({ type: 'ops', txn: T1, ops: [{ type: 'add', record: A, key: 'k', value: { type: 'integer', value: 1.5 } }] }).reply).toMatchObject({
      error: { code: 'bad-request' },
    });
    expect(b.run({ type: 'ops', txn: T1, ops: [{ type: 'find', criteria: { kind: 'condition', key: 'k', operator: '~~' } as never }] }).reply).toMatchObject({
      error: { code: 'bad-request', message: expect.stringMatching(/unknown operator/) },
    });
    // A bad request changes nothing: the transaction is still usable.
    expect(values(b.run({ type: 'ops', txn: T1, ops: [get(A)] }))).toEqual([{ type: 'values', values: [] }]);
  });
});

describe('phantoms', () => {
  const bigOnes = where.gt('age', integer(10));

  it('find(age > 10) twice sees the same records while others try to insert', () => {
    const b = new Bench();
    b.seed('age', [[1n, 5], [2n, 20]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    b.run({ type: 'begin', txn: T3 });
    expect(values(b.run({ type: 'ops', txn: T1, ops: [{ type: 'find', criteria: bigOnes }] }))).toEqual([{ type: 'records', records: [2n] }]);
    // An insert inside the range waits; one outside it (and a new record) does not.
    expect(b.run({ type: 'ops', txn: T2, ops: [add(3n, 'age', 15)] }).reply).toEqual({ type: 'waiting', txn: T2, blockers: [T1] });
    values(b.run({ type: 'ops', txn: T3, ops: [add(4n, 'age', 10), add(4n, 'name', 1)] }));
    expect(b.run({ type: 'commit', txn: T3 }).reply.type).toBe('committed');
    // Moving record 1 into the range is a write of a value inside it: it waits too.
    const T4 = txnId('t4');
    b.run({ type: 'begin', txn: T4 });
    expect(b.run({ type: 'ops', txn: T4, ops: [set(1n, 11, 'age')] }).reply.type).toBe('waiting');
    expect(values(b.run({ type: 'ops', txn: T1, ops: [{ type: 'find', criteria: bigOnes }] }))).toEqual([{ type: 'records', records: [2n] }]);
    const c = b.run({ type: 'commit', txn: T1 });
    expect(c.events.map((e) => [e.type, e.txn])).toEqual([
      ['completed', T2],
      ['completed', T4],
    ]);
  });

  it('an older inserter wounds the younger reader instead, so no reader ever sees a phantom', () => {
    const b = new Bench();
    b.seed('age', [[2n, 20]]);
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    values(b.run({ type: 'ops', txn: T2, ops: [{ type: 'find', criteria: bigOnes }] }));
    const out = b.run({ type: 'ops', txn: T1, ops: [add(3n, 'age', 99)] });
    expect(out.reply.type).toBe('done');
    expect(out.events.map((e) => [e.type, e.txn])).toEqual([['aborted', T2]]);
  });

  it('a find sees its own inserts and removals', () => {
    const b = new Bench();
    b.seed('age', [[1n, 50]]);
    b.run({ type: 'begin', txn: T1 });
    expect(
      values(
        b.run({
          type: 'ops',
          txn: T1,
          ops: [add(7n, 'age', 30), { type: 'remove', record: 1n, key: 'age', value: integer(50) }, { type: 'find', criteria: bigOnes }],
        }),
      ),
    ).toEqual([
      { type: 'changed', changed: true },
      { type: 'changed', changed: true },
      { type: 'records', records: [7n] },
    ]);
  });

  it('numbers equal across types meet in the lock order: a point on 12.0D blocks find(age = 12)', () => {
    const b = new Bench();
    b.run({ type: 'begin', txn: T1 });
    b.run({ type: 'begin', txn: T2 });
    values(b.run({ type: 'ops', txn: T1, ops: [{ type: 'find', criteria: where.eq('age', integer(12)) }] }));
    expect(b.run({ type: 'ops', txn: T2, ops: [{ type: 'add', record: 5n, key: 'age', value: { type: 'double', value: 12 } }] }).reply.type).toBe('waiting');
    // Strings are another class: a regex find does not block numeric writes.
    const T4 = txnId('t4');
    b.run({ type: 'begin', txn: T4 });
    const T5 = txnId('t5');
    b.run({ type: 'begin', txn: T5 });
    values(b.run({ type: 'ops', txn: T4, ops: [{ type: 'find', criteria: where.regex('name', 'a.*') }] }));
    values(b.run({ type: 'ops', txn: T5, ops: [{ type: 'add', record: 5n, key: 'name', value: integer(3) }] }));
    expect(b.run({ type: 'ops', txn: T5, ops: [{ type: 'add', record: 6n, key: 'name', value: str('zed') }] }).reply.type).toBe('waiting');
  });
});
