// The options of one simulation run, their defaults, and the command line that reproduces a run.
import { isPlantedBug, type PlantedBug } from '../core/bugs.js';
import { FAULT_KINDS, parseFaults, type FaultKind, type FaultSchedule } from './faults.js';
import type { ClusterTuning } from './tuning.js';
import { CONSISTENCY_MIXES, type ConsistencyMix, type WorkloadConfig } from './workload.js';

export const WORKLOADS = ['kv', 'bank', 'records', 'mixed'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly partitions: number;
  /** Replicas per partition; default from the cluster size (1 -> 1, 2-3 -> 2, 4+ -> 3). */
  readonly replicationFactor?: number;
  /** The read levels of the workload (default strong). */
  readonly consistency?: ConsistencyMix;
  readonly durationMs: number;
  /** The fault kinds allowed; `swarm` when the user said `all` (each seed draws its own mix). */
  readonly faults: ReadonlySet<FaultKind>;
  readonly swarm: boolean;
  readonly bug: PlantedBug | null;
  readonly workload: 'kv';
  /** Keep readable trace lines (for --trace). */
  readonly trace: boolean;
  /** Run the linearizability checker on the history at the end (on by default). */
  readonly checkLinearizability: boolean;
  readonly checkTimeoutMs: number;
  /** Use this schedule instead of drawing one from the seed (property tests, shrinking). */
  readonly schedule?: FaultSchedule;
  readonly workloadConfig?: Partial<WorkloadConfig>;
  /** Use this configuration instead of drawing one from the seed. */
  readonly tuning?: ClusterTuning;
}

export const DEFAULT_OPTIONS = {
  nodes: 5,
  partitions: 1,
  durationMs: 60_000,
  checkTimeoutMs: 20_000,
} as const;

export function defaultOptions(seed: number, over: Partial<SimOptions> = {}): SimOptions {
  return {
    seed,
    nodes: DEFAULT_OPTIONS.nodes,
    partitions: DEFAULT_OPTIONS.partitions,
    durationMs: DEFAULT_OPTIONS.durationMs,
    faults: new Set(FAULT_KINDS),
    swarm: true,
    bug: null,
    workload: 'kv',
    trace: false,
    checkLinearizability: true,
    checkTimeoutMs: DEFAULT_OPTIONS.checkTimeoutMs,
    ...over,
  };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The CLI flags that shape a run (shared by `sim` and `sim sweep`). */
export interface RunFlags {
  nodes: number;
  partitions: number;
  replicationFactor: number | null;
  consistency: ConsistencyMix;
  durationMs: number;
  faultsText: string;
  bug: PlantedBug | null;
  workload: WorkloadName;
}

export function defaultFlags(): RunFlags {
  return { nodes: DEFAULT_OPTIONS.nodes, partitions: DEFAULT_OPTIONS.partitions, replicationFactor: null, consistency: 'strong', durationMs: DEFAULT_OPTIONS.durationMs, faultsText: 'all', bug: null, workload: 'kv' };
}

export function parseIntArg(flag: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined) throw new UsageError(`${flag} needs a value`);
  if (!/^-?\d+$/.test(v)) throw new UsageError(`${flag} expects an integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Try to consume one run flag at args[i]; returns how many args it used (0: not a run flag). */
export function parseRunFlag(flags: RunFlags, args: readonly string[], i: number): number {
  const a = args[i]!;
  const v = args[i + 1];
  switch (a) {
    case '--nodes':
      flags.nodes = parseIntArg(a, v, 1, 15);
      return 2;
    case '--partitions':
      flags.partitions = parseIntArg(a, v, 1, 64);
      return 2;
    case '--replication-factor':
      flags.replicationFactor = parseIntArg(a, v, 1, 15);
      return 2;
    case '--consistency':
      if (v === undefined || !(CONSISTENCY_MIXES as readonly string[]).includes(v)) throw new UsageError(`--consistency expects one of ${CONSISTENCY_MIXES.join(', ')}`);
      flags.consistency = v as ConsistencyMix;
      return 2;
    case '--duration-ms':
      flags.durationMs = parseIntArg(a, v, 100, 24 * 3600 * 1000);
      return 2;
    case '--faults':
      if (v === undefined) throw new UsageError('--faults needs a value');
      try {
        parseFaults(v);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      flags.faultsText = v;
      return 2;
    case '--bug':
      if (v === undefined) throw new UsageError('--bug needs a value');
      if (!isPlantedBug(v)) throw new UsageError(`unknown bug '${v}' (see conclave sim --list-bugs)`);
      flags.bug = v;
      return 2;
    case '--workload':
      if (v === undefined || !(WORKLOADS as readonly string[]).includes(v)) throw new UsageError(`--workload expects one of ${WORKLOADS.join(', ')}`);
      flags.workload = v as WorkloadName;
      return 2;
    default:
      return 0;
  }
}

/** The bugs whose breakage the kv workload cannot reach: they need another workload. */
export const BUGS_NEEDING_WORKLOAD: Partial<Record<PlantedBug, WorkloadName>> = { 'lock-release-early': 'bank', 'fanout-offset-per-partition': 'mixed' };

/** Check flags that parse but cannot run yet; returns the reason, or null. */
export function unsupported(flags: RunFlags): string | null {
  if (flags.replicationFactor !== null && flags.replicationFactor > flags.nodes) {
    return `--replication-factor ${flags.replicationFactor} is more than --nodes ${flags.nodes}: a partition cannot have more replicas than there are nodes`;
  }
  if (flags.workload !== 'kv') return `--workload ${flags.workload} is not built yet; only kv is`;
  if (flags.bug !== null) {
    const need = BUGS_NEEDING_WORKLOAD[flags.bug];
    if (need !== undefined) return `--bug ${flags.bug} lives in the lock layer and needs --workload ${need}, which is not built yet`;
  }
  return null;
}

export function optionsFromFlags(seed: number, flags: RunFlags, extra: Partial<SimOptions> = {}): SimOptions {
  const faults = parseFaults(flags.faultsText);
  return defaultOptions(seed, {
    nodes: flags.nodes,
    partitions: flags.partitions,
    ...(flags.replicationFactor !== null ? { replicationFactor: flags.replicationFactor } : {}),
    ...(flags.consistency !== 'strong' ? { consistency: flags.consistency } : {}),
    durationMs: flags.durationMs,
    faults,
    swarm: flags.faultsText.trim() === 'all',
    bug: flags.bug,
    ...extra,
  });
}

/** The exact command that reproduces one seed's run. */
export function reproduceCommand(seed: number, flags: RunFlags): string {
  const parts = ['./bin/conclave', 'sim', '--seed', String(seed), '--nodes', String(flags.nodes)];
  if (flags.partitions !== DEFAULT_OPTIONS.partitions) parts.push('--partitions', String(flags.partitions));
  if (flags.replicationFactor !== null) parts.push('--replication-factor', String(flags.replicationFactor));
  if (flags.consistency !== 'strong') parts.push('--consistency', flags.consistency);
  parts.push('--duration-ms', String(flags.durationMs), '--faults', flags.faultsText);
  if (flags.bug !== null) parts.push('--bug', flags.bug);
  if (flags.workload !== 'kv') parts.push('--workload', flags.workload);
  return parts.join(' ');
}
