// The fault model. A run's faults are an explicit schedule — a list of timed fault events —
// drawn from the seed (swarm testing: each seed picks its own mix and intensity), or given
// directly (the fast-check property builds and shrinks schedules itself).
import type { Rng } from './rng.js';

export const FAULT_KINDS = ['partition', 'crash', 'loss', 'duplicate', 'reorder', 'pause', 'skew', 'disk', 'stepdown', 'drain'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Operator actions rather than failures (docs/operations.md); drawn from their own stream, so they move no other fault. */
export const NODE_OP_KINDS: readonly FaultKind[] = ['stepdown', 'drain'];

/**
 * The share of swarm seeds given to each leader-hunting story; the rest stay broad. A `phased`
 * seed runs all three stories one after another (in a drawn order, each over about a third of
 * the fault window), so one seed can catch a stale read, a Figure-8 commit and a double vote.
 */
export const HUNT_SHARE = { deposed: 0.1, shortReigns: 0.1, phased: 0.55 } as const;

export const PARTITION_SHAPES = ['halves', 'majority-minority', 'bridge', 'one-way', 'isolate-leader', 'isolate-node', 'isolate-next-leader', 'leader-minority'] as const;
export type PartitionShape = (typeof PARTITION_SHAPES)[number];
/** The shapes broad seeds draw from; the last two serve the short-reigns story (see below). */
const BROAD_SHAPES: readonly PartitionShape[] = PARTITION_SHAPES.slice(0, 6);

/** Which node a fault hits: a fixed node index, or whoever leads partition 0 when it fires. */
export type Target =
  | { readonly node: number }
  | { readonly leader: true }
  /** The k-th replica (mod the replication factor) of partition 0, the group the stories hunt. */
  | { readonly replica: number };

export type FaultEvent =
  /**
   * Cut links in the given shape; `pick` seeds the choice of sides when it fires. For
   * `isolate-next-leader`: `afterElectionMs` delays the cut after the election (default 0), and
   * `heals` names (by its `pick`) an earlier partition whose cut ends the moment this one starts.
   */
  | {
      readonly kind: 'partition';
      readonly atMs: number;
      readonly durationMs: number;
      readonly shape: PartitionShape;
      readonly pick: number;
      readonly afterElectionMs?: number;
      readonly heals?: number;
      /** With `heals`: end that cut this long after this one starts (default 0). */
      readonly healsAfterMs?: number;
    }
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
export type LeaderHunt = 'none' | 'deposed' | 'short-reigns' | 'phased';

/** One story, as a `phased` seed runs it over part of its fault window. */
export type Story = 'deposed' | 'short-reigns' | 'storm';

/** How one seed's faults look (swarm testing). Recorded in the result so a run explains itself. */
export interface FaultProfile {
  readonly enabled: readonly FaultKind[];
  /** Partitions mostly isolate the leader, crashes mostly hit it, and clients press hard. */
  readonly leaderFocus: boolean;
  /** Which leader-hunting story (when `leaderFocus`): see `LeaderHunt`. */
  readonly hunt: LeaderHunt;
  /** For `phased` seeds: the stories and their windows, in order. */
  readonly phases: readonly { readonly story: Story; readonly fromMs: number; readonly toMs: number }[];
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
  /** When the faults will actually stop (the heal); the stories are laid out before it. Default faultEndMs. */
  healAtMs: number = faultEndMs,
  partitions = 1,
): { readonly schedule: FaultSchedule; readonly profile: FaultProfile } {
  // The node operations are drawn at the end from their own stream (see below).
  const allowed = new Set([...allowedAll].filter((k) => !NODE_OP_KINDS.includes(k)));
  // Some seeds hunt the leader: partitions and crashes both on, most partitions isolate the
  // leader and most crashes hit it. Deposed leaders that still serve, and minority-only tails
  // of short reigns (Figure 8), come from here.
  const huntDraw = rng.next();
  const hunt: LeaderHunt =
    huntDraw < HUNT_SHARE.deposed
      ? 'deposed'
      : huntDraw < HUNT_SHARE.deposed + HUNT_SHARE.shortReigns
        ? 'short-reigns'
        : huntDraw < HUNT_SHARE.deposed + HUNT_SHARE.shortReigns + HUNT_SHARE.phased
          ? 'phased'
          : 'none';
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
  // Leader-hunting seeds run their stories (one, or all three in turn for `phased`); broad
  // seeds draw partitions and crashes of every shape.
  const phases: { story: Story; fromMs: number; toMs: number }[] = [];
  if (leaderFocus) {
    const stories: Story[] = hunt === 'phased' ? ['deposed', 'short-reigns', 'storm'] : [hunt === 'deposed' ? 'deposed' : 'short-reigns'];
    for (let i = stories.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [stories[i], stories[j]] = [stories[j]!, stories[i]!];
    }
    storyEvents(rng, nodes, Math.min(faultEndMs, healAtMs), logUniform, stories, on('disk'), events, phases);
  }
  const partitionPerSec = !leaderFocus && on('partition') ? logUniform(0.05, 2) : 0;
  const partitionMeanMs = logUniform(50, 6000);
  poisson(partitionPerSec, (atMs) => {
    events.push({ kind: 'partition', atMs, durationMs: 50 + rng.exp(partitionMeanMs), shape: rng.pick(BROAD_SHAPES), pick: rng.int(0, 1e9) });
  });

  // Half the broad seeds get a crash storm: processes dying every few tens of milliseconds and
  // restarting at once (a crash-looping supervisor), which is where a forgotten vote shows.
  // Phased seeds run one as their `storm` story.
  const storm = hunt === 'phased' || (!leaderFocus && on('crash') && rng.chance(0.5));
  const crashPerSec = !leaderFocus && on('crash') ? (storm ? logUniform(5, 25) : logUniform(0.05, 3)) : 0;
  const downMeanMs = storm ? logUniform(1, 20) : logUniform(2, 4000);
  const multiCrash = rng.range(0, 0.5);
  const leaderBias = rng.range(0, 0.5);
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
    profile: { enabled, leaderFocus, hunt, phases, crashStorm: storm, partitionPerSec, crashPerSec, pausePerSec, lossRate, duplicateRate, reorderRate },
  };
}

/**
 * Figure 8 of the Raft paper as three cuts. (1) The leader L1 goes into a minority (alone or
 * with a follower F) and keeps appending client writes there (term t). (2) The leader the
 * majority elects instead, A (term t+1), is cut off the moment it wins, holding its own first
 * writes alone; (1) heals a little later, both old leaders having taken client writes alone. (3) L1 (or F) wins again (term t+2) and starts copying its old
 * tail to the others; a few milliseconds later it is cut off and, at that same moment, A comes
 * back. A correct leader has committed nothing of its old tail yet (only an entry of its own term
 * commits by counting, and there is none on a majority); a leader that counts replicas of old
 * entries has, and A — whose last entry is of a newer term than that tail — can now be elected
 * and overwrite it.
 */
function figureEight(rng: Rng, atMs: number, meanMs: number, events: FaultEvent[]): number {
  // Event-driven, so it does not depend on how long elections take: (1) lasts until A's
  // election ends it (or at most this long); (2) lasts until (3) ends it.
  const firstPick = rng.int(0, 1e9);
  const aPick = rng.int(0, 1e9);
  const spanMs = 3000 + rng.exp(meanMs);
  events.push({ kind: 'partition', atMs, durationMs: spanMs, shape: 'leader-minority', pick: firstPick });
  // A reigns alone a while (taking the writes clients send it directly) before (1) heals.
  events.push({ kind: 'partition', atMs, durationMs: spanMs, shape: 'isolate-next-leader', pick: aPick, heals: firstPick, healsAfterMs: rng.range(150, 1200) });
  // Armed right after (2), so it takes the election after A's.
  events.push({ kind: 'partition', atMs: atMs + 1, durationMs: 300 + rng.exp(meanMs), shape: 'isolate-next-leader', pick: rng.int(0, 1e9), afterElectionMs: rng.range(1, 30), heals: aPick });
  return atMs + spanMs;
}

/**
 * A leader-hunting seed's partitions and crashes: its stories in the given order, each over its
 * own part of [0, faultEndMs) (one story: all of it; three: a fifth to a half each).
 * - deposed: long isolations of the leader and rare crashes, mostly of followers, so a deposed
 *   leader serves on in a minority while the majority elects another and commits (stale reads);
 * - short-reigns: the three-cut Figure-8 construction (figureEight), one at a time, between
 *   short isolations of the leader, and frequent crashes of the leader;
 * - storm: processes crash-looping every few tens of milliseconds, restarting at once (where a
 *   forgotten vote turns into two votes in one term).
 */
function storyEvents(
  rng: Rng,
  nodes: number,
  faultEndMs: number,
  logUniform: (lo: number, hi: number) => number,
  stories: readonly Story[],
  tornAllowed: boolean,
  events: FaultEvent[],
  phases: { story: Story; fromMs: number; toMs: number }[],
): void {
  const cuts = [0];
  if (stories.length === 3) {
    const w1 = rng.range(0.2, 0.45);
    const w2 = rng.range(0.2, Math.min(0.45, 0.8 - w1));
    cuts.push(w1 * faultEndMs, (w1 + w2) * faultEndMs);
  }
  cuts.push(faultEndMs);
  // Stories hunt partition 0's group: a crash of a node outside it (at RF below the node count)
  // does nothing to the story.
  const target = (leaderBias: number): Target => (rng.chance(leaderBias) ? { leader: true } : { replica: rng.int(0, nodes - 1) });
  const poissonIn = (perSec: number, from: number, to: number, f: (atMs: number) => void): void => {
    let t = from + rng.exp(1000 / perSec);
    while (t < to) {
      f(t);
      t += rng.exp(1000 / perSec);
    }
  };
  const crash = (atMs: number, downMeanMs: number, leaderBias: number, multi: number): void => {
    events.push({
      kind: 'crash',
      atMs,
      durationMs: 1 + rng.exp(downMeanMs),
      target: target(leaderBias),
      count: rng.chance(multi) ? rng.int(2, nodes) : 1,
      torn: tornAllowed && rng.chance(0.5),
      pick: rng.int(0, 1e9),
    });
  };
  stories.forEach((story, k) => {
    const from = cuts[k]!;
    const to = cuts[k + 1]!;
    phases.push({ story, fromMs: from, toMs: to });
    if (story === 'deposed') {
      const meanMs = logUniform(500, 4000);
      poissonIn(logUniform(0.3, 1.5), from, to, (atMs) => {
        const shape: PartitionShape = rng.chance(0.75) ? 'isolate-leader' : rng.pick(BROAD_SHAPES);
        // Healed by the end of the phase, so the next story starts from a whole cluster.
        events.push({ kind: 'partition', atMs, durationMs: Math.min(50 + rng.exp(meanMs), Math.max(50, to - atMs)), shape, pick: rng.int(0, 1e9) });
      });
      // A deposed leader must live on to serve stale reads; crashing it ends the story.
      const bias = rng.range(0, 0.2);
      poissonIn(logUniform(0.1, 1), from, to, (atMs) => crash(atMs, logUniform(50, 800), bias, 0));
    } else if (story === 'short-reigns') {
      // One construction at a time (overlapping ones would spend each other's armed cuts).
      const meanMs = logUniform(100, 1000);
      let t = from + rng.exp(300);
      while (t < to) {
        if (rng.chance(0.7)) t = figureEight(rng, t, meanMs, events) + rng.exp(300);
        else {
          const d = 50 + rng.exp(meanMs);
          events.push({ kind: 'partition', atMs: t, durationMs: d, shape: rng.chance(0.75) ? 'isolate-leader' : rng.pick(BROAD_SHAPES), pick: rng.int(0, 1e9) });
          t += d + rng.exp(300);
        }
      }
      const bias = rng.range(0.5, 0.9);
      const downMeanMs = logUniform(50, 800);
      poissonIn(logUniform(0.3, 2), from, to, (atMs) => crash(atMs, downMeanMs, bias, 0.2));
    } else {
      const downMeanMs = logUniform(1, 20);
      const bias = rng.range(0.3, 0.9);
      const multi = rng.range(0, 0.5);
      poissonIn(logUniform(5, 25), from, to, (atMs) => crash(atMs, downMeanMs, bias, multi));
    }
  });
}

export function describeFault(f: FaultEvent): string {
  const tgt = (t: Target): string => ('leader' in t ? 'the leader' : 'replica' in t ? `replica ${t.replica + 1} of p0` : `n${t.node + 1}`);
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
