// The fault model. A run's faults are an explicit schedule — a list of timed fault events —
// drawn from the seed (swarm testing: each seed picks its own mix and intensity), or given
// directly (the fast-check property builds and shrinks schedules itself).
import type { Rng } from './rng.js';

export const FAULT_KINDS = ['partition', 'crash', 'loss', 'duplicate', 'reorder', 'pause', 'skew', 'disk', 'stepdown', 'drain'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Operator actions rather than failures (docs/operations.md); drawn from their own stream, so they move no other fault. */
export const NODE_OP_KINDS: readonly FaultKind[] = ['stepdown', 'drain'];

/** The share of swarm seeds given to each leader-hunting story; the rest stay broad. */
export const HUNT_SHARE = { deposed: 0.3, shortReigns: 0.25 } as const;

export const PARTITION_SHAPES = ['halves', 'majority-minority', 'bridge', 'one-way', 'isolate-leader', 'isolate-node', 'isolate-next-leader', 'leader-minority'] as const;
export type PartitionShape = (typeof PARTITION_SHAPES)[number];
/** The shapes broad seeds draw from; the last two serve the short-reigns story (see below). */
const BROAD_SHAPES: readonly PartitionShape[] = PARTITION_SHAPES.slice(0, 6);

/** Which node a fault hits: a fixed node index, or whoever leads partition 0 when it fires. */
export type Target = { readonly node: number } | { readonly leader: true };

export type FaultEvent =
  /** Cut links in the given shape; `pick` seeds the choice of sides when it fires. */
  | { readonly kind: 'partition'; readonly atMs: number; readonly durationMs: number; readonly shape: PartitionShape; readonly pick: number }
  /** Crash `count` nodes at once (the first is `target`), restarting each after `durationMs`. */
  | { readonly kind: 'crash'; readonly atMs: number; readonly durationMs: number; readonly target: Target; readonly count: number; readonly torn: boolean; readonly pick: number }
  | { readonly kind: 'pause'; readonly atMs: number; readonly durationMs: number; readonly target: Target }
  | { readonly kind: 'loss'; readonly atMs: number; readonly durationMs: number; readonly rate: number }
  | { readonly kind: 'duplicate'; readonly atMs: number; readonly durationMs: number; readonly rate: number }
  | { readonly kind: 'reorder'; readonly atMs: number; readonly durationMs: number; readonly rate: number; readonly maxDelayMs: number }
  /** From `atMs` on, the node's clock runs at `rate` times real time (drift; skew accumulates). */
  | { readonly kind: 'skew'; readonly atMs: number; readonly node: number; readonly rate: number }
  /** Flip one bit of one durable record of the node's disk (at most a minority of nodes ever). */
  | { readonly kind: 'bitflip'; readonly atMs: number; readonly node: number; readonly pick: number }
  /** The leader of partition `partition` (mod the count) hands its leadership to another replica, chosen by `pick`. */
  | { readonly kind: 'stepdown'; readonly atMs: number; readonly partition: number; readonly pick: number }
  /** The node drains (gives away its leaderships, stops campaigning) and is activated again after `durationMs`. */
  | { readonly kind: 'drain'; readonly atMs: number; readonly durationMs: number; readonly node: number };

export type FaultSchedule = readonly FaultEvent[];

export function parseFaults(text: string): ReadonlySet<FaultKind> {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 1 && parts[0] === 'all') return new Set(FAULT_KINDS);
  if (parts.length === 1 && parts[0] === 'none') return new Set();
  const out = new Set<FaultKind>();
  for (const p of parts) {
    if (!(FAULT_KINDS as readonly string[]).includes(p)) {
      throw new Error(`unknown fault '${p}' (expected a comma-separated list of ${FAULT_KINDS.join(', ')}, or all, or none)`);
    }
    out.add(p as FaultKind);
  }
  return out;
}

/**
 * The leader-hunting stories. `deposed`: long isolations of the leader and few crashes of it, so
 * a deposed leader lives on in a minority while the majority elects another and commits (stale
 * reads). `short-reigns`: frequent short isolations and crashes of the leader, and pairs of cuts
 * (`leader-minority`, then `isolate-next-leader`) that leave two reigns' last entries on two
 * different minorities (Figure 8).
 */
export type LeaderHunt = 'none' | 'deposed' | 'short-reigns';

/** How one seed's faults look (swarm testing). Recorded in the result so a run explains itself. */
export interface FaultProfile {
  readonly enabled: readonly FaultKind[];
  /** Partitions mostly isolate the leader, crashes mostly hit it, and clients press hard. */
  readonly leaderFocus: boolean;
  /** Which leader-hunting story (when `leaderFocus`): see `LeaderHunt`. */
  readonly hunt: LeaderHunt;
  readonly crashStorm: boolean;
  readonly partitionPerSec: number;
  readonly crashPerSec: number;
  readonly pausePerSec: number;
  readonly lossRate: number;
  readonly duplicateRate: number;
  readonly reorderRate: number;
}

/**
 * Draw a schedule for [0, faultEndMs). With every kind allowed (`--faults all`), each seed keeps
 * each kind with some probability and draws its intensity, so a sweep covers quiet seeds,
 * crash storms, lossy networks and everything between.
 */
export function generateSchedule(
  rng: Rng,
  allowedAll: ReadonlySet<FaultKind>,
  swarm: boolean,
  nodes: number,
  faultEndMs: number,
  partitions = 1,
): { readonly schedule: FaultSchedule; readonly profile: FaultProfile } {
  // The node operations are drawn at the end from their own stream (see below).
  const allowed = new Set([...allowedAll].filter((k) => !NODE_OP_KINDS.includes(k)));
  // Some seeds hunt the leader: partitions and crashes both on, most partitions isolate the
  // leader and most crashes hit it. Deposed leaders that still serve, and minority-only tails
  // of short reigns (Figure 8), come from here.
  const huntDraw = rng.next();
  const hunt: LeaderHunt = huntDraw < HUNT_SHARE.deposed ? 'deposed' : huntDraw < HUNT_SHARE.deposed + HUNT_SHARE.shortReigns ? 'short-reigns' : 'none';
  const leaderFocus = hunt !== 'none';
  const deposed = hunt === 'deposed';
  const enabled = FAULT_KINDS.filter(
    (k) => allowed.has(k) && (!swarm || rng.chance(0.6) || (leaderFocus && (k === 'partition' || k === 'crash'))),
  );
  const on = (k: FaultKind): boolean => enabled.includes(k);
  const events: FaultEvent[] = [];
  const poisson = (perSec: number, f: (atMs: number) => void): void => {
    if (perSec <= 0) return;
    let t = rng.exp(1000 / perSec);
    while (t < faultEndMs) {
      f(t);
      t += rng.exp(1000 / perSec);
    }
  };
  const target = (leaderBias: number): Target => (rng.chance(leaderBias) ? { leader: true } : { node: rng.int(0, nodes - 1) });

  // Log-uniform intensities: as many seeds with rare, long faults as with storms of short ones.
  const logUniform = (lo: number, hi: number): number => Math.exp(rng.range(Math.log(lo), Math.log(hi)));
  const partitionPerSec = on('partition') ? (deposed ? logUniform(0.3, 1.5) : leaderFocus ? logUniform(0.5, 3) : logUniform(0.05, 2)) : 0;
  const partitionMeanMs = deposed ? logUniform(500, 4000) : leaderFocus ? logUniform(100, 1500) : logUniform(50, 6000);
  poisson(partitionPerSec, (atMs) => {
    const r = leaderFocus ? rng.next() : 1;
    if (hunt === 'short-reigns' && r < 0.6) {
      // Figure 8 in two cuts: the leader goes into a minority (alone or with a follower) and
      // keeps appending client writes there; the leader the majority elects instead is cut off
      // the moment it wins, holding only its own first writes, and stays cut until after the
      // first minority is back. Whoever wins next holds the first tail but not the second.
      const firstMs = 150 + rng.exp(partitionMeanMs);
      events.push({ kind: 'partition', atMs, durationMs: firstMs, shape: 'leader-minority', pick: rng.int(0, 1e9) });
      events.push({ kind: 'partition', atMs, durationMs: firstMs + 100 + rng.exp(partitionMeanMs), shape: 'isolate-next-leader', pick: rng.int(0, 1e9) });
      return;
    }
    const shape: PartitionShape = leaderFocus && r < 0.75 ? 'isolate-leader' : rng.pick(BROAD_SHAPES);
    events.push({ kind: 'partition', atMs, durationMs: 50 + rng.exp(partitionMeanMs), shape, pick: rng.int(0, 1e9) });
  });

  // Some seeds get a crash storm: processes dying every few tens of milliseconds and
  // restarting at once (a crash-looping supervisor), which is where a forgotten vote shows.
  // Not in the deposed-leader story (a storm would soon crash the deposed leader too); broad
  // seeds get them more often to make up for it.
  const storm = on('crash') && rng.chance(leaderFocus ? 0.25 : 0.5) && !deposed;
  const crashPerSec = on('crash') ? (storm ? logUniform(5, 25) : deposed ? logUniform(0.1, 1) : leaderFocus ? logUniform(0.5, 3) : logUniform(0.05, 3)) : 0;
  const downMeanMs = storm ? logUniform(1, 20) : leaderFocus ? logUniform(50, 800) : logUniform(2, 4000);
  const multiCrash = rng.range(0, 0.5);
  // A deposed leader must live on to serve stale reads; crashing it ends the story.
  const leaderBias = deposed ? rng.range(0, 0.2) : leaderFocus ? rng.range(0.5, 0.9) : rng.range(0, 0.5);
  poisson(crashPerSec, (atMs) =>
    events.push({
      kind: 'crash',
      atMs,
      durationMs: 1 + rng.exp(downMeanMs),
      target: target(leaderBias),
      count: rng.chance(multiCrash) ? rng.int(2, nodes) : 1,
      torn: on('disk') && rng.chance(0.5),
      pick: rng.int(0, 1e9),
    }),
  );

  const pausePerSec = on('pause') ? logUniform(0.05, 1) : 0;
  const pauseMeanMs = logUniform(20, 3000);
  poisson(pausePerSec, (atMs) => events.push({ kind: 'pause', atMs, durationMs: 1 + rng.exp(pauseMeanMs), target: target(0.4) }));

  // Network weather: a few periods of loss / duplication / reordering, sometimes the whole run.
  const weather = (kind: 'loss' | 'duplicate' | 'reorder', rate: number): void => {
    if (rng.chance(0.3)) {
      pushWeather(kind, 0, faultEndMs, rate);
      return;
    }
    const periods = rng.int(1, 6);
    for (let i = 0; i < periods; i++) {
      const at = rng.range(0, faultEndMs);
      pushWeather(kind, at, Math.min(faultEndMs - at, 200 + rng.exp(faultEndMs / 8)), rate);
    }
  };
  const pushWeather = (kind: 'loss' | 'duplicate' | 'reorder', atMs: number, durationMs: number, rate: number): void => {
    if (kind === 'reorder') events.push({ kind, atMs, durationMs, rate, maxDelayMs: rng.range(5, 150) });
    else events.push({ kind, atMs, durationMs, rate });
  };
  const lossRate = on('loss') ? rng.range(0.01, 0.35) : 0;
  if (lossRate > 0) weather('loss', lossRate);
  const duplicateRate = on('duplicate') ? rng.range(0.01, 0.25) : 0;
  if (duplicateRate > 0) weather('duplicate', duplicateRate);
  const reorderRate = on('reorder') ? rng.range(0.05, 0.5) : 0;
  if (reorderRate > 0) weather('reorder', reorderRate);

  if (on('skew')) {
    const drift = rng.range(0.01, 0.4);
    for (let n = 0; n < nodes; n++) if (rng.chance(0.7)) events.push({ kind: 'skew', atMs: 0, node: n, rate: 1 + rng.range(-drift, drift) });
    const changes = rng.int(0, 4);
    for (let i = 0; i < changes; i++) {
      events.push({ kind: 'skew', atMs: rng.range(0, faultEndMs), node: rng.int(0, nodes - 1), rate: 1 + rng.range(-drift, drift) });
    }
  }

  if (on('disk')) {
    const flips = rng.int(0, 6);
    for (let i = 0; i < flips; i++) events.push({ kind: 'bitflip', atMs: rng.range(0, faultEndMs), node: rng.int(0, nodes - 1), pick: rng.int(0, 1e9) });
  }

  // Node operations in the middle of the load: stepdowns of random partitions' leaders, and
  // drains of random nodes (activated again later). Own stream: enabling them moves no other
  // fault. Swarm seeds that hunt the leader keep their story undisturbed: no node operations.
  const opsRng = rng.fork('node-ops');
  for (const k of NODE_OP_KINDS) if (allowedAll.has(k) && (!swarm || (!leaderFocus && opsRng.chance(0.6)))) enabled.push(k);
  if (on('stepdown')) {
    const stepdownPerSec = Math.exp(opsRng.range(Math.log(0.05), Math.log(2)));
    for (let t = opsRng.exp(1000 / stepdownPerSec); t < faultEndMs; t += opsRng.exp(1000 / stepdownPerSec)) {
      events.push({ kind: 'stepdown', atMs: t, partition: opsRng.int(0, Math.max(0, partitions - 1)), pick: opsRng.int(0, 1e9) });
    }
  }
  if (on('drain')) {
    const drains = opsRng.int(1, 4);
    for (let i = 0; i < drains; i++) {
      const atMs = opsRng.range(0, faultEndMs);
      events.push({ kind: 'drain', atMs, durationMs: 200 + opsRng.exp(faultEndMs / 6), node: opsRng.int(0, nodes - 1) });
    }
  }

  events.sort((a, b) => a.atMs - b.atMs);
  return {
    schedule: events,
    profile: { enabled, leaderFocus, hunt, crashStorm: storm, partitionPerSec, crashPerSec, pausePerSec, lossRate, duplicateRate, reorderRate },
  };
}

export function describeFault(f: FaultEvent): string {
  const tgt = (t: Target): string => ('leader' in t ? 'the leader' : `n${t.node + 1}`);
  switch (f.kind) {
    case 'partition':
      return `partition ${f.shape} for ${f.durationMs.toFixed(0)}ms`;
    case 'crash':
      return `crash ${f.count > 1 ? `${f.count} nodes starting with ` : ''}${tgt(f.target)} for ${f.durationMs.toFixed(0)}ms${f.torn ? ' (torn writes)' : ''}`;
    case 'pause':
      return `pause ${tgt(f.target)} for ${f.durationMs.toFixed(0)}ms`;
    case 'loss':
      return `drop ${(f.rate * 100).toFixed(1)}% of messages for ${f.durationMs.toFixed(0)}ms`;
    case 'duplicate':
      return `duplicate ${(f.rate * 100).toFixed(1)}% of messages for ${f.durationMs.toFixed(0)}ms`;
    case 'reorder':
      return `delay ${(f.rate * 100).toFixed(1)}% of messages by up to ${f.maxDelayMs.toFixed(0)}ms for ${f.durationMs.toFixed(0)}ms`;
    case 'skew':
      return `clock of n${f.node + 1} runs at ${f.rate.toFixed(3)}x`;
    case 'bitflip':
      return `flip a bit on the disk of n${f.node + 1}`;
    case 'stepdown':
      return `the leader of partition ${f.partition} steps down`;
    case 'drain':
      return `drain n${f.node + 1} for ${f.durationMs.toFixed(0)}ms`;
    default: {
      const _: never = f;
      return String(_);
    }
  }
}
