// Cutting a register's history at quiescent points (docs/checker.md, proof 8): where every
// operation called so far has returned (an info operation counts as pending unless it can
// no longer matter after the cut), the search splits into independent searches, one per
// segment, that carry forward the SET of register values a segment can end in. The history
// is linearizable iff some chain of segment linearizations, each starting where the previous
// one ended, exists; the witness is their concatenation.
//
// Values only matter to the rest of the history through what the rest needs: two values that
// no later operation needs start the rest equally well, so the end states of a segment are
// kept as the needed values it can end in plus one representative of the others.

import { searchFrontier, type FrontierOptions } from './frontier-search.js';
import type { Model, Operation } from './types.js';
import type { SearchResult } from './wgl.js';

export interface CutOptions extends FrontierOptions<string> {
  /** Segments shorter than this are merged with the next one (fewer, larger searches). */
  readonly minSegment?: number;
}

// Measured on a 20,000-op one-key history: tiny segments cost more in per-search setup and
// end-state probes than they save; segments of ~1,000 ops halve the search time.
const MIN_SEGMENT_DEFAULT = 1000;

/**
 * The segments of `ops` (lists of indices into ops, in call order) at the sound cut points:
 * a point t between two consecutive calls where (a) every ok operation called before t
 * returned before t, and (b) every info operation s called before t (since the last cut)
 * produces a value v that no operation called after t needs and no other info operation of
 * the segment needs. Needs `values` (register models); without them there are no cuts.
 */
export function cutPoints(ops: readonly Operation[], values: NonNullable<FrontierOptions<string>['values']>, minSegment = 1): number[][] {
  const byCall = ops.map((_, i) => i).sort((a, b) => (ops[a] as Operation).call - (ops[b] as Operation).call);
  // Latest call of an operation needing each value.
  const lastNeedCall = new Map<string, number>();
  for (const op of ops) {
    const v = values.needs(op);
    if (v !== null) lastNeedCall.set(v, Math.max(lastNeedCall.get(v) ?? Number.NEGATIVE_INFINITY, op.call));
  }
  const segments: number[][] = [];
  let cur: number[] = [];
  let maxOkRet = Number.NEGATIVE_INFINITY;
  let maxReady = Number.NEGATIVE_INFINITY;
  let blocked = false;
  let infoProd = new Map<string, number>();
  let infoNeed = new Map<string, number>();
  for (const i of byCall) {
    const op = ops[i] as Operation;
    if (cur.length >= minSegment && !blocked && maxOkRet < op.call && maxReady < op.call) {
      segments.push(cur);
      cur = [];
      maxOkRet = Number.NEGATIVE_INFINITY;
      maxReady = Number.NEGATIVE_INFINITY;
      infoProd = new Map();
      infoNeed = new Map();
    }
    cur.push(i);
    if (op.status === 'ok') {
      maxOkRet = Math.max(maxOkRet, op.ret);
      continue;
    }
    const need = values.needs(op);
    const prod = values.produces(op);
    if (need !== null && (infoProd.get(need) ?? 0) > 0) blocked = true;
    if (prod !== null && (infoNeed.get(prod) ?? 0) > 0) blocked = true;
    if (need !== null) infoNeed.set(need, (infoNeed.get(need) ?? 0) + 1);
    if (prod !== null) {
      infoProd.set(prod, (infoProd.get(prod) ?? 0) + 1);
      maxReady = Math.max(maxReady, lastNeedCall.get(prod) ?? Number.NEGATIVE_INFINITY);
    }
    if (blocked) {
      // Blocked for the rest of this segment: no cut until the end.
      maxReady = Number.POSITIVE_INFINITY;
    }
  }
  if (cur.length > 0) segments.push(cur);
  return segments;
}

interface EndState {
  readonly state: string;
  /** Index of the start state (in the previous segment's end list) it was reached from. */
  readonly from: number;
  readonly order: readonly number[];
}

/**
 * The frontier search over a register's operations, cut at quiescent points. Same verdicts
 * as searchFrontier; a `true` carries a linearization of the whole of `ops`.
 */
export function searchWithCuts(model: Model<string>, ops: readonly Operation[], options: CutOptions): SearchResult & { readonly segments: number } {
  const values = options.values;
  const segments = values === undefined ? [] : cutPoints(ops, values, options.minSegment ?? MIN_SEGMENT_DEFAULT);
  if (values === undefined || segments.length <= 1) return { ...searchFrontier(model, ops, options), segments: 1 };
  const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
  let steps = 0;
  let incomplete = false;
  const layers: EndState[][] = [[{ state: model.init(), from: -1, order: [] }]];
  // Values needed by operations of later segments (suffix union), to class the end states.
  const neededAfter: Array<Set<string>> = new Array(segments.length);
  let acc = new Set<string>();
  for (let k = segments.length - 1; k >= 0; k--) {
    neededAfter[k] = acc;
    const next = new Set(acc);
    for (const i of segments[k] as number[]) {
      const v = values.needs(ops[i] as Operation);
      if (v !== null) next.add(v);
    }
    acc = next;
  }
  let endId = -1;
  for (const op of ops) endId = Math.min(endId, -1 - op.id);
  const witnessTo = (k: number, e: number): number[] => {
    const parts: Array<readonly number[]> = [];
    for (let j = k; j > 0; j--) {
      const es = (layers[j] as EndState[])[e] as EndState;
      parts.push(es.order);
      e = es.from;
    }
    return parts.reverse().flat();
  };
  const run = (seg: readonly Operation[], start: string, end: string | null): SearchResult => {
    const m: Model<string> = {
      ...model,
      init: () => start,
      step: (s, op) => (op.id === endId ? (s === end ? [s] : []) : model.step(s, op)),
    };
    let list = seg;
    let opts: FrontierOptions<string> = options;
    if (end !== null) {
      const last = seg.reduce((x, op) => Math.max(x, Number.isFinite(op.ret) ? op.ret : op.call), Number.NEGATIVE_INFINITY);
      const probe: Operation = { id: endId, process: -1, f: 'read', key: seg[0]?.key ?? null, input: null, output: end, status: 'ok', call: last + 1, ret: last + 2, line: 0 };
      list = [...seg, probe];
      opts = {
        ...options,
        readOnly: (op) => op.id === endId || (options.readOnly?.(op) ?? false),
        values: { ...values, needs: (op) => (op.id === endId ? end : values.needs(op)) },
      };
    }
    const r = searchFrontier(m, list, { ...opts, maxSteps: maxSteps - steps });
    steps += r.steps;
    if (r.valid === 'unknown') incomplete = true;
    return end === null ? r : { ...r, linearized: r.linearized.filter((id) => id !== endId) };
  };
  const finalState = (start: string, seg: readonly Operation[], order: readonly number[]): string => {
    const byId = new Map(seg.map((op) => [op.id, op]));
    let s = start;
    for (const id of order) s = model.step(s, byId.get(id) as Operation)[0] as string;
    return s;
  };
  for (let k = 0; k < segments.length; k++) {
    const seg = (segments[k] as number[]).map((i) => ops[i] as Operation);
    const starts = layers[k] as EndState[];
    const lastSeg = k === segments.length - 1;
    const needed = neededAfter[k] as Set<string>;
    // End states that matter: values the rest needs, and one class for all others.
    const classOf = (s: string): string => (needed.has(s) ? s : '\u0000other');
    const ends: EndState[] = [];
    const covered = new Set<string>();
    // Candidate ends: values a last setter of the segment may leave (a setter no ok setter
    // was called after the return of), or the start state when no ok setter exists.
    const okSetterCalls = seg.filter((op) => op.status === 'ok' && values.produces(op) !== null).map((op) => op.call).sort((a, b) => b - a);
    const candidates = new Set<string>();
    for (const op of seg) {
      const v = values.produces(op);
      if (v === null) continue;
      const latestOther = okSetterCalls[0] === op.call && op.status === 'ok' ? (okSetterCalls[1] ?? Number.NEGATIVE_INFINITY) : (okSetterCalls[0] ?? Number.NEGATIVE_INFINITY);
      if (op.ret > latestOther) candidates.add(v);
    }
    const live: number[] = [];
    for (let si = 0; si < starts.length; si++) {
      const start = (starts[si] as EndState).state;
      const r = run(seg, start, null);
      if (steps > maxSteps || (options.deadlineMs !== undefined && Date.now() > options.deadlineMs)) return { valid: 'unknown', linearized: witnessTo(k, si), steps, segments: segments.length };
      if (r.valid !== true) continue;
      if (lastSeg) return { valid: true, linearized: [...witnessTo(k, si), ...r.linearized], steps, segments: segments.length };
      live.push(si);
      const e = finalState(start, seg, r.linearized);
      if (!covered.has(classOf(e))) {
        covered.add(classOf(e));
        ends.push({ state: e, from: si, order: r.linearized });
      }
    }
    if (!lastSeg) {
      const todo = [...new Set([...candidates, ...(okSetterCalls.length === 0 ? starts.map((s) => s.state) : [])])].filter((v) => !covered.has(classOf(v)));
      for (const v of todo) {
        if (covered.has(classOf(v))) continue;
        for (const si of live) {
          const r = run(seg, (starts[si] as EndState).state, v);
          if (steps > maxSteps || (options.deadlineMs !== undefined && Date.now() > options.deadlineMs)) return { valid: 'unknown', linearized: witnessTo(k, si), steps, segments: segments.length };
          if (r.valid === true) {
            covered.add(classOf(v));
            ends.push({ state: v, from: si, order: r.linearized });
            break;
          }
        }
      }
    }
    if (ends.length === 0) {
      const prefix = starts.length > 0 ? witnessTo(k, 0) : [];
      return { valid: incomplete ? 'unknown' : false, linearized: prefix, steps, segments: segments.length };
    }
    layers.push(ends);
  }
  // Unreachable: the last segment returns above (true) or has no ends (false / unknown).
  return { valid: incomplete ? 'unknown' : false, linearized: [], steps, segments: segments.length };
}
