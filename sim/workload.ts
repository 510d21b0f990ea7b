// The `kv` client workload: a few client machines, each running one client process at a time.
// A process sends one request at a time to some node (sticky to the leader it last heard of,
// sometimes a random node) through the simulated network, and records the history in the
// CONTRACTS.md format. A timeout ends the operation as `info` and retires the process (a new
// process id takes over the machine); a definite refusal ends it as `fail`.
import type { KvOp as NodeOp, KvValue, ReadConsistency } from '../core/node/command.js';
import type { ClientReply, ClientRequest } from '../core/node/types.js';
import type { HistoryEvent } from '../jepsen/types.js';
import type { Rng } from './rng.js';

/** The ops this workload issues: the history format's four. */
type KvOp = Extract<NodeOp, { readonly f: 'read' | 'write' | 'cas' | 'delete' }>;

/** The read levels a run uses (`--consistency`): one level, or `mixed` (each read draws one). */
export type ConsistencyMix = ReadConsistency | 'mixed';
export const CONSISTENCY_MIXES: readonly ConsistencyMix[] = ['strong', 'leader', 'eventual', 'mixed'];

/** A read below `strong`: kept out of the linearizability history, checked for what its level promises. */
function weakLevel(op: NodeOp): ReadConsistency | null {
  return op.f === 'read' && op.consistency !== undefined && op.consistency !== 'strong' ? op.consistency : null;
}

export interface WorkloadConfig {
  readonly clients: number;
  readonly keys: number;
  /** Target rate of operations over all clients, per virtual second. */
  readonly opsPerSec: number;
  readonly timeoutMs: number;
  /** Share of reads; the rest is writes, compare-and-swaps and deletes (about 6:3:1). */
  readonly readRatio: number;
}

export const DEFAULT_WORKLOAD: WorkloadConfig = { clients: 5, keys: 5, opsPerSec: 100, timeoutMs: 1500, readRatio: 0.45 };

interface Outstanding {
  readonly request: ClientRequest;
  readonly node: number;
  readonly invokedAtMs: number;
}

interface Slot {
  process: number;
  seq: number;
  preferred: number | null;
  outstanding: Outstanding | null;
}

export interface WorkloadIo {
  /** Send a request from client machine `slot` to node `node`. */
  send(slot: number, node: number, request: ClientRequest): void;
  /** Ask for onNext(slot) at `atMs`. */
  scheduleNext(slot: number, atMs: number): void;
  /** Ask for onTimeout(slot, process, seq) at `atMs`. */
  scheduleTimeout(slot: number, process: number, seq: number, atMs: number): void;
  /** A write was acknowledged: entry `index` of `partition` must never be lost. */
  acknowledged(partition: number, index: number): void;
  /** For the trace: a client event. */
  note(slot: number, text: () => string, code: number): void;
  /** A `leader` or `eventual` read returned `value` (checked against what its level promises). */
  weakRead?(key: string, value: unknown, level: ReadConsistency, nowMs: number): void;
}

export interface WorkloadStats {
  invoked: number;
  ok: number;
  fail: number;
  info: number;
  /** Writes, cas and deletes that completed ok. */
  committed: number;
}

export class KvWorkload {
  readonly history: HistoryEvent[] = [];
  readonly stats: WorkloadStats = { invoked: 0, ok: 0, fail: 0, info: 0, committed: 0 };
  private readonly slots: Slot[] = [];
  private nextProcess = 0;
  private nextValue = 1;
  /** Values recently written per key (for plausible cas expectations). */
  private readonly recent = new Map<string, KvValue[]>();
  private readonly keyNames: string[];
  /** Virtual time of the first write invoked at or after `probeFromMs` that completed ok. */
  firstOkWriteAfterProbeMs: number | null = null;
  probeFromMs = Infinity;
  stopped = false;

  constructor(
    private readonly config: WorkloadConfig,
    private readonly nodes: number,
    private readonly rng: Rng,
    private readonly io: WorkloadIo,
    private readonly consistency: ConsistencyMix = 'strong',
    /** Draws the level of each read under `mixed` (separate, so strong-only runs draw as before). */
    private readonly consistencyRng: Rng | null = null,
  ) {
    this.keyNames = Array.from({ length: config.keys }, (_, i) => `k${i}`);
    for (let s = 0; s < config.clients; s++) this.slots.push({ process: this.nextProcess++, seq: 0, preferred: null, outstanding: null });
  }

  start(nowMs: number): void {
    for (let s = 0; s < this.slots.length; s++) this.io.scheduleNext(s, nowMs + this.think());
  }

  private think(): number {
    return this.rng.exp((this.config.clients * 1000) / this.config.opsPerSec);
  }

  private pickOp(): KvOp {
    const key = this.rng.pick(this.keyNames);
    const rr = this.config.readRatio;
    const r = this.rng.next();
    if (r < rr) {
      const level = this.consistency === 'mixed' ? this.consistencyRng!.pick(['strong', 'leader', 'eventual'] as const) : this.consistency;
      return level === 'strong' ? { f: 'read', key } : { f: 'read', key, consistency: level };
    }
    const w = (r - rr) / (1 - rr);
    if (w < 0.6) return { f: 'write', key, value: this.nextValue++ };
    if (w < 0.9) {
      const seen = this.recent.get(key) ?? [];
      const expected = seen.length > 0 && this.rng.chance(0.8) ? this.rng.pick(seen) : null;
      return { f: 'cas', key, expected, value: this.nextValue++ };
    }
    return { f: 'delete', key };
  }

  private remember(key: string, v: KvValue | null): void {
    if (v === null) return;
    const list = this.recent.get(key) ?? [];
    list.push(v);
    if (list.length > 4) list.shift();
    this.recent.set(key, list);
  }

  private record(process: number, type: HistoryEvent['type'], op: KvOp, value: unknown, nowMs: number): void {
    this.history.push({ process, type, f: op.f, key: op.key, value, time: nowMs, line: this.history.length + 1 });
  }

  onNext(slot: number, nowMs: number): void {
    const s = this.slots[slot]!;
    if (this.stopped || s.outstanding !== null) return;
    const op = this.pickOp();
    s.seq++;
    const request: ClientRequest = { clientId: s.process, seq: s.seq, op };
    const node = s.preferred !== null && this.rng.chance(0.8) ? s.preferred : this.rng.int(0, this.nodes - 1);
    s.outstanding = { request, node, invokedAtMs: nowMs };
    this.stats.invoked++;
    if (weakLevel(op) === null) this.record(s.process, 'invoke', op, invokeValue(op), nowMs);
    this.io.note(slot, () => `client p${s.process} -> n${node + 1} ${describeOp(op)}`, 1);
    this.io.send(slot, node, request);
    this.io.scheduleTimeout(slot, s.process, s.seq, nowMs + this.config.timeoutMs);
  }

  onReply(slot: number, from: number, reply: ClientReply, nowMs: number): void {
    const s = this.slots[slot]!;
    const o = s.outstanding;
    if (o === null || reply.clientId !== s.process || reply.seq !== o.request.seq) return; // late or duplicate
    s.outstanding = null;
    const op = o.request.op as KvOp;
    const res = reply.result;
    const weak = weakLevel(op);
    if (weak !== null) {
      // Not in the history: a stale read is allowed at this level, so the kv model cannot judge it.
      if (res.kind === 'ok') {
        s.preferred = from;
        this.stats.ok++;
        this.io.weakRead?.(op.key, res.value, weak, nowMs);
        this.io.note(slot, () => `client p${s.process} <- n${from + 1} ok ${describeOp(op)} (${weak}) = ${JSON.stringify(res.value)}`, 2);
      } else {
        s.preferred = res.kind === 'unavailable' || res.kind === 'no-quorum' ? (res.leaderHint !== null ? Number(res.leaderHint.slice(1)) - 1 : null) : s.preferred;
        this.stats.fail++;
        this.io.note(slot, () => `client p${s.process} <- n${from + 1} ${res.kind} ${describeOp(op)} (${weak})`, 4);
      }
      this.io.scheduleNext(slot, nowMs + this.think());
      return;
    }
    switch (res.kind) {
      case 'ok': {
        s.preferred = from;
        const value = op.f === 'read' ? res.value : op.f === 'cas' ? [op.expected, op.value] : op.f === 'write' ? op.value : null;
        this.record(s.process, 'ok', op, value, nowMs);
        this.stats.ok++;
        if (op.f === 'read') this.remember(op.key, res.value as KvValue | null);
        else {
          this.stats.committed++;
          this.io.acknowledged(res.partition, res.index);
          if (op.f !== 'delete') this.remember(op.key, op.value);
          if (this.firstOkWriteAfterProbeMs === null && o.invokedAtMs >= this.probeFromMs) this.firstOkWriteAfterProbeMs = nowMs;
        }
        this.io.note(slot, () => `client p${s.process} <- n${from + 1} ok ${describeOp(op)}${op.f === 'read' ? ` = ${JSON.stringify(res.value)}` : ''} @${res.index}`, 2);
        break;
      }
      case 'cas-failed':
        s.preferred = from;
        this.record(s.process, 'fail', op, op.f === 'cas' ? [op.expected, op.value] : null, nowMs);
        this.stats.fail++;
        this.remember(op.key, res.current as KvValue | null);
        this.io.note(slot, () => `client p${s.process} <- n${from + 1} fail ${describeOp(op)} (current ${JSON.stringify(res.current)})`, 3);
        break;
      case 'unavailable':
        s.preferred = res.leaderHint !== null ? Number(res.leaderHint.slice(1)) - 1 : null;
        this.record(s.process, 'fail', op, invokeValue(op), nowMs);
        this.stats.fail++;
        this.io.note(slot, () => `client p${s.process} <- n${from + 1} fail ${describeOp(op)} (${res.reason})`, 4);
        break;
      case 'invalid':
        // The workload sends only well-formed ops: this is the node's bug, not the client's.
        throw new Error(`node refused a well-formed ${describeOp(op)}: ${res.reason}`);
      case 'no-quorum':
        // Routed but unanswered in time: a write may have applied. Indeterminate, like a timeout.
        if (op.f === 'read') {
          s.preferred = null;
          this.record(s.process, 'fail', op, null, nowMs);
          this.stats.fail++;
        } else {
          this.record(s.process, 'info', op, invokeValue(op), nowMs);
          this.stats.info++;
          s.process = this.nextProcess++;
          s.seq = 0;
          s.preferred = null;
        }
        this.io.note(slot, () => `client p${o.request.clientId} <- n${from + 1} no-quorum ${describeOp(op)} (${res.reason})`, 6);
        break;
      default: {
        const _: never = res;
        throw new Error(`unknown reply ${JSON.stringify(_)}`);
      }
    }
    this.io.scheduleNext(slot, nowMs + this.think());
  }

  onTimeout(slot: number, process: number, seq: number, nowMs: number): void {
    const s = this.slots[slot]!;
    const o = s.outstanding;
    if (o === null || s.process !== process || o.request.seq !== seq) return;
    s.outstanding = null;
    if (weakLevel(o.request.op as NodeOp) !== null) {
      this.stats.fail++;
      this.io.scheduleNext(slot, nowMs + this.think());
      return;
    }
    this.record(process, 'info', o.request.op as KvOp, invokeValue(o.request.op as KvOp), nowMs);
    this.stats.info++;
    this.io.note(slot, () => `client p${process} timed out on ${describeOp(o.request.op as NodeOp)}; retiring it`, 5);
    // A process whose operation is indeterminate is never reused.
    s.process = this.nextProcess++;
    s.seq = 0;
    s.preferred = null;
    this.io.scheduleNext(slot, nowMs + this.think());
  }
}

function invokeValue(op: KvOp): unknown {
  switch (op.f) {
    case 'read':
    case 'delete':
      return null;
    case 'write':
      return op.value;
    case 'cas':
      return [op.expected, op.value];
    default: {
      const _: never = op;
      return _;
    }
  }
}

export function describeOp(op: NodeOp): string {
  switch (op.f) {
    case 'read':
      return `read ${op.key}${op.consistency !== undefined ? ` (${op.consistency})` : ''}`;
    case 'write':
      return `write ${op.key}=${JSON.stringify(op.value)}`;
    case 'cas':
      return `cas ${op.key} ${JSON.stringify(op.expected)}->${JSON.stringify(op.value)}`;
    case 'delete':
      return `delete ${op.key}`;
    case 'put':
      return `put ${op.key}=${String(op.value)}`;
    case 'get':
      return `get ${op.key}`;
    default: {
      const _: never = op;
      return String(_);
    }
  }
}
