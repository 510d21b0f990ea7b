// Vocabulary shared by both faces of the store (versioned records and key-value) and by the
// lock/transaction layer: what a write is stamped with, and what it announces.
import type { Brand, LogIndex } from '../types.js';

/**
 * A hybrid-logical-clock reading packed into one safe integer: wall milliseconds × 1000 plus a
 * logical counter (< 1000). The leader assigns it when it proposes an entry and it travels in
 * the log entry, so every replica applies the same timestamp. Strictly increasing along a log.
 */
export type Timestamp = Brand<number, 'Timestamp'>;
export const timestamp = (n: number): Timestamp => n as Timestamp;
export const timestampFromMs = (ms: number, logical = 0): Timestamp => (ms * 1000 + logical) as Timestamp;
export const timestampMs = (t: Timestamp): number => Math.floor(t / 1000);

/** What the state machine is told about the log entry it is applying. */
export interface ApplyContext {
  readonly index: LogIndex;
  readonly timestamp: Timestamp;
}
