// Generates histories by running simulated concurrent clients against a real atomic store.
//
// Each operation gets an invoke time and a completion time; it takes effect on the store at
// one random instant inside that interval (its linearization point). Applying the effects in
// instant order to one Map and reporting what the Map answered yields a history that is
// linearizable by construction, however the intervals overlap. Timeouts (`info`) are real
// too: the operation either landed at some instant after its invoke (possibly after the
// client gave up) or never did, and the client's process is retired (CONTRACTS.md).
import type { HistoryEvent } from '../types.js';
import { AtomicStore } from './store.js';
import { GenRandom, WeightedChooser, zipfWeights } from './rng.js';

export type GenOpKind = 'read' | 'write' | 'cas' | 'delete';

export interface OpMix {
  readonly read: number;
  readonly write: number;
  readonly cas: number;
  readonly delete: number;
}

export type KeyDistribution = { readonly kind: 'uniform' } | { readonly kind: 'zipf'; readonly exponent: number };

export interface GenerateOptions {
  readonly seed: number | string;
  /** Number of operations (invocations) in the history. */
  readonly ops: number;
  /** Concurrency: client slots, each with at most one operation outstanding. */
  readonly processes: number;
  /** Number of keys (default 1). */
  readonly keys?: number;
  /** Single-register history: key null (needs keys = 1). Default false: keys "k0", "k1", ... */
  readonly register?: boolean;
  readonly keyDistribution?: KeyDistribution;
  /**
   * Relative weights of the operation kinds; kinds left out weigh 0. Without it: read 0.5,
   * write 0.3, cas 0.15, delete 0.05.
   */
  readonly mix?: Partial<OpMix>;
  /** Fraction of writes, cas and deletes that time out (`info`); default 0. */
  readonly infoRate?: number;
  /** Fraction of reads that time out; default 0 (an info read tells the checker nothing). */
  readonly readInfoRate?: number;
  /** Of the timed-out operations, the fraction that did take effect (default 0.5). */
  readonly infoEffectRate?: number;
  /**
   * Written values: 'unique' (default; 1, 2, 3, ... never repeated) or a number n: values drawn
   * from 1..n, so the same value may be written many times.
   */
  readonly values?: 'unique' | number;
  /** With numeric `values`: the smallest value (default 1), so values are valueMin..valueMin+values-1. */
  readonly valueMin?: number;
  /**
   * A value that no timed-out (`info`) write or cas ever writes (they draw another): the
   * planted histories of repeated.ts need one value whose producers all returned.
   */
  readonly noInfoValue?: number;
  /** Fraction of cas that expect the key's current value at their invoke (default 0.7). */
  readonly casHitRate?: number;
  /** Mean operation latency and mean think time between a process's operations, in ms. */
  readonly latencyMs?: number;
  readonly thinkMs?: number;
}

/** One generated operation, with what really happened to it. */
export interface GeneratedOp {
  /** Dense, in invoke order (position in `ops`). */
  readonly index: number;
  readonly process: number;
  readonly f: GenOpKind;
  readonly key: string | null;
  /** Write value, cas [expected, new], null for read and delete. */
  readonly input: unknown;
  /** Read: the value observed (null = absent); cas: whether it swapped; others null. */
  readonly output: unknown;
  readonly status: 'ok' | 'fail' | 'info';
  readonly invokeMs: number;
  readonly completeMs: number;
  /** The instant it took effect on the store, or null if it never did. */
  readonly effectMs: number | null;
  /** Positions of its invoke and completion events in `events`. */
  readonly callPos: number;
  readonly retPos: number;
}

export interface GeneratedHistory {
  readonly options: GenerateOptions;
  readonly ops: readonly GeneratedOp[];
  /** Real-time order; `line` is the 1-based position, as if read from the JSON Lines text. */
  readonly events: readonly HistoryEvent[];
}

const DEFAULT_MIX: OpMix = { read: 0.5, write: 0.3, cas: 0.15, delete: 0.05 };
const KINDS: readonly GenOpKind[] = ['read', 'write', 'cas', 'delete'];

function checkOptions(o: GenerateOptions): void {
  const bad = (msg: string): never => {
    throw new RangeError(`generateHistory: ${msg}`);
  };
  if (!Number.isInteger(o.ops) || o.ops < 0) bad(`ops must be an integer >= 0, got ${o.ops}`);
  if (!Number.isInteger(o.processes) || o.processes < 1) bad(`processes must be an integer >= 1, got ${o.processes}`);
  const keys = o.keys ?? 1;
  if (!Number.isInteger(keys) || keys < 1) bad(`keys must be an integer >= 1, got ${keys}`);
  if (o.register === true && keys !== 1) bad(`a single-register history has exactly 1 key, got keys = ${keys}`);
  for (const [name, v] of [
    ['infoRate', o.infoRate],
    ['readInfoRate', o.readInfoRate],
    ['infoEffectRate', o.infoEffectRate],
    ['casHitRate', o.casHitRate],
  ] as const) {
    if (v !== undefined && !(v >= 0 && v <= 1)) bad(`${name} must be in [0, 1], got ${v}`);
  }
  if (typeof o.values === 'number' && (!Number.isInteger(o.values) || o.values < 1)) bad(`values must be 'unique' or an integer >= 1, got ${o.values}`);
  if (o.valueMin !== undefined && !Number.isInteger(o.valueMin)) bad(`valueMin must be an integer, got ${o.valueMin}`);
  if (o.noInfoValue !== undefined && (typeof o.values !== 'number' || o.values < 2)) bad('noInfoValue needs numeric values with at least 2 of them');
  if (o.keyDistribution?.kind === 'zipf' && !(o.keyDistribution.exponent >= 0)) bad('the zipf exponent must be >= 0');
  for (const ms of [o.latencyMs, o.thinkMs]) if (ms !== undefined && !(ms >= 0 && Number.isFinite(ms))) bad(`latencyMs and thinkMs must be finite and >= 0`);
}

interface Draft {
  index: number;
  process: number;
  f: GenOpKind;
  key: string | null;
  input: unknown;
  output: unknown;
  status: 'ok' | 'fail' | 'info';
  invokeMs: number;
  completeMs: number;
  effectMs: number | null;
  callPos: number;
  retPos: number;
}

export function generateHistory(options: GenerateOptions): GeneratedHistory {
  checkOptions(options);
  const rng = new GenRandom(options.seed);
  const keyCount = options.keys ?? 1;
  const keyNames: Array<string | null> = [];
  for (let i = 0; i < keyCount; i++) keyNames.push(options.register === true ? null : `k${i}`);
  const dist = options.keyDistribution ?? { kind: 'uniform' };
  const keyChooser = new WeightedChooser(dist.kind === 'zipf' ? zipfWeights(keyCount, dist.exponent) : keyNames.map(() => 1));
  const mix: OpMix = options.mix === undefined ? DEFAULT_MIX : { read: 0, write: 0, cas: 0, delete: 0, ...options.mix };
  const kindChooser = new WeightedChooser(KINDS.map((k) => mix[k]));
  const infoRate = options.infoRate ?? 0;
  const readInfoRate = options.readInfoRate ?? 0;
  const infoEffectRate = options.infoEffectRate ?? 0.5;
  const latencyMs = options.latencyMs ?? 10;
  const thinkMs = options.thinkMs ?? 1;

  // Phase 1: the schedule. Each op goes to the client slot that frees up first, so all
  // `processes` slots stay busy: that is the concurrency the checker has to untangle.
  const nextFreeMs = new Array<number>(options.processes).fill(0);
  const slotProcess = Array.from({ length: options.processes }, (_, i) => i);
  let nextProcessId = options.processes;
  const drafts: Draft[] = [];
  for (let i = 0; i < options.ops; i++) {
    let slot = 0;
    for (let s = 1; s < options.processes; s++) if (nextFreeMs[s]! < nextFreeMs[slot]!) slot = s;
    const f = KINDS[kindChooser.choose(rng)]!;
    const key = keyNames[keyChooser.choose(rng)]!;
    const invokeMs = nextFreeMs[slot]! + rng.exponential(thinkMs) + 1e-6;
    // Latency spread over [0.1, 1.9] x mean: wide enough that intervals overlap in every way.
    const durationMs = latencyMs * rng.float(0.1, 1.9) + 1e-6;
    const completeMs = invokeMs + durationMs;
    const timedOut = rng.chance(f === 'read' ? readInfoRate : infoRate);
    let effectMs: number | null;
    if (!timedOut) effectMs = rng.float(invokeMs, completeMs);
    else if (rng.chance(infoEffectRate)) effectMs = rng.float(invokeMs, invokeMs + 2 * durationMs); // may land after the timeout
    else effectMs = null;
    drafts.push({
      index: i,
      process: slotProcess[slot]!,
      f,
      key,
      input: null,
      output: null,
      status: timedOut ? 'info' : 'ok',
      invokeMs,
      completeMs,
      effectMs,
      callPos: -1,
      retPos: -1,
    });
    nextFreeMs[slot] = completeMs;
    if (timedOut) slotProcess[slot] = nextProcessId++; // a process whose op ended in info is never reused
  }

  // Phase 2: run the store. Walk invokes and effects in time order: a client picks its
  // write value and cas expectation when it invokes (a cas usually expects what the key
  // holds then), and the store answers at the effect instant.
  type Moment = { readonly t: number; readonly invoke: boolean; readonly d: Draft };
  const moments: Moment[] = [];
  for (const d of drafts) {
    moments.push({ t: d.invokeMs, invoke: true, d });
    if (d.effectMs !== null) moments.push({ t: d.effectMs, invoke: false, d });
  }
  moments.sort((a, b) => a.t - b.t || (a.invoke === b.invoke ? a.d.index - b.d.index : a.invoke ? -1 : 1));
  const store = new AtomicStore();
  const written = new Map<string | null, unknown[]>(); // values invoked per key, for cas expectations
  let nextValue = 1;
  const valueMin = options.valueMin ?? 1;
  const drawValue = (): number => (options.values === undefined || options.values === 'unique' ? nextValue++ : rng.int(valueMin, valueMin + options.values - 1));
  // A timed-out op never writes noInfoValue: it draws again (terminates: there are >= 2 values).
  const freshValue = (d?: Draft): number => {
    for (;;) {
      const v = drawValue();
      if (d === undefined || d.status !== 'info' || v !== options.noInfoValue) return v;
    }
  };
  const casHitRate = options.casHitRate ?? 0.7;
  for (const m of moments) {
    const d = m.d;
    if (m.invoke) {
      switch (d.f) {
        case 'read':
        case 'delete':
          break;
        case 'write': {
          d.input = freshValue(d);
          remember(written, d.key, d.input);
          break;
        }
        case 'cas': {
          const current = store.read(d.key);
          const past = written.get(d.key) ?? [];
          let expected: unknown;
          if (current !== null && rng.chance(casHitRate)) expected = current;
          else if (past.length > 0) expected = rng.pick(past);
          else expected = freshValue(); // never written yet: a cas that must fail
          const next = freshValue(d);
          d.input = [expected, next];
          remember(written, d.key, next);
          break;
        }
        default:
          unreachableKind(d.f);
      }
      continue;
    }
    switch (d.f) {
      case 'read':
        d.output = store.read(d.key);
        break;
      case 'write':
        store.write(d.key, d.input);
        break;
      case 'cas': {
        const [expected, next] = d.input as [unknown, unknown];
        d.output = store.cas(d.key, expected, next);
        break;
      }
      case 'delete':
        store.delete(d.key);
        break;
      default:
        unreachableKind(d.f);
    }
  }
  // A cas that found another value did not happen: the client is told so (`fail`).
  for (const d of drafts) {
    if (d.f === 'cas' && d.status === 'ok' && d.output === false) d.status = 'fail';
    if (d.f === 'read' && d.status === 'info') d.output = null;
  }

  // Phase 3: the events, in real-time order.
  type Edge = { readonly t: number; readonly invoke: boolean; readonly d: Draft };
  const edges: Edge[] = [];
  for (const d of drafts) {
    edges.push({ t: d.invokeMs, invoke: true, d });
    edges.push({ t: d.completeMs, invoke: false, d });
  }
  edges.sort((a, b) => a.t - b.t || (a.invoke === b.invoke ? a.d.index - b.d.index : a.invoke ? 1 : -1));
  const events: HistoryEvent[] = edges.map((e, pos) => {
    const d = e.d;
    if (e.invoke) d.callPos = pos;
    else d.retPos = pos;
    return {
      process: d.process,
      type: e.invoke ? 'invoke' : d.status,
      f: d.f,
      key: d.key,
      value: eventValue(d, e.invoke),
      // Nanoseconds of simulated time; rounding keeps the order (it is monotonic).
      time: Math.round(e.t * 1e6),
      line: pos + 1,
    };
  });
  // Renumber in invoke order (the schedule draws ops slot by slot, not in invoke order), so
  // `index` matches the order in which a reader pairs operations.
  const ops: GeneratedOp[] = [...drafts].sort((a, b) => a.callPos - b.callPos).map((d, i) => ({ ...d, index: i }));
  return { options, ops, events };
}

function remember(written: Map<string | null, unknown[]>, key: string | null, value: unknown): void {
  const list = written.get(key);
  if (list === undefined) written.set(key, [value]);
  else list.push(value);
}

function eventValue(d: Draft, invoke: boolean): unknown {
  switch (d.f) {
    case 'read':
      return invoke || d.status !== 'ok' ? null : d.output;
    case 'write':
    case 'cas':
      return d.input;
    case 'delete':
      return null;
    default:
      return unreachableKind(d.f);
  }
}

function unreachableKind(f: never): never {
  throw new Error(`unknown operation kind ${String(f)}`);
}

/** One JSON object per line (CONTRACTS.md); the key is left out of single-register events. */
export function eventsToJsonl(events: readonly HistoryEvent[]): string {
  let out = '';
  for (const e of events) {
    const o: Record<string, unknown> = { process: e.process, type: e.type, f: e.f };
    if (e.key !== null) o['key'] = e.key;
    o['value'] = e.value;
    if (e.time !== undefined) o['time'] = e.time;
    if (e.extra !== undefined) for (const [k, v] of Object.entries(e.extra)) if (!(k in o)) o[k] = v;
    out += JSON.stringify(o) + '\n';
  }
  return out;
}
