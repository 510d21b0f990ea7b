// Key regexes are user input run by every replica inside apply, so a pattern that backtracks
// catastrophically would stall the whole Raft group. JavaScript's engine backtracks, so instead
// of trusting it we admit only patterns whose backtracking stays polynomial and small: short
// sources, no backreferences or lookarounds, no quantified group that itself contains a
// quantifier or an alternation (the (a+)+ and (a|a)* shapes), at most a few unbounded
// quantifiers, small repeat counts, and no stateful flags (g, y). This is a conservative
// filter, not a proof: it rejects some harmless patterns, and documents why.
import { KvFailure } from './commands.js';
import { REGEX_REPEAT_MAX, REGEX_SOURCE_MAX, REGEX_UNBOUNDED_QUANTIFIERS_MAX } from './limits.js';

const ALLOWED_FLAGS = 'imsu';

function bad(message: string): never {
  throw new KvFailure('invalid-argument', `regex: ${message}`);
}

interface GroupState {
  hasQuantifier: boolean;
  hasAlternation: boolean;
}

/** The quantifier starting at pattern[i], if any: its length and whether it is unbounded. */
function quantifierAt(p: string, i: number): { length: number; unbounded: boolean } | null {
  const c = p[i];
  let length: number;
  let unbounded: boolean;
  if (c === '*' || c === '+') [length, unbounded] = [1, true];
  else if (c === '?') [length, unbounded] = [1, false];
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
    if (m === null) return null;
    const lo = Number(m[1]);
    const hi = m[3] === undefined || m[3] === '' ? (m[2] === undefined ? lo : Infinity) : Number(m[3]);
    if (lo > REGEX_REPEAT_MAX || (hi !== Infinity && hi > REGEX_REPEAT_MAX)) bad(`repeat counts above ${REGEX_REPEAT_MAX} are not allowed`);
    [length, unbounded] = [m[0].length, hi === Infinity];
  } else return null;
  // A lazy or possessive-looking suffix belongs to the quantifier.
  if (p[i + length] === '?') length++;
  return { length, unbounded };
}

/** Checks a key regex against the rules above and compiles it; throws KvFailure otherwise. */
export function compileKeyRegex(pattern: unknown, flags: unknown = ''): RegExp {
  if (typeof pattern !== 'string') bad('pattern must be a string');
  if (typeof flags !== 'string') bad('flags must be a string');
  if (pattern.length > REGEX_SOURCE_MAX) bad(`pattern longer than ${REGEX_SOURCE_MAX} characters`);
  for (let i = 0; i < flags.length; i++) {
    if (!ALLOWED_FLAGS.includes(flags[i]!) || flags.indexOf(flags[i]!) !== i) bad(`flags may only be distinct letters of "${ALLOWED_FLAGS}", got "${flags}"`);
  }
  const stack: GroupState[] = [{ hasQuantifier: false, hasAlternation: false }];
  let unbounded = 0;
  let i = 0;
  /** What a following quantifier would apply to: 'atom', a closed group, or nothing. */
  let lastGroup: GroupState | null = null;
  let canQuantify = false;
  while (i < pattern.length) {
    const c = pattern[i]!;
    const q = canQuantify ? quantifierAt(pattern, i) : null;
    if (q !== null) {
      if (lastGroup !== null && (lastGroup.hasQuantifier || lastGroup.hasAlternation)) {
        bad('a quantified group may not contain a quantifier or an alternation (catastrophic backtracking)');
      }
      if (q.unbounded && ++unbounded > REGEX_UNBOUNDED_QUANTIFIERS_MAX) {
        bad(`at most ${REGEX_UNBOUNDED_QUANTIFIERS_MAX} unbounded quantifiers (*, +, {n,}) are allowed`);
      }
      stack[stack.length - 1]!.hasQuantifier = true;
      i += q.length;
      canQuantify = false;
      lastGroup = null;
      continue;
    }
    lastGroup = null;
    if (c === '\\') {
      const d = pattern[i + 1];
      if (d === undefined) bad('pattern ends with a lone backslash');
      if (/[1-9]/.test(d) || d === 'k') bad('backreferences are not allowed');
      i += 2;
      canQuantify = true;
      continue;
    }
    if (c === '[') {
      // Skip the class; its contents are literal for our purposes.
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      if (j >= pattern.length) bad('unterminated character class');
      i = j + 1;
      canQuantify = true;
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') {
        const kind = pattern[i + 2];
        if (kind === ':') i += 3;
        else if (kind === '<' && pattern[i + 3] !== '=' && pattern[i + 3] !== '!') {
          const close = pattern.indexOf('>', i);
          if (close < 0) bad('unterminated group name');
          i = close + 1;
        } else bad('lookahead and lookbehind are not allowed');
      } else i++;
      stack.push({ hasQuantifier: false, hasAlternation: false });
      canQuantify = false;
      continue;
    }
    if (c === ')') {
      if (stack.length === 1) bad('unbalanced parenthesis');
      const g = stack.pop()!;
      const parent = stack[stack.length - 1]!;
      parent.hasQuantifier ||= g.hasQuantifier;
      parent.hasAlternation ||= g.hasAlternation;
      lastGroup = g;
      i++;
      canQuantify = true;
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1]!.hasAlternation = true;
      i++;
      canQuantify = false;
      continue;
    }
    canQuantify = c !== '^' && c !== '$';
    i++;
  }
  if (stack.length !== 1) bad('unbalanced parenthesis');
  try {
    return new RegExp(pattern, flags);
  } catch (e) {
    bad(`invalid pattern: ${(e as Error).message}`);
  }
}
