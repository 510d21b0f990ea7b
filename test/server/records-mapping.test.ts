// The HTTP <-> records mapping without a server: JSON values to typed values and back (the
// plain form wherever it reads back as the same type), ids, `at`, and errors naming the field.
import { describe, expect, it } from 'vitest';
import { FieldError, insertOp, jsonOfRecordValue, parseAt, parseRecordId, recordValueOf, invalidMessage } from '../../adapters/records-mapping.js';
import { bool, double, integer, link, long, str, timestampMicros } from '../../core/storage/records/values.js';

describe('records mapping', () => {
  it('JSON values map to typed values and back to a JSON form that reads back as the same value', () => {
    const cases = [
      [true, bool(true)],
      ['s', str('s')],
      [7, integer(7)],
      [-2147483648, integer(-2147483648)],
      [2 ** 40, long(2 ** 40)],
      [2.5, double(2.5)],
      [{ type: 'double', value: 3 }, double(3)],
      [{ type: 'long', value: 5 }, long(5)],
      [{ type: 'long', value: '9223372036854775807' }, long(9223372036854775807n)],
      [{ type: 'link', value: '12' }, link(12n)],
      [{ type: 'timestamp', value: 1700000000000000 }, timestampMicros(1700000000000000n)],
      [{ type: 'integer', value: 1 }, integer(1)],
      [{ type: 'string', value: '12' }, str('12')],
    ] as const;
    for (const [json, typed] of cases) {
      const v = recordValueOf(json, 'value');
      expect(v, JSON.stringify(json)).toEqual(typed);
      const back = jsonOfRecordValue({ type: v.type, value: v.value });
      expect(recordValueOf(back, 'value'), JSON.stringify(json)).toEqual(typed);
    }
    expect(jsonOfRecordValue({ type: 'integer', value: 7 })).toBe(7);
    expect(jsonOfRecordValue({ type: 'long', value: 5n })).toEqual({ type: 'long', value: 5 });
    expect(jsonOfRecordValue({ type: 'long', value: 2n ** 40n })).toBe(2 ** 40);
    expect(jsonOfRecordValue({ type: 'link', value: 3n })).toEqual({ type: 'link', value: '3' });
  });

  it('bad input is a FieldError naming the field', () => {
    const bad: Array<[() => unknown, string]> = [
      [() => recordValueOf(null, 'value'), "field 'value'"],
      [() => recordValueOf([1], 'value'), "field 'value'"],
      [() => recordValueOf({ type: 'long', value: 1.5 }, 'value'), "field 'value'"],
      [() => recordValueOf({ type: 'nope', value: 1 }, 'value'), "field 'value.type'"],
      [() => recordValueOf({ type: 'long', value: 1, extra: 2 }, 'value'), "field 'value'"],
      [() => recordValueOf({ type: 'link', value: -1 }, 'value'), "field 'value.value'"],
      [() => parseRecordId('01'), "field 'id'"],
      [() => parseRecordId('9223372036854775808'), "field 'id'"],
      [() => parseAt('soon'), "field 'at'"],
      [() => parseAt(-1), "field 'at'"],
      [() => insertOp({}), "field 'data'"],
      [() => insertOp({ k: [] }), "field 'data.k'"],
      [() => insertOp({ k: [1, null] }), "field 'data.k[1]'"],
      [() => insertOp({ 'bad key': 1 }), "field 'data'"],
    ];
    for (const [f, field] of bad) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FieldError);
      expect((err as Error).message).toContain(field);
    }
    expect(parseRecordId('0')).toBe(0n);
    expect(parseAt('1700000000000000')).toBe(1700000000000000);
    expect(parseAt('2024-01-01T00:00:00.000Z')).toBe(Date.parse('2024-01-01T00:00:00.000Z') * 1000 + 999);
    expect(invalidMessage('bad-key: bad key "x y"', 'value')).toBe(`field 'key': bad key "x y"`);
    expect(invalidMessage('something odd', 'value')).toBe("field 'value': something odd");
  });
});
