// ReadIndex bookkeeping on the leader (Raft thesis §6.4, etcd's readOnly).
//
// A read request records the commit index at its arrival and gets a sequence number. The
// leader then sends heartbeats carrying the newest sequence number as context; a follower's
// heartbeat-response echoes it. Once a quorum (counting the leader) has answered a heartbeat
// sent after request s arrived, the leader was still leader when s arrived, so s and every
// earlier request may be served at its recorded index.
import type { NodeId } from '../types.js';
import { committedIndex } from './quorum.js';

export interface PendingRead {
  readonly seq: number;
  /** The commit index when the request arrived: the read is served once applied reaches it. */
  readonly index: number;
  /** The client's context, returned in the ReadState. */
  readonly context: string;
  /** Who asked: null for a local client, else the follower that forwarded it. */
  readonly from: NodeId | null;
}

export class ReadOnly {
  private queue: PendingRead[] = [];
  private head = 0;
  /** Per voter, the highest sequence number it has echoed in this term. */
  private readonly acked = new Map<NodeId, number>();
  private readonly scratch: number[] = [];
  private nextSeq = 1;

  /** Register a read; returns its sequence number, to send as the heartbeat context. */
  add(index: number, context: string, from: NodeId | null): number {
    const seq = this.nextSeq++;
    this.queue.push({ seq, index, context, from });
    return seq;
  }

  pendingCount(): number {
    return this.queue.length - this.head;
  }

  /** The newest pending sequence number (heartbeat context), or null. */
  lastSeq(): number | null {
    return this.pendingCount() > 0 ? this.queue[this.queue.length - 1]!.seq : null;
  }

  /**
   * A voter echoed `seq`. Returns the reads now confirmed by a quorum, oldest first.
   * `self` counts as having acknowledged everything.
   */
  recvAck(from: NodeId, seq: number, voters: readonly NodeId[], self: NodeId): PendingRead[] {
    if (this.pendingCount() === 0) return [];
    const prev = this.acked.get(from) ?? 0;
    if (seq <= prev) return [];
    this.acked.set(from, seq);
    const top = Infinity;
    const confirmed = committedIndex(voters, (id) => (id === self ? top : (this.acked.get(id) ?? 0)), this.scratch);
    const out: PendingRead[] = [];
    while (this.head < this.queue.length && this.queue[this.head]!.seq <= confirmed) {
      out.push(this.queue[this.head]!);
      this.head++;
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return out;
  }

  /** A term change: pending reads are abandoned (their clients retry). */
  reset(): void {
    this.queue = [];
    this.head = 0;
    this.acked.clear();
  }
}
