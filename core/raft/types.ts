// The public contract of one Raft group, sans-IO (modelled on etcd-io/raft's Ready loop).
//
// The driver (sim/ or adapters/) owns time, the network and the disk:
//   1. it calls tick() every `tickMs` of its clock, step(msg) for each message that arrives,
//      propose()/readIndex()/transferLeader() for client work;
//   2. while hasReady(), it takes ready() and MUST, in this order:
//      a. persist `snapshot` (if any), then `entries` (an entry at index i replaces every
//         entry at >= i), then `hardState` (if non-null) — and fsync them when `mustSync`;
//      b. only then send `messages` (the persistence contract: a vote or term is never
//         answered, and an append never acknowledged, before it is durable);
//      c. apply `snapshot` to the state machine (if any), then `committedEntries` in order,
//         and hand `readStates` to waiting readers once the applied index reaches their index;
//      d. call advance(ready).
// On restart the driver constructs a new Raft from exactly what it persisted (PersistedState);
// nothing else survives.
import type { Bugs } from '../bugs.js';
import type { LogIndex, NodeId, Random, Term } from '../types.js';

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export type EntryKind = 'normal' | 'noop' | 'config';

export interface Entry {
  readonly term: Term;
  readonly index: LogIndex;
  readonly kind: EntryKind;
  /** Opaque command bytes for the state machine (empty for `noop`). */
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: Term;
  readonly vote: NodeId | null;
  readonly commit: LogIndex;
}

/**
 * The voting configuration, as a value. Membership is fixed for now; joint consensus will add
 * `outgoing` voters (both majorities needed) without changing who reads this.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
}

export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The state machine's bytes at `meta.index` (the state machine checksums them). */
  readonly data: Uint8Array;
}

/** What the driver persisted, handed back on restart. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous, in index order. */
  readonly entries: readonly Entry[];
}

export const EMPTY_PERSISTED_STATE: PersistedState = {
  hardState: { term: 0 as Term, vote: null, commit: 0 as LogIndex },
  snapshot: null,
  entries: [],
};

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

export type Message =
  /** A (pre-)vote request. A pre-vote carries the term the candidate *would* use and changes no state. */
  | (MessageBase & { readonly type: 'vote'; readonly preVote: boolean; readonly lastLogIndex: LogIndex; readonly lastLogTerm: Term; readonly transfer: boolean })
  | (MessageBase & { readonly type: 'vote-response'; readonly preVote: boolean; readonly granted: boolean })
  | (MessageBase & {
      readonly type: 'append';
      readonly prevIndex: LogIndex;
      readonly prevTerm: Term;
      readonly entries: readonly Entry[];
      readonly commit: LogIndex;
    })
  | (MessageBase & {
      readonly type: 'append-response';
      /** On success: the highest index now matching the leader. On reject: the prevIndex that was rejected. */
      readonly index: LogIndex;
      readonly reject: boolean;
      /** On reject (fast backtracking): the follower's last index and the term at the hint. */
      readonly hintIndex: LogIndex;
      readonly hintTerm: Term;
    })
  /**
   * `quiesce` (optional, default false): the leader has nothing in flight and asks the follower
   * to go quiet if its log ends at `commit` (see docs/node.md, quiescence).
   */
  | (MessageBase & { readonly type: 'heartbeat'; readonly commit: LogIndex; readonly context: string | null; readonly quiesce?: boolean })
  /** `quiesced`: the follower went quiet on this heartbeat's `quiesce` request. */
  | (MessageBase & { readonly type: 'heartbeat-response'; readonly context: string | null; readonly quiesced?: boolean })
  /**
   * One chunk of a snapshot: bytes [offset, offset + data.length) of the snapshot's data, whose
   * full length is `totalBytes`. The follower reassembles the chunks in order and installs the
   * snapshot with the last one; it answers every other chunk with a snapshot-ack.
   */
  | (MessageBase & { readonly type: 'snapshot'; readonly meta: SnapshotMeta; readonly offset: number; readonly totalBytes: number; readonly data: Uint8Array })
  /** The follower holds the first `offset` bytes of the snapshot at `index`: send from there. */
  | (MessageBase & { readonly type: 'snapshot-ack'; readonly index: LogIndex; readonly offset: number })
  /** Leader transfer: the target should start an election at once (skipping pre-vote). */
  | (MessageBase & { readonly type: 'timeout-now' })
  /** A follower forwarding client proposals to its leader. */
  | (MessageBase & { readonly type: 'propose'; readonly data: readonly Uint8Array[] })
  /** A follower forwarding a ReadIndex request to its leader, and the leader's answer. */
  | (MessageBase & { readonly type: 'read-index'; readonly context: string })
  | (MessageBase & { readonly type: 'read-index-response'; readonly context: string; readonly index: LogIndex });

export type MessageType = Message['type'];

/** A linearizable read may be served once the local applied index reaches `index`. */
export interface ReadState {
  readonly index: LogIndex;
  readonly context: string;
}

export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

export interface Ready {
  readonly softState: SoftState;
  /** Non-null when term, vote or commit changed since the last Ready. */
  readonly hardState: HardState | null;
  /** Entries to append to the durable log. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to persist and install. */
  readonly snapshot: Snapshot | null;
  /** Whether hardState/entries must be fsynced before `messages` may be sent. */
  readonly mustSync: boolean;
  readonly messages: readonly Message[];
  /** Committed entries to apply, in order. Only entries already persisted locally appear here. */
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
}

export interface RaftConfig {
  readonly id: NodeId;
  /** Used only when the persisted state holds no snapshot (a fresh group). */
  readonly conf: ConfState;
  /** Election timeout is drawn uniformly from [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Limits on what one follower may have outstanding (etcd's inflight window). */
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly maxEntriesBytesPerMsg: number;
  readonly random: Random;
  readonly bugs?: Bugs;
  /**
   * (Added.) The index the driver's state machine has already applied, when it keeps its own
   * durable state (e.g. LMDB) rather than rebuilding from the snapshot. committedEntries then
   * start after it. Default: the snapshot index (the state machine restarts from the snapshot).
   */
  readonly applied?: LogIndex;
  /** (Added.) Largest snapshot chunk sent in one message, in bytes. Default 64 KiB. */
  readonly maxSnapshotChunkBytes?: number;
  /**
   * (Added.) Quiescence: a leader with nothing in flight whose followers are all caught up and
   * live (`peerLive`, the driver's node-level liveness) stops heartbeating; its followers stop
   * their election timers. Any message, proposal or read wakes the group. Default off.
   */
  readonly quiesce?: boolean;
  /** Whether the driver has heard from `id`'s node within an election timeout (quiescence only). */
  readonly peerLive?: (id: NodeId) => boolean;
}

export type ProposeResult =
  | { readonly kind: 'proposed'; readonly index: LogIndex; readonly term: Term }
  | { readonly kind: 'forwarded'; readonly to: NodeId }
  | { readonly kind: 'dropped'; readonly reason: 'no-leader' | 'transferring' | 'too-large' };

/** A read-only view for the simulator's checks and for status endpoints. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  /** First index still held in the log (snapshot index + 1). */
  readonly firstIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly snapshotTerm: Term;
  /** The group is quiescent: ticks do nothing until a message, proposal, read or wake(). */
  readonly quiesced: boolean;
}

export interface RaftGroup {
  tick(): void;
  step(message: Message): void;
  propose(data: Uint8Array): ProposeResult;
  /** Ask for a linearizable read point; its ReadState (same `context`) appears in a later Ready. */
  readIndex(context: string): void;
  transferLeader(to: NodeId): void;
  /**
   * Wake a quiescent group (no-op otherwise). `leaderDown`: the driver has heard nothing from
   * the leader's node for an election timeout, so the follower's lease on it is over and its
   * election timer runs out within one more randomized timeout.
   */
  wake(leaderDown: boolean): void;
  /** Whether the group is quiescent (cheaper than status().quiesced). */
  isQuiesced(): boolean;
  /** The commit index (cheaper than status().commit, for per-event checks). */
  commitIndex(): LogIndex;
  /**
   * The last commit this node made as leader, with its term (zeros before any): for checks that
   * must see a leader's commit even when it stepped down within the same call.
   */
  leaderCommitMark(): { readonly term: Term; readonly commit: LogIndex };
  /** A draining node's replica: obeys no TimeoutNow, campaigns only after a long silence (raft.ts). */
  setPassive(passive: boolean): void;
  /** Leader only: the highest index known replicated on voter `id`; null otherwise. */
  matchOf(id: NodeId): LogIndex | null;
  /** Leader only: the voter a leadership transfer is under way to, if any. */
  transferee(): NodeId | null;
  hasReady(): boolean;
  ready(): Ready;
  advance(ready: Ready): void;
  /**
   * Compact the log: the state machine's bytes at `index` (<= applied) become the snapshot and
   * log entries up to `index` are dropped from memory. The driver persists the returned snapshot
   * and may then drop the same entries from disk.
   */
  compact(index: LogIndex, data: Uint8Array): Snapshot;
  status(): RaftStatus;
  /** The term of the entry at `index`, or null when it is compacted or beyond the log. */
  termAt(index: LogIndex): Term | null;
  /** Entries in [lo, hi) that are still in memory (for checks and tests). */
  entries(lo: LogIndex, hi: LogIndex): readonly Entry[];
}
