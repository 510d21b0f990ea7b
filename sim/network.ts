// The simulated network between endpoints (nodes first, then client machines). Each directed
// link has its own latency distribution (a base drawn per link, plus an exponential tail).
// Faults act at send time: cut links drop, loss drops, duplication sends a second copy,
// reordering delays some messages past later ones. Without reordering a link is FIFO.
// Links between a client and a node behave like one TCP connection: they lose messages (the
// client times out) but never duplicate or reorder them — a duplicated request would be a
// second request the client never made.
import type { Rng } from './rng.js';

export interface NetworkStats {
  sent: number;
  delivered: number;
  droppedCut: number;
  droppedLoss: number;
  duplicated: number;
  delayed: number;
}

interface Weather {
  readonly id: number;
  readonly rate: number;
  readonly maxDelayMs: number;
}

export class Network {
  private readonly baseMs: Float64Array;
  private readonly lastArrival: Float64Array;
  /** cut[from * n + to] > 0: the link is cut (a count, since partitions may overlap). */
  private readonly cut: Int32Array;
  private readonly loss: Weather[] = [];
  private readonly dup: Weather[] = [];
  private readonly reorder: Weather[] = [];
  readonly stats: NetworkStats = { sent: 0, delivered: 0, droppedCut: 0, droppedLoss: 0, duplicated: 0, delayed: 0 };

  constructor(
    private readonly rng: Rng,
    private readonly endpoints: number,
    /** Endpoints below this index are nodes; partitions cut only node-to-node links. */
    readonly nodes: number,
  ) {
    const n = endpoints;
    this.baseMs = new Float64Array(n * n);
    this.lastArrival = new Float64Array(n * n);
    this.cut = new Int32Array(n * n);
    const spread = rng.range(0.5, 8);
    for (let i = 0; i < n * n; i++) this.baseMs[i] = 0.2 + rng.range(0, spread);
  }

  /** Arrival times of the copies of one message sent now (empty: it is lost). */
  send(nowMs: number, from: number, to: number): number[] {
    this.stats.sent++;
    const link = from * this.endpoints + to;
    if (this.cut[link]! > 0) {
      this.stats.droppedCut++;
      return [];
    }
    const lossRate = maxRate(this.loss);
    if (lossRate > 0 && this.rng.chance(lossRate)) {
      this.stats.droppedLoss++;
      return [];
    }
    const clientLink = from >= this.nodes || to >= this.nodes;
    const copies = !clientLink && this.rng.chance(maxRate(this.dup)) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const out: number[] = [];
    const reorder = !clientLink && this.reorder.length > 0 ? this.reorder.reduce((a, w) => (w.rate > a.rate ? w : a)) : null;
    for (let c = 0; c < copies; c++) {
      const base = this.baseMs[link]!;
      let at = nowMs + base + this.rng.exp(base * 0.3 + 0.1);
      if (reorder !== null && this.rng.chance(reorder.rate)) {
        at += this.rng.range(0, reorder.maxDelayMs);
        this.stats.delayed++;
      } else if (reorder === null) {
        at = Math.max(at, this.lastArrival[link]!);
      }
      if (at > this.lastArrival[link]!) this.lastArrival[link] = at;
      out.push(at);
    }
    return out;
  }

  cutLink(from: number, to: number): void {
    this.cut[from * this.endpoints + to]!++;
  }

  healLink(from: number, to: number): void {
    const i = from * this.endpoints + to;
    if (this.cut[i]! > 0) this.cut[i]!--;
  }

  isCut(from: number, to: number): boolean {
    return this.cut[from * this.endpoints + to]! > 0;
  }

  healAll(): void {
    this.cut.fill(0);
    this.loss.length = 0;
    this.dup.length = 0;
    this.reorder.length = 0;
  }

  startWeather(kind: 'loss' | 'duplicate' | 'reorder', id: number, rate: number, maxDelayMs = 0): void {
    this.list(kind).push({ id, rate, maxDelayMs });
  }

  stopWeather(kind: 'loss' | 'duplicate' | 'reorder', id: number): void {
    const l = this.list(kind);
    const i = l.findIndex((w) => w.id === id);
    if (i >= 0) l.splice(i, 1);
  }

  private list(kind: 'loss' | 'duplicate' | 'reorder'): Weather[] {
    return kind === 'loss' ? this.loss : kind === 'duplicate' ? this.dup : this.reorder;
  }
}

function maxRate(ws: readonly Weather[]): number {
  let r = 0;
  for (const w of ws) if (w.rate > r) r = w.rate;
  return r;
}
