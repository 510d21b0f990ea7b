// `conclave generate` end to end: the compiled CLI, spawned, writes a history that parses and
// that the checker decides as built (issue 12's pigeonhole construction is not linearizable).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkHistory } from '../../jepsen/check.js';
import { parseHistory } from '../../jepsen/history.js';

const root = resolve(__dirname, '..', '..');
const bin = join(root, 'bin', 'conclave');

beforeAll(() => {
  // dist/ is built once for the whole run by test/global-setup.ts.
  if (!existsSync(join(root, 'dist', 'jepsen', 'generate', 'main.js'))) throw new Error('dist/jepsen/generate/main.js was not built');
}, 120_000);

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'generate', ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('conclave generate', () => {
  it('writes a pigeonhole history that parses and is not linearizable', () => {
    const r = run('--repeated', 'pigeonhole', '--ops', '200', '--seed', '3');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/NOT linearizable \(pigeonhole construction/);
    const events = parseHistory(r.stdout, 'jsonl');
    expect(events.length).toBeGreaterThan(400);
    const result = checkHistory(events, 'cas-register', { timeoutMs: 30_000 });
    expect(result.valid).toBe(false);
    expect(result.partitions[0]?.counterexample?.length ?? 0).toBeGreaterThan(0);
  });

  it('writes a linearizable history the checker accepts, and is listed in the usage', () => {
    const r = run('--repeated', 'linearizable', '--ops', '200', '--seed', '3');
    expect(r.code).toBe(0);
    expect(checkHistory(parseHistory(r.stdout, 'jsonl'), 'cas-register', { timeoutMs: 30_000 }).valid).toBe(true);
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.stdout).toMatch(/generate\s+generate histories with known verdicts/);
  });

  it('keeps the script exit codes: 2 with a one-line message on bad usage, 0 for --help', () => {
    const bad = run('--repeated', 'nonsense');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--repeated is linearizable, stale, pigeonhole/);
    const help = run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--repeated V/);
  });
});
