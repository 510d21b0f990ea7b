// The in-memory Raft log after the snapshot, and what of it is durable.
//
//   (snapshot] [ entries ............................................ ]
//   snapIndex  firstIndex ... applied <= commit ... stable ... lastIndex
//
// `stable` is the highest index the driver has persisted (advanced by advance()); entries in
// (stable, lastIndex] are "unstable": handed to the driver in the next Ready. An entry may be
// applied only once it is both committed and stable. A snapshot received from a leader is
// "pending" until the driver persists it.
import { assert, AssertionError } from '../types.js';
import type { Entry, Snapshot } from './types.js';

/** Bytes an entry counts for in message and inflight limits (data plus a fixed header). */
export const ENTRY_OVERHEAD_BYTES = 24;
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

export class RaftLog {
  /** Index and term of the last entry covered by the snapshot (0, 0 for none). */
  snapIndex: number;
  snapTerm: number;
  /** The newest snapshot this node holds (to send to followers behind firstIndex). */
  snapshot: Snapshot | null;
  /** A snapshot from the leader not yet persisted by the driver. */
  pendingSnapshot: Snapshot | null = null;
  /** entries[k] is the entry at index snapIndex + 1 + k. */
  private ents: Entry[];
  stable: number;
  committed: number;
  applied: number;

  constructor(snapshot: Snapshot | null, entries: readonly Entry[], commit: number) {
    this.snapshot = snapshot;
    this.snapIndex = snapshot ? snapshot.meta.index : 0;
    this.snapTerm = snapshot ? snapshot.meta.term : 0;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      if (e.index !== this.snapIndex + 1 + k) {
        throw new AssertionError(`persisted entries are not contiguous after the snapshot: expected index ${this.snapIndex + 1 + k}, got ${e.index}`);
      }
      const prevTerm = k === 0 ? this.snapTerm : entries[k - 1]!.term;
      if (e.term < prevTerm) throw new AssertionError(`persisted entry ${e.index} has term ${e.term} below its predecessor's ${prevTerm}`);
    }
    this.ents = entries.slice();
    this.stable = this.lastIndex();
    this.committed = Math.max(commit, this.snapIndex);
    // The state machine restarts from the snapshot: everything after it is applied again.
    this.applied = this.snapIndex;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.ents.length;
  }

  lastTerm(): number {
    const n = this.ents.length;
    return n === 0 ? this.snapTerm : this.ents[n - 1]!.term;
  }

  /** The term at `index`, or null when compacted (below the snapshot) or beyond the log. */
  termAt(index: number): number | null {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex) return null;
    const e = this.ents[index - this.snapIndex - 1];
    return e === undefined ? null : e.term;
  }

  entryAt(index: number): Entry | undefined {
    return index > this.snapIndex ? this.ents[index - this.snapIndex - 1] : undefined;
  }

  matchTerm(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  /** §5.4.1: is a candidate's log (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The first entry of `entries` (contiguous) that is absent here or differs in term; 0 when
   * all are already present. Cost is the length of `entries`, not of the log.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (this.termAt(e.index) !== e.term) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`, with its term.
   * Any entry above it has a larger term than `term` and so cannot match a log whose entry at
   * `index` has term `term`. When the search reaches compacted entries, returns the snapshot.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapIndex; i--) {
      const t = this.ents[i - this.snapIndex - 1]!.term;
      if (t <= term) return [i, t];
    }
    if (i === this.snapIndex && this.snapTerm <= term) return [i, this.snapTerm];
    return [i, 0];
  }

  /**
   * Append `entries` (contiguous, first index <= lastIndex + 1), replacing any suffix they
   * conflict with. Truncating committed entries is a safety bug and throws.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    assert(first > this.snapIndex, () => `append at ${first} into the snapshot (snapIndex ${this.snapIndex})`);
    assert(first <= this.lastIndex() + 1, () => `append at ${first} leaves a gap after ${this.lastIndex()}`);
    if (first <= this.lastIndex()) {
      assert(first > this.committed, () => `truncating committed entries: append at ${first} with commit ${this.committed}`);
      this.ents.length = first - this.snapIndex - 1;
      if (this.stable >= first) this.stable = first - 1;
    }
    for (const e of entries) this.ents.push(e);
  }

  /**
   * Only for the planted bug truncate-committed: drop everything after `prevIndex` and append
   * `entries`, with no regard for what was committed or applied.
   */
  replaceAfter(prevIndex: number, entries: readonly Entry[]): void {
    assert(prevIndex >= this.snapIndex && prevIndex <= this.lastIndex(), () => `replaceAfter(${prevIndex}) outside the log`);
    this.ents.length = prevIndex - this.snapIndex;
    if (this.stable > prevIndex) this.stable = prevIndex;
    for (const e of entries) this.ents.push(e);
  }

  /**
   * Entries in [lo, hi), stopping early once `maxBytes` would be exceeded (at least one entry
   * is returned when any is available). Range is clamped to what is held in memory.
   */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] {
    const from = Math.max(lo, this.firstIndex());
    const to = Math.min(hi, this.lastIndex() + 1);
    if (from >= to) return [];
    const base = this.snapIndex + 1;
    if (maxBytes === Infinity) return this.ents.slice(from - base, to - base);
    let bytes = 0;
    let end = from;
    while (end < to) {
      const size = entrySizeBytes(this.ents[end - base]!);
      if (end > from && bytes + size > maxBytes) break;
      bytes += size;
      end++;
    }
    return this.ents.slice(from - base, end - base);
  }

  hasUnstable(): boolean {
    return this.lastIndex() > this.stable;
  }

  unstableEntries(): Entry[] {
    return this.slice(this.stable + 1, this.lastIndex() + 1);
  }

  /** The driver persisted entries up to (index, term); ignored when that entry was replaced since. */
  stableTo(index: number, term: number): void {
    if (index > this.stable && this.termAt(index) === term) this.stable = index;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), () => `commit ${index} beyond the last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Highest index that may be applied: committed and stable (or just stable, for the bug). */
  private applyLimit(applyUncommitted: boolean): number {
    if (this.pendingSnapshot !== null) return this.applied; // apply the snapshot first
    return applyUncommitted ? this.stable : Math.min(this.committed, this.stable);
  }

  hasNextCommitted(applyUncommitted: boolean): boolean {
    return this.applyLimit(applyUncommitted) > this.applied;
  }

  nextCommitted(applyUncommitted: boolean): Entry[] {
    const hi = this.applyLimit(applyUncommitted);
    return hi > this.applied ? this.slice(this.applied + 1, hi + 1) : [];
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
  }

  /** Replace everything with a snapshot from the leader (the log did not contain it). */
  restore(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.pendingSnapshot = snapshot;
    this.snapIndex = snapshot.meta.index;
    this.snapTerm = snapshot.meta.term;
    this.ents = [];
    this.stable = Math.min(this.stable, snapshot.meta.index);
    this.committed = snapshot.meta.index;
  }

  /** The driver persisted the pending snapshot (and applied it to its state machine). */
  snapshotPersisted(index: number): void {
    if (this.pendingSnapshot === null || this.pendingSnapshot.meta.index !== index) return;
    this.pendingSnapshot = null;
    if (this.stable < index) this.stable = index;
    this.appliedTo(index);
  }

  /** Drop entries up to `snapshot.meta.index` (already applied) in favour of the snapshot. */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    assert(index > this.snapIndex, () => `compact(${index}): already compacted to ${this.snapIndex}`);
    assert(index <= this.applied, () => `compact(${index}): beyond the applied index ${this.applied}`);
    assert(index <= this.stable, () => `compact(${index}): beyond the stable index ${this.stable}`);
    this.ents.splice(0, index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = snapshot.meta.term;
    this.snapshot = snapshot;
  }
}

