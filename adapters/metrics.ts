// GET /metrics in the Prometheus text format, through prom-client. Request counters and
// latency histograms are updated where requests end; Raft and peer figures are read from the
// node and the transport when scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { partitionId } from '../core/types.js';
import type { NodeHost } from './node-host.js';
import type { TcpTransport } from './transport/tcp-transport.js';

/** A route template for a URL, so label cardinality stays bounded. */
export function routeOf(url: string): string {
  const path = url.split('?')[0] ?? '/';
  if (path.startsWith('/v1/kv/')) return '/v1/kv/{key}';
  if (path === '/v1/health' || path === '/v1/status' || path === '/v1/openapi.json' || path === '/metrics') return path;
  return 'other';
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'status'>;
  private readonly flushSeconds: Histogram;
  private readonly flushOps: Histogram;
  readonly leaderChanges: Counter<'partition'>;
  private host: NodeHost | null = null;
  private transport: TcpTransport | null = null;

  constructor(partitions: number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'conclave_process_' });
    this.requests = new Counter({ name: 'conclave_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.latency = new Histogram({ name: 'conclave_http_request_duration_seconds', help: 'HTTP request latency by route and status', labelNames: ['route', 'status'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.flushSeconds = new Histogram({ name: 'conclave_storage_flush_seconds', help: 'One group commit: LMDB transaction until durable (fsync)', buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers });
    this.flushOps = new Histogram({ name: 'conclave_storage_flush_ops', help: 'Records written per group commit (the batch size)', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers });
    this.leaderChanges = new Counter({ name: 'conclave_raft_leader_changes_total', help: 'Leader changes seen by this node, per partition', labelNames: ['partition'], registers });
    const self = this;
    new Gauge({
      name: 'conclave_raft_term',
      help: 'Current Raft term per partition',
      labelNames: ['partition'],
      registers,
      collect() {
        if (self.host === null) return;
        for (let p = 0; p < partitions; p++) this.set({ partition: String(p) }, self.host.node.status(partitionId(p)).term);
      },
    });
    new Gauge({
      name: 'conclave_raft_commit_index',
      help: 'Commit index per partition',
      labelNames: ['partition'],
      registers,
      collect() {
        if (self.host === null) return;
        for (let p = 0; p < partitions; p++) this.set({ partition: String(p) }, self.host.node.status(partitionId(p)).commit);
      },
    });
    new Gauge({
      name: 'conclave_raft_apply_lag',
      help: 'Committed but not yet applied entries per partition',
      labelNames: ['partition'],
      registers,
      collect() {
        if (self.host === null) return;
        for (let p = 0; p < partitions; p++) {
          const s = self.host.node.status(partitionId(p));
          this.set({ partition: String(p) }, s.commit - s.applied);
        }
      },
    });
    new Gauge({
      name: 'conclave_partition_leader_here',
      help: '1 when this node leads the partition',
      labelNames: ['partition'],
      registers,
      collect() {
        if (self.host === null) return;
        for (let p = 0; p < partitions; p++) this.set({ partition: String(p) }, self.host.node.status(partitionId(p)).role === 'leader' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'conclave_peer_connected',
      help: '1 when the outgoing connection to the peer is up and authenticated',
      labelNames: ['peer'],
      registers,
      collect() {
        if (self.transport === null) return;
        for (const p of self.transport.peerStates()) this.set({ peer: p.peer }, p.state === 'connected' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'conclave_requests_in_flight',
      help: 'Client operations this node is waiting on',
      registers,
      collect() {
        if (self.host !== null) this.set(self.host.inFlight());
      },
    });
  }

  attach(host: NodeHost, transport: TcpTransport): void {
    this.host = host;
    this.transport = transport;
  }

  httpDone(method: string, url: string, status: number, seconds: number): void {
    const route = routeOf(url);
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, status: String(status) }, seconds);
  }

  flushed(ms: number, ops: number): void {
    this.flushSeconds.observe(ms / 1000);
    this.flushOps.observe(ops);
  }
}
