// Majority arithmetic as pure functions over a voter list. Membership is a plain list today;
// joint consensus will combine two of these (both majorities needed) without changing callers.
import type { NodeId } from '../types.js';

/** How many voters make a majority of `voterCount`. */
export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index that a majority of voters has reached. `acked` gives each voter's index
 * (0 when unknown). `scratch` is a reusable buffer so the leader's hot path allocates nothing.
 */
export function committedIndex(voters: readonly NodeId[], acked: (id: NodeId) => number, scratch: number[] = []): number {
  const n = voters.length;
  if (n === 0) return 0;
  scratch.length = n;
  for (let i = 0; i < n; i++) scratch[i] = acked(voters[i]!);
  // Insertion sort, descending: n is a handful of replicas.
  for (let i = 1; i < n; i++) {
    const v = scratch[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! < v) {
      scratch[j + 1] = scratch[j]!;
      j--;
    }
    scratch[j + 1] = v;
  }
  return scratch[quorumSize(n) - 1]!;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** The outcome of an election so far, given the answers received (absent = not yet answered). */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const q = quorumSize(voters.length);
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  if (granted >= q) return 'won';
  if (voters.length - rejected < q) return 'lost';
  return 'pending';
}

/** Whether `active` holds for a majority of voters (check-quorum, lease-style tests). */
export function quorumActive(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  let n = 0;
  for (const id of voters) if (active(id)) n++;
  return n >= quorumSize(voters.length);
}
