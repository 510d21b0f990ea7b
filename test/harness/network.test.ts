// The proxy network over three fake nodes on 127.0.0.1. Each node listens, records which
// peers it heard from and answers each message on the same connection, so a test sees both
// a message's arrival and its answer's: a cut A→B must stop A's bytes on A's own dials and
// A's answers on B's dials (both travel from A to B), and nothing else.
import { performance } from 'node:perf_hooks';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyNetwork } from '../../jepsen/harness/network.js';
import { freePorts } from '../../jepsen/harness/ports.js';
import { dial, sleep, waitFor, type Client } from './net-helpers.js';

interface FakeNode {
  readonly id: string;
  readonly server: Server;
  readonly port: number;
  readonly heard: Set<string>;
}

async function fakeNode(id: string): Promise<FakeNode> {
  const heard = new Set<string>();
  const server = createServer((s) => {
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      let nl = buf.indexOf('\n');
      // Bounded by the bytes received.
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const from = line.replace(/^from:/, '');
        heard.add(from);
        s.write(`ack:${id}:${from}\n`);
        nl = buf.indexOf('\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  return { id, server, port: (server.address() as AddressInfo).port, heard };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(ids: string[]): Promise<{ nodes: Map<string, FakeNode>; net: ProxyNetwork }> {
  const nodes = new Map<string, FakeNode>();
  for (const id of ids) {
    const n = await fakeNode(id);
    nodes.set(id, n);
    cleanups.push(() => new Promise<void>((resolve) => n.server.close(() => resolve())));
  }
  const net = await ProxyNetwork.start({ nodes: ids.map((id) => ({ id, host: '127.0.0.1', port: nodes.get(id)!.port })), seed: 42 });
  cleanups.push(() => net.close());
  return { nodes, net };
}

const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.socket.destroy();
});

/** `from` dials `to` through its link and says who it is. */
async function send(net: ProxyNetwork, from: string, to: string): Promise<Client> {
  const port = Number(net.dialAddress(from, to).split(':')[1]);
  const c = await dial(port);
  clients.push(c);
  c.socket.write(`from:${from}\n`);
  return c;
}

const SILENCE_MS = 250;

describe('ProxyNetwork', () => {
  it('gives every node a dial address per peer, each a distinct proxy listener', async () => {
    const { net } = await cluster(['a', 'b', 'c']);
    const all = ['a', 'b', 'c'].flatMap((n) => Object.values(net.dialMap(n)));
    expect(all).toHaveLength(6);
    expect(new Set(all).size).toBe(6);
    expect(all.every((a) => a.startsWith('127.0.0.1:'))).toBe(true);
    expect(Object.keys(net.dialMap('a'))).toEqual(['b', 'c']);
    expect(() => net.link('a', 'a')).toThrow(/no link a->a/);
  });

  it('uses the listen ports it is given', async () => {
    const ports = await freePorts(2);
    const a = await fakeNode('a');
    const b = await fakeNode('b');
    cleanups.push(() => new Promise<void>((r) => a.server.close(() => r())), () => new Promise<void>((r) => b.server.close(() => r())));
    const net = await ProxyNetwork.start({
      nodes: [{ id: 'a', host: '127.0.0.1', port: a.port }, { id: 'b', host: '127.0.0.1', port: b.port }],
      seed: 1,
      listenPorts: ports,
    });
    cleanups.push(() => net.close());
    expect([net.link('a', 'b').address.port, net.link('b', 'a').address.port]).toEqual(ports);
    await expect(ProxyNetwork.start({ nodes: [{ id: 'a', host: '127.0.0.1', port: a.port }, { id: 'b', host: '127.0.0.1', port: b.port }], seed: 1, listenPorts: [1] })).rejects.toThrow(/need 2 ports/);
  });

  it('a one-way cut a→b stops a\'s bytes in both links of the pair, and only those', async () => {
    const { nodes, net } = await cluster(['a', 'b', 'c']);
    await net.cut('a', 'b');
    const aToB = await send(net, 'a', 'b'); // a's message on a's dial: cut
    const bToA = await send(net, 'b', 'a'); // b's message on b's dial: passes; a's answer on it: cut
    const aToC = await send(net, 'a', 'c'); // untouched
    expect(await waitFor(() => nodes.get('a')!.heard.has('b'))).toBe(true);
    expect(await waitFor(() => aToC.received() === 'ack:c:a\n')).toBe(true);
    await sleep(SILENCE_MS);
    expect(nodes.get('b')!.heard.has('a')).toBe(false);
    expect(aToB.received()).toBe('');
    expect(bToA.received()).toBe('');
    expect(net.currentCuts).toEqual([['a', 'b']]);
    expect(net.describe().sort()).toEqual(['a->b: forward drop, backward pass', 'b->a: forward pass, backward drop']);
  });

  it("answers 'pass': a one-way cut a→b stops only a's dials, so b's dials to a are answered", async () => {
    const { nodes, net } = await cluster(['a', 'b']);
    await net.cut('a', 'b', { answers: 'pass' });
    const aToB = await send(net, 'a', 'b');
    const bToA = await send(net, 'b', 'a');
    expect(await waitFor(() => bToA.received() === 'ack:a:b\n')).toBe(true);
    await sleep(SILENCE_MS);
    expect(nodes.get('b')!.heard.has('a')).toBe(false);
    expect(aToB.received()).toBe('');
    expect(net.events.at(-1)?.what).toBe('cut (drop, answers pass): a-x->b');
    await expect(net.cut('a', 'b', { style: 'bogus' as 'drop' })).rejects.toThrow(/unknown cut style/);
  });

  it('isolate: the isolated node neither reaches nor hears anyone; the others talk', async () => {
    const { nodes, net } = await cluster(['a', 'b', 'c']);
    const cuts = await net.partitionShape({ kind: 'isolate', node: 'c' });
    expect(cuts).toHaveLength(4);
    await send(net, 'c', 'a');
    await send(net, 'b', 'c');
    const ab = await send(net, 'a', 'b');
    expect(await waitFor(() => ab.received() === 'ack:b:a\n')).toBe(true);
    await sleep(SILENCE_MS);
    expect(nodes.get('a')!.heard.has('c')).toBe(false);
    expect(nodes.get('c')!.heard.size).toBe(0);
  });

  it('heal: every pair passes again (fresh dials), and the events log says what happened', async () => {
    const { nodes, net } = await cluster(['a', 'b', 'c']);
    await net.partitionShape({ kind: 'majority-minority' });
    await net.delayAll(30, 10);
    await net.heal();
    expect(net.currentCuts).toEqual([]);
    expect(net.describe()).toEqual([]);
    const pending: Client[] = [];
    for (const [from, to] of ProxyNetwork.pairs(['a', 'b', 'c'])) pending.push(await send(net, from, to));
    expect(await waitFor(() => pending.every((c) => c.received().startsWith('ack:')))).toBe(true);
    for (const n of nodes.values()) expect(n.heard.size).toBe(2);
    expect(net.events.map((e) => e.what.split(':')[0])).toEqual(['partition (drop)', 'delay all', 'heal']);
  });

  it('refuse-style cuts refuse the dialer\'s connections', async () => {
    const { net } = await cluster(['a', 'b']);
    await net.cut('a', 'b', { style: 'refuse' });
    const c = await dial(Number(net.dialAddress('a', 'b').split(':')[1]));
    clients.push(c);
    expect(c.error()?.code).toBe('ECONNREFUSED');
    await net.heal();
    const d = await send(net, 'a', 'b');
    expect(await waitFor(() => d.received() === 'ack:b:a\n')).toBe(true);
  });

  it('delay between two nodes holds only that direction', async () => {
    const { nodes, net } = await cluster(['a', 'b']);
    await net.delay('a', 'b', 200);
    const t0 = performance.now();
    const c = await send(net, 'a', 'b');
    expect(await waitFor(() => nodes.get('b')!.heard.has('a'), 10_000)).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(await waitFor(() => c.received() === 'ack:b:a\n')).toBe(true);
    expect(net.stateOf('b', 'a')).toMatchObject({ forward: { kind: 'pass' }, backward: { kind: 'delay', ms: 200 } });
  });

  it('refuses unknown nodes and bad delays', async () => {
    const { net } = await cluster(['a', 'b']);
    await expect(net.cut('a', 'z')).rejects.toThrow(/no link a->z/);
    await expect(net.delay('a', 'b', -5)).rejects.toThrow(/delay ms/);
    await expect(net.partition([['a', 'a']])).rejects.toThrow(/cut from itself/);
  });
});
