// The simulator's randomness: every stream is derived from the run's one seed and a label, so
// the fault schedule, the network, the workload and each node's Raft draw from independent,
// reproducible sequences (changing the workload does not move the faults).
import seedrandom from 'seedrandom';
import type { Random } from '../core/types.js';

export class Rng implements Random {
  private readonly prng: () => number;

  constructor(readonly seedText: string) {
    this.prng = seedrandom.alea(seedText);
  }

  /** An independent stream for `label`. */
  fork(label: string): Rng {
    return new Rng(`${this.seedText}/${label}`);
  }

  next(): number {
    return this.prng();
  }

  /** Integer in [lo, hi], inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.prng() * (hi - lo + 1));
  }

  /** Float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + this.prng() * (hi - lo);
  }

  chance(p: number): boolean {
    return p > 0 && this.prng() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list');
    return items[Math.floor(this.prng() * items.length)]!;
  }

  /** Exponentially distributed with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.prng());
  }

  /** A random subset of exactly k items, in their original order. */
  subset<T>(items: readonly T[], k: number): T[] {
    const idx = items.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(this.prng() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx
      .slice(0, k)
      .sort((a, b) => a - b)
      .map((i) => items[i]!);
  }
}
