// A concurrent bank workload driven one log command at a time, and the serializability check
// of its outcome. Clients run transaction programs whose writes depend on what they read; a
// schedule (drawn by fast-check) decides whose command goes next, how much log time passes
// and when a client gives up and aborts. Every system abort is retried with the same
// program (and the first attempt's timestamp, so it keeps its seniority).
//
// The check: the committed transactions, replayed one after another in the order their
// intents reached the store, must read exactly what they read concurrently. Equal reads imply
// equal writes (programs are deterministic), so the concurrent run equals that serial one.
import { integer, where, type Criteria, type RecordId, type Value } from '../../core/storage/records/index.js';
import type { Timestamp } from '../../core/storage/types.js';
import type { OpResult, TxnOp } from '../../core/lock/transactions.js';
import { txnId, type TxnId } from '../../core/lock/types.js';
import type { Bugs } from '../../core/bugs.js';
import { encodeTxnState } from '../../core/lock/snapshot.js';
import { Bench, type Cmd, type Out } from './bench.js';

export type Op = TxnOp<RecordId, Value, Criteria>;
export type Result = OpResult<RecordId, Value>;

export const ACCOUNTS: readonly RecordId[] = [1n, 2n, 3n, 4n];
export const OPENING = 100;
export const TOTAL = OPENING * ACCOUNTS.length;

export type Program =
  /** twoPhase: ends with prepare (2PC's participant vote) before commit. */
  | { readonly kind: 'transfer'; readonly from: number; readonly to: number; readonly amount: number; readonly twoPhase?: boolean }
  /** Reads every balance, in the given order (a permutation of the accounts). */
  | { readonly kind: 'audit'; readonly order: readonly number[] }
  /** The same audit as one atomic command. */
  | { readonly kind: 'atomic-audit' }
  /** find(balance > threshold) twice around a read of every account: phantoms would differ. */
  | { readonly kind: 'rich'; readonly threshold: number }
  /** select of two whole records, then a transfer between them based on what it saw. */
  | { readonly kind: 'rebalance'; readonly a: number; readonly b: number }
  /** Any operations on other keys (multi-valued, every criteria kind): broad coverage for the replay check. */
  | { readonly kind: 'random'; readonly ops: readonly Op[]; readonly atomic: boolean };

const bal = (r: Result | undefined): number => {
  if (r?.type !== 'values' || r.values.length !== 1 || r.values[0]!.type !== 'integer') {
    throw new Error(`a balance read must see exactly one integer, saw ${JSON.stringify(r, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  }
  return r.values[0]!.value as number;
};

const recBal = (r: Result | undefined): number => {
  if (r?.type !== 'record') throw new Error('select expected');
  const vs = r.keys.find(([k]) => k === 'balance')?.[1] ?? [];
  if (vs.length !== 1 || vs[0]!.type !== 'integer') throw new Error(`a record must hold exactly one balance, saw ${vs.length}`);
  return vs[0]!.value as number;
};

const getBal = (i: number): Op => ({ type: 'get', record: ACCOUNTS[i]!, key: 'balance' });
const setBal = (i: number, v: number): Op => ({ type: 'set', record: ACCOUNTS[i]!, key: 'balance', value: integer(v) });

/** The next operation of a program given its results so far, or 'commit'. */
export function nextOp(p: Program, rs: readonly Result[]): Op | 'commit' {
  switch (p.kind) {
    case 'transfer': {
      if (rs.length === 0) return getBal(p.from);
      if (rs.length === 1) return getBal(p.to);
      const from = bal(rs[0]);
      const to = bal(rs[1]);
      if (from < p.amount) return 'commit';
      if (rs.length === 2) return setBal(p.from, from - p.amount);
      if (rs.length === 3) return setBal(p.to, to + p.amount);
      return 'commit';
    }
    case 'audit':
      return rs.length < p.order.length ? getBal(p.order[rs.length]!) : 'commit';
    case 'atomic-audit':
      throw new Error('atomic programs run as one command');
    case 'rich': {
      const find: Op = { type: 'find', criteria: where.gt('balance', integer(p.threshold)) };
      if (rs.length === 0) return find;
      if (rs.length <= ACCOUNTS.length) return getBal(rs.length - 1);
      if (rs.length === ACCOUNTS.length + 1) return find;
      return 'commit';
    }
    case 'random':
      if (p.atomic) throw new Error('atomic programs run as one command');
      return p.ops[rs.length] ?? 'commit';
    case 'rebalance': {
      if (rs.length === 0) return { type: 'select', record: ACCOUNTS[p.a]! };
      if (rs.length === 1) return { type: 'select', record: ACCOUNTS[p.b]! };
      const a = recBal(rs[0]);
      const b = recBal(rs[1]);
      const move = Math.trunc((a - b) / 2);
      if (rs.length === 2) return setBal(p.a, a - move);
      if (rs.length === 3) return setBal(p.b, b + move);
      return 'commit';
    }
    default: {
      const _: never = p;
      return _;
    }
  }
}

export function atomicOps(p: Program): readonly Op[] | undefined {
  if (p.kind === 'atomic-audit') return ACCOUNTS.map((_, i) => getBal(i));
  if (p.kind === 'random' && p.atomic) return p.ops;
  return undefined;
}

/** What each program promises about its own reads, whatever the interleaving. */
export function ownInvariant(p: Program, rs: readonly Result[]): string | undefined {
  switch (p.kind) {
    case 'audit':
    case 'atomic-audit': {
      const sum = rs.reduce((s, r) => s + bal(r), 0);
      return sum === TOTAL ? undefined : `an audit saw a total of ${sum}, not ${TOTAL}`;
    }
    case 'rich': {
      const sum = rs.slice(1, 1 + ACCOUNTS.length).reduce((s, r) => s + bal(r), 0);
      if (sum !== TOTAL) return `a rich-list read saw a total of ${sum}, not ${TOTAL}`;
      const a = rs[0];
      const b = rs[ACCOUNTS.length + 1];
      return canonical(a) === canonical(b) ? undefined : 'two identical finds in one transaction saw different records (a phantom)';
    }
    case 'transfer':
    case 'rebalance':
    case 'random':
      return undefined;
    default: {
      const _: never = p;
      return _;
    }
  }
}

export const big = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

/**
 * JSON with object keys sorted: a value's identity, whatever order its fields were built in
 * (a restored replica rebuilds parked results from the snapshot's sorted-key encoding).
 */
export function canonical(x: unknown): string {
  return JSON.stringify(x, (k, v: unknown) => {
    const w = big(k, v);
    if (typeof w !== 'object' || w === null || Array.isArray(w)) return w;
    return Object.fromEntries(Object.entries(w as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

export interface Step {
  readonly client: number;
  readonly advanceMs: number;
  /** The client aborts its open transaction instead of going on (then retries it). */
  readonly abort: boolean;
}

export interface RunSpec {
  readonly clients: readonly (readonly Program[])[];
  readonly schedule: readonly Step[];
  /**
   * Swap in a replica restored from a snapshot at the first step from this one on where some
   * transaction waits for a lock and some has staged intents (the richest state to lose);
   * none if undefined.
   */
  readonly restoreAt?: number;
  /** How the restored replica gets its transaction state back (default: out of the port). */
  readonly restoreVia?: 'in-port' | 'image';
  readonly bugs?: Bugs;
  readonly maxWaitMs?: number;
  readonly idleTimeoutMs?: number;
}

export interface Committed {
  readonly txn: TxnId;
  readonly program: Program;
  readonly results: readonly Result[];
}

export interface RunOutcome {
  readonly committed: readonly Committed[];
  readonly aborts: number;
  readonly waits: number;
  readonly prepares: number;
  readonly steps: number;
  readonly finalBalances: readonly number[];
  /** Every command and output, for determinism checks. */
  readonly trace: string[];
  readonly bench: Bench;
  /** What was in flight when the run switched to a restored replica. */
  readonly restored?: { readonly open: number; readonly held: number; readonly waiting: number; readonly intents: number };
}

interface ClientState {
  readonly programs: readonly Program[];
  pi: number;
  attempt: number;
  txn: TxnId | undefined;
  priority: Timestamp | undefined;
  results: Result[];
  waiting: boolean;
  prepared: boolean;
}

/** Steps after the schedule runs out, round-robin, before we call it a liveness failure. */
const TAIL_STEPS_MAX = 5_000;

export function runWorkload(spec: RunSpec, onCommand?: (bench: Bench, cmd: Cmd, advanceMs: number, out: Out) => void): RunOutcome {
  let bench = new Bench({ maxWaitMs: spec.maxWaitMs ?? 60, idleTimeoutMs: spec.idleTimeoutMs ?? 400, bugs: spec.bugs ?? new Set() });
  bench.seed('balance', ACCOUNTS.map((r) => [r, OPENING] as const));
  const clients: ClientState[] = spec.clients.map((programs) => ({ programs, pi: 0, attempt: 0, txn: undefined, priority: undefined, results: [], waiting: false, prepared: false }));
  const pending = new Map<TxnId, Committed>();
  const committed: Committed[] = [];
  const trace: string[] = [];
  let aborts = 0;
  let waits = 0;
  let prepares = 0;
  let steps = 0;

  const gone = new Set<TxnId>();
  const restart = (c: ClientState): void => {
    if (c.txn !== undefined) gone.add(c.txn);
    c.txn = undefined;
    c.results = [];
    c.waiting = false;
    c.prepared = false;
    c.attempt += 1;
    aborts += 1;
  };
  const finish = (c: ClientState, results: readonly Result[]): void => {
    const program = c.programs[c.pi]!;
    pending.set(c.txn!, { txn: c.txn!, program, results: [...results] });
    c.pi += 1;
    c.attempt = 0;
    c.priority = undefined;
    c.txn = undefined;
    c.results = [];
    c.waiting = false;
    c.prepared = false;
  };
  const owner = (txn: TxnId): ClientState | undefined => clients.find((c) => c.txn === txn);

  const send = (c: ClientState, cmd: Cmd, advanceMs: number): void => {
    const out = bench.run(cmd, advanceMs);
    trace.push(canonical([cmd, out]));
    onCommand?.(bench, cmd, advanceMs, out);
    const r = out.reply;
    switch (r.type) {
      case 'begun':
        c.txn = r.txn;
        if (c.priority === undefined) c.priority = r.priority;
        break;
      case 'done':
        c.results.push(...r.results);
        break;
      case 'waiting':
        c.waiting = true;
        waits += 1;
        break;
      case 'committed':
        finish(c, atomicOps(c.programs[c.pi]!) !== undefined ? r.results : c.results);
        break;
      case 'aborted':
        restart(c);
        break;
      case 'error':
        if (r.error.code !== 'txn-conflict') throw new Error(`unexpected error: ${r.error.message}`);
        restart(c);
        break;
      case 'ticked':
        break;
      case 'prepared':
        c.prepared = true;
        prepares += 1;
        break;
      default: {
        const _: never = r;
        throw new Error(String(_));
      }
    }
    for (const e of out.events) {
      const o = owner(e.txn);
      // Timeouts fire before the command itself: a transaction's parked operation may
      // complete (or the system abort it) in the same entry whose command the client used to
      // abort it. The abort is what counts; a commit must never be among such events.
      if (o === undefined && e.type !== 'committed' && gone.has(e.txn)) continue;
      if (o === undefined) throw new Error(`event for a transaction no client runs: ${e.txn}`);
      switch (e.type) {
        case 'completed':
          o.results.push(...e.results);
          o.waiting = false;
          break;
        case 'committed':
          finish(o, e.results);
          break;
        case 'aborted':
          restart(o);
          break;
        default: {
          const _: never = e;
          throw new Error(String(_));
        }
      }
    }
    // The order intents reached the store is the serial order to check against.
    for (const t of out.applied) {
      const done = pending.get(t);
      if (done === undefined) throw new Error(`applied transaction ${t} was never reported committed`);
      pending.delete(t);
      committed.push(done);
    }
  };

  const act = (ci: number, advanceMs: number, abort: boolean): boolean => {
    const c = clients[ci]!;
    if (c.pi >= c.programs.length) return false;
    // A client may give up even while it waits for a lock (its own timeout); a prepared
    // transaction's abort is its coordinator's decision.
    if (abort && c.txn !== undefined) {
      send(c, { type: 'abort', txn: c.txn }, advanceMs);
      return true;
    }
    if (c.waiting) return false;
    const program = c.programs[c.pi]!;
    const id = txnId(`c${ci}.p${c.pi}.a${c.attempt}`);
    const prio = c.priority === undefined ? {} : { priority: c.priority };
    if (c.txn === undefined) {
      const ops = atomicOps(program);
      if (ops !== undefined) {
        c.txn = id;
        send(c, { type: 'atomic', txn: id, ops, ...prio }, advanceMs);
        // An atomic's first attempt fixes its seniority at the entry's timestamp.
        if (c.priority === undefined && c.txn === id) c.priority = bench.mgr.get(id)?.priority.ts;
      } else send(c, { type: 'begin', txn: id, ...prio }, advanceMs);
      return true;
    }
    const op = nextOp(program, c.results);
    if (op === 'commit' && program.kind === 'transfer' && program.twoPhase === true && !c.prepared) send(c, { type: 'prepare', txn: c.txn }, advanceMs);
    else send(c, op === 'commit' ? { type: 'commit', txn: c.txn } : { type: 'ops', txn: c.txn, ops: [op] }, advanceMs);
    return true;
  };

  let restored: RunOutcome['restored'];
  const restoreIfDue = (): void => {
    const m = bench.mgr;
    if (spec.restoreAt === undefined || steps < spec.restoreAt || restored !== undefined) return;
    if (m.lockTable().waiting().length === 0 || !m.open().some((t) => t.intents.length > 0)) return;
    restored = {
      open: m.open().length,
      held: m.lockTable().heldCount(),
      waiting: m.lockTable().waiting().length,
      intents: m.open().reduce((s, t) => s + t.intents.length, 0),
    };
    const copy = bench.restoreCopy(spec.restoreVia ?? 'in-port');
    // The encoding sorts object keys, so equal bytes mean equal states.
    const a = encodeTxnState(copy.mgr.image());
    const b = encodeTxnState(m.image());
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new Error('restored transaction state differs from the snapshot');
    bench = copy;
  };

  for (const s of spec.schedule) {
    restoreIfDue();
    const n = clients.length;
    // The scheduled client if it can act, else the next one that can; if none can, time passes.
    let acted = false;
    for (let k = 0; k < n && !acted; k++) acted = act((s.client + k) % n, s.advanceMs, s.abort && k === 0);
    if (!acted) send(clients[0]!, { type: 'tick' }, s.advanceMs);
    steps += 1;
  }
  let rr = 0;
  while (clients.some((c) => c.pi < c.programs.length)) {
    if (steps - spec.schedule.length > TAIL_STEPS_MAX) throw new Error('liveness: clients still unfinished long after the schedule ended');
    restoreIfDue();
    let acted = false;
    for (let k = 0; k < clients.length && !acted; k++) acted = act((rr + k) % clients.length, 1, false);
    if (!acted) send(clients[0]!, { type: 'tick' }, 5);
    rr += 1;
    steps += 1;
  }
  if (pending.size > 0) throw new Error(`committed but never applied: ${[...pending.keys()].join(', ')}`);
  const finalBalances = ACCOUNTS.map((r) => {
    const vs = bench.records.select('balance', r);
    return vs.reduce((s, v) => s + (v.value as number), 0);
  });
  return { committed, aborts, waits, prepares, steps, finalBalances, trace, bench, ...(restored === undefined ? {} : { restored }) };
}

/**
 * Replays the committed transactions one at a time in apply order on a fresh store; returns
 * the first difference from what they read concurrently, or undefined when there is none.
 */
export function checkSerializable(outcome: RunOutcome, options: { readonly replayOnly?: boolean } = {}): string | undefined {
  if (options.replayOnly !== true) {
    for (const c of outcome.committed) {
      const bad = ownInvariant(c.program, c.results);
      if (bad !== undefined) return `${c.txn}: ${bad}`;
    }
    const finalTotal = outcome.finalBalances.reduce((s, x) => s + x, 0);
    if (finalTotal !== TOTAL) return `money was made or lost: the final total is ${finalTotal}, not ${TOTAL}`;
  }
  const serial = new Bench();
  serial.seed('balance', ACCOUNTS.map((r) => [r, OPENING] as const));
  for (const [n, c] of outcome.committed.entries()) {
    const id = txnId(`serial-${n}`);
    const ops = atomicOps(c.program);
    let seen: Result[];
    if (ops !== undefined) {
      const out = serial.run({ type: 'atomic', txn: id, ops });
      if (out.reply.type !== 'committed') return `serial replay of ${c.txn} did not commit`;
      seen = [...out.reply.results];
    } else {
      serial.run({ type: 'begin', txn: id });
      seen = [];
      for (;;) {
        let op: Op | 'commit';
        try {
          op = nextOp(c.program, seen);
        } catch (e) {
          return `serial replay of ${c.txn} broke: ${(e as Error).message}`;
        }
        if (op === 'commit') break;
        const out = serial.run({ type: 'ops', txn: id, ops: [op] });
        if (out.reply.type !== 'done') return `serial replay of ${c.txn} did not run alone: ${out.reply.type}`;
        seen.push(...out.reply.results);
      }
      if (serial.run({ type: 'commit', txn: id }).reply.type !== 'committed') return `serial replay of ${c.txn} did not commit`;
    }
    const want = canonical(seen);
    const got = canonical(c.results);
    if (want !== got) return `${c.txn} (${c.program.kind}, #${n} in commit order) read ${got}; run serially in commit order it reads ${want}`;
  }
  return undefined;
}
