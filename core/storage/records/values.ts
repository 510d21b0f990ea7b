// Typed values, record ids and key names: the vocabulary of the document-graph model, with the
// validation that turns a client's mistake into a clear RecordError.
import { fail } from './errors.js';

/** A record id: a 64-bit integer, 0 <= id < 2^63 (Concourse's positive longs). */
export type RecordId = bigint;

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
export const LONG_MIN = -(1n << 63n);
export const LONG_MAX = (1n << 63n) - 1n;
export const RECORD_ID_MAX = LONG_MAX;
export const KEY_LENGTH_MAX = 255;

export type Value =
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'long'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'link'; readonly value: RecordId }
  /** Microseconds since the Unix epoch (may be negative). */
  | { readonly type: 'timestamp'; readonly value: bigint };

export type ValueType = Value['type'];
export const VALUE_TYPES: readonly ValueType[] = ['boolean', 'integer', 'long', 'double', 'string', 'link', 'timestamp'];

/**
 * Comparison classes, in index order. Numbers of the three numeric types form ONE class and
 * compare by numeric value (1 = 1L = 1.0), so `find age > 3` sees integers, longs and doubles.
 */
export type ValueClass = 'boolean' | 'number' | 'timestamp' | 'string' | 'link';
export const VALUE_CLASSES: readonly ValueClass[] = ['boolean', 'number', 'timestamp', 'string', 'link'];

export function classOf(v: Value): ValueClass {
  switch (v.type) {
    case 'boolean':
      return 'boolean';
    case 'integer':
    case 'long':
    case 'double':
      return 'number';
    case 'timestamp':
      return 'timestamp';
    case 'string':
      return 'string';
    case 'link':
      return 'link';
  }
}

// Constructors validate, so a Value that exists is a valid Value.
export const bool = (b: boolean): Value => {
  if (typeof b !== 'boolean') fail('bad-value', `boolean expected, got ${describeRaw(b)}`);
  return { type: 'boolean', value: b };
};
export const integer = (n: number): Value => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) {
    fail('bad-value', `integer must be a 32-bit integer, got ${describeRaw(n)}`);
  }
  return { type: 'integer', value: n === 0 ? 0 : n };
};
export const long = (n: bigint | number): Value => {
  const b = typeof n === 'number' && Number.isSafeInteger(n) ? BigInt(n) : n;
  if (typeof b !== 'bigint' || b < LONG_MIN || b > LONG_MAX) fail('bad-value', `long must be a 64-bit integer, got ${describeRaw(n)}`);
  return { type: 'long', value: b };
};
export const double = (n: number): Value => {
  if (typeof n !== 'number' || !Number.isFinite(n)) fail('bad-value', `double must be a finite number, got ${describeRaw(n)}`);
  // -0 and 0 are one value: the index could not tell them apart in order anyway.
  return { type: 'double', value: n === 0 ? 0 : n };
};
export const str = (s: string): Value => {
  if (typeof s !== 'string') fail('bad-value', `string expected, got ${describeRaw(s)}`);
  if (!isWellFormed(s)) fail('bad-value', 'string holds a lone surrogate (not valid Unicode)');
  return { type: 'string', value: s };
};
export const link = (record: RecordId | number): Value => ({ type: 'link', value: recordId(record) });
export const timestampMicros = (us: bigint | number): Value => {
  const b = typeof us === 'number' && Number.isSafeInteger(us) ? BigInt(us) : us;
  if (typeof b !== 'bigint' || b < LONG_MIN || b > LONG_MAX) fail('bad-value', `timestamp must be 64-bit microseconds, got ${describeRaw(us)}`);
  return { type: 'timestamp', value: b };
};

/** Validates a Value that arrived from outside (a request, a staged transaction op). */
export function checkValue(v: unknown): Value {
  if (typeof v !== 'object' || v === null) fail('bad-value', `a typed value {type, value} expected, got ${describeRaw(v)}`);
  const o = v as { type?: unknown; value?: unknown };
  switch (o.type) {
    case 'boolean':
      return bool(o.value as boolean);
    case 'integer':
      return integer(o.value as number);
    case 'long':
      return long(o.value as bigint);
    case 'double':
      return double(o.value as number);
    case 'string':
      return str(o.value as string);
    case 'link':
      return link(o.value as bigint);
    case 'timestamp':
      return timestampMicros(o.value as bigint);
    default:
      return fail('bad-value', `unknown value type ${describeRaw(o.type)} (one of ${VALUE_TYPES.join(', ')})`);
  }
}

export function recordId(id: RecordId | number): RecordId {
  const b = typeof id === 'number' && Number.isSafeInteger(id) ? BigInt(id) : id;
  if (typeof b !== 'bigint' || b < 0n || b > RECORD_ID_MAX) fail('bad-record', `record id must be an integer in [0, 2^63), got ${describeRaw(id)}`);
  return b;
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Key names: 1..255 characters, a letter or `_` first, then letters, digits, `_` or `-`. No dot
 * (it separates the hops of a navigation path), no space, no operator characters, so a key is
 * never ambiguous inside a path or a criteria string.
 */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string') fail('bad-key', `key must be a string, got ${describeRaw(key)}`);
  if (key.length === 0 || key.length > KEY_LENGTH_MAX || !KEY_RE.test(key)) {
    fail('bad-key', `bad key ${JSON.stringify(key)}: 1-${KEY_LENGTH_MAX} characters, a letter or _ first, then letters, digits, _ or -`);
  }
  return key;
}

/** Same type and same value: identity within a key's set of values. */
export function sameValue(a: Value, b: Value): boolean {
  return a.type === b.type && a.value === b.value;
}

/** Compares by the index's total order (see docs/storage-records.md): class, then value, then type. */
export function compareValues(a: Value, b: Value): number {
  const ca = VALUE_CLASSES.indexOf(classOf(a));
  const cb = VALUE_CLASSES.indexOf(classOf(b));
  if (ca !== cb) return ca - cb;
  const c = compareWithinClass(a, b);
  if (c !== 0) return c;
  return VALUE_TYPES.indexOf(a.type) - VALUE_TYPES.indexOf(b.type);
}

/** Order within one comparison class; numbers compare exactly across integer/long/double. */
export function compareWithinClass(a: Value, b: Value): number {
  switch (a.type) {
    case 'boolean':
      return Number(a.value) - Number(b.value as boolean);
    case 'string':
      return compareCodePoints(a.value, b.value as string);
    case 'link':
    case 'timestamp':
      return cmpBig(a.value, b.value as bigint);
    case 'integer':
    case 'long':
    case 'double':
      return compareNumeric(a, b);
  }
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNumeric(a: Value, b: Value): number {
  const x = a.value as number | bigint;
  const y = b.value as number | bigint;
  if (typeof x === 'bigint' && typeof y === 'bigint') return cmpBig(x, y);
  if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : x > y ? 1 : 0;
  // Mixed bigint/double: compare exactly (a double that is an integer converts to bigint exactly).
  const [big, num, sign] = typeof x === 'bigint' ? [x, y as number, 1] : [y as bigint, x as number, -1];
  const fl = Math.floor(num);
  const c = cmpBig(big, BigInt(fl));
  if (c !== 0) return sign * c;
  return num === fl ? 0 : sign * -1;
}

/** Strings order by Unicode code point (= UTF-8 byte order), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (>= 0xD800 and < 0xE000) stands for a code point above 0xFFFF.
    const xs = x >= 0xd800 && x < 0xe000;
    const ys = y >= 0xd800 && y < 0xe000;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Numeric equality across integer/long/double (what `=` means for numbers). */
export function valuesEqualForCriteria(a: Value, b: Value): boolean {
  return classOf(a) === classOf(b) && compareWithinClass(a, b) === 0;
}

export function isNumeric(v: Value): v is Extract<Value, { type: 'integer' | 'long' | 'double' }> {
  return v.type === 'integer' || v.type === 'long' || v.type === 'double';
}

/** A short human form, for error messages and docs: 5, 5L, 5.0D, "x", @7, ts:123. */
export function showValue(v: Value): string {
  switch (v.type) {
    case 'boolean':
      return String(v.value);
    case 'integer':
      return String(v.value);
    case 'long':
      return `${v.value}L`;
    case 'double':
      return `${v.value}D`;
    case 'string':
      return JSON.stringify(v.value);
    case 'link':
      return `@${v.value}`;
    case 'timestamp':
      return `ts:${v.value}`;
  }
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

export function describeRaw(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x);
  if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) return String(x);
  return typeof x;
}
