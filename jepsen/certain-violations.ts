// A violation that needs no search (docs/checker.md, "Certain stale reads"): an ok
// operation needs a value v whose only possible setter P returned before some ok write or
// delete W was called, and W returned before the operation was called. Then P < W < it in every
// linearization, W certainly took effect and set something else, and v can never come back.
// Found in O(n log n); the three operations are the counterexample.

import { opKeys } from './models.js';
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

// Too few producers for a chain of needers (docs/checker.md, proof 5c, "pigeonhole"): for one
// value v, a chain N1 < S1 < N2 < S2 < ... < Nm in real time, where each Ni is an ok operation
// needing v (a read of v, a cas expecting v) and each Si an ok setter of another value
// (S(i) may be N(i) itself: a cas [v, w], w != v). In a linearization the last setter before
// Ni produces v and lies after S(i-1) (a setter of another value that precedes Ni) and before
// Ni; these windows are disjoint, so the m needers need m distinct producers, and a producer p
// can serve Ni only if p is not Ni, p was called before Ni returned, and p returned after
// S(i-1) was called (the initial state, when v is null, can serve N1 only). Each producer can
// thus serve an interval of the chain; if a maximum matching of needers to producers leaves a
// needer without one, the history is not linearizable. The needers are picked greedily
// (earliest return: the longest chain), and between two of them the separator called last (the
// tightest window). Matching points to intervals greedily (smallest end first) is optimal.

/** A chain with too few producers, as a witness (needers, separators, eligible producers), or null. */
export function findProducerShortage(ops: readonly Operation[]): readonly number[] | null {
  const needersOf = new Map<string, Operation[]>();
  const producersOf = new Map<string, Operation[]>();
  const okSetters: Operation[] = [];
  for (const op of ops) {
    const r = resultKey(op);
    if (r !== null) {
      let list = producersOf.get(r);
      if (list === undefined) producersOf.set(r, (list = []));
      list.push(op);
      if (op.status === 'ok' && Number.isFinite(op.ret)) okSetters.push(op);
    }
    const v = neededKey(op);
    if (v !== null && op.status === 'ok' && Number.isFinite(op.ret)) {
      let list = needersOf.get(v);
      if (list === undefined) needersOf.set(v, (list = []));
      list.push(op);
    }
  }
  okSetters.sort((a, b) => a.ret - b.ret);
  let best: readonly number[] | null = null;
  for (const [v, needers] of needersOf) {
    if (needers.length < 2 && v !== NULL_KEY) continue;
    const w = shortageFor(v, needers, producersOf.get(v) ?? [], okSetters, producersOf);
    if (w !== null && (best === null || w.length < best.length)) best = w;
  }
  return best;
}

function shortageFor(
  v: string,
  needers: Operation[],
  producers: readonly Operation[],
  okSettersByRet: readonly Operation[],
  producersOf: ReadonlyMap<string, readonly Operation[]>,
  out?: ChainMatching,
): readonly number[] | null {
  needers.sort((a, b) => a.ret - b.ret);
  // Separators of other values by return; for each needer pair, the one called last among
  // those called after the first returned and returned before the second was called.
  const seps = okSettersByRet.filter((s) => resultKey(s) !== v);
  const chainN: Operation[] = [];
  const chainS: Operation[] = []; // chainS[i] separates chainN[i] from chainN[i+1]
  let k = 0;
  let cur: Operation | undefined = needers[0];
  if (cur === undefined) return null;
  chainN.push(cur);
  // Separators returned before the next needer's call: scanned with a pointer over `seps`.
  let sp = 0;
  for (;;) {
    const prev: Operation = cur;
    // The earliest-returning needer that can follow prev (after some separator); separators
    // are considered by return order: the first separator called after prev returned (or prev
    // itself, a cas to another value) bounds where the next needer may start.
    const selfSep = resultKey(prev) !== null && resultKey(prev) !== v;
    let firstSepRet = selfSep ? prev.ret : Number.POSITIVE_INFINITY;
    while (sp < seps.length && (seps[sp] as Operation).ret <= prev.ret) sp++;
    for (let j = sp; j < seps.length && !selfSep; j++) {
      const s = seps[j] as Operation;
      if (s.call > prev.ret) {
        firstSepRet = s.ret;
        break;
      }
    }
    if (!Number.isFinite(firstSepRet)) break;
    while (k < needers.length && (needers[k] as Operation).call <= firstSepRet) k++;
    // needers are by return; the first with call > firstSepRet and the smallest return.
    let next: Operation | undefined;
    for (let j = k; j < needers.length; j++) {
      const n = needers[j] as Operation;
      if (n.call > firstSepRet) {
        next = n;
        break;
      }
    }
    if (next === undefined) break;
    // The tightest separator between prev and next: called last among those called after
    // prev returned and returned before next was called (prev itself if it is a cas to another value).
    let sep: Operation | undefined = selfSep ? prev : undefined;
    for (let j = sp; j < seps.length && (seps[j] as Operation).ret < next.call; j++) {
      const s = seps[j] as Operation;
      if (s.call > prev.ret && (sep === undefined || s.call > sep.call)) sep = s;
    }
    if (sep === undefined) break;
    chainS.push(sep);
    chainN.push(next);
    cur = next;
  }
  const m = chainN.length;
  if (m < 2 && v !== NULL_KEY) return null;
  // The window of N(0) is bounded too: by S(-1), the ok setter of another value called last
  // among those that returned before N(0) was called (if any). The proof needs S(i-1) only to
  // be an ok setter of another value preceding N(i) in real time, so S(-1) serves like the others.
  let sepFirst: Operation | undefined;
  const n0 = chainN[0] as Operation;
  for (const s of seps) {
    if (s.ret >= n0.call) break;
    if (sepFirst === undefined || s.call > sepFirst.call) sepFirst = s;
  }
  const before = (i: number): Operation | undefined => (i > 0 ? chainS[i - 1] : sepFirst);
  // Each producer's interval [lo, hi] of chain positions it may serve.
  const intervals: Array<{ readonly lo: number; readonly hi: number; readonly op: Operation | null }> = [];
  const firstReturnAfter = (t: number): number => {
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((chainN[mid] as Operation).ret > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const lastSepCalledBefore = (t: number): number => {
    // hi = the largest i with (i === 0 or chainS[i-1].call < t)
    let lo = 0;
    let hi = m - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((chainS[mid - 1] as Operation).call < t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  // A cas [v, v] is never the setter that brings v back (it needs v already), so it serves
  // no window (proof 5c, "sharper producers").
  const useful = producers.filter((p) => !(p.f === 'cas' && opKeys(p).a === v));
  for (const p of useful) {
    const lo = firstReturnAfter(p.call);
    const hi = lastSepCalledBefore(p.ret);
    if (hi === 0 && sepFirst !== undefined && !(p.ret > sepFirst.call)) continue;
    if (lo <= hi) intervals.push({ lo, hi, op: p });
  }
  if (v === NULL_KEY && sepFirst === undefined) intervals.push({ lo: 0, hi: 0, op: null });
  // A producer that is itself chain needer i (a cas [v, v]) cannot serve i, only one side of
  // it; its whole interval is kept, which only gives the matching more room (sound).
  const split = intervals;
  split.sort((a, b) => a.lo - b.lo);
  // Greedy: at each position, the open interval ending first.
  const heap: Array<{ hi: number }> = [];
  const push = (x: { hi: number }): void => {
    heap.push(x);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((heap[p] as { hi: number }).hi <= (heap[i] as { hi: number }).hi) break;
      [heap[p], heap[i]] = [heap[i] as { hi: number }, heap[p] as { hi: number }];
      i = p;
    }
  };
  const pop = (): { hi: number } | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let s = i;
        if (l < heap.length && (heap[l] as { hi: number }).hi < (heap[s] as { hi: number }).hi) s = l;
        if (r < heap.length && (heap[r] as { hi: number }).hi < (heap[s] as { hi: number }).hi) s = r;
        if (s === i) break;
        [heap[s], heap[i]] = [heap[i] as { hi: number }, heap[s] as { hi: number }];
        i = s;
      }
    }
    return top;
  };
  let q = 0;
  for (let i = 0; i < m; i++) {
    while (q < split.length && (split[q] as { lo: number }).lo <= i) push(split[q++] as { hi: number });
    let got: { hi: number } | undefined;
    while ((got = pop()) !== undefined && got.hi < i) {
      /* expired */
    }
    if (got === undefined) {
      // The greedy's Hall range, or the sharper matching's Hall set if that is smaller.
      const greedy = shortageWitness(i, chainN, before, split);
      const sharper = casShortage(v, chainN, before, split, producersOf);
      return sharper !== null && sharper.length < greedy.length ? sharper : greedy;
    }
  }
  return casShortage(v, chainN, before, split, producersOf, out === undefined ? undefined : Object.assign(out, { chainN, before, intervals: split }));
}

/** What a shortage search leaves behind when every needer got a producer (for pigeonholeOrder). */
interface ChainMatching {
  chainN?: readonly Operation[];
  before?: (i: number) => Operation | undefined;
  intervals?: ReadonlyArray<{ readonly lo: number; readonly hi: number; readonly op: Operation | null }>;
  /** Interval index -> chain position it serves, or -1. */
  matchOf?: Int32Array;
}

/** Edges the general matching may look at before giving up (it then reports no shortage). */
const MATCHING_EDGES_MAX = 4_000_000;

/**
 * The sharper matching (docs/checker.md, proof 5c, "sharper producers"): a cas [x, v] with
 * x != v can serve position i only if the register can hold x inside window i, i.e. S(i-1)
 * produces x, or some producer of x may serve window i (called before N(i) returned and, for
 * i > 0, returned after S(i-1) was called), or i = 0 and x is the initial null. The positions
 * a cas may serve are then no longer an interval, so the greedy gives way to augmenting paths
 * (Kuhn). A position left unmatched yields a Hall set X (the positions its failed search
 * reached) with |N(X)| = |X| - 1; the witness is X's needers, the separators before them and
 * N(X). Null when every needer gets a producer (or the graph is too large to try).
 */
function casShortage(
  v: string,
  chainN: readonly Operation[],
  before: (i: number) => Operation | undefined,
  intervals: ReadonlyArray<{ readonly lo: number; readonly hi: number; readonly op: Operation | null }>,
  producersOf: ReadonlyMap<string, readonly Operation[]>,
  out?: ChainMatching,
): readonly number[] | null {
  const m = chainN.length;
  // Per source value x: its producers by call, with the prefix maximum of their returns.
  const reach = new Map<string, { calls: number[]; maxRet: number[] }>();
  const canHold = (x: string, i: number): boolean => {
    const sep = before(i);
    if (sep !== undefined && resultKey(sep) === x) return true;
    if (sep === undefined && x === NULL_KEY) return true;
    let r = reach.get(x);
    if (r === undefined) {
      const ps = [...(producersOf.get(x) ?? [])].sort((a, b) => a.call - b.call);
      const maxRet: number[] = [];
      let best = Number.NEGATIVE_INFINITY;
      for (const p of ps) maxRet.push((best = Math.max(best, p.ret)));
      reach.set(x, (r = { calls: ps.map((p) => p.call), maxRet }));
    }
    // The latest-returning producer of x among those called before N(i) returned.
    const until = (chainN[i] as Operation).ret;
    let lo = 0;
    let hi = r.calls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((r.calls[mid] as number) < until) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return false;
    return sep === undefined || (r.maxRet[lo - 1] as number) > sep.call;
  };
  let restricted = false;
  // Per source value x, the positions whose window can hold x (computed once per x).
  const holds = new Map<string, Uint8Array>();
  const holdsAt = (x: string): Uint8Array => {
    let h = holds.get(x);
    if (h === undefined) {
      h = new Uint8Array(m);
      for (let i = 0; i < m; i++) h[i] = canHold(x, i) ? 1 : 0;
      holds.set(x, h);
    }
    return h;
  };
  // Adjacency (position -> producers) in compressed rows, each row by increasing hi: producers
  // that can serve fewer later positions come first (as in the greedy).
  const byHi = intervals.map((_, k) => k).sort((a, b) => (intervals[a] as { hi: number }).hi - (intervals[b] as { hi: number }).hi);
  const rowLen = new Int32Array(m + 1);
  const eligible = (k: number, i: number): boolean => {
    const op = (intervals[k] as { readonly op: Operation | null }).op;
    return op === null || op.f !== 'cas' || (holdsAt(opKeys(op).a)[i] as number) === 1;
  };
  let edges = 0;
  for (const k of byHi) {
    const it = intervals[k] as { readonly lo: number; readonly hi: number };
    for (let i = it.lo; i <= Math.min(it.hi, m - 1); i++) {
      if (!eligible(k, i)) restricted = true;
      else {
        rowLen[i + 1] = (rowLen[i + 1] as number) + 1;
        if (++edges > MATCHING_EDGES_MAX) return null;
      }
    }
  }
  if (!restricted && out === undefined) return null; // the same graph the greedy matched in full
  for (let i = 0; i < m; i++) rowLen[i + 1] = (rowLen[i + 1] as number) + (rowLen[i] as number);
  const rowStart = rowLen;
  const fill = rowStart.slice(0, m);
  const cols = new Int32Array(edges);
  for (const k of byHi) {
    const it = intervals[k] as { readonly lo: number; readonly hi: number };
    for (let i = it.lo; i <= Math.min(it.hi, m - 1); i++) {
      if (!eligible(k, i)) continue;
      cols[fill[i] as number] = k;
      fill[i] = (fill[i] as number) + 1;
    }
  }
  const matchOf = new Int32Array(intervals.length).fill(-1); // producer -> position
  const seenAt = new Int32Array(intervals.length).fill(-1);
  const posSeen = new Uint8Array(m);
  let work = 0;
  const augment = (i: number, stamp: number): boolean => {
    posSeen[i] = 1;
    const a = rowStart[i] as number;
    const b = rowStart[i + 1] as number;
    for (let e = a; e < b; e++) {
      const k = cols[e] as number;
      if (matchOf[k] === -1 && seenAt[k] !== stamp) {
        seenAt[k] = stamp;
        matchOf[k] = i;
        return true;
      }
    }
    for (let e = a; e < b; e++) {
      const k = cols[e] as number;
      if (++work > MATCHING_EDGES_MAX * 4) throw new GiveUp();
      if (seenAt[k] === stamp) continue;
      seenAt[k] = stamp;
      const j = matchOf[k] as number;
      if (j === -1 || augment(j, stamp)) {
        matchOf[k] = i;
        return true;
      }
    }
    return false;
  };
  try {
    for (let i = 0; i < m; i++) {
      posSeen.fill(0);
      if (augment(i, i)) continue;
      // Hall set: the positions this failed search reached; its neighbours are the producers
      // it marked, each matched to one of those positions other than i.
      const ids = new Set<number>();
      for (let p = 0; p < m; p++) {
        if (posSeen[p] === 0) continue;
        ids.add((chainN[p] as Operation).id);
        const sep = before(p);
        if (sep !== undefined) ids.add(sep.id);
      }
      for (let k = 0; k < intervals.length; k++) {
        const op = (intervals[k] as { readonly op: Operation | null }).op;
        if (seenAt[k] === i && op !== null) ids.add(op.id);
      }
      return [...ids].sort((a, b) => a - b);
    }
  } catch (e) {
    // Too much work, or a path deeper than the stack: no verdict from this rule (sound).
    if (e instanceof GiveUp || e instanceof RangeError) return null;
    throw e;
  }
  if (out !== undefined) out.matchOf = matchOf;
  return null;
}

/**
 * A linearization built from the pigeonhole matching, for sets made only of one chain: the
 * needers of one value v (all in the chain), the chain's separators, and producers of v. When
 * every needer has its own producer, the order S(-1), p(0), N(0), S(0), p(1), N(1), ... (each
 * producer p(i) just before N(i), unmatched ok writes of v just before the needer of a window
 * they may serve, unmatched info producers left out) respects real time (every op placed in
 * window i may serve it) and the model (each needer sees v). The caller replays it
 * (replay.ts), so a flaw here could only cost time. Null when the set has any other shape.
 */
export function pigeonholeOrder(ops: readonly Operation[]): readonly number[] | null {
  return chainDecision(ops)?.order ?? null;
}

/**
 * For a set whose ok needers all need one value: the pigeonhole rule on it (`shortage`, as
 * findProducerShortage would give) and, when that finds none, the order above (`order`, or
 * null if the set has another shape). Null when the needers need several values (then ask
 * findProducerShortage). One chain and one matching serve both answers.
 */
export function chainDecision(ops: readonly Operation[]): { readonly shortage: readonly number[] | null; readonly order: readonly number[] | null } | null {
  const none = { shortage: null, order: null };
  let v: string | null = null;
  const needers: Operation[] = [];
  const producersOf = new Map<string, Operation[]>();
  const okSetters: Operation[] = [];
  for (const op of ops) {
    const need = neededKey(op);
    // An info cas needs its expected value only if it takes effect; left out, it needs nothing.
    if (need !== null && op.status === 'ok') {
      if (!Number.isFinite(op.ret)) return null; // forced: leave it to findProducerShortage
      if (v === null) v = need;
      else if (v !== need) return null; // several values: not this shape
      needers.push(op);
    }
    const r = resultKey(op);
    if (r !== null) {
      let list = producersOf.get(r);
      if (list === undefined) producersOf.set(r, (list = []));
      list.push(op);
      if (op.status === 'ok' && Number.isFinite(op.ret)) okSetters.push(op);
    }
  }
  if (v === null || needers.length === 0) {
    // Nothing needs any value: only writes and deletes must happen, and any order by call
    // respects real time (if a returned before b was called, a was called first).
    const order = ops.filter((op) => op.status === 'ok').sort((a, b) => a.call - b.call).map((op) => op.id);
    return { shortage: null, order };
  }
  okSetters.sort((a, b) => a.ret - b.ret);
  const out: ChainMatching = {};
  const shortage = shortageFor(v, needers, producersOf.get(v) ?? [], okSetters, producersOf, out);
  if (shortage !== null) return { shortage, order: null };
  const { chainN, before, intervals, matchOf } = out;
  if (chainN === undefined || before === undefined || intervals === undefined || matchOf === undefined) return none;
  const m = chainN.length;
  if (m !== needers.length) return none;
  const matched: Array<Operation | null | undefined> = new Array(m).fill(undefined);
  const extra: Operation[][] = Array.from({ length: m }, () => []);
  intervals.forEach((it, k) => {
    const at = matchOf[k] as number;
    if (at >= 0) matched[at] = it.op;
    else if (it.op !== null && it.op.status === 'ok') (extra[it.lo] as Operation[]).push(it.op);
  });
  if (matched.some((p) => p === undefined)) return none;
  // Every other op must be a chain separator, S(-1), or an info producer of v left out.
  const order: number[] = [];
  const placed = new Set<number>();
  const place = (op: Operation): void => {
    if (placed.has(op.id)) return;
    placed.add(op.id);
    order.push(op.id);
  };
  for (let i = 0; i < m; i++) {
    const sep = before(i);
    if (sep !== undefined) place(sep);
    const p = matched[i];
    if (p !== null && p !== undefined) place(p);
    for (const e of extra[i] as Operation[]) {
      if (e.f !== 'write' && e.f !== 'delete') return none;
      place(e);
    }
    place(chainN[i] as Operation);
  }
  // Ok setters of other values the chain did not use (two separators in one gap, say) go
  // just before a chain separator that is an unconditional setter (which overwrites them), at
  // the first place real time allows.
  const byId = new Map(ops.map((op) => [op.id, op]));
  for (const op of ops) {
    if (placed.has(op.id) || op.status !== 'ok') continue;
    if (resultKey(op) === null || resultKey(op) === v || !Number.isFinite(op.ret)) return none;
    const n = order.length;
    const maxCallBefore = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
    for (let k = 0; k < n; k++) maxCallBefore[k + 1] = Math.max(maxCallBefore[k] as number, (byId.get(order[k] as number) as Operation).call);
    const minRetFrom = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
    for (let k = n - 1; k >= 0; k--) minRetFrom[k] = Math.min(minRetFrom[k + 1] as number, (byId.get(order[k] as number) as Operation).ret);
    let at = -1;
    for (let k = 0; k < n && at < 0; k++) {
      const here = byId.get(order[k] as number) as Operation;
      if ((here.f === 'write' || here.f === 'delete') && (maxCallBefore[k] as number) < op.ret && (minRetFrom[k] as number) > op.call) at = k;
    }
    if (at < 0) return none;
    order.splice(at, 0, op.id);
    placed.add(op.id);
  }
  return { shortage: null, order };
}

class GiveUp extends Error {}

/**
 * Needer i found no producer. Hall's theorem: some set of positions has fewer eligible
 * producers than members; look for one that is a range [j, i] (for points and intervals one
 * exists; if none is found, the whole prefix [0, i] is used, which is deficient too). Witness:
 * needers j..i, the separators between them and the one before N(j), and the producers that
 * can serve some position in [j, i]. The argument applies to the witness alone.
 */
function shortageWitness(
  i: number,
  chainN: readonly Operation[],
  before: (i: number) => Operation | undefined,
  intervals: ReadonlyArray<{ readonly lo: number; readonly hi: number; readonly op: Operation | null }>,
): readonly number[] {
  // Greedy may fail at i because earlier needers used producers a later range needs; so look
  // at every end e >= i and, for each, the shortest deficient range [j, e]; keep the shortest.
  const m = chainN.length;
  let bestJ = 0;
  let bestE = i;
  let bestLen = Number.POSITIVE_INFINITY;
  const byHi = new Int32Array(m + 1);
  for (let e = i; e < m; e++) {
    byHi.fill(0);
    let total = 0;
    for (const it of intervals) {
      if (it.lo > e) continue;
      total++;
      byHi[Math.min(it.hi, m)] = (byHi[Math.min(it.hi, m)] as number) + 1;
    }
    // count(j) = intervals with lo <= e and hi >= j = total - #(hi < j)
    let below = 0;
    for (let h = 0; h < e; h++) below += byHi[h] as number; // #(hi < e)
    for (let j = e; j >= 0 && e - j + 1 < bestLen; j--) {
      if (j < e) below -= byHi[j] as number; // now #(hi < j)
      if (e - j + 1 > total - below) {
        bestJ = j;
        bestE = e;
        bestLen = e - j + 1;
        break;
      }
    }
  }
  if (!Number.isFinite(bestLen)) {
    bestJ = 0;
    bestE = i;
  }
  const j = bestJ;
  i = bestE;
  const reach = intervals.filter((it) => it.lo <= i);
  const ids = new Set<number>();
  for (let k = j; k <= i; k++) ids.add((chainN[k] as Operation).id);
  for (let k = j; k <= i; k++) {
    const sep = before(k);
    if (sep !== undefined) ids.add(sep.id);
  }
  for (const it of reach) if (it.op !== null && it.hi >= j) ids.add(it.op.id);
  return [...ids].sort((a, b) => a - b);
}

