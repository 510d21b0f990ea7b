// Key regexes are user input that every replica runs inside apply, so a pattern must never be
// able to stall the Raft group. JavaScript's RegExp backtracks: `.*a.*b.*c` took 29 s on one
// 1 KiB key here. So key patterns run on this small engine instead: the pattern is parsed into
// a program for a Pike VM (Thompson's construction, simulated breadth-first), and a match costs
// at most (program length) × (key length + 1) steps, whatever the pattern. With the program
// capped at REGEX_PROGRAM_MAX instructions and keys at KEY_BYTES_MAX, one test is bounded.
//
// Syntax: a JavaScript-style subset — literals; `.`; classes `[...]`, `[^...]` with ranges;
// escapes \d \D \w \W \s \S \b \B \t \n \r \v \f \0 \xHH \uHHHH \u{H...} and escaped
// punctuation; anchors ^ $; groups (...), (?:...), (?<name>...); alternation |; quantifiers
// * + ? {n} {n,} {n,m} (a trailing `?` for laziness is accepted and means nothing for a yes/no
// test). Not supported (they are not regular, or not needed): backreferences, lookarounds.
// Flags: i (case-insensitive), m (^ and $ at line breaks), s (. matches line breaks), u
// (accepted; matching is always by code point). The test is a search: the pattern may match
// anywhere in the key, as RegExp.test does.
import { KvFailure } from './commands.js';
import { REGEX_PROGRAM_MAX, REGEX_REPEAT_MAX, REGEX_SOURCE_MAX } from './limits.js';

function bad(message: string): never {
  throw new KvFailure('invalid-argument', `regex: ${message}`);
}

/** What a compiled key pattern offers. */
export interface KeyPattern {
  test(s: string): boolean;
}

// ---- syntax tree -------------------------------------------------------------------------------

type CharTest = (cp: number) => boolean;
type AssertKind = 'begin' | 'end' | 'word' | 'not-word';

type Node =
  | { readonly t: 'char'; readonly test: CharTest }
  | { readonly t: 'assert'; readonly kind: AssertKind }
  | { readonly t: 'seq'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly options: readonly Node[] }
  | { readonly t: 'repeat'; readonly node: Node; readonly min: number; readonly max: number };

const isDigit: CharTest = (c) => c >= 0x30 && c <= 0x39;
const isWord: CharTest = (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isSpace: CharTest = (c) =>
  c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
const isLineTerminator: CharTest = (c) => c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;

/** The other-case forms of a code point (simple case mapping via String methods). */
function caseVariants(cp: number): number[] {
  const s = String.fromCodePoint(cp);
  const out: number[] = [];
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const c = v.codePointAt(0)!;
    if (v.length === String.fromCodePoint(c).length && c !== cp && !out.includes(c)) out.push(c);
  }
  return out;
}

class Parser {
  private readonly cps: number[];
  private pos = 0;

  constructor(
    pattern: string,
    private readonly ignoreCase: boolean,
    private readonly dotAll: boolean,
  ) {
    this.cps = Array.from(pattern, (ch) => ch.codePointAt(0)!);
  }

  parse(): Node {
    const n = this.alternation();
    if (this.pos < this.cps.length) bad(`unbalanced ")" at ${this.pos}`);
    return n;
  }

  private peek(k = 0): number | undefined {
    return this.cps[this.pos + k];
  }

  private eat(cp: number): boolean {
    if (this.cps[this.pos] === cp) {
      this.pos++;
      return true;
    }
    return false;
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.eat(0x7c /* | */)) options.push(this.sequence());
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === 0x7c || c === 0x29 /* ) */) break;
      items.push(this.quantified());
    }
    return { t: 'seq', items };
  }

  /** {n}, {n,}, {n,m} at the cursor, or null (then "{" is a literal, as in JavaScript). */
  private braces(): { min: number; max: number } | null {
    const rest = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 16));
    const m = /^\{(\d+)(,(\d*))?\}/.exec(rest);
    if (m === null) return null;
    this.pos += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > REGEX_REPEAT_MAX || (max !== Infinity && max > REGEX_REPEAT_MAX)) bad(`repeat counts above ${REGEX_REPEAT_MAX} are not allowed`);
    if (max < min) bad(`numbers out of order in {${min},${max}}`);
    return { min, max };
  }

  private quantified(): Node {
    const atom = this.atom();
    let node = atom;
    for (;;) {
      const c = this.peek();
      let q: { min: number; max: number } | null = null;
      if (c === 0x2a /* * */) q = { min: 0, max: Infinity };
      else if (c === 0x2b /* + */) q = { min: 1, max: Infinity };
      else if (c === 0x3f /* ? */) q = { min: 0, max: 1 };
      if (q !== null) this.pos++;
      else if (c === 0x7b /* { */) q = this.braces();
      if (q === null) return node;
      if (node.t === 'assert') bad('nothing to repeat (a quantifier after an anchor)');
      if (node !== atom) bad(`nothing to repeat at ${this.pos - 1} (two quantifiers in a row)`);
      this.eat(0x3f); // lazy: irrelevant to a yes/no test
      node = { t: 'repeat', node: atom, min: q.min, max: q.max };
    }
  }

  private literal(cp: number): Node {
    if (!this.ignoreCase) return { t: 'char', test: (c) => c === cp };
    const set = [cp, ...caseVariants(cp)];
    return { t: 'char', test: (c) => set.includes(c) };
  }

  private atom(): Node {
    const c = this.cps[this.pos++]!;
    switch (c) {
      case 0x28 /* ( */: {
        if (this.eat(0x3f /* ? */)) {
          if (this.eat(0x3a /* : */)) {
            /* non-capturing */
          } else if (this.peek() === 0x3c /* < */ && this.peek(1) !== 0x3d && this.peek(1) !== 0x21) {
            while (this.pos < this.cps.length && this.cps[this.pos] !== 0x3e /* > */) this.pos++;
            if (!this.eat(0x3e)) bad('unterminated group name');
          } else bad('lookahead and lookbehind are not supported');
        }
        const inner = this.alternation();
        if (!this.eat(0x29)) bad('unbalanced "(" (missing ")")');
        return inner;
      }
      case 0x29 /* ) */:
        return bad(`unbalanced ")" at ${this.pos - 1}`);
      case 0x5b /* [ */:
        return this.charClass();
      case 0x2e /* . */:
        return { t: 'char', test: this.dotAll ? () => true : (x) => !isLineTerminator(x) };
      case 0x5e /* ^ */:
        return { t: 'assert', kind: 'begin' };
      case 0x24 /* $ */:
        return { t: 'assert', kind: 'end' };
      case 0x2a:
      case 0x2b:
      case 0x3f:
        return bad(`nothing to repeat at ${this.pos - 1}`);
      case 0x5c /* \ */: {
        const e = this.peek();
        if (e === 0x62 /* b */ || e === 0x42 /* B */) {
          this.pos++;
          return { t: 'assert', kind: e === 0x62 ? 'word' : 'not-word' };
        }
        const test = this.escape(false);
        return typeof test === 'number' ? this.literal(test) : { t: 'char', test };
      }
      default:
        return this.literal(c);
    }
  }

  /** After a backslash: a class test (\d, \w, ...) or one code point. */
  private escape(inClass: boolean): CharTest | number {
    const e = this.cps[this.pos++];
    if (e === undefined) bad('pattern ends with a lone backslash');
    const hex = (n: number): number => {
      const s = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + n));
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(s)) bad(`bad \\${String.fromCodePoint(e)} escape`);
      this.pos += n;
      return parseInt(s, 16);
    };
    switch (String.fromCodePoint(e)) {
      case 'd': return isDigit;
      case 'D': return (c) => !isDigit(c);
      case 'w': return isWord;
      case 'W': return (c) => !isWord(c);
      case 's': return isSpace;
      case 'S': return (c) => !isSpace(c);
      case 't': return 0x09;
      case 'n': return 0x0a;
      case 'r': return 0x0d;
      case 'v': return 0x0b;
      case 'f': return 0x0c;
      case 'b': return inClass ? 0x08 : bad('unreachable \\b');
      case '0':
        if (this.peek() !== undefined && isDigit(this.peek()!)) bad('octal escapes are not supported');
        return 0;
      case 'x': return hex(2);
      case 'u': {
        if (this.eat(0x7b /* { */)) {
          let v = 0;
          let digits = 0;
          while (this.peek() !== undefined && this.peek() !== 0x7d) {
            const d = parseInt(String.fromCodePoint(this.cps[this.pos++]!), 16);
            if (Number.isNaN(d)) bad('bad \\u{...} escape');
            v = v * 16 + d;
            digits++;
          }
          if (!this.eat(0x7d) || digits === 0 || v > 0x10ffff) bad('bad \\u{...} escape');
          return v;
        }
        return hex(4);
      }
      default:
        if (e >= 0x31 && e <= 0x39) bad('backreferences are not supported');
        if (e === 0x6b /* k */) bad('named backreferences are not supported');
        if ((e >= 0x41 && e <= 0x5a) || (e >= 0x61 && e <= 0x7a)) bad(`unknown escape \\${String.fromCodePoint(e)}`);
        return e; // escaped punctuation stands for itself
    }
  }

  private charClass(): Node {
    const negated = this.eat(0x5e /* ^ */);
    const tests: CharTest[] = [];
    const ranges: [number, number][] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) bad('unterminated character class');
      if (c === 0x5d /* ] */) {
        this.pos++;
        break;
      }
      first = false;
      const lo = this.classAtom();
      if (this.peek() === 0x2d /* - */ && this.peek(1) !== undefined && this.peek(1) !== 0x5d) {
        this.pos++;
        const hi = this.classAtom();
        if (typeof lo !== 'number' || typeof hi !== 'number') bad('a class range needs single characters at both ends');
        if (hi < lo) bad('class range out of order');
        ranges.push([lo, hi]);
      } else if (typeof lo === 'number') ranges.push([lo, lo]);
      else tests.push(lo);
    }
    void first;
    const inRanges = (x: number): boolean => {
      for (const [a, b] of ranges) if (x >= a && x <= b) return true;
      for (const t of tests) if (t(x)) return true;
      return false;
    };
    const member: CharTest = this.ignoreCase ? (x) => inRanges(x) || caseVariants(x).some(inRanges) : inRanges;
    return { t: 'char', test: negated ? (x) => !member(x) : member };
  }

  private classAtom(): CharTest | number {
    const c = this.cps[this.pos++]!;
    return c === 0x5c ? this.escape(true) : c;
  }
}

// ---- program and VM ----------------------------------------------------------------------------

type Inst =
  | { op: 'char'; test: CharTest }
  | { op: 'assert'; kind: AssertKind }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; to: number }
  | { op: 'match' };

class Compiler {
  readonly prog: Inst[] = [];

  private emit(i: Inst): number {
    if (this.prog.length >= REGEX_PROGRAM_MAX) bad(`pattern too large: it compiles to more than ${REGEX_PROGRAM_MAX} instructions (lower the repeat counts)`);
    this.prog.push(i);
    return this.prog.length - 1;
  }

  compile(n: Node): void {
    switch (n.t) {
      case 'char':
        this.emit({ op: 'char', test: n.test });
        return;
      case 'assert':
        this.emit({ op: 'assert', kind: n.kind });
        return;
      case 'seq':
        for (const it of n.items) this.compile(it);
        return;
      case 'alt': {
        const jumps: Inst[] = [];
        for (let i = 0; i < n.options.length; i++) {
          if (i < n.options.length - 1) {
            const split = { op: 'split', x: 0, y: 0 } as Extract<Inst, { op: 'split' }>;
            this.emit(split);
            split.x = this.prog.length;
            this.compile(n.options[i]!);
            const j = { op: 'jmp', to: 0 } as Extract<Inst, { op: 'jmp' }>;
            this.emit(j);
            jumps.push(j);
            split.y = this.prog.length;
          } else this.compile(n.options[i]!);
        }
        for (const j of jumps) (j as Extract<Inst, { op: 'jmp' }>).to = this.prog.length;
        return;
      }
      case 'repeat': {
        for (let i = 0; i < n.min; i++) this.compile(n.node);
        if (n.max === Infinity) {
          // L: split body, out; body; jmp L
          const split = { op: 'split', x: 0, y: 0 } as Extract<Inst, { op: 'split' }>;
          const at = this.emit(split);
          split.x = this.prog.length;
          this.compile(n.node);
          this.emit({ op: 'jmp', to: at });
          split.y = this.prog.length;
        } else {
          const splits: Extract<Inst, { op: 'split' }>[] = [];
          for (let i = n.min; i < n.max; i++) {
            const split = { op: 'split', x: 0, y: 0 } as Extract<Inst, { op: 'split' }>;
            this.emit(split);
            split.x = this.prog.length;
            splits.push(split);
            this.compile(n.node);
          }
          for (const s of splits) s.y = this.prog.length;
        }
        return;
      }
      default: {
        const _: never = n;
        return _;
      }
    }
  }
}

class PikeMatcher implements KeyPattern {
  private readonly marks: Int32Array;
  private generation = 0;

  constructor(
    private readonly prog: readonly Inst[],
    private readonly multiline: boolean,
  ) {
    this.marks = new Int32Array(prog.length);
  }

  private holds(kind: AssertKind, cps: readonly number[], pos: number): boolean {
    const prev = cps[pos - 1];
    const next = cps[pos];
    switch (kind) {
      case 'begin':
        return pos === 0 || (this.multiline && isLineTerminator(prev!));
      case 'end':
        return pos === cps.length || (this.multiline && isLineTerminator(next!));
      case 'word':
      case 'not-word': {
        const boundary = (prev !== undefined && isWord(prev)) !== (next !== undefined && isWord(next));
        return kind === 'word' ? boundary : !boundary;
      }
    }
  }

  /** Adds pc and everything reachable from it without consuming input; true if it reaches match. */
  private add(list: number[], start: number, cps: readonly number[], pos: number): boolean {
    const stack = [start];
    let matched = false;
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (this.marks[pc] === this.generation) continue;
      this.marks[pc] = this.generation;
      const inst = this.prog[pc]!;
      switch (inst.op) {
        case 'jmp':
          stack.push(inst.to);
          break;
        case 'split':
          stack.push(inst.y, inst.x);
          break;
        case 'assert':
          if (this.holds(inst.kind, cps, pos)) stack.push(pc + 1);
          break;
        case 'match':
          matched = true;
          break;
        case 'char':
          list.push(pc);
          break;
      }
    }
    return matched;
  }

  test(s: string): boolean {
    const cps = Array.from(s, (ch) => ch.codePointAt(0)!);
    let list: number[] = [];
    this.generation++;
    if (this.add(list, 0, cps, 0)) return true;
    for (let pos = 0; pos < cps.length; pos++) {
      const cp = cps[pos]!;
      const next: number[] = [];
      this.generation++;
      for (const pc of list) {
        const inst = this.prog[pc] as Extract<Inst, { op: 'char' }>;
        if (inst.test(cp) && this.add(next, pc + 1, cps, pos + 1)) return true;
      }
      // A search, not a full match: a new attempt may start at every position.
      if (this.add(next, 0, cps, pos + 1)) return true;
      list = next;
    }
    return false;
  }
}

const ALLOWED_FLAGS = 'imsu';

/** Parses and compiles a key pattern; throws KvFailure (invalid-argument) on anything unsupported. */
export function compileKeyRegex(pattern: unknown, flags: unknown = ''): KeyPattern {
  if (typeof pattern !== 'string') bad('pattern must be a string');
  if (typeof flags !== 'string') bad('flags must be a string');
  if (pattern.length > REGEX_SOURCE_MAX) bad(`pattern longer than ${REGEX_SOURCE_MAX} characters`);
  for (let i = 0; i < flags.length; i++) {
    if (!ALLOWED_FLAGS.includes(flags[i]!) || flags.indexOf(flags[i]!) !== i) bad(`flags may only be distinct letters of "${ALLOWED_FLAGS}", got "${flags}"`);
  }
  const tree = new Parser(pattern, flags.includes('i'), flags.includes('s')).parse();
  const c = new Compiler();
  c.compile(tree);
  c.prog.push({ op: 'match' });
  return new PikeMatcher(c.prog, flags.includes('m'));
}
