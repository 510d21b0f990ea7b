// Routing: a node hosts exactly its partitions' groups; a request for any other partition is
// forwarded over the peer transport to a replica, follows leader hints, retries within a bound,
// and is always answered (never left hanging), even when the partition has lost its quorum.
import { describe, expect, it } from 'vitest';
import { ClusterNode } from '../../core/node/node.js';
import type { ClientReply, ClientRequest, NodeConfig, PeerMessage } from '../../core/node/types.js';
import { PartitionMap } from '../../core/partition/index.js';
import { nodeId, partitionId, type NodeId, type PartitionId } from '../../core/types.js';
import { SimDisk } from '../../sim/disk.js';
import { Rng } from '../../sim/rng.js';

const ROUTE_TIMEOUT_MS = 1500;

class Cluster {
  readonly disks: Map<NodeId, SimDisk>;
  readonly nodes = new Map<NodeId, ClusterNode | null>();
  readonly replies: Array<ClientReply & { from: NodeId; atMs: number }> = [];
  readonly sent: PeerMessage[] = [];
  readonly map: PartitionMap;
  nowMs = 0;
  private queue: PeerMessage[] = [];

  constructor(
    readonly ids: readonly NodeId[],
    readonly partitions: number,
    readonly replicationFactor?: number,
  ) {
    this.disks = new Map(ids.map((id) => [id, new SimDisk()]));
    this.map = new PartitionMap({ nodes: ids, partitions, ...(replicationFactor !== undefined ? { replicationFactor } : {}) });
    for (const id of ids) this.start(id);
  }

  config(id: NodeId): NodeConfig {
    return {
      id,
      nodes: this.ids,
      partitions: this.partitions,
      ...(this.replicationFactor !== undefined ? { replicationFactor: this.replicationFactor } : {}),
      tickMs: 10,
      electionTicks: 10,
      heartbeatTicks: 2,
      compactAfterEntries: 1000,
      requestTimeoutMs: 5000,
      routeTimeoutMs: ROUTE_TIMEOUT_MS,
      random: new Rng(`routing-test/${id}/${this.nowMs}`),
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
    for (const m of out.messages) expect(m.from).toBe(id);
    this.queue.push(...out.messages);
    this.sent.push(...out.messages);
    for (const r of out.replies) this.replies.push({ ...r, from: id, atMs: this.nowMs });
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
      for (const id of this.ids) {
        this.nodes.get(id)?.tick(this.nowMs);
        this.collect(id);
      }
      this.deliverAll();
    }
  }

  leaderOf(p: PartitionId): NodeId | null {
    for (const id of this.map.replicasOf(p)) {
      const n = this.nodes.get(id);
      if (n && n.status(p).role === 'leader') return id;
    }
    return null;
  }

  request(to: NodeId, req: ClientRequest): void {
    this.nodes.get(to)!.request(req);
    this.collect(to);
    this.deliverAll();
  }

  reply(clientId: number, seq: number): (ClientReply & { from: NodeId; atMs: number }) | undefined {
    return this.replies.find((r) => r.clientId === clientId && r.seq === seq);
  }

  /** A key of partition p. */
  keyIn(p: PartitionId): string {
    for (let i = 0; ; i++) if (this.map.partitionOfKey(`key${i}`) === p) return `key${i}`;
  }

  /** A node that does not replicate p. */
  outsider(p: PartitionId): NodeId {
    return this.ids.find((id) => !this.map.isReplica(id, p))!;
  }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => nodeId(`n${i + 1}`));

describe('routing over the partition map', () => {
  it('each node hosts the groups of exactly its partitions, and each group votes among its replicas only', () => {
    const c = new Cluster(ids(5), 8);
    c.run(1500);
    for (const id of c.ids) {
      const node = c.nodes.get(id)!;
      expect(node.hostedPartitions()).toEqual(c.map.partitionsOf(id));
      for (let p = 0; p < 8; p++) expect(node.hosts(partitionId(p))).toBe(c.map.isReplica(id, partitionId(p)));
      const other = Array.from({ length: 8 }, (_, p) => partitionId(p)).find((p) => !node.hosts(p))!;
      expect(() => node.status(other)).toThrow(/does not replicate partition/);
    }
    for (let p = 0; p < 8; p++) {
      const pid = partitionId(p);
      expect(c.leaderOf(pid)).not.toBeNull();
      // Raft traffic of p flows only between its replicas.
      for (const m of c.sent) if (m.kind === 'raft' && m.partition === pid) {
        expect(c.map.isReplica(m.from, pid)).toBe(true);
        expect(c.map.isReplica(m.to, pid)).toBe(true);
      }
    }
  });

  it('any node takes any request: writes and reads sent to non-replicas are forwarded and answered', () => {
    const c = new Cluster(ids(5), 8);
    c.run(1500);
    let client = 100;
    for (let p = 0; p < 8; p++) {
      const pid = partitionId(p);
      const key = c.keyIn(pid);
      const outsider = c.outsider(pid);
      c.request(outsider, { clientId: client, seq: 1, op: { f: 'write', key, value: `v${p}` } });
      c.run(100);
      expect(c.reply(client, 1)).toMatchObject({ from: outsider, result: { kind: 'ok', partition: pid, value: `v${p}` } });
      c.request(outsider, { clientId: client, seq: 2, op: { f: 'read', key } });
      c.run(100);
      expect(c.reply(client, 2)).toMatchObject({ from: outsider, result: { kind: 'ok', value: `v${p}` } });
      c.request(outsider, { clientId: client, seq: 3, op: { f: 'cas', key, expected: 'nope', value: 'x' } });
      c.run(100);
      expect(c.reply(client, 3)?.result).toEqual({ kind: 'cas-failed', current: `v${p}` });
      client++;
    }
    expect(c.sent.some((m) => m.kind === 'forward')).toBe(true);
    expect(c.sent.some((m) => m.kind === 'forward-reply')).toBe(true);
  });

  it('follows the leader change: with the partition leader crashed, a routed write lands on the new leader', () => {
    const c = new Cluster(ids(5), 4);
    c.run(1500);
    const pid = partitionId(1);
    const key = c.keyIn(pid);
    const outsider = c.outsider(pid);
    c.request(outsider, { clientId: 1, seq: 1, op: { f: 'write', key, value: 1 } });
    c.run(100);
    expect(c.reply(1, 1)?.result.kind).toBe('ok');
    const old = c.leaderOf(pid)!;
    c.crash(old);
    c.request(outsider, { clientId: 1, seq: 2, op: { f: 'write', key, value: 2 } });
    c.run(ROUTE_TIMEOUT_MS + 100);
    const r = c.reply(1, 2);
    expect(r?.result).toMatchObject({ kind: 'ok', value: 2 });
    const now = c.leaderOf(pid);
    expect(now).not.toBeNull();
    expect(now).not.toBe(old);
    // Applied exactly once on every live replica, however many attempts the coordinator made.
    for (const id of c.map.replicasOf(pid)) {
      const n = c.nodes.get(id);
      if (n) expect(n.stateMachine(pid).get(key)?.value).toBe(2);
    }
  });

  it('a retried write (same client and seq) applies once, whichever node it is sent to', () => {
    const c = new Cluster(ids(5), 4);
    c.run(1500);
    const pid = partitionId(2);
    const key = c.keyIn(pid);
    const req: ClientRequest = { clientId: 9, seq: 1, op: { f: 'write', key, value: 'once' } };
    c.request(c.outsider(pid), req);
    c.run(100);
    const first = c.reply(9, 1)!.result;
    expect(first.kind).toBe('ok');
    const leader = c.leaderOf(pid)!;
    const applied = c.nodes.get(leader)!.stateMachine(pid).applied;
    c.replies.length = 0;
    for (const id of c.ids) {
      c.request(id, req);
      c.run(100);
      expect(c.reply(9, 1)?.result).toEqual(first);
      c.replies.length = 0;
    }
    // No new entry was committed for the retransmissions.
    expect(c.nodes.get(leader)!.stateMachine(pid).applied).toBe(applied);
  });

  it('RF 2 needs both replicas: with one down, a routed write is answered no-quorum within the bound, never left hanging', () => {
    const c = new Cluster(ids(3), 4);
    expect(c.map.replicationFactor).toBe(2);
    c.run(1500);
    const pid = partitionId(0);
    const key = c.keyIn(pid);
    const outsider = c.outsider(pid);
    const [a, b] = c.map.replicasOf(pid);
    c.crash(c.leaderOf(pid) === a ? a! : b!);
    const sentAt = c.nowMs;
    c.request(outsider, { clientId: 5, seq: 1, op: { f: 'write', key, value: 1 } });
    c.run(ROUTE_TIMEOUT_MS + 200);
    const r = c.reply(5, 1);
    expect(r).toBeDefined();
    expect(['no-quorum', 'unavailable']).toContain(r!.result.kind);
    expect(r!.atMs - sentAt).toBeLessThanOrEqual(ROUTE_TIMEOUT_MS + 10);
    expect(c.nodes.get(outsider)!.pendingRequests()).toBe(0);
    // A read routed the same way is answered too.
    c.request(outsider, { clientId: 5, seq: 2, op: { f: 'read', key } });
    c.run(ROUTE_TIMEOUT_MS + 200);
    expect(['no-quorum', 'unavailable']).toContain(c.reply(5, 2)?.result.kind);
  });

  it('a forward to a node that is not a replica is refused, not dropped', () => {
    const c = new Cluster(ids(5), 4);
    const pid = partitionId(0);
    const outsider = c.outsider(pid);
    const n = c.nodes.get(outsider)!;
    n.receive({ kind: 'forward', from: nodeId('n1'), to: outsider, partition: pid, attempt: 3, request: { clientId: 1, seq: 1, op: { f: 'read', key: c.keyIn(pid) } } });
    const out = n.drain().messages;
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'forward-reply', from: outsider, to: 'n1', attempt: 3, result: { kind: 'unavailable' } });
  });
});
