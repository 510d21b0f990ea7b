// Lowe's memo for the searches: the set of (linearized-set, state) configurations already
// explored. Sets live in one growing Uint32Array pool and entries are chained by index, so
// an entry costs its set plus 8 bytes and a map slot, not a typed-array object each.
// Bounded: past `maxWords` it stops recording, which costs time, never a wrong answer.

export class MemoTable {
  private pool: Uint32Array;
  private states: Int32Array;
  private nexts: Int32Array;
  private count = 0;
  private readonly heads = new Map<number, number>();
  private readonly maxEntries: number;

  constructor(
    private readonly words: number,
    maxWords: number,
  ) {
    // Per entry: the set, plus state and chain link, plus about 8 words of map slot.
    this.maxEntries = Math.max(1, Math.floor(maxWords / (words + 10)));
    const initial = Math.min(this.maxEntries, 1024);
    this.pool = new Uint32Array(initial * words);
    this.states = new Int32Array(initial);
    this.nexts = new Int32Array(initial);
  }

  get size(): number {
    return this.count;
  }

  /** Records (set, state) under `hash` and says whether it was new. */
  addIfFresh(hash: number, state: number, set: Uint32Array): boolean {
    const words = this.words;
    for (let e = this.heads.get(hash) ?? -1; e !== -1; e = this.nexts[e] as number) {
      if (this.states[e] !== state) continue;
      const base = e * words;
      let same = true;
      for (let w = 0; w < words; w++) {
        if (this.pool[base + w] !== set[w]) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
    if (this.count >= this.maxEntries) return true;
    if (this.count === this.states.length) this.grow();
    const e = this.count++;
    this.pool.set(set, e * words);
    this.states[e] = state;
    this.nexts[e] = this.heads.get(hash) ?? -1;
    this.heads.set(hash, e);
    return true;
  }

  private grow(): void {
    const cap = Math.min(this.maxEntries, this.states.length * 2);
    const pool = new Uint32Array(cap * this.words);
    pool.set(this.pool);
    this.pool = pool;
    const states = new Int32Array(cap);
    states.set(this.states);
    this.states = states;
    const nexts = new Int32Array(cap);
    nexts.set(this.nexts);
    this.nexts = nexts;
  }
}
