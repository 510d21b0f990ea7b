// Every read of the record store, as pure functions of the port's contents: at the present
// (current-state tables) or at a past timestamp T (history tables, answered per group with two
// seeks — never a replay of the whole log). A RecordReader can sit on the port itself or on a
// staged batch, so a transaction reads its own writes.
import { compareBytes, type Bytes, type KeyValue } from '../port.js';
import type { Timestamp } from '../types.js';
import { ByteReader, ByteWriter, classTag, concat, isLongString, type LongStringResolver } from './codec.js';
import { AND_VERIFY_MAX, clauseCost, conditionTest, ESTIMATE_ROWS_MAX, valueRanges, valueTest } from './find-plan.js';
import { AssertionError } from '../../types.js';
import { checkCriteria, type CheckedCondition, type CheckedCriteria } from './criteria.js';
import { fail } from './errors.js';
import { fold, grams, searchMatches } from './fulltext.js';
import {
  checkpointKeyPrefix,
  currentKeyPrefix,
  decodeCheckpoint,
  logKeyPrefix,
  NAMESPACE,
  decodeText,
  dictionaryKey,
  currentRecordPrefix,
  ACTION_ADD_BYTE,
  decodeRevisionPayload,
  decodeU32,
  decodeUint,
  encodeUint,
  endOf,
  historyKeyPrefix,
  historyRecordPrefix,
  indexKeyPrefix,
  metaKey,
  parseCurrentKey,
  parseHistoryKey,
  parseIndexKey,
  parseValueHistoryKey,
  readLastU64,
  searchGramPrefix,
  tablePrefix,
  TABLE,
  timeKey,
  valueHistoryKeyPrefix,
  type Action,
} from './layout.js';
import type { KVReader } from './staged.js';
import {
  checkKey,
  compareValues,
  isNumeric,
  recordId,
  sameValue,
  showValue,
  type RecordId,
  type Value,
} from './values.js';

export interface Revision {
  readonly record: RecordId;
  readonly key: string;
  readonly action: Action;
  readonly value: Value;
  readonly version: number;
  readonly timestamp: Timestamp;
}

export interface ValueRecords {
  readonly value: Value;
  readonly records: readonly RecordId[];
}

export interface KeyDiff {
  readonly key: string;
  readonly added: readonly Value[];
  readonly removed: readonly Value[];
}

export interface ValueDiff {
  readonly value: Value;
  readonly added: readonly RecordId[];
  readonly removed: readonly RecordId[];
}

export interface Chronicle {
  readonly timestamp: Timestamp;
  readonly version: number;
  readonly values: readonly Value[];
}

export interface Navigated {
  readonly record: RecordId;
  readonly values: readonly Value[];
}

export type CalculateFunction = 'count' | 'sum' | 'average' | 'min' | 'max';
/** Which records a calculation covers: all records holding the key, a list, or a criteria. */
export type Scope = { readonly records: readonly RecordId[] } | { readonly criteria: unknown } | undefined;

export const META_VERSION = 'version';
export const META_RECORD_ID = 'record-id';
export const META_TIMESTAMP = 'timestamp';

export interface Dated {
  readonly value: Value;
  readonly version: number;
}

const byVersion = (a: Dated, b: Dated): number => a.version - b.version;

/** Most log rows a past read replays after a checkpoint before it scans the history instead. */
export const REPLAY_MAX = 256;

export interface ReaderOptions {
  /** Override REPLAY_MAX (tests use 0 and small values to cover both paths). */
  readonly replayMax?: number;
  /** Override AND_VERIFY_MAX (0: always intersect index results; tests use it to cover both paths). */
  readonly andVerifyMax?: number;
  /** 'given': evaluate `and` clauses in the order written (tests pin the evaluation path with it). Default: by estimated size. */
  readonly andOrder?: 'estimate' | 'given';
}

export class RecordReader {
  /** Full text of a long string, from the dictionary table (its key encoding is truncated). */
  protected readonly resolveLong: LongStringResolver = (encoded) => {
    const b = this.kv.get(dictionaryKey(encoded));
    if (b === undefined) throw new AssertionError('record store: a long string is missing from the dictionary table');
    return decodeText(b);
  };

  constructor(
    protected readonly kv: KVReader,
    protected readonly readerOptions: ReaderOptions = {},
  ) {}

  // ---- time ---------------------------------------------------------------------------------

  /** The last version applied (0: nothing yet). */
  version(): number {
    const b = this.kv.get(metaKey(META_VERSION));
    return b === undefined ? 0 : decodeUint(b);
  }

  /** The timestamp of the last applied write (0: none). */
  lastTimestamp(): number {
    const b = this.kv.get(metaKey(META_TIMESTAMP));
    return b === undefined ? 0 : decodeUint(b);
  }

  /** The last version whose timestamp is <= at: what a read "at T" sees. */
  versionAt(at: Timestamp): number {
    if (!Number.isSafeInteger(at) || at < 0) fail('bad-time', `timestamp must be a non-negative integer, got ${at}`);
    for (const e of this.kv.range({ start: tablePrefix(TABLE.time), end: timeKey(at + 1), reverse: true, limit: 1 })) {
      return decodeUint(e.value);
    }
    return 0;
  }

  /**
   * For each group of history rows under [start, end) — rows sharing all but their trailing
   * 8-byte version — the last row with version <= v. Short groups are read in one forward scan;
   * a group longer than GROUP_SCAN_MAX rows is answered by one reverse seek and skipped, so a
   * key with thousands of revisions of one value costs a few seeks, not a replay.
   */
  protected *latestPerGroup(start: Bytes, end: Bytes, v: number): Iterable<GroupRow> {
    let cursor = start;
    for (;;) {
      let group: Bytes | undefined;
      let best: KeyValue | undefined;
      let steps = 0;
      let jump: Bytes | undefined;
      for (const e of this.kv.range({ start: cursor, end })) {
        const gLen = e.key.length - 8;
        if (group === undefined || !isGroupOf(e.key, group)) {
          if (best !== undefined) yield groupRow(group!, best);
          group = e.key.subarray(0, gLen);
          best = undefined;
          steps = 0;
        }
        if (++steps > GROUP_SCAN_MAX) {
          jump = group;
          break;
        }
        if (uintAt(e.key, gLen) <= v) best = e;
      }
      if (jump === undefined) {
        if (best !== undefined) yield groupRow(group!, best);
        return;
      }
      for (const e of this.kv.range({ start: jump, end: concat(jump, encodeUint(v + 1)), reverse: true, limit: 1 })) {
        yield groupRow(jump, e);
      }
      cursor = endOf(jump);
    }
  }

  // ---- one record ---------------------------------------------------------------------------

  private dated(record: RecordId, key: string, at: Timestamp | undefined): Dated[] {
    return this.datedAtVersion(record, key, at === undefined ? undefined : this.versionAt(at));
  }

  /** The current values of key in record with their ADD versions (at most `limit`), unsorted. */
  currentDated(record: RecordId, key: string, limit = Infinity): Dated[] {
    const out: Dated[] = [];
    const p = currentKeyPrefix(record, key);
    for (const e of this.kv.range({ start: p, end: endOf(p), ...(Number.isFinite(limit) ? { limit } : {}) })) {
      out.push({ value: new ByteReader(e.key, p.length, this.resolveLong).value(), version: decodeUint(e.value) });
    }
    return out;
  }

  /** The values of key in record with their ADD versions, now (undefined) or at version v. */
  private datedAtVersion(record: RecordId, key: string, v: number | undefined): Dated[] {
    if (v === undefined) return this.currentDated(record, key).sort(byVersion);
    return (this.replayFromCheckpoint(record, key, v) ?? this.scanHistory(record, key, v)).sort(byVersion);
  }

  /**
   * The state at v from the last checkpoint at or before v plus the log rows after it; undefined
   * when that would replay more than REPLAY_MAX rows (then the history scan answers).
   */
  private replayFromCheckpoint(record: RecordId, key: string, v: number): Dated[] | undefined {
    const upper = encodeUint(v + 1);
    const cp = checkpointKeyPrefix(record, key);
    let state: Dated[] = [];
    let from = 0;
    for (const e of this.kv.range({ start: cp, end: concat(cp, upper), reverse: true, limit: 1 })) {
      from = uintAt(e.key, e.key.length - 8);
      state = decodeCheckpoint(e.value, this.resolveLong);
    }
    const lp = logKeyPrefix(record, key);
    const max = this.readerOptions.replayMax ?? REPLAY_MAX;
    let n = 0;
    for (const e of this.kv.range({ start: concat(lp, encodeUint(from + 1)), end: concat(lp, upper) })) {
      if (++n > max) return undefined;
      const value = new ByteReader(e.value, 1, this.resolveLong).value();
      if (e.value[0] === ACTION_ADD_BYTE) state.push({ value, version: uintAt(e.key, e.key.length - 8) });
      else {
        const i = state.findIndex((d) => sameValue(d.value, value));
        if (i >= 0) state.splice(i, 1);
      }
    }
    return state;
  }

  /** The state at v from the history table: the last row of each (value) group at or before v. */
  private scanHistory(record: RecordId, key: string, v: number): Dated[] {
    const out: Dated[] = [];
    const p = historyKeyPrefix(record, key);
    for (const g of this.latestPerGroup(p, endOf(p), v)) {
      if (g.action === 'ADD') {
        const r = new ByteReader(g.key, p.length, this.resolveLong);
        const value = r.value();
        out.push({ value, version: r.uint() });
      }
    }
    return out;
  }

  /** The values of key in record, oldest ADD first (Concourse's insertion order). */
  select(key: string, record: RecordId, at?: Timestamp): Value[] {
    return this.dated(recordId(record), checkKey(key), at).map((d) => d.value);
  }

  /** The most recently added value of key in record, if any. */
  get(key: string, record: RecordId, at?: Timestamp): Value | undefined {
    const all = this.dated(recordId(record), checkKey(key), at);
    return all[all.length - 1]?.value;
  }

  /** Is value among key's values in record? */
  verify(key: string, value: Value, record: RecordId, at?: Timestamp): boolean {
    return this.select(key, record, at).some((v) => sameValue(v, value));
  }

  /** Keys holding at least one value in record, sorted. */
  describe(record: RecordId, at?: Timestamp): string[] {
    return [...this.selectRecord(record, undefined, at).keys()];
  }

  /** key → values (insertion order) of a record; all keys, or only `keys`. Keys sorted. */
  selectRecord(record: RecordId, keys?: readonly string[], at?: Timestamp): Map<string, Value[]> {
    const rid = recordId(record);
    const out = new Map<string, Value[]>();
    if (keys !== undefined) {
      for (const k of [...new Set(keys.map(checkKey))].sort()) {
        const vs = this.select(k, rid, at);
        if (vs.length > 0) out.set(k, vs);
      }
      return out;
    }
    const groups = new Map<string, Dated[]>();
    if (at === undefined) {
      const p = currentRecordPrefix(rid);
      for (const e of this.kv.range({ start: p, end: endOf(p) })) {
        const c = parseCurrentKey(e.key, this.resolveLong);
        pushTo(groups, c.key, { value: c.value, version: decodeUint(e.value) });
      }
    } else {
      // Every key the record ever had (one seek per key in its log), each read at v.
      const v = this.versionAt(at);
      for (const k of this.keysEver(rid)) for (const d of this.datedAtVersion(rid, k, v)) pushTo(groups, k, d);
    }
    for (const k of [...groups.keys()].sort()) out.set(k, groups.get(k)!.sort(byVersion).map((d) => d.value));
    return out;
  }

  /** Keys that ever held a value in record, sorted: a skip-scan of its revision log. */
  keysEver(record: RecordId): string[] {
    const out: string[] = [];
    const p = new ByteWriter(16).byte(NAMESPACE).byte(TABLE.log).u64(record).finish();
    const end = endOf(p);
    let cursor = p;
    for (;;) {
      let key: string | undefined;
      for (const e of this.kv.range({ start: cursor, end, limit: 1 })) key = new ByteReader(e.key, p.length).ascii0();
      if (key === undefined) return out;
      out.push(key);
      cursor = endOf(logKeyPrefix(record, key));
    }
  }

  /** Records that hold data now (or at T), ascending. Scans the current table record by record. */
  inventory(at?: Timestamp): RecordId[] {
    const out: RecordId[] = [];
    if (at === undefined) {
      const p = tablePrefix(TABLE.current);
      let cursor = p;
      const end = endOf(p);
      for (;;) {
        let rid: RecordId | undefined;
        for (const e of this.kv.range({ start: cursor, end, limit: 1 })) rid = new ByteReader(e.key, 2).u64();
        if (rid === undefined) return out;
        out.push(rid);
        cursor = endOf(currentRecordPrefix(rid));
      }
    }
    const p = tablePrefix(TABLE.history);
    const v = this.versionAt(at);
    let last: RecordId | undefined;
    for (const g of this.latestPerGroup(p, endOf(p), v)) {
      if (g.action !== 'ADD') continue;
      const rid = new ByteReader(g.key, 2).u64();
      if (rid !== last) out.push(rid);
      last = rid;
    }
    return out;
  }

  // ---- one key across records -----------------------------------------------------------------

  /** value → records holding it, in index order of values; records ascending. */
  browse(key: string, at?: Timestamp): ValueRecords[] {
    const k = checkKey(key);
    const out: { value: Value; records: RecordId[] }[] = [];
    let long = false;
    const push = (value: Value, record: RecordId): void => {
      if (value.type === 'string' && !long) long = isLongString(value.value);
      const lastEntry = out[out.length - 1];
      if (lastEntry !== undefined && sameValue(lastEntry.value, value)) lastEntry.records.push(record);
      else out.push({ value, records: [record] });
    };
    if (at === undefined) {
      const p = indexKeyPrefix(k);
      for (const e of this.kv.range({ start: p, end: endOf(p) })) {
        const ix = parseIndexKey(e.key, this.resolveLong);
        push(ix.value, ix.record);
      }
    } else {
      const p = valueHistoryKeyPrefix(k);
      for (const g of this.latestPerGroup(p, endOf(p), this.versionAt(at))) {
        if (g.action !== 'ADD') continue;
        const h = parseValueHistoryKey(g.key, this.resolveLong);
        push(h.value, h.record);
      }
    }
    // Index order is value order except among long strings sharing their kept bytes (hash order).
    if (long) out.sort((a, b) => compareValues(a.value, b.value));
    return out;
  }

  // ---- history --------------------------------------------------------------------------------

  /** Every revision of key in record (or of the whole record), by version. */
  audit(record: RecordId, key?: string): Revision[] {
    const rid = recordId(record);
    const p = key === undefined ? historyRecordPrefix(rid) : historyKeyPrefix(rid, checkKey(key));
    const out: Revision[] = [];
    for (const e of this.kv.range({ start: p, end: endOf(p) })) {
      const h = parseHistoryKey(e.key, this.resolveLong);
      const pl = decodeRevisionPayload(e.value);
      out.push({ record: h.record, key: h.key, action: pl.action, value: h.value, version: h.version, timestamp: pl.timestamp });
    }
    return out.sort((a, b) => a.version - b.version);
  }

  /**
   * The values of key in record after each change, for changes with start <= timestamp <= end.
   * Revisions of one write batch share a timestamp and show as one step.
   */
  chronologize(key: string, record: RecordId, start?: Timestamp, end?: Timestamp): Chronicle[] {
    const revs = this.audit(record, key);
    const state: Dated[] = [];
    const out: Chronicle[] = [];
    for (let i = 0; i < revs.length; i++) {
      const r = revs[i]!;
      if (r.action === 'ADD') state.push({ value: r.value, version: r.version });
      else {
        const j = state.findIndex((d) => sameValue(d.value, r.value));
        if (j >= 0) state.splice(j, 1);
      }
      const next = revs[i + 1];
      if (next !== undefined && next.timestamp === r.timestamp) continue;
      if (start !== undefined && r.timestamp < start) continue;
      if (end !== undefined && r.timestamp > end) break;
      out.push({ timestamp: r.timestamp, version: r.version, values: state.map((d) => d.value) });
    }
    return out;
  }

  /** What changed in record (one key or all) between two times (end: now). */
  diff(record: RecordId, start: Timestamp, end?: Timestamp, key?: string): KeyDiff[] {
    const keys = key === undefined ? undefined : [key];
    const before = this.selectRecord(record, keys, start);
    const after = this.selectRecord(record, keys, end);
    const all = [...new Set([...before.keys(), ...after.keys()])].sort();
    const out: KeyDiff[] = [];
    for (const k of all) {
      const b = before.get(k) ?? [];
      const a = after.get(k) ?? [];
      const added = a.filter((x) => !b.some((y) => sameValue(x, y)));
      const removed = b.filter((x) => !a.some((y) => sameValue(x, y)));
      if (added.length > 0 || removed.length > 0) out.push({ key: k, added, removed });
    }
    return out;
  }

  /** For one key across records: per value (index order), the records that gained or lost it between two times (end: now). */
  diffKey(key: string, start: Timestamp, end?: Timestamp): ValueDiff[] {
    const before = this.browse(key, start);
    const after = this.browse(key, end);
    const byValue = new Map<string, { value: Value; before: readonly RecordId[]; after: readonly RecordId[] }>();
    const id = (v: Value): string => `${v.type}:${String(v.value)}`;
    for (const b of before) byValue.set(id(b.value), { value: b.value, before: b.records, after: [] });
    for (const a of after) {
      const had = byValue.get(id(a.value));
      byValue.set(id(a.value), { value: a.value, before: had?.before ?? [], after: a.records });
    }
    const out: ValueDiff[] = [];
    for (const { value, before: b, after: a } of [...byValue.values()].sort((x, y) => compareValues(x.value, y.value))) {
      const bs = new Set(b);
      const as = new Set(a);
      const added = a.filter((r) => !bs.has(r));
      const removed = b.filter((r) => !as.has(r));
      if (added.length > 0 || removed.length > 0) out.push({ value, added, removed });
    }
    return out;
  }

  // ---- find and search ------------------------------------------------------------------------

  /** Records matching the criteria, ascending; answered from the indexes. */
  find(criteria: unknown, at?: Timestamp): RecordId[] {
    const checked = checkCriteria(criteria);
    const v = at === undefined ? undefined : this.versionAt(at);
    return [...this.evaluate(checked, v)].sort(cmpBig);
  }

  private evaluate(c: CheckedCriteria, v: number | undefined): Set<RecordId> {
    switch (c.op) {
      case 'and': {
        // Cheapest-looking clauses first; once few records remain, check the rest record by
        // record instead of reading each remaining clause's whole index range.
        const clauses =
          this.readerOptions.andOrder === 'given'
            ? c.clauses
            : c.clauses
          .map((clause) => ({ clause, rows: this.estimateRows(clause, v) }))
          .sort((a, b) => a.rows - b.rows || clauseCost(a.clause) - clauseCost(b.clause))
          .map((x) => x.clause);
        let acc: Set<RecordId> | undefined;
        for (const clause of clauses) {
          if (acc !== undefined && acc.size <= (this.readerOptions.andVerifyMax ?? AND_VERIFY_MAX)) {
            const next = new Set<RecordId>();
            for (const r of acc) if (this.recordMatches(clause, r, v)) next.add(r);
            acc = next;
          } else {
            const s = this.evaluate(clause, v);
            acc = acc === undefined ? s : new Set([...acc].filter((r) => s.has(r)));
          }
          if (acc.size === 0) break;
        }
        return acc ?? new Set();
      }
      case 'or': {
        const acc = new Set<RecordId>();
        for (const clause of c.clauses) for (const r of this.evaluate(clause, v)) acc.add(r);
        return acc;
      }
      case 'cmp':
      case 'between':
      case 'regex':
      case 'contains':
        return this.condition(c, v);
    }
  }

  /**
   * Index rows a clause would read, counted up to ESTIMATE_ROWS_MAX (more counts as that
   * much); clauses that read whole string ranges or many conditions rank after every counted one.
   */
  private estimateRows(c: CheckedCriteria, v: number | undefined): number {
    if (c.op === 'and' || c.op === 'or' || c.op === 'contains' || (c.op === 'regex' && (c.negate || c.prefix.length === 0))) {
      return ESTIMATE_ROWS_MAX + clauseCost(c);
    }
    if (c.op === 'cmp' && c.operator === '!=') return ESTIMATE_ROWS_MAX + clauseCost(c);
    const base = v === undefined ? indexKeyPrefix(c.key) : valueHistoryKeyPrefix(c.key);
    let n = 0;
    for (const [lo, hi] of valueRanges(c)) {
      if (lo !== undefined && hi !== undefined && compareBytes(lo, hi) >= 0) continue;
      const start = lo === undefined ? base : concat(base, lo);
      const end = hi === undefined ? endOf(base) : concat(base, hi);
      for (const _ of this.kv.range({ start, end, limit: ESTIMATE_ROWS_MAX - n })) n++;
      if (n >= ESTIMATE_ROWS_MAX) return ESTIMATE_ROWS_MAX;
    }
    return n;
  }

  /** Does one record satisfy the criteria (at version v)? The same semantics as the index scans. */
  private recordMatches(c: CheckedCriteria, record: RecordId, v: number | undefined): boolean {
    switch (c.op) {
      case 'and':
        return c.clauses.every((x) => this.recordMatches(x, record, v));
      case 'or':
        return c.clauses.some((x) => this.recordMatches(x, record, v));
      case 'cmp':
      case 'between':
      case 'regex':
      case 'contains': {
        const test = conditionTest(c);
        return this.datedAtVersion(record, c.key, v).some((d) => test(d.value));
      }
    }
  }

  private condition(c: CheckedCondition, v: number | undefined): Set<RecordId> {
    const out = new Set<RecordId>();
    if (c.op === 'contains' && v === undefined) return this.containsNow(c.key, c.text);
    const ranges = valueRanges(c);
    const test = valueTest(c);
    for (const [lo, hi] of ranges) {
      if (lo !== undefined && hi !== undefined && compareBytes(lo, hi) >= 0) continue; // an empty range
      this.scanValues(c.key, lo, hi, v, test, out);
    }
    return out;
  }

  /**
   * Adds the records whose value for key lies in [lo, hi) (value-encoding bounds; undefined =
   * open) and passes `test` (undefined = every value in the range matches).
   */
  private scanValues(key: string, lo: Bytes | undefined, hi: Bytes | undefined, v: number | undefined, test: ((x: Value) => boolean) | undefined, out: Set<RecordId>): void {
    const base = v === undefined ? indexKeyPrefix(key) : valueHistoryKeyPrefix(key);
    const start = lo === undefined ? base : concat(base, lo);
    const end = hi === undefined ? endOf(base) : concat(base, hi);
    let lastBytes: Bytes | undefined;
    let lastOk = false;
    const ok = (k: Bytes, valueEnd: number): boolean => {
      if (test === undefined) return true;
      // Many records share one value: test each distinct value once.
      const vb = k.subarray(base.length, valueEnd);
      if (lastBytes !== undefined && sameBytes(vb, lastBytes)) return lastOk;
      lastBytes = vb;
      lastOk = test(new ByteReader(k, base.length, this.resolveLong).value());
      return lastOk;
    };
    if (v === undefined) {
      for (const e of this.kv.range({ start, end })) {
        if (ok(e.key, e.key.length - 8)) out.add(readLastU64(e.key));
      }
    } else {
      for (const g of this.latestPerGroup(start, end, v)) {
        if (g.action !== 'ADD') continue;
        if (ok(g.key, g.key.length - 16)) out.add(readLastU64(g.group));
      }
    }
  }

  private containsNow(key: string, text: string): Set<RecordId> {
    const gs = grams(fold(text));
    if (gs.length === 0) {
      const out = new Set<RecordId>();
      this.scanValues(key, Uint8Array.of(classTag({ type: 'string', value: '' })), Uint8Array.of(classTag({ type: 'string', value: '' }) + 1), undefined, (x) => (x.value as string).includes(text), out);
      return out;
    }
    const candidates = this.gramCandidates(key, gs);
    const out = new Set<RecordId>();
    for (const r of candidates) {
      if (this.select(key, r).some((x) => x.type === 'string' && x.value.includes(text))) out.add(r);
    }
    return out;
  }

  /**
   * Records whose current values for key hold every gram (a superset of the true matches).
   * Scans the postings of the rarest gram only (counted up to GRAM_COUNT_PROBE rows each), then
   * checks the other grams by point lookups of (key, gram, record).
   */
  private gramCandidates(key: string, gs: readonly string[]): Set<RecordId> {
    const counted = gs.map((g) => {
      const p = searchGramPrefix(key, g);
      let n = 0;
      for (const _ of this.kv.range({ start: p, end: endOf(p), limit: GRAM_COUNT_PROBE })) n++;
      return { g, p, n };
    });
    counted.sort((a, b) => a.n - b.n);
    const rarest = counted[0];
    if (rarest === undefined || rarest.n === 0) return new Set();
    let acc = new Set<RecordId>();
    for (const e of this.kv.range({ start: rarest.p, end: endOf(rarest.p) })) acc.add(readLastU64(e.key));
    for (const { p } of counted.slice(1)) {
      const next = new Set<RecordId>();
      for (const r of acc) if (this.kv.get(concat(p, u64(r))) !== undefined) next.add(r);
      acc = next;
      if (acc.size === 0) break;
    }
    return acc;
  }

  /**
   * Records with a string value for key that contains the query, ignoring case (per code point).
   * Trigram candidates, then verification; a query shorter than 3 characters scans the key's
   * strings in the index.
   */
  search(key: string, query: string): RecordId[] {
    const k = checkKey(key);
    if (typeof query !== 'string' || query.trim().length === 0) fail('bad-query', 'search needs a non-empty query');
    const q = fold(query);
    const gs = grams(q);
    const out = new Set<RecordId>();
    if (gs.length === 0) {
      const tag = classTag({ type: 'string', value: '' });
      this.scanValues(k, Uint8Array.of(tag), Uint8Array.of(tag + 1), undefined, (x) => searchMatches(x.value as string, q), out);
    } else if (gs.length === 1 && gs[0] === q) {
      // The query is one trigram: a posting already proves a current value contains it.
      return [...this.gramCandidates(k, gs)].sort(cmpBig);
    } else {
      for (const r of this.gramCandidates(k, gs)) {
        if (this.select(k, r).some((x) => x.type === 'string' && searchMatches(x.value, q))) out.add(r);
      }
    }
    return [...out].sort(cmpBig);
  }

  /** Number of current values posting a gram (for tests of the index's bookkeeping). */
  gramCount(key: string, gram: string, record: RecordId): number {
    const p = searchGramPrefix(key, gram);
    const b = this.kv.get(concat(p, u64(record)));
    return b === undefined ? 0 : decodeU32(b);
  }

  // ---- graph ----------------------------------------------------------------------------------

  /**
   * Follows links along a path like `friends.employer.name` from the start record(s): every hop
   * but the last follows link values; the last hop's values are returned per destination record
   * (ascending), records without a value omitted.
   */
  navigate(path: string, start: RecordId | readonly RecordId[], at?: Timestamp): Navigated[] {
    if (typeof path !== 'string' || path.length === 0) fail('bad-path', 'navigate needs a path like friends.name');
    const hops = path.split('.');
    for (const h of hops) {
      try {
        checkKey(h);
      } catch {
        fail('bad-path', `bad navigation path ${JSON.stringify(path)}: ${JSON.stringify(h)} is not a key`);
      }
    }
    let current = [...new Set((Array.isArray(start) ? start : [start]).map((r) => recordId(r as RecordId)))].sort(cmpBig);
    for (const hop of hops.slice(0, -1)) {
      const next = new Set<RecordId>();
      for (const r of current) for (const x of this.select(hop, r, at)) if (x.type === 'link') next.add(x.value);
      current = [...next].sort(cmpBig);
    }
    const last = hops[hops.length - 1]!;
    const out: Navigated[] = [];
    for (const r of current) {
      const values = this.select(last, r, at);
      if (values.length > 0) out.push({ record: r, values });
    }
    return out;
  }

  // ---- aggregation ----------------------------------------------------------------------------

  /** The values of key over a scope (all records holding it, a list of records, or a criteria). */
  private scopedValues(key: string, scope: Scope, at: Timestamp | undefined): { record: RecordId; value: Value }[] {
    const k = checkKey(key);
    const out: { record: RecordId; value: Value }[] = [];
    if (scope === undefined) {
      for (const vr of this.browse(k, at)) for (const r of vr.records) out.push({ record: r, value: vr.value });
      return out;
    }
    const records = 'records' in scope ? [...new Set(scope.records.map((r) => recordId(r)))].sort(cmpBig) : this.find(scope.criteria, at);
    for (const r of records) for (const value of this.select(k, r, at)) out.push({ record: r, value });
    return out;
  }

  /** count: the number of values; sum/average/min/max over numeric values (others are an error). */
  calculate(fn: CalculateFunction, key: string, scope?: Scope, at?: Timestamp): number | Value | undefined {
    switch (fn) {
      case 'count':
        return this.count(key, scope, at);
      case 'sum':
        return this.sum(key, scope, at);
      case 'average':
        return this.average(key, scope, at);
      case 'min':
        return this.min(key, scope, at);
      case 'max':
        return this.max(key, scope, at);
      default:
        return fail('bad-criteria', `unknown calculation ${JSON.stringify(fn)} (count, sum, average, min, max)`);
    }
  }

  count(key: string, scope?: Scope, at?: Timestamp): number {
    return this.scopedValues(key, scope, at).length;
  }

  private numbers(key: string, scope: Scope, at: Timestamp | undefined, fn: string): Value[] {
    return this.scopedValues(key, scope, at).map(({ record, value }) => {
      if (!isNumeric(value)) fail('not-numeric', `${fn}: key '${key}' holds ${showValue(value)} (${value.type}) in record ${record}, not a number`);
      return value;
    });
  }

  /** Exact long sum when every value is an integer or long; a double otherwise. Empty: undefined. */
  sum(key: string, scope?: Scope, at?: Timestamp): Value | undefined {
    const ns = this.numbers(key, scope, at, 'sum');
    if (ns.length === 0) return undefined;
    if (ns.every((x) => x.type !== 'double')) {
      let s = 0n;
      for (const x of ns) s += BigInt(x.value as number | bigint);
      return { type: 'long', value: s };
    }
    let s = 0;
    for (const x of ns) s += Number(x.value);
    return { type: 'double', value: s };
  }

  average(key: string, scope?: Scope, at?: Timestamp): number | undefined {
    const ns = this.numbers(key, scope, at, 'average');
    if (ns.length === 0) return undefined;
    let s = 0;
    for (const x of ns) s += Number(x.value);
    return s / ns.length;
  }

  min(key: string, scope?: Scope, at?: Timestamp): Value | undefined {
    return extreme(this.numbers(key, scope, at, 'min'), -1);
  }

  max(key: string, scope?: Scope, at?: Timestamp): Value | undefined {
    return extreme(this.numbers(key, scope, at, 'max'), 1);
  }
}

function extreme(ns: readonly Value[], sign: number): Value | undefined {
  let best: Value | undefined;
  for (const x of ns) if (best === undefined || sign * compareValues(x, best) > 0) best = x;
  return best;
}

/** Postings counted per query gram to find the rarest one. */
export const GRAM_COUNT_PROBE = 256;

/** Rows of one history group read linearly before switching to a seek. */
export const GROUP_SCAN_MAX = 16;

interface GroupRow {
  readonly group: Bytes;
  readonly key: Bytes;
  readonly action: Action;
}

function groupRow(group: Bytes, e: KeyValue): GroupRow {
  // The payload's first byte is the action (layout.encodeRevisionPayload); nothing here needs
  // the timestamp, so it is not decoded.
  return { group, key: e.key, action: e.value[0] === ACTION_ADD_BYTE ? 'ADD' : 'REMOVE' };
}

function isGroupOf(key: Bytes, group: Bytes): boolean {
  if (key.length - 8 !== group.length) return false;
  for (let i = group.length - 1; i >= 0; i--) if (key[i] !== group[i]) return false;
  return true;
}

function uintAt(b: Bytes, o: number): number {
  const hi = ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  const lo = ((b[o + 4]! << 24) >>> 0) + (b[o + 5]! << 16) + (b[o + 6]! << 8) + b[o + 7]!;
  return hi * 0x100000000 + lo;
}

function pushTo<T>(m: Map<string, T[]>, k: string, v: T): void {
  const a = m.get(k);
  if (a === undefined) m.set(k, [v]);
  else a.push(v);
}

function sameBytes(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function u64(n: bigint): Bytes {
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

