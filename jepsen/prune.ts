// Removing operations that cannot change a register's verdict (proofs: docs/checker.md,
// "Dropping unobserved info operations").
//
// - An info read constrains nothing: it may never have happened, and a read changes no state.
// - An info write, delete or cas whose resulting value no ok read saw and no cas expects
//   can be taken out: any linearization with it taking effect gives one without it.
// Dropping one may make another droppable (a dropped cas no longer expects its value), so
// this runs to a fixpoint.

import { opKeys } from './models.js';
import type { Operation } from './types.js';
import { NULL_KEY } from './values.js';

/** The value an operation leaves in the register when it takes effect. */
export function resultKey(op: Operation): string | null {
  switch (op.f) {
    case 'write':
      return opKeys(op).a;
    case 'cas':
      return opKeys(op).b;
    case 'delete':
      return NULL_KEY;
    default:
      return null;
  }
}

export interface Pruned {
  readonly kept: readonly Operation[];
  readonly dropped: readonly Operation[];
}

export function pruneRegisterOps(ops: readonly Operation[]): Pruned {
  // Counts of what depends on each value: ok reads of it, cas expecting it.
  const needs = new Map<string, number>();
  const bump = (k: string, d: number): void => {
    needs.set(k, (needs.get(k) ?? 0) + d);
  };
  const alive = new Uint8Array(ops.length).fill(1);
  ops.forEach((op, i) => {
    if (op.f === 'read') {
      if (op.status === 'info') alive[i] = 0;
      else bump(opKeys(op).a, 1);
    } else if (op.f === 'cas') bump(opKeys(op).a, 1);
  });
  for (let changed = true; changed; ) {
    changed = false;
    ops.forEach((op, i) => {
      if (alive[i] === 0 || op.status !== 'info') return;
      const r = resultKey(op);
      if (r === null || (needs.get(r) ?? 0) > 0) return;
      alive[i] = 0;
      changed = true;
      if (op.f === 'cas') bump(opKeys(op).a, -1);
    });
  }
  const kept: Operation[] = [];
  const dropped: Operation[] = [];
  ops.forEach((op, i) => (alive[i] === 1 ? kept : dropped).push(op));
  return { kept, dropped };
}
