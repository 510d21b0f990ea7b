// Each seed also draws the cluster's configuration (swarm testing over configuration, not only
// faults): election and heartbeat timing, pre-vote and check-quorum, flow-control windows,
// message sizes, compaction threshold, and the workload's shape. Every drawn value is a valid
// production setting; bugs that only show under some settings get their chance.
import { DEFAULT_NODE_TUNING, DEFAULT_RAFT_TUNING, type RaftTuning } from '../core/node/types.js';
import type { Rng } from './rng.js';
import { DEFAULT_WORKLOAD, type WorkloadConfig } from './workload.js';

export interface ClusterTuning {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly compactAfterEntries: number;
  readonly raft: RaftTuning;
  readonly workload: WorkloadConfig;
}

export const DEFAULT_TUNING: ClusterTuning = {
  tickMs: DEFAULT_NODE_TUNING.tickMs,
  electionTicks: DEFAULT_NODE_TUNING.electionTicks,
  heartbeatTicks: DEFAULT_NODE_TUNING.heartbeatTicks,
  compactAfterEntries: DEFAULT_NODE_TUNING.compactAfterEntries,
  raft: DEFAULT_RAFT_TUNING,
  workload: DEFAULT_WORKLOAD,
};

export function drawTuning(rng: Rng): ClusterTuning {
  const electionTicks = rng.pick([6, 10, 15, 20]);
  const t = {
    tickMs: 10,
    electionTicks,
    heartbeatTicks: rng.int(1, Math.max(1, Math.floor(electionTicks / 3))),
    compactAfterEntries: rng.pick([40, 150, 500, 2000]),
    raft: {
      preVote: rng.chance(0.7),
      // Off by default in etcd; without it a deposed leader keeps leading until it hears a newer term.
      checkQuorum: rng.chance(0.65),
      maxInflightMsgs: rng.pick([1, 4, 64, 256]),
      maxInflightBytes: 1 << 20,
      // 72 bytes: about one command per append (commands are under 48 bytes), so a new leader's
      // old entries and its noop travel in separate messages.
      maxEntriesBytesPerMsg: rng.chance(0.3) ? 72 : 64 * 1024,
    },
    workload: {
      clients: rng.pick([3, 5, 8, 12, 20, 30]),
      keys: rng.int(1, 8),
      opsPerSec: Math.exp(rng.range(Math.log(40), Math.log(400))),
      timeoutMs: rng.pick([500, 1000, 1500, 3000]),
      readRatio: rng.range(0.2, 0.7),
    },
  };
  // Drawn last so the draws above are unchanged. The simulated stores' snapshots are a few KiB:
  // small chunks make InstallSnapshot travel (and get lost, duplicated, reordered) in pieces.
  return { ...t, raft: { ...t.raft, maxSnapshotChunkBytes: rng.pick([256, 1024, 64 * 1024]) } };
}
