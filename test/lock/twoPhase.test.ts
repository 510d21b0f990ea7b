// The participant side of two-phase commit, exercised before the coordinator exists: two
// partitions, each its own TransactionManager and record store with its own log clock, and a
// small coordinator in this test that begins a transaction in each partition it touches with
// ONE priority, runs its operations where their records live, prepares every participant,
// decides, and then commits (or aborts) each. The checks: serializability of the decided
// transactions (replayed alone, in decision order, on one store), a constant total, no global
// deadlock without timeouts (wound-wait with shared priorities), and the planted bug caught.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Bugs } from '../../core/bugs.js';
import { txnId, type TxnId } from '../../core/lock/types.js';
import type { Timestamp } from '../../core/storage/types.js';
import { integer, type RecordId } from '../../core/storage/records/index.js';
import { Bench, type Cmd, type Out } from './bench.js';
import { canonical, type Op, type Result } from './workload.js';

const ACCOUNTS: readonly RecordId[] = [1n, 2n, 3n, 4n];
const partitionOf = (r: RecordId): number => (r <= 2n ? 0 : 1);
const OPENING = 100;
const TOTAL = OPENING * ACCOUNTS.length;

type Program = { readonly kind: 'transfer'; readonly from: number; readonly to: number; readonly amount: number } | { readonly kind: 'audit' };

const get = (i: number): Op => ({ type: 'get', record: ACCOUNTS[i]!, key: 'balance' });
const set = (i: number, v: number): Op => ({ type: 'set', record: ACCOUNTS[i]!, key: 'balance', value: integer(v) });
const bal = (r: Result | undefined): number => {
  if (r?.type !== 'values' || r.values.length !== 1) throw new Error(`one balance expected, saw ${canonical(r)}`);
  return r.values[0]!.value as number;
};

function nextOp(p: Program, rs: readonly Result[]): Op | 'done' {
  if (p.kind === 'audit') return rs.length < ACCOUNTS.length ? get(rs.length) : 'done';
  if (rs.length === 0) return get(p.from);
  if (rs.length === 1) return get(p.to);
  const [a, b] = [bal(rs[0]), bal(rs[1])];
  if (a < p.amount) return 'done';
  if (rs.length === 2) return set(p.from, a - p.amount);
  if (rs.length === 3) return set(p.to, b + p.amount);
  return 'done';
}

const partitionOfOp = (op: Op): number => (op.type === 'find' ? 0 : partitionOf(op.record));

interface Client {
  readonly programs: readonly Program[];
  pi: number;
  attempt: number;
  priority: Timestamp | undefined;
  txn: TxnId | undefined;
  /** Partitions where the transaction is open, and whether it prepared there. */
  parts: Map<number, 'active' | 'prepared'>;
  results: Result[];
  waiting: boolean;
  /** After the decision: partitions still to be told to commit. */
  committing: number[] | undefined;
}

interface Decided {
  readonly program: Program;
  readonly results: readonly Result[];
}

function run(spec: { clients: readonly (readonly Program[])[]; schedule: readonly number[]; bugs?: Bugs; maxWaitMs?: number }): { decided: Decided[]; balances: number[] } {
  const options = { maxWaitMs: spec.maxWaitMs ?? 80, idleTimeoutMs: 1e12, bugs: spec.bugs ?? new Set() };
  const parts = [new Bench(options), new Bench(options)];
  parts[0]!.seed('balance', [[1n, OPENING], [2n, OPENING]]);
  parts[1]!.seed('balance', [[3n, OPENING], [4n, OPENING]]);
  const clients: Client[] = spec.clients.map((programs) => ({ programs, pi: 0, attempt: 0, priority: undefined, txn: undefined, parts: new Map(), results: [], waiting: false, committing: undefined }));
  const decided: Decided[] = [];

  const abortEverywhere = (c: Client): void => {
    const txn = c.txn!;
    const where = [...c.parts.keys()];
    c.txn = undefined;
    c.parts = new Map();
    c.results = [];
    c.waiting = false;
    c.attempt += 1;
    // The coordinator's abort decision, told to every participant (an already-aborted one answers 'aborted' too).
    for (const p of where) handle(p, parts[p]!.run({ type: 'abort', txn }), undefined);
  };

  const handle = (p: number, out: Out, c: Client | undefined): void => {
    const r = out.reply;
    if (c !== undefined) {
      switch (r.type) {
        case 'begun':
          c.parts.set(p, 'active');
          c.priority ??= r.priority;
          break;
        case 'done':
          c.results.push(...r.results);
          break;
        case 'waiting':
          c.waiting = true;
          break;
        case 'prepared':
          c.parts.set(p, 'prepared');
          break;
        case 'committed':
          break;
        case 'error':
          if (r.error.code !== 'txn-conflict') throw new Error(r.error.message);
          abortEverywhere(c);
          break;
        default:
          throw new Error(`unexpected reply ${r.type}`);
      }
    }
    for (const e of out.events) {
      const o = clients.find((x) => x.txn === e.txn);
      if (o === undefined) continue; // a transaction its coordinator already aborted everywhere
      if (e.type === 'completed') {
        o.results.push(...e.results);
        o.waiting = false;
      } else if (e.type === 'aborted') {
        if (o.committing !== undefined) throw new Error(`decided transaction ${e.txn} was aborted by a participant`);
        abortEverywhere(o);
      } else throw new Error('no atomic commands here');
    }
  };

  const act = (ci: number): boolean => {
    const c = clients[ci]!;
    if (c.waiting || c.pi >= c.programs.length) return false;
    const program = c.programs[c.pi]!;
    const send = (p: number, cmd: Cmd): void => handle(p, parts[p]!.run(cmd), c);
    if (c.committing !== undefined) {
      send(c.committing.shift()!, { type: 'commit', txn: c.txn! });
      if (c.committing.length === 0) {
        c.pi += 1;
        c.attempt = 0;
        c.priority = undefined;
        c.txn = undefined;
        c.parts = new Map();
        c.results = [];
        c.committing = undefined;
      }
      return true;
    }
    c.txn ??= txnId(`c${ci}.p${c.pi}.a${c.attempt}`);
    const op = nextOp(program, c.results);
    if (op !== 'done') {
      const p = partitionOfOp(op);
      if (!c.parts.has(p)) send(p, { type: 'begin', txn: c.txn, ...(c.priority === undefined ? {} : { priority: c.priority }) });
      else send(p, { type: 'ops', txn: c.txn, ops: [op] });
      return true;
    }
    const unprepared = [...c.parts.entries()].find(([, s]) => s === 'active');
    if (unprepared !== undefined) {
      send(unprepared[0], { type: 'prepare', txn: c.txn });
      return true;
    }
    // Every participant voted yes: the decision (the commit point), then one commit per step.
    decided.push({ program, results: [...c.results] });
    c.committing = [...c.parts.keys()].sort();
    return act(ci);
  };

  const n = clients.length;
  let steps = 0;
  const step = (pick: number): void => {
    let acted = false;
    for (let k = 0; k < n && !acted; k++) acted = act((pick + k) % n);
    if (!acted) for (const b of parts) handle(0, b.run({ type: 'tick' }, 5), undefined);
    steps += 1;
  };
  for (const pick of spec.schedule) step(pick);
  let rr = 0;
  while (clients.some((c) => c.pi < c.programs.length)) {
    if (steps > spec.schedule.length + 5_000) throw new Error('liveness: transactions still unfinished long after the schedule ended');
    step(rr++);
  }
  const balances = ACCOUNTS.map((r) => parts[partitionOf(r)]!.records.select('balance', r).reduce((s, v) => s + (v.value as number), 0));
  return { decided, balances };
}

/** Replays the decided transactions alone, in decision order, on one store; the first difference. */
function check(outcome: { decided: Decided[]; balances: number[] }): string | undefined {
  const total = outcome.balances.reduce((s, x) => s + x, 0);
  if (total !== TOTAL) return `the total is ${total}, not ${TOTAL}`;
  const serial = new Bench();
  serial.seed('balance', ACCOUNTS.map((r) => [r, OPENING] as const));
  for (const [i, d] of outcome.decided.entries()) {
    if (d.program.kind === 'audit') {
      const sum = d.results.reduce((s, r) => s + bal(r), 0);
      if (sum !== TOTAL) return `an audit saw ${sum}, not ${TOTAL}`;
    }
    const id = txnId(`s${i}`);
    serial.run({ type: 'begin', txn: id });
    const seen: Result[] = [];
    for (let op = nextOp(d.program, seen); op !== 'done'; op = nextOp(d.program, seen)) {
      const out = serial.run({ type: 'ops', txn: id, ops: [op] });
      if (out.reply.type !== 'done') return `serial replay of #${i} did not run alone`;
      seen.push(...out.reply.results);
    }
    serial.run({ type: 'commit', txn: id });
    if (canonical(seen) !== canonical(d.results)) return `#${i} (${d.program.kind}) read ${canonical(d.results)}; alone in decision order it reads ${canonical(seen)}`;
  }
  return undefined;
}

const programArb: fc.Arbitrary<Program> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ from: fc.nat(3), d: fc.integer({ min: 1, max: 3 }), amount: fc.integer({ min: 1, max: 50 }) }).map(({ from, d, amount }): Program => ({ kind: 'transfer', from, to: (from + d) % 4, amount })) },
  { weight: 1, arbitrary: fc.constant<Program>({ kind: 'audit' }) },
);
const specArb = fc.record({
  clients: fc.array(fc.array(programArb, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 4 }),
  schedule: fc.array(fc.nat(3), { minLength: 10, maxLength: 120 }),
});

describe('two-phase commit participants (two partitions, a test coordinator)', () => {
  it('decided transactions read what they read alone in decision order; the total never changes', () => {
    let decided = 0;
    fc.assert(
      fc.property(specArb, (spec) => {
        const outcome = run(spec);
        decided += outcome.decided.length;
        expect(outcome.decided.length).toBe(spec.clients.flat().length);
        expect(check(outcome)).toBeUndefined();
      }),
      { numRuns: 120 },
    );
    expect(decided).toBeGreaterThan(300);
  });

  it('no global deadlock without timeouts: one priority per transaction in every partition', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const outcome = run({ ...spec, maxWaitMs: 1e12 });
        expect(outcome.decided.length).toBe(spec.clients.flat().length);
      }),
      { numRuns: 80 },
    );
  });

  it("finds a counterexample with 'lock-release-early' in the participants", () => {
    const result = fc.check(
      fc.property(specArb, (spec) => check(run({ ...spec, bugs: new Set(['lock-release-early'] as const) })) === undefined),
      { numRuns: 300, endOnFailure: true, seed: 7 },
    );
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/returning false/);
  });
});
