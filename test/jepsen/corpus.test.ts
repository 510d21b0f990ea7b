// Every verdict right on the shared corpus of real histories (etcd under Jepsen via
// Porcupine's test data, Knossos' data): 222 JSON Lines files and 120 EDN files, read in
// place from ../shared/histories (see its README.md), never copied into the repository.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../jepsen/check.js';
import { parseEdn, parseJsonl } from '../../jepsen/history.js';
import { isModelName } from '../../jepsen/models.js';

const repoRoot = resolve(__dirname, '..', '..');
const corpus = resolve(repoRoot, '..', 'shared', 'histories');
const present = existsSync(join(corpus, 'expected.json'));

function json(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(corpus, name), 'utf8')) as Record<string, unknown>;
}

describe.skipIf(!present)('the shared corpus', () => {
  it('decides all 222 JSON Lines histories as their sources do', () => {
    const expected = json('expected.json');
    const models = json('model.json');
    const names = Object.keys(expected).sort();
    expect(names).toHaveLength(222);
    const wrong: string[] = [];
    let invalid = 0;
    for (const name of names) {
      const model = models[name];
      if (typeof model !== 'string' || !isModelName(model)) throw new Error(`${name}: no model`);
      const r = checkHistory(parseJsonl(readFileSync(join(corpus, 'jsonl', `${name}.jsonl`), 'utf8')), model);
      if (r.valid !== expected[name]) wrong.push(`${name}: got ${String(r.valid)}, expected ${String(expected[name])}`);
      if (r.valid === false) {
        invalid++;
        const p = r.partitions.find((x) => x.valid === false);
        expect(p?.counterexample?.length ?? 0).toBeGreaterThan(0);
        expect(r.explanation).toMatch(/^Not linearizable/);
      }
    }
    expect(wrong).toEqual([]);
    expect(invalid).toBe(86);
  });

  it('decides all 120 EDN histories (cas-register, initial nil) as Knossos does', () => {
    const expected = json('expected-edn.json');
    const names = Object.keys(expected).sort();
    expect(names).toHaveLength(120);
    const wrong: string[] = [];
    for (const name of names) {
      const r = checkHistory(parseEdn(readFileSync(join(corpus, 'edn', `${name}.edn`), 'utf8')), 'cas-register');
      if (r.valid !== expected[name]) wrong.push(`${name}: got ${String(r.valid)}, expected ${String(expected[name])}`);
    }
    expect(wrong).toEqual([]);
  });
});
