// The storage port a node persists through. The simulator's disk implements it (sim/disk.ts),
// LMDB will later. Calls are synchronous: when save() returns with `sync: true`, the write is
// durable (the fsync barrier the Ready contract demands before messages may leave).
import type { Entry, HardState, PersistedState, Snapshot } from '../raft/types.js';
import type { PartitionId } from '../types.js';

export interface SaveRequest {
  readonly partition: PartitionId;
  /**
   * A snapshot received from the leader (Ready.snapshot), persisted first. Raft installs it
   * by discarding its whole log, so it replaces every stored entry, above its index too;
   * the entries that follow it arrive in this or later saves.
   */
  readonly snapshot: Snapshot | null;
  /** Appended next; an entry at index i replaces every stored entry at >= i. */
  readonly entries: readonly Entry[];
  /** Written last, when non-null. */
  readonly hardState: HardState | null;
  /** Make everything written so far durable before returning. */
  readonly sync: boolean;
}

export type LoadResult =
  | { readonly kind: 'ok'; readonly groups: ReadonlyMap<PartitionId, PersistedState> }
  /** The storage found damage it cannot repair: the node must not start from it. */
  | { readonly kind: 'damaged'; readonly reason: string };

export interface StoragePort {
  /** Everything durable (after repairing a torn unsynced tail, if the medium can tell). */
  load(): LoadResult;
  save(request: SaveRequest): void;
  /**
   * A snapshot taken locally of the applied state at `snapshot.meta.index`: persist it
   * durably (it is synced when this returns); log entries up to that index may then be
   * dropped from the medium, and entries above it stay.
   */
  compact(partition: PartitionId, snapshot: Snapshot): void;
}
