// Raft's safety properties, checked incrementally as the simulation runs (each check costs a
// map lookup or two per event, so they can run after every event):
//   election safety      at most one leader per term, across all time;
//   log matching         two logs holding an entry with the same index and term hold the same entry;
//   leader completeness  a new leader of term T holds every entry committed by a leader of a
//                        term below T (entries committed later, in a term above T, it need not:
//                        a slow candidate may still win an old term);
//   state machine safety no two nodes apply different entries at one index;
//   commit monotonic     a node's commit index never goes back while it runs, and the commit in
//                        its durable hard state never goes back across restarts;
//   acknowledged writes  an entry a client was told is committed is never replaced;
//   one vote per term    a node never grants its vote to two candidates in one term (the
//                        reason the vote is persisted);
//   committed is safe    when a leader advances its commit index to (i, t), no node lacking
//                        (i, t) could win an election by the log up-to-date rule (looking at
//                        every node's current log, durable log for nodes that are down):
//                        leader completeness for all future terms, checked at commit time,
//                        so Figure 8 (Raft §5.4.2) is caught before it is acted out.
import type { Entry, HardState, RaftGroup, Role } from '../core/raft/types.js';
import type { NodeId } from '../core/types.js';

export type ViolationKind =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'commit-monotonic'
  | 'acknowledged-write-lost'
  | 'damaged-state-served'
  | 'double-vote'
  | 'committed-entry-unsafe'
  | 'assertion'
  | 'liveness'
  | 'linearizability'
  /** A leader or eventual read returned a value no committed write of that key ever wrote. */
  | 'weak-read-uncommitted';

export interface Violation {
  readonly kind: ViolationKind;
  readonly atMs: number;
  readonly message: string;
}

/** A cheap 32-bit hash of an entry's term and bytes. */
export function entryHash(e: Entry): number {
  let h = Math.imul(0x811c9dc5 ^ e.term, 0x01000193);
  h = Math.imul(h ^ (e.kind === 'normal' ? 1 : e.kind === 'noop' ? 2 : 3), 0x01000193);
  const d = e.data;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i]!, 0x01000193);
  return h >>> 0;
}

interface PartitionChecks {
  readonly leaders: Map<number, NodeId>;
  /** index → [term, hash] of the entry applied there (by any node). */
  readonly appliedTerm: number[];
  readonly appliedHash: number[];
  /** (index, term) → hash of every entry persisted by any node; key index * 2^20 + term. */
  readonly seen: Map<number, number>;
  /** Indexes of entries whose write a client saw acknowledged. */
  readonly acked: Set<number>;
  /** index → term of the entry, and the term of the leader that committed it. */
  readonly committedTerm: number[];
  readonly committedIn: number[];
  maxApplied: number;
  maxCommitted: number;
}

/** One node's log as the commit-safety check sees it. */
export interface LogView {
  readonly id: NodeId;
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Whether the log holds (index, term), counting a snapshot at or past index as holding it. */
  holds(index: number, term: number): boolean;
}

function atLeastAsUpToDate(a: LogView, b: LogView): boolean {
  return a.lastTerm > b.lastTerm || (a.lastTerm === b.lastTerm && a.lastIndex >= b.lastIndex);
}

export class SafetyChecks {
  readonly violations: Violation[] = [];
  private readonly parts: PartitionChecks[] = [];
  private readonly votes: Array<Map<NodeId, { term: number; candidate: NodeId }>> = [];
  nowMs = 0;

  constructor(partitions: number) {
    for (let p = 0; p < partitions; p++) {
      this.votes.push(new Map());
      this.parts.push({ leaders: new Map(), appliedTerm: [], appliedHash: [], seen: new Map(), acked: new Set(), committedTerm: [], committedIn: [], maxApplied: 0, maxCommitted: 0 });
    }
  }

  get ok(): boolean {
    return this.violations.length === 0;
  }

  fail(kind: ViolationKind, message: string): void {
    this.violations.push({ kind, atMs: this.nowMs, message });
  }

  private part(p: number): PartitionChecks {
    const c = this.parts[p];
    if (c === undefined) throw new Error(`SafetyChecks: no partition ${p}`);
    return c;
  }

  roleChanged(node: NodeId, p: number, role: Role, term: number, group: RaftGroup): void {
    if (role !== 'leader') return;
    const c = this.part(p);
    const prior = c.leaders.get(term);
    if (prior !== undefined && prior !== node) {
      this.fail('election-safety', `partition ${p}: ${prior} and ${node} both became leader in term ${term}`);
    }
    c.leaders.set(term, node);
    // Leader completeness: the new leader holds every entry committed in an earlier term.
    const st = group.status();
    for (let i = st.snapshotIndex + 1; i <= c.maxCommitted; i++) {
      const want = c.committedTerm[i];
      if (want === undefined || c.committedIn[i]! >= term) continue;
      const have = group.termAt(i as never);
      if (have !== want) {
        this.fail(
          'leader-completeness',
          `partition ${p}: ${node} leads term ${term} holding ${have === null ? 'nothing' : `term ${have}`} at index ${i}, where an entry of term ${want} was committed in term ${c.committedIn[i]}`,
        );
        return;
      }
    }
  }

  /** A leader of `leaderTerm` has commit index `commit`; `termAt` reads its log. */
  leaderCommitted(p: number, leaderTerm: number, commit: number, termAt: (i: number) => number | null): void {
    const c = this.part(p);
    for (let i = c.maxCommitted + 1; i <= commit; i++) {
      const t = termAt(i);
      if (t === null) continue; // compacted already: it was committed (and recorded) before
      c.committedTerm[i] = t;
      c.committedIn[i] = leaderTerm;
    }
    if (commit > c.maxCommitted) c.maxCommitted = commit;
  }

  persisted(node: NodeId, p: number, entries: readonly Entry[]): void {
    const c = this.part(p);
    for (const e of entries) {
      const h = entryHash(e);
      const key = e.index * 1048576 + e.term;
      const prior = c.seen.get(key);
      if (prior === undefined) c.seen.set(key, h);
      else if (prior !== h) this.fail('log-matching', `partition ${p}: ${node} holds a different entry at index ${e.index}, term ${e.term} than another node`);
    }
  }

  /** Whether (index, term) of partition p is known committed (a leader's commit passed it). */
  isCommitted(p: number, index: number, term: number): boolean {
    return this.part(p).committedTerm[index] === term;
  }

  applied(node: NodeId, p: number, e: Entry): void {
    const c = this.part(p);
    const h = entryHash(e);
    const prior = c.appliedHash[e.index];
    if (prior === undefined) {
      c.appliedHash[e.index] = h;
      c.appliedTerm[e.index] = e.term;
      if (e.index > c.maxApplied) c.maxApplied = e.index;
    } else if (prior !== h) {
      const kind = c.acked.has(e.index) ? 'acknowledged-write-lost' : 'state-machine-safety';
      this.fail(kind, `partition ${p}: ${node} applied term ${e.term} at index ${e.index}, where term ${c.appliedTerm[e.index]} was applied before${kind === 'acknowledged-write-lost' ? ' and acknowledged to a client' : ''}`);
    }
  }

  /**
   * A node granted its (real, not pre-) vote to `candidate` in `term`. A node's term never
   * goes back (it is durable before any vote leaves), so its last vote is all we need.
   */
  voteGranted(p: number, voter: NodeId, candidate: NodeId, term: number): void {
    const votes = this.votes[p]!;
    const prior = votes.get(voter);
    if (prior === undefined || prior.term < term) votes.set(voter, { term, candidate });
    else if (prior.term === term && prior.candidate !== candidate) {
      this.fail('double-vote', `partition ${p}: ${voter} voted for ${prior.candidate} and then for ${candidate} in term ${term}`);
    }
  }

  /** A leader committed (index, term): no node lacking it may be electable. */
  committedSafe(p: number, leader: NodeId, index: number, term: number, logs: readonly LogView[], voters = logs.length): void {
    // A majority of all voters; nodes missing from `logs` (damaged disks) never vote again.
    const majority = Math.floor(voters / 2) + 1;
    for (const c of logs) {
      if (c.holds(index, term)) continue;
      let voters = 0;
      for (const v of logs) if (atLeastAsUpToDate(c, v)) voters++;
      if (voters >= majority) {
        this.fail(
          'committed-entry-unsafe',
          `partition ${p}: ${leader} committed index ${index} (term ${term}), but ${c.id} lacks it and could still win an election (last log ${c.lastIndex}/${c.lastTerm}, up to date for ${voters} of ${logs.length} voters)`,
        );
        return;
      }
    }
  }

  acknowledged(p: number, index: number): void {
    this.part(p).acked.add(index);
  }

  /** Every hard state written: its commit is not below the last durable one. */
  hardStateWritten(node: NodeId, p: number, hs: HardState, durableCommit: number): void {
    if (hs.commit < durableCommit) {
      this.fail('commit-monotonic', `partition ${p}: ${node} wrote hard state with commit ${hs.commit} below its durable commit ${durableCommit}`);
    }
  }

  /** At the end: each partition's leader still holds every acknowledged write. */
  finalLeader(node: NodeId, p: number, group: RaftGroup): void {
    const c = this.part(p);
    const st = group.status();
    for (const i of c.acked) {
      if (i > st.commit) {
        this.fail('acknowledged-write-lost', `partition ${p}: final leader ${node} has commit ${st.commit}, below acknowledged index ${i}`);
        return;
      }
      if (i <= st.snapshotIndex) continue;
      const t = group.termAt(i as never);
      if (t !== c.appliedTerm[i]) {
        this.fail('acknowledged-write-lost', `partition ${p}: final leader ${node} holds term ${t} at acknowledged index ${i} (term ${c.appliedTerm[i]} was acknowledged)`);
        return;
      }
    }
  }

  appliedEntries(p: number): number {
    return this.part(p).maxApplied;
  }

  /** Elections won, per partition (for stats and the demo). */
  leadersElected(): number {
    let n = 0;
    for (const c of this.parts) n += c.leaders.size;
    return n;
  }
}
