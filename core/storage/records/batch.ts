// Applying writes: a Batch stages every table row of every revision in a StagedKV, numbering
// versions and stamping the ApplyContext's timestamp, and hands the port one atomic write.
import type { RecordChangeEvent } from '../changes.js';
import type { OrderedKV } from '../port.js';
import type { ApplyContext, Timestamp } from '../types.js';
import { AssertionError } from '../../types.js';
import { encodeValue, isLongString } from './codec.js';
import { fail } from './errors.js';
import { fold, grams } from './fulltext.js';
import { planDocument, type DocumentPlan } from './documents.js';
import {
  currentKey,
  checkpointKey,
  encodeCheckpoint,
  encodeLogPayload,
  logKey,
  sinceCheckpointKey,
  dictionaryKey,
  encodeText,
  decodeU32,
  decodeUint,
  encodeRevisionPayload,
  encodeU32,
  encodeU64,
  decodeU64,
  encodeUint,
  endOf,
  historyRecordPrefix,
  indexKey,
  metaKey,
  searchKey,
  timeKey,
  valueHistoryKey,
  historyKey,
  type Action,
} from './layout.js';
import { META_RECORD_ID, META_TIMESTAMP, META_VERSION, RecordReader, type ReaderOptions } from './reader.js';
import { StagedKV } from './staged.js';
import { checkKey, checkValue, recordId, RECORD_ID_MAX, sameValue, showValue, type RecordId, type Value } from './values.js';
import type { RecordWrite, WriteResult } from './writes.js';

/** One applied revision, as announced on the shared change feed (../changes.ts). */
export type RecordRevisionEvent = RecordChangeEvent<Value>;

/** Revisions of one (record, key) between checkpoints of its values. */
export const CHECKPOINT_EVERY = 64;
/** Largest set of values a checkpoint copies. */
export const CHECKPOINT_VALUES_MAX = 1024;

export interface BatchOptions extends ReaderOptions {
  /** Override CHECKPOINT_EVERY (tests use small values to exercise checkpoints). */
  readonly checkpointEvery?: number;
  /**
   * Which ids this store may allocate to new records (e.g. only ids that hash to this
   * partition). Allocation walks up from the last allocated id, skipping rejected ids and ids
   * that ever held data. Default: every id.
   */
  readonly acceptRecordId?: (id: RecordId) => boolean;
}

export const ALLOCATION_SKIPS_MAX = 1_000_000;

export class Batch {
  readonly staged: StagedKV;
  /** Reads through the staged writes: later ops see earlier ones. */
  readonly reader: RecordReader;
  readonly events: RecordRevisionEvent[] = [];
  private version: number;
  private readonly baseVersion: number;
  private readonly baseTimestamp: number;
  private lastRecordId: bigint;

  constructor(
    private readonly kv: OrderedKV,
    readonly ctx: ApplyContext,
    private readonly options: BatchOptions = {},
  ) {
    this.staged = new StagedKV(kv);
    this.reader = new RecordReader(this.staged, options);
    const ts = ctx.timestamp;
    if (!Number.isSafeInteger(ts) || ts < 0) fail('bad-time', `apply timestamp must be a non-negative integer, got ${ts}`);
    const last = this.reader.lastTimestamp();
    // Time travel maps a timestamp to the last version at or before it: that needs timestamps
    // that never go back along the log (the HLC guarantees it; equal is fine).
    if (ts < last) fail('bad-time', `apply timestamp ${ts} is before the last applied timestamp ${last}`);
    this.version = this.reader.version();
    this.baseVersion = this.version;
    this.baseTimestamp = last;
    const rid = this.staged.get(metaKey(META_RECORD_ID));
    this.lastRecordId = rid === undefined ? 0n : decodeU64(rid);
  }

  /** Writes the batch to the port (atomically) and returns the revisions it made. */
  commit(): readonly RecordRevisionEvent[] {
    // The batch was computed against the port as it was; a write in between would make its
    // versions and checks stale.
    const now = new RecordReader(this.kv);
    if (now.version() !== this.baseVersion || now.lastTimestamp() !== this.baseTimestamp) {
      throw new AssertionError('record batch: the store changed between prepare and commit');
    }
    if (this.events.length > 0) {
      this.staged.put(metaKey(META_VERSION), encodeUint(this.version));
      this.staged.put(metaKey(META_TIMESTAMP), encodeUint(this.ctx.timestamp));
      this.staged.put(timeKey(this.ctx.timestamp), encodeUint(this.version));
    }
    this.staged.commitTo(this.kv);
    return this.events;
  }

  // ---- revisions ------------------------------------------------------------------------------

  private present(record: RecordId, key: string, value: Value): boolean {
    return this.staged.get(currentKey(record, key, value)) !== undefined;
  }

  /** The one place a revision is written: history, value history, current state, index, search. */
  private revise(action: Action, record: RecordId, key: string, value: Value): void {
    const version = ++this.version;
    const ts = this.ctx.timestamp;
    const payload = encodeRevisionPayload(action, ts);
    this.staged.put(historyKey(record, key, value, version), payload);
    this.staged.put(valueHistoryKey(key, value, record, version), payload);
    if (action === 'ADD') {
      const v = encodeUint(version);
      this.staged.put(currentKey(record, key, value), v);
      this.staged.put(indexKey(key, value, record), v);
    } else {
      this.staged.delete(currentKey(record, key, value));
      this.staged.delete(indexKey(key, value, record));
    }
    if (value.type === 'string') {
      this.postGrams(record, key, value.value, action === 'ADD' ? 1 : -1);
      if (isLongString(value.value)) this.remember(value.value);
    }
    this.staged.put(logKey(record, key, version), encodeLogPayload(action, value));
    this.countTowardCheckpoint(record, key, version);
    this.events.push({ kind: 'record', record, key, action, value, version, logIndex: this.ctx.index, timestamp: ts });
  }

  /**
   * Every CHECKPOINT_EVERY revisions of a (record, key), writes its whole current set of values,
   * so a read at a past time replays at most that many log rows from the checkpoint before it.
   * A set larger than CHECKPOINT_VALUES_MAX is not copied (reads fall back to the history scan).
   */
  private countTowardCheckpoint(record: RecordId, key: string, version: number): void {
    const ck = sinceCheckpointKey(record, key);
    const b = this.staged.get(ck);
    const n = (b === undefined ? 0 : decodeU32(b)) + 1;
    if (n < (this.options.checkpointEvery ?? CHECKPOINT_EVERY)) {
      this.staged.put(ck, encodeU32(n));
      return;
    }
    this.staged.put(ck, encodeU32(0));
    const state = this.reader.currentDated(record, key, CHECKPOINT_VALUES_MAX + 1);
    if (state.length <= CHECKPOINT_VALUES_MAX) this.staged.put(checkpointKey(record, key, version), encodeCheckpoint(state));
  }

  /** Puts a long string's full text in the dictionary (kept forever: history refers to it). */
  private remember(text: string): void {
    const k = dictionaryKey(encodeValue({ type: 'string', value: text }));
    const full = encodeText(text);
    const had = this.staged.get(k);
    if (had === undefined) this.staged.put(k, full);
    else if (!sameBytes(had, full)) fail('bad-value', 'two different long strings collide on their 64-bit key hash; the write is refused');
  }

  private postGrams(record: RecordId, key: string, s: string, delta: 1 | -1): void {
    for (const g of grams(fold(s))) {
      const k = searchKey(key, g, record);
      const b = this.staged.get(k);
      const n = (b === undefined ? 0 : decodeU32(b)) + delta;
      if (n < 0) fail('bad-value', 'search index out of step (negative gram count)');
      if (n === 0) this.staged.delete(k);
      else this.staged.put(k, encodeU32(n));
    }
  }

  add(key: string, value: Value, record: RecordId): boolean {
    if (this.present(record, key, value)) return false;
    this.revise('ADD', record, key, value);
    return true;
  }

  remove(key: string, value: Value, record: RecordId): boolean {
    if (!this.present(record, key, value)) return false;
    this.revise('REMOVE', record, key, value);
    return true;
  }

  /** Removes every value of key but `keep`; returns the number removed. */
  private removeAllBut(key: string, record: RecordId, keep: Value | undefined): number {
    let n = 0;
    for (const v of this.reader.select(key, record)) {
      if (keep !== undefined && sameValue(v, keep)) continue;
      this.revise('REMOVE', record, key, v);
      n++;
    }
    return n;
  }

  allocate(): RecordId {
    const accept = this.options.acceptRecordId;
    let id = this.lastRecordId;
    for (let skips = 0; ; skips++) {
      if (skips > ALLOCATION_SKIPS_MAX) fail('bad-record', `no acceptable record id within ${ALLOCATION_SKIPS_MAX} ids of ${this.lastRecordId}`);
      id++;
      if (id > RECORD_ID_MAX) fail('bad-record', 'record ids exhausted');
      if (accept !== undefined && !accept(id)) continue;
      if (this.hasHistory(id)) continue;
      break;
    }
    this.lastRecordId = id;
    this.staged.put(metaKey(META_RECORD_ID), encodeU64(id));
    return id;
  }

  private hasHistory(record: RecordId): boolean {
    const p = historyRecordPrefix(record);
    for (const _ of this.staged.range({ start: p, end: endOf(p), limit: 1 })) return true;
    return false;
  }

  // ---- operations -----------------------------------------------------------------------------

  apply(w: RecordWrite): WriteResult {
    const before = this.events.length;
    const done = (ok: boolean, extra: { record?: RecordId; created?: readonly RecordId[] } = {}): WriteResult => ({
      op: w.op,
      ok,
      revisions: this.events.length - before,
      ...extra,
    });
    switch (w.op) {
      case 'add':
        return done(this.add(checkKey(w.key), checkValue(w.value), recordId(w.record)));
      case 'remove':
        return done(this.remove(checkKey(w.key), checkValue(w.value), recordId(w.record)));
      case 'set': {
        const key = checkKey(w.key);
        const value = checkValue(w.value);
        const record = recordId(w.record);
        this.removeAllBut(key, record, value);
        this.add(key, value, record);
        return done(true);
      }
      case 'clear': {
        const record = recordId(w.record);
        const keys = w.key === undefined ? this.reader.describe(record) : [checkKey(w.key)];
        for (const k of keys) this.removeAllBut(k, record, undefined);
        return done(true);
      }
      case 'insert': {
        const plan = planDocument(w.document);
        if (w.record !== undefined) {
          const record = recordId(w.record);
          // All or nothing: a value already there means the document does not go in.
          if (plan.entries.some(([k, v]) => this.present(record, k, v))) return done(false, { record, created: [] });
          const created: RecordId[] = [];
          this.insertPlan(plan, record, created);
          return done(true, { record, created });
        }
        const created: RecordId[] = [];
        const record = this.allocate();
        created.push(record);
        this.insertPlan(plan, record, created);
        return done(true, { record, created });
      }
      case 'link':
      case 'unlink': {
        const key = checkKey(w.key);
        const source = recordId(w.source);
        const destination = recordId(w.destination);
        if (source === destination) fail('bad-record', `record ${source} cannot link to itself`);
        const v: Value = { type: 'link', value: destination };
        return done(w.op === 'link' ? this.add(key, v, source) : this.remove(key, v, source));
      }
      case 'verifyAndSwap': {
        const key = checkKey(w.key);
        const expected = checkValue(w.expected);
        const replacement = checkValue(w.replacement);
        const record = recordId(w.record);
        if (!this.present(record, key, expected)) return done(false);
        if (!sameValue(expected, replacement)) {
          this.remove(key, expected, record);
          this.add(key, replacement, record);
        }
        return done(true);
      }
      case 'verifyOrSet': {
        const key = checkKey(w.key);
        const value = checkValue(w.value);
        const record = recordId(w.record);
        if (!this.present(record, key, value)) {
          this.removeAllBut(key, record, value);
          this.add(key, value, record);
        }
        return done(true);
      }
      case 'findOrAdd': {
        const key = checkKey(w.key);
        const value = checkValue(w.value);
        const found = this.reader.find({ kind: 'condition', key, operator: '=', value });
        if (found.length > 1) fail('duplicate', `findOrAdd: ${found.length} records have ${key} = ${showValue(value)}`);
        if (found.length === 1) return done(true, { record: found[0]!, created: [] });
        const record = this.allocate();
        this.add(key, value, record);
        return done(true, { record, created: [record] });
      }
      case 'findOrInsert': {
        const plan = planDocument(w.document);
        const found = this.reader.find(w.criteria);
        if (found.length > 1) fail('duplicate', `findOrInsert: ${found.length} records match the criteria`);
        if (found.length === 1) return done(true, { record: found[0]!, created: [] });
        const created: RecordId[] = [];
        const record = this.allocate();
        created.push(record);
        this.insertPlan(plan, record, created);
        return done(true, { record, created });
      }
      case 'revert': {
        const record = recordId(w.record);
        const at = w.at;
        const keys =
          w.keys === undefined
            ? this.reader.keysEver(record)
            : [...new Set(w.keys.map(checkKey))].sort();
        for (const k of keys) {
          const target = this.reader.select(k, record, at);
          const now = this.reader.select(k, record);
          for (const v of now) if (!target.some((t) => sameValue(t, v))) this.revise('REMOVE', record, k, v);
          for (const t of target) if (!now.some((v) => sameValue(t, v))) this.revise('ADD', record, k, t);
        }
        return done(true);
      }
      default: {
        const bad: never = w;
        return fail('bad-value', `unknown write op ${JSON.stringify((bad as { op?: unknown }).op)}`);
      }
    }
  }

  private insertPlan(plan: DocumentPlan, record: RecordId, created: RecordId[]): void {
    for (const [k, v] of plan.entries) this.add(k, v, record);
    for (const child of plan.children) {
      const id = this.allocate();
      created.push(id);
      this.insertPlan(child.plan, id, created);
      this.add(child.key, { type: 'link', value: id }, record);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
