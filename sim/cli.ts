// `conclave sim ...`: one seeded run, `--list-bugs`, and `sim sweep` over a range of seeds.
import { writeFileSync } from 'node:fs';
import { PLANTED_BUGS } from '../core/bugs.js';
import { FAULT_KINDS } from './faults.js';
import { defaultFlags, optionsFromFlags, parseIntArg, parseRunFlag, reproduceCommand, unsupported, UsageError, type RunFlags } from './options.js';
import { humanSummary, jsonSummary } from './report.js';
import { sweepMain } from './sweep.js';
import { runSimulation } from './world.js';

const RUN_OPTIONS = `  --nodes N            cluster size (default 5)
  --partitions P       Raft groups, keys spread over them by hash (default 1); each
                       is replicated on RF nodes chosen by rendezvous hashing
  --replication-factor R  replicas per partition (default from --nodes: 1 -> 1,
                       2-3 -> 2, 4+ -> 3); at most --nodes
  --duration-ms V      virtual time to simulate (default 60000); faults stop at
                       max(V-15000, 0.75V) and the cluster must recover by V
  --faults LIST        comma-separated: ${FAULT_KINDS.join(', ')};
                       or all (default: each seed draws its own mix) or none.
                       stepdown: a random partition's leader hands over to a random
                       replica; drain: a node gives away its leaderships and stops
                       campaigning, and is activated again later (docs/operations.md)
  --consistency C      read levels of the workload: strong (default), leader, eventual,
                       or mixed (each read draws one); leader/eventual reads are kept
                       out of the linearizability check and must return a committed value
  --bug NAME           switch on one planted bug (see --list-bugs)
  --workload kv        the client workload (kv; bank/records/mixed not built yet)`;

export const SIM_HELP = `usage: conclave sim --seed S [options]
       conclave sim --list-bugs
       conclave sim sweep --seeds A..B [options] [--jobs J]

Run one seeded, deterministic simulation of a cluster under faults, check Raft's safety
properties after every event, liveness after the faults heal, and linearizability of the
client history at the end. The same arguments give the same traceHash on any machine.

options:
  --seed S             the seed (an integer); everything in the run derives from it
${RUN_OPTIONS}
  --json               print one JSON object (seed, ok, traceHash, violations, stats, linearizable, ...)
  --history FILE       write the client history (JSON Lines, the jepsen/ format)
  --trace FILE         write a readable event log (virtual time, node, event)
  --list-bugs          list the planted bugs
  -h, --help           this help

exit: 0 no check failed, 1 a check failed (the reproduce command is printed), 2 usage error, 3 internal error`;

export async function simMain(args: readonly string[]): Promise<number> {
  if (args[0] === 'sweep') return sweepMain(args.slice(1));
  try {
    return runOne(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`conclave sim: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function runOne(args: readonly string[]): number {
  const flags: RunFlags = defaultFlags();
  let seed: number | null = null;
  let json = false;
  let historyPath: string | null = null;
  let tracePath: string | null = null;
  for (let i = 0; i < args.length; ) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') {
      process.stdout.write(SIM_HELP + '\n');
      return 0;
    }
    if (a === '--list-bugs') {
      const width = Math.max(...Object.keys(PLANTED_BUGS).map((b) => b.length));
      for (const [name, what] of Object.entries(PLANTED_BUGS)) process.stdout.write(`${name.padEnd(width)}  ${what}\n`);
      return 0;
    }
    const used = parseRunFlag(flags, args, i);
    if (used > 0) {
      i += used;
      continue;
    }
    const v = args[i + 1];
    switch (a) {
      case '--seed':
        seed = parseIntArg(a, v, 0, Number.MAX_SAFE_INTEGER);
        i += 2;
        break;
      case '--json':
        json = true;
        i += 1;
        break;
      case '--history':
        if (v === undefined) throw new UsageError('--history needs a file');
        historyPath = v;
        i += 2;
        break;
      case '--trace':
        if (v === undefined) throw new UsageError('--trace needs a file');
        tracePath = v;
        i += 2;
        break;
      default:
        throw new UsageError(`unknown option '${a}' (see conclave sim --help)`);
    }
  }
  if (seed === null) throw new UsageError('--seed S is required (see conclave sim --help)');
  const why = unsupported(flags);
  if (why !== null) throw new UsageError(why);
  const result = runSimulation(optionsFromFlags(seed, flags, { trace: tracePath !== null }));
  if (historyPath !== null) writeFileSync(historyPath, result.history.map((e) => JSON.stringify({ process: e.process, type: e.type, f: e.f, key: e.key, value: e.value, time: e.time })).join('\n') + '\n');
  if (tracePath !== null) writeFileSync(tracePath, (result.traceLines ?? []).join('\n') + '\n');
  if (json) process.stdout.write(JSON.stringify(jsonSummary(result, flags)) + '\n');
  else process.stdout.write(humanSummary(result, flags) + '\n');
  if (!result.ok) process.stderr.write(`reproduce: ${reproduceCommand(seed, flags)}\n`);
  return result.ok ? 0 : 1;
}
