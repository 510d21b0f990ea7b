// The layering rules of DESIGN.md, checked by reading the sources: core/ stays pure,
// sim/ and adapters/ never import each other, jepsen/ imports neither.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

function sources(dir: string): string[] {
  const abs = join(root, dir);
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const p = join(abs, name);
    if (statSync(p).isDirectory()) out.push(...sources(relative(root, p)));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** Every module specifier a file imports (static, dynamic, re-export). */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

/** Strip comments and string contents so prose like "no Date.now()" in a comment is not flagged. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/'(?:\\.|[^'\\\n])*'/g, "''")
    .replace(/"(?:\\.|[^"\\\n])*"/g, '""')
    .replace(/`(?:\\.|[^`\\])*`/g, '``');
}

function layerOf(file: string, spec: string): string {
  if (!spec.startsWith('.')) return `pkg:${spec}`;
  const target = relative(root, resolve(dirname(file), spec));
  return target.split(sep)[0] ?? '';
}

const FORBIDDEN_IN_CORE: ReadonlyArray<[RegExp, string]> = [
  [/\bDate\s*\.\s*now\b/, 'Date.now (a clock)'],
  [/\bnew\s+Date\b/, 'new Date (a clock)'],
  [/\bperformance\s*\./, 'performance (a clock)'],
  [/\bMath\s*\.\s*random\b/, 'Math.random (a random source)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, 'timers'],
  [/\bprocess\s*\./, 'process'],
  [/\brequire\s*\(/, 'require'],
  [/\basync\s+(function\b|\(|[A-Za-z_$][\w$]*\s*\()/, 'async code'],
  [/\bawait\b/, 'await'],
  [/\bfetch\s*\(/, 'fetch (I/O)'],
  [/\bcrypto\s*\./, 'crypto (a random source)'],
];

describe('layering', () => {
  it('core/ imports nothing outside core/ and uses no clock, timer, randomness, process or I/O', () => {
    const problems: string[] = [];
    for (const file of sources('core')) {
      const text = readFileSync(file, 'utf8');
      for (const spec of importsOf(text)) {
        if (layerOf(file, spec) !== 'core') problems.push(`${relative(root, file)} imports '${spec}'`);
      }
      const code = codeOnly(text);
      for (const [re, what] of FORBIDDEN_IN_CORE) {
        if (re.test(code)) problems.push(`${relative(root, file)} uses ${what}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('sim/ and adapters/ never import each other; jepsen/ imports neither', () => {
    const problems: string[] = [];
    const rules: Array<[string, string[]]> = [
      ['sim', ['adapters']],
      ['adapters', ['sim']],
      ['jepsen', ['sim', 'adapters']],
    ];
    for (const [layer, banned] of rules) {
      for (const file of sources(layer)) {
        for (const spec of importsOf(readFileSync(file, 'utf8'))) {
          const target = layerOf(file, spec);
          if (banned.includes(target)) problems.push(`${relative(root, file)} imports '${spec}' (${target}/)`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the checks can see: a planted impure import and clock call are flagged', () => {
    const text = "import { readFileSync } from 'node:fs';\nconst t = Date.now();\n// Date.now in a comment is fine\n";
    expect(importsOf(text)).toEqual(['node:fs']);
    expect(FORBIDDEN_IN_CORE.some(([re]) => re.test(codeOnly(text)))).toBe(true);
    expect(FORBIDDEN_IN_CORE.some(([re]) => re.test(codeOnly('// Date.now only in a comment\n')))).toBe(false);
  });
});
