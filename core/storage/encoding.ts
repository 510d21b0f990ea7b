// Byte encodings for the ordered store. Two of them:
//
// 1. Keys: an order-preserving tuple encoding in the style of FoundationDB's tuple layer, so
//    that unsigned byte order of encoded keys equals the tuple order defined below, and a
//    tuple's encoding is a prefix of the encoding of every tuple that extends it. LMDB (and
//    MemStore) then give index order for free.
// 2. Values: a compact, deterministic binary encoding of JSON-like values plus bigint and bytes.
//    Equal values encode to equal bytes (object keys sorted), so compare-and-swap may compare
//    bytes.
//
// Tuple order: element by element; a tuple that is a prefix of another sorts first. Elements
// compare first by type, in this order: null < bytes < string < nested tuple < integer <
// double < false < true; then within the type: bytes unsigned-lexicographically, strings by
// Unicode code point (= UTF-8 byte order; NOT JavaScript's UTF-16 `<`), tuples recursively,
// integers numerically, doubles by the IEEE total order (-NaN never occurs: every NaN is
// stored as the one positive quiet NaN, which sorts after +Infinity; -0 sorts just before +0).
//
// A JavaScript number that is a safe integer (and not -0) is an integer element; every other
// number (fractions, -0, NaN, ±Infinity, integers beyond 2^53) is a double. Wrap a number in
// `Float64` to force the double encoding. A bigint is an integer. Decoding gives integers back
// as numbers when they are safe integers, else as bigints; doubles come back as numbers, except
// a double whose value is a safe integer (e.g. Float64(3)), which comes back as a Float64 so
// that it keeps its type. Hence encodeKey(decodeKey(b)) equals b for every b encodeKey made.
import type { Bytes, RangeOptions } from './port.js';

// ---- shared byte helpers ---------------------------------------------------------------------

/** A growable byte buffer; `finish` returns exactly the bytes written. */
export class ByteWriter {
  protected buf: Uint8Array;
  protected len = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity);
  }

  protected reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): this {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = b;
    return this;
  }

  bytes(b: Bytes): this {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Unsigned LEB128 of a safe non-negative integer. */
  varint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint: ${n} is not a safe non-negative integer`);
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
    return this;
  }

  /** Big-endian IEEE 754; every NaN is written as the one quiet NaN, so bytes are deterministic. */
  float64(x: number): this {
    this.reserve(8);
    if (Number.isNaN(x)) {
      this.buf.set([0x7f, 0xf8, 0, 0, 0, 0, 0, 0], this.len);
      this.len += 8;
      return this;
    }
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, x);
    this.len += 8;
    return this;
  }

  /** UTF-8 of `s`; with `escapeZero`, every 0x00 byte is written as 0x00 0xFF (tuple strings). */
  utf8(s: string, escapeZero: boolean): this {
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        this.byte(c);
        if (c === 0 && escapeZero) this.byte(0xff);
      } else if (c < 0x800) {
        this.byte(0xc0 | (c >> 6));
        this.byte(0x80 | (c & 0x3f));
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = s.charCodeAt(i + 1);
        if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) {
          throw new RangeError(`string has a lone surrogate at index ${i}; it cannot be encoded as UTF-8`);
        }
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        this.byte(0xf0 | (c >> 18));
        this.byte(0x80 | ((c >> 12) & 0x3f));
        this.byte(0x80 | ((c >> 6) & 0x3f));
        this.byte(0x80 | (c & 0x3f));
      } else {
        this.byte(0xe0 | (c >> 12));
        this.byte(0x80 | ((c >> 6) & 0x3f));
        this.byte(0x80 | (c & 0x3f));
      }
    }
    return this;
  }

  get length(): number {
    return this.len;
  }

  reset(): this {
    this.len = 0;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Thrown for bytes that are not a valid encoding: truncated, trailing garbage, unknown tags. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Strict UTF-8 decoding of b[start, end): rejects overlong forms, surrogates and truncation. */
export function decodeUtf8(b: Bytes, start = 0, end = b.length): string {
  let out = '';
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      // Runs of ASCII are the common case: take them in one call.
      let j = i + 1;
      while (j < end && b[j]! < 0x80 && j - i < 4096) j++;
      out += String.fromCharCode.apply(null, b.subarray(i, j) as unknown as number[]);
      i = j;
      continue;
    }
    let cp: number;
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [cp, need, min] = [c & 0x1f, 1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [cp, need, min] = [c & 0x0f, 2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [cp, need, min] = [c & 0x07, 3, 0x10000];
    else throw new DecodeError(`invalid UTF-8 lead byte 0x${c.toString(16)} at ${i}`);
    if (i + need >= end) throw new DecodeError(`truncated UTF-8 sequence at ${i}`);
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) throw new DecodeError(`invalid UTF-8 continuation byte at ${i + k}`);
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      throw new DecodeError(`invalid UTF-8 code point U+${cp.toString(16)} at ${i}`);
    }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

// ---- keys: the tuple encoding ----------------------------------------------------------------

/** Forces the double encoding of a number that would otherwise be encoded as an integer. */
export class Float64 {
  constructor(readonly value: number) {
    if (typeof value !== 'number') throw new TypeError('Float64 wraps a number');
  }
}

export type TupleElement = null | boolean | number | bigint | string | Uint8Array | Float64 | Tuple;
export type Tuple = readonly TupleElement[];
/** What decodeKey returns (a Float64 only for an integral double, see above). */
export type DecodedElement = null | boolean | number | bigint | string | Uint8Array | Float64 | DecodedElement[];

/** Type codes, chosen (as in FoundationDB) so their order is the order of the types. */
const T_NULL = 0x00;
const T_BYTES = 0x01;
const T_STRING = 0x02;
const T_NESTED = 0x05;
const T_INT_NEG_BIG = 0x0b;
const T_INT_ZERO = 0x14;
const T_INT_POS_BIG = 0x1d;
const T_DOUBLE = 0x21;
const T_FALSE = 0x26;
const T_TRUE = 0x27;
/** Integers longer than this many bytes use the length-prefixed form. */
const INT_SHORT_BYTES_MAX = 8;
/** The length-prefixed form holds at most 255 magnitude bytes (|n| < 2^2040). */
const INT_BYTES_MAX = 255;
/** Nesting deeper than this is refused rather than risking the stack. */
export const TUPLE_DEPTH_MAX = 32;

/** Big-endian magnitude bytes of |n|, minimal length (empty for 0). */
function magnitudeBytes(n: number | bigint): number[] {
  const out: number[] = [];
  if (typeof n === 'number') {
    let m = Math.abs(n);
    while (m > 0) {
      out.push(m % 256);
      m = Math.floor(m / 256);
    }
  } else {
    let m = n < 0n ? -n : n;
    while (m > 0n) {
      out.push(Number(m & 0xffn));
      m >>= 8n;
    }
  }
  return out.reverse();
}

function writeInteger(w: ByteWriter, n: number | bigint): void {
  const negative = n < 0;
  const mag = magnitudeBytes(n);
  const k = mag.length;
  if (k > INT_BYTES_MAX) throw new RangeError(`integer ${n} needs ${k} bytes; the tuple encoding allows ${INT_BYTES_MAX}`);
  if (!negative) {
    if (k <= INT_SHORT_BYTES_MAX) w.byte(T_INT_ZERO + k);
    else {
      w.byte(T_INT_POS_BIG);
      w.byte(k);
    }
    for (const b of mag) w.byte(b);
  } else {
    // One's complement of the magnitude: a larger magnitude gives smaller bytes.
    if (k <= INT_SHORT_BYTES_MAX) w.byte(T_INT_ZERO - k);
    else {
      w.byte(T_INT_NEG_BIG);
      w.byte(k ^ 0xff);
    }
    for (const b of mag) w.byte(b ^ 0xff);
  }
}

function writeDouble(w: ByteWriter, x: number): void {
  const b = new Uint8Array(8);
  // One NaN: the positive quiet NaN, so it has one place in the order (after +Infinity).
  if (Number.isNaN(x)) b.set([0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
  else new DataView(b.buffer).setFloat64(0, x);
  if (b[0]! & 0x80) for (let i = 0; i < 8; i++) b[i] = b[i]! ^ 0xff;
  else b[0] = b[0]! ^ 0x80;
  w.byte(T_DOUBLE);
  w.bytes(b);
}

function writeElement(w: ByteWriter, e: TupleElement, nested: boolean, depth: number): void {
  if (e === null) {
    w.byte(T_NULL);
    // Inside a nested tuple 0x00 ends the tuple, so a null there is 0x00 0xFF.
    if (nested) w.byte(0xff);
    return;
  }
  switch (typeof e) {
    case 'boolean':
      w.byte(e ? T_TRUE : T_FALSE);
      return;
    case 'number':
      if (Number.isSafeInteger(e) && !Object.is(e, -0)) writeInteger(w, e);
      else writeDouble(w, e);
      return;
    case 'bigint':
      writeInteger(w, e);
      return;
    case 'string':
      w.byte(T_STRING);
      w.utf8(e, true);
      w.byte(0x00);
      return;
    case 'object':
      if (e instanceof Uint8Array) {
        w.byte(T_BYTES);
        for (let i = 0; i < e.length; i++) {
          const b = e[i]!;
          w.byte(b);
          if (b === 0) w.byte(0xff);
        }
        w.byte(0x00);
        return;
      }
      if (e instanceof Float64) {
        writeDouble(w, e.value);
        return;
      }
      if (Array.isArray(e)) {
        if (depth >= TUPLE_DEPTH_MAX) throw new RangeError(`tuple nested deeper than ${TUPLE_DEPTH_MAX}`);
        w.byte(T_NESTED);
        for (const x of e as Tuple) writeElement(w, x, true, depth + 1);
        w.byte(0x00);
        return;
      }
      break;
    default:
      break;
  }
  throw new TypeError(`cannot encode ${describe(e)} in a key tuple`);
}

function describe(x: unknown): string {
  if (x === undefined) return 'undefined';
  if (typeof x === 'object') return x === null ? 'null' : `an object (${Object.prototype.toString.call(x)})`;
  return `a ${typeof x}`;
}

/** Whether b[at, at + 8) is the one NaN the encoders write (7FF8000000000000). */
function isCanonicalNaN(b: Bytes, at: number): boolean {
  if (b[at] !== 0x7f || b[at + 1] !== 0xf8) return false;
  for (let i = 2; i < 8; i++) if (b[at + i] !== 0) return false;
  return true;
}

/** Encodes a tuple as an order-preserving key. */
export function encodeKey(parts: Tuple): Uint8Array {
  if (!Array.isArray(parts)) throw new TypeError('encodeKey takes an array of parts');
  const w = new ByteWriter(32);
  for (const p of parts) writeElement(w, p, false, 0);
  return w.finish();
}

interface Reader {
  readonly b: Bytes;
  pos: number;
}

function readEscaped(r: Reader): Uint8Array {
  const out: number[] = [];
  const b = r.b;
  for (;;) {
    if (r.pos >= b.length) throw new DecodeError('unterminated bytes/string element');
    const c = b[r.pos++]!;
    if (c !== 0) {
      out.push(c);
      continue;
    }
    if (b[r.pos] === 0xff) {
      out.push(0);
      r.pos++;
      continue;
    }
    return Uint8Array.from(out);
  }
}

function readElement(r: Reader, nested: boolean, depth: number): DecodedElement {
  const b = r.b;
  const code = b[r.pos++]!;
  if (code === T_NULL) {
    if (nested) {
      if (b[r.pos] !== 0xff) throw new DecodeError(`bad null inside a nested tuple at ${r.pos - 1}`);
      r.pos++;
    }
    return null;
  }
  if (code === T_BYTES) return readEscaped(r);
  if (code === T_STRING) {
    const raw = readEscaped(r);
    return decodeUtf8(raw);
  }
  if (code === T_NESTED) {
    if (depth >= TUPLE_DEPTH_MAX) throw new DecodeError(`tuple nested deeper than ${TUPLE_DEPTH_MAX}`);
    const out: DecodedElement[] = [];
    for (;;) {
      if (r.pos >= b.length) throw new DecodeError('unterminated nested tuple');
      if (b[r.pos] === 0x00 && b[r.pos + 1] !== 0xff) {
        r.pos++;
        return out;
      }
      out.push(readElement(r, true, depth + 1));
    }
  }
  if (code >= T_INT_NEG_BIG && code <= T_INT_POS_BIG) return readInteger(r, code);
  if (code === T_DOUBLE) {
    if (r.pos + 8 > b.length) throw new DecodeError('truncated double');
    const d = b.slice(r.pos, r.pos + 8);
    r.pos += 8;
    if (d[0]! & 0x80) d[0] = d[0]! ^ 0x80;
    else for (let i = 0; i < 8; i++) d[i] = d[i]! ^ 0xff;
    const x = new DataView(d.buffer).getFloat64(0);
    if (Number.isNaN(x) && !isCanonicalNaN(d, 0)) throw new DecodeError('non-canonical NaN in a key');
    return Number.isSafeInteger(x) && !Object.is(x, -0) ? new Float64(x) : x;
  }
  if (code === T_FALSE) return false;
  if (code === T_TRUE) return true;
  throw new DecodeError(`unknown tuple type code 0x${code.toString(16)} at ${r.pos - 1}`);
}

function readInteger(r: Reader, code: number): number | bigint {
  const b = r.b;
  if (code === T_INT_ZERO) return 0;
  let negative: boolean;
  let k: number;
  if (code === T_INT_POS_BIG || code === T_INT_NEG_BIG) {
    negative = code === T_INT_NEG_BIG;
    if (r.pos >= b.length) throw new DecodeError('truncated integer length');
    k = negative ? b[r.pos++]! ^ 0xff : b[r.pos++]!;
    if (k <= INT_SHORT_BYTES_MAX) throw new DecodeError('non-canonical long integer form');
  } else {
    negative = code < T_INT_ZERO;
    k = negative ? T_INT_ZERO - code : code - T_INT_ZERO;
  }
  if (r.pos + k > b.length) throw new DecodeError('truncated integer');
  const first = negative ? b[r.pos]! ^ 0xff : b[r.pos]!;
  if (first === 0) throw new DecodeError('non-canonical integer (leading zero byte)');
  let value: number | bigint;
  if (k <= 6) {
    let m = 0;
    for (let i = 0; i < k; i++) m = m * 256 + (negative ? b[r.pos + i]! ^ 0xff : b[r.pos + i]!);
    value = negative ? -m : m;
  } else {
    let m = 0n;
    for (let i = 0; i < k; i++) m = (m << 8n) | BigInt(negative ? b[r.pos + i]! ^ 0xff : b[r.pos + i]!);
    const big = negative ? -m : m;
    value = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  r.pos += k;
  return value;
}

/** Decodes a key produced by encodeKey; throws DecodeError on anything else. */
export function decodeKey(bytes: Bytes): DecodedElement[] {
  const r: Reader = { b: bytes, pos: 0 };
  const out: DecodedElement[] = [];
  while (r.pos < bytes.length) out.push(readElement(r, false, 0));
  return out;
}

/**
 * The first key after every key that starts with `prefix`: strip trailing 0xFF bytes, then add
 * one to the last byte. Throws when no such key exists (an empty or all-0xFF prefix); use
 * `prefixRange`, which handles that case, to scan.
 */
export function prefixEnd(prefix: Bytes): Uint8Array {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) throw new RangeError('prefixEnd: the prefix is empty or all 0xFF bytes; no key follows all its extensions');
  const out = prefix.slice(0, n);
  out[n - 1] = out[n - 1]! + 1;
  return out;
}

/** Range options selecting exactly the keys that start with `prefix`. */
export function prefixRange(prefix: Bytes): RangeOptions {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  return n === 0 ? { start: prefix } : { start: prefix, end: prefixEnd(prefix) };
}

// ---- values ----------------------------------------------------------------------------------

/** A stored value: JSON-like, plus bigint and bytes. */
export type Value = null | boolean | number | bigint | string | Uint8Array | readonly Value[] | { readonly [key: string]: Value };

const V_NULL = 0x00;
const V_FALSE = 0x01;
const V_TRUE = 0x02;
const V_UINT = 0x03;
const V_NINT = 0x04;
const V_FLOAT = 0x05;
const V_BIGINT_POS = 0x06;
const V_BIGINT_NEG = 0x07;
const V_STRING = 0x08;
const V_BYTES = 0x09;
const V_ARRAY = 0x0a;
const V_OBJECT = 0x0b;
/** Values nested deeper than this are refused (this also stops cycles). */
export const VALUE_DEPTH_MAX = 64;

function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function writeValue(w: ByteWriter, v: Value, depth: number): void {
  if (depth > VALUE_DEPTH_MAX) throw new RangeError(`value nested deeper than ${VALUE_DEPTH_MAX} (or cyclic)`);
  if (v === null) {
    w.byte(V_NULL);
    return;
  }
  switch (typeof v) {
    case 'boolean':
      w.byte(v ? V_TRUE : V_FALSE);
      return;
    case 'number':
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        w.byte(v >= 0 ? V_UINT : V_NINT);
        w.varint(Math.abs(v));
        return;
      }
      w.byte(V_FLOAT);
      w.float64(v);
      return;
    case 'bigint': {
      const mag = magnitudeBytes(v);
      w.byte(v < 0n ? V_BIGINT_NEG : V_BIGINT_POS);
      w.varint(mag.length);
      for (const b of mag) w.byte(b);
      return;
    }
    case 'string': {
      w.byte(V_STRING);
      const inner = new ByteWriter(v.length + 4);
      inner.utf8(v, false);
      w.varint(inner.length);
      w.bytes(inner.finish());
      return;
    }
    case 'object':
      if (v instanceof Uint8Array) {
        w.byte(V_BYTES);
        w.varint(v.length);
        w.bytes(v);
        return;
      }
      if (Array.isArray(v)) {
        w.byte(V_ARRAY);
        w.varint(v.length);
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new TypeError(`array has a hole at index ${i}`);
          writeValue(w, (v as readonly Value[])[i]!, depth + 1);
        }
        return;
      }
      if (isPlainObject(v)) {
        const obj = v as { readonly [key: string]: Value };
        // Sorted keys: equal objects encode to equal bytes whatever their insertion order.
        const keys = Object.keys(obj).sort();
        w.byte(V_OBJECT);
        w.varint(keys.length);
        for (const k of keys) {
          const kw = new ByteWriter(k.length + 4);
          kw.utf8(k, false);
          w.varint(kw.length);
          w.bytes(kw.finish());
          writeValue(w, obj[k]!, depth + 1);
        }
        return;
      }
      break;
    default:
      break;
  }
  throw new TypeError(`cannot store ${describe(v)} as a value (allowed: null, boolean, number, bigint, string, Uint8Array, arrays and plain objects)`);
}

export function encodeValue(v: Value): Uint8Array {
  const w = new ByteWriter(16);
  writeValue(w, v, 0);
  return w.finish();
}

function readVarint(r: Reader): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    if (r.pos >= r.b.length) throw new DecodeError('truncated varint');
    const c = r.b[r.pos++]!;
    n += (c & 0x7f) * scale;
    if (n > Number.MAX_SAFE_INTEGER) throw new DecodeError('varint exceeds 2^53');
    if ((c & 0x80) === 0) {
      if (c === 0 && scale > 1) throw new DecodeError('non-canonical varint');
      return n;
    }
    scale *= 0x80;
  }
}

function readLength(r: Reader, what: string): number {
  const n = readVarint(r);
  if (r.pos + n > r.b.length) throw new DecodeError(`truncated ${what}`);
  return n;
}

function readValue(r: Reader, depth: number): Value {
  if (depth > VALUE_DEPTH_MAX) throw new DecodeError(`value nested deeper than ${VALUE_DEPTH_MAX}`);
  const b = r.b;
  if (r.pos >= b.length) throw new DecodeError('truncated value');
  const tag = b[r.pos++]!;
  switch (tag) {
    case V_NULL:
      return null;
    case V_FALSE:
      return false;
    case V_TRUE:
      return true;
    case V_UINT:
      return readVarint(r);
    case V_NINT: {
      const n = readVarint(r);
      if (n === 0) throw new DecodeError('non-canonical negative zero integer');
      return -n;
    }
    case V_FLOAT: {
      if (r.pos + 8 > b.length) throw new DecodeError('truncated float');
      const x = new DataView(b.buffer, b.byteOffset + r.pos, 8).getFloat64(0);
      if (Number.isNaN(x) && !isCanonicalNaN(b, r.pos)) throw new DecodeError('non-canonical NaN');
      // The writer encodes a safe integer (other than -0) as an integer, never as a double.
      if (Number.isSafeInteger(x) && !Object.is(x, -0)) throw new DecodeError('non-canonical float: an integral value is written as an integer');
      r.pos += 8;
      return x;
    }
    case V_BIGINT_POS:
    case V_BIGINT_NEG: {
      const n = readLength(r, 'bigint');
      if (n > 0 && b[r.pos] === 0) throw new DecodeError('non-canonical bigint (leading zero byte)');
      let m = 0n;
      for (let i = 0; i < n; i++) m = (m << 8n) | BigInt(b[r.pos + i]!);
      r.pos += n;
      if (tag === V_BIGINT_NEG && m === 0n) throw new DecodeError('non-canonical negative zero bigint');
      return tag === V_BIGINT_NEG ? -m : m;
    }
    case V_STRING: {
      const n = readLength(r, 'string');
      const s = decodeUtf8(b, r.pos, r.pos + n);
      r.pos += n;
      return s;
    }
    case V_BYTES: {
      const n = readLength(r, 'bytes');
      const out = b.slice(r.pos, r.pos + n);
      r.pos += n;
      return out;
    }
    case V_ARRAY: {
      const n = readVarint(r);
      if (n > b.length - r.pos) throw new DecodeError('array longer than the input');
      const out: Value[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
      return out;
    }
    case V_OBJECT: {
      const n = readVarint(r);
      if (n > b.length - r.pos) throw new DecodeError('object longer than the input');
      const out: { [key: string]: Value } = {};
      let prev: string | undefined;
      for (let i = 0; i < n; i++) {
        const kl = readLength(r, 'object key');
        const k = decodeUtf8(b, r.pos, r.pos + kl);
        r.pos += kl;
        if (prev !== undefined && !(prev < k)) throw new DecodeError('object keys not in canonical order (or repeated)');
        prev = k;
        // defineProperty: a key named "__proto__" must become a plain property, not a prototype.
        Object.defineProperty(out, k, { value: readValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      throw new DecodeError(`unknown value tag 0x${tag.toString(16)} at ${r.pos - 1}`);
  }
}

/** Decodes bytes produced by encodeValue; throws DecodeError on anything else. */
export function decodeValue(bytes: Bytes): Value {
  const r: Reader = { b: bytes, pos: 0 };
  const v = readValue(r, 0);
  if (r.pos !== bytes.length) throw new DecodeError(`${bytes.length - r.pos} trailing bytes after the value`);
  return v;
}

/** Byte-wise equality, for compare-and-swap on encoded values. */
export function bytesEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
