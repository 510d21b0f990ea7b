import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  encodeKey, decodeKey, prefixEnd, prefixRange, encodeValue, decodeValue, Float64, DecodeError, decodeUtf8,
  type TupleElement, type Tuple, type Value, type DecodedElement,
} from '../../core/storage/encoding.js';
import { compareBytes } from '../../core/storage/port.js';
import { MemStore } from '../../core/storage/memstore.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---- the tuple order, written independently of the encoder ----------------------------------

function typeRank(e: TupleElement): number {
  if (e === null) return 0;
  if (e instanceof Uint8Array) return 1;
  if (typeof e === 'string') return 2;
  if (Array.isArray(e)) return 5;
  if (typeof e === 'bigint') return 20;
  if (typeof e === 'number') return Number.isSafeInteger(e) && !Object.is(e, -0) ? 20 : 33;
  if (e instanceof Float64) return 33;
  if (e === false) return 38;
  if (e === true) return 39;
  throw new Error('unexpected element');
}

/** IEEE total order with one NaN above +Infinity and -0 < +0. */
function compareDoubles(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return (Number.isNaN(a) ? 1 : 0) - (Number.isNaN(b) ? 1 : 0);
  if (a === 0 && b === 0) return (Object.is(a, -0) ? 0 : 1) - (Object.is(b, -0) ? 0 : 1);
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareCodePoints(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function compareElements(a: TupleElement, b: TupleElement): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0: case 38: case 39: return 0;
    case 1: return compareBytes(a as Uint8Array, b as Uint8Array);
    case 2: return compareCodePoints(a as string, b as string);
    case 5: return compareTuples(a as Tuple, b as Tuple);
    case 20: { const x = BigInt(a as number | bigint); const y = BigInt(b as number | bigint); return x < y ? -1 : x > y ? 1 : 0; }
    case 33: return compareDoubles(a instanceof Float64 ? a.value : (a as number), b instanceof Float64 ? b.value : (b as number));
    default: throw new Error('rank');
  }
}

function compareTuples(a: Tuple, b: Tuple): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareElements(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** What decoding should give back: integral doubles as Float64, other doubles as numbers. */
function normalize(e: TupleElement): DecodedElement {
  if (e instanceof Float64) return Number.isSafeInteger(e.value) && !Object.is(e.value, -0) ? e : e.value;
  if (typeof e === 'number' && !Number.isSafeInteger(e)) return e;
  if (typeof e === 'bigint' && e >= BigInt(Number.MIN_SAFE_INTEGER) && e <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(e);
  if (Array.isArray(e)) return (e as Tuple).map(normalize);
  return e as DecodedElement;
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

const element: fc.Arbitrary<TupleElement> = fc.letrec<{ e: TupleElement; t: Tuple }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.double(),
    fc.double().map((d) => new Float64(d)),
    fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 0.5, -0.5),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
    fc.string({ unit: fc.constantFrom('\u0000', 'a', '\u00ff', '\uffff', '\u{10000}', '\u{10ffff}', '\ue000'), maxLength: 5 }),
    fc.uint8Array({ maxLength: 5 }),
    fc.uint8Array({ maxLength: 4, max: 1 }),
    tie('t'),
  ),
  t: fc.array(tie('e'), { maxLength: 4 }),
})).e;
const tuple = fc.array(element, { maxLength: 5 });

describe('key tuple encoding', () => {
  it('lays out bytes as documented', () => {
    expect(hex(encodeKey([null, true, false]))).toBe('002726');
    expect(hex(encodeKey([0, 1, 255, 256, -1, -255, -256, -257]))).toBe('14' + '1501' + '15ff' + '160100' + '13fe' + '1300' + '12feff' + '12fefe');
    expect(hex(encodeKey(['a\u0000b', new Uint8Array([0, 1])]))).toBe('026100ff6200' + '0100ff0100');
    expect(hex(encodeKey([[null, 'x'], []]))).toBe('0500ff02780000' + '0500');
    expect(hex(encodeKey([1.5, -1.5, new Float64(3)]))).toBe('21bff8000000000000' + '214007ffffffffffff' + '21c008000000000000');
    expect(hex(encodeKey([2n ** 64n]))).toBe('1d09010000000000000000');
    expect(hex(encodeKey([-(2n ** 64n)]))).toBe('0bf6fe' + 'ff'.repeat(8));
    expect(hex(encodeKey([NaN, -0, 0.0]))).toBe('21fff8000000000000' + '217fffffffffffffff' + '14');
    expect(hex(encodeKey(['é']))).toBe('02c3a900');
  });

  it('round-trips: decodeKey(encodeKey(t)) gives t back (integral doubles as Float64, safe bigints as numbers) and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(tuple, (t) => {
        const bytes = encodeKey(t);
        const back = decodeKey(bytes);
        expect(back).toEqual(t.map(normalize));
        expect(hex(encodeKey(back))).toBe(hex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('byte order of encoded tuples equals the tuple order', () => {
    fc.assert(
      fc.property(tuple, tuple, (a, b) => {
        expect(sign(compareBytes(encodeKey(a), encodeKey(b)))).toBe(sign(compareTuples(a, b)));
      }),
      { numRuns: 3000 },
    );
  });

  it('orders near-equal tuples (shared prefixes) correctly', () => {
    const small = fc.array(fc.oneof(fc.constant(null), fc.constantFrom(0, 1, -1, 255, 256, -256, 2 ** 40), fc.constantFrom('', 'a', 'a\u0000', 'b'), fc.constant(new Uint8Array([0]))), { maxLength: 3 });
    fc.assert(
      fc.property(small, small, small, (p, a, b) => {
        const x = [...p, ...a];
        const y = [...p, ...b];
        expect(sign(compareBytes(encodeKey(x), encodeKey(y)))).toBe(sign(compareTuples(x, y)));
      }),
      { numRuns: 2000 },
    );
  });

  it('a tuple is a byte prefix of its extensions, and prefixRange finds exactly them in a store', () => {
    fc.assert(
      fc.property(tuple, fc.array(tuple, { maxLength: 12 }), (p, tails) => {
        const store = new MemStore();
        const keys = new Set<string>();
        for (const t of tails) {
          const k = encodeKey([...p, ...t]);
          if (k.length === 0) continue;
          keys.add(hex(k));
          store.write([{ type: 'put', key: k, value: new Uint8Array(0) }]);
          const other = encodeKey(t);
          if (other.length > 0) store.write([{ type: 'put', key: other, value: new Uint8Array(0) }]);
        }
        const pk = encodeKey(p);
        if (pk.length === 0) return;
        const expected = [...store.range()].map((e) => hex(e.key)).filter((h) => h.startsWith(hex(pk)));
        const got = [...store.range(prefixRange(pk))].map((e) => hex(e.key));
        expect(got).toEqual(expected);
        for (const k of keys) expect(got).toContain(k);
      }),
      { numRuns: 300 },
    );
  });

  it('prefixEnd increments past trailing 0xFF and refuses an unbounded prefix', () => {
    expect(hex(prefixEnd(new Uint8Array([1, 2])))).toBe('0103');
    expect(hex(prefixEnd(new Uint8Array([1, 0xff, 0xff])))).toBe('02');
    expect(() => prefixEnd(new Uint8Array([0xff]))).toThrow(/no key follows/);
    expect(() => prefixEnd(new Uint8Array(0))).toThrow(/empty/);
    expect(prefixRange(new Uint8Array([0xff]))).toEqual({ start: new Uint8Array([0xff]) });
  });

  it('refuses what it cannot encode or decode, with clear errors', () => {
    expect(() => encodeKey([undefined as unknown as TupleElement])).toThrow(/cannot encode undefined/);
    expect(() => encodeKey([{} as unknown as TupleElement])).toThrow(/cannot encode an object/);
    expect(() => encodeKey(['\ud800'])).toThrow(/lone surrogate/);
    expect(() => encodeKey([2n ** 2048n])).toThrow(/bytes/);
    let deep: TupleElement = [];
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => encodeKey([deep])).toThrow(/deeper/);
    expect(() => decodeKey(new Uint8Array([0x02, 0x61]))).toThrow(DecodeError);
    expect(() => decodeKey(new Uint8Array([0x30]))).toThrow(/unknown tuple type code/);
    expect(() => decodeKey(new Uint8Array([0x16, 0x00, 0x01]))).toThrow(/non-canonical/);
    expect(() => decodeKey(new Uint8Array([0x21, 1, 2]))).toThrow(/truncated/);
    expect(() => decodeKey(new Uint8Array([0x02, 0xc0, 0x80, 0x00]))).toThrow(/UTF-8/);
    expect(() => decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toThrow(/code point/);
    expect(() => decodeUtf8(new Uint8Array([0xe2, 0x82]))).toThrow(/truncated/);
  });
});

// ---- values ---------------------------------------------------------------------------------

const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('value encoding', () => {
  it('round-trips every value, bigint stays bigint, -0 stays -0', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeValue(v);
        const back = decodeValue(bytes);
        expect(back).toEqual(v);
        expect(hex(encodeValue(back))).toBe(hex(bytes));
      }),
      { numRuns: 2000 },
    );
    expect(decodeValue(encodeValue(5n))).toBe(5n);
    expect(Object.is(decodeValue(encodeValue(-0)), -0)).toBe(true);
    expect(Number.isNaN(decodeValue(encodeValue(NaN)))).toBe(true);
  });

  it('is deterministic: equal objects in any key order give equal bytes', () => {
    expect(hex(encodeValue({ a: 1, b: [true, null] }))).toBe(hex(encodeValue({ b: [true, null], a: 1 })));
    expect(hex(encodeValue({ a: 1, b: 'x' }))).toBe('0b0201610301016208' + '0178');
    expect(hex(encodeValue(NaN))).toBe(hex(encodeValue(-NaN)));
  });

  it('keeps a "__proto__" key as data', () => {
    const v = JSON.parse('{"__proto__": {"x": 1}}') as Value;
    const back = decodeValue(encodeValue(v)) as Record<string, Value>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__']);
  });

  it('refuses what is not a value, and malformed bytes', () => {
    expect(() => encodeValue(undefined as unknown as Value)).toThrow(/cannot store undefined/);
    expect(() => encodeValue(new Map() as unknown as Value)).toThrow(/cannot store an object/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => encodeValue([1, , 3] as unknown as Value)).toThrow(/hole/);
    const cyc: Record<string, unknown> = {};
    cyc['self'] = cyc;
    expect(() => encodeValue(cyc as Value)).toThrow(/deeper|cyclic/);
    expect(() => decodeValue(new Uint8Array([0x03, 0x80]))).toThrow(/truncated/);
    expect(() => decodeValue(new Uint8Array([0x00, 0x00]))).toThrow(/trailing/);
    expect(() => decodeValue(new Uint8Array([0x42]))).toThrow(/unknown value tag/);
    expect(() => decodeValue(new Uint8Array([0x0b, 0x02, 0x01, 0x62, 0x00, 0x01, 0x61, 0x00]))).toThrow(/canonical order/);
    expect(() => decodeValue(new Uint8Array([0x08, 0x05, 0x61]))).toThrow(/truncated string/);
  });
});

describe('decoders on arbitrary bytes', () => {
  it('refuse a double that holds an integral value (found by this fuzz: 05 00..00 decoded to 0, which re-encodes as 03 00)', () => {
    const float = (x: number): Uint8Array => {
      const b = new Uint8Array(9);
      b[0] = 0x05;
      new DataView(b.buffer).setFloat64(1, x);
      return b;
    };
    for (const x of [0, 1, -7, 2 ** 52]) expect(() => decodeValue(float(x))).toThrow(DecodeError);
    // Doubles the writer does emit still round-trip: fractions, -0, and integers beyond 2^53.
    for (const x of [5e-324, 0.5, -0, 2 ** 60, Number.POSITIVE_INFINITY]) {
      expect(hex(encodeValue(x))).toBe(hex(float(x)));
      expect(Object.is(decodeValue(float(x)), x)).toBe(true);
    }
  });

  it('either decode to something that re-encodes to the same bytes, or throw DecodeError (never anything else)', () => {
    const outcome = (f: () => Uint8Array, input: Uint8Array) => {
      try {
        expect(hex(f())).toBe(hex(input));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        outcome(() => encodeKey(decodeKey(b)), b);
        outcome(() => encodeValue(decodeValue(b)), b);
      }),
      { numRuns: 5000 },
    );
    // Biased towards valid prefixes: mutate real encodings.
    fc.assert(
      fc.property(tuple, value, fc.nat(), fc.integer({ min: 0, max: 255 }), (t, v, at, byte) => {
        const k = encodeKey(t);
        const e = encodeValue(v);
        if (k.length > 0) k[at % k.length] = byte;
        if (e.length > 0) e[at % e.length] = byte;
        outcome(() => encodeKey(decodeKey(k)), k);
        outcome(() => encodeValue(decodeValue(e)), e);
      }),
      { numRuns: 3000 },
    );
  });
});

