// The request/reply surface of a node, and the envelope its peers exchange. The real server
// (adapters/) and the simulator speak exactly these.
import type { Bugs } from '../bugs.js';
import type { Entry, Message, RaftGroup, Role } from '../raft/types.js';
import type { LogIndex, NodeId, PartitionId, Random, Term } from '../types.js';
import type { Value } from '../storage/encoding.js';
import type { SessionAnswer } from '../replica/sessions.js';
import type { NodeOp } from './command.js';

/** A client's request. (clientId, seq) names it uniquely; a client has one outstanding request. */
export interface ClientRequest {
  readonly clientId: number;
  readonly seq: number;
  readonly op: NodeOp;
}

export type ClientResult =
  /**
   * It happened. `value`: for reads the value seen (null: absent); for writes/cas/put the value
   * written; null for deletes. `revision`: the store revision of the key's last change (reads) or
   * of this write (0 for a delete of an absent key). `index`: the log index it applied at (for
   * reads: the index the read was served at). Values are core/storage `Value`s; the original ops
   * only ever see string | number | boolean.
   */
  | { readonly kind: 'ok'; readonly value: Value; readonly revision: number; readonly index: LogIndex; readonly partition: PartitionId }
  /** A condition (cas expected, put expected/expectedRevision/ifAbsent) did not hold: it certainly did not happen. */
  | { readonly kind: 'cas-failed'; readonly current: Value }
  /** The request is malformed or breaks a limit (a client's mistake, not retryable): it did not happen. */
  | { readonly kind: 'invalid'; readonly reason: string }
  /** This node could not take the request (no known leader, or the group refused it): it did not happen. Retryable. */
  | { readonly kind: 'unavailable'; readonly leaderHint: NodeId | null; readonly reason: string }
  /**
   * The request was routed to the partition's replicas but no answer came within the routing
   * bound (NodeConfig.routeTimeoutMs): a write MAY have applied (its outcome is unknown; retry
   * it with the same clientId and seq and it applies at most once). Retryable.
   */
  | { readonly kind: 'no-quorum'; readonly leaderHint: NodeId | null; readonly reason: string };

export interface ClientReply {
  readonly clientId: number;
  readonly seq: number;
  readonly result: ClientResult;
}

/**
 * What travels between nodes. Every variant names its sender and its destination at the top
 * level, so a transport routes it by `to` without looking inside.
 */
export type PeerMessage = RaftPeerMessage | ForwardRequest | ForwardReply | CoalescedHeartbeats | PeerBatch;

/** Any peer message but a batch (a batch never holds a batch). */
export type UnbatchedPeerMessage = RaftPeerMessage | ForwardRequest | ForwardReply | CoalescedHeartbeats;

/** One group's heartbeat (a Raft `heartbeat` without a read context), inside CoalescedHeartbeats. */
export type CoalescedBeat = readonly [partition: PartitionId, term: Term, commit: LogIndex, quiesce: boolean];
/** One group's answer to a heartbeat (a Raft `heartbeat-response` without a read context). */
export type CoalescedAck = readonly [partition: PartitionId, term: Term, quiesced: boolean];

/**
 * Sent once per heartbeat interval to every peer sharing a group with the sender, even when
 * empty: it carries the heartbeats (and answers to heartbeats) of all the groups the two share,
 * and is the node-level liveness signal quiescent groups rely on. The receiver steps each beat
 * and ack into its group exactly as the individual Raft message (same term and commit rules).
 */
export interface CoalescedHeartbeats {
  readonly kind: 'heartbeats';
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's incarnation (drawn at start): a new value tells the receiver its peer restarted. */
  readonly epoch: number;
  readonly beats: readonly CoalescedBeat[];
  readonly acks: readonly CoalescedAck[];
}

/** Everything one node call produced for the same peer, in order, as one message. */
export interface PeerBatch {
  readonly kind: 'batch';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly messages: readonly UnbatchedPeerMessage[];
}

/** One Raft message of one partition's group (`from`/`to` equal the message's own). */
export interface RaftPeerMessage {
  readonly kind: 'raft';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly partition: PartitionId;
  readonly message: Message;
}

/** A client request routed by its coordinator (`from`) to a replica of the partition (`to`). */
export interface ForwardRequest {
  readonly kind: 'forward';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly partition: PartitionId;
  /** Which routing attempt of the coordinator this is (1, 2, ...): refusals of older attempts are ignored. */
  readonly attempt: number;
  readonly request: ClientRequest;
}

/** The replica's answer to a ForwardRequest, back to its coordinator. */
export interface ForwardReply {
  readonly kind: 'forward-reply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly partition: PartitionId;
  readonly attempt: number;
  readonly clientId: number;
  readonly seq: number;
  readonly result: ClientResult;
}

/** Hooks for the simulator's checks and for status pages; a node works without them. */
export interface NodeObserver {
  /** Entries the node just made durable-or-written (before any message acknowledging them left). */
  persisted?(node: NodeId, partition: PartitionId, entries: readonly Entry[]): void;
  applied?(node: NodeId, partition: PartitionId, entry: Entry, result: SessionAnswer | null): void;
  roleChanged?(node: NodeId, partition: PartitionId, role: Role, term: Term, leader: NodeId | null, group: RaftGroup): void;
  /** The group's commit index changed (reported with the hard state that records it). */
  commitMoved?(node: NodeId, partition: PartitionId, commit: LogIndex): void;
}

export interface NodeConfig {
  readonly id: NodeId;
  /** Every node of the cluster, in cluster order (`cluster.nodes`). */
  readonly nodes: readonly NodeId[];
  /** Number of partitions (one Raft group each); keys are spread over them by hash (core/partition). */
  readonly partitions: number;
  /**
   * Replicas per partition (`cluster.replication_factor`). Default from the cluster size:
   * 1 node -> 1, 2-3 -> 2, 4+ -> 3. Above the node count it is a config error. The node hosts
   * the Raft groups of exactly the partitions whose replica set names it.
   */
  readonly replicationFactor?: number;
  /**
   * How long a coordinator keeps routing a request to a partition it does not host before it
   * answers `unavailable` (certainly not applied) or `no-quorum` (outcome unknown). Default 5000.
   */
  readonly routeTimeoutMs?: number;
  /** A routed attempt unanswered this long is retried at the next replica. Default: one election timeout. */
  readonly forwardRetryMs?: number;
  /** Client sessions untouched this long in log time are dropped. Default 10 minutes. */
  readonly sessionTtlMs?: number;
  /** Local-clock milliseconds per Raft tick. */
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Compact a group's log once this many applied entries sit above its last snapshot. */
  readonly compactAfterEntries: number;
  /** A request still unanswered after this long (local clock) is forgotten; its client timed out long ago. */
  readonly requestTimeoutMs: number;
  readonly random: Random;
  /** Raft options (defaults: pre-vote and check-quorum on, 64 messages / 1 MiB in flight, 64 KiB per append). */
  readonly raft?: Partial<RaftTuning>;
  readonly bugs?: Bugs;
  readonly observer?: NodeObserver;
  /**
   * Preferred-leader balancing: every this many local-clock ms, a leader that is not its
   * partition's preferred leader hands over to it when the preferred one holds the whole log
   * (a draining one refuses; that partition is then left alone for 5 rounds). Off when absent.
   */
  readonly balanceLeadersMs?: number;
}

export interface RaftTuning {
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly maxEntriesBytesPerMsg: number;
  /** Largest InstallSnapshot chunk in bytes (default 64 KiB). */
  readonly maxSnapshotChunkBytes?: number;
  /** Idle groups go quiet (default true); see docs/node.md. */
  readonly quiesce?: boolean;
}

export const DEFAULT_RAFT_TUNING: RaftTuning = {
  preVote: true,
  checkQuorum: true,
  maxInflightMsgs: 64,
  maxInflightBytes: 1 << 20,
  maxEntriesBytesPerMsg: 64 * 1024,
  maxSnapshotChunkBytes: 64 * 1024,
  quiesce: true,
};

export const DEFAULT_NODE_TUNING = {
  tickMs: 10,
  electionTicks: 15,
  heartbeatTicks: 3,
  compactAfterEntries: 500,
  requestTimeoutMs: 10_000,
  routeTimeoutMs: 5_000,
} as const;

/**
 * A node's operating state (issue 8's node operations). `active`: campaigns and leads as usual.
 * `draining`: hands every leadership it holds to another replica, does not campaign while
 * another replica could win (it still votes and replicates), so it can be restarted without
 * an election on its watch. Not persisted: a restarted node comes back `active`.
 */
export type NodeState = 'active' | 'draining';

/** The answer to ClusterNode.stepDown. `ok` means the transfer started (it completes within an election timeout or is abandoned). */
export type StepDownResult =
  | { readonly kind: 'ok'; readonly partition: PartitionId; readonly to: NodeId }
  /** This node does not lead the partition (or does not replicate it): ask `leaderHint`. */
  | { readonly kind: 'not-leader'; readonly partition: PartitionId; readonly leaderHint: NodeId | null; readonly reason: string }
  /** The request cannot be carried out as asked (bad partition, `to` not a replica, no other replica). */
  | { readonly kind: 'invalid'; readonly reason: string };

export interface DrainProgress {
  readonly state: NodeState;
  /** Partitions this node still leads, ascending. A finished drain has none. */
  readonly leaderships: readonly PartitionId[];
  /** Leadership transfers the drain has under way now. */
  readonly handoffs: number;
}
