// The general search the checker uses: Wing & Gong's depth-first search with Lowe's memo,
// reorganised around the frontier (docs/checker.md, "The general search"):
//
// - At each configuration the candidates are the operations that may be linearized next:
//   those called before the earliest return of any operation not yet linearized. (This is
//   exactly the set of call entries WGL walks before it meets a return entry.)
// - Candidates are tried earliest deadline first (by return position, info operations,
//   which return at +Infinity, last; the only setter of a value is due when the first op
//   that needs the value returns), which finds the linearization of a correct history
//   with little backtracking.
// - A read-only candidate that is legal now (a register read of the current value) is
//   taken without trying anything else: moving it to the front of any linearization from
//   here gives another linearization, so if it fails here, everything fails here.
// - With values (registers): a configuration where an ok operation still needs a value the
//   register no longer holds, and no remaining operation can set it again in time (called
//   before that operation returns), is abandoned at once.
// - Of candidates that never return (info, or forced) and do the same thing, only the one
//   called first is tried: swapping two such operations maps the completions of one choice
//   onto those of the other.
// - Configurations (set of linearized operations, model state) already explored are not
//   explored again (Lowe's memo); the memo is bounded, which only costs time.
// Verdicts are the same as wgl.ts's; only the order of exploration differs.

import { MemoTable } from './memo.js';
import type { Model, Operation, Verdict } from './types.js';
import { valueKey } from './values.js';
import type { SearchLimits, SearchResult } from './wgl.js';

const MEMO_WORDS_MAX_DEFAULT = 32 * 1024 * 1024; // about 128 MiB of memo

export interface FrontierOptions<S> extends SearchLimits {
  /** True for operations that never change the state (register reads). */
  readonly readOnly?: (op: Operation) => boolean;
  /** True for operations whose new state does not depend on the old one (writes, deletes). */
  readonly unconditional?: (op: Operation) => boolean;
  /**
   * For value-based models (registers): what an op must see, what it produces, and the
   * value a state holds. Lets the search drop a configuration as soon as some ok op needs a
   * value that the state no longer holds and no remaining op can produce again.
   */
  readonly values?: {
    readonly needs: (op: Operation) => string | null;
    readonly produces: (op: Operation) => string | null;
    readonly stateValue: (state: S) => string;
  };
}

export function searchFrontier<S>(model: Model<S>, ops: readonly Operation[], options: FrontierOptions<S> = {}): SearchResult {
  const n = ops.length;
  if (n === 0) return { valid: true, linearized: [], steps: 0 };
  const readOnly = options.readOnly ?? ((): boolean => false);
  const unconditional = options.unconditional ?? ((): boolean => false);

  // Ops by call position; "pending returns" kept in a min-structure over ret of unlinearized ops.
  const byCall = ops.map((_, i) => i).sort((a, b) => (ops[a] as Operation).call - (ops[b] as Operation).call);
  const byRet = ops.map((_, i) => i).sort((a, b) => (ops[a] as Operation).ret - (ops[b] as Operation).ret || (ops[a] as Operation).call - (ops[b] as Operation).call);
  const done = new Uint8Array(n);
  const posInRet = new Int32Array(n);
  byRet.forEach((i, k) => (posInRet[i] = k));
  const posInCall = new Int32Array(n);
  byCall.forEach((i, k) => (posInCall[i] = k));
  // First positions (in byRet, byCall) of an op not yet linearized: moved forward past
  // linearized ops on demand, moved back when an op is un-linearized.
  let retPtr = 0;
  let okDone = 0;
  let callPtr = 0;
  const mark = (i: number, on: boolean): void => {
    done[i] = on ? 1 : 0;
    if (!on) {
      retPtr = Math.min(retPtr, posInRet[i] as number);
      callPtr = Math.min(callPtr, posInCall[i] as number);
    }
  };
  const firstUndoneByRet = (): number => {
    while (retPtr < n && done[byRet[retPtr] as number] !== 0) retPtr++;
    return retPtr < n ? (byRet[retPtr] as number) : -1;
  };

  // Operations that never return are interchangeable once called when they do the same
  // thing (same function, input, output and status): their class, else undefined.
  const twin: Array<string | undefined> = ops.map((op) =>
    Number.isFinite(op.ret) ? undefined : `${op.f}\u0000${valueKey(op.input)}\u0000${valueKey(op.output)}\u0000${op.status}`,
  );

  // Dead values (see FrontierOptions.values): per value, ok ops still needing it and ops
  // still able to produce it.
  const values = options.values;
  const valueIndex = new Map<string, number>();
  const indexOf = (v: string | null): number => {
    if (v === null) return -1;
    let k = valueIndex.get(v);
    if (k === undefined) valueIndex.set(v, (k = valueIndex.size));
    return k;
  };
  const opNeed = new Int32Array(n).fill(-1);
  const opNeedAny = new Int32Array(n).fill(-1);
  const opProd = new Int32Array(n).fill(-1);
  if (values !== undefined) {
    ops.forEach((op, i) => {
      const need = indexOf(values.needs(op));
      opNeedAny[i] = need;
      opNeed[i] = op.status === 'ok' ? need : -1;
      opProd[i] = indexOf(values.produces(op));
    });
  }
  const pendNeed = new Int32Array(valueIndex.size);
  /** Like pendNeed, counting info operations too (an info cas may need a value). */
  const pendAny = new Int32Array(valueIndex.size);
  const remProd = new Int32Array(valueIndex.size);
  const bump = (arr: Int32Array, k: number, d: number): void => {
    if (k >= 0) arr[k] = (arr[k] as number) + d;
  };
  for (let i = 0; i < n; i++) {
    bump(pendNeed, opNeed[i] as number, 1);
    bump(pendAny, opNeedAny[i] as number, 1);
    bump(remProd, opProd[i] as number, 1);
  }
  const stateIndex = (st: S): number => (values === undefined ? -1 : (valueIndex.get(values.stateValue(st)) ?? -1));
  const isDead = (v: number, now: number): boolean => v >= 0 && v !== now && (pendNeed[v] as number) > 0 && remProd[v] === 0;
  /** After op i took `before` to `after`: did some needed value just become unreachable? */
  const deadAfter = (i: number, before: S, after: S): boolean => {
    if (values === undefined) return false;
    const now = stateIndex(after);
    return isDead(stateIndex(before), now) || isDead(opProd[i] as number, now);
  };

  // Per value, its producers by call, and the first one not yet linearized (moved forward
  // lazily, back on undo): an ok op needing v, with v not the state now, can still see v only
  // if some unlinearized producer of v is called before the op returns.
  const producersOf: number[][] = Array.from({ length: valueIndex.size }, () => []);
  for (const i of byCall) if ((opProd[i] as number) >= 0) (producersOf[opProd[i] as number] as number[]).push(i);
  const posInProducers = new Int32Array(n).fill(-1);
  for (const list of producersOf) list.forEach((i, k) => (posInProducers[i] = k));
  const prodPtr = new Int32Array(valueIndex.size);
  /** Whether ok op i, needing a value the state does not hold, can no longer see it. */
  const cannotSee = (i: number, now: number): boolean => {
    const v = opNeed[i] as number;
    if (v < 0 || v === now) return false;
    const list = producersOf[v] as number[];
    let k = prodPtr[v] as number;
    while (k < list.length && done[list[k] as number] !== 0) k++;
    prodPtr[v] = k;
    const deadline = (ops[i] as Operation).ret;
    for (; k < list.length; k++) {
      const p = list[k] as number;
      if ((ops[p] as Operation).call > deadline) return true;
      if (p !== i && done[p] === 0) return false;
    }
    return true;
  };

  // Invisible writes: ok unconditional setters whose value no op needs. Linearized alone,
  // one must be followed by an unconditional setter (or nothing) anyway; so they ride along
  // with the next unconditional setter (docs/checker.md), and are tried alone last.
  const invisibleOp = new Uint8Array(n);
  if (values !== undefined) {
    for (let i = 0; i < n; i++) {
      const op = ops[i] as Operation;
      const v = opProd[i] as number;
      if (op.status === 'ok' && Number.isFinite(op.ret) && unconditional(op) && v >= 0 && pendAny[v] === 0) invisibleOp[i] = 1;
    }
  }

  /** An ok write or delete whose value no remaining operation needs (checked as it stands now). */
  const invisibleNow = (j: number): boolean => {
    const op = ops[j] as Operation;
    const v = opProd[j] as number;
    return op.status === 'ok' && Number.isFinite(op.ret) && v >= 0 && pendAny[v] === 0 && unconditional(op);
  };

  // The order candidates are tried in: by deadline, where the deadline of the only setter
  // of a value is also the earliest return of an ok op that needs that value (it must be
  // linearized before that one). Only the order depends on this, never the verdict.
  const urgency = new Float64Array(n);
  // A never-returning conditional op (an info cas) is tried before never-returning
  // unconditional ones (info writes): it is legal only in some states, a write in all, so
  // spending the cas while it fits leaves the writes for later (order only).
  ops.forEach((op, i) => (urgency[i] = invisibleOp[i] === 1 || (!Number.isFinite(op.ret) && !unconditional(op) && !readOnly(op)) ? Number.MAX_VALUE : op.ret));
  if (values !== undefined) {
    const producerOf = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const v = opProd[i] as number;
      if (v >= 0) producerOf.set(v, producerOf.has(v) ? -1 : i);
    }
    for (let i = 0; i < n; i++) {
      const v = opNeed[i] as number;
      const p = v >= 0 ? producerOf.get(v) : undefined;
      if (p !== undefined && p >= 0 && p !== i) urgency[p] = Math.min(urgency[p] as number, (ops[i] as Operation).ret);
    }
  }

  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const zobA = new Uint32Array(n);
  const zobB = new Uint32Array(n);
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let i = 0; i < n; i++) {
    zobA[i] = rand();
    zobB[i] = rand();
  }
  let hA = 0;
  let hB = 0;
  // Info twins as counts (docs/checker.md, proof 6c): linearized members of a class of info
  // operations that do the same thing are always its earliest called ones (only the earliest
  // is ever tried), so a configuration is (the other ops linearized, state, count per class).
  // A configuration that failed makes any with the same other ops and state and at least as
  // many used of every class fail too: the same completion would work from the failed one.
  const twinIdx = new Int32Array(n).fill(-1);
  const classOf = new Map<string, number>();
  ops.forEach((op, i) => {
    const c = twin[i];
    if (c === undefined || op.status !== 'info') return;
    let k = classOf.get(c);
    if (k === undefined) classOf.set(c, (k = classOf.size));
    twinIdx[i] = k;
  });
  const classes = classOf.size;
  const used = new Int32Array(classes);
  const nbits = new Uint32Array(words);
  let nA = 0;
  let nB = 0;
  const flip = (i: number): void => {
    bits[i >>> 5] = (bits[i >>> 5] as number) ^ (1 << (i & 31));
    hA = (hA ^ (zobA[i] as number)) >>> 0;
    hB = (hB ^ (zobB[i] as number)) >>> 0;
    const cls = twinIdx[i] as number;
    if (cls >= 0) used[cls] = (used[cls] as number) + (done[i] === 0 ? 1 : -1);
    else {
      nbits[i >>> 5] = (nbits[i >>> 5] as number) ^ (1 << (i & 31));
      nA = (nA ^ (zobA[i] as number)) >>> 0;
      nB = (nB ^ (zobB[i] as number)) >>> 0;
    }
    const on = done[i] === 0;
    mark(i, on);
    if ((ops[i] as Operation).status === 'ok') okDone += on ? 1 : -1;
    const d = on ? -1 : 1;
    bump(pendNeed, opNeed[i] as number, d);
    bump(pendAny, opNeedAny[i] as number, d);
    bump(remProd, opProd[i] as number, d);
    if (!on && (opProd[i] as number) >= 0) {
      const v = opProd[i] as number;
      prodPtr[v] = Math.min(prodPtr[v] as number, posInProducers[i] as number);
    }
  };
  const stateIds = new Map<string, number>();
  const stateId = (s: S): number => {
    const h = model.hash(s);
    let id = stateIds.get(h);
    if (id === undefined) stateIds.set(h, (id = stateIds.size));
    return id;
  };
  const memo = new MemoTable(words, options.memoWordsMax ?? MEMO_WORDS_MAX_DEFAULT);
  /** Records (current set, state) and says whether it is new. */
  const fresh = (state: number): boolean => memo.addIfFresh(hA * 0x200000 + ((hB ^ Math.imul(state, 0x9e3779b1)) & 0x1fffff), state, bits);

  // Failed configurations, for the dominance test (bounded: past the cap nothing is recorded).
  const failedHeads = new Map<number, number>();
  const failedState: number[] = [];
  const failedNext: number[] = [];
  const failedBits: Uint32Array[] = [];
  const failedUsed: Int32Array[] = [];
  const failedMax = Math.max(0, Math.floor((options.memoWordsMax ?? MEMO_WORDS_MAX_DEFAULT) / 4 / (words + classes + 8)));
  const failedHash = (st: number): number => nA * 0x200000 + ((nB ^ Math.imul(st, 0x9e3779b1)) & 0x1fffff);
  const recordFailed = (st: number): void => {
    if (classes === 0 || failedState.length >= failedMax) return;
    const h = failedHash(st);
    // Entries this one dominates (same ops and state, at least as many used) are redundant:
    // unlink them, so the chains stay short (a refuted descendant reached by info twins only
    // is recorded before its ancestor is).
    let prev = -1;
    for (let e = failedHeads.get(h) ?? -1; e !== -1; e = failedNext[e] as number) {
      let redundant = failedState[e] === st;
      const b = failedBits[e] as Uint32Array;
      for (let w = 0; w < words && redundant; w++) if (b[w] !== nbits[w]) redundant = false;
      const u = failedUsed[e] as Int32Array;
      for (let k = 0; k < classes && redundant; k++) if ((u[k] as number) < (used[k] as number)) redundant = false;
      if (!redundant) {
        prev = e;
        continue;
      }
      if (prev === -1) {
        const next = failedNext[e] as number;
        if (next === -1) failedHeads.delete(h);
        else failedHeads.set(h, next);
      } else failedNext[prev] = failedNext[e] as number;
    }
    failedState.push(st);
    failedBits.push(nbits.slice());
    failedUsed.push(used.slice());
    failedNext.push(failedHeads.get(h) ?? -1);
    failedHeads.set(h, failedState.length - 1);
  };
  const dominated = (st: number): boolean => {
    if (classes === 0) return false;
    for (let e = failedHeads.get(failedHash(st)) ?? -1; e !== -1; e = failedNext[e] as number) {
      if (failedState[e] !== st) continue;
      const b = failedBits[e] as Uint32Array;
      let same = true;
      for (let w = 0; w < words && same; w++) if (b[w] !== nbits[w]) same = false;
      if (!same) continue;
      const u = failedUsed[e] as Int32Array;
      let le = true;
      for (let k = 0; k < classes && le; k++) if ((u[k] as number) > (used[k] as number)) le = false;
      if (le) return true;
    }
    return false;
  };

  /** The candidates at the current configuration, earliest deadline first; [] if none. */
  const candidates = (state: S): { readonly cands: readonly number[]; readonly only: boolean; readonly blocker: number } => {
    const blocker = firstUndoneByRet();
    const limit = blocker === -1 ? Number.POSITIVE_INFINITY : (ops[blocker] as Operation).ret;
    const cands: number[] = [];
    while (callPtr < n && done[byCall[callPtr] as number] !== 0) callPtr++;
    for (let k = callPtr; k < n; k++) {
      const i = byCall[k] as number;
      const op = ops[i] as Operation;
      if (op.call > limit) break;
      if (done[i] !== 0) continue;
      if (readOnly(op) && model.step(state, op).length > 0) return { cands: [i], only: true, blocker };
      if (values !== undefined && cannotSee(i, stateIndex(state))) return { cands: [], only: false, blocker: i };
      // An info setter whose value nothing left needs is as good as never happening.
      if (op.status === 'info' && values !== undefined && (opProd[i] as number) >= 0 && pendAny[opProd[i] as number] === 0) continue;
      cands.push(i);
    }
    // An info write or delete is tried only right before a candidate that needs its value
    // (and only if the register does not hold that value already): in any linearization, one
    // that is not so placed can be removed (docs/checker.md, proof 6b).
    if (values !== undefined && cands.length > 1) {
      const now = stateIndex(state);
      let needMask: Set<number> | undefined;
      let w = 0;
      for (const i of cands) {
        const op = ops[i] as Operation;
        if (op.status === 'info' && !Number.isFinite(op.ret) && unconditional(op)) {
          const v = opProd[i] as number;
          if (v === now) continue;
          if (needMask === undefined) {
            needMask = new Set();
            for (const j of cands) if ((opNeedAny[j] as number) >= 0) needMask.add(opNeedAny[j] as number);
          }
          if (!needMask.has(v)) continue;
        }
        cands[w++] = i;
      }
      cands.length = w;
    }
    // A write of the value the register already holds changes nothing now; it goes last
    // (order only: it is still tried).
    const nowValue = stateIndex(state);
    const due = (i: number): number => (nowValue >= 0 && opProd[i] === nowValue && unconditional(ops[i] as Operation) ? Number.POSITIVE_INFINITY : (urgency[i] as number));
    cands.sort((a, b) => due(a) - due(b) || (urgency[a] as number) - (urgency[b] as number) || (ops[a] as Operation).call - (ops[b] as Operation).call);
    // Of several never-returning candidates that do the same thing, trying the earliest
    // called is enough: the others lead to mirror-image configurations.
    let seen: Set<string> | undefined;
    let w = 0;
    for (const i of cands) {
      const cls = twin[i];
      if (cls !== undefined) {
        seen ??= new Set();
        if (seen.has(cls)) continue;
        seen.add(cls);
      }
      cands[w++] = i;
    }
    cands.length = w;
    return { cands, only: false, blocker };
  };

  // An info operation that never took effect is simply never linearized: the search is done
  // once every ok operation is. So there is no "never happened" choice to branch on.
  const successors = (state: S, op: Operation): { readonly states: readonly S[]; readonly skip: number } => ({ states: model.step(state, op), skip: -1 });
  const okTotal = ops.filter((op) => op.status === 'ok').length;

  interface Frame {
    readonly before: S;
    readonly cands: readonly number[];
    /** A frame of one greedy read: nothing else is tried here. */
    readonly only: boolean;
    ci: number;
    succ: { readonly states: readonly S[]; readonly skip: number } | undefined;
    choice: number;
    /** The op applied from this frame (cands[ci]) while a child is explored, else -1. */
    applied: number;
    /** Invisible writes linearized just before `applied` (see `invisible`). */
    absorbed: readonly number[];
  }
  let state = model.init();
  const stack: Frame[] = [];
  let linearizedCount = 0;
  let steps = 0;
  const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
  const deadline = options.deadlineMs ?? Number.POSITIVE_INFINITY;
  // Copies of the path (ops applied at depths 0..k-1) at its longest and at its deepest
  // dead end. Only the part below which the path changed since the last copy is re-copied,
  // so keeping them costs O(1) amortized per step.
  const best = new PathCopy();
  const stuckPrefix = new PathCopy();
  let stuckDepth = -1;
  let stuckOp = -1;
  let stuckState = model.hash(state);
  // Depth d of the path is frame d: its absorbed ops, then its applied op.
  const pathAt = (d: number): readonly number[] => {
    const f = stack[d] as Frame;
    return f.absorbed.length === 0 ? [f.applied] : [...f.absorbed, f.applied];
  };
  let depth = 0;
  let bestCount = 0;
  const ids = (xs: readonly number[]): number[] => xs.map((i) => (ops[i] as Operation).id);

  /** Pushes the frame for the current configuration; false if it is a dead end at once. */
  const open = (): boolean => {
    const c = candidates(state);
    if (c.cands.length === 0) {
      recordFailed(stateId(state));
      if (linearizedCount > stuckDepth) {
        stuckDepth = linearizedCount;
        stuckOp = c.blocker;
        stuckPrefix.record(depth, pathAt);
        stuckState = model.hash(state);
      }
      return false;
    }
    stack.push({ before: state, cands: c.cands, only: c.only, ci: 0, succ: undefined, choice: 0, applied: -1, absorbed: NO_OPS });
    return true;
  };

  if (okTotal === 0) return { valid: true, linearized: [], steps };
  // A value needed but never produced (and not the initial one) fails at once.
  const initial = stateIndex(state);
  for (let i = 0; i < n; i++) {
    if (isDead(opNeed[i] as number, initial)) return { valid: false, linearized: [], stuck: (ops[i] as Operation).id, stateAfter: stuckState, steps };
  }
  if (!open()) {
    return { valid: false, linearized: [], stuck: (ops[stuckOp] as Operation).id, stateAfter: stuckState, steps };
  }
  if (stack.length === 0) throw new Error('unreachable');
  for (;;) {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      return { valid: false, linearized: ids(stuckPrefix.get()), stuck: (ops[stuckOp] as Operation).id, stateAfter: stuckState, steps };
    }
    if (top.applied !== -1) {
      // Back from a child that failed: undo, then move to the next choice.
      flip(top.applied);
      for (const j of top.absorbed) flip(j);
      linearizedCount -= 1 + top.absorbed.length;
      depth--;
      best.changedAt(depth);
      stuckPrefix.changedAt(depth);
      state = top.before;
      top.applied = -1;
      top.absorbed = NO_OPS;
      top.choice++;
    }
    let moved = false;
    while (top.ci < top.cands.length) {
      const i = top.cands[top.ci] as number;
      if (top.succ === undefined) {
        top.succ = successors(top.before, ops[i] as Operation);
        top.choice = 0;
      }
      if (top.choice >= top.succ.states.length) {
        top.ci++;
        top.succ = undefined;
        continue;
      }
      steps++;
      if (steps > maxSteps || ((steps & 1023) === 0 && Date.now() > deadline)) {
        return { valid: 'unknown', linearized: ids(best.get()), steps };
      }
      const s = top.succ.states[top.choice] as S;
      // An unconditional setter that takes effect carries the invisible writes among the
      // candidates with it, linearized just before it (nobody can see them there).
      const absorbed =
        unconditional((ops[i] as Operation)) && top.choice !== top.succ.skip && !top.only
          ? top.cands.filter((j) => j !== i && done[j] === 0 && invisibleNow(j))
          : NO_OPS;
      flip(i);
      for (const j of absorbed) flip(j);
      if (deadAfter(i, top.before, s) || absorbed.some((j) => deadAfter(j, s, s)) || !fresh(stateId(s)) || dominated(stateId(s))) {
        flip(i);
        for (const j of absorbed) flip(j);
        top.choice++;
        continue;
      }
      top.applied = i;
      top.absorbed = absorbed;
      linearizedCount += 1 + absorbed.length;
      depth++;
      state = s;
      moved = true;
      break;
    }
    if (!moved) {
      // Every candidate here is illegal or explored: a dead end at this depth.
      recordFailed(stateId(state));
      if (linearizedCount > stuckDepth) {
        stuckDepth = linearizedCount;
        stuckOp = firstUndoneByRet();
        stuckPrefix.record(depth, pathAt);
        stuckState = model.hash(state);
      }
      stack.pop();
      continue;
    }
    if (linearizedCount > bestCount) {
      bestCount = linearizedCount;
      best.record(depth, pathAt);
    }
    if (okDone === okTotal) {
      const order = stack
        .filter((f) => f.applied !== -1)
        .flatMap((f) => (f.succ !== undefined && f.choice === f.succ.skip ? [...f.absorbed] : [...f.absorbed, f.applied]));
      return { valid: true, linearized: ids(order), steps };
    }
    open();
    // If open() found a dead end, the loop comes back to `top` and tries its next choice.
  }
}

/** A copy of a prefix of the search path (ops per depth), refreshed incrementally. */
class PathCopy {
  private readonly items: Array<readonly number[]> = [];
  length = 0;
  /** Lowest depth whose entry may differ from the live path. */
  private low = 0;

  changedAt(depth: number): void {
    if (depth < this.low) this.low = depth;
  }

  record(length: number, at: (depth: number) => readonly number[]): void {
    for (let d = Math.min(this.low, length); d < length; d++) this.items[d] = at(d);
    this.items.length = length;
    this.length = length;
    this.low = length;
  }

  get(): number[] {
    return this.items.slice(0, this.length).flat();
  }
}

const NO_OPS: readonly number[] = [];
