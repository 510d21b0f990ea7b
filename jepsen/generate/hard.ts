// The "hard histories" of the checker's issue, as named presets over generateHistory:
// - one key, 8 to 64 processes open at once, 10-30% of writes ending `info`, 1,000-5,000
//   ops, linearizable or with one stale read late in the history;
// - 100 keys x 32 processes x 50,000 ops, uniform or Zipf-skewed.
// Many open info writes are what make a single register expensive: each may take effect
// anywhere after its invoke, so the search must keep them all in play.
import { generateHistory, type GeneratedHistory, type GenerateOptions } from './history.js';
import { plantStaleRead } from './stale.js';
import { plantFutureRead } from './future.js';

export type CheckModelName = 'register' | 'cas-register' | 'kv';

export interface HardCase {
  readonly name: string;
  readonly model: CheckModelName;
  /** The verdict the checker must reach. */
  readonly expected: boolean;
  readonly history: GeneratedHistory;
  /** For a planted stale (or future) read: which read, for reports. */
  readonly staleRead?: number;
}

export interface SingleKeyParams {
  readonly processes: number;
  readonly ops: number;
  /** Fraction of writes that end `info`. */
  readonly infoRate: number;
  readonly stale: boolean;
  /** Instead of a stale read, plant one read late in the history that sees a value from the future. */
  readonly future?: boolean;
  readonly seed: number | string;
  /** Fraction of cas operations (default 0: reads and writes only, model `register`); with cas the model is `cas-register`. */
  readonly cas?: number;
  /**
   * Written values drawn from 1..n (repeats) instead of unique ones: then equal values no
   * longer say which write a read saw, and a checker must search.
   */
  readonly values?: number;
}

export function singleKeyOptions(p: SingleKeyParams): GenerateOptions {
  const cas = p.cas ?? 0;
  return {
    seed: p.seed,
    ops: p.ops,
    processes: p.processes,
    register: true,
    mix: { read: 0.5, write: 0.5 - cas, cas, delete: 0 },
    infoRate: p.infoRate,
    ...(p.values !== undefined ? { values: p.values } : {}),
  };
}

/** One register, many concurrent processes, many info writes (and, optionally, cas). */
export function singleKeyCase(p: SingleKeyParams): HardCase {
  const casNote = (p.cas ?? 0) > 0 ? `, ${Math.round((p.cas ?? 0) * 100)}% cas` : '';
  const valuesNote = p.values !== undefined ? `, values 1..${p.values}` : '';
  const what = p.future === true ? 'future read late' : p.stale ? 'stale read late' : 'linearizable';
  const name = `1 key, ${p.processes} procs, ${p.ops} ops, ${Math.round(p.infoRate * 100)}% info${casNote}${valuesNote}, ${what}`;
  const model: CheckModelName = (p.cas ?? 0) > 0 ? 'cas-register' : 'register';
  const history = generateHistory(singleKeyOptions(p));
  if (p.future === true) {
    const future = plantFutureRead(history, { position: 'late' });
    if (future === null) throw new Error(`${name}: no read could see the future (seed ${p.seed})`);
    return { name, model, expected: false, history: future, staleRead: future.future.read };
  }
  if (!p.stale) return { name, model, expected: true, history };
  const stale = plantStaleRead(history, { position: 'late' });
  if (stale === null) throw new Error(`${name}: no read could be made stale (seed ${p.seed})`);
  return { name, model, expected: false, history: stale, staleRead: stale.stale.read };
}

export interface ManyKeysParams {
  readonly keys: number;
  readonly processes: number;
  readonly ops: number;
  readonly skew: 'uniform' | 'zipf';
  readonly infoRate?: number;
  readonly stale?: boolean;
  readonly seed: number | string;
}

/** Many keys (model `kv`) with reads, writes, cas and deletes. */
export function manyKeysCase(p: ManyKeysParams): HardCase {
  const stale = p.stale ?? false;
  const name = `${p.keys} keys ${p.skew}, ${p.processes} procs, ${p.ops} ops${stale ? ', stale read late' : ''}`;
  const history = generateHistory({
    seed: p.seed,
    ops: p.ops,
    processes: p.processes,
    keys: p.keys,
    keyDistribution: p.skew === 'zipf' ? { kind: 'zipf', exponent: 1 } : { kind: 'uniform' },
    mix: { read: 0.5, write: 0.3, cas: 0.15, delete: 0.05 },
    infoRate: p.infoRate ?? 0.05,
  });
  if (!stale) return { name, model: 'kv', expected: true, history };
  const planted = plantStaleRead(history, { position: 'late' });
  if (planted === null) throw new Error(`${name}: no read could be made stale (seed ${p.seed})`);
  return { name, model: 'kv', expected: false, history: planted, staleRead: planted.stale.read };
}
