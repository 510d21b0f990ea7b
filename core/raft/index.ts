// core/raft: one Raft group, sans-IO. See docs/raft.md.
export * from './types.js';
export { Raft } from './raft.js';
export { RaftLog, entrySizeBytes, ENTRY_OVERHEAD_BYTES } from './log.js';
export { Progress, type ProgressState } from './progress.js';
export { Inflights } from './inflights.js';
export { committedIndex, quorumSize, quorumActive, voteResult, type VoteResult } from './quorum.js';
export { ReadOnly, type PendingRead } from './read-only.js';
