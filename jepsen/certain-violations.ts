// A violation that needs no search (docs/checker.md, "Certain stale reads"): an ok
// operation needs a value v whose only possible setter P returned before some ok write or
// delete W was called, and W returned before the operation was called. Then P < W < it in every
// linearization, W certainly took effect and set something else, and v can never come back.
// Found in O(n log n); the three operations are the counterexample.

import { resultKey } from './prune.js';
import { neededKey } from './shrink.js';
import type { Operation } from './types.js';
import { NULL_KEY } from './values.js';

export function findCertainStaleRead(ops: readonly Operation[]): readonly number[] | null {
  const producers = new Map<string, Operation[]>();
  for (const op of ops) {
    const r = resultKey(op);
    if (r === null) continue;
    let list = producers.get(r);
    if (list === undefined) producers.set(r, (list = []));
    list.push(op);
  }
  // Only unconditional setters can be the overwriting W: a cas would need its own source in
  // the counterexample.
  const { firstReturnCalledAfter } = okUnconditionalSetterIndex(ops);
  let best: readonly number[] | null = null;
  let bestCall = Number.POSITIVE_INFINITY;
  for (const op of ops) {
    if (op.status !== 'ok') continue;
    const v = neededKey(op);
    if (v === null) continue;
    const ps = producers.get(v) ?? [];
    // The only possible source of v: one setter (and v is not the initial value), or the
    // initial value alone (v is null and nothing else sets null).
    let source: Operation | 'initial';
    if (v === NULL_KEY) {
      if (ps.length > 0) continue;
      source = 'initial';
    } else {
      if (ps.length !== 1) continue;
      source = ps[0] as Operation;
    }
    if (source !== 'initial' && (source === op || !Number.isFinite(source.ret))) continue;
    const w = firstReturnCalledAfter(source === 'initial' ? -1 : source.ret);
    if (w === undefined || w === op || !(w.ret < op.call)) continue;
    // Earliest such operation first: the most readable counterexample.
    if (op.call < bestCall) {
      bestCall = op.call;
      best = [...(source === 'initial' ? [] : [source.id]), w.id, op.id].sort((a, b) => a - b);
    }
  }
  return best;
}

// A violation that needs no search, for repeated values too (docs/checker.md, "Reads with no
// possible source"): an ok operation o needs v, and every possible source of v is ruled out
// by real time alone. A source is an operation producing v (ok or info), or the initial
// state when v is null. A source p is ruled out if it was called after o returned (it cannot
// precede o), or if some ok write or delete W producing another value was called after p
// returned and returned before o was called (p < W < o in every linearization, so p is not
// the last setter before o). The last setter before o in a linearization must be a source
// that is not ruled out, so there is none: not linearizable. Each producer is checked with
// the same suffix-minimum search as above; a producer whose first-returning W itself produces
// v is ruled out whenever W is (W's W' was called after W returned, so after p returned), and
// W is a producer of v called before o returned, so it is checked too.

interface SetterIndex {
  /** The ok write or delete called after `t` that returns first, or undefined. */
  readonly firstReturnCalledAfter: (t: number) => Operation | undefined;
}

/** Ok writes and deletes by call, with the suffix minimum of their returns (and who attains it). */
function okUnconditionalSetterIndex(ops: readonly Operation[]): SetterIndex {
  const okSetters = ops.filter((op) => op.status === 'ok' && (op.f === 'write' || op.f === 'delete')).sort((a, b) => a.call - b.call);
  const m = okSetters.length;
  const minRetFrom: Array<Operation | undefined> = new Array(m + 1).fill(undefined);
  for (let k = m - 1; k >= 0; k--) {
    const here = okSetters[k] as Operation;
    const later = minRetFrom[k + 1];
    minRetFrom[k] = later !== undefined && later.ret < here.ret ? later : here;
  }
  return {
    firstReturnCalledAfter: (t) => {
      let lo = 0;
      let hi = m;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((okSetters[mid] as Operation).call > t) hi = mid;
        else lo = mid + 1;
      }
      return minRetFrom[lo];
    },
  };
}

/**
 * An ok operation none of whose possible sources of its needed value real time allows, with
 * a witness: the operation, the writes and deletes producing its value, and the writes that
 * rule the earlier producers out. The witness alone is not linearizable by the same argument. Null if none.
 */
export function findReadWithoutSource(ops: readonly Operation[]): readonly number[] | null {
  const producers = new Map<string, Operation[]>(); // by value, sorted by call
  for (const op of ops) {
    const r = resultKey(op);
    if (r === null) continue;
    let list = producers.get(r);
    if (list === undefined) producers.set(r, (list = []));
    list.push(op);
  }
  for (const list of producers.values()) list.sort((a, b) => a.call - b.call);
  const index = okUnconditionalSetterIndex(ops);
  // Only operations that returned: an info cas forced by pruning (ret +Infinity) must happen
  // only in the company of the reads that need its value, so it would make a poor witness.
  const candidates = ops.filter((op) => op.status === 'ok' && Number.isFinite(op.ret) && neededKey(op) !== null).sort((a, b) => a.call - b.call);
  for (const op of candidates) {
    const v = neededKey(op) as string;
    const ps = producers.get(v) ?? [];
    // Producers called before op returned (the others are ruled out at once), latest first:
    // the likeliest true source comes first, so a linearizable history exits early.
    let hi = 0;
    while (hi < ps.length && (ps[hi] as Operation).call < op.ret) hi++;
    const rulers = new Set<number>();
    let ruledOut = true;
    for (let k = hi - 1; k >= 0 && ruledOut; k--) {
      const p = ps[k] as Operation;
      if (p === op || !Number.isFinite(p.ret)) {
        ruledOut = false;
        break;
      }
      const w = index.firstReturnCalledAfter(p.ret);
      if (w === undefined || w === op || !(w.ret < op.call)) ruledOut = false;
      else if (resultKey(w) !== v) rulers.add(w.id);
      // else: w produces v, was called after p returned and returned before op was called,
      // so it is one of ps[k+1..hi-1], already ruled out, by a W' that rules out p as well.
    }
    if (!ruledOut) continue;
    if (v === NULL_KEY) {
      // The initial state is a source too: ruled out by any ok write or delete of another value
      // returning before op was called.
      const w = index.firstReturnCalledAfter(-1);
      if (w === undefined || w === op || !(w.ret < op.call) || resultKey(w) === v) continue;
      rulers.add(w.id);
    }
    // The witness keeps the unconditional producers of v (a counterexample should show a
    // setter of the value it needs) and leaves out cas producers: a cas needs its own source,
    // which the witness lacks, so the shrinker's sound removals would take it, and with it the
    // read. Without them the argument above still holds (fewer sources), and op could not have
    // seen any of them (each was called after op returned or lies before a ruler), so the
    // sound removals keep op. If every producer is a cas, leave the case to the search.
    const plain = ps.filter((p) => p.f === 'write' || p.f === 'delete');
    if (ps.length > 0 && plain.length === 0) continue;
    return [op.id, ...plain.map((p) => p.id), ...rulers].filter((id, i, a) => a.indexOf(id) === i).sort((a, b) => a - b);
  }
  return null;
}
