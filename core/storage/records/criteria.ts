// Find criteria: conditions on one key combined with and/or. A tree, built with the helpers
// below or parsed from a request; every operator is validated up front so an unknown operator
// or a wrong operand is a clear error before anything is read.
import { fail } from './errors.js';
import { checkKey, checkValue, classOf, recordId, showValue, type RecordId, type Value } from './values.js';

export const OPERATORS = ['=', '!=', '>', '>=', '<', '<=', 'between', 'regex', 'not regex', 'contains', 'links to'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Condition =
  | { readonly kind: 'condition'; readonly key: string; readonly operator: '=' | '!=' | '>' | '>=' | '<' | '<='; readonly value: Value }
  | { readonly kind: 'condition'; readonly key: string; readonly operator: 'between'; readonly value: Value; readonly upper: Value }
  | { readonly kind: 'condition'; readonly key: string; readonly operator: 'regex' | 'not regex' | 'contains'; readonly pattern: string }
  | { readonly kind: 'condition'; readonly key: string; readonly operator: 'links to'; readonly record: RecordId };

export type Criteria =
  | Condition
  | { readonly kind: 'and'; readonly clauses: readonly Criteria[] }
  | { readonly kind: 'or'; readonly clauses: readonly Criteria[] };

// Builders, for code (the lock layer, tests, the HTTP layer after parsing).
export const where = {
  eq: (key: string, value: Value): Criteria => ({ kind: 'condition', key, operator: '=', value }),
  ne: (key: string, value: Value): Criteria => ({ kind: 'condition', key, operator: '!=', value }),
  gt: (key: string, value: Value): Criteria => ({ kind: 'condition', key, operator: '>', value }),
  gte: (key: string, value: Value): Criteria => ({ kind: 'condition', key, operator: '>=', value }),
  lt: (key: string, value: Value): Criteria => ({ kind: 'condition', key, operator: '<', value }),
  lte: (key: string, value: Value): Criteria => ({ kind: 'condition', key, operator: '<=', value }),
  between: (key: string, lower: Value, upper: Value): Criteria => ({ kind: 'condition', key, operator: 'between', value: lower, upper }),
  regex: (key: string, pattern: string): Criteria => ({ kind: 'condition', key, operator: 'regex', pattern }),
  notRegex: (key: string, pattern: string): Criteria => ({ kind: 'condition', key, operator: 'not regex', pattern }),
  contains: (key: string, text: string): Criteria => ({ kind: 'condition', key, operator: 'contains', pattern: text }),
  linksTo: (key: string, record: RecordId): Criteria => ({ kind: 'condition', key, operator: 'links to', record }),
  and: (...clauses: Criteria[]): Criteria => ({ kind: 'and', clauses }),
  or: (...clauses: Criteria[]): Criteria => ({ kind: 'or', clauses }),
};

/** A validated condition: regexes compiled once, operands checked. */
export type CheckedCondition =
  | { readonly op: 'cmp'; readonly key: string; readonly operator: '=' | '!=' | '>' | '>=' | '<' | '<='; readonly value: Value }
  | { readonly op: 'between'; readonly key: string; readonly lower: Value; readonly upper: Value }
  | {
      readonly op: 'regex';
      readonly key: string;
      readonly negate: boolean;
      readonly re: RegExp;
      readonly source: string;
      /** A literal every match starts with ('' if none is known): narrows a regex scan. */
      readonly prefix: string;
    }
  | { readonly op: 'contains'; readonly key: string; readonly text: string };

export type CheckedCriteria =
  | CheckedCondition
  | { readonly op: 'and'; readonly clauses: readonly CheckedCriteria[] }
  | { readonly op: 'or'; readonly clauses: readonly CheckedCriteria[] };

export const CRITERIA_DEPTH_MAX = 32;
export const REGEX_LENGTH_MAX = 1024;

export function checkCriteria(c: unknown, depth = 0): CheckedCriteria {
  if (depth > CRITERIA_DEPTH_MAX) fail('bad-criteria', `criteria nested deeper than ${CRITERIA_DEPTH_MAX}`);
  if (typeof c !== 'object' || c === null) fail('bad-criteria', 'criteria must be an object');
  const o = c as Record<string, unknown>;
  if (o['kind'] === 'and' || o['kind'] === 'or') {
    const clauses = o['clauses'];
    if (!Array.isArray(clauses) || clauses.length === 0) fail('bad-criteria', `'${o['kind']}' needs a non-empty list of clauses`);
    return { op: o['kind'], clauses: clauses.map((x) => checkCriteria(x, depth + 1)) };
  }
  if (o['kind'] !== 'condition') fail('bad-criteria', `criteria kind must be 'condition', 'and' or 'or', got ${JSON.stringify(o['kind'])}`);
  const key = checkKey(o['key']);
  const operator = o['operator'];
  switch (operator) {
    case '=':
    case '!=':
    case '>':
    case '>=':
    case '<':
    case '<=':
      return { op: 'cmp', key, operator, value: checkValue(o['value']) };
    case 'between': {
      const lower = checkValue(o['value']);
      const upper = checkValue(o['upper']);
      if (classOf(lower) !== classOf(upper)) {
        fail('bad-criteria', `between ${showValue(lower)} and ${showValue(upper)}: both bounds must be of one kind (numbers, strings, ...)`);
      }
      return { op: 'between', key, lower, upper };
    }
    case 'regex':
    case 'not regex': {
      const source = o['pattern'];
      if (typeof source !== 'string') fail('bad-criteria', `${operator} needs a string pattern`);
      if (source.length > REGEX_LENGTH_MAX) fail('bad-criteria', `regex longer than ${REGEX_LENGTH_MAX} characters`);
      let re: RegExp;
      try {
        // Whole-value match, as Java's Pattern.matches does in Concourse.
        re = new RegExp(`^(?:${source})$`, 'u');
      } catch (e) {
        return fail('bad-criteria', `bad regex ${JSON.stringify(source)}: ${(e as Error).message}`);
      }
      return { op: 'regex', key, negate: operator === 'not regex', re, source, prefix: literalPrefix(source) };
    }
    case 'contains': {
      const text = o['pattern'];
      if (typeof text !== 'string' || text.length === 0) fail('bad-criteria', 'contains needs a non-empty string');
      return { op: 'contains', key, text };
    }
    case 'links to':
      return { op: 'cmp', key, operator: '=', value: { type: 'link', value: recordId(o['record'] as bigint) } };
    default:
      return fail('bad-operator', `unknown operator ${JSON.stringify(operator)} (one of ${OPERATORS.map((x) => `'${x}'`).join(', ')})`);
  }
}

const REGEX_META = new Set(['\\', '^', '$', '.', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

/**
 * The literal text at the start of a regex that every (whole-value) match must begin with:
 * characters up to the first metacharacter, minus the last one if a quantifier follows it.
 * Any alternation anywhere gives no prefix (it could apply to the whole pattern).
 */
export function literalPrefix(source: string): string {
  if (source.includes('|')) return '';
  const chars = Array.from(source);
  let i = 0;
  while (i < chars.length && !REGEX_META.has(chars[i]!)) i++;
  const next = chars[i];
  if (next === '?' || next === '*' || next === '{') i--;
  return chars.slice(0, Math.max(0, i)).join('');
}

/** The keys a criteria reads: what the lock layer range-locks. */
export function criteriaKeys(c: CheckedCriteria): string[] {
  const out = new Set<string>();
  const walk = (x: CheckedCriteria): void => {
    if (x.op === 'and' || x.op === 'or') x.clauses.forEach(walk);
    else out.add(x.key);
  };
  walk(c);
  return [...out].sort();
}
