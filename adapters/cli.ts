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
  --auth-enabled true|false   auth.enabled: require Authorization: Bearer <token> (see 'conclave token')
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
  const { runServer } = await import('./runtime.js');
  return runServer(config, makeLogger(config.logFormat));
}

const TOKEN_HELP = `usage: conclave token create|revoke ID|list --data-dir DIR [--tokens-file FILE] [--json]

Manages the bearer tokens of a node (kept hashed in DIR/tokens.json unless --tokens-file).
create prints the new token once; revoke makes a token answer 403; list shows ids and dates.`;

export async function tokenMain(args: readonly string[]): Promise<number> {
  const { createToken, listTokens, revokeToken, tokensPath, TokenFileError } = await import('./auth.js');
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], strict: true, allowPositionals: true, options: { 'data-dir': { type: 'string' }, 'tokens-file': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`conclave token: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(TOKEN_HELP + '\n');
    return 0;
  }
  const [sub, id] = positionals;
  if (values['data-dir'] === undefined && values['tokens-file'] === undefined) {
    process.stderr.write('conclave token: --data-dir DIR (or --tokens-file FILE) is required\n');
    return 2;
  }
  const path = tokensPath(values['data-dir'] ?? '.', values['tokens-file'] ?? null);
  try {
    if (sub === 'create') {
      const t = createToken(path);
      process.stdout.write(values.json === true ? JSON.stringify(t) + '\n' : `${t.token}\n`);
      return 0;
    }
    if (sub === 'revoke' && id !== undefined) {
      if (!revokeToken(path, id)) {
        process.stderr.write(`conclave token: no token with id ${id} in ${path}\n`);
        return 2;
      }
      if (values.json === true) process.stdout.write(JSON.stringify({ revoked: id }) + '\n');
      return 0;
    }
    if (sub === 'list') {
      const list = listTokens(path);
      if (values.json === true) process.stdout.write(JSON.stringify({ tokens: list }) + '\n');
      else for (const t of list) process.stdout.write(`${t.id}  created ${t.created}${t.revoked !== null ? `  revoked ${t.revoked}` : ''}\n`);
      return 0;
    }
  } catch (err) {
    if (err instanceof TokenFileError) {
      process.stderr.write(`conclave token: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  process.stderr.write(`conclave token: expected create, revoke ID or list\n${TOKEN_HELP}\n`);
  return 2;
}
