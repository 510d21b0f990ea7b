// The shared vocabulary of jepsen/: history events, operations, models and verdicts.
// The reader, the search, the report and the generators all speak it.

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';

/** One line of a history (CONTRACTS.md), as read. */
export interface HistoryEvent {
  readonly process: number;
  readonly type: EventType;
  readonly f: string;
  /** null for single-register histories. */
  readonly key: string | null;
  readonly value: unknown;
  readonly time?: number;
  /** 1-based line (JSON Lines) or form number (EDN) in the source, for error messages. */
  readonly line: number;
  /** Any other fields of the event, kept for reports. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * One operation: an invoke paired with its completion. `fail` operations never happened and
 * are dropped before checking; `info` (and never-completed) operations may take effect at
 * any point after their call, or never: their `ret` is +Infinity.
 */
export interface Operation {
  /** Dense id in invoke order, 0-based. */
  readonly id: number;
  readonly process: number;
  readonly f: string;
  readonly key: string | null;
  /** What the client asked: write value, cas [expected, new], null for read/delete. */
  readonly input: unknown;
  /** What the client saw: read value (null = absent); for others usually null. */
  readonly output: unknown;
  readonly status: 'ok' | 'info';
  /** Position of the invoke event in the history (real-time order). */
  readonly call: number;
  /** Position of the completion event, or +Infinity for info. */
  readonly ret: number;
  readonly callTime?: number;
  readonly retTime?: number;
  readonly line: number;
  /** Line (or EDN form) of the completion, when the operation completed ok. */
  readonly retLine?: number;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Porcupine-style model: small pure functions; the search never looks inside a state. */
export interface Model<S = unknown> {
  readonly name: string;
  init(): S;
  /** The states the model may be in after applying `op` to `state` (empty: op illegal here). */
  step(state: S, op: Operation): readonly S[];
  /** Split a history into independently checkable parts (e.g. by key). */
  partition(ops: readonly Operation[]): ReadonlyArray<{ readonly key: string | null; readonly ops: readonly Operation[] }>;
  /** A string that is equal for equal states (memoization key). */
  hash(state: S): string;
  describeOp(op: Operation): string;
  describeState(state: S): string;
}

export type Verdict = true | false | 'unknown';

export interface PartitionResult {
  readonly key: string | null;
  readonly valid: Verdict;
  readonly ops: number;
  /** The ids of a longest linearizable prefix found (in linearization order). */
  readonly linearized: readonly number[];
  /** For a violation: a smallest set of op ids that cannot be linearized together. */
  readonly counterexample?: readonly number[];
  /** Which method decided it (e.g. "unique-values", "wgl"), for reports and benchmarks. */
  readonly method?: string;
  /** True when no single op can be removed from `counterexample` (it is 1-minimal). */
  readonly counterexampleMinimal?: boolean;
}

export interface CheckResult {
  readonly valid: Verdict;
  readonly model: string;
  readonly ops: number;
  readonly ms: number;
  readonly partitions: readonly PartitionResult[];
  /** Operations by id, for reports (the history after pairing). */
  readonly operations: readonly Operation[];
  /** Human words for a violation (the minimal counterexample), or why it is unknown. */
  readonly explanation?: string;
}
