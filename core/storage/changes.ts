// The change feed: what every applied write announces, for both faces of the store. Emitting
// is part of apply (the state machine calls `emit` inside the same apply step that writes), so
// the feed is exactly as deterministic as the log: every replica produces the same events in
// the same order. Consumers (watches, the HTTP layer, tests) drain them.
import { assert, type LogIndex } from '../types.js';
import type { Value } from './encoding.js';
import type { Timestamp } from './types.js';

/** Why a key-value entry changed. `expire` is a deletion decided by the log's timestamp (TTL). */
export type KvChangeCause = 'put' | 'delete' | 'expire';

/** One key of the key-value face changed. */
export interface KvChangeEvent {
  readonly kind: 'kv';
  readonly key: string;
  /** The value before, or null when the key was absent (see `prevRevision` to tell a stored null apart). */
  readonly old: Value | null;
  /** The value after, or null when the key is now absent (cause `delete` or `expire`). */
  readonly new: Value | null;
  /** The store-wide revision this change created. */
  readonly revision: number;
  /** The key's modification revision before this change; 0 when the key was absent. */
  readonly prevRevision: number;
  readonly cause: KvChangeCause;
  readonly logIndex: LogIndex;
  readonly timestamp: Timestamp;
}

/** One revision of the record model: a value added to or removed from (record, key). */
export interface RecordChangeEvent<V = Value> {
  readonly kind: 'record';
  readonly record: bigint;
  readonly key: string;
  readonly action: 'ADD' | 'REMOVE';
  readonly value: V;
  readonly version: number;
  readonly logIndex: LogIndex;
  readonly timestamp: Timestamp;
}

/** `V` is the record model's value type (it has typed values: links, timestamps, ...). */
export type ChangeEvent<V = Value> = KvChangeEvent | RecordChangeEvent<V>;

/** What a state machine needs: somewhere to put events. */
export interface ChangeSink<V = Value> {
  emit(event: ChangeEvent<V>): void;
}

/** A sink that keeps nothing, for replicas or replays nobody watches. */
export function discardChanges<V = Value>(): ChangeSink<V> {
  return { emit: () => undefined };
}

export interface ChangeFeedOptions {
  /**
   * Most undrained events kept; beyond it the oldest are dropped and counted in `dropped`, so an
   * absent consumer cannot grow memory without bound. Default: unbounded.
   */
  readonly capacity?: number;
}

/** Collects events in log order until drained. */
export class ChangeFeed<V = Value> implements ChangeSink<V> {
  private events: ChangeEvent<V>[] = [];
  private head = 0;
  private lastLogIndex = 0;
  private droppedCount = 0;
  private readonly capacity: number;

  constructor(options: ChangeFeedOptions = {}) {
    const capacity = options.capacity ?? Infinity;
    if (!(capacity === Infinity || (Number.isInteger(capacity) && capacity > 0))) {
      throw new RangeError(`ChangeFeed capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  emit(event: ChangeEvent<V>): void {
    // Events come from applying the log, so their indexes never go backwards.
    assert(event.logIndex >= this.lastLogIndex, () => `change at log index ${event.logIndex} after ${this.lastLogIndex}: out of log order`);
    this.lastLogIndex = event.logIndex;
    this.events.push(event);
    if (this.events.length - this.head > this.capacity) {
      this.head++;
      this.droppedCount++;
      // Compact now and then so dropped events do not pile up in the array.
      if (this.head > 1024 && this.head * 2 > this.events.length) {
        this.events = this.events.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Every pending event, oldest first; the feed is empty afterwards. */
  drain(): ChangeEvent<V>[] {
    const out = this.head === 0 ? this.events : this.events.slice(this.head);
    this.events = [];
    this.head = 0;
    return out;
  }

  get pending(): number {
    return this.events.length - this.head;
  }

  /** Events dropped because the feed was full (since it was created). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The log index of the last event emitted (0 before any). */
  get lastIndex(): number {
    return this.lastLogIndex;
  }
}
