// A seeded random source for the history generators, with the few draws they need.
// Same seed, same history: the generators never touch Math.random.
import seedrandom from 'seedrandom';

export class GenRandom {
  private readonly prng: () => number;

  constructor(seed: number | string) {
    // alea: fast, and good enough for drawing workloads (not for cryptography).
    this.prng = seedrandom.alea(String(seed));
  }

  /** A float in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** A float in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + (hi - lo) * this.prng();
  }

  /** An integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.prng() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.prng() < p;
  }

  /** An exponentially distributed delay with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.prng());
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.prng() * items.length)]!;
  }
}

/**
 * Draws an index in [0, n) with the given weights, by binary search over the cumulative
 * weights (O(log n) per draw, which matters for 50,000-op Zipf histories).
 */
export class WeightedChooser {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(weights: readonly number[]) {
    if (weights.length === 0) throw new RangeError('no weights to choose from');
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((w, i) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${i} is ${w}: weights must be finite and >= 0`);
      sum += w;
      this.cumulative[i] = sum;
    });
    if (sum <= 0) throw new RangeError('weights sum to 0: nothing can be chosen');
    this.total = sum;
  }

  choose(rng: GenRandom): number {
    const x = rng.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Zipf weights 1/(rank+1)^exponent for n items: item 0 is the hottest. */
export function zipfWeights(n: number, exponent: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(1 / Math.pow(i + 1, exponent));
  return out;
}
