// The commands that parse their own arguments (each lives with the layer that owns it), loaded
// lazily so one command's start-up cost (or breakage) never reaches another. cli/main.ts runs
// them directly; cli/tree.ts declares them in the @effect/cli tree as pass-through commands.

export type CommandMain = (args: readonly string[]) => Promise<number>;

export interface Command {
  readonly summary: string;
  readonly load: () => Promise<CommandMain>;
}

export const ownParserCommands: Record<string, Command> = {
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
  demo: {
    summary: 'a short narrated simulation for newcomers',
    load: async () => (await import('../sim/demo.js')).demoMain,
  },
  generate: {
    summary: 'generate a concurrent history (linearizable by construction, or with a planted anomaly)',
    load: async () => (await import('../jepsen/generate/main.js')).generateMain,
  },
};

/** The commands defined with @effect/cli (cli/client-commands.ts). */
export const effectCommands: Record<string, string> = {
  kv: '`kv put|get|del|list` over HTTP to any node (--endpoint, --token, --json)',
  cluster: '`cluster status|wait-healthy`: the cluster at a glance, over HTTP',
};
