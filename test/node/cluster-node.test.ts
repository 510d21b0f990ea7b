// ClusterNode driven by hand: a tiny synchronous driver (deliver every message at once, in
// order) over real simulated disks, so the request/reply interface can be read as a story.
import { describe, expect, it } from 'vitest';
import { ClusterNode, NodeStartError, partitionOfKey } from '../../core/node/node.js';
import type { ClientReply, ClientRequest, NodeConfig, PeerMessage } from '../../core/node/types.js';
import { nodeId, partitionId, type NodeId } from '../../core/types.js';
import { SimDisk } from '../../sim/disk.js';
import { Rng } from '../../sim/rng.js';

const IDS = [nodeId('n1'), nodeId('n2'), nodeId('n3')];

class Cluster {
  readonly disks = new Map<NodeId, SimDisk>(IDS.map((id) => [id, new SimDisk()]));
  readonly nodes = new Map<NodeId, ClusterNode | null>();
  readonly replies: Array<ClientReply & { from: NodeId }> = [];
  nowMs = 0;
  private queue: PeerMessage[] = [];

  constructor(
    readonly partitions = 1,
    readonly compactAfterEntries = 1000,
    readonly replicationFactor = 3,
  ) {
    for (const id of IDS) this.start(id);
  }

  config(id: NodeId): NodeConfig {
    return {
      id,
      nodes: IDS,
      partitions: this.partitions,
      replicationFactor: this.replicationFactor,
      tickMs: 10,
      electionTicks: 10,
      heartbeatTicks: 2,
      compactAfterEntries: this.compactAfterEntries,
      requestTimeoutMs: 5000,
      random: new Rng(`node-test/${id}/${this.nowMs}`),
    };
  }

  start(id: NodeId): void {
    this.nodes.set(id, new ClusterNode(this.config(id), this.disks.get(id)!));
    this.collect(id);
  }

  crash(id: NodeId): void {
    this.nodes.set(id, null);
    this.disks.get(id)!.crash(new Rng('crash'), false);
  }

  collect(id: NodeId): void {
    const n = this.nodes.get(id);
    if (n === null || n === undefined) return;
    const out = n.drain();
    this.queue.push(...out.messages);
    for (const r of out.replies) this.replies.push({ ...r, from: id });
  }

  deliverAll(): void {
    for (let guard = 0; this.queue.length > 0 && guard < 100_000; guard++) {
      const pm = this.queue.shift()!;
      const n = this.nodes.get(pm.to);
      if (n === null || n === undefined) continue;
      n.receive(pm);
      this.collect(pm.to);
    }
  }

  run(ms: number): void {
    for (let t = 0; t < ms; t += 5) {
      this.nowMs += 5;
      for (const id of IDS) {
        this.nodes.get(id)?.tick(this.nowMs);
        this.collect(id);
      }
      this.deliverAll();
    }
  }

  leader(): NodeId | null {
    for (const id of IDS) {
      const n = this.nodes.get(id);
      if (n && n.status(partitionId(0)).role === 'leader') return id;
    }
    return null;
  }

  request(to: NodeId, req: ClientRequest): void {
    this.nodes.get(to)!.request(req);
    this.collect(to);
    this.deliverAll();
  }

  reply(clientId: number, seq: number): (ClientReply & { from: NodeId }) | undefined {
    return this.replies.find((r) => r.clientId === clientId && r.seq === seq);
  }
}

describe('ClusterNode', () => {
  it('elects a leader, answers a write sent to a follower after it is applied, and reads it back through ReadIndex', () => {
    const c = new Cluster();
    c.run(1000);
    const leader = c.leader();
    expect(leader).not.toBeNull();
    const follower = IDS.find((id) => id !== leader)!;
    c.request(follower, { clientId: 1, seq: 1, op: { f: 'write', key: 'x', value: 42 } });
    c.run(100);
    const w = c.reply(1, 1);
    expect(w?.result.kind).toBe('ok');
    if (w?.result.kind !== 'ok') throw new Error('unreachable');
    expect(c.nodes.get(follower)!.stateMachine(partitionId(0)).applied).toBeGreaterThanOrEqual(w.result.index);
    c.request(follower, { clientId: 2, seq: 1, op: { f: 'read', key: 'x' } });
    c.run(100);
    expect(c.reply(2, 1)?.result).toMatchObject({ kind: 'ok', value: 42 });
    c.request(leader!, { clientId: 2, seq: 2, op: { f: 'cas', key: 'x', expected: 41, value: 43 } });
    c.run(100);
    expect(c.reply(2, 2)?.result).toEqual({ kind: 'cas-failed', current: 42 });
  });

  it('answers a retransmitted request that was already applied from its session, even with no leader known', () => {
    const c = new Cluster();
    c.run(1000);
    const leader = c.leader()!;
    const f = IDS.find((id) => id !== leader)!;
    const req: ClientRequest = { clientId: 3, seq: 1, op: { f: 'write', key: 'x', value: 9 } };
    c.request(f, req);
    c.run(100);
    const first = c.reply(3, 1);
    expect(first?.result.kind).toBe('ok');
    for (const id of IDS) if (id !== f) c.crash(id);
    c.run(1000); // f's leader is gone; it campaigns and knows no leader
    expect(c.nodes.get(f)!.status(partitionId(0)).leader).toBeNull();
    c.replies.length = 0;
    c.request(f, req);
    expect(c.reply(3, 1)?.result).toEqual(first!.result);
    c.request(f, { clientId: 3, seq: 2, op: { f: 'write', key: 'x', value: 10 } });
    expect(c.reply(3, 2)?.result.kind).toBe('unavailable');
  });

  it('refuses a request when it knows no leader (a definite failure)', () => {
    const c = new Cluster();
    c.request(IDS[0]!, { clientId: 1, seq: 1, op: { f: 'read', key: 'x' } });
    expect(c.reply(1, 1)?.result).toMatchObject({ kind: 'unavailable', leaderHint: null });
  });

  it('a crashed node restarts from its disk alone, after compaction, and catches up', () => {
    const c = new Cluster(1, 20);
    c.run(1000);
    const leader = c.leader()!;
    for (let i = 1; i <= 60; i++) {
      c.request(leader, { clientId: 7, seq: i, op: { f: 'write', key: `k${i % 3}`, value: i } });
      c.run(20);
    }
    expect(c.replies.filter((r) => r.clientId === 7 && r.result.kind === 'ok')).toHaveLength(60);
    const victim = IDS.find((id) => id !== leader)!;
    const before = c.nodes.get(victim)!.stateMachine(partitionId(0));
    const snapshotBefore = before.snapshot();
    expect(c.nodes.get(victim)!.status(partitionId(0)).snapshotIndex).toBeGreaterThan(0);
    c.crash(victim);
    c.start(victim);
    c.run(500);
    const after = c.nodes.get(victim)!.stateMachine(partitionId(0));
    expect(after.applied).toBeGreaterThanOrEqual(60);
    expect(after.get('k0')?.value).toBe(60);
    expect(snapshotBefore.length).toBeGreaterThan(0);
  });

  it('spreads keys over partitions, one Raft group each', () => {
    const c = new Cluster(4);
    c.run(1500);
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    expect(new Set(keys.map((k) => partitionOfKey(k, 4))).size).toBeGreaterThan(1);
    keys.forEach((k, i) => c.request(IDS[i % 3]!, { clientId: 10 + i, seq: 1, op: { f: 'write', key: k, value: i } }));
    c.run(300);
    keys.forEach((k, i) => expect(c.reply(10 + i, 1)?.result).toMatchObject({ kind: 'ok', partition: partitionOfKey(k, 4) }));
  });

  it('will not start from a disk with a damaged record', () => {
    const c = new Cluster();
    c.run(1000);
    const leader = c.leader()!;
    for (let i = 1; i <= 5; i++) c.request(leader, { clientId: 1, seq: i, op: { f: 'write', key: 'x', value: i } });
    c.run(100);
    const victim = IDS.find((id) => id !== leader)!;
    c.crash(victim);
    expect(c.disks.get(victim)!.flipBit(new Rng('flip'))).toBe(true);
    expect(() => c.start(victim)).toThrow(NodeStartError);
  });
});
