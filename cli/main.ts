// The `conclave` command. Its command tree is defined with @effect/cli (cli/tree.ts): the
// client and cluster commands natively (typed options, generated --help), the older commands
// (sim, check, server, token, jepsen, demo, generate) as pass-through commands that hand their
// arguments verbatim to their own parsers, so their options, output and exit codes are unchanged.
// Those older commands are run from here directly, without loading @effect/cli: the same call
// the tree makes, minus its start-up cost (test/cli/dispatch.test.ts checks both routes agree).
//
// Exit codes (CONTRACTS.md): 0 success, 1 the check found a problem, 2 usage or input error,
// 3 internal error, 4 (check only) unknown within the time limit.
import { effectCommands, ownParserCommands, type CommandMain } from './commands.js';

export type { CommandMain };

export function usage(): string {
  const entries: [string, string][] = [...Object.entries(ownParserCommands).map(([n, c]): [string, string] => [n, c.summary]), ...Object.entries(effectCommands)];
  const width = Math.max(...entries.map(([n]) => n.length));
  const lines = entries.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return [
    'usage: conclave <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Run `conclave <command> --help` for the options of one command.',
    '`conclave --completions bash|zsh|fish|sh` prints shell completions.',
    'Exit codes: 0 ok, 1 a check found a problem, 2 usage or input error, 3 internal error, 4 unknown (check timed out).',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const own = ownParserCommands[name];
  if (own === undefined && !(name in effectCommands) && name !== '--completions') {
    process.stderr.write(`conclave: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    if (own !== undefined) return await (await own.load())(rest);
    return await (await import('./tree.js')).treeMain(argv);
  } catch (err) {
    process.stderr.write(`conclave ${name}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 3;
  }
}
