// The record store: all reads of RecordReader over the port, plus writes that take the
// ApplyContext of the log entry being applied and go to the port as one atomic batch.
import type { ChangeSink } from '../changes.js';
import type { OrderedKV } from '../port.js';
import type { ApplyContext, Timestamp } from '../types.js';
import { Batch, type BatchOptions, type RecordRevisionEvent } from './batch.js';
import type { Criteria } from './criteria.js';
import { RecordReader, type ReaderOptions } from './reader.js';
import type { RecordId, Value } from './values.js';
import type { RecordWrite, WriteResult } from './writes.js';

export interface RecordStoreOptions extends BatchOptions, ReaderOptions {
  /** The shared change feed: every revision applied is emitted, in version order, after the batch is on the port. */
  readonly changes?: ChangeSink<Value>;
  /** A plain callback with the same events (tests, simple consumers). */
  readonly onRevision?: (event: RecordRevisionEvent) => void;
}

/** A batch applied (or previewed): per-op results, the revisions made, and a reader of the result. */
export interface Prepared {
  readonly results: readonly WriteResult[];
  /** Reads that see the batch's writes (before commit: a transaction's own view). */
  readonly reader: RecordReader;
  /** Writes the batch to the port; returns the revisions (also sent to onRevision). */
  commit(): readonly RecordRevisionEvent[];
}

export class RecordStore extends RecordReader {
  constructor(
    /** The port this store reads and writes. */
    readonly port: OrderedKV,
    private readonly options: RecordStoreOptions = {},
  ) {
    super(port, options);
  }

  /**
   * Runs the writes in order against a staged view without touching the port. Throws (and
   * nothing is written) when any op is bad. Call commit() to apply; drop it to discard.
   */
  prepare(writes: readonly RecordWrite[], ctx: ApplyContext): Prepared {
    const batch = new Batch(this.port, ctx, this.options);
    const results = writes.map((w) => batch.apply(w));
    let committed = false;
    return {
      results,
      reader: batch.reader,
      commit: () => {
        if (committed) throw new Error('record batch committed twice');
        committed = true;
        const events = batch.commit();
        const { changes, onRevision } = this.options;
        for (const e of events) {
          changes?.emit(e);
          onRevision?.(e);
        }
        return events;
      },
    };
  }

  /** Applies the writes as one atomic batch stamped with ctx; results in op order. */
  apply(writes: readonly RecordWrite[], ctx: ApplyContext): WriteResult[] {
    const p = this.prepare(writes, ctx);
    p.commit();
    return [...p.results];
  }

  private one(w: RecordWrite, ctx: ApplyContext): WriteResult {
    return this.apply([w], ctx)[0]!;
  }

  add(key: string, value: Value, record: RecordId, ctx: ApplyContext): boolean {
    return this.one({ op: 'add', key, value, record }, ctx).ok;
  }
  remove(key: string, value: Value, record: RecordId, ctx: ApplyContext): boolean {
    return this.one({ op: 'remove', key, value, record }, ctx).ok;
  }
  set(key: string, value: Value, record: RecordId, ctx: ApplyContext): void {
    this.one({ op: 'set', key, value, record }, ctx);
  }
  clear(record: RecordId, ctx: ApplyContext, key?: string): void {
    this.one(key === undefined ? { op: 'clear', record } : { op: 'clear', record, key }, ctx);
  }
  /** Inserts a JSON document into a new record (returned) — nested objects become linked records. */
  insert(document: unknown, ctx: ApplyContext): RecordId {
    return this.one({ op: 'insert', document }, ctx).record!;
  }
  /** Inserts into an existing record; false (and nothing written) if any value is already there. */
  insertInto(document: unknown, record: RecordId, ctx: ApplyContext): boolean {
    return this.one({ op: 'insert', document, record }, ctx).ok;
  }
  link(key: string, source: RecordId, destination: RecordId, ctx: ApplyContext): boolean {
    return this.one({ op: 'link', key, source, destination }, ctx).ok;
  }
  unlink(key: string, source: RecordId, destination: RecordId, ctx: ApplyContext): boolean {
    return this.one({ op: 'unlink', key, source, destination }, ctx).ok;
  }
  verifyAndSwap(key: string, expected: Value, record: RecordId, replacement: Value, ctx: ApplyContext): boolean {
    return this.one({ op: 'verifyAndSwap', key, expected, record, replacement }, ctx).ok;
  }
  verifyOrSet(key: string, value: Value, record: RecordId, ctx: ApplyContext): void {
    this.one({ op: 'verifyOrSet', key, value, record }, ctx);
  }
  findOrAdd(key: string, value: Value, ctx: ApplyContext): RecordId {
    return this.one({ op: 'findOrAdd', key, value }, ctx).record!;
  }
  findOrInsert(criteria: Criteria, document: unknown, ctx: ApplyContext): RecordId {
    return this.one({ op: 'findOrInsert', criteria, document }, ctx).record!;
  }
  revert(record: RecordId, at: Timestamp, ctx: ApplyContext, keys?: readonly string[]): number {
    return this.one(keys === undefined ? { op: 'revert', record, at } : { op: 'revert', record, at, keys }, ctx).revisions;
  }
}
