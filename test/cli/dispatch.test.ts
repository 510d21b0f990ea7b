// The dispatcher: bin/conclave runs the commands with their own parsers directly, and the
// @effect/cli tree (cli/tree.ts) declares them as pass-through commands. Both routes must give
// the same exit code, stdout and stderr, built-ins such as --help included; the top-level usage
// lists every command; shell completions come from the tree.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../server/harness.js';

const BIN = join(ROOT, 'bin', 'conclave');
const TREE = join(ROOT, 'dist', 'cli', 'tree.js');

function direct(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function viaTree(args: string[]) {
  const script = `import(${JSON.stringify(TREE)}).then((m) => m.treeMain(JSON.parse(process.argv[1]))).then((c) => { process.exitCode = c; })`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('conclave dispatch', () => {
  it('pass-through commands behave exactly as their own parsers', () => {
    for (const args of [['check', '--help'], ['sim', '--list-bugs'], ['sim', '--seed', 'x']]) {
      const d = direct(args);
      const t = viaTree(args);
      expect(t, args.join(' ')).toEqual(d);
    }
    expect(direct(['check', '--help']).stdout).toMatch(/usage: conclave check/);
    expect(direct(['sim', '--seed', 'x']).code).toBe(2);
  });

  it('lists every command, rejects unknown ones, and prints completions', () => {
    const help = direct(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['sim', 'check', 'server', 'token', 'jepsen', 'demo', 'generate', 'kv', 'cluster']) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
    expect(direct([]).code).toBe(2);
    const unknown = direct(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^conclave: unknown command 'frobnicate'/);
    const completions = direct(['--completions', 'bash']);
    expect(completions.code).toBe(0);
    expect(completions.stdout).toMatch(/kv/);
    expect(completions.stdout).toMatch(/wait-healthy/);
  });
});
