// The trace: a canonical stream of what happened. Every record is folded into a cheap 2x32-bit
// running hash (so hashing costs almost nothing on the hot path); the final traceHash is the
// SHA-256 of that state and the record count. Readable lines are built only when a trace file
// was asked for. Wall time never enters.
import { createHash } from 'node:crypto';

export class Trace {
  private h1 = 0x9e3779b9;
  private h2 = 0x85ebca6b;
  private count = 0;
  readonly lines: string[] | null;

  constructor(keepLines: boolean) {
    this.lines = keepLines ? [] : null;
  }

  get records(): number {
    return this.count;
  }

  /** Fold one record: virtual time, a kind code and up to three integers; `text` is built only for trace files. */
  record(atMs: number, kind: number, a: number, b: number, c: number, text?: () => string): void {
    this.count++;
    this.mix(Math.round(atMs * 1000));
    this.mix(kind);
    this.mix(a);
    this.mix(b);
    this.mix(c);
    if (this.lines !== null && text !== undefined) this.lines.push(`${formatMs(atMs)} ${text()}`);
  }

  /** Fold a string (rare records: faults, violations). */
  mixText(s: string): void {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }

  private mix(x: number): void {
    const v = x | 0;
    this.h1 = Math.imul(this.h1 ^ v, 0x01000193) ^ (this.h2 >>> 15);
    this.h2 = Math.imul(this.h2 + v, 0x5bd1e995) ^ (this.h1 >>> 13);
  }

  hash(): string {
    return createHash('sha256').update(`${this.h1 >>> 0}:${this.h2 >>> 0}:${this.count}`).digest('hex');
  }
}

export function formatMs(ms: number): string {
  return `${ms.toFixed(3).padStart(11)}ms`;
}
