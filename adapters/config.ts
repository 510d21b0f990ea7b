// Server configuration: YAML (CONTRACTS.md "Server configuration") validated by an Effect Schema,
// then overridden field by field from command-line flags. Errors name the field and the file.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Either, ParseResult, Schema } from 'effect';
import { parse as parseYaml } from 'yaml';

const HostPort = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9.\-]+:\d{1,5}$/, { message: () => 'expected host:port, e.g. 127.0.0.1:7100' }),
  Schema.filter((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return (port >= 1 && port <= 65535) || `port ${port} is outside 1..65535`;
  }),
);

const PositiveInt = (max: number) =>
  Schema.Number.pipe(Schema.int({ message: () => 'expected an integer' }), Schema.between(1, max, { message: () => `expected an integer in 1..${max}` }));

/** What a YAML file may hold (every field optional: defaults fill the rest). */
export const ConfigFileSchema = Schema.Struct({
  node: Schema.optional(HostPort),
  http: Schema.optional(HostPort),
  data_dir: Schema.optional(Schema.NonEmptyString),
  cluster: Schema.optional(
    Schema.Struct({
      nodes: Schema.optional(Schema.Array(HostPort).pipe(Schema.minItems(1))),
      replication_factor: Schema.optional(PositiveInt(7)),
      partitions: Schema.optional(PositiveInt(4096)),
      secret_file: Schema.optional(Schema.NonEmptyString),
      /**
       * Test-harness use only: dial a peer at another address (e.g. a fault-injecting proxy).
       * Keys are cluster.nodes entries (the peer's identity is unchanged), values host:port.
       */
      dial: Schema.optional(Schema.Record({ key: Schema.String, value: HostPort })),
    }).pipe(Schema.annotations({ parseOptions: { onExcessProperty: 'error' } })),
  ),
  auth: Schema.optional(
    Schema.Struct({ enabled: Schema.optional(Schema.Boolean), tokens_file: Schema.optional(Schema.NonEmptyString) }).pipe(
      Schema.annotations({ parseOptions: { onExcessProperty: 'error' } }),
    ),
  ),
  log_format: Schema.optional(Schema.Literal('pretty', 'json')),
  /** Milliseconds an HTTP request may wait for the cluster before it is answered 503. */
  request_timeout_ms: Schema.optional(PositiveInt(600_000)),
  /** Largest accepted HTTP request body, in bytes. */
  max_body_bytes: Schema.optional(PositiveInt(64 * 1024 * 1024)),
});
export type ConfigFile = Schema.Schema.Type<typeof ConfigFileSchema>;

export interface ServerConfig {
  readonly node: string;
  readonly http: string;
  readonly dataDir: string;
  readonly nodes: readonly string[];
  readonly replicationFactor: number;
  readonly partitions: number;
  readonly secretFile: string | null;
  /** cluster.dial: peer id → the address this node dials for it (test harness only). */
  readonly dial: Readonly<Record<string, string>>;
  readonly authEnabled: boolean;
  readonly tokensFile: string | null;
  readonly logFormat: 'pretty' | 'json';
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly insecure: boolean;
  /** Where the config came from, for messages. */
  readonly source: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULTS = {
  node: '127.0.0.1:7100',
  http: '127.0.0.1:7070',
  dataDir: './data',
  partitions: 64,
  requestTimeoutMs: 5_000,
  maxBodyBytes: 1024 * 1024,
} as const;

/** CONTRACTS.md: 1 node → 1; 2–3 → 2; 4+ → 3. */
export function defaultReplicationFactor(nodes: number): number {
  return nodes <= 1 ? 1 : nodes <= 3 ? 2 : 3;
}

export function isLoopback(hostPort: string): boolean {
  const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
  return host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '[::1]';
}

function describeIssues(err: ParseResult.ParseError): string {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(err);
  return issues.map((i) => `field '${i.path.length > 0 ? i.path.join('.') : '(top level)'}': ${i.message}`).join('; ');
}

/** Parse and validate YAML text; `file` names it in errors. */
export function parseConfigText(text: string, file: string): ConfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (doc === null || doc === undefined) doc = {};
  const r = Schema.decodeUnknownEither(ConfigFileSchema, { onExcessProperty: 'error', errors: 'all' })(doc);
  if (Either.isLeft(r)) throw new ConfigError(`${file}: ${describeIssues(r.left)}`);
  return r.right;
}

/** Flags that override the file (names mirror the YAML fields). */
export interface ConfigFlags {
  config?: string;
  node?: string;
  http?: string;
  data_dir?: string;
  nodes?: string;
  replication_factor?: string;
  partitions?: string;
  secret_file?: string;
  auth_enabled?: string;
  tokens_file?: string;
  log_format?: string;
  request_timeout_ms?: string;
  max_body_bytes?: string;
  insecure?: boolean;
}

function flagsAsFile(f: ConfigFlags): unknown {
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`flag --${name.replace(/_/g, '-')}: '${v}' is not a number`);
    return n;
  };
  const cluster: Record<string, unknown> = {};
  if (f.nodes !== undefined) cluster['nodes'] = f.nodes.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const rf = num('replication_factor', f.replication_factor);
  if (rf !== undefined) cluster['replication_factor'] = rf;
  const parts = num('partitions', f.partitions);
  if (parts !== undefined) cluster['partitions'] = parts;
  if (f.secret_file !== undefined) cluster['secret_file'] = f.secret_file;
  const auth: Record<string, unknown> = {};
  if (f.auth_enabled !== undefined) {
    if (f.auth_enabled !== 'true' && f.auth_enabled !== 'false') throw new ConfigError(`flag --auth-enabled: expected true or false, got '${f.auth_enabled}'`);
    auth['enabled'] = f.auth_enabled === 'true';
  }
  if (f.tokens_file !== undefined) auth['tokens_file'] = f.tokens_file;
  const out: Record<string, unknown> = {};
  if (f.node !== undefined) out['node'] = f.node;
  if (f.http !== undefined) out['http'] = f.http;
  if (f.data_dir !== undefined) out['data_dir'] = f.data_dir;
  if (Object.keys(cluster).length > 0) out['cluster'] = cluster;
  if (Object.keys(auth).length > 0) out['auth'] = auth;
  if (f.log_format !== undefined) out['log_format'] = f.log_format;
  const rt = num('request_timeout_ms', f.request_timeout_ms);
  if (rt !== undefined) out['request_timeout_ms'] = rt;
  const mb = num('max_body_bytes', f.max_body_bytes);
  if (mb !== undefined) out['max_body_bytes'] = mb;
  return out;
}

/** The effective configuration: defaults, then the file (if any), then flags. */
export function loadConfig(flags: ConfigFlags, cwd = process.cwd()): ServerConfig {
  let file: ConfigFile = {};
  let source = 'embedded defaults';
  let base = cwd;
  if (flags.config !== undefined) {
    const path = isAbsolute(flags.config) ? flags.config : resolve(cwd, flags.config);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${flags.config}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    file = parseConfigText(text, flags.config);
    source = flags.config;
    base = resolve(path, '..');
  }
  const fromFlags = Schema.decodeUnknownEither(ConfigFileSchema, { onExcessProperty: 'error', errors: 'all' })(flagsAsFile(flags));
  if (Either.isLeft(fromFlags)) throw new ConfigError(`command-line flags: ${describeIssues(fromFlags.left).replace(/field '([^']+)'/g, (_, f: string) => `flag --${f.split('.').pop()!.replace(/_/g, '-')}`)}`);
  const o = fromFlags.right;
  const node = o.node ?? file.node ?? DEFAULTS.node;
  const nodes = o.cluster?.nodes ?? file.cluster?.nodes ?? [node];
  const where = flags.config ?? 'the configuration';
  if (!nodes.includes(node)) throw new ConfigError(`${where}: field 'node': ${node} is not one of cluster.nodes [${nodes.join(', ')}]`);
  if (new Set(nodes).size !== nodes.length) throw new ConfigError(`${where}: field 'cluster.nodes': lists a node twice`);
  const replicationFactor = o.cluster?.replication_factor ?? file.cluster?.replication_factor ?? defaultReplicationFactor(nodes.length);
  if (replicationFactor > nodes.length) {
    throw new ConfigError(`${where}: field 'cluster.replication_factor': ${replicationFactor} exceeds the ${nodes.length} node(s) of cluster.nodes`);
  }
  const dial = file.cluster?.dial ?? {};
  for (const peer of Object.keys(dial)) {
    if (!nodes.includes(peer)) throw new ConfigError(`${where}: field 'cluster.dial': ${peer} is not one of cluster.nodes [${nodes.join(', ')}]`);
    if (peer === node) throw new ConfigError(`${where}: field 'cluster.dial': ${peer} is this node itself (only peers are dialed)`);
  }
  const rel = (p: string | undefined, relBase: string): string | null => (p === undefined ? null : isAbsolute(p) ? p : resolve(relBase, p));
  // Paths from the file are relative to the file; paths from flags and defaults to the working directory.
  const dataDir = o.data_dir !== undefined ? rel(o.data_dir, cwd)! : file.data_dir !== undefined ? rel(file.data_dir, base)! : resolve(cwd, DEFAULTS.dataDir);
  const secretFile = o.cluster?.secret_file !== undefined ? rel(o.cluster.secret_file, cwd) : rel(file.cluster?.secret_file, base);
  const tokensFile = o.auth?.tokens_file !== undefined ? rel(o.auth.tokens_file, cwd) : rel(file.auth?.tokens_file, base);
  const http = o.http ?? file.http ?? DEFAULTS.http;
  const authEnabled = o.auth?.enabled ?? file.auth?.enabled ?? false;
  const insecure = flags.insecure === true;
  if (!isLoopback(node) && secretFile === null) {
    throw new ConfigError(`${where}: field 'cluster.secret_file': required when 'node' (${node}) is not a loopback address`);
  }
  if (!isLoopback(http) && !authEnabled && !insecure) {
    throw new ConfigError(`${where}: field 'http': ${http} is not a loopback address and auth is off; anyone who can reach it could read and write everything. Enable auth or pass --insecure`);
  }
  return {
    node,
    http,
    dataDir,
    nodes,
    replicationFactor,
    partitions: o.cluster?.partitions ?? file.cluster?.partitions ?? DEFAULTS.partitions,
    secretFile,
    dial,
    authEnabled,
    tokensFile,
    logFormat: o.log_format ?? file.log_format ?? 'pretty',
    requestTimeoutMs: o.request_timeout_ms ?? file.request_timeout_ms ?? DEFAULTS.requestTimeoutMs,
    maxBodyBytes: o.max_body_bytes ?? file.max_body_bytes ?? DEFAULTS.maxBodyBytes,
    insecure,
    source,
  };
}

export function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) };
}
