// An independent check of a claimed linearization: every ok operation appears once, no
// operation twice, no operation is placed before one that returned before it was called, and
// the model accepts each step from its initial state. Info operations may be left out (they
// never took effect). O(n) plus the model's steps.
import type { Model, Operation } from './types.js';

export function replayAccepts<S>(model: Model<S>, ops: readonly Operation[], order: readonly number[]): boolean {
  const byId = new Map(ops.map((op) => [op.id, op]));
  const seen = new Set<number>();
  let state = model.init();
  // Real time: op b placed after op a needs b.ret > a.call; so b.ret must exceed the largest
  // call among the ops placed before it.
  let maxCall = Number.NEGATIVE_INFINITY;
  for (const id of order) {
    const op = byId.get(id);
    if (op === undefined || seen.has(id)) return false;
    seen.add(id);
    if (op.ret < maxCall) return false;
    maxCall = Math.max(maxCall, op.call);
    const next = model.step(state, op);
    if (next.length === 0) return false;
    state = next[0] as S;
  }
  for (const op of ops) if (op.status === 'ok' && !seen.has(op.id)) return false;
  return true;
}
