// A text form of criteria, in the spirit of Concourse's CCL, for clients that send a string:
//
//   age > 30 and (name regex 'A.*' or friends links to @12)
//
// Grammar (keywords case-insensitive):
//   criteria  := disjunct ( ('or' | '||') disjunct )*
//   disjunct  := primary ( ('and' | '&&') primary )*
//   primary   := '(' criteria ')' | condition
//   condition := KEY op VALUE | KEY ('between' | 'bw') VALUE ['and' | ','] VALUE
//              | KEY ('regex' | 'not regex' | 'nregex' | 'contains') STRING
//              | KEY ('links to' | 'lnk2' | '->') RECORD
//   op        := '=' | '==' | 'eq' | '!=' | 'ne' | 'neq' | '>' | 'gt' | '>=' | 'gte' | '<' | 'lt' | '<=' | 'lte'
// Values: 'text' or "text" (backslash escapes \\ \' \" \n \t) → string; true/false → boolean;
// 12 → integer (a long beyond 32 bits), 12L → long, 1.5 / 1e3 / 12D → double; @12 → link;
// ts:1700000000000000 → timestamp (µs); any other bare word → string.
import type { Criteria } from './criteria.js';
import { fail } from './errors.js';
import { bool, checkKey, double, integer, INT32_MAX, INT32_MIN, link, long, str, timestampMicros, type Value } from './values.js';

export const CCL_LENGTH_MAX = 64 * 1024;

type Token = { readonly kind: 'word' | 'string' | 'symbol'; readonly text: string; readonly at: number };

const SYMBOLS = ['==', '!=', '>=', '<=', '&&', '||', '->', '=', '>', '<', '(', ')', ','];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const start = i;
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) fail('bad-criteria', `unterminated string starting at ${start}`);
        const d = src[i]!;
        if (d === c) {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1];
          if (e === undefined) fail('bad-criteria', `unterminated string starting at ${start}`);
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      out.push({ kind: 'string', text: s, at: start });
      continue;
    }
    const sym = SYMBOLS.find((x) => src.startsWith(x, i));
    if (sym !== undefined) {
      out.push({ kind: 'symbol', text: sym, at: i });
      i += sym.length;
      continue;
    }
    const start = i;
    while (i < src.length && !/\s/.test(src[i]!) && !SYMBOLS.some((x) => src.startsWith(x, i)) && src[i] !== "'" && src[i] !== '"') i++;
    out.push({ kind: 'word', text: src.slice(start, i), at: start });
  }
  return out;
}

const CMP: Record<string, '=' | '!=' | '>' | '>=' | '<' | '<='> = {
  '=': '=',
  '==': '=',
  eq: '=',
  '!=': '!=',
  ne: '!=',
  neq: '!=',
  '>': '>',
  gt: '>',
  '>=': '>=',
  gte: '>=',
  '<': '<',
  lt: '<',
  '<=': '<=',
  lte: '<=',
};

/** Parses a value literal (see the file comment). */
export function parseValueLiteral(t: { readonly kind: 'word' | 'string' | 'symbol'; readonly text: string }): Value {
  if (t.kind === 'string') return str(t.text);
  if (t.kind === 'symbol') fail('bad-criteria', `a value expected, got '${t.text}'`);
  const w = t.text;
  const lower = w.toLowerCase();
  if (lower === 'true' || lower === 'false') return bool(lower === 'true');
  if (/^-?[0-9]+$/.test(w)) {
    const n = BigInt(w);
    return n >= BigInt(INT32_MIN) && n <= BigInt(INT32_MAX) ? integer(Number(n)) : long(n);
  }
  if (/^-?[0-9]+L$/i.test(w)) return long(BigInt(w.slice(0, -1)));
  if (/^-?[0-9]+D$/i.test(w)) return double(Number(w.slice(0, -1)));
  if (/^-?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?$/.test(w)) return double(Number(w));
  if (/^@[0-9]+$/.test(w)) return link(BigInt(w.slice(1)));
  if (/^ts:-?[0-9]+$/i.test(w)) return timestampMicros(BigInt(w.slice(3)));
  return str(w);
}

/** Parses criteria text into a Criteria tree; errors say where. */
export function parseCriteria(src: string): Criteria {
  if (typeof src !== 'string' || src.trim().length === 0) fail('bad-criteria', 'empty criteria');
  if (src.length > CCL_LENGTH_MAX) fail('bad-criteria', `criteria longer than ${CCL_LENGTH_MAX} characters`);
  const toks = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => toks[pos];
  const isWord = (t: Token | undefined, ...ws: string[]): boolean => t !== undefined && t.kind === 'word' && ws.includes(t.text.toLowerCase());
  const isSym = (t: Token | undefined, ...ss: string[]): boolean => t !== undefined && t.kind === 'symbol' && ss.includes(t.text);
  const where = (t: Token | undefined): string => (t === undefined ? 'at the end' : `at ${t.at} ('${t.text}')`);
  const next = (what: string): Token => {
    const t = toks[pos++];
    if (t === undefined) fail('bad-criteria', `${what} expected at the end of the criteria`);
    return t;
  };

  const criteria = (depth: number): Criteria => {
    if (depth > 32) fail('bad-criteria', 'criteria nested deeper than 32');
    const clauses = [disjunct(depth)];
    while (isWord(peek(), 'or') || isSym(peek(), '||')) {
      pos++;
      clauses.push(disjunct(depth));
    }
    return clauses.length === 1 ? clauses[0]! : { kind: 'or', clauses };
  };
  const disjunct = (depth: number): Criteria => {
    const clauses = [primary(depth)];
    while (isWord(peek(), 'and') || isSym(peek(), '&&')) {
      pos++;
      clauses.push(primary(depth));
    }
    return clauses.length === 1 ? clauses[0]! : { kind: 'and', clauses };
  };
  const primary = (depth: number): Criteria => {
    if (isSym(peek(), '(')) {
      pos++;
      const c = criteria(depth + 1);
      const close = next("')'");
      if (!isSym(close, ')')) fail('bad-criteria', `')' expected ${where(close)}`);
      return c;
    }
    return condition();
  };
  const condition = (): Criteria => {
    const k = next('a key');
    if (k.kind !== 'word') fail('bad-criteria', `a key expected ${where(k)}`);
    const key = checkKey(k.text);
    const op = next('an operator');
    const opText = op.text.toLowerCase();
    if (op.kind !== 'string' && CMP[opText] !== undefined) {
      return { kind: 'condition', key, operator: CMP[opText], value: parseValueLiteral(next('a value')) };
    }
    if (op.kind === 'word' && (opText === 'between' || opText === 'bw')) {
      const lo = parseValueLiteral(next('a lower bound'));
      if (isWord(peek(), 'and') || isSym(peek(), ',')) pos++;
      const hi = parseValueLiteral(next('an upper bound'));
      return { kind: 'condition', key, operator: 'between', value: lo, upper: hi };
    }
    if (op.kind === 'word' && (opText === 'regex' || opText === 'nregex' || opText === 'contains')) {
      const p = next('a pattern');
      return { kind: 'condition', key, operator: opText === 'nregex' ? 'not regex' : opText, pattern: p.text };
    }
    if (op.kind === 'word' && opText === 'not' && isWord(peek(), 'regex')) {
      pos++;
      return { kind: 'condition', key, operator: 'not regex', pattern: next('a pattern').text };
    }
    if ((op.kind === 'word' && opText === 'links' && isWord(peek(), 'to')) || (op.kind === 'word' && opText === 'lnk2') || isSym(op, '->')) {
      if (opText === 'links') pos++;
      const r = parseValueLiteral(next('a record'));
      const id = r.type === 'link' ? r.value : r.type === 'integer' || r.type === 'long' ? BigInt(r.value) : fail('bad-criteria', `links to needs a record id, got '${String(r.value)}'`);
      return { kind: 'condition', key, operator: 'links to', record: id };
    }
    return fail('bad-operator', `unknown operator '${op.text}' ${where(op)}`);
  };

  const c = criteria(0);
  if (pos < toks.length) fail('bad-criteria', `unexpected ${where(toks[pos])}`);
  return c;
}
