// Planted bugs: named switches that break one safety rule on purpose, so we can prove the
// simulator and the tests see the breakage. Off by default. sim/ and tests pass them; the
// server's config has no way to name one: only the environment variable
// CONCLAVE_UNSAFE_PLANTED_BUG (adapters/planted.ts), which the real-process harness sets for
// `conclave jepsen run --bug NAME` and which the node logs at error level.

export const PLANTED_BUGS = {
  'vote-without-log-check': 'a voter grants its vote without checking that the candidate\'s log is at least as up to date (Raft §5.4.1)',
  'forget-vote-on-restart': 'a restarted node forgets whom it voted for in its current term, so it can vote twice in one term',
  'commit-previous-term': 'a leader commits an entry of an earlier term by counting replicas (Raft §5.4.2, Figure 8)',
  'ack-before-durable': 'a follower acknowledges appended entries before they are fsynced, so a crash can lose an acknowledged entry',
  'stale-read': 'a leader answers ReadIndex reads without first confirming its leadership with a quorum',
  'apply-uncommitted': 'a node applies entries to its state machine before they are committed',
  'truncate-committed': 'a follower drops entries at or below its commit index when an append conflicts with them',
  'lock-release-early': 'a transaction releases its locks before its commit has been applied',
  'eventual-as-strong': 'a replica serves a strong read from its own applied state (as if it were an eventual read), without ReadIndex',
  'fanout-offset-per-partition': 'each partition skips a listing\'s offset on its own before the merge, so pages across partitions lose keys',
} as const;

export type PlantedBug = keyof typeof PLANTED_BUGS;

/** The environment variable a server process reads its planted bugs from (adapters/planted.ts). */
export const PLANTED_BUG_ENV = 'CONCLAVE_UNSAFE_PLANTED_BUG';

export function isPlantedBug(name: string): name is PlantedBug {
  return Object.prototype.hasOwnProperty.call(PLANTED_BUGS, name);
}

export type Bugs = ReadonlySet<PlantedBug>;
export const NO_BUGS: Bugs = new Set<PlantedBug>();
