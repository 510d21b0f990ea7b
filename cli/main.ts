// The `conclave` command: a thin dispatcher. Each command lives with the layer that owns it
// (sim/cli.ts, jepsen/cli.ts, adapters/...), loaded lazily so one command's start-up cost
// (or breakage) never reaches another.
//
// Exit codes (CONTRACTS.md): 0 success, 1 the check found a problem, 2 usage or input error,
// 3 internal error, 4 (check only) unknown within the time limit.

export type CommandMain = (args: readonly string[]) => Promise<number>;

interface Command {
  readonly summary: string;
  readonly load: () => Promise<CommandMain>;
}

const commands: Record<string, Command> = {
  sim: {
    summary: 'run a seeded, deterministic simulation of a cluster under faults (and `sim sweep`)',
    load: async () => (await import('../sim/cli.js')).simMain,
  },
  check: {
    summary: 'check a recorded history (JSON Lines or Jepsen EDN) for linearizability',
    load: async () => (await import('../jepsen/cli.js')).checkMain,
  },
  server: {
    summary: 'run a Conclave server node (HTTP API, peers over TCP, data in LMDB); `npm start` runs it with defaults',
    load: async () => (await import('../adapters/cli.js')).serverMain,
  },
  token: {
    summary: 'create, revoke or list the bearer tokens of a node (`token create|revoke ID|list --data-dir DIR`)',
    load: async () => (await import('../adapters/cli.js')).tokenMain,
  },
  jepsen: {
    summary: '`jepsen run`: real server processes on 127.0.0.1 under faults, the history checked',
    load: async () => (await import('../jepsen/harness/cli.js')).jepsenMain,
  },
  generate: {
    summary: 'generate histories with known verdicts',
    load: async () => (await import('../jepsen/generate/main.js')).generateMain,
  },
  demo: {
    summary: 'a short narrated simulation for newcomers',
    load: async () => (await import('../sim/demo.js')).demoMain,
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: conclave <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Run `conclave <command> --help` for the options of one command.',
    'Exit codes: 0 ok, 1 a check found a problem, 2 usage or input error, 3 internal error, 4 unknown (check timed out).',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`conclave: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    const run = await command.load();
    return await run(rest);
  } catch (err) {
    process.stderr.write(`conclave ${name}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 3;
  }
}
