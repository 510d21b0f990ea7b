// The checker's entry points: pair the history, split it by key (P-compositionality), decide
// each part with the fastest sound method, and explain a violation with a small
// counterexample.
//
// Per part: drop info operations that cannot matter (prune.ts); if every write and cas sets
// a distinct value and there is no delete, decide in O(n log n) (unique-values.ts);
// otherwise look for a certain stale read or a read no possible source can explain
// (certain-violations.ts), and failing that run the
// Wing & Gong / Lowe search, frontier first (frontier-search.ts). A verdict is never guessed: out of
// time or steps, the part is 'unknown'.

import { cpus } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pairOperations } from './history.js';
import { modelByName, validateForModel, type ModelName } from './models.js';
import { pruneRegisterOps, resultKey } from './prune.js';
import { neededKey, shrinkCounterexample, soundRemoval } from './shrink.js';
import type { CheckResult, HistoryEvent, Model, Operation, PartitionResult, Verdict } from './types.js';
import { checkUniqueValues, uniqueValuesApplies } from './unique-values.js';
import { findCertainStaleRead, findProducerShortage, findReadWithoutSource, chainDecision } from './certain-violations.js';
import { replayAccepts } from './replay.js';
import { searchFrontier } from './frontier-search.js';
import { searchWithCuts } from './cuts.js';
import { explainCounterexample } from './explain.js';

export interface CheckOptions {
  /** Wall-clock budget for the whole check; past it, undecided parts are 'unknown'. */
  readonly timeoutMs?: number;
  /** Deterministic budget of search steps per part (for reproducible bounded checks). */
  readonly maxSteps?: number;
  /** Work allowed for shrinking a counterexample (search steps); default 2,000,000. */
  readonly shrinkSteps?: number;
  /** Cut the search at quiescent points (docs/checker.md, proof 8); default true. False for comparisons. */
  readonly cuts?: boolean;
  /** Shortest segment worth cutting off (default 1,000 operations); tests use 1. */
  readonly cutMinSegment?: number;
}

export interface ParallelCheckOptions extends CheckOptions {
  /** Worker threads; default: the number of CPUs, at most the number of keys. */
  readonly jobs?: number;
  /**
   * Search steps each part may take in this thread before it is handed to a worker (default
   * 200,000); 0 sends every part to the workers. Most keys are decided by the fast paths or a
   * short search, far quicker than a worker (cold, with its own JIT) can start and be fed;
   * workers pay off only for parts whose search runs long.
   */
  readonly probeSteps?: number;
}

const PROBE_STEPS_DEFAULT = 200_000;

const SHRINK_STEPS_DEFAULT = 2_000_000;

export interface Decision {
  readonly valid: Verdict;
  readonly linearized: readonly number[];
  readonly method: string;
  readonly steps: number;
  /** Ops the decision is about (after pruning), and a first witness for a violation. */
  readonly kept: readonly Operation[];
  readonly witness?: readonly number[];
}

/** Decides one part (one key) of a register-family history. */
export function decidePart(model: Model<string>, ops: readonly Operation[], limits: { readonly maxSteps?: number; readonly deadlineMs?: number; readonly cuts?: boolean; readonly cutMinSegment?: number }): Decision {
  const { kept, dropped, forced } = pruneRegisterOps(ops);
  const prunedNote = dropped.length > 0 || forced.length > 0 ? '+prune' : '';
  if (uniqueValuesApplies(kept)) {
    const r = checkUniqueValues(kept);
    return {
      valid: r.valid,
      linearized: r.linearized,
      method: `unique-values${prunedNote}`,
      steps: kept.length,
      kept,
      ...(r.witness !== undefined ? { witness: r.witness } : {}),
    };
  }
  const stale = findCertainStaleRead(kept);
  if (stale !== null) return { valid: false, linearized: [], method: `stale-read${prunedNote}`, steps: kept.length, kept, witness: stale };
  const sourceless = findReadWithoutSource(kept);
  if (sourceless !== null) return { valid: false, linearized: [], method: `no-source${prunedNote}`, steps: kept.length, kept, witness: sourceless };
  // One needed value (what shrinking a pigeonhole counterexample tries): one chain and one
  // matching give the rule's verdict and, failing a shortage, an order built from the
  // matching, which counts only once an independent replay accepts it.
  const chain = chainDecision(kept);
  const shortage = chain === null ? findProducerShortage(kept) : chain.shortage;
  if (shortage !== null) return { valid: false, linearized: [], method: `pigeonhole${prunedNote}`, steps: kept.length, kept, witness: shortage };
  const order = chain?.order ?? null;
  if (order !== null && replayAccepts(model, kept, order)) return { valid: true, linearized: order, method: `pigeonhole-order${prunedNote}`, steps: kept.length, kept };
  const searchOptions = {
    ...limits,
    readOnly: (op: Operation) => op.f === 'read' && op.status === 'ok',
    unconditional: (op: Operation) => op.f === 'write' || op.f === 'delete',
    values: { needs: neededKey, produces: resultKey, stateValue: (s: string) => s },
  };
  // Cut at quiescent points (proof 8); a linearization glued from the segments counts only
  // once the independent replay accepts it (else the whole part is searched uncut).
  if (limits.cuts !== false) {
    const c = searchWithCuts(model, kept, { ...searchOptions, ...(limits.cutMinSegment !== undefined ? { minSegment: limits.cutMinSegment } : {}) });
    const method = c.segments > 1 ? `search+cuts${prunedNote}` : `search${prunedNote}`;
    if (c.valid !== true || replayAccepts(model, kept, c.linearized)) return { valid: c.valid, linearized: c.linearized, method, steps: c.steps, kept };
  }
  const r = searchFrontier(model, kept, searchOptions);
  return { valid: r.valid, linearized: r.linearized, method: `search${prunedNote}`, steps: r.steps, kept };
}

/** Checks one part and, for a violation, shrinks it to a counterexample. */
export function checkPart(
  model: Model<string>,
  key: string | null,
  ops: readonly Operation[],
  options: CheckOptions & { readonly deadlineMs?: number },
  decided?: Decision,
): PartitionResult {
  const limits = {
    ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}),
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    ...(options.cuts !== undefined ? { cuts: options.cuts } : {}),
    ...(options.cutMinSegment !== undefined ? { cutMinSegment: options.cutMinSegment } : {}),
  };
  // A decision reached under a smaller step budget is the decision: the search is
  // deterministic, and a budget only cuts it short.
  const d = decided ?? decidePart(model, ops, limits);
  const base = { key, valid: d.valid, ops: ops.length, linearized: d.linearized, method: d.method };
  if (d.valid !== false) return base;
  // Shrink the operations as recorded: pruning may have marked some info ops as certainly
  // happened, which is only true in the company of the ops that needed them.
  const byId = new Map(ops.map((op) => [op.id, op]));
  const all = d.kept.map((op) => byId.get(op.id) as Operation);
  let start = all;
  let fromEvidence = false;
  if (d.witness !== undefined) {
    // Start from the witness, reached from the whole part by sound removals only (so the
    // counterexample stays a proof about the history), if it is still not linearizable.
    const keep = new Set(d.witness);
    const w = soundRemoval(all, new Set(all.filter((op) => !keep.has(op.id)).map((op) => op.id)));
    if (w.length > 0 && decidePart(model, w, limits).valid === false) start = w;
    else if (d.method.startsWith('pigeonhole')) {
      // The pigeonhole witness is not linearizable by the same argument that decided the
      // whole part (docs/checker.md, proof 5c), so it is a counterexample in its own right even
      // when sound removals cannot reach it (removing a cas that feeds its reads would take
      // the reads too). Shrinking goes on from it by sound removals.
      const own = all.filter((op) => keep.has(op.id));
      if (decidePart(model, own, limits).valid === false) {
        start = own;
        fromEvidence = true;
      }
    }
  }
  const shrunk = shrinkCounterexample(start, {
    decide: (cand, maxSteps) => {
      const r = decidePart(model, cand, { ...limits, maxSteps: Math.min(maxSteps, options.maxSteps ?? Number.POSITIVE_INFINITY) });
      return { valid: r.valid, steps: r.steps };
    },
    maxSteps: options.shrinkSteps ?? SHRINK_STEPS_DEFAULT,
    // The pigeonhole evidence is a Hall set, tight but for the odd surplus needer or
    // producer: single removals straight away (each decided by the rule or by
    // pigeonholeOrder's replayed order, rarely by the search).
    ...(fromEvidence ? { startChunk: 1 } : {}),
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
  });
  return {
    ...base,
    counterexample: shrunk.ops.map((op) => op.id).sort((a, b) => a - b),
    counterexampleMinimal: shrunk.minimal,
  };
}

function combine(parts: readonly PartitionResult[]): Verdict {
  if (parts.some((p) => p.valid === false)) return false;
  if (parts.some((p) => p.valid === 'unknown')) return 'unknown';
  return true;
}

interface Prepared {
  readonly model: Model<string>;
  readonly operations: readonly Operation[];
  readonly parts: ReadonlyArray<{ readonly key: string | null; readonly ops: readonly Operation[] }>;
}

function prepare(events: readonly HistoryEvent[], modelName: ModelName): Prepared {
  const model = modelByName(modelName);
  const operations = pairOperations(events);
  validateForModel(modelName, operations);
  return { model, operations, parts: model.partition(operations) };
}

function finish(p: Prepared, modelName: ModelName, parts: readonly PartitionResult[], startMs: number): CheckResult {
  const valid = combine(parts);
  const result: CheckResult = {
    valid,
    model: modelName,
    ops: p.operations.length,
    ms: Date.now() - startMs,
    partitions: parts,
    operations: p.operations,
  };
  const explanation = explainResult(p, result);
  return explanation === undefined ? result : { ...result, explanation };
}

function explainResult(p: Prepared, r: CheckResult): string | undefined {
  if (r.valid === true) return undefined;
  if (r.valid === 'unknown') {
    const undecided = r.partitions.filter((x) => x.valid === 'unknown').map((x) => (x.key === null ? 'the register' : `key ${JSON.stringify(x.key)}`));
    return `unknown: the search ran out of time before deciding ${undecided.slice(0, 5).join(', ')}${undecided.length > 5 ? ` and ${undecided.length - 5} more` : ''}`;
  }
  const bad = r.partitions.find((x) => x.valid === false);
  if (bad === undefined || bad.counterexample === undefined) return undefined;
  const byId = new Map(p.operations.map((op) => [op.id, op]));
  return explainCounterexample(p.model, bad.key, bad.counterexample.map((id) => byId.get(id) as Operation), bad.counterexampleMinimal === true);
}

/** Synchronous and deterministic (given no timeout): the simulator's end-of-run check. */
export function checkHistory(events: readonly HistoryEvent[], model: ModelName, options: CheckOptions = {}): CheckResult {
  const startMs = Date.now();
  const p = prepare(events, model);
  const deadlineMs = options.timeoutMs !== undefined ? startMs + options.timeoutMs : undefined;
  const parts = p.parts.map((part) => checkPart(p.model, part.key, part.ops, { ...options, ...(deadlineMs !== undefined ? { deadlineMs } : {}) }));
  return finish(p, model, parts, startMs);
}

/** Where the compiled worker lives; absent when running from sources (vitest). */
function workerUrl(): URL | null {
  const url = new URL('./check-worker.js', import.meta.url);
  try {
    return existsSync(fileURLToPath(url)) ? url : null;
  } catch {
    return null;
  }
}

/** The same verdict as checkHistory, with keys spread over worker threads. */
export async function checkHistoryParallel(events: readonly HistoryEvent[], model: ModelName, options: ParallelCheckOptions = {}): Promise<CheckResult> {
  const startMs = Date.now();
  const p = prepare(events, model);
  const deadlineMs = options.timeoutMs !== undefined ? startMs + options.timeoutMs : undefined;
  const partOptions = { ...options, ...(deadlineMs !== undefined ? { deadlineMs } : {}) };
  const url = workerUrl();
  if (Math.min(options.jobs ?? cpus().length, p.parts.length) <= 1 || url === null) {
    const parts = p.parts.map((part) => checkPart(p.model, part.key, part.ops, partOptions));
    return finish(p, model, parts, startMs);
  }
  // Probe every part here with a step budget; only the parts it cannot decide go to workers.
  // A decided part's result is the one checkHistory gives, so the results never depend on
  // which parts went where.
  const results: Array<PartitionResult | undefined> = new Array(p.parts.length).fill(undefined);
  const hard: number[] = [];
  const probeSteps = Math.min(options.probeSteps ?? PROBE_STEPS_DEFAULT, options.maxSteps ?? Number.POSITIVE_INFINITY);
  p.parts.forEach((part, i) => {
    if (probeSteps <= 0) {
      hard.push(i);
      return;
    }
    const d = decidePart(p.model, part.ops, { maxSteps: probeSteps, ...(deadlineMs !== undefined ? { deadlineMs } : {}) });
    const final = d.valid !== 'unknown' || probeSteps === options.maxSteps || (deadlineMs !== undefined && Date.now() >= deadlineMs);
    if (final) results[i] = checkPart(p.model, part.key, part.ops, partOptions, d);
    else hard.push(i);
  });
  const jobs = Math.max(1, Math.min(options.jobs ?? cpus().length, hard.length));
  if (hard.length > 0) {
    const hardParts = hard.map((i) => p.parts[i]!);
    let solved: readonly PartitionResult[];
    if (jobs <= 1) {
      solved = hardParts.map((part) => checkPart(p.model, part.key, part.ops, partOptions));
    } else {
      const { runPartsInWorkers } = await import('./worker-pool.js');
      solved = await runPartsInWorkers(url, model, hardParts, partOptions, jobs);
    }
    hard.forEach((i, k) => {
      results[i] = solved[k];
    });
  }
  const parts = results.map((r, i) => {
    if (r === undefined) throw new Error(`checker: no result for part ${i}`);
    return r;
  });
  return finish(p, model, parts, startMs);
}
