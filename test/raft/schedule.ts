// Random fault schedules over a small cluster, shared by the property tests.
import fc from 'fast-check';
import { Cluster, enc, type NodeOptions } from './harness.js';
import type { PlantedBug } from '../../core/bugs.js';
import type { LogIndex } from '../../core/types.js';

export type Action =
  | { kind: 'tick'; node: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'drop'; pick: number }
  | { kind: 'dup'; pick: number }
  | { kind: 'propose'; node: number }
  | { kind: 'read'; node: number }
  | { kind: 'crash'; node: number }
  | { kind: 'compact'; node: number }
  | { kind: 'partition'; node: number }
  | { kind: 'transfer'; node: number }
  | { kind: 'heal' };

/** Random actions; `crashWeight` tunes how often nodes crash or restart (default 1 in ~95). */
export function actionArb(crashWeight = 1): fc.Arbitrary<Action> {
  return fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('tick' as const), node: fc.nat(4) }) },
  { weight: 40, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(1000) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat(1000) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('dup' as const), pick: fc.nat(1000) }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('propose' as const), node: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('read' as const), node: fc.nat(4) }) },
  { weight: crashWeight, arbitrary: fc.record({ kind: fc.constant('crash' as const), node: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), node: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), node: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('heal' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('transfer' as const), node: fc.nat(4) }) },
);
}

export const action: fc.Arbitrary<Action> = actionArb();

export interface ScheduleResult {
  readonly violations: string[];
  /** How much happened, so a reviewer can see the schedules are not vacuous. */
  readonly maxTerm: number;
  readonly maxCommit: number;
  readonly leaders: number;
  readonly reads: number;
}

/** Runs a schedule, checking safety after every action; stops at the first violation. */
export function runSchedule(n: number, actions: readonly Action[], bugs: readonly PlantedBug[] = [], seed = 1, opts: NodeOptions = {}): ScheduleResult {
  const c = new Cluster(n, { electionTicks: 5, heartbeatTicks: 1, maxEntriesBytesPerMsg: 200, maxInflightMsgs: 4, bugs, seed, ...opts });
  let proposals = 0;
  let reads = 0;
  const commits = new Map<string, number>();
  const result = (): ScheduleResult => {
    let maxTerm = 0;
    let maxCommit = 0;
    for (const id of c.ids) {
      const s = c.raft(id).status();
      maxTerm = Math.max(maxTerm, s.term);
      maxCommit = Math.max(maxCommit, s.commit);
    }
    return { violations: c.violations, maxTerm, maxCommit, leaders: c.leaders.size, reads: c.readsServed.size };
  };
  for (const a of actions) {
    const id = c.ids[('node' in a ? a.node : 0) % n]!;
    switch (a.kind) {
      case 'tick':
        c.tick([id]);
        break;
      case 'deliver': {
        if (c.queue.length === 0) break;
        const [m] = c.queue.splice(a.pick % c.queue.length, 1);
        c.deliver(m!);
        c.process();
        break;
      }
      case 'drop':
        if (c.queue.length > 0) c.queue.splice(a.pick % c.queue.length, 1);
        break;
      case 'dup':
        if (c.queue.length > 0) c.queue.push(c.queue[a.pick % c.queue.length]!);
        break;
      case 'propose':
        if (c.node(id).up) {
          c.raft(id).propose(enc(`p${proposals++}`));
          c.process();
        }
        break;
      case 'read':
        if (c.node(id).up) c.read(id, `r${reads++}`);
        break;
      case 'crash':
        if (c.node(id).up) {
          c.crash(id);
          commits.delete(id);
        } else c.restart(id);
        break;
      case 'compact': {
        const node = c.node(id);
        const s = node.raft.status();
        if (node.up && s.applied > s.snapshotIndex) {
          const idx = s.applied;
          const data = enc(JSON.stringify(node.applied.filter((x) => x.index <= idx)));
          node.disk.saveSnapshot(node.raft.compact(idx as LogIndex, data));
        }
        break;
      }
      case 'partition':
        c.isolate(id);
        break;
      case 'heal':
        c.heal();
        break;
      case 'transfer': {
        // Whoever leads hands over to `id` (a no-op when `id` leads or nobody does).
        const l = c.leader();
        if (l !== null) {
          c.raft(l).transferLeader(id);
          c.process();
        }
        break;
      }
    }
    c.checkLogMatching();
    for (const x of c.ids) {
      const node = c.node(x);
      if (!node.up) continue;
      const st = node.raft.status();
      const commit = st.commit;
      // A node holds every entry it has committed (a prefix of its log, or its snapshot).
      if (commit > st.lastIndex) c.violations.push(`${x} has commit ${commit} beyond its last index ${st.lastIndex}`);
      const prev = commits.get(x) ?? 0;
      // Within one incarnation the commit index never goes back.
      if (commit < prev) c.violations.push(`commit of ${x} went back from ${prev} to ${commit}`);
      commits.set(x, commit);
    }
    if (c.violations.length > 0) return result();
  }
  // Heal everything and let the cluster settle: it must stay safe while converging.
  c.heal();
  for (const x of c.ids) if (!c.node(x).up) c.restart(x);
  c.run(60);
  c.checkLogMatching();
  return result();
}
