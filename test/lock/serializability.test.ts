// Serializability of interleaved transactions, checked against a serial replay in commit
// order; the same check must catch the planted bug 'lock-release-early'. Plus: transaction
// state survives a snapshot and restore in the middle of a run.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { double, integer, where, type Value } from '../../core/storage/records/index.js';
import { encodeTxnState } from '../../core/lock/snapshot.js';
import { loadTxnImage } from '../../core/lock/persist.js';
import { ACCOUNTS, checkSerializable, runWorkload, type Op, type Program, type RunSpec, type Step } from './workload.js';

const n = ACCOUNTS.length;
// Small domains so transactions collide: records 1..4 (the accounts), keys x and y, values 0..4
// (sometimes as doubles: 2.0D and 2 are one value to criteria and to range locks).
const valArb: fc.Arbitrary<Value> = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 5 })).map(([v, d]) => (d === 0 ? double(v) : integer(v)));
const recArb = fc.constantFrom(...ACCOUNTS);
const keyArb = fc.constantFrom('x', 'y');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ record: recArb, key: keyArb }).map(({ record, key }): Op => ({ type: 'get', record, key })),
  recArb.map((record): Op => ({ type: 'select', record })),
  fc.record({ type: fc.constantFrom('add', 'remove', 'set'), record: recArb, key: keyArb, value: valArb }).map((o): Op => o),
  fc.record({ key: keyArb, v: valArb, w: valArb, how: fc.constantFrom('gt', 'lte', 'eq', 'ne', 'between' as const) }).map(
    ({ key, v, w, how }): Op => ({ type: 'find', criteria: how === 'between' ? where.between(key, v, w) : where[how](key, v) }),
  ),
);
const programArb: fc.Arbitrary<Program> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ from: fc.nat(n - 1), d: fc.integer({ min: 1, max: n - 1 }), amount: fc.integer({ min: 1, max: 60 }), twoPhase: fc.boolean() }).map(({ from, d, amount, twoPhase }): Program => ({ kind: 'transfer', from, to: (from + d) % n, amount, twoPhase })) },
  { weight: 2, arbitrary: fc.shuffledSubarray([0, 1, 2, 3], { minLength: n, maxLength: n }).map((order): Program => ({ kind: 'audit', order })) },
  { weight: 1, arbitrary: fc.constant<Program>({ kind: 'atomic-audit' }) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 150 }).map((threshold): Program => ({ kind: 'rich', threshold })) },
  { weight: 1, arbitrary: fc.record({ a: fc.nat(n - 1), d: fc.integer({ min: 1, max: n - 1 }) }).map(({ a, d }): Program => ({ kind: 'rebalance', a, b: (a + d) % n })) },
  { weight: 3, arbitrary: fc.record({ ops: fc.array(opArb, { minLength: 1, maxLength: 5 }), atomic: fc.boolean() }).map(({ ops, atomic }): Program => ({ kind: 'random', ops, atomic })) },
);
const stepArb: fc.Arbitrary<Step> = fc.record({
  client: fc.nat(3),
  advanceMs: fc.integer({ min: 1, max: 25 }),
  abort: fc.constant(false),
});
const specArb = (extra: Partial<RunSpec> = {}): fc.Arbitrary<RunSpec> =>
  fc.record({
    clients: fc.array(fc.array(programArb, { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 4 }),
    schedule: fc.array(stepArb, { minLength: 20, maxLength: 160 }),
    abortEvery: fc.integer({ min: 0, max: 12 }),
  }).map(({ clients, schedule, abortEvery }) => ({
    clients,
    // Now and then a client gives up on its transaction (every abortEvery-th step; 0: never).
    schedule: schedule.map((s, i) => ({ ...s, abort: abortEvery > 0 && i % abortEvery === abortEvery - 1 })),
    ...extra,
  }));

describe('serializability', () => {
  it('interleaved transactions read what a serial run in commit order reads; the total never changes', () => {
    let committed = 0;
    let aborts = 0;
    let waits = 0;
    let prepares = 0;
    fc.assert(
      fc.property(specArb(), (spec) => {
        const outcome = runWorkload(spec);
        committed += outcome.committed.length;
        aborts += outcome.aborts;
        waits += outcome.waits;
        prepares += outcome.prepares;
        expect(checkSerializable(outcome)).toBeUndefined();
        expect(outcome.committed.length).toBe(spec.clients.flat().length);
      }),
      { numRuns: 150 },
    );
    // The runs really did contend: transactions waited and were aborted and retried.
    expect(waits).toBeGreaterThan(100);
    expect(aborts).toBeGreaterThan(50);
    expect(committed).toBeGreaterThan(500);
    expect(prepares).toBeGreaterThan(100);
  });

  it("finds a counterexample when 'lock-release-early' is planted, by the invariants and by the replay alone", () => {
    const bug = specArb({ bugs: new Set(['lock-release-early'] as const) });
    for (const replayOnly of [false, true]) {
      const result = fc.check(
        fc.property(bug, (spec) => checkSerializable(runWorkload(spec), { replayOnly }) === undefined),
        { numRuns: 300, endOnFailure: true, seed: 42 },
      );
      expect(result.failed).toBe(true);
      // It failed by breaking serializability, not by crashing.
      expect(String(result.errorInstance)).toMatch(/returning false/);
      const counterexample = result.counterexample![0];
      const why = checkSerializable(runWorkload(counterexample), { replayOnly });
      expect(why).toMatch(replayOnly ? /run serially in commit order it reads/ : /total|serially|phantom/);
      // The very same schedule without the bug is serializable.
      const { bugs: _, ...clean } = counterexample;
      expect(checkSerializable(runWorkload(clean))).toBeUndefined();
    }
  });

  it('transaction state survives a snapshot and restore mid-run, and the replica continues identically', () => {
    let withWaiters = 0;
    let withIntents = 0;
    fc.assert(
      fc.property(specArb(), fc.nat(30), fc.constantFrom('in-port' as const, 'image' as const), (spec, at, via) => {
        const plain = runWorkload(spec);
        const restored = runWorkload({ ...spec, restoreAt: at, restoreVia: via });
        if ((restored.restored?.waiting ?? 0) > 0) withWaiters += 1;
        if ((restored.restored?.intents ?? 0) > 0) withIntents += 1;
        // Same commands, same outputs, same store: the restored replica is indistinguishable.
        expect(restored.trace).toEqual(plain.trace);
        expect(restored.finalBalances).toEqual(plain.finalBalances);
        expect(checkSerializable(restored)).toBeUndefined();
      }),
      { numRuns: 60 },
    );
    // The snapshots were taken with work in flight: parked waiters, staged intents.
    expect(withWaiters).toBeGreaterThan(15);
    expect(withIntents).toBeGreaterThan(15);
  });
});

describe('liveness', () => {
  it('wound-wait alone prevents deadlock: with no timeouts and no client aborts, every transaction commits', () => {
    const NEVER_MS = 1e12;
    fc.assert(
      fc.property(specArb({ maxWaitMs: NEVER_MS, idleTimeoutMs: NEVER_MS }), (spec) => {
        const calm = { ...spec, schedule: spec.schedule.map((s) => ({ ...s, abort: false })) };
        // runWorkload throws if clients are still unfinished long after the schedule ends.
        const outcome = runWorkload(calm);
        expect(outcome.committed.length).toBe(spec.clients.flat().length);
        expect(checkSerializable(outcome)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });
});

describe('transaction state in the port', () => {
  it('after every command, the state read back from the port is the live state', () => {
    let checked = 0;
    fc.assert(
      fc.property(specArb(), (spec) => {
        runWorkload(spec, (bench) => {
          const loaded = loadTxnImage(bench.kv);
          expect(loaded).toBeDefined();
          expect(encodeTxnState(loaded!.image)).toEqual(encodeTxnState(bench.mgr.image()));
          checked += 1;
        });
      }),
      { numRuns: 8 },
    );
    expect(checked).toBeGreaterThanOrEqual(8 * 20); // every schedule step sends a command
  });
});
