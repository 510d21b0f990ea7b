// Shrinking a non-linearizable set of register operations to a small one that is still not
// linearizable, for the counterexample. Only "sound" removals are made (docs/checker.md,
// "Counterexamples"): whenever an operation that sets the register (write, delete, cas) is
// removed, every remaining operation that depends on a value it sets (a read that saw it, a
// cas that expected it) and could have seen it is removed with it, transitively. Then any linearization of the
// larger set restricts to one of the smaller, so a non-linearizable result proves the
// whole history non-linearizable. The search is delta debugging: remove chunks, halving.

import { opKeys } from './models.js';
import { resultKey } from './prune.js';
import type { Operation, Verdict } from './types.js';
import { NULL_KEY } from './values.js';

/** The value an operation needs the register to hold (ok read: what it saw; cas: expected). */
export function neededKey(op: Operation): string | null {
  if (op.f === 'read') return op.status === 'ok' ? opKeys(op).a : null;
  if (op.f === 'cas') return opKeys(op).a;
  return null;
}

/**
 * `ops` without `remove`, closed under "a removed setter takes with it the remaining ops that
 * need its value and could have seen it". A setter s (write, delete, cas) can be the last
 * setter before an op o only if o returns after s is called and no ok setter lies wholly
 * between them in real time (called after s returned, returned before o was called).
 */
export function soundRemoval(ops: readonly Operation[], remove: ReadonlySet<number>): Operation[] {
  // barrier(s): the earliest return of an ok setter called after s returned.
  const okSetters = ops.filter((op) => op.status === 'ok' && resultKey(op) !== null).sort((a, b) => a.call - b.call);
  const suffixMinRet = new Float64Array(okSetters.length + 1).fill(Number.POSITIVE_INFINITY);
  for (let i = okSetters.length - 1; i >= 0; i--) suffixMinRet[i] = Math.min(suffixMinRet[i + 1] as number, (okSetters[i] as Operation).ret);
  const barrier = (s: Operation): number => {
    if (!Number.isFinite(s.ret)) return Number.POSITIVE_INFINITY;
    let lo = 0;
    let hi = okSetters.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((okSetters[mid] as Operation).call > s.ret) hi = mid;
      else lo = mid + 1;
    }
    return suffixMinRet[lo] as number;
  };
  const needers = new Map<string, Operation[]>();
  for (const op of ops) {
    const need = neededKey(op);
    if (need === null) continue;
    let list = needers.get(need);
    if (list === undefined) needers.set(need, (list = []));
    list.push(op);
  }
  const gone = new Set<number>();
  const work: Operation[] = [];
  const drop = (op: Operation): void => {
    if (gone.has(op.id)) return;
    gone.add(op.id);
    if (resultKey(op) !== null) work.push(op);
  };
  for (const op of ops) if (remove.has(op.id)) drop(op);
  while (work.length > 0) {
    const s = work.pop() as Operation;
    const b = barrier(s);
    for (const o of needers.get(resultKey(s) as string) ?? []) {
      if (o !== s && o.ret > s.call && o.call < b) drop(o);
    }
  }
  return ops.filter((op) => !gone.has(op.id));
}

export interface ShrinkOptions {
  /** Decides a candidate; `steps` is the work it spent (counted against the budget). */
  readonly decide: (ops: readonly Operation[], maxSteps: number) => { readonly valid: Verdict; readonly steps: number };
  /** Total work allowed for shrinking (deterministic). */
  readonly maxSteps: number;
  readonly deadlineMs?: number;
  /**
   * First chunk size (default: half the set). 1 goes straight to single removals, for a start
   * that is already nearly minimal (a rule's own evidence), where large chunks only cost time.
   */
  readonly startChunk?: number;
}

export interface ShrinkResult {
  readonly ops: readonly Operation[];
  /** True when no single sound removal keeps it non-linearizable (1-minimal). */
  readonly minimal: boolean;
}

export function shrinkCounterexample(failing: readonly Operation[], options: ShrinkOptions): ShrinkResult {
  let current = [...failing];
  let budget = options.maxSteps;
  const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
  const outOfTime = (): boolean => budget <= 0 || Date.now() > deadline;
  const stillBad = (cand: readonly Operation[]): boolean => {
    const r = options.decide(cand, Math.max(1, budget));
    budget -= Math.max(1, r.steps);
    return r.valid === false;
  };
  // A counterexample where a read saw a value nobody in it wrote is sound but says nothing;
  // so a value that had a producer keeps one.
  const producedAtStart = new Set<string>();
  for (const op of failing) {
    const r = resultKey(op);
    if (r !== null) producedAtStart.add(r);
  }
  const orphans = (cand: readonly Operation[]): boolean => {
    const produced = new Set<string>();
    for (const op of cand) {
      const r = resultKey(op);
      if (r !== null) produced.add(r);
    }
    return cand.some((op) => {
      const need = neededKey(op);
      return need !== null && need !== NULL_KEY && producedAtStart.has(need) && !produced.has(need);
    });
  };
  let chunk = Math.max(1, Math.min(options.startChunk ?? Number.POSITIVE_INFINITY, Math.ceil(current.length / 2)));
  for (;;) {
    let removedAny = false;
    for (let start = 0; start < current.length; ) {
      if (outOfTime()) return { ops: current, minimal: false };
      const remove = new Set(current.slice(start, start + chunk).map((op) => op.id));
      const cand = soundRemoval(current, remove);
      if (cand.length < current.length && !orphans(cand) && stillBad(cand)) {
        current = cand;
        removedAny = true;
      } else start += chunk;
    }
    if (chunk === 1) {
      if (!removedAny) return { ops: current, minimal: true };
    } else chunk = Math.max(1, Math.floor(chunk / 2));
  }
}
