// The polynomial check for read/write registers whose writes all write distinct values
// (Gibbons & Korach's setting). Proof of soundness and completeness: docs/checker.md,
// "Unique values: ordering clusters".
//
// With distinct values, a read names the one write it saw. Each write and the reads of its
// value form a cluster that must occupy one contiguous stretch of any linearization (the
// register holds that value from the write until the next write, and no other time). So
// the history is linearizable iff every read ends after its write begins and the clusters
// can be put in a sequence where no operation of a later cluster returned before an
// operation of an earlier one was called. Cluster A must precede B exactly when
// minRet(A) < maxCall(B); we look for a topological order of that relation (Kahn's
// algorithm, using only the two smallest minRet and maxCall at each step), O(n log n).

import { opKeys } from './models.js';
import type { Operation, Verdict } from './types.js';
import { NULL_KEY } from './values.js';

export interface UniqueValuesResult {
  readonly valid: Exclude<Verdict, 'unknown'>;
  /** Ids in linearization order (all when valid; the clusters placed before the conflict otherwise). */
  readonly linearized: readonly number[];
  /** For a violation: a small set of op ids that cannot be linearized (not yet shrunk). */
  readonly witness?: readonly number[];
}

/** Whether the fast path applies: only reads and writes, every write's value distinct and not null. */
export function uniqueValuesApplies(ops: readonly Operation[]): boolean {
  const written = new Set<string>([NULL_KEY]);
  for (const op of ops) {
    if (op.f === 'read') {
      if (op.status !== 'ok') return false;
      continue;
    }
    if (op.f !== 'write') return false;
    const v = opKeys(op).a;
    if (written.has(v)) return false;
    written.add(v);
  }
  return true;
}

interface Cluster {
  /** The write (undefined for the initial, absent value). */
  readonly write: Operation | undefined;
  readonly reads: Operation[];
  minRet: number;
  maxCall: number;
  minRetOp: Operation | undefined;
  maxCallOp: Operation | undefined;
}

export function checkUniqueValues(ops: readonly Operation[]): UniqueValuesResult {
  // Cluster 0 is the initial value, written by a virtual operation before everything.
  const clusters: Cluster[] = [{ write: undefined, reads: [], minRet: -1, maxCall: -1, minRetOp: undefined, maxCallOp: undefined }];
  const byValue = new Map<string, Cluster>([[NULL_KEY, clusters[0] as Cluster]]);
  for (const op of ops) {
    if (op.f !== 'write') continue;
    const c: Cluster = { write: op, reads: [], minRet: op.ret, maxCall: op.call, minRetOp: op, maxCallOp: op };
    clusters.push(c);
    byValue.set(opKeys(op).a, c);
  }
  for (const op of ops) {
    if (op.f !== 'read') continue;
    const c = byValue.get(opKeys(op).a);
    if (c === undefined) return { valid: false, linearized: [], witness: [op.id] }; // saw a value never written
    if (c.write !== undefined && op.ret < c.write.call) return { valid: false, linearized: [], witness: [c.write.id, op.id] };
    c.reads.push(op);
    if (op.ret < c.minRet) {
      c.minRet = op.ret;
      c.minRetOp = op;
    }
    if (op.call > c.maxCall) {
      c.maxCall = op.call;
      c.maxCallOp = op;
    }
  }

  // Two sorted, doubly linked lists of live clusters: by minRet and by maxCall.
  const m = clusters.length;
  const NONE = -1;
  const makeList = (keyOf: (c: Cluster) => number): { next: Int32Array; prev: Int32Array; head: { v: number } } => {
    const idx = Array.from({ length: m }, (_, i) => i).sort((a, b) => keyOf(clusters[a] as Cluster) - keyOf(clusters[b] as Cluster) || a - b);
    const next = new Int32Array(m).fill(NONE);
    const prev = new Int32Array(m).fill(NONE);
    for (let k = 0; k < m; k++) {
      const i = idx[k] as number;
      if (k > 0) prev[i] = idx[k - 1] as number;
      if (k < m - 1) next[i] = idx[k + 1] as number;
    }
    return { next, prev, head: { v: idx[0] ?? NONE } };
  };
  const byRet = makeList((c) => c.minRet);
  const byCall = makeList((c) => c.maxCall);
  const unlink = (l: { next: Int32Array; prev: Int32Array; head: { v: number } }, i: number): void => {
    const p = l.prev[i] as number;
    const nx = l.next[i] as number;
    if (p === NONE) l.head.v = nx;
    else l.next[p] = nx;
    if (nx !== NONE) l.prev[nx] = p;
  };
  const order: number[] = [];
  const place = (i: number): void => {
    unlink(byRet, i);
    unlink(byCall, i);
    order.push(i);
  };
  const cl = (i: number): Cluster => clusters[i] as Cluster;

  while (byRet.head.v !== NONE) {
    const x = byRet.head.v; // smallest minRet
    const y = byRet.next[x] as number; // second smallest
    const fY = y === NONE ? Number.POSITIVE_INFINITY : cl(y).minRet;
    // A cluster b != x is a source iff maxCall(b) < minRet(x); x is one iff maxCall(x) < minRet(y).
    let b = byCall.head.v;
    if (b === x) {
      if (cl(x).maxCall < fY) {
        place(x);
        continue;
      }
      b = byCall.next[x] as number;
      if (b !== NONE && cl(b).maxCall < cl(x).minRet) {
        place(b);
        continue;
      }
    } else {
      if (cl(b).maxCall < cl(x).minRet) {
        place(b);
        continue;
      }
      if (cl(x).maxCall < fY) {
        place(x);
        continue;
      }
    }
    // No source: x and y each must precede the other (see docs/checker.md).
    const witness = new Set<number>();
    for (const c of [cl(x), cl(y)]) {
      for (const op of [c.write, c.minRetOp, c.maxCallOp]) if (op !== undefined) witness.add(op.id);
    }
    return { valid: false, linearized: linearization(order.map(cl)), witness: [...witness].sort((a, b2) => a - b2) };
  }
  return { valid: true, linearized: linearization(order.map(cl)) };
}

function linearization(clusters: readonly Cluster[]): number[] {
  const out: number[] = [];
  for (const c of clusters) {
    if (c.write !== undefined) out.push(c.write.id);
    // Reads in call order respect real time among themselves (r1.ret < r2.call implies r1.call < r2.call).
    for (const r of [...c.reads].sort((a, b) => a.call - b.call)) out.push(r.id);
  }
  return out;
}
