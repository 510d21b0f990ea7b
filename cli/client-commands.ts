// The client and cluster commands (`conclave kv ...`, `conclave cluster ...`), over HTTP to any
// node through conclave/client. Parsed by @effect/cli: typed options, generated --help.
//
// Exit codes (CONTRACTS.md, and docs/cli.md for what each means here): 0 success; 1 the answer
// is "no" (key absent, condition failed, cluster unhealthy, wait-healthy timed out); 2 usage or
// input error (bad option, bad request, bad or missing token, a route this API lacks); 3 the
// cluster could not answer (unreachable, unavailable after retries, unknown write outcome) or
// an internal error.
import * as Args from '@effect/cli/Args';
import * as Command from '@effect/cli/Command';
import * as Options from '@effect/cli/Options';
import * as Config from 'effect/Config';
import * as Effect from 'effect/Effect';
import * as Option from 'effect/Option';
import { ConclaveError, createClient, type Client, type Consistency, type Status } from '../client/index.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly color: boolean;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  color: process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined,
};

// ---- shared options -------------------------------------------------------------------------

const endpoint = Options.text('endpoint').pipe(
  Options.withDescription('node(s) to talk to, host:port, comma-separated for failover (env CONCLAVE_ENDPOINT)'),
  Options.withFallbackConfig(Config.string('CONCLAVE_ENDPOINT').pipe(Config.withDefault('127.0.0.1:7070'))),
);
const token = Options.text('token').pipe(
  Options.withDescription('bearer token (env CONCLAVE_TOKEN)'),
  Options.withFallbackConfig(Config.string('CONCLAVE_TOKEN')),
  Options.optional,
);
const json = Options.boolean('json').pipe(Options.withDescription('print one JSON object on stdout'));
const common = { endpoint, token, json };

interface Common {
  readonly endpoint: string;
  readonly token: Option.Option<string>;
  readonly json: boolean;
}

const endpointsOf = (c: Common): string[] =>
  c.endpoint
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');

const clientOf = (c: Common): Client => createClient({ endpoints: endpointsOf(c), token: Option.getOrUndefined(c.token) });

/** A command-line value: JSON when it parses as JSON (3, true, "x", {"a":1}), else the text itself. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function exitCodeOf(e: ConclaveError): number {
  switch (e.code) {
    case 'not_found':
    case 'condition_failed':
      return 1;
    case 'bad_request':
    case 'unauthorized':
    case 'forbidden':
    case 'unsupported':
      return 2;
    default:
      return 3;
  }
}

/** Report a failure: one line on stderr; with --json also the error object on stdout. */
function fail(io: Io, c: Common, command: string, err: unknown, extra: Record<string, unknown> = {}): number {
  if (!(err instanceof ConclaveError)) throw err;
  io.err(`conclave ${command}: ${err.message}\n`);
  if (c.json) io.out(JSON.stringify({ ok: false, ...extra, error: err.code, message: err.message, status: err.status, retryable: err.retryable, outcome: err.outcome, endpoint: err.endpoint }) + '\n');
  return exitCodeOf(err);
}

// ---- kv -------------------------------------------------------------------------------------

async function kvPut(io: Io, c: Common, key: string, valueText: string, ttl: Option.Option<number>, expected: Option.Option<string>): Promise<number> {
  const value = parseValue(valueText);
  try {
    const r = await clientOf(c).kv.put(key, value, {
      ...(Option.isSome(ttl) ? { ttl: ttl.value } : {}),
      ...(Option.isSome(expected) ? { expected: parseValue(expected.value) } : {}),
    });
    io.out(c.json ? JSON.stringify({ ok: true, key, revision: r.revision }) + '\n' : `OK ${key} revision ${r.revision}\n`);
    return 0;
  } catch (err) {
    return fail(io, c, 'kv put', err, { key });
  }
}

async function kvGet(io: Io, c: Common, key: string, consistency: Option.Option<Consistency>): Promise<number> {
  try {
    const r = await clientOf(c).kv.get(key, Option.isSome(consistency) ? { consistency: consistency.value } : {});
    if (r === null) {
      io.err(`conclave kv get: key '${key}' is absent\n`);
      if (c.json) io.out(JSON.stringify({ ok: false, key, found: false, error: 'not_found' }) + '\n');
      return 1;
    }
    io.out(c.json ? JSON.stringify({ ok: true, key, found: true, value: r.value, revision: r.revision }) + '\n' : show(r.value) + '\n');
    return 0;
  } catch (err) {
    return fail(io, c, 'kv get', err, { key });
  }
}

async function kvDel(io: Io, c: Common, key: string, expected: Option.Option<string>): Promise<number> {
  try {
    const r = await clientOf(c).kv.delete(key, Option.isSome(expected) ? { expected: parseValue(expected.value) } : {});
    io.out(c.json ? JSON.stringify({ ok: true, key, revision: r.revision }) + '\n' : `OK deleted ${key} revision ${r.revision}\n`);
    return 0;
  } catch (err) {
    return fail(io, c, 'kv del', err, { key });
  }
}

async function kvList(io: Io, c: Common, prefix: Option.Option<string>, limit: Option.Option<number>, consistency: Option.Option<Consistency>): Promise<number> {
  try {
    const r = await clientOf(c).kv.list({
      ...(Option.isSome(prefix) ? { prefix: prefix.value } : {}),
      ...(Option.isSome(limit) ? { limit: limit.value } : {}),
      ...(Option.isSome(consistency) ? { consistency: consistency.value } : {}),
    });
    if (c.json) io.out(JSON.stringify({ ok: true, items: r.items, more: r.more }) + '\n');
    else {
      for (const it of r.items) io.out(`${it.key}\t${show(it.value)}\n`);
      if (r.more) io.out(`... more keys (raise --limit)\n`);
    }
    return 0;
  } catch (err) {
    return fail(io, c, 'kv list', err);
  }
}

// ---- cluster --------------------------------------------------------------------------------

export interface NodeView {
  readonly endpoint: string;
  readonly status: Status | null;
  readonly error: string | null;
}

export interface PartitionView {
  readonly partition: number;
  readonly replicas: { readonly node: string; readonly role: string; readonly term: number; readonly commit: number; readonly applied: number; readonly leader: string | null }[];
  readonly leader: string | null;
  readonly term: number;
  readonly commit: number;
  /** Highest commit index seen minus the lowest applied index among the replicas that answered. */
  readonly lag: number;
  readonly problems: string[];
}

export interface ClusterView {
  readonly nodes: {
    readonly node: string;
    readonly endpoint: string | null;
    /** ready / not-ready (it answered), down (it did not, and a peer cannot reach it), not-asked. */
    readonly state: 'ready' | 'not-ready' | 'down' | 'not-asked';
    readonly ready: boolean | null;
    readonly reason: string | null;
    readonly leads: number[];
    readonly peers_down: string[];
    readonly problems: string[];
  }[];
  readonly partitions: PartitionView[];
  readonly problems: string[];
  readonly healthy: boolean;
}

/** Apply lag (commit - applied) above which a replica is flagged. */
const LAG_FLAG = 100;

/** Merge what every reachable node says into one view of the cluster, with its problems. */
export function clusterView(views: readonly NodeView[]): ClusterView {
  const reached = views.filter((v) => v.status !== null) as (NodeView & { status: Status })[];
  const all = new Set<string>();
  for (const v of reached) for (const n of v.status.nodes) all.add(n);
  for (const v of reached) all.add(v.status.node);
  const problems: string[] = [];
  for (const v of views) if (v.status === null) problems.push(`endpoint ${v.endpoint} unreachable: ${v.error}`);

  const byPartition = new Map<number, PartitionView['replicas']>();
  for (const v of reached)
    for (const p of v.status.partitions) {
      const list = byPartition.get(p.partition) ?? [];
      list.push({ node: v.status.node, role: p.role, term: p.term, commit: p.commit, applied: p.applied, leader: p.leader });
      byPartition.set(p.partition, list);
    }
  const partitions: PartitionView[] = [...byPartition.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([partition, replicas]) => {
      const pp: string[] = [];
      const term = Math.max(...replicas.map((r) => r.term));
      const claims = new Set(replicas.filter((r) => r.term === term && r.leader !== null).map((r) => r.leader!));
      const leader = claims.size === 1 ? [...claims][0]! : null;
      if (claims.size === 0) pp.push('no leader');
      if (claims.size > 1) pp.push(`replicas disagree on the leader (${[...claims].join(', ')})`);
      const leaders = replicas.filter((r) => r.role === 'leader');
      if (leaders.length > 1) pp.push(`${leaders.length} replicas say they lead`);
      const commit = Math.max(...replicas.map((r) => r.commit));
      const lag = commit - Math.min(...replicas.map((r) => r.applied));
      for (const r of replicas) if (commit - r.applied > LAG_FLAG) pp.push(`${r.node} applied ${r.applied}, ${commit - r.applied} behind`);
      for (const p of pp) problems.push(`partition ${partition}: ${p}`);
      return { partition, replicas, leader, term, commit, lag, problems: pp };
    });

  const nodes = [...all].sort().map((node): ClusterView['nodes'][number] => {
    const v = reached.find((x) => x.status.node === node);
    const np: string[] = [];
    if (v === undefined) {
      const seenDown = reached.filter((x) => x.status.peers.some((p) => p.peer === node && p.state !== 'connected'));
      if (seenDown.length > 0) np.push(`down as seen by ${seenDown.map((x) => x.status.node).join(', ')}`);
      for (const p of np) problems.push(`node ${node}: ${p}`);
      return { node, endpoint: null, state: seenDown.length > 0 ? 'down' : 'not-asked', ready: null, reason: null, leads: [], peers_down: [], problems: np };
    }
    const s = v.status;
    if (!s.ready) np.push(`not ready: ${s.reason ?? 'no reason given'}`);
    const peersDown = s.peers.filter((p) => p.state !== 'connected').map((p) => p.peer);
    if (peersDown.length > 0) np.push(`cannot reach ${peersDown.join(', ')}`);
    for (const p of np) problems.push(`node ${node}: ${p}`);
    return {
      node,
      endpoint: v.endpoint,
      state: s.ready ? 'ready' : 'not-ready',
      ready: s.ready,
      reason: s.reason,
      leads: s.partitions.filter((p) => p.role === 'leader').map((p) => p.partition),
      peers_down: peersDown,
      problems: np,
    };
  });
  return { nodes, partitions, problems, healthy: problems.length === 0 && reached.length > 0 };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

const ranges = (xs: readonly number[]): string => {
  if (xs.length === 0) return '-';
  const out: string[] = [];
  let start = xs[0]!;
  let prev = start;
  for (const x of [...xs.slice(1), Number.NaN]) {
    if (x === prev + 1) {
      prev = x;
      continue;
    }
    out.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = x;
    prev = x;
  }
  return out.join(',');
};

export function renderClusterView(v: ClusterView, color: boolean): string {
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[0m` : s);
  const green = (s: string) => (color ? `\x1b[32m${s}\x1b[0m` : s);
  const lines: string[] = [];
  lines.push(...table([['NODE', 'HTTP', 'STATE', 'LEADS', 'PROBLEMS'], ...v.nodes.map((n) => [n.node, n.endpoint ?? '-', n.state, ranges(n.leads), n.problems.length === 0 ? '' : '! ' + n.problems.join('; ')])]).map((l) => (l.includes('! ') ? red(l) : l)));
  lines.push('');
  lines.push(
    ...table([
      ['PARTITION', 'LEADER', 'TERM', 'COMMIT', 'LAG', 'REPLICAS (node role commit/applied)', ''],
      ...v.partitions.map((p) => [String(p.partition), p.leader ?? 'NONE', String(p.term), String(p.commit), String(p.lag), p.replicas.map((r) => `${r.node} ${r.role} ${r.commit}/${r.applied}`).join(', '), p.problems.length === 0 ? '' : '! ' + p.problems.join('; ')]),
    ]).map((l) => (l.includes('! ') ? red(l) : l)),
  );
  lines.push('');
  lines.push(v.healthy ? green('healthy') : red(`${v.problems.length} problem${v.problems.length === 1 ? '' : 's'}:`));
  for (const p of v.problems) lines.push(red(`  ! ${p}`));
  return lines.join('\n') + '\n';
}

async function gather(c: Common): Promise<NodeView[]> {
  const client = clientOf(c);
  return Promise.all(
    client.endpoints.map(async (e): Promise<NodeView> => {
      try {
        return { endpoint: e.replace(/^https?:\/\//, ''), status: await client.node.status(e), error: null };
      } catch (err) {
        if (!(err instanceof ConclaveError)) throw err;
        return { endpoint: e.replace(/^https?:\/\//, ''), status: null, error: err.message };
      }
    }),
  );
}

async function clusterStatus(io: Io, c: Common): Promise<number> {
  const views = await gather(c);
  const v = clusterView(views);
  if (c.json) io.out(JSON.stringify({ ok: v.healthy, ...v }) + '\n');
  else io.out(renderClusterView(v, io.color));
  if (views.every((x) => x.status === null)) {
    io.err(`conclave cluster status: no endpoint answered (${views.map((x) => `${x.endpoint}: ${x.error}`).join('; ')})\n`);
    return 3;
  }
  return v.healthy ? 0 : 1;
}

async function clusterWaitHealthy(io: Io, c: Common, timeoutS: number, intervalMs: number): Promise<number> {
  const end = Date.now() + timeoutS * 1000;
  let v: ClusterView | null = null;
  let polls = 0;
  for (; polls < 100_000; polls++) {
    v = clusterView(await gather(c));
    if (v.healthy || Date.now() >= end) break;
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(intervalMs, end - Date.now()))));
  }
  const waitedMs = timeoutS * 1000 - Math.max(0, end - Date.now());
  if (c.json) io.out(JSON.stringify({ ok: v!.healthy, healthy: v!.healthy, waited_ms: waitedMs, polls: polls + 1, problems: v!.problems }) + '\n');
  if (v!.healthy) {
    if (!c.json) io.out(`healthy (${v!.nodes.length} nodes, ${v!.partitions.length} partitions)\n`);
    return 0;
  }
  io.err(`conclave cluster wait-healthy: not healthy after ${timeoutS} s: ${v!.problems.join('; ')}\n`);
  return 1;
}

// ---- the @effect/cli command tree -------------------------------------------------------------

const consistency = Options.choice('consistency', ['strong', 'leader', 'eventual'] as const).pipe(
  Options.withDescription('read level: strong (linearizable, default), leader, eventual'),
  Options.optional,
);

/** The client and cluster commands; each handler stores its exit code in `box`. */
export function clientCommands(io: Io, box: { code: number }) {
  const done = (p: () => Promise<number>) =>
    Effect.promise(p).pipe(
      Effect.map((code) => {
        box.code = code;
      }),
    );
  const key = Args.text({ name: 'KEY' });
  const put = Command.make(
    'put',
    {
      ...common,
      key,
      value: Args.text({ name: 'VALUE' }).pipe(Args.withDescription('JSON (3, true, "x", {"a":1}) or else plain text')),
      ttl: Options.integer('ttl').pipe(Options.withDescription('seconds until the key expires'), Options.optional),
      expected: Options.text('expected').pipe(Options.withDescription('write only if the key holds this value (JSON or text)'), Options.optional),
    },
    (a) => done(() => kvPut(io, a, a.key, a.value, a.ttl, a.expected)),
  ).pipe(Command.withDescription('write a key; exit 1 when --expected does not match or the key is absent'));
  const get = Command.make('get', { ...common, key, consistency }, (a) => done(() => kvGet(io, a, a.key, a.consistency))).pipe(
    Command.withDescription('read a key (its value on stdout); exit 1 when absent'),
  );
  const del = Command.make(
    'del',
    { ...common, key, expected: Options.text('expected').pipe(Options.withDescription('delete only if the key holds this value'), Options.optional) },
    (a) => done(() => kvDel(io, a, a.key, a.expected)),
  ).pipe(Command.withDescription('delete a key; exit 1 when absent'));
  const list = Command.make(
    'list',
    {
      ...common,
      prefix: Options.text('prefix').pipe(Options.withDescription('only keys starting with this'), Options.optional),
      limit: Options.integer('limit').pipe(Options.withDescription('at most this many keys'), Options.optional),
      consistency,
    },
    (a) => done(() => kvList(io, a, a.prefix, a.limit, a.consistency)),
  ).pipe(Command.withDescription('list keys (KEY<tab>VALUE per line)'));
  const kv = Command.make('kv').pipe(Command.withDescription('key-value operations over HTTP'), Command.withSubcommands([put, get, del, list]));

  const status = Command.make('status', common, (a) => done(() => clusterStatus(io, a))).pipe(
    Command.withDescription('nodes (state, leaderships) and partitions (leader, term, commit/applied, lag) as every given endpoint sees them; problems marked "!"; exit 0 healthy, 1 problems, 3 nothing answered'),
  );
  const waitHealthy = Command.make(
    'wait-healthy',
    {
      ...common,
      timeoutS: Options.integer('timeout-s').pipe(Options.withDescription('give up after this many seconds (default 60)'), Options.withDefault(60)),
      intervalMs: Options.integer('interval-ms').pipe(Options.withDescription('poll interval (default 500)'), Options.withDefault(500)),
    },
    (a) => done(() => clusterWaitHealthy(io, a, a.timeoutS, a.intervalMs)),
  ).pipe(Command.withDescription('wait until every given endpoint answers, is ready, and every partition has one leader; exit 1 on time-out'));
  const cluster = Command.make('cluster').pipe(Command.withDescription('cluster operations over HTTP'), Command.withSubcommands([status, waitHealthy]));
  return { kv, cluster };
}
