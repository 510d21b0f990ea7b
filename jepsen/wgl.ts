// The general search: Wing & Gong's backtracking over the history, with Lowe's memo of
// (set of linearized operations, model state). Porcupine's shape, for any Model.
//
// The history is a doubly linked list of call and return entries in real-time order. At a
// call entry we try to linearize its operation now (apply it to the model, unlink its call
// and return); at a return entry, the operation whose return it is must already have been
// linearized, so we backtrack. A configuration seen before (same set, same state) cannot
// lead anywhere new and is skipped. Operations that ended `info` return at +Infinity and
// may also be linearized as "never happened" (the state does not change).

import { MemoTable } from './memo.js';
import type { Model, Operation, Verdict } from './types.js';

export interface SearchLimits {
  /** Wall-clock deadline (Date.now() ms); past it the answer is 'unknown'. */
  readonly deadlineMs?: number;
  /** Deterministic bound on search steps; past it the answer is 'unknown'. */
  readonly maxSteps?: number;
  /** Bound on the memo, in 32-bit words (sets plus per-entry overhead); past it the memo stops growing (still sound). */
  readonly memoWordsMax?: number;
}

export interface SearchResult {
  readonly valid: Verdict;
  /** Ids in linearization order: all when valid; else the prefix at the deepest failure (unknown: the longest prefix). */
  readonly linearized: readonly number[];
  /** When not valid: the operation whose return was reached, unlinearized, after the deepest prefix. */
  readonly stuck?: number;
  /** The model state (its hash) after the longest prefix found. */
  readonly stateAfter?: string;
  readonly steps: number;
}

const MEMO_WORDS_MAX_DEFAULT = 32 * 1024 * 1024; // about 128 MiB of memo

export function searchLinearization<S>(model: Model<S>, ops: readonly Operation[], limits: SearchLimits = {}): SearchResult {
  const n = ops.length;
  if (n === 0) return { valid: true, linearized: [], steps: 0 };

  // Entries: 2i is op i's call, 2i+1 its return; node 2n is the head sentinel.
  const order: Array<{ node: number; time: number; tie: number }> = [];
  for (let i = 0; i < n; i++) {
    const op = ops[i] as Operation;
    order.push({ node: 2 * i, time: op.call, tie: 0 });
    order.push({ node: 2 * i + 1, time: op.ret, tie: op.call });
  }
  // Returns at +Infinity (info) keep their call order; finite positions are distinct.
  order.sort((a, b) => a.time - b.time || a.tie - b.tie || a.node - b.node);
  const HEAD = 2 * n;
  const NONE = -1;
  const next = new Int32Array(2 * n + 1).fill(NONE);
  const prev = new Int32Array(2 * n + 1).fill(NONE);
  let last = HEAD;
  for (const e of order) {
    next[last] = e.node;
    prev[e.node] = last;
    last = e.node;
  }

  const lift = (i: number): void => {
    const c = 2 * i;
    const r = c + 1;
    next[prev[c] as number] = next[c] as number;
    if (next[c] !== NONE) prev[next[c] as number] = prev[c] as number;
    next[prev[r] as number] = next[r] as number;
    if (next[r] !== NONE) prev[next[r] as number] = prev[r] as number;
  };
  const unlift = (i: number): void => {
    const c = 2 * i;
    const r = c + 1;
    // Reverse order of lift: the links saved in the removed nodes are still right (dancing links).
    if (next[r] !== NONE) prev[next[r] as number] = r;
    next[prev[r] as number] = r;
    if (next[c] !== NONE) prev[next[c] as number] = c;
    next[prev[c] as number] = c;
  };

  // Zobrist-style hash of the linearized set, updated in O(1); collisions are resolved by
  // comparing the stored sets, so they cost time, never a wrong answer.
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const zobA = new Uint32Array(n);
  const zobB = new Uint32Array(n);
  let seed = 0x9e3779b9;
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
  const flip = (i: number): void => {
    bits[i >>> 5] = (bits[i >>> 5] as number) ^ (1 << (i & 31));
    hA = (hA ^ (zobA[i] as number)) >>> 0;
    hB = (hB ^ (zobB[i] as number)) >>> 0;
  };

  const stateIds = new Map<string, number>();
  const stateId = (s: S): number => {
    const h = model.hash(s);
    let id = stateIds.get(h);
    if (id === undefined) stateIds.set(h, (id = stateIds.size));
    return id;
  };
  const memo = new MemoTable(words, limits.memoWordsMax ?? MEMO_WORDS_MAX_DEFAULT);
  /** Records (current set, state) and says whether it is new. */
  const fresh = (state: number): boolean => memo.addIfFresh(hA * 0x200000 + ((hB ^ Math.imul(state, 0x9e3779b1)) & 0x1fffff), state, bits);

  /** The states op may lead to; for info ops, the last choice may be "never happened". */
  const successors = (state: S, op: Operation): { readonly states: readonly S[]; readonly skip: number } => {
    const out = model.step(state, op);
    if (op.status !== 'info') return { states: out, skip: -1 };
    const h = model.hash(state);
    // Taking effect without changing the state is as good as never happening.
    return out.some((x) => model.hash(x) === h) ? { states: out, skip: -1 } : { states: [...out, state], skip: out.length };
  };

  interface Frame {
    readonly op: number;
    readonly before: S;
    readonly choices: { readonly states: readonly S[]; readonly skip: number };
    choice: number;
  }
  const stack: Frame[] = [];
  let state = model.init();
  let entry = next[HEAD] as number;
  let best: number[] = [];
  // The deepest point where a return entry stopped the search: the most telling failure.
  let stuckDepth = -1;
  let stuckOp = -1;
  let stuckPrefix: number[] = [];
  let stuckState = model.hash(state);
  let steps = 0;
  const maxSteps = limits.maxSteps ?? Number.POSITIVE_INFINITY;
  const deadline = limits.deadlineMs ?? Number.POSITIVE_INFINITY;
  const bestPrefix = (): number[] => best.map((i) => (ops[i] as Operation).id);

  /** Tries choices from `from` of op i's successors; on success links it in and returns true. */
  const tryChoices = (i: number, before: S, choices: Frame['choices'], from: number): boolean => {
    flip(i);
    for (let c = from; c < choices.states.length; c++) {
      const s = choices.states[c] as S;
      if (fresh(stateId(s))) {
        stack.push({ op: i, before, choices, choice: c });
        state = s;
        lift(i);
        if (stack.length > best.length) best = stack.map((f) => f.op);
        return true;
      }
    }
    flip(i);
    return false;
  };

  for (;;) {
    if (next[HEAD] === NONE) {
      // Info operations that never happened are left out of the order.
      const order = stack.filter((f) => f.choice !== f.choices.skip).map((f) => (ops[f.op] as Operation).id);
      return { valid: true, linearized: order, steps };
    }
    steps++;
    if (steps > maxSteps || ((steps & 1023) === 0 && Date.now() > deadline)) {
      return { valid: 'unknown', linearized: bestPrefix(), steps };
    }
    if ((entry & 1) === 0) {
      const i = entry >>> 1;
      const op = ops[i] as Operation;
      if (tryChoices(i, state, successors(state, op), 0)) entry = next[HEAD] as number;
      else entry = next[entry] as number;
      continue;
    }
    // A return entry: its operation is not yet linearized, so undo the last choice.
    if (stack.length > stuckDepth) {
      stuckDepth = stack.length;
      stuckOp = entry >>> 1;
      stuckPrefix = stack.map((f) => f.op);
      stuckState = model.hash(state);
    }
    const frame = stack.pop();
    if (frame === undefined) {
      const ids = stuckPrefix.map((i) => (ops[i] as Operation).id);
      return { valid: false, linearized: ids, stuck: (ops[stuckOp] as Operation).id, stateAfter: stuckState, steps };
    }
    state = frame.before;
    unlift(frame.op);
    flip(frame.op);
    if (tryChoices(frame.op, frame.before, frame.choices, frame.choice + 1)) entry = next[HEAD] as number;
    else entry = next[2 * frame.op] as number;
  }
}
