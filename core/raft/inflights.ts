// The bounded window of append messages a leader has in flight to one follower, by count
// and by bytes (etcd's Inflights). A ring buffer of (last index, bytes) per message, freed
// from the front as acknowledgements arrive, so memory is bounded by construction.
import { assert } from '../types.js';

export class Inflights {
  private readonly lastIndexes: number[];
  private readonly sizes: number[];
  private start = 0;
  private countMsgs = 0;
  private totalBytes = 0;

  constructor(
    readonly maxMsgs: number,
    /** 0 means no byte bound. */
    readonly maxBytes: number,
  ) {
    assert(Number.isInteger(maxMsgs) && maxMsgs >= 1, `maxInflightMsgs must be an integer >= 1, got ${maxMsgs}`);
    assert(Number.isInteger(maxBytes) && maxBytes >= 0, `maxInflightBytes must be an integer >= 0, got ${maxBytes}`);
    this.lastIndexes = new Array<number>(maxMsgs).fill(0);
    this.sizes = new Array<number>(maxMsgs).fill(0);
  }

  get count(): number {
    return this.countMsgs;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** No more messages may be sent until some are acknowledged. */
  full(): boolean {
    return this.countMsgs >= this.maxMsgs || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  /** Record a sent message whose last entry is `lastIndex` (indexes must increase). */
  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights: add to a full window');
    if (this.countMsgs > 0) {
      const prev = this.lastIndexes[(this.start + this.countMsgs - 1) % this.maxMsgs]!;
      assert(lastIndex > prev, () => `inflights: index ${lastIndex} not after ${prev}`);
    }
    const slot = (this.start + this.countMsgs) % this.maxMsgs;
    this.lastIndexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.countMsgs++;
    this.totalBytes += bytes;
  }

  /** Free every message whose last entry is <= `index` (acknowledged). */
  freeLE(index: number): void {
    while (this.countMsgs > 0 && this.lastIndexes[this.start]! <= index) {
      this.totalBytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxMsgs;
      this.countMsgs--;
    }
    if (this.countMsgs === 0) this.start = 0;
  }

  /** Free the oldest message (a heartbeat answered while full: the window may have leaked). */
  freeFirstOne(): void {
    if (this.countMsgs === 0) return;
    this.freeLE(this.lastIndexes[this.start]!);
  }

  reset(): void {
    this.start = 0;
    this.countMsgs = 0;
    this.totalBytes = 0;
  }
}
