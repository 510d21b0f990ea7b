// Peer transport over TCP (node:net). Each node dials every other node once and sends its
// messages on that connection (one outgoing connection per peer); it receives on the
// connections its peers dialed. Frames: frame.ts.
//
// Handshake (the acceptor challenges first, so nothing is accepted before proof):
//   acceptor → dialer  {t:'challenge', v, nonce}
//   dialer   → acceptor {t:'hello', v, from, fingerprint, nonce, mac = HMAC(secret, 'dial'|nonceA|from|fp)}
//   acceptor → dialer  {t:'welcome', mac = HMAC(secret, 'accept'|nonceD|fp)}  or {t:'reject', reason}
// Both sides prove the shared secret; a mismatch of fingerprint (nodes, RF, partitions,
// protocol) or secret closes the connection with a logged reason.
//
// Sending is bounded: a peer that is down or slow has at most `maxQueuedBytes` waiting in its
// socket; beyond that, messages are dropped (Raft retransmits).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { PeerMessage } from '../../core/node/types.js';
import { nodeId, type NodeId } from '../../core/types.js';
import { splitHostPort } from '../config.js';
import { PROTOCOL_VERSION } from '../fingerprint.js';
import type { Logger } from '../log.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError, encodeFrame } from './frame.js';

export interface TransportOptions {
  readonly self: string;
  readonly nodes: readonly string[];
  /** Peer id → the address to dial instead of the id (cluster.dial; test harness only). */
  readonly dial?: Readonly<Record<string, string>>;
  readonly partitions: number;
  readonly fingerprint: string;
  readonly secret: Buffer;
  readonly onMessages: (from: string, messages: readonly PeerMessage[]) => void;
  readonly log: Logger;
  readonly maxFrameBytes?: number;
  readonly maxQueuedBytes?: number;
  readonly handshakeTimeoutMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export type PeerState = 'connecting' | 'connected' | 'backoff' | 'closed';

interface Outgoing {
  readonly peer: string;
  socket: Socket | null;
  state: PeerState;
  attempt: number;
  timer: NodeJS.Timeout | null;
  lastError: string | null;
  dropped: number;
  sent: number;
}

const MESSAGE_TYPES = new Set(['vote', 'vote-response', 'append', 'append-response', 'heartbeat', 'heartbeat-response', 'snapshot', 'snapshot-ack', 'timeout-now', 'propose', 'read-index', 'read-index-response']);

/** Most messages one batch may carry (a node's batch holds what one call produced for one peer). */
const MAX_BATCH_MESSAGES = 100_000;

function mac(secret: Buffer, ...parts: string[]): Buffer {
  return createHmac('sha256', secret).update(parts.join('|')).digest();
}

function macEqual(a: unknown, b: Buffer): boolean {
  return a instanceof Uint8Array && a.length === b.length && timingSafeEqual(a, b);
}

export class TcpTransport {
  private server: Server | null = null;
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly incoming = new Set<Socket>();
  /** Peers that completed a handshake with us (inbound), by id. */
  private readonly seenInbound = new Map<string, number>();
  private closed = false;
  private readonly maxFrame: number;
  private readonly maxQueued: number;
  readonly stats = { framesIn: 0, framesOut: 0, rejected: 0, dropped: 0 };

  constructor(private readonly o: TransportOptions) {
    this.maxFrame = o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxQueued = o.maxQueuedBytes ?? 8 * 1024 * 1024;
    for (const n of o.nodes) {
      if (n !== o.self) this.outgoing.set(n, { peer: n, socket: null, state: 'closed', attempt: 0, timer: null, lastError: null, dropped: 0, sent: 0 });
    }
  }

  listen(): Promise<void> {
    const { host, port } = splitHostPort(this.o.self);
    return new Promise((resolve, reject) => {
      const server = createServer((s) => this.accept(s));
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.o.log.error('peer listener error', { error: err.message }));
        this.server = server;
        for (const out of this.outgoing.values()) this.dial(out);
        resolve();
      });
    });
  }

  /** Route each message by its `to`; one frame per peer per call. */
  send(messages: readonly PeerMessage[]): void {
    if (this.closed) return;
    const byPeer = new Map<string, PeerMessage[]>();
    for (const pm of messages) {
      const to = pm.to as string;
      let list = byPeer.get(to);
      if (list === undefined) byPeer.set(to, (list = []));
      list.push(pm);
    }
    for (const [to, list] of byPeer) {
      const out = this.outgoing.get(to);
      if (out === undefined) continue;
      const s = out.socket;
      if (out.state !== 'connected' || s === null || s.writableLength > this.maxQueued) {
        out.dropped += list.length;
        this.stats.dropped += list.length;
        continue;
      }
      s.write(encodeFrame({ t: 'msgs', ms: list }));
      out.sent += list.length;
      this.stats.framesOut++;
    }
  }

  peerStates(): Array<{ peer: string; state: PeerState; inbound: boolean; lastError: string | null; sent: number; dropped: number }> {
    return [...this.outgoing.values()].map((o) => ({ peer: o.peer, state: o.state, inbound: this.seenInbound.has(o.peer), lastError: o.lastError, sent: o.sent, dropped: o.dropped }));
  }

  /** Peers we can talk to both ways. */
  connectedPeers(): string[] {
    return [...this.outgoing.values()].filter((o) => o.state === 'connected' && this.seenInbound.has(o.peer)).map((o) => o.peer);
  }

  // ---- dialing -------------------------------------------------------------------------

  private dial(out: Outgoing): void {
    if (this.closed) return;
    out.timer = null;
    out.state = 'connecting';
    const { host, port } = splitHostPort(this.o.dial?.[out.peer] ?? out.peer);
    const s = connect({ host, port });
    s.setNoDelay(true);
    out.socket = s;
    const decoder = new FrameDecoder(64 * 1024);
    const nonce = randomBytes(16).toString('hex');
    let phase: 'await-challenge' | 'await-welcome' | 'open' = 'await-challenge';
    const hsTimer = setTimeout(() => fail('handshake timed out'), this.o.handshakeTimeoutMs ?? 5000);
    const fail = (reason: string): void => {
      clearTimeout(hsTimer);
      if (out.lastError !== reason) this.o.log.warn('peer connection closed', { peer: out.peer, reason });
      out.lastError = reason;
      s.destroy();
    };
    s.on('data', (chunk) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        fail(err instanceof FrameError ? err.message : String(err));
        return;
      }
      for (const f of frames) {
        const m = f as Record<string, unknown>;
        if (phase === 'await-challenge') {
          if (m?.['t'] !== 'challenge' || typeof m['nonce'] !== 'string') return fail('expected a challenge');
          if (m['v'] !== PROTOCOL_VERSION) return fail(`peer speaks protocol ${String(m['v'])}, we speak ${PROTOCOL_VERSION}`);
          s.write(encodeFrame({ t: 'hello', v: PROTOCOL_VERSION, from: this.o.self, fingerprint: this.o.fingerprint, nonce, mac: mac(this.o.secret, 'dial', m['nonce'], this.o.self, this.o.fingerprint) }));
          phase = 'await-welcome';
        } else if (phase === 'await-welcome') {
          if (m?.['t'] === 'reject') return fail(`peer refused us: ${String(m['reason'])}`);
          if (m?.['t'] !== 'welcome' || !macEqual(m['mac'], mac(this.o.secret, 'accept', nonce, this.o.fingerprint))) return fail('peer failed to prove the cluster secret');
          clearTimeout(hsTimer);
          phase = 'open';
          out.state = 'connected';
          out.attempt = 0;
          if (out.lastError !== null) this.o.log.info('peer connected', { peer: out.peer });
          out.lastError = null;
        } else return fail('unexpected frame from the acceptor');
      }
    });
    s.on('error', (err) => {
      out.lastError = (err as NodeJS.ErrnoException).code ?? err.message;
    });
    s.on('close', () => {
      clearTimeout(hsTimer);
      if (out.socket === s) out.socket = null;
      if (this.closed) {
        out.state = 'closed';
        return;
      }
      out.state = 'backoff';
      const base = this.o.backoffBaseMs ?? 50;
      const max = this.o.backoffMaxMs ?? 2000;
      const delay = Math.min(max, base * 2 ** Math.min(out.attempt, 16)) * (0.5 + Math.random() / 2);
      out.attempt++;
      out.timer = setTimeout(() => this.dial(out), delay);
    });
  }

  // ---- accepting -----------------------------------------------------------------------

  private accept(s: Socket): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    this.incoming.add(s);
    s.setNoDelay(true);
    const remote = `${s.remoteAddress}:${s.remotePort}`;
    const decoder = new FrameDecoder(64 * 1024);
    const nonce = randomBytes(16).toString('hex');
    let peer: string | null = null;
    const hsTimer = setTimeout(() => reject('handshake timed out'), this.o.handshakeTimeoutMs ?? 5000);
    s.write(encodeFrame({ t: 'challenge', v: PROTOCOL_VERSION, nonce }));
    const reject = (reason: string, tell = false): void => {
      clearTimeout(hsTimer);
      this.stats.rejected++;
      this.o.log.warn('peer connection refused or closed', { remote, peer: peer ?? 'unauthenticated', reason });
      if (tell && !s.destroyed) s.end(encodeFrame({ t: 'reject', reason }));
      s.destroy();
    };
    s.on('data', (chunk) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        reject(err instanceof FrameError ? err.message : String(err));
        return;
      }
      for (const f of frames) {
        if (s.destroyed) return;
        const m = f as Record<string, unknown>;
        if (peer === null) {
          if (m === null || typeof m !== 'object' || m['t'] !== 'hello') return reject('expected a hello frame');
          if (m['v'] !== PROTOCOL_VERSION) return reject(`protocol version ${String(m['v'])}, we speak ${PROTOCOL_VERSION}`, true);
          const from = m['from'];
          if (typeof from !== 'string' || !this.o.nodes.includes(from) || from === this.o.self) return reject(`'${String(from)}' is not a peer of this cluster`, true);
          if (m['fingerprint'] !== this.o.fingerprint) return reject(`cluster fingerprint mismatch: the peer's nodes, replication factor, partitions or protocol differ from ours`, true);
          if (!macEqual(m['mac'], mac(this.o.secret, 'dial', nonce, from, this.o.fingerprint))) return reject('wrong cluster secret (HMAC mismatch)', true);
          if (typeof m['nonce'] !== 'string') return reject('malformed hello');
          clearTimeout(hsTimer);
          peer = from;
          decoder.maxFrameBytes = this.maxFrame;
          this.seenInbound.set(from, (this.seenInbound.get(from) ?? 0) + 1);
          s.write(encodeFrame({ t: 'welcome', mac: mac(this.o.secret, 'accept', m['nonce'], this.o.fingerprint) }));
          continue;
        }
        if (m === null || typeof m !== 'object' || m['t'] !== 'msgs' || !Array.isArray(m['ms'])) return reject('malformed message frame');
        const ms = m['ms'] as unknown[];
        for (const pm of ms) {
          const bad = this.checkMessage(pm, peer);
          if (bad !== null) return reject(bad);
        }
        this.stats.framesIn++;
        this.o.onMessages(peer, ms as PeerMessage[]);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(hsTimer);
      this.incoming.delete(s);
      if (peer !== null) {
        const n = (this.seenInbound.get(peer) ?? 1) - 1;
        if (n <= 0) this.seenInbound.delete(peer);
        else this.seenInbound.set(peer, n);
      }
    });
  }

  /** An authenticated peer runs our code, but a frame is still checked before the core sees it. */
  private checkMessage(pm: unknown, peer: string, inBatch = false): string | null {
    if (pm === null || typeof pm !== 'object') return 'message is not an object';
    const kind = (pm as { kind?: unknown }).kind;
    if (kind === 'batch' || kind === 'heartbeats') {
      const f = pm as Record<string, unknown>;
      if (f['to'] !== this.o.self) return `${kind} addressed to ${String(f['to'])}, not us`;
      if (f['from'] !== peer) return `${kind} claims to be from ${String(f['from'])} on ${peer}'s connection`;
      if (kind === 'batch') {
        if (inBatch) return 'a batch inside a batch';
        const ms = f['messages'];
        if (!Array.isArray(ms) || ms.length === 0 || ms.length > MAX_BATCH_MESSAGES) return 'malformed batch';
        for (const m of ms) {
          const bad = this.checkMessage(m, peer, true);
          if (bad !== null) return `in a batch: ${bad}`;
        }
        return null;
      }
      return this.checkHeartbeats(f);
    }
    const p = (pm as { partition?: unknown }).partition;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= this.o.partitions) return `partition ${String(p)} out of range`;
    if (kind === 'forward' || kind === 'forward-reply') {
      // A client request routed to a replica, or the replica's answer: no Raft body.
      const f = pm as Record<string, unknown>;
      if (f['to'] !== this.o.self) return `${kind} addressed to ${String(f['to'])}, not us`;
      if (f['from'] !== peer) return `${kind} claims to be from ${String(f['from'])} on ${peer}'s connection`;
      if (typeof f['attempt'] !== 'number') return `${kind} without an attempt number`;
      if (kind === 'forward' && (f['request'] === null || typeof f['request'] !== 'object')) return 'forward without a request';
      if (kind === 'forward-reply' && (f['result'] === null || typeof f['result'] !== 'object' || typeof f['clientId'] !== 'number' || typeof f['seq'] !== 'number')) return 'malformed forward-reply';
      return null;
    }
    if (kind !== 'raft') return `unknown peer message kind ${String(kind)}`;
    const m = (pm as { message?: unknown }).message as Record<string, unknown> | undefined;
    if (m === null || typeof m !== 'object') return 'message body missing';
    if (typeof m['type'] !== 'string' || !MESSAGE_TYPES.has(m['type'])) return `unknown message type ${String(m['type'])}`;
    if (m['to'] !== this.o.self) return `message addressed to ${String(m['to'])}, not us`;
    if (m['from'] !== peer) return `message claims to be from ${String(m['from'])} on ${peer}'s connection`;
    if (typeof m['term'] !== 'number') return 'message without a term';
    if (m['type'] === 'snapshot' && (!(m['data'] instanceof Uint8Array) || typeof m['offset'] !== 'number' || typeof m['totalBytes'] !== 'number' || m['meta'] === null || typeof m['meta'] !== 'object')) return 'malformed snapshot chunk';
    return null;
  }

  /** Coalesced heartbeats: [partition, term, commit, quiesce] beats and [partition, term, quiesced] acks. */
  private checkHeartbeats(f: Record<string, unknown>): string | null {
    if (typeof f['epoch'] !== 'number') return 'heartbeats without an epoch';
    const partitionOk = (p: unknown): boolean => typeof p === 'number' && Number.isInteger(p) && p >= 0 && p < this.o.partitions;
    const beats = f['beats'];
    const acks = f['acks'];
    if (!Array.isArray(beats) || !Array.isArray(acks)) return 'malformed heartbeats';
    for (const b of beats) {
      if (!Array.isArray(b) || b.length !== 4 || !partitionOk(b[0]) || typeof b[1] !== 'number' || typeof b[2] !== 'number' || typeof b[3] !== 'boolean') return 'malformed coalesced heartbeat';
    }
    for (const a of acks) {
      if (!Array.isArray(a) || a.length !== 3 || !partitionOk(a[0]) || typeof a[1] !== 'number' || typeof a[2] !== 'boolean') return 'malformed coalesced heartbeat answer';
    }
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const o of this.outgoing.values()) {
      if (o.timer !== null) clearTimeout(o.timer);
      o.socket?.destroy();
      o.state = 'closed';
    }
    for (const s of this.incoming) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((r) => server.close(() => r()));
  }
}

export const peerId = (s: string): NodeId => nodeId(s);
