// A binary min-heap of timed events over the virtual clock. Ties on time are broken by
// insertion order (a monotonically increasing sequence number), so the order of events is a
// pure function of the order they were scheduled in.

export interface Timed<E> {
  readonly atMs: number;
  readonly seq: number;
  readonly event: E;
}

export class EventQueue<E> {
  private heap: Timed<E>[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, event: E): void {
    if (!Number.isFinite(atMs)) throw new Error(`EventQueue: non-finite time ${atMs}`);
    const item: Timed<E> = { atMs, seq: this.nextSeq++, event };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  peekTime(): number | null {
    return this.heap[0]?.atMs ?? null;
  }

  pop(): Timed<E> | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less<E>(a: Timed<E>, b: Timed<E>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
