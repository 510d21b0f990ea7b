// Order-preserving byte encodings for the record tables: compareBytes(enc(a), enc(b)) has the
// sign of compareValues(a, b), and every encoding is prefix-free, so tuples of them concatenate
// into keys whose byte order is tuple order. The generic tuple encoding in ../encoding.ts
// cannot give this: the index needs integers, longs and doubles to interleave by numeric value.
import type { Bytes } from '../port.js';
import { ByteWriter as BaseByteWriter } from '../encoding.js';
import { AssertionError } from '../../types.js';
import type { Value } from './values.js';

/** The shared growable buffer (../encoding.ts) with the record tables' own encodings; one per key being built. */
export class ByteWriter extends BaseByteWriter {
  constructor(capacity = 32) {
    super(capacity);
  }
  /** Unsigned 64-bit big-endian. */
  u64(n: bigint): this {
    // Two 32-bit halves: far cheaper than eight bigint shifts.
    const hi = Number(BigInt.asUintN(32, n >> 32n));
    const lo = Number(BigInt.asUintN(32, n));
    return this.u32(hi).u32(lo);
  }
  /** A non-negative safe integer as 8 big-endian bytes (versions, timestamps). */
  uint(n: number): this {
    this.reserve(8);
    const hi = Math.floor(n / 0x100000000);
    const lo = n >>> 0;
    const b = this.buf;
    const o = this.len;
    b[o] = hi >>> 24;
    b[o + 1] = (hi >>> 16) & 0xff;
    b[o + 2] = (hi >>> 8) & 0xff;
    b[o + 3] = hi & 0xff;
    b[o + 4] = lo >>> 24;
    b[o + 5] = (lo >>> 16) & 0xff;
    b[o + 6] = (lo >>> 8) & 0xff;
    b[o + 7] = lo & 0xff;
    this.len += 8;
    return this;
  }
  u32(n: number): this {
    this.reserve(4);
    const b = this.buf;
    const o = this.len;
    b[o] = n >>> 24;
    b[o + 1] = (n >>> 16) & 0xff;
    b[o + 2] = (n >>> 8) & 0xff;
    b[o + 3] = n & 0xff;
    this.len += 4;
    return this;
  }
  /** ASCII text with a 0x00 terminator (key names: validated, never contain 0x00). */
  ascii0(s: string): this {
    this.reserve(s.length + 1);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
    this.buf[this.len++] = 0;
    return this;
  }
  /** UTF-8 with 0x00 escaped as 00 FF and terminated by 00 01: prefix-free, order-preserving. */
  text(s: string): this {
    return this.textBody(s).byte(0).byte(1);
  }
  /**
   * The encoding of s without its terminator: the encoding of every string that starts with s
   * starts with these bytes (escaping is per character).
   */
  textBody(s: string): this {
    this.reserve(s.length * 3 + 2);
    const b = this.buf;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        }
      }
      if (c === 0) {
        this.reserve(2);
        this.buf[this.len++] = 0;
        this.buf[this.len++] = 0xff;
        continue;
      }
      if (c < 0x80) b[this.len++] = c;
      else if (c < 0x800) {
        b[this.len++] = 0xc0 | (c >> 6);
        b[this.len++] = 0x80 | (c & 63);
      } else if (c < 0x10000) {
        b[this.len++] = 0xe0 | (c >> 12);
        b[this.len++] = 0x80 | ((c >> 6) & 63);
        b[this.len++] = 0x80 | (c & 63);
      } else {
        b[this.len++] = 0xf0 | (c >> 18);
        b[this.len++] = 0x80 | ((c >> 12) & 63);
        b[this.len++] = 0x80 | ((c >> 6) & 63);
        b[this.len++] = 0x80 | (c & 63);
      }
    }
    this.reserve(2);
    return this;
  }
  value(v: Value): this {
    encodeValueInto(this, v);
    return this;
  }
}

/** Gives the full text of a long string from its key encoding (the store's dictionary table). */
export type LongStringResolver = (encoded: Bytes) => string;

/** Reads what ByteWriter wrote. */
export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Bytes,
    start = 0,
    readonly resolveLong?: LongStringResolver,
  ) {
    this.pos = start;
  }
  byte(): number {
    const b = this.buf[this.pos++];
    if (b === undefined) throw new AssertionError('record codec: read past the end of a key');
    return b;
  }
  u64(): bigint {
    const hi = this.u32();
    const lo = this.u32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  uint(): number {
    const b = this.buf;
    const o = this.pos;
    if (o + 8 > b.length) throw new AssertionError('record codec: read past the end of a key');
    const hi = ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
    const lo = ((b[o + 4]! << 24) >>> 0) + (b[o + 5]! << 16) + (b[o + 6]! << 8) + b[o + 7]!;
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }
  u32(): number {
    const b = this.buf;
    const o = this.pos;
    if (o + 4 > b.length) throw new AssertionError('record codec: read past the end of a key');
    this.pos += 4;
    return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  }
  ascii0(): string {
    let s = '';
    for (;;) {
      const c = this.byte();
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
  }
  text(): string {
    const s = this.textOrLong();
    if (s === undefined) throw new AssertionError('record codec: a long-string reference where full text was expected');
    return s;
  }
  /** Text, or undefined after consuming a long-string reference (its prefix, mark and hash). */
  textOrLong(): string | undefined {
    const b = this.buf;
    let s = '';
    for (;;) {
      const c = this.byte();
      if (c === 0) {
        const e = this.byte();
        if (e === 1) return s;
        if (e === LONG_STRING_MARK) {
          this.pos += 8;
          return undefined;
        }
        if (e !== 0xff) throw new AssertionError('record codec: bad escape in text');
        s += '\u0000';
      } else if (c < 0x80) s += String.fromCharCode(c);
      else if (c < 0xe0) s += String.fromCharCode(((c & 31) << 6) | (b[this.pos++]! & 63));
      else if (c < 0xf0) {
        s += String.fromCharCode(((c & 15) << 12) | ((b[this.pos]! & 63) << 6) | (b[this.pos + 1]! & 63));
        this.pos += 2;
      } else {
        const cp = ((c & 7) << 18) | ((b[this.pos]! & 63) << 12) | ((b[this.pos + 1]! & 63) << 6) | (b[this.pos + 2]! & 63);
        this.pos += 3;
        s += String.fromCodePoint(cp);
      }
    }
  }
  value(): Value {
    return decodeValueFrom(this);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}

// Class tags: the first byte of an encoded value, in the cross-class order of the index.
export const CLASS_BOOLEAN = 0x10;
export const CLASS_NUMBER = 0x20;
export const CLASS_TIMESTAMP = 0x30;
export const CLASS_STRING = 0x40;
export const CLASS_LINK = 0x50;
// Type tags after a number's magnitude: equal numbers order integer < long < double.
const NUM_INTEGER = 1;
const NUM_LONG = 2;
const NUM_DOUBLE = 3;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A finite double as 8 bytes whose unsigned order is numeric order (sign flip / invert). */
function writeOrderedDouble(w: ByteWriter, d: number): void {
  f64[0] = d === 0 ? 0 : d;
  const be = new Uint8Array(8);
  for (let i = 0; i < 8; i++) be[i] = f64Bytes[LITTLE_ENDIAN ? 7 - i : i]!;
  if (be[0]! & 0x80) for (let i = 0; i < 8; i++) be[i] = ~be[i]! & 0xff;
  else be[0] = be[0]! | 0x80;
  w.bytes(be);
}

function readOrderedDouble(r: ByteReader): number {
  const be = new Uint8Array(8);
  for (let i = 0; i < 8; i++) be[i] = r.byte();
  if (be[0]! & 0x80) be[0] = be[0]! & 0x7f;
  else for (let i = 0; i < 8; i++) be[i] = ~be[i]! & 0xff;
  for (let i = 0; i < 8; i++) f64Bytes[LITTLE_ENDIAN ? 7 - i : i] = be[i]!;
  return f64[0]!;
}

const SIGN64 = 1n << 63n;

/**
 * The numeric part of a number's encoding: the nearest double (ordered), then the exact
 * remainder of a long beyond that double as a signed 32-bit delta. Rounding to nearest is
 * monotone, so (double, delta) orders every integer, long and double exactly; |delta| <= 1024
 * for 64-bit longs. Two numbers are numerically equal iff these 12 bytes are equal.
 */
export function writeNumericMagnitude(w: ByteWriter, v: Extract<Value, { type: 'integer' | 'long' | 'double' }>): void {
  if (v.type === 'long') {
    const d = Number(v.value);
    writeOrderedDouble(w, d);
    const delta = Number(v.value - BigInt(d));
    w.u32((delta + 0x80000000) >>> 0);
  } else {
    writeOrderedDouble(w, v.value);
    w.u32(0x80000000);
  }
}

export function encodeValueInto(w: ByteWriter, v: Value): void {
  switch (v.type) {
    case 'boolean':
      w.byte(CLASS_BOOLEAN).byte(v.value ? 1 : 0);
      return;
    case 'integer':
      w.byte(CLASS_NUMBER);
      writeNumericMagnitude(w, v);
      w.byte(NUM_INTEGER);
      return;
    case 'long':
      w.byte(CLASS_NUMBER);
      writeNumericMagnitude(w, v);
      w.byte(NUM_LONG);
      return;
    case 'double':
      w.byte(CLASS_NUMBER);
      writeNumericMagnitude(w, v);
      w.byte(NUM_DOUBLE);
      return;
    case 'timestamp':
      w.byte(CLASS_TIMESTAMP).u64(BigInt.asUintN(64, v.value) ^ SIGN64);
      return;
    case 'string':
      writeStringValue(w, v.value);
      return;
    case 'link':
      w.byte(CLASS_LINK).u64(v.value);
      return;
  }
}

/**
 * Most text bytes of a string kept in a key. Keys must fit LMDB's default 511-byte limit: the
 * namespace, table, a 255-byte key name, this, the 11-byte long-string tail and two 8-byte
 * integers stay under it.
 */
export const STRING_KEY_BODY_MAX = 200;
/** After a truncated body, `00 02` (between the terminator 00 01 and the escape 00 FF), then a 64-bit hash. */
const LONG_STRING_MARK = 2;

/** The escaped UTF-8 body of s (no terminator). */
function textBodyBytes(s: string): Bytes {
  return new ByteWriter(s.length * 3 + 2).textBody(s).finish();
}

/** Where to cut a body to at most STRING_KEY_BODY_MAX bytes without splitting an `00 FF` escape. */
function cutBody(body: Bytes): number {
  let cut = Math.min(body.length, STRING_KEY_BODY_MAX);
  if (cut > 0 && cut < body.length && body[cut - 1] === 0) cut--;
  return cut;
}

/**
 * A string's key encoding. Up to STRING_KEY_BODY_MAX body bytes: the full text, terminated.
 * Longer: the first bytes, the long mark and a 64-bit hash of the whole body; the full text
 * lives in the dictionary table under this encoding. Order stays exact against every string
 * that differs within the kept bytes; long strings sharing all kept bytes order by hash, and
 * the reader re-checks them with the true order (find) — see docs/storage-records.md.
 */
function writeStringValue(w: ByteWriter, s: string): void {
  w.byte(CLASS_STRING);
  if (s.length * 3 <= STRING_KEY_BODY_MAX) {
    w.text(s);
    return;
  }
  const body = textBodyBytes(s);
  if (body.length <= STRING_KEY_BODY_MAX) {
    w.bytes(body).byte(0).byte(1);
    return;
  }
  w.bytes(body.subarray(0, cutBody(body))).byte(0).byte(LONG_STRING_MARK);
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  w.u32(h1 >>> 0).u32(h2 >>> 0);
}

/** Is this string stored as a long-string reference in keys? */
export function isLongString(s: string): boolean {
  return s.length * 3 > STRING_KEY_BODY_MAX && textBodyBytes(s).length > STRING_KEY_BODY_MAX;
}

/** The kept-bytes prefix shared by every long string whose text starts like s (class byte included). */
export function longStringGroup(s: string): Bytes {
  const body = textBodyBytes(s);
  return new ByteWriter(STRING_KEY_BODY_MAX + 1).byte(CLASS_STRING).bytes(body.subarray(0, cutBody(body))).finish();
}

export function decodeValueFrom(r: ByteReader): Value {
  const tag = r.byte();
  switch (tag) {
    case CLASS_BOOLEAN:
      return { type: 'boolean', value: r.byte() === 1 };
    case CLASS_NUMBER: {
      const d = readOrderedDouble(r);
      const delta = r.u32() - 0x80000000;
      const t = r.byte();
      if (t === NUM_INTEGER) return { type: 'integer', value: d };
      if (t === NUM_LONG) return { type: 'long', value: BigInt(d) + BigInt(delta) };
      if (t === NUM_DOUBLE) return { type: 'double', value: d };
      throw new AssertionError(`record codec: unknown number type ${t}`);
    }
    case CLASS_TIMESTAMP:
      return { type: 'timestamp', value: BigInt.asIntN(64, r.u64() ^ SIGN64) };
    case CLASS_STRING: {
      const start = r.pos - 1;
      const text = r.textOrLong();
      if (text !== undefined) return { type: 'string', value: text };
      if (r.resolveLong === undefined) throw new AssertionError('record codec: a long string needs the dictionary to decode');
      return { type: 'string', value: r.resolveLong(r.buf.subarray(start, r.pos)) };
    }
    case CLASS_LINK:
      return { type: 'link', value: r.u64() };
    default:
      throw new AssertionError(`record codec: unknown value class ${tag}`);
  }
}

export function encodeValue(v: Value): Bytes {
  return new ByteWriter(16).value(v).finish();
}

export function decodeValue(b: Bytes): Value {
  return new ByteReader(b).value();
}

/**
 * The bytes that identify a value for comparison: class tag plus magnitude, WITHOUT a number's
 * type tag. Every stored value v with valuesEqualForCriteria(v, x) has an encoding starting with
 * comparisonPrefix(x); the range [prefix, prefixEnd(prefix)) holds exactly those.
 */
export function comparisonPrefix(v: Value): Bytes {
  const w = new ByteWriter(16);
  switch (v.type) {
    case 'integer':
    case 'long':
    case 'double':
      w.byte(CLASS_NUMBER);
      writeNumericMagnitude(w, v);
      return w.finish();
    default:
      return w.value(v).finish();
  }
}

/** The value-encoding prefix shared by every string that starts with `s` (long ones too). */
export function stringPrefix(s: string): Bytes {
  const body = textBodyBytes(s);
  return new ByteWriter(body.length + 1).byte(CLASS_STRING).bytes(body.subarray(0, cutBody(body))).finish();
}

export function classTag(v: Value): number {
  switch (v.type) {
    case 'boolean':
      return CLASS_BOOLEAN;
    case 'integer':
    case 'long':
    case 'double':
      return CLASS_NUMBER;
    case 'timestamp':
      return CLASS_TIMESTAMP;
    case 'string':
      return CLASS_STRING;
    case 'link':
      return CLASS_LINK;
  }
}

export function concat(a: Bytes, b: Bytes): Bytes {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
