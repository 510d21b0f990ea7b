// Checking commands before anything is touched. Commands arrive as decoded log entries, so
// their shape is checked too (unknown fields are refused: a misspelt "ttl" must not silently
// become "no TTL"). Every failure is a KvFailure with code invalid-argument or too-many.
import { encodeValue, type Value } from '../encoding.js';
import { KvFailure, type BulkWriteItem, type DeleteItem, type KeyMatch, type KvCommand, type PutItem, type TouchItem, type ValueFilter } from './commands.js';
import { BULK_ITEMS_MAX, DELETE_WHERE_MAX, KEY_BYTES_MAX, LIST_LIMIT_MAX, LIST_OFFSET_MAX, TTL_MS_MAX, VALUE_BYTES_MAX } from './limits.js';

function invalid(message: string): never {
  throw new KvFailure('invalid-argument', message);
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

function onlyFields(o: Obj, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) invalid(`${what}: unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

/** UTF-8 length of s, refusing lone surrogates (they have no UTF-8 form). */
function utf8Length(s: string, what: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) invalid(`${what} has a lone surrogate at index ${i}`);
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) invalid(`${what} has a lone surrogate at index ${i}`);
    else n += 3;
  }
  return n;
}

export function checkKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string') invalid(`${what} must be a string`);
  if (key.length === 0) invalid(`${what} must not be empty`);
  const n = utf8Length(key, what);
  if (n > KEY_BYTES_MAX) invalid(`${what} is ${n} UTF-8 bytes; the limit is ${KEY_BYTES_MAX}`);
  return key;
}

/** A string used to match keys (prefix, suffix, bound): may be empty, same size limit as keys. */
function checkKeyText(s: unknown, what: string): string {
  if (typeof s !== 'string') invalid(`${what} must be a string`);
  const n = utf8Length(s, what);
  if (n > KEY_BYTES_MAX) invalid(`${what} is ${n} UTF-8 bytes; the limit is ${KEY_BYTES_MAX}`);
  return s;
}

/** Encodes a value, refusing what cannot be stored or is too large. */
export function checkValue(v: unknown, what = 'value'): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encodeValue(v as Value);
  } catch (e) {
    invalid(`${what}: ${(e as Error).message}`);
  }
  if (bytes.length > VALUE_BYTES_MAX) invalid(`${what} is ${bytes.length} bytes encoded; the limit is ${VALUE_BYTES_MAX}`);
  return bytes;
}

function checkTtl(ttl: unknown, what = 'ttlMs'): number {
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) invalid(`${what} must be a positive integer of milliseconds`);
  if (ttl > TTL_MS_MAX) invalid(`${what} ${ttl} exceeds the limit ${TTL_MS_MAX}`);
  return ttl;
}

function checkRevision(r: unknown, what: string): number {
  if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0) invalid(`${what} must be a non-negative integer`);
  return r;
}

function checkBool(b: unknown, what: string): boolean {
  if (typeof b !== 'boolean') invalid(`${what} must be true or false`);
  return b;
}

function checkCount(n: unknown, max: number, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) invalid(`${what} must be a non-negative integer`);
  if (n > max) invalid(`${what} ${n} exceeds the limit ${max}`);
  return n;
}

function checkInteger(x: unknown, what: string): number | bigint {
  if (typeof x === 'bigint') return x;
  if (typeof x !== 'number' || !Number.isSafeInteger(x)) invalid(`${what} must be a safe integer or a bigint`);
  return x;
}

export function checkPutItem(x: unknown, what = 'put'): PutItem {
  if (!isObj(x)) invalid(`${what} must be an object`);
  onlyFields(x, ['op', 'key', 'value', 'ttlMs', 'keepTtl', 'expected', 'expectedRevision', 'ifAbsent'], what);
  checkKey(x['key']);
  if (!('value' in x)) invalid(`${what}: value is required`);
  checkValue(x['value']);
  if (x['ttlMs'] !== undefined) checkTtl(x['ttlMs']);
  if (x['keepTtl'] !== undefined) checkBool(x['keepTtl'], 'keepTtl');
  if (x['expected'] !== undefined) checkValue(x['expected'], 'expected');
  if (x['expectedRevision'] !== undefined) checkRevision(x['expectedRevision'], 'expectedRevision');
  if (x['ifAbsent'] !== undefined) checkBool(x['ifAbsent'], 'ifAbsent');
  if (x['ifAbsent'] === true && x['expected'] !== undefined) invalid(`${what}: ifAbsent and expected contradict each other`);
  return x as unknown as PutItem;
}

/** A bulk-write item: a put or delete item with its `type`. */
export function checkBulkWriteItem(x: unknown, what = 'item'): BulkWriteItem {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new KvFailure('invalid-argument', `${what}: an object expected`);
  const { type, ...rest } = x as { type?: unknown };
  if (type === 'put') return { type, ...checkPutItem(rest, what) };
  if (type === 'delete') return { type, ...checkDeleteItem(rest, what) };
  throw new KvFailure('invalid-argument', `${what}: type must be "put" or "delete", got ${JSON.stringify(type)}`);
}

export function checkDeleteItem(x: unknown, what = 'delete'): DeleteItem {
  if (!isObj(x)) invalid(`${what} must be an object`);
  onlyFields(x, ['op', 'key', 'expected', 'expectedRevision'], what);
  checkKey(x['key']);
  if (x['expected'] !== undefined) checkValue(x['expected'], 'expected');
  if (x['expectedRevision'] !== undefined) checkRevision(x['expectedRevision'], 'expectedRevision');
  return x as unknown as DeleteItem;
}

export function checkTouchItem(x: unknown, what = 'touch'): TouchItem {
  if (!isObj(x)) invalid(`${what} must be an object`);
  onlyFields(x, ['op', 'key', 'ttlMs'], what);
  checkKey(x['key']);
  checkTtl(x['ttlMs']);
  return x as unknown as TouchItem;
}

function checkMatch(x: unknown): KeyMatch {
  if (!isObj(x)) invalid('match must be an object with a "type"');
  switch (x['type']) {
    case 'all':
      onlyFields(x, ['type'], 'match');
      break;
    case 'prefix':
      onlyFields(x, ['type', 'prefix'], 'match');
      checkKeyText(x['prefix'], 'match.prefix');
      break;
    case 'suffix':
      onlyFields(x, ['type', 'suffix'], 'match');
      checkKeyText(x['suffix'], 'match.suffix');
      break;
    case 'contains':
      onlyFields(x, ['type', 'text'], 'match');
      checkKeyText(x['text'], 'match.text');
      break;
    case 'range': {
      onlyFields(x, ['type', 'start', 'end'], 'match');
      const s = x['start'] === undefined ? undefined : checkKeyText(x['start'], 'match.start');
      const e = x['end'] === undefined ? undefined : checkKeyText(x['end'], 'match.end');
      if (s !== undefined && e !== undefined && compareCodePoints(s, e) > 0) invalid('match.start is after match.end');
      break;
    }
    case 'regex':
      onlyFields(x, ['type', 'pattern', 'flags'], 'match');
      // Compiled (and checked for safety) where it is used.
      if (typeof x['pattern'] !== 'string') invalid('match.pattern must be a string');
      break;
    default:
      invalid(`match.type must be one of all, prefix, suffix, contains, range, regex; got ${JSON.stringify(x['type'])}`);
  }
  return x as unknown as KeyMatch;
}

function checkFilter(x: unknown): ValueFilter {
  if (!isObj(x)) invalid('filter must be an object with a "type"');
  switch (x['type']) {
    case 'equals':
      onlyFields(x, ['type', 'value'], 'filter');
      if (!('value' in x)) invalid('filter.value is required');
      checkValue(x['value'], 'filter.value');
      break;
    case 'contains':
      onlyFields(x, ['type', 'text'], 'filter');
      if (typeof x['text'] !== 'string') invalid('filter.text must be a string');
      break;
    case 'prefix':
      onlyFields(x, ['type', 'prefix'], 'filter');
      if (typeof x['prefix'] !== 'string') invalid('filter.prefix must be a string');
      break;
    default:
      invalid(`filter.type must be one of equals, contains, prefix; got ${JSON.stringify(x['type'])}`);
  }
  return x as unknown as ValueFilter;
}

/** Code point order of strings (the order of their UTF-8 bytes, hence of the data table). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (>= 0xD800 < 0xE000) stands for a code point above 0xFFFF, so it sorts after 0xE000..0xFFFF.
    const fx = x >= 0xd800 && x < 0xe000 ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const fy = y >= 0xd800 && y < 0xe000 ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return fx - fy;
  }
  return a.length - b.length;
}

function checkBulkSize(items: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(items)) invalid(`${what} must be an array`);
  if (items.length > BULK_ITEMS_MAX) throw new KvFailure('too-many', `${what} has ${items.length} items; the limit is ${BULK_ITEMS_MAX}`);
  return items;
}

/**
 * Checks the shape of a whole command. Bulk items are NOT checked here (a non-atomic bulk
 * call reports a bad item in its own result); the machine checks them with check*Item.
 */
export function checkCommand(x: unknown): KvCommand {
  if (!isObj(x)) invalid('a command must be an object with an "op"');
  switch (x['op']) {
    case 'put':
      checkPutItem(x);
      break;
    case 'get':
      onlyFields(x, ['op', 'key'], 'get');
      checkKey(x['key']);
      break;
    case 'delete':
      checkDeleteItem(x);
      break;
    case 'touch':
      checkTouchItem(x);
      break;
    case 'increment':
      onlyFields(x, ['op', 'key', 'delta', 'initial', 'ttlMs'], 'increment');
      checkKey(x['key']);
      if (x['delta'] !== undefined) checkInteger(x['delta'], 'delta');
      if (x['initial'] !== undefined) checkInteger(x['initial'], 'initial');
      if (x['ttlMs'] !== undefined) checkTtl(x['ttlMs']);
      break;
    case 'list':
      onlyFields(x, ['op', 'match', 'filter', 'limit', 'offset', 'reverse', 'keysOnly'], 'list');
      checkMatch(x['match']);
      if (x['filter'] !== undefined) checkFilter(x['filter']);
      if (x['limit'] !== undefined) checkCount(x['limit'], LIST_LIMIT_MAX, 'limit');
      if (x['offset'] !== undefined) checkCount(x['offset'], LIST_OFFSET_MAX, 'offset');
      if (x['reverse'] !== undefined) checkBool(x['reverse'], 'reverse');
      if (x['keysOnly'] !== undefined) checkBool(x['keysOnly'], 'keysOnly');
      break;
    case 'count':
      onlyFields(x, ['op', 'match', 'filter'], 'count');
      checkMatch(x['match']);
      if (x['filter'] !== undefined) checkFilter(x['filter']);
      break;
    case 'delete-where':
      onlyFields(x, ['op', 'match', 'filter', 'limit'], 'delete-where');
      checkMatch(x['match']);
      if (x['filter'] !== undefined) checkFilter(x['filter']);
      if (x['limit'] !== undefined) checkCount(x['limit'], DELETE_WHERE_MAX, 'limit');
      break;
    case 'bulk-put':
    case 'bulk-delete':
    case 'bulk-touch':
    case 'bulk-write':
      onlyFields(x, ['op', 'items', 'atomic'], x['op']);
      checkBulkSize(x['items'], `${x['op']} items`);
      checkBool(x['atomic'], `${x['op']} atomic`);
      break;
    case 'bulk-get':
      onlyFields(x, ['op', 'keys'], 'bulk-get');
      checkBulkSize(x['keys'], 'bulk-get keys').forEach((k, i) => checkKey(k, `keys[${i}]`));
      break;
    default:
      invalid(`unknown op ${JSON.stringify(x['op'])}`);
  }
  return x as unknown as KvCommand;
}
