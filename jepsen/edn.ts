// A small reader for EDN (https://github.com/edn-format/edn), enough for Jepsen and Knossos
// histories: nil, booleans, numbers, strings, characters, keywords, symbols, vectors, lists,
// maps, sets, tagged values (`#inst "..."`, `#jepsen.history.Op{...}`), comments and `#_`.
// Written here (no dependency) so that error messages can name the line.

export type EdnValue =
  | null
  | boolean
  | number
  | string
  | EdnKeyword
  | EdnSymbol
  | EdnChar
  | EdnList
  | EdnMap
  | EdnSet
  | EdnTagged;

export interface EdnKeyword { readonly kind: 'keyword'; readonly name: string }
export interface EdnSymbol { readonly kind: 'symbol'; readonly name: string }
export interface EdnChar { readonly kind: 'char'; readonly char: string }
/** Vectors and lists alike: a history does not care which. */
export interface EdnList {
  readonly kind: 'list';
  readonly items: readonly EdnValue[];
  readonly line: number;
  /** The line each item starts on. */
  readonly itemLines: readonly number[];
}
export interface EdnMap { readonly kind: 'map'; readonly entries: ReadonlyArray<readonly [EdnValue, EdnValue]>; readonly line: number }
export interface EdnSet { readonly kind: 'set'; readonly items: readonly EdnValue[]; readonly line: number }
export interface EdnTagged { readonly kind: 'tagged'; readonly tag: string; readonly value: EdnValue }

export class EdnSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
    this.name = 'EdnSyntaxError';
  }
}

const DELIMITERS = new Set(['(', ')', '[', ']', '{', '}', '"', ';']);

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === ',' || c === '\f';
}

/** Reads every top-level form of `text`, each with the line it starts on. */
export function readEdnForms(text: string): Array<{ readonly value: EdnValue; readonly line: number }> {
  const reader = new Reader(text);
  const forms: Array<{ value: EdnValue; line: number }> = [];
  for (;;) {
    reader.skipSpace();
    if (reader.atEnd()) return forms;
    const line = reader.line;
    const value = reader.read();
    if (value !== DISCARDED) forms.push({ value, line });
  }
}

const DISCARDED = Symbol('discarded');

class Reader {
  private pos = 0;
  line = 1;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private fail(message: string): never {
    throw new EdnSyntaxError(this.line, message);
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private next(): string {
    const c = this.text[this.pos] ?? '';
    this.pos++;
    if (c === '\n') this.line++;
    return c;
  }

  skipSpace(): void {
    while (!this.atEnd()) {
      const c = this.peek();
      if (isWhitespace(c)) this.next();
      else if (c === ';') {
        while (!this.atEnd() && this.peek() !== '\n') this.next();
      } else return;
    }
  }

  read(): EdnValue | typeof DISCARDED {
    this.skipSpace();
    if (this.atEnd()) this.fail('unexpected end of input');
    const line = this.line;
    const c = this.next();
    switch (c) {
      case '[':
      case '(': {
        const itemLines: number[] = [];
        return { kind: 'list', items: this.readUntil(c === '[' ? ']' : ')', itemLines), line, itemLines };
      }
      case '{': {
        const items = this.readUntil('}');
        if (items.length % 2 !== 0) this.fail('a map needs an even number of forms');
        const entries: Array<readonly [EdnValue, EdnValue]> = [];
        for (let i = 0; i < items.length; i += 2) entries.push([items[i] as EdnValue, items[i + 1] as EdnValue]);
        return { kind: 'map', entries, line };
      }
      case ')':
      case ']':
      case '}':
        return this.fail(`unexpected '${c}'`);
      case '"':
        return this.readString();
      case '\\':
        return this.readChar();
      case '#':
        return this.readDispatch(line);
      default:
        return this.readAtom(c);
    }
  }

  private readUntil(close: string, itemLines?: number[]): EdnValue[] {
    const items: EdnValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) this.fail(`missing '${close}'`);
      if (this.peek() === close) {
        this.next();
        return items;
      }
      const line = this.line;
      const v = this.read();
      if (v !== DISCARDED) {
        items.push(v);
        itemLines?.push(line);
      }
    }
  }

  private readString(): string {
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail('unterminated string');
      const c = this.next();
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.next();
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'u': {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape in string');
          this.pos += 4;
          out += String.fromCharCode(parseInt(hex, 16));
          break;
        }
        default:
          this.fail(`bad escape '\\${e}' in string`);
      }
    }
  }

  private token(first: string): string {
    let tok = first;
    while (!this.atEnd() && !isWhitespace(this.peek()) && !DELIMITERS.has(this.peek())) tok += this.next();
    return tok;
  }

  private readChar(): EdnChar {
    const tok = this.token(this.next());
    const named: Record<string, string> = { newline: '\n', space: ' ', tab: '\t', return: '\r', formfeed: '\f', backspace: '\b' };
    if (tok.length === 1) return { kind: 'char', char: tok };
    const n = named[tok];
    if (n !== undefined) return { kind: 'char', char: n };
    if (/^u[0-9a-fA-F]{4}$/.test(tok)) return { kind: 'char', char: String.fromCharCode(parseInt(tok.slice(1), 16)) };
    return this.fail(`bad character literal '\\${tok}'`);
  }

  private readDispatch(line: number): EdnValue | typeof DISCARDED {
    const c = this.peek();
    if (c === '{') {
      this.next();
      return { kind: 'set', items: this.readUntil('}'), line };
    }
    if (c === '_') {
      this.next();
      this.read(); // #_ discards the next form
      return DISCARDED;
    }
    const tag = this.token('');
    if (tag === '' || !/^[A-Za-z]/.test(tag)) this.fail(`bad dispatch '#${tag}'`);
    // Clojure records print as #ns.Name{...}: the tag runs straight into the map.
    const value = this.read();
    if (value === DISCARDED) this.fail(`tag #${tag} has no value`);
    return { kind: 'tagged', tag, value };
  }

  private readAtom(first: string): EdnValue {
    const tok = this.token(first);
    if (tok === 'nil') return null;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    if (tok.startsWith(':')) {
      if (tok.length === 1) this.fail("a keyword needs a name after ':'");
      return { kind: 'keyword', name: tok.slice(1) };
    }
    if (/^[+-]?\d/.test(tok)) return this.number(tok);
    return { kind: 'symbol', name: tok };
  }

  private number(tok: string): number {
    // Integers (with an optional N for arbitrary precision), floats (optional M), ratios.
    let m = /^([+-]?\d+)N?$/.exec(tok);
    if (m !== null) return Number(m[1]);
    m = /^([+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)M?$/.exec(tok);
    if (m !== null) return Number(m[1]);
    m = /^([+-]?\d+)\/(\d+)$/.exec(tok);
    if (m !== null) return Number(m[1]) / Number(m[2]);
    m = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(tok);
    if (m !== null) return (m[1] === '-' ? -1 : 1) * parseInt(m[2] ?? '', 16);
    return this.fail(`bad number '${tok}'`);
  }
}
