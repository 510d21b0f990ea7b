// One Raft group, sans-IO (modelled on etcd-io/raft). The driver feeds it ticks, messages and
// client requests, and carries out the Ready batches it returns; see types.ts for the driver
// contract and docs/raft.md for the design.
//
// Reading guide: step() handles what is common to every message (terms, votes), then
// dispatches on role to stepLeader / stepCandidate / stepFollower, which switch on the
// message type.
//
// The persistence contract (asserted in ready()):
//   - a vote-response that grants a vote, and an append-response that acknowledges entries,
//     leave only in a Ready whose hardState/entries they depend on are either already stable
//     (persisted by an earlier Ready) or part of this Ready with mustSync = true;
//   - committedEntries never include an entry that is not yet stable (persisted by an earlier
//     Ready and acknowledged by advance()).
//   - on restart, term, vote, commit, snapshot and log come from PersistedState only.
import { assert, AssertionError, type LogIndex, type NodeId, type Term } from '../types.js';
import { NO_BUGS, PLANTED_BUGS, type PlantedBug } from '../bugs.js';
import { ENTRY_OVERHEAD_BYTES, RaftLog, entrySizeBytes } from './log.js';
import { Progress } from './progress.js';
import { committedIndex, quorumActive, voteResult } from './quorum.js';
import { ReadOnly } from './read-only.js';
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  PersistedState,
  ProposeResult,
  RaftConfig,
  RaftGroup,
  RaftStatus,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotMeta,
  SoftState,
} from './types.js';

type CampaignKind = 'pre-vote' | 'election' | 'transfer';

type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 64 * 1024;

/** A snapshot arriving in chunks, reassembled in order (one at a time per group). */
interface IncomingSnapshot {
  readonly from: NodeId;
  readonly term: number;
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly buf: Uint8Array;
  held: number;
}

/** How many extra election timeouts a passive (draining) replica waits before it campaigns. */
export const PASSIVE_EXTRA_ELECTIONS = 2;

export class Raft implements RaftGroup {
  readonly id: NodeId;
  private readonly cfg: RaftConfig;
  /** Planted bugs as flags (looked up on hot paths); `anyBug` when at least one is on. */
  private readonly bug: Readonly<Record<PlantedBug, boolean>>;
  private readonly anyBug: boolean;
  private voters: readonly NodeId[];
  private conf: ConfState;

  private term = 0;
  private vote: NodeId | null = null;
  private lead: NodeId | null = null;
  private role: Role = 'follower';
  private readonly log: RaftLog;

  /** Leader only: one Progress per voter (including self, whose match is the stable index). */
  private readonly prs = new Map<NodeId, Progress>();
  /** Candidate / pre-candidate: answers received. */
  private readonly votes = new Map<NodeId, boolean>();

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  private leadTransferee: NodeId | null = null;
  private transferElapsed = 0;
  /** The last commit made as leader (leaderCommitMark). */
  private leaderMark: { readonly term: Term; readonly commit: LogIndex } = { term: 0 as Term, commit: 0 as LogIndex };
  /** A draining node's replica (see setPassive): it campaigns only after a long silence. */
  private passive = false;

  private readonly readOnly = new ReadOnly();
  /** Reads that arrived before the leader committed an entry of its term. */
  private pendingReads: { context: string; from: NodeId | null }[] = [];

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];

  /** Quiescent: ticks do nothing until a message, proposal, read or wake() (docs/node.md). */
  private quiesced = false;
  /** Leader: the last index at which it asked its followers to quiesce, and who has. */
  private quiesceAt: number | null = null;
  private readonly quiesceAcks = new Set<NodeId>();
  /** Follower: the snapshot being received in chunks. */
  private incoming: IncomingSnapshot | null = null;
  private readonly chunkBytes: number;

  /** What the driver last persisted (or was handed in the outstanding Ready). */
  private prevHard: HardState;
  private prevSoft: SoftState;
  private readyOutstanding = false;
  private readonly scratch: number[] = [];

  constructor(config: RaftConfig, persisted: PersistedState) {
    validateConfig(config);
    this.cfg = config;
    this.id = config.id;
    const bugs = config.bugs ?? NO_BUGS;
    const flags = {} as Record<PlantedBug, boolean>;
    for (const name of Object.keys(PLANTED_BUGS) as PlantedBug[]) flags[name] = bugs.has(name);
    this.bug = flags;
    this.anyBug = bugs.size > 0;
    this.chunkBytes = config.maxSnapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES;
    this.conf = persisted.snapshot ? persisted.snapshot.meta.conf : config.conf;
    this.voters = this.conf.voters.slice();
    assert(this.voters.length > 0, 'the voter set is empty');

    const hs = persisted.hardState;
    let commit: number = hs.commit;
    const lastPersisted = (persisted.snapshot?.meta.index ?? 0) + persisted.entries.length;
    if (commit > lastPersisted) {
      // Only possible when acknowledged entries were lost from an unsynced disk, or committed
      // entries were truncated: both planted bugs.
      if (!this.bug['ack-before-durable'] && !this.bug['truncate-committed']) {
        throw new AssertionError(`persisted commit ${commit} is beyond the persisted log (last index ${lastPersisted})`);
      }
      commit = lastPersisted;
    }
    if (config.applied !== undefined) {
      // Applied entries were committed, even if the (unsynced) hard state lags behind them.
      if (config.applied > lastPersisted) {
        throw new AssertionError(`RaftConfig.applied ${config.applied} is beyond the persisted log (last index ${lastPersisted})`);
      }
      const snapIndex = persisted.snapshot?.meta.index ?? 0;
      if (config.applied < snapIndex) {
        // The entries in between are gone: the state machine must install the snapshot first.
        throw new AssertionError(`RaftConfig.applied ${config.applied} is below the persisted snapshot index ${snapIndex}`);
      }
      commit = Math.max(commit, config.applied);
    }
    this.log = new RaftLog(persisted.snapshot, persisted.entries, commit);
    if (config.applied !== undefined) this.log.appliedTo(config.applied);
    this.term = hs.term;
    this.vote = this.bug['forget-vote-on-restart'] ? null : hs.vote;
    this.prevHard = hs;
    this.becomeFollower(this.term, null);
    this.prevSoft = { leader: null, role: 'follower' };
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this.quiesced) return;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    // Passive: wait PASSIVE_EXTRA_ELECTIONS more election timeouts, so an active replica that can
    // win always campaigns first; but never forever, so a drain cannot leave a group leaderless.
    const timeout = this.randomizedElectionTimeout + (this.passive ? PASSIVE_EXTRA_ELECTIONS * this.cfg.electionTicks : 0);
    if (this.promotable() && this.electionElapsed >= timeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre-vote' : 'election');
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.leadTransferee !== null && ++this.transferElapsed >= this.cfg.electionTicks) {
      // The target did not take over within an election timeout: accept proposals again.
      this.abortLeaderTransfer();
    }
    for (const id of this.voters) {
      const pr = this.prs.get(id)!;
      if (id !== this.id && pr.state === 'snapshot' && ++pr.snapshotTicks >= this.cfg.electionTicks) {
        // The snapshot (or its answer) was probably lost: probe again, which resends it if needed.
        pr.becomeProbe();
      }
    }
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        const active = quorumActive(this.voters, (id) => id === this.id || this.prs.get(id)?.recentActive === true);
        for (const id of this.voters) if (id !== this.id) this.prs.get(id)!.recentActive = false;
        if (!active) {
          this.becomeFollower(this.term, null);
          return;
        }
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      if (this.canQuiesce()) {
        const last = this.log.lastIndex();
        if (this.quiesceAt !== last) {
          this.quiesceAt = last;
          this.quiesceAcks.clear();
        }
        this.bcastHeartbeat(null, true);
      } else {
        this.quiesceAt = null;
        this.bcastHeartbeat(this.readOnly.lastSeq(), false);
      }
    }
  }

  /**
   * A leader may go quiet when nothing is in flight: every entry committed, applied and
   * durable here, every follower holding the last index (in replicate state), every follower's
   * node live by the driver's node-level liveness, and no read, transfer or snapshot pending.
   */
  private canQuiesce(): boolean {
    if (this.cfg.quiesce !== true || this.role !== 'leader' || this.leadTransferee !== null) return false;
    if (this.pendingReads.length > 0 || this.readOnly.pendingCount() > 0) return false;
    const log = this.log;
    const last = log.lastIndex();
    if (log.committed !== last || log.applied !== last || log.stable !== last || log.hasUnstable()) return false;
    const live = this.cfg.peerLive;
    if (live === undefined) return false;
    for (const id of this.voters) {
      if (id === this.id) continue;
      const pr = this.prs.get(id)!;
      if (pr.match !== last || pr.state !== 'replicate' || !live(id)) return false;
    }
    return true;
  }

  isQuiesced(): boolean {
    return this.quiesced;
  }

  commitIndex(): LogIndex {
    return this.log.committed as LogIndex;
  }

  leaderCommitMark(): { readonly term: Term; readonly commit: LogIndex } {
    return this.leaderMark;
  }

  wake(leaderDown: boolean): void {
    if (!this.quiesced) return;
    this.quiesced = false;
    if (this.role === 'leader') {
      // Check-quorum counts from now; the driver's node liveness stands in for the followers'
      // answers during the first window (they were quiet because we asked them to be).
      this.electionElapsed = 0;
      const live = this.cfg.peerLive;
      for (const id of this.voters) if (id !== this.id) this.prs.get(id)!.recentActive = live !== undefined && live(id);
      this.heartbeatElapsed = this.cfg.heartbeatTicks - 1; // heartbeat on the next tick
      this.quiesceAt = null;
    } else if (leaderDown) {
      // Nothing from the leader's node for an election timeout: the lease is over.
      this.electionElapsed = Math.max(this.electionElapsed, this.cfg.electionTicks);
    }
  }

  propose(data: Uint8Array): ProposeResult {
    this.wake(false);
    if (data.byteLength + ENTRY_OVERHEAD_BYTES > this.cfg.maxEntriesBytesPerMsg) return { kind: 'dropped', reason: 'too-large' };
    switch (this.role) {
      case 'leader': {
        if (this.leadTransferee !== null) return { kind: 'dropped', reason: 'transferring' };
        const e = this.appendEntry('normal', data);
        this.bcastAppend(false);
        return { kind: 'proposed', index: e.index as LogIndex, term: e.term as Term };
      }
      case 'follower':
        if (this.lead === null) return { kind: 'dropped', reason: 'no-leader' };
        this.send({ type: 'propose', from: this.id, to: this.lead, term: this.term as Term, data: [data] });
        return { kind: 'forwarded', to: this.lead };
      case 'candidate':
      case 'pre-candidate':
        return { kind: 'dropped', reason: 'no-leader' };
    }
  }

  readIndex(context: string): void {
    this.wake(false);
    switch (this.role) {
      case 'leader':
        this.leaderReadIndex(context, null);
        return;
      case 'follower':
        // Without a leader the read is dropped; the client retries after its timeout.
        if (this.lead !== null) this.send({ type: 'read-index', from: this.id, to: this.lead, term: this.term as Term, context });
        return;
      case 'candidate':
      case 'pre-candidate':
        return;
    }
  }

  transferLeader(to: NodeId): void {
    if (!this.voters.includes(to)) throw new AssertionError(`transferLeader: ${to} is not a voter of this group`);
    if (this.role !== 'leader' || to === this.id) return;
    this.wake(false);
    if (this.leadTransferee === to) return;
    this.abortLeaderTransfer();
    this.leadTransferee = to;
    this.transferElapsed = 0;
    const pr = this.prs.get(to)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.maybeSendAppend(to, true);
  }

  /**
   * Passive (the node is draining): no TimeoutNow is obeyed, and an election is started only
   * after PASSIVE_EXTRA_ELECTIONS extra election timeouts without a leader. Votes are still
   * given as usual, so the group's quorum is unchanged.
   */
  setPassive(passive: boolean): void {
    this.passive = passive;
  }

  /** Leader only: the highest index known replicated on `id` (null when not leader or not a voter). */
  matchOf(id: NodeId): LogIndex | null {
    if (this.role !== 'leader') return null;
    const pr = this.prs.get(id);
    return pr === undefined ? null : (pr.match as LogIndex);
  }

  /** Leader only: the voter a leadership transfer is under way to, if any. */
  transferee(): NodeId | null {
    return this.role === 'leader' ? this.leadTransferee : null;
  }

  step(m: Message): void {
    if (m.to !== this.id) throw new AssertionError(`step: message for ${m.to} delivered to ${this.id}`);
    if (m.from === this.id) throw new AssertionError(`step: message from ${this.id} to itself`);
    // Any message wakes a quiescent group (a heartbeat asking to quiesce puts it back to sleep),
    // except a late answer to our own request to quiesce: it asks for nothing, and waking on it
    // would start another round of quiesce heartbeats and answers, forever.
    if (!(this.quiesced && m.type === 'heartbeat-response' && m.quiesced === true && m.term === this.term)) this.wake(false);

    if (m.term > this.term) {
      if (m.type === 'vote') {
        const inLease = this.cfg.checkQuorum && this.lead !== null && this.electionElapsed < this.cfg.electionTicks;
        // We heard from a live leader recently: a disruptive candidate must not depose it.
        if (inLease && !m.transfer) return;
      }
      if (m.type === 'vote' && m.preVote) {
        // A pre-vote changes nothing here.
      } else if (m.type === 'vote-response' && m.preVote && m.granted) {
        // A granted pre-vote carries the term we would campaign in; no term change.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      this.stepStale(m);
      return;
    }

    if (m.type === 'vote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  /** A message from an older term. */
  private stepStale(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
      // A stale leader (e.g. healed from a partition) learns our term and steps down. Without
      // this, check-quorum/pre-vote could leave it unable to hear of the newer term.
      this.send({ type: 'append-response', from: this.id, to: m.from, term: this.term as Term, index: 0 as LogIndex, reject: false, hintIndex: 0 as LogIndex, hintTerm: 0 as Term });
    } else if (m.type === 'vote' && m.preVote) {
      // Tell the pre-candidate our term so it can catch up instead of retrying forever.
      this.send({ type: 'vote-response', from: this.id, to: m.from, term: this.term as Term, preVote: true, granted: false });
    }
  }

  private handleVoteRequest(m: MessageOf<'vote'>): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      // A pre-vote for a future term is granted without a prior vote (it binds nothing).
      (m.preVote && m.term > this.term);
    const upToDate = this.bug['vote-without-log-check'] || this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    if (canVote && upToDate) {
      this.send({ type: 'vote-response', from: this.id, to: m.from, term: m.term, preVote: m.preVote, granted: true });
      if (!m.preVote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: 'vote-response', from: this.id, to: m.from, term: this.term as Term, preVote: m.preVote, granted: false });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'propose':
        if (this.leadTransferee !== null) return;
        for (const d of m.data) {
          if (d.byteLength + ENTRY_OVERHEAD_BYTES <= this.cfg.maxEntriesBytesPerMsg) this.appendEntry('normal', d);
        }
        this.bcastAppend(false);
        return;
      case 'read-index':
        this.leaderReadIndex(m.context, m.from);
        return;
      case 'append-response':
        this.handleAppendResponse(m);
        return;
      case 'heartbeat-response':
        this.handleHeartbeatResponse(m);
        return;
      case 'snapshot-ack':
        this.handleSnapshotAck(m);
        return;
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Another leader in our own term: impossible unless election safety is already broken
        // (a planted bug); ignore it and let the simulator's checks report the real violation.
        return;
      case 'vote-response':
      case 'timeout-now':
      case 'read-index-response':
        return;
      case 'vote':
        return;
      default:
        unreachableMessage(m);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
        this.becomeFollower(this.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(this.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.becomeFollower(this.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'vote-response': {
        if (m.preVote !== (this.role === 'pre-candidate')) return;
        this.votes.set(m.from, m.granted);
        const r = voteResult(this.voters, this.votes);
        if (r === 'won') {
          if (this.role === 'pre-candidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend(true);
          }
        } else if (r === 'lost') {
          this.becomeFollower(this.term, null);
        }
        return;
      }
      case 'propose':
      case 'read-index':
      case 'append-response':
      case 'heartbeat-response':
      case 'snapshot-ack':
      case 'timeout-now':
      case 'read-index-response':
      case 'vote':
        return;
      default:
        unreachableMessage(m);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'timeout-now':
        // Our leader asks us to take over: campaign at once, past any lease.
        if (this.promotable() && !this.passive) this.campaign('transfer');
        return;
      case 'propose':
        if (this.lead !== null) this.send({ ...m, from: this.id, to: this.lead, term: this.term as Term });
        return;
      case 'read-index':
        if (this.lead !== null) this.send({ ...m, from: this.id, to: this.lead, term: this.term as Term });
        return;
      case 'read-index-response':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'vote-response':
      case 'append-response':
      case 'heartbeat-response':
      case 'snapshot-ack':
      case 'vote':
        return;
      default:
        unreachableMessage(m);
    }
  }

  // ---------------------------------------------------------------- follower side

  private handleAppend(m: MessageOf<'append'>): void {
    const log = this.log;
    if (m.prevIndex < log.committed && !this.bug['truncate-committed']) {
      // Everything up to our commit index already matches the leader (Log Matching).
      this.respondAppend(m.from, log.committed, false, 0, 0);
      return;
    }
    if (log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = m.prevIndex + m.entries.length;
      if (this.bug['truncate-committed'] && lastNew < log.lastIndex()) {
        // Planted bug (the Raft Students' Guide classic): the append's entries replace the
        // whole suffix after prevIndex, even when they all match. A late or duplicated append
        // from the current leader then drops later entries, committed ones included.
        this.retractAcksFrom(lastNew + 1);
        log.replaceAfter(m.prevIndex, m.entries);
      } else {
        const conflict = log.findConflict(m.entries);
        if (conflict !== 0) {
          if (conflict <= log.lastIndex()) this.retractAcksFrom(conflict);
          const from = conflict - m.prevIndex - 1;
          log.append(from === 0 ? m.entries : m.entries.slice(from));
        }
      }
      // Only what this append proved to match may be committed: entries past lastNew may
      // belong to another leader's term.
      log.commitTo(Math.min(m.commit, lastNew));
      this.respondAppend(m.from, lastNew, false, 0, 0);
      return;
    }
    if (m.prevIndex < log.snapIndex) {
      // Only under truncate-committed (no commit short-cut above): the prefix is compacted,
      // hence committed and matching; claim our commit.
      this.respondAppend(m.from, log.committed, false, 0, 0);
      return;
    }
    // Reject with a hint so the leader can skip a whole term of mismatching entries at once.
    const [hintIndex, hintTerm] = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
    this.respondAppend(m.from, m.prevIndex, true, hintIndex, hintTerm);
  }

  /**
   * Entries from `index` on are about to be replaced before they were persisted: withdraw any
   * not-yet-sent acknowledgement of them, which would otherwise vouch for entries that never
   * reach the disk.
   */
  private retractAcksFrom(index: number): void {
    if (this.msgs.length === 0) return;
    this.msgs = this.msgs.filter((m) => !(m.type === 'append-response' && !m.reject && m.index >= index));
  }

  private respondAppend(to: NodeId, index: number, reject: boolean, hintIndex: number, hintTerm: number): void {
    this.send({
      type: 'append-response',
      from: this.id,
      to,
      term: this.term as Term,
      index: index as LogIndex,
      reject,
      hintIndex: hintIndex as LogIndex,
      hintTerm: hintTerm as Term,
    });
  }

  private handleHeartbeat(m: MessageOf<'heartbeat'>): void {
    // The leader sends min(our match, its commit), so this never commits past what we match.
    if (m.commit > this.log.committed) this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    // Go quiet only when our log ends exactly where the leader's does (it sends commit =
    // min(our match, its commit) = its last index when it asks) and all of it is committed.
    const quiesce = m.quiesce === true && this.role === 'follower' && this.lead === m.from && this.log.lastIndex() === m.commit && this.log.committed === m.commit && this.incoming === null;
    if (quiesce) this.quiesced = true;
    this.send({ type: 'heartbeat-response', from: this.id, to: m.from, term: this.term as Term, context: m.context, ...(quiesce ? { quiesced: true } : {}) });
  }

  private handleSnapshot(m: MessageOf<'snapshot'>): void {
    const log = this.log;
    if (m.meta.index <= log.committed) {
      this.incoming = null;
      this.respondAppend(m.from, log.committed, false, 0, 0);
      return;
    }
    if (log.matchTerm(m.meta.index, m.meta.term)) {
      // We already hold the snapshot's last entry: just fast-forward the commit index.
      this.incoming = null;
      log.commitTo(m.meta.index);
      this.respondAppend(m.from, log.committed, false, 0, 0);
      return;
    }
    // Reassemble: chunks are taken in order only; anything else is answered with what we hold,
    // so the leader resumes from there (also after it restarts the transfer from offset 0).
    let inc = this.incoming;
    if (inc === null || inc.from !== m.from || inc.term !== this.term || inc.meta.index !== m.meta.index || inc.meta.term !== m.meta.term || inc.totalBytes !== m.totalBytes) {
      if (!Number.isInteger(m.totalBytes) || m.totalBytes < 0) return;
      inc = { from: m.from, term: this.term, meta: m.meta, totalBytes: m.totalBytes, buf: new Uint8Array(m.totalBytes), held: 0 };
      this.incoming = inc;
    }
    if (m.offset === inc.held && m.offset + m.data.byteLength <= inc.totalBytes) {
      inc.buf.set(m.data, m.offset);
      inc.held += m.data.byteLength;
    }
    if (inc.held < inc.totalBytes) {
      this.send({ type: 'snapshot-ack', from: this.id, to: m.from, term: this.term as Term, index: m.meta.index, offset: inc.held });
      return;
    }
    this.incoming = null;
    const s: Snapshot = { meta: inc.meta, data: inc.buf };
    this.retractAcksFrom(s.meta.index + 1);
    log.restore(s);
    this.conf = s.meta.conf;
    this.voters = s.meta.conf.voters.slice();
    // Acknowledged only once persisted: the response rides in the Ready that carries the snapshot.
    this.respondAppend(m.from, s.meta.index, false, 0, 0);
  }

  // ---------------------------------------------------------------- leader side

  private handleAppendResponse(m: MessageOf<'append-response'>): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.index > this.log.lastIndex()) {
      // A follower claims more than we hold: only possible once a planted bug has broken
      // leader completeness. Ignore it so the simulator reports the real violation.
      assert(this.anyBug, () => `${this.id}: ${m.from} acknowledges ${m.index} beyond our last index ${this.log.lastIndex()}`);
      return;
    }
    if (m.reject) {
      let probeHint: number = m.hintIndex;
      if (m.hintTerm > 0) probeHint = this.log.findConflictByTerm(m.hintIndex, m.hintTerm)[0];
      if (this.anyBug && m.index <= pr.match && (pr.state === 'replicate' || m.index === pr.next - 1)) {
        // With a planted bug (ack-before-durable, truncate-committed) a follower can lose
        // entries it acknowledged. Forget the false match so replication resumes and the loss
        // shows up as a safety violation rather than a livelock. (Without bugs such a
        // rejection is merely a stale answer and the probe below just repeats.)
        pr.match = Math.min(pr.match, probeHint);
        if (pr.state === 'replicate') pr.becomeProbe();
      }
      if (pr.maybeDecrTo(m.index, probeHint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.maybeSendAppend(m.from, true);
      }
      return;
    }
    if (!pr.maybeUpdate(m.index)) {
      if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
      return;
    }
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate();
        break;
      case 'snapshot':
        if (pr.match >= pr.pendingSnapshot || pr.match + 1 >= this.log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case 'replicate':
        pr.inflights.freeLE(m.index);
        break;
    }
    if (this.maybeCommit()) this.bcastAppend(false);
    // Pipelining: keep the window full while there are entries to send.
    while (this.maybeSendAppend(m.from, false)) {
      /* send more */
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: MessageOf<'heartbeat-response'>): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    // A full window may be stuck on lost messages: free one slot so replication resumes.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.maybeSendAppend(m.from, true);
    if (m.context !== null) {
      const seq = Number(m.context);
      if (Number.isInteger(seq)) {
        for (const r of this.readOnly.recvAck(m.from, seq, this.voters, this.id)) this.answerRead(r.index, r.context, r.from);
      }
    }
    if (m.quiesced === true && this.quiesceAt !== null && this.quiesceAt === this.log.lastIndex()) {
      this.quiesceAcks.add(m.from);
      let all = true;
      for (const id of this.voters) if (id !== this.id && !this.quiesceAcks.has(id)) all = false;
      // Every follower has gone quiet at our last index, and still nothing is in flight.
      if (all && this.canQuiesce()) {
        this.quiesced = true;
        this.quiesceAt = null;
        this.quiesceAcks.clear();
      }
    }
  }

  private handleSnapshotAck(m: MessageOf<'snapshot-ack'>): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || m.index !== pr.pendingSnapshot) return; // a stale ack
    const snap = this.log.snapshot;
    if (snap === null || snap.meta.index !== pr.pendingSnapshot) {
      // We compacted again meanwhile: send the newer snapshot from its start.
      this.sendSnapshot(m.from, pr);
      return;
    }
    // One chunk per ack, and only for an ack of the furthest chunk sent: answering duplicated
    // acks (or acks of duplicated chunks) would multiply the chunks in flight with every round.
    // A lost chunk is resent when the transfer restarts after the snapshot timeout.
    if (m.offset < pr.snapshotSent) return;
    pr.snapshotTicks = 0; // the transfer is moving
    if (m.offset < snap.data.byteLength) this.sendSnapshotChunk(m.from, pr, snap, m.offset);
  }

  private leaderReadIndex(context: string, from: NodeId | null): void {
    if (!this.committedInCurrentTerm()) {
      // Our commit index may lag the previous leader's until our noop commits: wait.
      this.pendingReads.push({ context, from });
      return;
    }
    this.startRead(context, from);
  }

  private startRead(context: string, from: NodeId | null): void {
    const index = this.log.committed;
    if (this.voters.length === 1 || this.bug['stale-read']) {
      // A single voter is its own quorum. (The planted bug skips the confirmation round.)
      this.answerRead(index, context, from);
      return;
    }
    const seq = this.readOnly.add(index, context, from);
    this.bcastHeartbeat(seq);
  }

  private answerRead(index: number, context: string, from: NodeId | null): void {
    if (from === null || from === this.id) this.readStates.push({ index: index as LogIndex, context });
    else this.send({ type: 'read-index-response', from: this.id, to: from, term: this.term as Term, context, index: index as LogIndex });
  }

  private committedInCurrentTerm(): boolean {
    return this.log.termAt(this.log.committed) === this.term;
  }

  private releasePendingReads(): void {
    if (this.pendingReads.length === 0 || !this.committedInCurrentTerm()) return;
    const reads = this.pendingReads;
    this.pendingReads = [];
    for (const r of reads) this.startRead(r.context, r.from);
  }

  /** Advance the commit index to what a majority holds. Returns whether it moved. */
  private maybeCommit(): boolean {
    const idx = committedIndex(this.voters, (id) => this.prs.get(id)?.match ?? 0, this.scratch);
    if (idx <= this.log.committed) return false;
    // §5.4.2: only an entry of the current term is committed by counting replicas; earlier
    // entries are committed with it (Figure 8). The planted bug skips this check.
    if (this.log.termAt(idx) !== this.term && !this.bug['commit-previous-term']) return false;
    this.log.commitTo(idx);
    this.leaderMark = { term: this.term as Term, commit: idx as LogIndex };
    this.releasePendingReads();
    return true;
  }

  private appendEntry(kind: Entry['kind'], data: Uint8Array): Entry {
    const e: Entry = { term: this.term as Term, index: (this.log.lastIndex() + 1) as LogIndex, kind, data };
    this.log.append([e]);
    return e;
  }

  /**
   * Send each follower what it lacks. With `sendIfEmpty` false a follower with nothing new
   * gets no message: a commit advance then reaches it with the next append or heartbeat
   * (heartbeats carry the commit index), which halves the message count under load.
   */
  private bcastAppend(sendIfEmpty: boolean): void {
    for (const id of this.voters) if (id !== this.id) this.maybeSendAppend(id, sendIfEmpty);
  }

  private bcastHeartbeat(seq: number | null, quiesce = false): void {
    const context = seq === null ? null : String(seq);
    for (const id of this.voters) {
      if (id === this.id) continue;
      const pr = this.prs.get(id)!;
      // Never let a heartbeat commit past what the follower is known to match.
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ type: 'heartbeat', from: this.id, to: id, term: this.term as Term, commit: commit as LogIndex, context, ...(quiesce ? { quiesce: true } : {}) });
    }
  }

  /**
   * Send the follower its next batch of entries (or a snapshot when they are compacted).
   * Returns whether a message was sent. With `sendIfEmpty`, an empty append still goes out
   * (to carry the commit index or to probe).
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to)!;
    if (pr.isPaused()) return false;
    const log = this.log;
    const prevIndex = pr.next - 1;
    assert(prevIndex <= log.lastIndex(), () => `progress of ${to}: next ${pr.next} beyond last index ${log.lastIndex()}`);
    const prevTerm = log.termAt(prevIndex);
    if (prevTerm === null) return this.sendSnapshot(to, pr);
    const ents = pr.next <= log.lastIndex() ? log.slice(pr.next, log.lastIndex() + 1, this.cfg.maxEntriesBytesPerMsg) : NO_ENTRIES;
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += entrySizeBytes(e);
    this.send({
      type: 'append',
      from: this.id,
      to,
      term: this.term as Term,
      prevIndex: prevIndex as LogIndex,
      prevTerm: prevTerm as Term,
      entries: ents,
      commit: log.committed as LogIndex,
    });
    pr.sentEntries(ents.length, prevIndex + ents.length, bytes);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snap = this.log.snapshot;
    if (snap === null) throw new AssertionError(`leader ${this.id}: entries for ${to} are compacted but no snapshot is held`);
    pr.becomeSnapshot(snap.meta.index);
    this.sendSnapshotChunk(to, pr, snap, 0);
    return true;
  }

  /** One chunk (at most maxSnapshotChunkBytes) of the snapshot, from `offset`; the follower's ack asks for the next. */
  private sendSnapshotChunk(to: NodeId, pr: Progress, snap: Snapshot, offset: number): void {
    const data = snap.data.slice(offset, offset + this.chunkBytes);
    pr.snapshotSent = offset + data.byteLength;
    this.send({ type: 'snapshot', from: this.id, to, term: this.term as Term, meta: snap.meta, offset, totalBytes: snap.data.byteLength, data });
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeout-now', from: this.id, to, term: this.term as Term });
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = null;
    this.transferElapsed = 0;
  }

  // ---------------------------------------------------------------- roles

  private promotable(): boolean {
    return this.voters.includes(this.id);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.quiesced = false;
    this.quiesceAt = null;
    this.quiesceAcks.clear();
    this.randomizedElectionTimeout = this.cfg.electionTicks + Math.floor(this.cfg.random.next() * this.cfg.electionTicks);
    this.abortLeaderTransfer();
    this.votes.clear();
    this.prs.clear();
    this.readOnly.reset();
    this.pendingReads = [];
  }

  private becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // Pre-vote changes neither term nor vote; a later real election does.
    this.votes.clear();
    this.lead = null;
    this.role = 'pre-candidate';
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', () => `only a candidate becomes leader (was ${this.role})`);
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    const next = this.log.lastIndex() + 1;
    for (const id of this.voters) {
      const pr = new Progress(next, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);
      if (id === this.id) {
        pr.match = this.log.stable;
        pr.recentActive = true;
        pr.becomeReplicate();
      }
      this.prs.set(id, pr);
    }
    // A noop of our term: committing it commits everything before it (§5.4.2, §8).
    // The planted bug commit-previous-term counts replicas of earlier-term entries instead,
    // which makes the noop look unnecessary; without it the window of Figure 8 (a new leader
    // whose log ends in earlier-term entries) is open after every election.
    if (!this.bug['commit-previous-term']) this.appendEntry('noop', new Uint8Array(0));
  }

  private campaign(kind: CampaignKind): void {
    let voteTerm: number;
    if (kind === 'pre-vote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    const preVote = kind === 'pre-vote';
    this.votes.set(this.id, true);
    if (voteResult(this.voters, this.votes) === 'won') {
      // A single voter wins at once.
      if (preVote) this.campaign('election');
      else {
        this.becomeLeader();
        this.bcastAppend(true);
      }
      return;
    }
    for (const id of this.voters) {
      if (id === this.id) continue;
      this.send({
        type: 'vote',
        from: this.id,
        to: id,
        term: voteTerm as Term,
        preVote,
        lastLogIndex: this.log.lastIndex() as LogIndex,
        lastLogTerm: this.log.lastTerm() as Term,
        transfer: kind === 'transfer',
      });
    }
  }

  private send(m: Message): void {
    this.msgs.push(m);
  }

  // ---------------------------------------------------------------- Ready loop

  private hardStateChanged(): boolean {
    const p = this.prevHard;
    return p.term !== this.term || p.vote !== this.vote || p.commit !== this.log.committed;
  }

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.log.hasUnstable() ||
      this.log.pendingSnapshot !== null ||
      this.hardStateChanged() ||
      this.prevSoft.leader !== this.lead ||
      this.prevSoft.role !== this.role ||
      this.log.hasNextCommitted(this.bug['apply-uncommitted'])
    );
  }

  ready(): Ready {
    if (this.readyOutstanding) throw new AssertionError('ready() called again before advance() of the previous Ready');
    this.readyOutstanding = true;
    const p = this.prevHard;
    const termVoteChanged = p.term !== this.term || p.vote !== this.vote;
    const hardState: HardState | null = termVoteChanged || p.commit !== this.log.committed ? { term: this.term as Term, vote: this.vote, commit: this.log.committed as LogIndex } : null;
    const entries = this.log.hasUnstable() ? this.log.unstableEntries() : NO_ENTRIES;
    const snapshot = this.log.pendingSnapshot;
    // Planted bug: a follower's appended entries are not fsynced before it acknowledges them.
    const entriesNeedSync = entries.length > 0 && !(this.bug['ack-before-durable'] && this.role !== 'leader');
    const mustSync = termVoteChanged || snapshot !== null || entriesNeedSync;
    const softState: SoftState =
      this.prevSoft.leader === this.lead && this.prevSoft.role === this.role ? this.prevSoft : { leader: this.lead, role: this.role };
    const messages = this.msgs;
    this.msgs = [];
    const readStates = this.readStates;
    this.readStates = [];
    const committedEntries = this.log.nextCommitted(this.bug['apply-uncommitted']);
    const rd: Ready = { softState, hardState, entries, snapshot, mustSync, messages, committedEntries, readStates };
    this.assertPersistenceContract(rd);
    return rd;
  }

  /** The persistence contract, checked on every Ready (see the header comment). */
  private assertPersistenceContract(rd: Ready): void {
    const stable = this.log.stable;
    const lastInReady = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1]!.index : 0;
    const snapInReady = rd.snapshot !== null ? rd.snapshot.meta.index : 0;
    const ackBeforeDurable = this.bug['ack-before-durable'];
    for (const m of rd.messages) {
      if (m.type === 'append-response' && !m.reject && m.index > stable && !ackBeforeDurable) {
        assert(m.index <= Math.max(lastInReady, snapInReady), () => `${this.id} acknowledges index ${m.index} it does not hold durably (stable ${stable})`);
        assert(rd.mustSync, () => `${this.id} acknowledges index ${m.index} in a Ready without mustSync`);
      } else if (m.type === 'vote-response' && m.granted && !m.preVote) {
        // The vote is durable, or superseded by a durable later term (we can never vote in
        // that term again, so the grant cannot be contradicted after a crash).
        const covers = (h: HardState | null): boolean => h !== null && (h.term > m.term || (h.term === m.term && h.vote === m.to));
        if (!covers(this.prevHard)) {
          assert(covers(rd.hardState), () => `${this.id} grants a vote to ${m.to} in term ${m.term} that is not in this Ready's hard state`);
          assert(rd.mustSync, () => `${this.id} grants a vote in a Ready without mustSync`);
        }
      }
    }
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1]!.index;
      assert(last <= stable, () => `${this.id} would apply entry ${last} that is not yet persisted (stable ${stable})`);
      if (!this.bug['apply-uncommitted']) assert(last <= this.log.committed, () => `${this.id} would apply uncommitted entry ${last}`);
    }
  }

  advance(rd: Ready): void {
    if (!this.readyOutstanding) throw new AssertionError('advance() without an outstanding Ready');
    this.readyOutstanding = false;
    if (rd.snapshot !== null) this.log.snapshotPersisted(rd.snapshot.meta.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      this.log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    if (rd.hardState !== null) this.prevHard = rd.hardState;
    this.prevSoft = rd.softState;
    if (this.role === 'leader') {
      // The leader's own copy counts toward a quorum only once it is durable.
      const self = this.prs.get(this.id)!;
      if (self.maybeUpdate(this.log.stable) && this.maybeCommit()) this.bcastAppend(false);
    }
  }

  compact(index: LogIndex, data: Uint8Array): Snapshot {
    if (index > this.log.lastIndex() && this.anyBug) {
      // A planted bug (truncate-committed) dropped applied entries; compact what is left so
      // the driver's routine compaction does not crash the run before the checks see it.
      index = this.log.lastIndex() as LogIndex;
    }
    const term = this.log.termAt(index);
    if (term === null) throw new AssertionError(`compact(${index}): no entry at that index (first ${this.log.firstIndex()}, last ${this.log.lastIndex()})`);
    const snapshot: Snapshot = { meta: { index, term: term as Term, conf: this.conf }, data };
    this.log.compact(snapshot);
    return snapshot;
  }

  // ---------------------------------------------------------------- views

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term as Term,
      vote: this.vote,
      leader: this.lead,
      commit: this.log.committed as LogIndex,
      applied: this.log.applied as LogIndex,
      firstIndex: this.log.firstIndex() as LogIndex,
      lastIndex: this.log.lastIndex() as LogIndex,
      snapshotIndex: this.log.snapIndex as LogIndex,
      snapshotTerm: this.log.snapTerm as Term,
      quiesced: this.quiesced,
    };
  }

  termAt(index: LogIndex): Term | null {
    return this.log.termAt(index) as Term | null;
  }

  entries(lo: LogIndex, hi: LogIndex): readonly Entry[] {
    return this.log.slice(lo, hi);
  }
}

function unreachableMessage(m: never): never {
  throw new AssertionError(`unhandled message ${JSON.stringify(m)}`);
}

function validateConfig(c: RaftConfig): void {
  const positiveInt = (v: number, name: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new AssertionError(`RaftConfig.${name} must be an integer >= 1, got ${v}`);
  };
  positiveInt(c.electionTicks, 'electionTicks');
  positiveInt(c.heartbeatTicks, 'heartbeatTicks');
  positiveInt(c.maxInflightMsgs, 'maxInflightMsgs');
  positiveInt(c.maxEntriesBytesPerMsg, 'maxEntriesBytesPerMsg');
  if (!Number.isInteger(c.maxInflightBytes) || c.maxInflightBytes < 0) {
    throw new AssertionError(`RaftConfig.maxInflightBytes must be an integer >= 0 (0: unbounded), got ${c.maxInflightBytes}`);
  }
  if (c.heartbeatTicks >= c.electionTicks) {
    throw new AssertionError(`RaftConfig.heartbeatTicks (${c.heartbeatTicks}) must be below electionTicks (${c.electionTicks})`);
  }
  if (c.conf.voters.length === 0) throw new AssertionError('RaftConfig.conf.voters is empty');
  if (new Set(c.conf.voters).size !== c.conf.voters.length) throw new AssertionError('RaftConfig.conf.voters has duplicates');
}
