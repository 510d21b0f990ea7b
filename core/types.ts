// Shared, dependency-free types of the pure core. Nothing here touches a clock, a socket,
// a disk or a random source: those arrive as inputs.

declare const brand: unique symbol;
/** A nominal type: a `Term` can never be passed where a `LogIndex` is expected. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A node's identity: its peer address as written in `cluster.nodes` (e.g. "127.0.0.1:7100" or "n1"). */
export type NodeId = Brand<string, 'NodeId'>;
export type Term = Brand<number, 'Term'>;
export type LogIndex = Brand<number, 'LogIndex'>;
export type PartitionId = Brand<number, 'PartitionId'>;

export const nodeId = (s: string): NodeId => s as NodeId;
export const term = (n: number): Term => n as Term;
export const logIndex = (n: number): LogIndex => n as LogIndex;
export const partitionId = (n: number): PartitionId => n as PartitionId;

/**
 * A deterministic random source, injected by the driver (sim: seedrandom from the run's seed;
 * server: seeded from the OS once at start-up). The core never creates randomness itself.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/** An integer in [lo, hi] (inclusive) drawn from `rng`. */
export function randomInt(rng: Random, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** Thrown when an invariant of the core is broken: a crash with a clear message beats silent corruption. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new AssertionError(typeof message === 'string' ? message : message());
}

/** Exhaustiveness helper for discriminated unions: `default: return unreachable(x)`. */
export function unreachable(x: never): never {
  throw new AssertionError(`unreachable: ${JSON.stringify(x)}`);
}
