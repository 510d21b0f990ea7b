// Plants one stale read that no linearization can explain.
//
// The proof, for a read R of key k made to return v1:
//   - W1 is an `ok` write of v1 to k, and no other operation that may have happened (ok or
//     info write, ok or info cas) ever writes v1 to k, so W1 is the only source of v1;
//   - W2 is an `ok` write (of another value) or an `ok` delete of k, invoked after W1
//     completed and completed before R was invoked.
// Real-time order forces W1 < W2 < R in every linearization, and W2 certainly happened
// (ok), so at R the register holds something W2 or a later op put there; for it to be v1
// again, some op would have to write v1 after W2: only W1 does, and W1 is before W2.
// Hence R observing v1 is certainly not linearizable, whatever the info ops did.
import type { HistoryEvent } from '../types.js';
import type { GeneratedHistory, GeneratedOp } from './history.js';
import { GenRandom } from './rng.js';

export interface StaleRead {
  /** Index (in GeneratedHistory.ops) of the read that now returns a stale value. */
  readonly read: number;
  readonly key: string | null;
  readonly staleValue: unknown;
  /** What the read really returned. */
  readonly originalValue: unknown;
  /** The write whose value is returned (W1) and the op that certainly overwrote it (W2). */
  readonly staleWrite: number;
  readonly overwrite: number;
}

export interface StaleHistory extends GeneratedHistory {
  readonly stale: StaleRead;
}

export interface StaleOptions {
  /** 'late' (default): the last read (by invoke) that can be made stale; 'random': any of them. */
  readonly position?: 'late' | 'random';
  /** Seed for 'random'. */
  readonly seed?: number | string;
}

interface Candidate {
  readonly read: GeneratedOp;
  readonly w1: GeneratedOp;
  readonly w2: GeneratedOp;
}

/**
 * The history with one read made certainly stale, or null when no read qualifies (too few
 * writes before any read, or no uniquely written value).
 */
export function plantStaleRead(history: GeneratedHistory, options: StaleOptions = {}): StaleHistory | null {
  const byKey = new Map<string | null, GeneratedOp[]>();
  for (const op of history.ops) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const candidates: Candidate[] = [];
  for (const ops of byKey.values()) candidates.push(...candidatesForKey(ops));
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => a.read.callPos - b.read.callPos);
  const chosen =
    (options.position ?? 'late') === 'late' ? candidates[candidates.length - 1]! : new GenRandom(options.seed ?? 0).pick(candidates);
  const { read, w1, w2 } = chosen;
  const staleValue = w1.input;
  if (read.output !== null && JSON.stringify(read.output) === JSON.stringify(staleValue)) {
    // The store is atomic, so the real read cannot have seen v1 (see the proof above).
    throw new Error(`plantStaleRead: read ${read.index} already returned ${JSON.stringify(staleValue)}: the generated history is not what it claims`);
  }
  const ops = history.ops.map((op) => (op.index === read.index ? { ...op, output: staleValue } : op));
  const events: HistoryEvent[] = history.events.map((e, pos) => (pos === read.retPos ? { ...e, value: staleValue } : e));
  return {
    options: history.options,
    ops,
    events,
    stale: { read: read.index, key: read.key, staleValue, originalValue: read.output, staleWrite: w1.index, overwrite: w2.index },
  };
}

/** Every read of one key that can be made stale, each with its W1 and W2. */
function candidatesForKey(ops: readonly GeneratedOp[]): Candidate[] {
  // How many ops that may have happened write each value: only values written once qualify.
  const writers = new Map<string, number>();
  for (const op of ops) {
    if (op.status === 'fail') continue;
    let v: unknown;
    if (op.f === 'write') v = op.input;
    else if (op.f === 'cas') v = (op.input as readonly unknown[])[1];
    else continue;
    const k = JSON.stringify(v);
    writers.set(k, (writers.get(k) ?? 0) + 1);
  }
  const w1s = ops
    .filter((op) => op.f === 'write' && op.status === 'ok' && writers.get(JSON.stringify(op.input)) === 1)
    .sort((a, b) => a.retPos - b.retPos);
  const w2s = ops.filter((op) => (op.f === 'write' || op.f === 'delete') && op.status === 'ok').sort((a, b) => a.retPos - b.retPos);
  const reads = ops.filter((op) => op.f === 'read' && op.status === 'ok');

  // For each prefix of w2s (by completion), the one invoked last: it leaves the most room for W1.
  const latestInvoked: GeneratedOp[] = [];
  for (const w of w2s) {
    const prev = latestInvoked[latestInvoked.length - 1];
    latestInvoked.push(prev !== undefined && prev.callPos > w.callPos ? prev : w);
  }
  const out: Candidate[] = [];
  for (const read of reads) {
    const n = countBefore(w2s, read.callPos);
    if (n === 0) continue;
    const w2 = latestInvoked[n - 1]!;
    const m = countBefore(w1s, w2.callPos);
    if (m === 0) continue;
    const w1 = w1s[m - 1]!; // the most recently overwritten: the "just stale" read
    out.push({ read, w1, w2 });
  }
  return out;
}

/** How many of `sorted` (by retPos) completed before position `pos`. */
function countBefore(sorted: readonly GeneratedOp[], pos: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.retPos < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
