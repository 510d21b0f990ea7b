// The fault proxy of one directed link, with real sockets on 127.0.0.1: bytes pass, are cut
// in the chosen direction only, are delayed (lower bounds only), and flow again after a heal.
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../jepsen/harness/ports.js';
import { LinkProxy, linkState, ProxyError } from '../../jepsen/harness/proxy.js';
import { dial, sleep, startSink, waitFor, type Sink } from './net-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(echo = false): Promise<{ sink: Sink; link: LinkProxy }> {
  const sink = await startSink({ echo });
  cleanups.push(() => sink.close());
  const link = await LinkProxy.start({ name: 'a->b', target: { host: '127.0.0.1', port: sink.port }, seed: 1 });
  cleanups.push(() => link.close());
  return { sink, link };
}

/** Long enough that bytes which were going to pass would have: a dropped stream stays silent. */
const SILENCE_MS = 250;

describe('LinkProxy', () => {
  it('passes bytes both ways in pass mode and counts them', async () => {
    const { sink, link } = await setup(true);
    const c = await dial(link.address.port);
    c.socket.write('hello');
    expect(await waitFor(() => c.received() === 'hello')).toBe(true);
    expect(sink.received()).toBe('hello');
    expect(link.stats).toMatchObject({ connectionsAccepted: 1, bytesForwarded: 5, bytesBackward: 5, bytesDroppedForward: 0 });
    c.socket.destroy();
  });

  it('drop: connections are accepted, bytes both ways are discarded', async () => {
    const { sink, link } = await setup();
    await link.setMode({ kind: 'drop' });
    const c = await dial(link.address.port);
    expect(c.error()).toBeUndefined();
    c.socket.write('lost');
    expect(await waitFor(() => sink.sockets.length === 1)).toBe(true);
    sink.sockets[0]!.write('also lost');
    await sleep(SILENCE_MS);
    expect(sink.received()).toBe('');
    expect(c.received()).toBe('');
    expect(link.stats.bytesDroppedForward).toBe(4);
    expect(await waitFor(() => link.stats.bytesDroppedBackward === 9)).toBe(true);
    c.socket.destroy();
  });

  it('one-way forward: the dialer is cut, the answers on the same connection pass', async () => {
    const { sink, link } = await setup();
    await link.setMode({ kind: 'one-way', drop: 'forward' });
    const c = await dial(link.address.port);
    c.socket.write('ping');
    expect(await waitFor(() => sink.sockets.length === 1)).toBe(true);
    sink.sockets[0]!.write('pong');
    expect(await waitFor(() => c.received() === 'pong')).toBe(true);
    await sleep(SILENCE_MS);
    expect(sink.received()).toBe('');
    c.socket.destroy();
  });

  it('one-way backward: the dialer gets through, the answers are cut', async () => {
    const { sink, link } = await setup();
    await link.setMode({ kind: 'one-way', drop: 'backward' });
    const c = await dial(link.address.port);
    c.socket.write('ping');
    expect(await waitFor(() => sink.received() === 'ping')).toBe(true);
    sink.sockets[0]!.write('pong');
    await sleep(SILENCE_MS);
    expect(c.received()).toBe('');
    c.socket.destroy();
  });

  it('heal: a connection that lost bytes is closed (no torn frames), new ones pass; an untouched one stays', async () => {
    const { sink, link } = await setup(true);
    const quiet = await dial(link.address.port);
    await link.setMode({ kind: 'drop' });
    const lossy = await dial(link.address.port);
    lossy.socket.write('gap');
    expect(await waitFor(() => link.stats.bytesDroppedForward === 3)).toBe(true);
    await link.setMode({ kind: 'pass' });
    expect(await waitFor(() => lossy.closed())).toBe(true);
    expect(link.stats.connectionsClosedAfterGap).toBe(1);
    // The connection that sent nothing while cut lost nothing, so it carries on.
    quiet.socket.write('still here');
    expect(await waitFor(() => quiet.received() === 'still here')).toBe(true);
    const fresh = await dial(link.address.port);
    fresh.socket.write('after heal');
    expect(await waitFor(() => fresh.received() === 'after heal')).toBe(true);
    expect(sink.received()).not.toContain('gap');
    quiet.socket.destroy();
    fresh.socket.destroy();
  });

  it('refuse: dials fail with ECONNREFUSED and open connections are reset; pass listens again on the same port', async () => {
    const { link } = await setup(true);
    const port = link.address.port;
    const open = await dial(port);
    await link.setMode({ kind: 'refuse' });
    expect(await waitFor(() => open.closed())).toBe(true);
    const refused = await dial(port);
    expect(refused.error()?.code).toBe('ECONNREFUSED');
    await link.setMode({ kind: 'pass' });
    expect(link.address.port).toBe(port);
    const back = await dial(port);
    back.socket.write('x');
    expect(await waitFor(() => back.received() === 'x')).toBe(true);
    back.socket.destroy();
  });

  it('reset: a dial is accepted and reset at once', async () => {
    const { sink, link } = await setup();
    await link.setMode({ kind: 'reset' });
    const c = await dial(link.address.port);
    expect(await waitFor(() => c.closed())).toBe(true);
    expect(link.stats.connectionsReset).toBe(1);
    expect(sink.sockets.length).toBe(0);
  });

  it('a dial to a dead target is closed (the dialer sees the peer down)', async () => {
    const deadPort = await freePort();
    const link = await LinkProxy.start({ name: 'a->dead', target: { host: '127.0.0.1', port: deadPort }, seed: 1 });
    cleanups.push(() => link.close());
    const c = await dial(link.address.port);
    expect(await waitFor(() => c.closed())).toBe(true);
    expect(await waitFor(() => link.openConnections === 0)).toBe(true);
  });

  it('delay: each direction is held at least the delay (lower bound only)', async () => {
    const { sink, link } = await setup();
    await link.setMode({ kind: 'streams', forward: { kind: 'delay', ms: 200, jitterMs: 0 }, backward: { kind: 'pass' } });
    const c = await dial(link.address.port);
    const sent = performance.now();
    c.socket.write('slow');
    expect(await waitFor(() => sink.received() === 'slow', 10_000)).toBe(true);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(190);
    // The backward stream passes: its answer is not held (only checked to arrive).
    sink.sockets[0]!.write('fast');
    expect(await waitFor(() => c.received() === 'fast')).toBe(true);
    c.socket.destroy();
  });

  it('delay on both streams: a round trip takes at least twice the delay', async () => {
    const { link } = await setup(true);
    await link.setMode({ kind: 'delay', ms: 150, jitterMs: 20 });
    const c = await dial(link.address.port);
    const sent = performance.now();
    c.socket.write('rtt');
    expect(await waitFor(() => c.received() === 'rtt', 10_000)).toBe(true);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(290);
    c.socket.destroy();
  });

  it('delay with jitter keeps the byte order of a stream', async () => {
    const { sink, link } = await setup();
    await link.setMode({ kind: 'delay', ms: 5, jitterMs: 40 });
    const c = await dial(link.address.port);
    let expected = '';
    for (let i = 0; i < 40; i++) {
      const piece = `${i},`;
      expected += piece;
      c.socket.write(piece);
      await sleep(2);
    }
    expect(await waitFor(() => sink.received().length === expected.length, 10_000)).toBe(true);
    expect(sink.received()).toBe(expected);
    c.socket.destroy();
  });

  it('a delayed stream then cut discards what it held; the heal closes that connection', async () => {
    const { sink, link } = await setup();
    await link.setMode({ kind: 'delay', ms: 2_000, jitterMs: 0 });
    const c = await dial(link.address.port);
    c.socket.write('held');
    expect(await waitFor(() => link.stats.bytesForwarded === 0 && link.openConnections === 1)).toBe(true);
    await sleep(50);
    await link.setMode({ kind: 'drop' });
    expect(link.stats.bytesDroppedForward).toBe(4);
    await link.setMode({ kind: 'pass' });
    expect(await waitFor(() => c.closed())).toBe(true);
    expect(sink.received()).toBe('');
  });

  it('carries 12 MB intact through a delayed link (past the queue bound, so backpressure pauses the source)', async () => {
    const got = createHash('sha256');
    let bytes = 0;
    const server = createServer((sock) => {
      sock.on('data', (b: Buffer) => {
        got.update(b);
        bytes += b.length;
      });
    });
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const link = await LinkProxy.start({ name: 'bulk', target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port }, seed: 3 });
    cleanups.push(() => link.close());
    // Loopback writes 12 MB far faster than 300 ms, so more than QUEUED_BYTES_MAX is held at once.
    await link.setMode({ kind: 'delay', ms: 300, jitterMs: 5 });
    const c = await dial(link.address.port);
    const sent = createHash('sha256');
    const total = 12 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    for (let off = 0, i = 0; off < total; off += chunk.length, i++) {
      chunk.fill(i % 251);
      sent.update(chunk);
      if (!c.socket.write(Buffer.from(chunk))) await new Promise((r) => c.socket.once('drain', r));
    }
    expect(await waitFor(() => bytes === total, 30_000, 20)).toBe(true);
    expect(got.digest('hex')).toBe(sent.digest('hex'));
    expect(link.stats.bytesForwarded).toBe(total);
    expect(link.stats.queuePauses).toBeGreaterThan(0);
    c.socket.destroy();
  });

  it('refuses bad modes and bad targets with a clear error', async () => {
    expect(() => linkState({ kind: 'delay', ms: -1 })).toThrow(ProxyError);
    expect(() => linkState({ kind: 'delay', ms: 10, jitterMs: Number.NaN })).toThrow(/jitterMs/);
    expect(() => linkState({ kind: 'one-way', drop: 'sideways' as 'forward' })).toThrow(/forward' or 'backward/);
    expect(() => linkState({ kind: 'streams', forward: { kind: 'drop' }, backward: { kind: 'bogus' } as never })).toThrow(/unknown stream mode/);
    await expect(LinkProxy.start({ name: 'x', target: { host: '127.0.0.1', port: 0 }, seed: 1 })).rejects.toThrow(/bad target/);
    const { link } = await setup();
    await link.close();
    await expect(link.setMode({ kind: 'pass' })).rejects.toThrow(/closed/);
  });
});
