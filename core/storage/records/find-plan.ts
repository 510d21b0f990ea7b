// How find answers one condition from the index: the byte ranges of the value encoding it
// reads, the per-value test that re-checks what a range cannot decide (regexes, substrings,
// long strings), and the rough costs that order the clauses of an `and`. Pure functions of a
// checked criteria; the reader does the reading.
import { endOf } from './layout.js';
import { classTag, comparisonPrefix, isLongString, longStringGroup, stringPrefix } from './codec.js';
import type { CheckedCondition, CheckedCriteria } from './criteria.js';
import { classOf, compareWithinClass, type Value } from './values.js';
import type { Bytes } from '../port.js';

/** A string operand stored as a truncated long-string reference: its range bounds are widened to its group. */
export function longOperand(v: Value): boolean {
  return v.type === 'string' && isLongString(v.value);
}

/** [lo, hi) bounds in value-encoding space for a condition; undefined = open. */
export function valueRanges(c: CheckedCondition): Array<[Bytes | undefined, Bytes | undefined]> {
  switch (c.op) {
    case 'cmp': {
      const p = comparisonPrefix(c.value);
      const pEnd = endOf(p);
      const cls = Uint8Array.of(classTag(c.value));
      const clsEnd = Uint8Array.of(classTag(c.value) + 1);
      // Long strings that share the operand's kept bytes sort by hash, not by text: widen the
      // bound to the whole group and let valueTest decide with the true order.
      const lo = longOperand(c.value) ? longStringGroup(c.value.value as string) : undefined;
      switch (c.operator) {
        case '=':
          return [[p, pEnd]];
        case '!=':
          return [
            [undefined, p],
            [pEnd, undefined],
          ];
        case '>':
          return [[lo ?? pEnd, clsEnd]];
        case '>=':
          return [[lo ?? p, clsEnd]];
        case '<':
          return [[cls, lo !== undefined ? endOf(lo) : p]];
        case '<=':
          return [[cls, lo !== undefined ? endOf(lo) : pEnd]];
      }
      break;
    }
    case 'between': {
      // Concourse's BETWEEN: lower inclusive, upper exclusive.
      const lo = longOperand(c.lower) ? longStringGroup(c.lower.value as string) : comparisonPrefix(c.lower);
      const hi = longOperand(c.upper) ? endOf(longStringGroup(c.upper.value as string)) : comparisonPrefix(c.upper);
      return [[lo, hi]];
    }
    case 'regex':
      // A regex is only ever tested on strings: the match must start with its literal prefix,
      // so only that slice of the key's strings is read. `not regex` reads all of them.
      if (!c.negate && c.prefix.length > 0) {
        const p = stringPrefix(c.prefix);
        return [[p, endOf(p)]];
      }
      return [stringClass()];
    case 'contains':
      return [stringClass()];
  }
}

export function stringClass(): [Bytes, Bytes] {
  const tag = classTag({ type: 'string', value: '' });
  return [Uint8Array.of(tag), Uint8Array.of(tag + 1)];
}

export function valueTest(c: CheckedCondition): ((x: Value) => boolean) | undefined {
  switch (c.op) {
    case 'regex':
      return (x) => x.type === 'string' && c.re.test(x.value) !== c.negate;
    case 'contains':
      return (x) => x.type === 'string' && x.value.includes(c.text);
    case 'cmp': {
      if (!longOperand(c.value) || c.operator === '=' || c.operator === '!=') return undefined;
      const v = c.value;
      const ok = { '>': (d: number) => d > 0, '>=': (d: number) => d >= 0, '<': (d: number) => d < 0, '<=': (d: number) => d <= 0 }[c.operator];
      return (x) => x.type === 'string' && ok(compareWithinClass(x, v));
    }
    case 'between':
      if (!longOperand(c.lower) && !longOperand(c.upper)) return undefined;
      return (x) => classOf(x) === classOf(c.lower) && compareWithinClass(x, c.lower) >= 0 && compareWithinClass(x, c.upper) < 0;
  }
}

/** An `and` whose surviving records are at most this many checks its other clauses per record. */
export const AND_VERIFY_MAX = 1024;

/** How far estimateRows counts before it calls a clause "large". */
export const ESTIMATE_ROWS_MAX = 1024;

/** A rough rank of how much of the index a clause reads (a tie-breaker after estimateRows). */
export function clauseCost(c: CheckedCriteria): number {
  switch (c.op) {
    case 'cmp':
      return c.operator === '=' ? 0 : c.operator === '!=' ? 4 : 1;
    case 'between':
      return 1;
    case 'contains':
      return 2;
    case 'regex':
      return !c.negate && c.prefix.length > 0 ? 2 : 3;
    case 'and':
    case 'or':
      return 3;
  }
}

/** The per-value test of a condition: what the index ranges select, as a predicate. */
export function conditionTest(c: CheckedCondition): (x: Value) => boolean {
  switch (c.op) {
    case 'cmp': {
      const v = c.value;
      switch (c.operator) {
        case '=':
          return (x) => classOf(x) === classOf(v) && compareWithinClass(x, v) === 0;
        case '!=':
          return (x) => !(classOf(x) === classOf(v) && compareWithinClass(x, v) === 0);
        case '>':
          return (x) => classOf(x) === classOf(v) && compareWithinClass(x, v) > 0;
        case '>=':
          return (x) => classOf(x) === classOf(v) && compareWithinClass(x, v) >= 0;
        case '<':
          return (x) => classOf(x) === classOf(v) && compareWithinClass(x, v) < 0;
        case '<=':
          return (x) => classOf(x) === classOf(v) && compareWithinClass(x, v) <= 0;
      }
      break;
    }
    case 'between':
      return (x) => classOf(x) === classOf(c.lower) && compareWithinClass(x, c.lower) >= 0 && compareWithinClass(x, c.upper) < 0;
    case 'regex':
      return (x) => x.type === 'string' && c.re.test(x.value) !== c.negate;
    case 'contains':
      return (x) => x.type === 'string' && x.value.includes(c.text);
  }
}
