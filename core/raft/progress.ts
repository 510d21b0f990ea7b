// What the leader knows about one follower's log, and how it may send to it (etcd's Progress).
//
//   probe      we do not know where the follower's log ends: send one append at a time
//              (paused after each until an answer or a heartbeat response), backtracking.
//   replicate  the follower is known to match up to `match`: stream appends optimistically
//              (`next` runs ahead of `match`), bounded by the inflight window.
//   snapshot   the entries the follower needs are compacted: one snapshot is in flight;
//              nothing else is sent until it is acknowledged or times out.
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** Highest index known to match the leader's log. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: an append is outstanding, wait for its answer (or a heartbeat response). */
  probeSent = false;
  /** Snapshot state: the index of the snapshot in flight. */
  pendingSnapshot = 0;
  /** Ticks spent in snapshot state; the leader gives up and re-probes after an election timeout. */
  snapshotTicks = 0;
  /** Snapshot state: the end of the furthest chunk sent (an ack below it is a duplicate, ignored). */
  snapshotSent = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    // After a snapshot the follower holds at least the snapshot, so probe just past it.
    if (this.state === 'snapshot') this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    else this.next = this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.state = 'replicate';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.pendingSnapshot = snapshotIndex;
    this.snapshotTicks = 0;
    this.snapshotSent = 0;
    this.inflights.reset();
  }

  /** An append was acknowledged up to `index`. Returns false when it told us nothing new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /**
   * An append with prevIndex `rejected` was refused; `probeHint` is where the leader thinks
   * the logs may agree (from the follower's hint). Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, probeHint: number): boolean {
    switch (this.state) {
      case 'replicate':
        // A rejection at or below match answers an older message: ignore it.
        if (rejected <= this.match) return false;
        this.next = this.match + 1;
        return true;
      case 'probe':
        // Only the answer to the probe we are waiting on counts.
        if (this.next - 1 !== rejected) return false;
        this.next = Math.max(Math.min(rejected, probeHint + 1), this.match + 1);
        this.probeSent = false;
        return true;
      case 'snapshot':
        return false;
    }
  }

  /** May the leader send an append now? */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Book-keeping after sending an append whose entries end at `lastIndex` (count entries, `bytes`). */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    switch (this.state) {
      case 'replicate':
        if (count > 0) {
          this.next = lastIndex + 1;
          this.inflights.add(lastIndex, bytes);
        }
        break;
      case 'probe':
        this.probeSent = true;
        break;
      case 'snapshot':
        break;
    }
  }
}
