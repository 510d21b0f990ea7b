// The peer transport carries every PeerMessage kind a node sends: Raft messages and the
// coordinator's `forward` / `forward-reply` (a frame holding one must be delivered, not treated
// as malformed: that closed the connection and lost every request routed to another replica).
import { afterEach, describe, expect, it } from 'vitest';
import { makeLogger } from '../../adapters/log.js';
import { TcpTransport } from '../../adapters/transport/tcp-transport.js';
import type { PeerMessage } from '../../core/node/types.js';
import { nodeId, partitionId } from '../../core/types.js';
import { freePort, sleep } from './harness.js';

const open: TcpTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

describe('tcp transport', () => {
  it('delivers forward and forward-reply messages and keeps the connection', async () => {
    const nodes = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const got: Array<{ from: string; ms: readonly PeerMessage[] }> = [];
    const logs: string[] = [];
    const make = (self: string) =>
      new TcpTransport({ self, nodes, partitions: 4, fingerprint: 'fp', secret: Buffer.from('s3cret'), log: makeLogger('json', (l) => logs.push(l)), onMessages: (from, ms) => got.push({ from, ms }) });
    const [a, b] = [make(nodes[0]!), make(nodes[1]!)];
    open.push(a, b);
    await a.listen();
    await b.listen();
    for (let i = 0; i < 200 && a.connectedPeers().length === 0; i++) await sleep(10);
    expect(a.connectedPeers()).toEqual([nodes[1]]);

    const [na, nb] = [nodeId(nodes[0]!), nodeId(nodes[1]!)];
    const fwd = { kind: 'forward', from: na, to: nb, partition: partitionId(2), attempt: 1, request: { clientId: 7, seq: 1, op: { type: 'put', key: 'k', value: 1 } } } as unknown as PeerMessage;
    a.send([fwd]);
    const reply = { kind: 'forward-reply', from: nb, to: na, partition: partitionId(2), attempt: 1, clientId: 7, seq: 1, result: { kind: 'unavailable', leaderHint: null, reason: 'x' } } as unknown as PeerMessage;
    b.send([reply]);
    for (let i = 0; i < 200 && got.length < 2; i++) await sleep(10);
    expect(got.find((g) => g.from === nodes[0])?.ms).toEqual([fwd]);
    expect(got.find((g) => g.from === nodes[1])?.ms).toEqual([reply]);
    expect(logs.filter((l) => /refused or closed/.test(l))).toEqual([]);
    expect(a.connectedPeers()).toEqual([nodes[1]]);
    expect(b.connectedPeers()).toEqual([nodes[0]]);
  });
});
