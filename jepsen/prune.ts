// Removing operations that cannot change a register's verdict (proofs: docs/checker.md,
// "Dropping unobserved info operations").
//
// - An info read constrains nothing: it may never have happened, and a read changes no state.
// - An info write, delete or cas whose resulting value no ok read saw and no cas expects
//   can be taken out: any linearization with it taking effect gives one without it.
// Dropping one may make another droppable (a dropped cas no longer expects its value), so
// this runs to a fixpoint.
// - An info operation that is the only one ever to set a value (not null) that some ok
//   operation needed must have taken effect: it is kept as "certainly happened" (status ok,
//   still returning at +Infinity), which spares the search the choice of it never happening.

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
  /** Ids of info operations that certainly took effect (kept with status ok). */
  readonly forced: readonly number[];
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
  const producers = new Map<string, number>();
  const okNeeds = new Set<string>();
  ops.forEach((op, i) => {
    if (alive[i] === 0) return;
    const r = resultKey(op);
    if (r !== null) producers.set(r, (producers.get(r) ?? 0) + 1);
    if (op.status === 'ok' && (op.f === 'read' || op.f === 'cas')) okNeeds.add(opKeys(op).a);
  });
  const kept: Operation[] = [];
  const dropped: Operation[] = [];
  const forced: number[] = [];
  ops.forEach((op, i) => {
    if (alive[i] === 0) {
      dropped.push(op);
      return;
    }
    const r = resultKey(op);
    if (op.status === 'info' && r !== null && r !== NULL_KEY && producers.get(r) === 1 && okNeeds.has(r)) {
      forced.push(op.id);
      kept.push({ ...op, status: 'ok' });
    } else kept.push(op);
  });
  return { kept, dropped, forced };
}
