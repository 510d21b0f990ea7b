// `conclave check` end to end: the compiled CLI, spawned, with its exit codes and outputs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonl } from './checker-helpers.js';
import { repeatedCase } from '../../jepsen/generate/repeated.js';
import { eventsToJsonl } from '../../jepsen/generate/history.js';

const root = resolve(__dirname, '..', '..');
const bin = join(root, 'bin', 'conclave');
let dir = '';

beforeAll(() => {
  // dist/ is built once for the whole run by test/global-setup.ts.
  if (!existsSync(join(root, 'dist', 'jepsen', 'cli.js'))) throw new Error('dist/jepsen/cli.js was not built');
  dir = mkdtempSync(join(tmpdir(), 'conclave-check-'));
}, 120_000);

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'check', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('conclave check', () => {
  it('exits 0 on a linearizable history', () => {
    const p = file('ok.jsonl', jsonl([0, 'invoke', 'write', 1], [0, 'ok', 'write', 1], [1, 'invoke', 'read'], [1, 'ok', 'read', 1]));
    const r = run('--model', 'register', p);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^linearizable: 2 operations/);
  });

  it('exits 1 with a counterexample in words, and as data with --json', () => {
    const p = file(
      'stale.jsonl',
      jsonl(
        [0, 'invoke', 'write', 1, 'k'],
        [0, 'ok', 'write', 1, 'k'],
        [1, 'invoke', 'write', 2, 'k'],
        [1, 'ok', 'write', 2, 'k'],
        [2, 'invoke', 'read', null, 'k'],
        [2, 'ok', 'read', 1, 'k'],
      ),
    );
    const words = run('--model', 'kv', p);
    expect(words.code).toBe(1);
    expect(words.stdout).toMatch(/not linearizable/);
    expect(words.stdout).toMatch(/#1 process 0 wrote 1 to key "k"/);
    expect(words.stdout).toMatch(/#3 process 2 read key "k" and saw 1/);
    const asJson = run(p, '--json');
    expect(asJson.code).toBe(1);
    const o = JSON.parse(asJson.stdout) as Record<string, unknown>;
    expect(o).toMatchObject({ valid: false, model: 'kv', ops: 3, key: 'k', counterexampleMinimal: true });
    expect(typeof o['ms']).toBe('number');
    expect((o['counterexample'] as unknown[]).map((x) => (x as { id: number }).id)).toEqual([0, 1, 2]);
  });

  it('exits 2 with a one-line message naming the line of bad input', () => {
    const p = file('bad.jsonl', '{"process":0,"type":"invoke","f":"read"}\n{"process":0,"type":"ok","f":"read","value":1}\n{"process":0,"type":"ok","f":"read"}\n');
    const r = run(p);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/line 3: ok read for process 0, which has no operation open/);
    expect(run(join(dir, 'missing.jsonl')).code).toBe(2);
    expect(run('--model', 'nope', p).code).toBe(2);
    expect(run('--bogus').code).toBe(2);
    expect(run().code).toBe(2);
  });

  it('exits 4 and prints unknown when out of time', () => {
    // A hot register with values 0..4, 16 processes, 30% info writes: decided only by a
    // search of thousands of steps (hand-made cas tangles are now refuted by proof 5c at once).
    const c = repeatedCase({ seed: 7, ops: 2000, processes: 16, infoRate: 0.3, variant: 'linearizable' });
    const p = file('hard.jsonl', eventsToJsonl(c.history.events));
    const r = run('--model', 'cas-register', '--timeout-ms', '1', p);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^unknown/);
    const j = run('--model', 'cas-register', '--timeout-ms', '1', '--json', p);
    expect(j.code).toBe(4);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: 'unknown' });
  });

  it('reads EDN, detected from the file name, and checks keys in worker threads', () => {
    const p = file(
      'history.edn',
      `{:process 0, :type :invoke, :f :write, :value [:a 1]}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 1, :type :invoke, :f :write, :value [:b 2]}
{:process 0, :type :ok, :f :write, :value [:a 1]}
{:process 1, :type :ok, :f :write, :value [:b 2]}
{:process 0, :type :invoke, :f :read, :value [:a nil]}
{:process 0, :type :ok, :f :read, :value [:a 1]}
{:process 1, :type :invoke, :f :read, :value [:b nil]}
{:process 1, :type :ok, :f :read, :value [:b 2]}
`,
    );
    const r = run(p, '--jobs', '2', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, model: 'kv', ops: 4, keys: 2 });
  });

  it('writes an HTML report with --html, keeping the exit code of the verdict', () => {
    const p = file('stale-html.jsonl', jsonl([0, 'invoke', 'write', 1], [0, 'ok', 'write', 1], [1, 'invoke', 'write', 2], [1, 'ok', 'write', 2], [2, 'invoke', 'read'], [2, 'ok', 'read', 1]));
    const out = join(dir, 'report.html');
    const r = run('--model', 'register', p, '--html', out);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out, 'utf8')).toMatch(/<html/i);
  });

  it('checkHistoryParallel with worker threads (compiled) equals checkHistory', async () => {
    const check = (await import(pathToFileURL(join(root, 'dist', 'jepsen', 'check.js')).href)) as typeof import('../../jepsen/check.js');
    const gen = (await import(pathToFileURL(join(root, 'dist', 'jepsen', 'generate', 'history.js')).href)) as typeof import('../../jepsen/generate/history.js');
    const h = gen.generateHistory({ seed: 5, ops: 3000, processes: 16, keys: 12, infoRate: 0.1 });
    // One read of a value never written: the result must not depend on threads either way.
    const last = h.events.map((e) => e.f === 'read' && e.type === 'ok').lastIndexOf(true);
    const events = h.events.map((e, i) => (i === last ? { ...e, value: 'never written' } : e));
    expect(check.checkHistory(events, 'kv').valid).toBe(false);
    for (const evs of [h.events, events]) {
      const seq = check.checkHistory(evs, 'kv');
      const par = await check.checkHistoryParallel(evs, 'kv', { jobs: 2 });
      expect(par.valid).toBe(seq.valid);
      expect(par.partitions).toEqual(seq.partitions);
      expect(par.explanation).toBe(seq.explanation);
    }
  });

  it("reads the history from stdin with '-'", () => {
    const r = spawnSync(process.execPath, [bin, 'check', '-', '--model', 'register', '--json'], {
      encoding: 'utf8',
      input: jsonl([0, 'invoke', 'write', 1], [0, 'ok', 'write', 1], [1, 'invoke', 'read'], [1, 'ok', 'read', 1]),
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, model: 'register', ops: 2 });
  });

  it('prints its usage with --help', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: conclave check/);
  });
});
