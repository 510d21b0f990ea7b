// The harness's network: one LinkProxy per ordered pair of nodes, and the faults expressed
// over node pairs rather than over proxies.
//
// Node A is configured to dial peer B at `dialAddress(A, B)` (link A→B's listener), so every
// byte between two nodes crosses exactly one of the pair's two proxies. "A's messages do not
// reach B" is then the forward stream of link A→B plus the backward stream of link B→A, which
// holds whichever connection the server's transport uses to carry A's messages to B.
//
// The state is a set of directed cuts and a set of directed delays over a base of `pass`;
// every change recomputes each link's state from them, so partitions, delays and heals
// compose without the order of calls mattering.

import seedrandom from 'seedrandom';
import { normalizeCuts, shapeCuts, type Cut, type PartitionShape } from './partitions.js';
import { describeState, LinkProxy, linkState, type LinkState, type StreamMode } from './proxy.js';

export interface PeerEndpoint {
  /** The node's id as the harness names it (and as partitions name it). */
  readonly id: string;
  /** The node's real peer listener, which the proxies forward to. */
  readonly host: string;
  readonly port: number;
}

/** How a cut behaves: bytes silently discarded, or dials refused / reset. */
export type CutStyle = 'drop' | 'refuse' | 'reset';

/**
 * A cut from→to always stops `from`'s bytes on `from`'s own dials to `to`. `answers` says
 * whether it also stops `from`'s answers on the connections `to` dialed:
 * - `cut` (default): every byte from `from` to `to`, whatever connection carries it.
 * - `pass`: only the dialer's direction. Conclave's transport sends messages only on the
 *   dialer's connection, and answers there only with handshake frames; with `pass`, a
 *   one-way cut stops from's messages to `to` while `to` can still dial `from` and send
 *   (with `cut`, `to`'s handshake with `from` cannot finish, so a new connection fails both
 *   ways and a one-way cut acts on established connections only).
 */
export interface CutOptions {
  readonly style?: CutStyle;
  readonly answers?: 'cut' | 'pass';
}

interface CutRule {
  readonly style: CutStyle;
  readonly answers: 'cut' | 'pass';
}

function cutRule(options: CutOptions): CutRule {
  const style = options.style ?? 'drop';
  const answers = options.answers ?? 'cut';
  if (style !== 'drop' && style !== 'refuse' && style !== 'reset') throw new Error(`unknown cut style '${String(style)}' (drop, refuse or reset)`);
  if (answers !== 'cut' && answers !== 'pass') throw new Error(`cut answers is 'cut' or 'pass', got '${String(answers)}'`);
  return { style, answers };
}

function describeRule(r: CutRule): string {
  return r.answers === 'cut' ? r.style : `${r.style}, answers pass`;
}

export interface ProxyNetworkOptions {
  readonly nodes: readonly PeerEndpoint[];
  /** Seeds every link's jitter and the random draws of partition shapes. */
  readonly seed: number;
  /** Ports for the proxies' listeners, one per ordered pair in `links()` order (default: kernel-picked). */
  readonly listenPorts?: readonly number[];
}

function key(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

/** One applied change, with its time, for results.json. */
export interface NetworkEvent {
  readonly atMs: number;
  readonly what: string;
}

export class ProxyNetwork {
  readonly nodes: readonly string[];
  private readonly links = new Map<string, LinkProxy>();
  private readonly linkPairs: Array<readonly [string, string, LinkProxy]> = [];
  private cuts = new Map<string, CutRule>();
  private delays = new Map<string, StreamMode>();
  private readonly random: () => number;
  readonly events: NetworkEvent[] = [];
  private readonly startedAt = Date.now();

  private constructor(nodes: readonly string[], seed: number) {
    this.nodes = nodes;
    this.random = seedrandom.alea(`${seed}/partitions`);
  }

  static async start(options: ProxyNetworkOptions): Promise<ProxyNetwork> {
    const ids = options.nodes.map((n) => n.id);
    if (ids.length < 2) throw new Error(`a proxy network needs at least 2 nodes, got ${ids.length}`);
    if (new Set(ids).size !== ids.length) throw new Error(`duplicate node ids: [${ids.join(', ')}]`);
    const pairs = ProxyNetwork.pairs(ids);
    if (options.listenPorts !== undefined && options.listenPorts.length !== pairs.length) {
      throw new Error(`listenPorts: need ${pairs.length} ports (one per ordered pair), got ${options.listenPorts.length}`);
    }
    const net = new ProxyNetwork(ids, options.seed);
    const byId = new Map(options.nodes.map((n) => [n.id, n]));
    try {
      for (const [i, [from, to]] of pairs.entries()) {
        const target = byId.get(to)!;
        const port = options.listenPorts?.[i];
        const link = await LinkProxy.start({
          name: `${from}->${to}`,
          target: { host: target.host, port: target.port },
          seed: options.seed,
          ...(port !== undefined ? { listenPort: port } : {}),
        });
        net.links.set(key(from, to), link);
        net.linkPairs.push([from, to, link]);
      }
    } catch (err) {
      await net.close();
      throw err;
    }
    return net;
  }

  /** Every ordered pair of distinct nodes, in a fixed order. */
  static pairs(ids: readonly string[]): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const a of ids) for (const b of ids) if (a !== b) out.push([a, b]);
    return out;
  }

  link(from: string, to: string): LinkProxy {
    const l = this.links.get(key(from, to));
    if (l === undefined) throw new Error(`no link ${from}->${to} (nodes: ${this.nodes.join(', ')})`);
    return l;
  }

  /** Where `from` must dial `to`: its link's listener, "127.0.0.1:port". */
  dialAddress(from: string, to: string): string {
    const { host, port } = this.link(from, to).address;
    return `${host}:${port}`;
  }

  /** For node `from`: every peer id mapped to the address it dials that peer at. */
  dialMap(from: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const to of this.nodes) if (to !== from) out[to] = this.dialAddress(from, to);
    return out;
  }

  /** The current directed cuts, sorted. */
  get currentCuts(): Cut[] {
    return normalizeCuts([...this.cuts.keys()].map((k) => k.split('\u0000') as unknown as Cut));
  }

  private note(what: string): void {
    this.events.push({ atMs: Date.now() - this.startedAt, what });
  }

  /** Replace the current partition by `cuts` (delays stay). */
  async partition(cuts: readonly Cut[], options: CutOptions = {}): Promise<void> {
    const rule = cutRule(options);
    const next = new Map<string, CutRule>();
    for (const [from, to] of normalizeCuts(cuts)) {
      this.link(from, to); // refuses unknown nodes
      next.set(key(from, to), rule);
    }
    this.cuts = next;
    this.note(`partition (${describeRule(rule)}): ${cuts.length === 0 ? 'none' : normalizeCuts(cuts).map(([a, b]) => `${a}-x->${b}`).join(' ')}`);
    await this.apply();
  }

  /** Replace the current partition by a shape drawn from the network's seeded source; returns its cuts. */
  async partitionShape(shape: PartitionShape, options: CutOptions = {}): Promise<Cut[]> {
    const cuts = shapeCuts(this.nodes, shape, this.random);
    await this.partition(cuts, options);
    return cuts;
  }

  /** Add one directed cut (messages from `from` stop reaching `to`). */
  async cut(from: string, to: string, options: CutOptions = {}): Promise<void> {
    this.link(from, to);
    const rule = cutRule(options);
    this.cuts.set(key(from, to), rule);
    this.note(`cut (${describeRule(rule)}): ${from}-x->${to}`);
    await this.apply();
  }

  /** Delay messages from `from` to `to` by ms plus up to jitterMs (seeded). */
  async delay(from: string, to: string, ms: number, jitterMs = 0): Promise<void> {
    this.link(from, to);
    const mode = linkState({ kind: 'delay', ms, jitterMs }).forward; // validates
    this.delays.set(key(from, to), mode);
    this.note(`delay: ${from}->${to} ${ms}±${jitterMs}ms`);
    await this.apply();
  }

  /** Delay every directed pair. */
  async delayAll(ms: number, jitterMs = 0): Promise<void> {
    const mode = linkState({ kind: 'delay', ms, jitterMs }).forward;
    for (const [a, b] of ProxyNetwork.pairs(this.nodes)) this.delays.set(key(a, b), mode);
    this.note(`delay all: ${ms}±${jitterMs}ms`);
    await this.apply();
  }

  /** Every cut and every delay removed: all links pass (connections that lost bytes are closed). */
  async heal(): Promise<void> {
    this.cuts.clear();
    this.delays.clear();
    this.note('heal');
    await this.apply();
  }

  /** The state each link must be in, from the cuts and delays. */
  stateOf(from: string, to: string): LinkState {
    const delayed = (a: string, b: string): StreamMode => this.delays.get(key(a, b)) ?? { kind: 'pass' };
    const forward: StreamMode = this.cuts.has(key(from, to)) ? { kind: 'drop' } : delayed(from, to);
    // The backward stream carries `to`'s answers to `from`'s dial: bytes from `to` to `from`.
    const answers = this.cuts.get(key(to, from));
    const backward: StreamMode = answers !== undefined && answers.answers === 'cut' ? { kind: 'drop' } : delayed(to, from);
    const style = this.cuts.get(key(from, to))?.style;
    // Refuse/reset act on dials, so they belong to the dialer's own direction.
    const connect = style === 'refuse' ? 'refuse' : style === 'reset' ? 'reset' : 'accept';
    return { connect, forward, backward };
  }

  private async apply(): Promise<void> {
    await Promise.all(this.linkPairs.map(([from, to, l]) => l.setState(this.stateOf(from, to))));
  }

  /** One line per link that is not passing, for logs. */
  describe(): string[] {
    const out: string[] = [];
    for (const l of this.links.values()) {
      const d = describeState(l.state);
      if (d !== 'pass') out.push(`${l.name}: ${d}`);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }
}
