// A small in-process cluster of ClusterNodes with a perfect network (messages delivered in
// order, links can be cut), for tests of routing, records and fan-out reads over many partitions.
import { ClusterNode } from '../../core/node/node.js';
import type { ClientReply, ClientRequest, NodeConfig, PeerMessage } from '../../core/node/types.js';
import { nodeId, partitionId, type NodeId, type PartitionId } from '../../core/types.js';
import { SimDisk } from '../../sim/disk.js';
import { Rng } from '../../sim/rng.js';

export const ROUTE_TIMEOUT_MS = 1000;

export class TestCluster {
  readonly nodes = new Map<NodeId, ClusterNode>();
  readonly replies: Array<ClientReply & { atMs: number }> = [];
  readonly cut = new Set<string>();
  nowMs = 0;
  private queue: PeerMessage[] = [];

  constructor(
    readonly ids: readonly NodeId[],
    readonly partitions: number,
    replicationFactor: number,
    extra: Partial<NodeConfig> = {},
  ) {
    for (const id of ids) {
      const config: NodeConfig = {
        id,
        nodes: ids,
        partitions,
        replicationFactor,
        tickMs: 10,
        electionTicks: 10,
        heartbeatTicks: 2,
        compactAfterEntries: 1000,
        requestTimeoutMs: 5000,
        routeTimeoutMs: ROUTE_TIMEOUT_MS,
        random: new Rng(`harness/${id}`),
        ...extra,
      };
      this.nodes.set(id, new ClusterNode(config, new SimDisk()));
    }
  }

  static of(n: number, partitions: number, rf: number, extra: Partial<NodeConfig> = {}): TestCluster {
    return new TestCluster(
      Array.from({ length: n }, (_, i) => nodeId(`n${i + 1}`)),
      partitions,
      rf,
      extra,
    );
  }

  node(id: NodeId): ClusterNode {
    return this.nodes.get(id)!;
  }

  private collect(id: NodeId): void {
    const out = this.nodes.get(id)!.drain();
    this.queue.push(...out.messages);
    for (const r of out.replies) this.replies.push({ ...r, atMs: this.nowMs });
  }

  private deliverAll(): void {
    for (let guard = 0; this.queue.length > 0 && guard < 1_000_000; guard++) {
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
        this.nodes.get(id)!.tick(this.nowMs);
        this.collect(id);
      }
      this.deliverAll();
    }
  }

  /** Run until every partition has a leader (bounded). */
  settle(maxMs = 5000): void {
    for (let t = 0; t < maxMs; t += 100) {
      this.run(100);
      let all = true;
      for (let p = 0; p < this.partitions; p++) if (this.leaderOf(partitionId(p)) === null) all = false;
      if (all) return;
    }
    throw new Error('the cluster did not elect a leader for every partition');
  }

  leaderOf(p: PartitionId): NodeId | null {
    for (const id of this.ids) {
      const n = this.nodes.get(id)!;
      if (n.hosts(p) && n.status(p).role === 'leader') return id;
    }
    return null;
  }

  isolate(id: NodeId): void {
    for (const o of this.ids) if (o !== id) this.cut.add(`${id}>${o}`).add(`${o}>${id}`);
  }

  request(to: NodeId, req: ClientRequest): void {
    this.nodes.get(to)!.request(req);
    this.collect(to);
    this.deliverAll();
  }

  reply(clientId: number, seq: number) {
    return this.replies.find((r) => r.clientId === clientId && r.seq === seq);
  }

  private seqs = new Map<number, number>();

  /** Send op as the next request of client `clientId` through node `to`, run until answered (bounded); the result. */
  call(to: NodeId, clientId: number, op: ClientRequest['op'], maxMs = 3000) {
    const seq = (this.seqs.get(clientId) ?? 0) + 1;
    this.seqs.set(clientId, seq);
    this.request(to, { clientId, seq, op });
    for (let t = 0; t < maxMs && this.reply(clientId, seq) === undefined; t += 5) this.run(5);
    const r = this.reply(clientId, seq);
    if (r === undefined) throw new Error(`no answer to ${JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    return r.result;
  }
}
