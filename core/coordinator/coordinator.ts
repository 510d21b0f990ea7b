// The coordinator: takes any client request for a partition this node does not host and routes
// it to a replica that does (core/replica answers it there; a follower replica hands writes and
// ReadIndex on to its leader through Raft). It follows leader hints, retries on refusal or
// silence, and always answers within routeTimeoutMs: `unavailable` when every attempt was
// refused (certainly not applied), `no-quorum` when some attempt went unanswered (a write may
// have applied; the client's session (clientId, seq) makes a retry apply at most once).
import type { PartitionMap } from '../partition/index.js';
import type { ClientRequest, ClientResult, ForwardReply, ForwardRequest } from '../node/types.js';
import type { NodeId, PartitionId } from '../types.js';
import { LeaderCache } from './routes.js';
import { isReadOp } from '../node/command.js';

export interface CoordinatorConfig {
  readonly self: NodeId;
  readonly routeTimeoutMs: number;
  readonly forwardRetryMs: number;
  /** Pause before retrying after a refusal with no new hint (the group may be electing). */
  readonly refusalBackoffMs: number;
}

export interface CoordinatorHost {
  send(pm: ForwardRequest): void;
  answer(request: ClientRequest, result: ClientResult): void;
}

interface Route {
  readonly request: ClientRequest;
  readonly partition: PartitionId;
  readonly deadlineMs: number;
  attempt: number;
  target: NodeId;
  /** When the current attempt counts as unanswered (or, after a refusal, when to try again). */
  retryAtMs: number;
  /** The current attempt is out on the wire (false: waiting out a refusal backoff). */
  outstanding: boolean;
  /** Some attempt may have reached a leader unanswered: the outcome of a write is unknown. */
  uncertain: boolean;
  lastHint: NodeId | null;
  lastReason: string;
}

export class Coordinator {
  private readonly routes = new Map<string, Route>();
  private readonly leaders: LeaderCache;

  constructor(
    private readonly config: CoordinatorConfig,
    private readonly map: PartitionMap,
    private readonly host: CoordinatorHost,
  ) {
    this.leaders = new LeaderCache(map);
  }

  get pending(): number {
    return this.routes.size;
  }

  /** Route a request for partition p (not hosted here, or not led here when it must be), to `hint` first if given. */
  route(req: ClientRequest, p: PartitionId, nowMs: number, hint: NodeId | null = null): void {
    const ctx = `${req.clientId}:${req.seq}@${p}`; // the parts of one fan-out read share (clientId, seq)
    if (this.routes.has(ctx)) return; // a duplicate of a request being routed
    this.leaders.learn(p, hint);
    const target = this.leaders.first(p);
    const r: Route = {
      request: req,
      partition: p,
      deadlineMs: nowMs + this.config.routeTimeoutMs,
      attempt: 0,
      target,
      retryAtMs: nowMs,
      outstanding: false,
      uncertain: false,
      lastHint: null,
      lastReason: 'no replica answered',
    };
    this.routes.set(ctx, r);
    this.send(r, nowMs);
  }

  /** A replica answered one of our forwards. */
  onReply(m: ForwardReply, nowMs: number): void {
    const ctx = `${m.clientId}:${m.seq}@${m.partition}`;
    const r = this.routes.get(ctx);
    if (r === undefined) return; // answered already, or given up on
    const res = m.result;
    if (res.kind === 'ok' || res.kind === 'cas-failed' || res.kind === 'invalid') {
      // Any attempt's success is the answer, even a late one.
      this.leaders.learn(r.partition, m.from);
      this.finish(ctx, r, res);
      return;
    }
    if (m.attempt !== r.attempt) return; // a refusal of an attempt we already moved past
    r.lastHint = res.leaderHint;
    r.lastReason = res.reason;
    if (res.kind === 'no-quorum') r.uncertain = true;
    this.leaders.forget(r.partition, m.from);
    this.leaders.learn(r.partition, res.leaderHint);
    r.outstanding = false;
    const next = this.leaders.next(r.partition, m.from, res.leaderHint);
    r.target = next;
    if (res.leaderHint !== null && res.leaderHint !== m.from && next === res.leaderHint) this.send(r, nowMs);
    else r.retryAtMs = nowMs + this.config.refusalBackoffMs;
  }

  /** Retry what is due and answer what has run out of time. */
  tick(nowMs: number): void {
    for (const [ctx, r] of this.routes) {
      if (nowMs >= r.deadlineMs) {
        this.giveUp(ctx, r);
        continue;
      }
      if (nowMs < r.retryAtMs) continue;
      if (r.outstanding) {
        // Silence: the message or its answer may be lost, or the replica may be proposing it.
        if (!isReadOp(r.request.op)) r.uncertain = true;
        this.leaders.forget(r.partition, r.target);
        r.target = this.leaders.next(r.partition, r.target, null);
      }
      this.send(r, nowMs);
    }
  }

  private send(r: Route, nowMs: number): void {
    r.attempt++;
    r.outstanding = true;
    r.retryAtMs = nowMs + this.config.forwardRetryMs;
    this.host.send({ kind: 'forward', from: this.config.self, to: r.target, partition: r.partition, attempt: r.attempt, request: r.request });
  }

  /**
   * The node learned the time for the first time (its first tick): routes taken before were
   * timed from 0, so they move by `nowMs`.
   */
  clockStarted(nowMs: number): void {
    for (const r of this.routes.values()) {
      (r as { deadlineMs: number }).deadlineMs += nowMs;
      r.retryAtMs += nowMs;
    }
  }

  private giveUp(ctx: string, r: Route): void {
    // An attempt still out may be proposing the write right now.
    if (r.outstanding && !isReadOp(r.request.op)) r.uncertain = true;
    const why = `partition ${r.partition}: no answer from its replicas [${this.map.replicasOf(r.partition).join(', ')}] within ${this.config.routeTimeoutMs} ms (last: ${r.lastReason})`;
    if (r.uncertain) this.finish(ctx, r, { kind: 'no-quorum', leaderHint: r.lastHint, reason: `${why}; the outcome is unknown, retry with the same session` });
    else this.finish(ctx, r, { kind: 'unavailable', leaderHint: r.lastHint, reason: why });
  }

  private finish(ctx: string, r: Route, result: ClientResult): void {
    this.routes.delete(ctx);
    this.host.answer(r.request, result);
  }
}
