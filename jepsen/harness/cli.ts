// `conclave jepsen run`: options as CONTRACTS.md "Real-process harness". Exit codes: 0 valid,
// 1 invalid (or the check could not decide), 2 bad usage, 3 the harness itself failed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isPlantedBug, PLANTED_BUGS } from '../../core/bugs.js';
import { BUILT_NEMESES, HarnessError, jepsenRun, NEMESES, WORKLOADS, type Nemesis, type RunOptions, type Workload } from './run.js';

export const JEPSEN_USAGE = `usage: conclave jepsen run [options]

Starts real \`conclave server\` nodes on 127.0.0.1 (every peer link through a fault-injecting
proxy), runs a client load over HTTP under seeded faults, heals, reads every key a final
time, stops every node by pid and checks the history for linearizability.

options:
  --nodes 3|5            cluster size (default 3)
  --time-limit-s T       seconds of client load (default 20)
  --rate R               client operations per second, all clients together (default 50)
  --concurrency C        clients (default 6)
  --workload W           register or kv (default kv); bank and records are not built yet
  --nemesis LIST         comma-separated: kill, pause, partition, none (default none);
                         clock, disk, stepdown and drain are not built yet
  --seed S               seeds the fault schedule, partition shapes and the load (default 1)
  --out DIR              where history.jsonl, results.json, report.html and node logs go
                         (required; must not exist yet, or be empty)
  --bug NAME             run every node with a planted bug (see \`conclave sim --list-bugs\`),
                         to show the harness catches it; results.json names it
  -h, --help             this text

exit codes: 0 valid, 1 invalid (or the checker could not decide in time), 2 bad usage,
3 the harness failed (e.g. a node would not start)`;

class UsageError extends Error {}

export function parseJepsenArgs(args: readonly string[]): RunOptions | 'help' {
  if (args.includes('-h') || args.includes('--help')) return 'help';
  const [sub, ...rest] = args;
  if (sub !== 'run') throw new UsageError(sub === undefined ? 'missing subcommand (run)' : `unknown subcommand '${sub}' (run)`);
  const seen = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (!flag.startsWith('--')) throw new UsageError(`unexpected argument '${flag}'`);
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(2, eq) : flag.slice(2);
    const v = eq > 0 ? flag.slice(eq + 1) : rest[++i];
    if (v === undefined) throw new UsageError(`--${name} needs a value`);
    if (!['nodes', 'time-limit-s', 'rate', 'concurrency', 'workload', 'nemesis', 'seed', 'out', 'bug'].includes(name)) throw new UsageError(`unknown option --${name}`);
    if (seen.has(name)) throw new UsageError(`--${name} given twice`);
    seen.set(name, v);
  }
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const s = seen.get(name);
    if (s === undefined) return dflt;
    if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) throw new UsageError(`--${name} takes an integer in ${min}..${max}, got '${s}'`);
    return Number(s);
  };
  const nodes = int('nodes', 3, 3, 5);
  if (nodes !== 3 && nodes !== 5) throw new UsageError(`--nodes is 3 or 5, got ${nodes}`);
  const workload = seen.get('workload') ?? 'kv';
  if (!(WORKLOADS as readonly string[]).includes(workload)) {
    if (workload === 'bank' || workload === 'records') throw new UsageError(`--workload ${workload}: not yet supported by this build (register, kv)`);
    throw new UsageError(`--workload is register or kv, got '${workload}'`);
  }
  const list = (seen.get('nemesis') ?? 'none').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new UsageError('--nemesis needs at least one name (or none)');
  for (const n of list) {
    if (!(NEMESES as readonly string[]).includes(n)) throw new UsageError(`--nemesis: unknown '${n}' (${NEMESES.join(', ')})`);
    if (!BUILT_NEMESES.includes(n as Nemesis)) throw new UsageError(`--nemesis ${n}: not yet supported by this build (built: ${BUILT_NEMESES.join(', ')})`);
  }
  if (list.includes('none') && list.length > 1) throw new UsageError("--nemesis: 'none' cannot be combined with other nemeses");
  const bug = seen.get('bug');
  if (bug !== undefined && !isPlantedBug(bug)) throw new UsageError(`--bug: unknown planted bug '${bug}' (${Object.keys(PLANTED_BUGS).join(', ')})`);
  const out = seen.get('out');
  if (out === undefined || out === '') throw new UsageError('--out DIR is required');
  // Old data dirs belong to another cluster (other ports): the nodes would refuse them.
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) throw new UsageError(`--out ${out}: already exists and is not an empty directory; choose a new one`);
  return {
    nodes,
    timeLimitS: int('time-limit-s', 20, 1, 86_400),
    rate: int('rate', 50, 1, 100_000),
    concurrency: int('concurrency', 6, 1, 1_000),
    workload: workload as Workload,
    nemesis: [...new Set(list)] as Nemesis[],
    seed: int('seed', 1, 0, 2 ** 31 - 1),
    out,
    ...(bug !== undefined ? { bug } : {}),
  } as RunOptions;
}

export async function jepsenMain(args: readonly string[]): Promise<number> {
  let o: RunOptions | 'help';
  try {
    o = parseJepsenArgs(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`conclave jepsen: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (o === 'help') {
    process.stdout.write(JEPSEN_USAGE + '\n');
    return 0;
  }
  const say = (l: string): void => void process.stdout.write(`jepsen: ${l}\n`);
  try {
    const r = await jepsenRun({ ...o, log: say });
    const c = r.counts;
    say(`${c.ok} ok, ${c.fail} fail, ${c.info} info; ${r.faults.length} fault(s): ${r.faults.map((f) => f.kind).join(', ') || 'none'}`);
    say(`restarts: ${r.nodes.map((n) => `${n.name}=${n.restarts}`).join(' ')}; results in ${o.out}/results.json`);
    if (r.valid === true) {
      say(`valid: the ${r.model} checker found the history linearizable (${r.checker.ops} ops)`);
      return 0;
    }
    const what = r.valid === false ? 'INVALID: linearizability check failed' : 'UNKNOWN: the linearizability check did not finish in time';
    process.stdout.write(`jepsen: ${what} (model ${r.model}); ${r.checker.explanation ?? ''}\njepsen: report: ${o.out}/report.html\n`);
    return 1;
  } catch (e) {
    if (e instanceof HarnessError) {
      process.stderr.write(`conclave jepsen: the harness failed: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
}
