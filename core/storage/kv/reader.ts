// The read side of the key-value face: pure functions over the OrderedKV at a log time. Apply
// uses them for reads that travel through the log, and a ReadIndex read calls them directly,
// so both answer identically; they never write. A key whose expiry is at or before `nowMs`
// reads as absent whether or not the sweep has purged it yet.
import { bytesEqual, decodeValue, encodeValue, type Value } from '../encoding.js';
import type { OrderedKV } from '../port.js';
import { KvFailure, type BulkGetItem, type KeyMatch, type KvEntry, type KvReadCommand, type KvResult, type ListItem, type ValueFilter } from './commands.js';
import { dataKey, dataKeyRange, dataPrefixRange, dataRange, decodeEntry, decodeMeta, INITIAL_META, META_KEY, parseDataKey, type Meta, type StoredEntry } from './layout.js';
import { LIST_LIMIT_DEFAULT } from './limits.js';
import { compileKeyRegex } from './regex.js';
import { unreachable } from '../../types.js';
import type { RangeOptions } from '../port.js';

export function readMeta(store: OrderedKV): Meta {
  const b = store.get(META_KEY);
  return b === undefined ? INITIAL_META : decodeMeta(b);
}

export function isLive(e: StoredEntry, nowMs: number): boolean {
  return e.expiresAtMs === null || e.expiresAtMs > nowMs;
}

/** The stored entry of `key` if it is present and not expired. */
export function loadLive(store: OrderedKV, key: string, nowMs: number): StoredEntry | undefined {
  const b = store.get(dataKey(key));
  if (b === undefined) return undefined;
  const e = decodeEntry(b);
  return isLive(e, nowMs) ? e : undefined;
}

export function toEntry(key: string, e: StoredEntry): KvEntry {
  return { key, value: decodeValue(e.value), revision: e.modRevision, createRevision: e.createRevision, version: e.version, expiresAtMs: e.expiresAtMs };
}

/** A compiled key match: the slice of the data table to scan and the test for each key in it. */
interface CompiledMatch {
  readonly range: RangeOptions;
  readonly test: ((key: string) => boolean) | null;
}

export function compileMatch(m: KeyMatch): CompiledMatch {
  switch (m.type) {
    case 'all':
      return { range: dataRange(), test: null };
    case 'prefix':
      return { range: dataPrefixRange(m.prefix), test: null };
    case 'suffix':
      return { range: dataRange(), test: (k) => k.endsWith(m.suffix) };
    case 'contains':
      return { range: dataRange(), test: (k) => k.includes(m.text) };
    case 'range':
      return { range: dataKeyRange(m.start, m.end), test: null };
    case 'regex': {
      const re = compileKeyRegex(m.pattern, m.flags ?? '');
      return { range: dataRange(), test: (k) => re.test(k) };
    }
    default:
      return unreachable(m);
  }
}

export function compileFilter(f: ValueFilter | undefined): ((e: StoredEntry) => boolean) | null {
  if (f === undefined) return null;
  switch (f.type) {
    case 'equals': {
      const want = encodeValue(f.value);
      return (e) => bytesEqual(e.value, want);
    }
    case 'contains':
      return (e) => {
        const v = decodeValue(e.value);
        return typeof v === 'string' && v.includes(f.text);
      };
    case 'prefix':
      return (e) => {
        const v = decodeValue(e.value);
        return typeof v === 'string' && v.startsWith(f.prefix);
      };
    default:
      return unreachable(f);
  }
}

/** Live entries matching, in key order (or reverse). Lazy: stop iterating to stop scanning. */
export function* scan(store: OrderedKV, match: KeyMatch, filter: ValueFilter | undefined, nowMs: number, reverse = false): Generator<{ key: string; entry: StoredEntry }> {
  const m = compileMatch(match);
  const f = compileFilter(filter);
  for (const kv of store.range({ ...m.range, reverse })) {
    const entry = decodeEntry(kv.value);
    if (!isLive(entry, nowMs)) continue;
    const key = parseDataKey(kv.key);
    if (m.test !== null && !m.test(key)) continue;
    if (f !== null && !f(entry)) continue;
    yield { key, entry };
  }
}

/** Answers a read command at log time `nowMs`; `revision` is the store revision to report. */
export function read(store: OrderedKV, cmd: KvReadCommand, nowMs: number, revision?: number): KvResult {
  try {
    return readOrThrow(store, cmd, nowMs, revision ?? readMeta(store).revision);
  } catch (e) {
    if (e instanceof KvFailure) return e.toResult();
    throw e;
  }
}

function readOrThrow(store: OrderedKV, cmd: KvReadCommand, nowMs: number, revision: number): KvResult {
  switch (cmd.op) {
    case 'get': {
      const e = loadLive(store, cmd.key, nowMs);
      if (e === undefined) throw new KvFailure('not-found', `key ${JSON.stringify(cmd.key)} not found`);
      return { status: 'ok', op: 'get', entry: toEntry(cmd.key, e) };
    }
    case 'bulk-get': {
      const items: BulkGetItem[] = cmd.keys.map((key) => {
        const e = loadLive(store, key, nowMs);
        return e === undefined ? { key, found: false } : { key, found: true, entry: toEntry(key, e) };
      });
      return { status: 'ok', op: 'bulk-get', items, revision };
    }
    case 'list': {
      const limit = cmd.limit ?? LIST_LIMIT_DEFAULT;
      let skip = cmd.offset ?? 0;
      const items: ListItem[] = [];
      let more = false;
      for (const { key, entry } of scan(store, cmd.match, cmd.filter, nowMs, cmd.reverse ?? false)) {
        if (skip > 0) {
          skip--;
          continue;
        }
        if (items.length === limit) {
          more = true;
          break;
        }
        if (cmd.keysOnly === true) {
          items.push({ key, revision: entry.modRevision, createRevision: entry.createRevision, version: entry.version, expiresAtMs: entry.expiresAtMs });
        } else items.push(toEntry(key, entry));
      }
      return { status: 'ok', op: 'list', items, more, revision };
    }
    case 'count': {
      let count = 0;
      for (const _ of scan(store, cmd.match, cmd.filter, nowMs)) count++;
      return { status: 'ok', op: 'count', count, revision };
    }
    default:
      return unreachable(cmd);
  }
}

/** The value and revision of a live entry, for condition-failed answers. */
export function currentOf(e: StoredEntry | undefined): { value: Value; revision: number } | null {
  return e === undefined ? null : { value: decodeValue(e.value), revision: e.modRevision };
}
