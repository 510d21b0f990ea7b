// Plants one read that sees the future: a value whose only writer was invoked after the read
// had already completed. A second kind of certain violation, unlike the stale read of
// stale.ts (which a checker may spot by a pattern): here no write overwrites anything.
//
// The proof, for a read R of key k made to return v: v is not null, and the only operation
// that may have written v to k (an ok or info write, or an ok or info cas to v) is W, invoked
// after R completed. In any linearization R takes effect before its completion, so before W
// is even invoked; nothing had written v then and the initial value is null, so R cannot
// see v. Hence the history is certainly not linearizable, whatever the info ops did.
import type { HistoryEvent } from '../types.js';
import type { GeneratedHistory, GeneratedOp } from './history.js';
import { GenRandom } from './rng.js';

export interface FutureRead {
  /** Index (in GeneratedHistory.ops) of the read that now returns a value from the future. */
  readonly read: number;
  readonly key: string | null;
  readonly futureValue: unknown;
  readonly originalValue: unknown;
  /** The only writer of that value, invoked after the read completed. */
  readonly write: number;
}

export interface FutureReadHistory extends GeneratedHistory {
  readonly future: FutureRead;
}

export interface FutureReadOptions {
  /** 'late' (default): the last read (by invoke) that qualifies; 'random': any of them. */
  readonly position?: 'late' | 'random';
  readonly seed?: number | string;
}

/** The value an operation may write, or undefined for reads, deletes and failed ops. */
function writtenValue(op: GeneratedOp): unknown {
  if (op.status === 'fail') return undefined;
  if (op.f === 'write') return op.input;
  if (op.f === 'cas') return (op.input as readonly unknown[])[1];
  return undefined;
}

/** The history with one read seeing the future, or null when no read qualifies. */
export function plantFutureRead(history: GeneratedHistory, options: FutureReadOptions = {}): FutureReadHistory | null {
  const writers = new Map<string, GeneratedOp[]>(); // by key and value
  const slot = (key: string | null, v: unknown): string => JSON.stringify([key, v]);
  for (const op of history.ops) {
    const v = writtenValue(op);
    if (v === undefined || v === null) continue;
    const list = writers.get(slot(op.key, v));
    if (list === undefined) writers.set(slot(op.key, v), [op]);
    else list.push(op);
  }
  // Uniquely written values, per key, by the writer's invoke position.
  const uniqueByKey = new Map<string | null, GeneratedOp[]>();
  for (const list of writers.values()) {
    if (list.length !== 1) continue;
    const w = list[0]!;
    const l = uniqueByKey.get(w.key);
    if (l === undefined) uniqueByKey.set(w.key, [w]);
    else l.push(w);
  }
  for (const l of uniqueByKey.values()) l.sort((a, b) => a.callPos - b.callPos);

  const candidates: Array<{ read: GeneratedOp; write: GeneratedOp }> = [];
  for (const read of history.ops) {
    if (read.f !== 'read' || read.status !== 'ok') continue;
    const ws = uniqueByKey.get(read.key);
    if (ws === undefined) continue;
    // The first unique write invoked after the read completed: the nearest future.
    let lo = 0;
    let hi = ws.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ws[mid]!.callPos > read.retPos) hi = mid;
      else lo = mid + 1;
    }
    const write = ws[lo];
    if (write !== undefined) candidates.push({ read, write });
  }
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => a.read.callPos - b.read.callPos);
  const chosen = (options.position ?? 'late') === 'late' ? candidates[candidates.length - 1]! : new GenRandom(options.seed ?? 0).pick(candidates);
  const { read, write } = chosen;
  const futureValue = writtenValue(write);
  const ops = history.ops.map((op) => (op.index === read.index ? { ...op, output: futureValue } : op));
  const events: HistoryEvent[] = history.events.map((e, pos) => (pos === read.retPos ? { ...e, value: futureValue } : e));
  return {
    options: history.options,
    ops,
    events,
    future: { read: read.index, key: read.key, futureValue, originalValue: read.output, write: write.index },
  };
}
