// The `conclave sim` command line, through the real binary (after building dist/).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLANTED_BUGS } from '../../core/bugs.js';

const root = resolve(__dirname, '../..');
const bin = join(root, 'bin', 'conclave');

function conclave(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

// dist/ is built once for the whole run by test/global-setup.ts.

describe('conclave sim (CLI)', () => {
  it('--help, sweep --help and --list-bugs exit 0', () => {
    const h = conclave('sim', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/--seed S/);
    expect(h.out).toMatch(/--faults LIST/);
    expect(conclave('sim', 'sweep', '--help').out).toMatch(/--seeds A\.\.B/);
    const l = conclave('sim', '--list-bugs');
    expect(l.code).toBe(0);
    for (const name of Object.keys(PLANTED_BUGS)) expect(l.out).toContain(name);
  });

  it('usage errors exit 2 with a one-line message', () => {
    for (const args of [['sim'], ['sim', '--seed', 'x'], ['sim', '--seed', '1', '--bug', 'nope'], ['sim', '--seed', '1', '--faults', 'meteor'], ['sim', 'sweep', '--seeds', '5..1']]) {
      const r = conclave(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    const lock = conclave('sim', '--seed', '1', '--bug', 'lock-release-early');
    expect(lock.code).toBe(2);
    expect(lock.err).toMatch(/--workload bank/);
  });

  it('a passing run exits 0 with the JSON contract and writes its history', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-sim-'));
    const hist = join(dir, 'h.jsonl');
    const r = conclave('sim', '--seed', '7', '--duration-ms', '6000', '--json', '--history', hist, '--trace', join(dir, 't.log'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ seed: 7, ok: true, violations: [], linearizable: true });
    expect(j.traceHash).toMatch(/^[0-9a-f]{64}$/);
    for (const k of ['virtualMs', 'wallMs', 'events', 'messages', 'clientOps', 'committed']) expect(typeof j.stats[k]).toBe('number');
    const lines = readFileSync(hist, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatchObject({ type: 'invoke' });
    expect(readFileSync(join(dir, 't.log'), 'utf8')).toMatch(/becomes leader/);
  });

  it('a failing seed exits 1, prints its reproduce command, and that command fails the same way', () => {
    const r = conclave('sim', '--seed', '2', '--bug', 'vote-without-log-check', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(false);
    expect(j.reproduce).toBe('./bin/conclave sim --seed 2 --nodes 5 --duration-ms 60000 --faults all --bug vote-without-log-check');
    const again = conclave(...(j.reproduce as string).split(' ').slice(1), '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out).traceHash).toBe(j.traceHash);
  });

  it('sweep runs seeds on worker threads and stops at a failing seed with its command', () => {
    const ok = conclave('sim', 'sweep', '--seeds', '1..4', '--duration-ms', '6000', '--jobs', '2', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, seedsRun: 4 });
    const bad = conclave('sim', 'sweep', '--seeds', '1..3', '--bug', 'vote-without-log-check', '--jobs', '2');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/reproduce: \.\/bin\/conclave sim --seed \d+ .*--bug vote-without-log-check/);
  });
});
