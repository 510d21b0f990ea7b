// `conclave server`: flags mirror the YAML fields (CONTRACTS.md "Server configuration").
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type ConfigFlags } from './config.js';
import { makeLogger } from './log.js';

const HELP = `usage: conclave server [--config FILE] [flags]

Runs one Conclave node in the foreground. With no config: one node, data in ./data,
HTTP on 127.0.0.1:7070, peer port 127.0.0.1:7100. Flags override the file's fields:

  --config FILE               YAML configuration (see docs/server.md)
  --node HOST:PORT            this node's peer address (one of --nodes)
  --http HOST:PORT            client API address
  --data-dir DIR              where this node keeps its LMDB environment
  --nodes A,B,C               cluster.nodes
  --replication-factor N      cluster.replication_factor
  --partitions N              cluster.partitions
  --secret-file FILE          cluster.secret_file (required off loopback)
  --auth-enabled true|false   auth.enabled (bearer tokens: not built yet)
  --tokens-file FILE          auth.tokens_file
  --log-format pretty|json    log_format
  --request-timeout-ms N      an HTTP request unanswered this long gets 503 (default 5000)
  --max-body-bytes N          largest request body (default 1048576)
  --insecure                  allow a non-loopback HTTP address with auth off

SIGTERM / SIGINT stop it gracefully. Exit: 0 stopped, 2 bad config or refused data dir, 3 internal error.`;

export async function serverMain(args: readonly string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string' },
        node: { type: 'string' },
        http: { type: 'string' },
        'data-dir': { type: 'string' },
        nodes: { type: 'string' },
        'replication-factor': { type: 'string' },
        partitions: { type: 'string' },
        'secret-file': { type: 'string' },
        'auth-enabled': { type: 'string' },
        'tokens-file': { type: 'string' },
        'log-format': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        insecure: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`conclave server: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (values['help'] === true) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const flags: ConfigFlags = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || k === 'help') continue;
    (flags as Record<string, unknown>)[k.replace(/-/g, '_')] = v;
  }
  let config;
  try {
    config = loadConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`conclave server: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.authEnabled) {
    process.stderr.write('conclave server: auth.enabled: bearer-token auth is not built yet in this version; refusing to start rather than run without it\n');
    return 2;
  }
  const { runServer } = await import('./runtime.js');
  return runServer(config, makeLogger(config.logFormat));
}
