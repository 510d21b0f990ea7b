// Read consistency per request: strong (ReadIndex through the leader), leader (the leader's
// applied state, no round), eventual (any replica's local state, served even without quorum).
import { describe, expect, it } from 'vitest';
import { ClusterNode } from '../../core/node/node.js';
import type { ClientReply, ClientRequest, NodeConfig, PeerMessage } from '../../core/node/types.js';
import { nodeId, partitionId, type NodeId } from '../../core/types.js';
import { SimDisk } from '../../sim/disk.js';
import { Rng } from '../../sim/rng.js';

const TIMEOUT_MS = 1000;

class Cluster {
  readonly nodes = new Map<NodeId, ClusterNode | null>();
  readonly replies: Array<ClientReply & { atMs: number }> = [];
  readonly sent: PeerMessage[] = [];
  nowMs = 0;
  /** Links cut both ways. */
  readonly cut = new Set<string>();
  private queue: PeerMessage[] = [];

  constructor(readonly ids: readonly NodeId[], readonly replicationFactor: number) {
    for (const id of ids) {
      const config: NodeConfig = {
        id,
        nodes: ids,
        partitions: 1,
        replicationFactor,
        tickMs: 10,
        electionTicks: 10,
        heartbeatTicks: 2,
        compactAfterEntries: 1000,
        requestTimeoutMs: 5000,
        routeTimeoutMs: TIMEOUT_MS,
        random: new Rng(`consistency/${id}`),
      };
      this.nodes.set(id, new ClusterNode(config, new SimDisk()));
    }
  }

  collect(id: NodeId): void {
    const out = this.nodes.get(id)?.drain();
    if (!out) return;
    this.queue.push(...out.messages);
    this.sent.push(...out.messages);
    for (const r of out.replies) this.replies.push({ ...r, atMs: this.nowMs });
  }

  deliverAll(): void {
    for (let guard = 0; this.queue.length > 0 && guard < 100_000; guard++) {
      const pm = this.queue.shift()!;
      if (this.cut.has(`${pm.from}>${pm.to}`)) continue;
      const n = this.nodes.get(pm.to);
      if (!n) continue;
      n.receive(pm);
      this.collect(pm.to);
    }
  }

  run(ms: number): void {
    for (let t = 0; t < ms; t += 5) {
      this.nowMs += 5;
      for (const id of this.ids) {
        this.nodes.get(id)?.tick(this.nowMs);
        this.collect(id);
      }
      this.deliverAll();
    }
  }

  isolate(id: NodeId): void {
    for (const o of this.ids) if (o !== id) this.cut.add(`${id}>${o}`).add(`${o}>${id}`);
  }

  leader(): NodeId {
    const l = this.ids.find((id) => this.nodes.get(id)?.hosts(partitionId(0)) && this.nodes.get(id)!.status(partitionId(0)).role === 'leader');
    if (l === undefined) throw new Error('no leader');
    return l;
  }

  request(to: NodeId, req: ClientRequest): void {
    this.nodes.get(to)!.request(req);
    this.collect(to);
    this.deliverAll();
  }

  reply(clientId: number, seq: number) {
    return this.replies.find((r) => r.clientId === clientId && r.seq === seq);
  }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => nodeId(`n${i + 1}`));

describe('read consistency levels', () => {
  it('all three read what was written on a healthy cluster; leader and eventual need no ReadIndex round', () => {
    const c = new Cluster(ids(3), 3);
    c.run(1000);
    const leader = c.leader();
    const follower = c.ids.find((x) => x !== leader)!;
    c.request(leader, { clientId: 1, seq: 1, op: { f: 'write', key: 'k', value: 'v1' } });
    c.run(100);
    for (const [i, consistency] of (['strong', 'leader', 'eventual'] as const).entries()) {
      c.request(follower, { clientId: 2, seq: i + 1, op: { f: 'read', key: 'k', consistency } });
      c.run(100);
      expect(c.reply(2, i + 1)?.result, consistency).toMatchObject({ kind: 'ok', value: 'v1' });
    }
    // The eventual read was answered inside request(), from the follower's own state.
    const before = c.sent.length;
    c.request(follower, { clientId: 3, seq: 1, op: { f: 'get', key: 'k', consistency: 'eventual' } });
    expect(c.reply(3, 1)?.result).toMatchObject({ kind: 'ok', value: 'v1' });
    expect(c.sent.length).toBe(before);
    // A leader read at the leader is answered at once too, with no ReadIndex message.
    c.request(leader, { clientId: 3, seq: 2, op: { f: 'read', key: 'k', consistency: 'leader' } });
    expect(c.reply(3, 2)?.result).toMatchObject({ kind: 'ok', value: 'v1' });
    expect(c.sent.slice(before).some((m) => m.kind === 'raft' && m.message.type === 'read-index')).toBe(false);
  });

  it('without a quorum: eventual is served from local state; strong and writes fail retryably within the bound', () => {
    const c = new Cluster(ids(3), 3);
    c.run(1000);
    const leader = c.leader();
    c.request(leader, { clientId: 1, seq: 1, op: { f: 'write', key: 'k', value: 7 } });
    c.run(100);
    const lonely = c.ids.find((x) => x !== leader)!;
    c.isolate(lonely);
    const t0 = c.nowMs;
    c.request(lonely, { clientId: 5, seq: 1, op: { f: 'read', key: 'k', consistency: 'eventual' } });
    expect(c.reply(5, 1)?.result).toMatchObject({ kind: 'ok', value: 7 });
    c.request(lonely, { clientId: 6, seq: 1, op: { f: 'read', key: 'k', consistency: 'strong' } });
    c.request(lonely, { clientId: 7, seq: 1, op: { f: 'write', key: 'k', value: 8 } });
    c.run(TIMEOUT_MS + 100);
    for (const id of [6, 7]) {
      const r = c.reply(id, 1);
      expect(r, `client ${id}`).toBeDefined();
      expect(['unavailable', 'no-quorum']).toContain(r!.result.kind);
      expect(r!.atMs - t0).toBeLessThanOrEqual(TIMEOUT_MS + 20);
    }
    // Still no quorum, still served eventually; the lost write was never applied there.
    c.request(lonely, { clientId: 5, seq: 2, op: { f: 'read', key: 'k', consistency: 'eventual' } });
    expect(c.reply(5, 2)?.result).toMatchObject({ kind: 'ok', value: 7 });
    expect(c.nodes.get(lonely)!.pendingRequests()).toBe(0);
  });

  it('the richer ops: put with a TTL expires for reads by the clock even with no later write; put conditions answer cas-failed', () => {
    const c = new Cluster(ids(3), 3);
    c.run(1000);
    const leader = c.leader();
    c.request(leader, { clientId: 1, seq: 1, op: { f: 'put', key: 't', value: { a: [1, 2] }, ttlMs: 200 } });
    c.run(50);
    expect(c.reply(1, 1)?.result).toMatchObject({ kind: 'ok', value: { a: [1, 2] } });
    c.request(leader, { clientId: 2, seq: 1, op: { f: 'get', key: 't' } });
    c.run(50);
    expect(c.reply(2, 1)?.result).toMatchObject({ kind: 'ok', value: { a: [1, 2] } });
    c.run(300); // no entry applies in between: expiry is judged by the serving node's clock
    for (const [i, consistency] of (['strong', 'leader', 'eventual'] as const).entries()) {
      c.request(leader, { clientId: 2, seq: 2 + i, op: { f: 'get', key: 't', consistency } });
      c.run(50);
      expect(c.reply(2, 2 + i)?.result, consistency).toMatchObject({ kind: 'ok', value: null, revision: 0 });
    }
    c.request(leader, { clientId: 1, seq: 2, op: { f: 'put', key: 'u', value: 1, ifAbsent: true } });
    c.request(leader, { clientId: 3, seq: 1, op: { f: 'put', key: 'u', value: 2, ifAbsent: true } });
    c.request(leader, { clientId: 4, seq: 1, op: { f: 'put', key: 'v', value: 2, expected: 1 } });
    c.request(leader, { clientId: 5, seq: 1, op: { f: 'put', key: '', value: 2 } });
    c.run(100);
    expect(c.reply(1, 2)?.result.kind).toBe('ok');
    expect(c.reply(3, 1)?.result).toEqual({ kind: 'cas-failed', current: 1 });
    expect(c.reply(4, 1)?.result).toEqual({ kind: 'cas-failed', current: null });
    expect(c.reply(5, 1)?.result.kind).toBe('invalid');
  });

  it('a leader read on a follower is routed to the leader it knows', () => {
    const c = new Cluster(ids(3), 3);
    c.run(1000);
    const leader = c.leader();
    const follower = c.ids.find((x) => x !== leader)!;
    c.request(leader, { clientId: 1, seq: 1, op: { f: 'write', key: 'k', value: 'x' } });
    c.run(100);
    c.request(follower, { clientId: 2, seq: 1, op: { f: 'read', key: 'k', consistency: 'leader' } });
    c.run(50);
    expect(c.reply(2, 1)?.result).toMatchObject({ kind: 'ok', value: 'x' });
    expect(c.sent.some((m) => m.kind === 'forward' && m.from === follower && m.to === leader)).toBe(true);
  });

  it('an isolated, deposed leader serves a leader read stale, and an eventual read stale, but never a strong one', () => {
    const c = new Cluster(ids(5), 5);
    c.run(1000);
    const old = c.leader();
    c.request(old, { clientId: 1, seq: 1, op: { f: 'write', key: 'k', value: 'old' } });
    c.run(100);
    c.isolate(old);
    c.run(1000); // the others elect a new leader; the old one keeps believing until check-quorum
    const now = c.ids.find((id) => id !== old && c.nodes.get(id)!.status(partitionId(0)).role === 'leader')!;
    expect(now).toBeDefined();
    c.request(now, { clientId: 2, seq: 1, op: { f: 'write', key: 'k', value: 'new' } });
    c.run(100);
    expect(c.reply(2, 1)?.result.kind).toBe('ok');
    c.request(old, { clientId: 3, seq: 1, op: { f: 'read', key: 'k', consistency: 'eventual' } });
    expect(c.reply(3, 1)?.result).toMatchObject({ kind: 'ok', value: 'old' }); // committed once, stale now
    c.request(old, { clientId: 3, seq: 2, op: { f: 'read', key: 'k', consistency: 'strong' } });
    c.run(TIMEOUT_MS + 100);
    expect(c.reply(3, 2)?.result.kind).not.toBe('ok');
  });
});
