// The polynomial check for registers whose writes and cas all set distinct values (Gibbons &
// Korach's setting, extended to compare-and-set). Proofs: docs/checker.md, "Unique values:
// ordering blocks".
//
// With distinct values, a read names the one operation whose value it saw, and a successful
// cas [e, n] names the one operation that set e. The register holds a value v from its
// setter until the next setter, so the setter of v, the reads of v and the cas that consumes
// v (at most one can) are contiguous in any linearization, and a cas glues the stretch of e
// to the stretch of n. A "block" is such a chain: a write (or the initial value), its reads,
// the cas consuming its value, that cas's reads, and so on. Blocks are contiguous and can be
// put in any order real time allows, so the history is linearizable iff (1) every block's
// own order respects real time (reads sorted by call), and (2) the relation "some operation
// of A returned before some operation of B was called", i.e. minRet(A) < maxCall(B), has no
// cycle between blocks. (2) is Kahn's algorithm, using only the two smallest minRet and
// maxCall at each step: O(n log n) in all.

import { opKeys } from './models.js';
import type { Operation, Verdict } from './types.js';
import { NULL_KEY } from './values.js';

export interface UniqueValuesResult {
  readonly valid: Exclude<Verdict, 'unknown'>;
  /** Ids in linearization order (all when valid; the blocks placed before the conflict otherwise). */
  readonly linearized: readonly number[];
  /** For a violation: a set of op ids that cannot be linearized (not yet shrunk). */
  readonly witness?: readonly number[];
}

/** The value an operation sets, for writes and cas. */
function setKey(op: Operation): string | null {
  if (op.f === 'write') return opKeys(op).a;
  if (op.f === 'cas') return opKeys(op).b;
  return null;
}

/**
 * Whether the fast path applies: every op certainly happened (ok, or info that pruning
 * proved must have happened), there are only reads, writes and cas, and every write and cas
 * sets a distinct value other than null (null is the initial value).
 */
export function uniqueValuesApplies(ops: readonly Operation[]): boolean {
  const set = new Set<string>([NULL_KEY]);
  for (const op of ops) {
    if (op.status !== 'ok') return false;
    if (op.f === 'read') continue;
    const v = setKey(op);
    if (v === null || set.has(v)) return false;
    set.add(v);
  }
  return true;
}

interface Block {
  /** The operations in their forced order (the initial block has no setter). */
  readonly seq: Operation[];
  minRet: number;
  maxCall: number;
}

export function checkUniqueValues(ops: readonly Operation[]): UniqueValuesResult {
  const setter = new Map<string, Operation>();
  const reads = new Map<string, Operation[]>();
  const consumers = new Map<string, Operation[]>();
  for (const op of ops) {
    const v = setKey(op);
    if (v !== null) setter.set(v, op);
    const need = op.f === 'read' ? opKeys(op).a : op.f === 'cas' ? opKeys(op).a : null;
    if (need === null) continue;
    const into = op.f === 'read' ? reads : consumers;
    let list = into.get(need);
    if (list === undefined) into.set(need, (list = []));
    list.push(op);
  }
  // A value nobody set (but null), or consumed twice, cannot be explained.
  for (const [v, rs] of reads) if (v !== NULL_KEY && !setter.has(v)) return { valid: false, linearized: [], witness: [(rs[0] as Operation).id] };
  for (const [v, cs] of consumers) {
    if (v !== NULL_KEY && !setter.has(v)) return { valid: false, linearized: [], witness: [(cs[0] as Operation).id] };
    if (cs.length > 1) {
      const s = setter.get(v);
      return { valid: false, linearized: [], witness: [...(s !== undefined ? [s.id] : []), (cs[0] as Operation).id, (cs[1] as Operation).id].sort((a, b) => a - b) };
    }
  }

  // Build each block from its head (the initial value, or a write), following consumers.
  const blocks: Block[] = [];
  const placedCas = new Set<number>();
  const byCall = (a: Operation, b: Operation): number => a.call - b.call;
  const buildFrom = (head: Operation | undefined, headValue: string): Block => {
    const seq: Operation[] = head === undefined ? [] : [head];
    let v: string | undefined = headValue;
    while (v !== undefined) {
      seq.push(...[...(reads.get(v) ?? [])].sort(byCall));
      const c: Operation | undefined = consumers.get(v)?.[0];
      if (c === undefined) break;
      seq.push(c);
      placedCas.add(c.id);
      v = opKeys(c).b;
    }
    // The initial block starts with a virtual setter at -1, before everything.
    let minRet = head === undefined ? -1 : Number.POSITIVE_INFINITY;
    let maxCall = -1;
    for (const op of seq) {
      if (op.ret < minRet) minRet = op.ret;
      if (op.call > maxCall) maxCall = op.call;
    }
    return { seq, minRet, maxCall };
  };
  blocks.push(buildFrom(undefined, NULL_KEY));
  for (const op of ops) if (op.f === 'write') blocks.push(buildFrom(op, opKeys(op).a));
  // A cas no head reaches waits for a value only a cas of its own cycle could set.
  const stranded = ops.filter((op) => op.f === 'cas' && !placedCas.has(op.id));
  if (stranded.length > 0) return { valid: false, linearized: [], witness: stranded.map((op) => op.id) };

  // (1) each block's forced order respects real time: nothing returns before an earlier op is called.
  for (const b of blocks) {
    let maxCall = Number.NEGATIVE_INFINITY;
    for (const op of b.seq) {
      if (op.ret < maxCall) return { valid: false, linearized: [], witness: b.seq.map((x) => x.id).sort((x, y) => x - y) };
      if (op.call > maxCall) maxCall = op.call;
    }
  }

  // (2) Kahn's algorithm over two sorted, doubly linked lists of live blocks.
  const m = blocks.length;
  const NONE = -1;
  const bl = (i: number): Block => blocks[i] as Block;
  interface List { readonly next: Int32Array; readonly prev: Int32Array; head: number }
  const makeList = (keyOf: (b: Block) => number): List => {
    const idx = Array.from({ length: m }, (_, i) => i).sort((a, b) => keyOf(bl(a)) - keyOf(bl(b)) || a - b);
    const next = new Int32Array(m).fill(NONE);
    const prev = new Int32Array(m).fill(NONE);
    for (let k = 0; k < m; k++) {
      const i = idx[k] as number;
      if (k > 0) prev[i] = idx[k - 1] as number;
      if (k < m - 1) next[i] = idx[k + 1] as number;
    }
    return { next, prev, head: idx[0] ?? NONE };
  };
  const byRet = makeList((b) => b.minRet);
  const byCallList = makeList((b) => b.maxCall);
  const unlink = (l: List, i: number): void => {
    const p = l.prev[i] as number;
    const nx = l.next[i] as number;
    if (p === NONE) l.head = nx;
    else l.next[p] = nx;
    if (nx !== NONE) l.prev[nx] = p;
  };
  const order: Block[] = [];
  const place = (i: number): void => {
    unlink(byRet, i);
    unlink(byCallList, i);
    order.push(bl(i));
  };
  while (byRet.head !== NONE) {
    const x = byRet.head; // smallest minRet
    const y = byRet.next[x] as number; // second smallest
    const fY = y === NONE ? Number.POSITIVE_INFINITY : bl(y).minRet;
    // A block b != x is a source iff maxCall(b) < minRet(x); x is one iff maxCall(x) < minRet(y).
    const b0 = byCallList.head;
    if (b0 !== x && bl(b0).maxCall < bl(x).minRet) {
      place(b0);
      continue;
    }
    if (bl(x).maxCall < fY) {
      place(x);
      continue;
    }
    const b1 = b0 === x ? (byCallList.next[x] as number) : NONE;
    if (b1 !== NONE && bl(b1).maxCall < bl(x).minRet) {
      place(b1);
      continue;
    }
    // No source: x and y each must precede the other (docs/checker.md).
    const witness = [...bl(x).seq, ...bl(y).seq].map((op) => op.id).sort((a, b) => a - b);
    return { valid: false, linearized: order.flatMap((b) => b.seq.map((op) => op.id)), witness };
  }
  return { valid: true, linearized: order.flatMap((b) => b.seq.map((op) => op.id)) };
}
