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
  // Ok writes and deletes by call, with the suffix minimum of their returns (and who attains
  // it). Only unconditional setters: a cas would need its own source in the counterexample.
  const okSetters = ops.filter((op) => op.status === 'ok' && (op.f === 'write' || op.f === 'delete')).sort((a, b) => a.call - b.call);
  const m = okSetters.length;
  const minRetFrom: Array<Operation | undefined> = new Array(m + 1).fill(undefined);
  for (let k = m - 1; k >= 0; k--) {
    const here = okSetters[k] as Operation;
    const later = minRetFrom[k + 1];
    minRetFrom[k] = later !== undefined && later.ret < here.ret ? later : here;
  }
  /** The ok write or delete called after `t` that returns first. */
  const firstReturnCalledAfter = (t: number): Operation | undefined => {
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((okSetters[mid] as Operation).call > t) hi = mid;
      else lo = mid + 1;
    }
    return minRetFrom[lo];
  };
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
