// A fault-injecting TCP proxy for one directed peer link. The harness puts one in front of
// every ordered pair of nodes: node A dials B through link A→B's listener, B dials A through
// link B→A's, so the two directions of a pair are separate objects with separate faults.
//
// A TCP connection carries bytes both ways, so each connection through a link has two
// streams: `forward` (from the dialing node to the target) and `backward` (the target's
// answers on that same connection). Cutting "A's messages to B" therefore means the forward
// stream of link A→B and the backward stream of link B→A (network.ts does that); a link on
// its own can drop, delay or pass each stream, and refuse or reset connections.
//
// Faults are byte-stream faults, not packet faults: a stream never resumes after a gap. When
// a stream has discarded bytes and is later allowed to pass again, its connection is closed
// instead, so the nodes reconnect and never read a frame with a hole in it (a real network
// partition stalls TCP until it times out; closing is the honest short version of that).
//
// Delays keep order: a chunk leaves no earlier than the one before it, at
// max(previous departure, arrival + ms + jitter), the jitter drawn from a seeded source.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import seedrandom from 'seedrandom';
import { LOOPBACK } from './ports.js';

/** What happens to one stream (one direction of every connection of a link). */
export type StreamMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'delay'; readonly ms: number; readonly jitterMs: number };

/** What happens to new connections. */
export type ConnectMode = 'accept' | 'refuse' | 'reset';

/** A link's whole state: its connect mode and the mode of each of its two streams. */
export interface LinkState {
  readonly connect: ConnectMode;
  readonly forward: StreamMode;
  readonly backward: StreamMode;
}

/**
 * The modes a harness asks for by name:
 * - `pass`: bytes flow both ways, untouched.
 * - `drop`: connections are accepted, bytes both ways are discarded (a black hole).
 * - `refuse`: the listener is closed, so a dial fails with ECONNREFUSED; open connections are reset.
 * - `reset`: a dial is accepted and reset at once; open connections are reset.
 * - `delay`: both streams delayed by `ms` plus up to `jitterMs` (seeded).
 * - `one-way`: one stream dropped (`forward`: the dialer's bytes; `backward`: the answers), the other passes.
 * - `streams`: the general form, for anything else.
 */
export type LinkMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'refuse' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'delay'; readonly ms: number; readonly jitterMs?: number }
  | { readonly kind: 'one-way'; readonly drop: 'forward' | 'backward' }
  | { readonly kind: 'streams'; readonly connect?: ConnectMode; readonly forward: StreamMode; readonly backward: StreamMode };

export const PASS: StreamMode = { kind: 'pass' };
export const DROP: StreamMode = { kind: 'drop' };

/** The longest delay a stream accepts (a minute: longer is a partition, use drop). */
export const DELAY_MS_MAX = 60_000;
/** Bytes a delayed stream may hold before it stops reading from its source (backpressure). */
export const QUEUED_BYTES_MAX = 8 * 1024 * 1024;
/** Connections one link keeps open at once; more are reset (a runaway dialer, not a real node). */
export const CONNECTIONS_MAX = 256;

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
}

function checkStream(mode: StreamMode, what: string): StreamMode {
  switch (mode.kind) {
    case 'pass':
    case 'drop':
      return mode;
    case 'delay': {
      const { ms, jitterMs } = mode;
      if (!Number.isFinite(ms) || ms < 0 || ms > DELAY_MS_MAX) throw new ProxyError(`${what}: delay ms must be in 0..${DELAY_MS_MAX}, got ${ms}`);
      if (!Number.isFinite(jitterMs) || jitterMs < 0 || jitterMs > DELAY_MS_MAX) {
        throw new ProxyError(`${what}: delay jitterMs must be in 0..${DELAY_MS_MAX}, got ${jitterMs}`);
      }
      return mode;
    }
    default: {
      const never: never = mode;
      throw new ProxyError(`${what}: unknown stream mode ${JSON.stringify(never)}`);
    }
  }
}

/** A named mode as the link state it stands for; bad values are refused with a clear error. */
export function linkState(mode: LinkMode): LinkState {
  switch (mode.kind) {
    case 'pass':
      return { connect: 'accept', forward: PASS, backward: PASS };
    case 'drop':
      return { connect: 'accept', forward: DROP, backward: DROP };
    case 'refuse':
      return { connect: 'refuse', forward: DROP, backward: DROP };
    case 'reset':
      return { connect: 'reset', forward: DROP, backward: DROP };
    case 'delay': {
      const s = checkStream({ kind: 'delay', ms: mode.ms, jitterMs: mode.jitterMs ?? 0 }, 'delay');
      return { connect: 'accept', forward: s, backward: s };
    }
    case 'one-way':
      if (mode.drop !== 'forward' && mode.drop !== 'backward') throw new ProxyError(`one-way: drop is 'forward' or 'backward', got '${String(mode.drop)}'`);
      return mode.drop === 'forward' ? { connect: 'accept', forward: DROP, backward: PASS } : { connect: 'accept', forward: PASS, backward: DROP };
    case 'streams': {
      const connect = mode.connect ?? 'accept';
      if (connect !== 'accept' && connect !== 'refuse' && connect !== 'reset') throw new ProxyError(`streams: unknown connect mode '${String(connect)}'`);
      return { connect, forward: checkStream(mode.forward, 'forward'), backward: checkStream(mode.backward, 'backward') };
    }
    default: {
      const never: never = mode;
      throw new ProxyError(`unknown link mode ${JSON.stringify(never)}`);
    }
  }
}

export function describeStream(mode: StreamMode): string {
  return mode.kind === 'delay' ? `delay ${mode.ms}±${mode.jitterMs}ms` : mode.kind;
}

export function describeState(state: LinkState): string {
  if (state.connect !== 'accept') return state.connect;
  const f = describeStream(state.forward);
  const b = describeStream(state.backward);
  return f === b ? f : `forward ${f}, backward ${b}`;
}

/** Counters of one link, for results.json and for tests. */
export interface LinkStats {
  connectionsAccepted: number;
  connectionsRefused: number;
  connectionsReset: number;
  /** Connections closed by the proxy because a stream with a gap was healed. */
  connectionsClosedAfterGap: number;
  bytesForwarded: number;
  bytesBackward: number;
  bytesDroppedForward: number;
  bytesDroppedBackward: number;
  /** Times a delayed stream stopped reading its source because QUEUED_BYTES_MAX was held. */
  queuePauses: number;
}

/** One direction of one proxied connection: reads `src`, writes `dst`, as the mode says. */
class Stream {
  private readonly queue: Array<{ readonly at: number; readonly chunk: Buffer }> = [];
  private queuedBytes = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private pendingFinish: 'end' | 'destroy' | undefined;
  private finished = false;
  private waitingForDrain = false;
  private overQueueLimit = false;
  /** Bytes of this stream were discarded: it may never pass bytes again. */
  gap = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly mode: () => StreamMode,
    private readonly random: () => number,
    private readonly onBytes: (passed: number, dropped: number) => void,
    private readonly onQueuePause: () => void,
  ) {
    src.on('data', (chunk: Buffer) => this.data(chunk));
    src.on('end', () => this.finish('end'));
  }

  private data(chunk: Buffer): void {
    const mode = this.mode();
    if (mode.kind === 'drop') {
      this.gap = true;
      this.onBytes(0, chunk.length);
      return;
    }
    const now = performance.now();
    const wait = mode.kind === 'delay' ? mode.ms + mode.jitterMs * this.random() : 0;
    const at = Math.max(this.lastAt, now + wait);
    this.lastAt = at;
    if (at <= now && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    this.queue.push({ at, chunk });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > QUEUED_BYTES_MAX && !this.overQueueLimit) {
      this.overQueueLimit = true;
      this.onQueuePause();
      this.src.pause();
    }
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (this.dst.destroyed || this.dst.writableEnded) return;
    this.onBytes(chunk.length, 0);
    if (!this.dst.write(chunk) && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.src.pause();
      this.dst.once('drain', () => {
        this.waitingForDrain = false;
        this.maybeResume();
      });
    }
  }

  private maybeResume(): void {
    if (!this.waitingForDrain && !this.overQueueLimit && !this.src.destroyed) this.src.resume();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const head = this.queue[0];
    if (head === undefined) return;
    const wait = Math.max(0, head.at - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushDue();
    }, Math.ceil(wait));
  }

  private flushDue(): void {
    const now = performance.now();
    // Bounded: each pass removes at least one queued chunk or stops.
    while (this.queue.length > 0 && this.queue[0]!.at <= now + 0.5) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      this.write(chunk);
    }
    if (this.overQueueLimit && this.queuedBytes <= QUEUED_BYTES_MAX / 2) {
      this.overQueueLimit = false;
      this.maybeResume();
    }
    if (this.queue.length > 0) this.schedule();
    else this.applyPendingFinish();
  }

  /** The source ended or closed: pass that on after the queued bytes, unless the stream drops. */
  finish(how: 'end' | 'destroy'): void {
    // A clean end comes first and is followed by a close: keep the end, so queued bytes are flushed.
    if (this.pendingFinish !== undefined) return;
    this.pendingFinish = how;
    if (this.mode().kind === 'drop') {
      // The other side must not learn of it through a cut stream; healing closes the connection.
      this.gap = true;
      return;
    }
    if (this.queue.length === 0) this.applyPendingFinish();
  }

  private applyPendingFinish(): void {
    if (this.pendingFinish === undefined || this.finished) return;
    this.finished = true;
    if (this.pendingFinish === 'end') this.dst.end();
    else this.dst.destroy();
  }

  /** The mode changed: a dropping stream discards what it still holds. */
  modeChanged(): void {
    const mode = this.mode();
    if (mode.kind === 'drop') {
      if (this.queue.length > 0) {
        this.gap = true;
        this.onBytes(0, this.queuedBytes);
      }
      this.clear();
      if (this.overQueueLimit) {
        this.overQueueLimit = false;
        this.maybeResume();
      }
      return;
    }
    if (this.queue.length === 0) this.applyPendingFinish();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

/** One proxied connection: the dialer's socket, the socket to the target, two streams. */
class Connection {
  readonly upstream: Socket;
  readonly forward: Stream;
  readonly backward: Stream;
  private closed = false;

  constructor(
    readonly id: number,
    readonly client: Socket,
    target: { readonly host: string; readonly port: number },
    link: LinkProxy,
    randomForward: () => number,
    randomBackward: () => number,
    private readonly onClose: (c: Connection) => void,
  ) {
    client.setNoDelay(true);
    this.upstream = connect({ host: target.host, port: target.port });
    this.upstream.setNoDelay(true);
    const stats = link.stats;
    this.forward = new Stream(client, this.upstream, () => link.state.forward, randomForward, (p, d) => {
      stats.bytesForwarded += p;
      stats.bytesDroppedForward += d;
    }, () => stats.queuePauses++);
    this.backward = new Stream(this.upstream, client, () => link.state.backward, randomBackward, (p, d) => {
      stats.bytesBackward += p;
      stats.bytesDroppedBackward += d;
    }, () => stats.queuePauses++);
    // An abrupt close of one side reaches the other through its stream (delayed or cut like
    // bytes are); errors are expected here (a node was killed) and only end the connection.
    client.on('error', () => undefined);
    this.upstream.on('error', () => undefined);
    client.on('close', () => {
      this.forward.finish('destroy');
      this.checkClosed();
    });
    this.upstream.on('close', () => {
      this.backward.finish('destroy');
      this.checkClosed();
    });
  }

  private checkClosed(): void {
    if (this.closed || !this.client.destroyed || !this.upstream.destroyed) return;
    this.closed = true;
    this.forward.clear();
    this.backward.clear();
    this.onClose(this);
  }

  get hasGap(): boolean {
    return this.forward.gap || this.backward.gap;
  }

  modeChanged(): void {
    this.forward.modeChanged();
    this.backward.modeChanged();
  }

  /** Close both sides at once; `reset` sends an RST to the dialer instead of a FIN. */
  destroy(reset: boolean): void {
    this.forward.clear();
    this.backward.clear();
    if (reset && !this.client.destroyed) this.client.resetAndDestroy();
    else this.client.destroy();
    if (reset && !this.upstream.destroyed && this.upstream.readyState === 'open') this.upstream.resetAndDestroy();
    else this.upstream.destroy();
  }
}

export interface LinkProxyOptions {
  /** Names the link in errors and logs, e.g. "n1->n2". */
  readonly name: string;
  /** Where the proxy forwards to: the target node's real peer listener. */
  readonly target: { readonly host: string; readonly port: number };
  /** The proxy's own listening port on 127.0.0.1 (0: let the kernel pick). */
  readonly listenPort?: number;
  /** Seeds the jitter of delays; each stream of the link draws from its own sequence. */
  readonly seed: number | string;
  readonly mode?: LinkMode;
}

/** A fault-injecting proxy for one directed link. Create with `LinkProxy.start`. */
export class LinkProxy {
  readonly name: string;
  readonly target: { readonly host: string; readonly port: number };
  readonly stats: LinkStats = {
    connectionsAccepted: 0,
    connectionsRefused: 0,
    connectionsReset: 0,
    connectionsClosedAfterGap: 0,
    bytesForwarded: 0,
    bytesBackward: 0,
    bytesDroppedForward: 0,
    bytesDroppedBackward: 0,
    queuePauses: 0,
  };
  private current: LinkState;
  private server: Server | undefined;
  private port: number;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 0;
  private readonly randomForward: () => number;
  private readonly randomBackward: () => number;
  private closed = false;
  /** Serializes listener changes so two quick setMode calls cannot race on the port. */
  private pending: Promise<void> = Promise.resolve();

  private constructor(options: LinkProxyOptions, port: number) {
    this.name = options.name;
    this.target = options.target;
    this.port = port;
    this.current = linkState(options.mode ?? { kind: 'pass' });
    this.randomForward = seedrandom.alea(`${String(options.seed)}/${options.name}/forward`);
    this.randomBackward = seedrandom.alea(`${String(options.seed)}/${options.name}/backward`);
  }

  static async start(options: LinkProxyOptions): Promise<LinkProxy> {
    const port = options.listenPort ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProxyError(`${options.name}: not a port: ${port}`);
    const t = options.target;
    if (typeof t.host !== 'string' || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
      throw new ProxyError(`${options.name}: bad target ${JSON.stringify(t)}`);
    }
    const link = new LinkProxy(options, port);
    // Even a link created refusing needs its port now: the dialer's config names it.
    await link.listen();
    if (link.current.connect === 'refuse') await link.unlisten();
    return link;
  }

  /** The address dialers use: 127.0.0.1 and the proxy's port. */
  get address(): { readonly host: string; readonly port: number } {
    return { host: LOOPBACK, port: this.port };
  }

  get state(): LinkState {
    return this.current;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** Change the link's faults at run time; resolves once the listener matches the mode. */
  setMode(mode: LinkMode): Promise<void> {
    return this.setState(linkState(mode));
  }

  setState(state: LinkState): Promise<void> {
    if (this.closed) return Promise.reject(new ProxyError(`${this.name}: the proxy is closed`));
    const next = linkState({ kind: 'streams', connect: state.connect, forward: state.forward, backward: state.backward });
    this.current = next;
    for (const c of [...this.connections]) {
      if (next.connect !== 'accept') {
        this.stats.connectionsReset++;
        c.destroy(true);
        continue;
      }
      c.modeChanged();
      const reopened = (c.forward.gap && next.forward.kind !== 'drop') || (c.backward.gap && next.backward.kind !== 'drop');
      if (reopened) {
        this.stats.connectionsClosedAfterGap++;
        c.destroy(false);
      }
    }
    const step = this.pending.then(async () => {
      if (this.closed) return;
      if (this.current.connect === 'refuse') await this.unlisten();
      else await this.listen();
    });
    this.pending = step.catch(() => undefined);
    return step;
  }

  private listen(): Promise<void> {
    if (this.server !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const server = createServer({ pauseOnConnect: false }, (socket) => this.accept(socket));
      const onError = (err: Error): void => {
        reject(new ProxyError(`${this.name}: cannot listen on ${LOOPBACK}:${this.port}: ${err.message}`));
      };
      server.once('error', onError);
      server.listen({ host: LOOPBACK, port: this.port, exclusive: true }, () => {
        server.removeListener('error', onError);
        server.on('error', () => undefined);
        const addr = server.address();
        if (addr !== null && typeof addr === 'object') this.port = addr.port;
        this.server = server;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    this.server = undefined;
    // close() stops accepting at once; its callback waits for connections, which we end ourselves.
    return new Promise((resolve) => {
      server.close(() => resolve());
      for (const c of [...this.connections]) c.destroy(true);
    });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    const state = this.current;
    if (this.closed || state.connect === 'refuse') {
      this.stats.connectionsRefused++;
      socket.resetAndDestroy();
      return;
    }
    if (state.connect === 'reset' || this.connections.size >= CONNECTIONS_MAX) {
      this.stats.connectionsReset++;
      socket.resetAndDestroy();
      return;
    }
    this.stats.connectionsAccepted++;
    const c = new Connection(this.nextConnectionId++, socket, this.target, this, this.randomForward, this.randomBackward, (done) =>
      this.connections.delete(done),
    );
    this.connections.add(c);
  }

  /** Close the listener and every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pending;
    for (const c of [...this.connections]) c.destroy(false);
    this.connections.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
