// The simulated world: one seed, one virtual clock, one event queue. Nodes (core/node), the
// network, the disks, the fault schedule and the clients all live here; after every event the
// safety checks run, and at the end liveness and linearizability are judged.
import type { PlantedBug } from '../core/bugs.js';
import { ClusterNode, NodeStartError } from '../core/node/node.js';
import type { ClientReply, ClientRequest, NodeConfig, PeerMessage } from '../core/node/types.js';
import { DEFAULT_NODE_TUNING } from '../core/node/types.js';
import type { Entry, Message, RaftGroup, Role } from '../core/raft/types.js';
import { PartitionMap } from '../core/partition/index.js';
import { decodeAnyCommand } from '../core/replica/command.js';
import { AssertionError, nodeId, partitionId, type NodeId } from '../core/types.js';
import { checkHistory } from '../jepsen/check.js';
import type { HistoryEvent } from '../jepsen/types.js';
import { SafetyChecks, type LogView, type Violation } from './checks.js';
import { SimDisk } from './disk.js';
import { EventQueue } from './event-queue.js';
import { describeFault, generateSchedule, type FaultEvent, type FaultProfile, type FaultSchedule, type Target } from './faults.js';
import { Network } from './network.js';
import type { SimOptions } from './options.js';
import { Rng } from './rng.js';
import { Trace } from './trace.js';
import { drawTuning, type ClusterTuning } from './tuning.js';
import { describeOp, KvWorkload } from './workload.js';

type SimEvent =
  | { readonly t: 'peer'; readonly to: number; readonly from: number; readonly pm: PeerMessage }
  | { readonly t: 'request'; readonly to: number; readonly slot: number; readonly req: ClientRequest }
  | { readonly t: 'reply'; readonly slot: number; readonly from: number; readonly reply: ClientReply }
  | { readonly t: 'tick'; readonly node: number; readonly incarnation: number }
  | { readonly t: 'client-next'; readonly slot: number }
  | { readonly t: 'client-timeout'; readonly slot: number; readonly process: number; readonly seq: number }
  | { readonly t: 'fault'; readonly index: number }
  | { readonly t: 'fault-end'; readonly index: number }
  /** An armed `isolate-next-leader` partition goes off: `node` was just elected. */
  | { readonly t: 'isolate-elected'; readonly index: number; readonly node: number }
  | { readonly t: 'restart'; readonly node: number }
  | { readonly t: 'resume'; readonly node: number }
  | { readonly t: 'heal-all' };

type Deferred = Extract<SimEvent, { t: 'peer' } | { t: 'request' }>;

interface NodeSlot {
  readonly index: number;
  readonly id: NodeId;
  readonly disk: SimDisk;
  node: ClusterNode | null;
  incarnation: number;
  paused: boolean;
  inbox: Deferred[];
  /** Refused to start from a damaged disk: stays down for good. */
  damaged: boolean;
  clockRate: number;
  anchorVirtualMs: number;
  anchorLocalMs: number;
  /** While down: its durable log per partition, as it would restart with it (null: damaged). */
  durableLogs: LogView[] | null;
  /** Last commit index seen per partition (to notice a leader's commit advancing). */
  lastCommit: number[];
  /** Per partition: the last leader commit mark recorded (leaderCommitSeen); reset on restart. */
  markSeen: number[];
  /** The running incarnation's groups, by hosted partition (looked up once per start). */
  groups: Array<readonly [number, RaftGroup]>;
  /** Partitions whose commit index moved since the last flush (NodeObserver.commitMoved). */
  moved: number[];
}

export interface SimStats {
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly events: number;
  readonly messages: number;
  readonly clientOps: number;
  readonly committed: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  readonly elections: number;
  readonly crashes: number;
  readonly restarts: number;
  readonly pauses: number;
  readonly partitions: number;
  readonly damagedNodes: number;
  readonly tornTailsRepaired: number;
  readonly bitFlips: number;
  readonly messagesDropped: number;
  readonly messagesDuplicated: number;
  readonly appliedEntries: number;
  readonly diskBytes: number;
  readonly faultEvents: number;
}

export interface NarrativeLine {
  readonly atMs: number;
  readonly text: string;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly traceHash: string;
  readonly violations: readonly Violation[];
  readonly stats: SimStats;
  readonly linearizable: boolean | 'unknown' | null;
  readonly linearizabilityExplanation: string | null;
  readonly bug: PlantedBug | null;
  readonly profile: FaultProfile | null;
  readonly tuning: ClusterTuning;
  readonly schedule: FaultSchedule;
  readonly healAtMs: number;
  readonly history: readonly HistoryEvent[];
  readonly traceLines: readonly string[] | null;
  readonly narrative: readonly NarrativeLine[];
}

const ROLE_CODES: Record<Role, number> = { follower: 0, 'pre-candidate': 1, candidate: 2, leader: 3 };
const MSG_CODES: Record<Message['type'], number> = {
  vote: 1,
  'vote-response': 2,
  append: 3,
  'append-response': 4,
  heartbeat: 5,
  'heartbeat-response': 6,
  snapshot: 7,
  'timeout-now': 8,
  propose: 9,
  'read-index': 10,
  'read-index-response': 11,
  'snapshot-ack': 12,
};

/**
 * How long after the last fault heals the cluster has to elect a leader and commit a write:
 * a quarter of the run (at most 15 s), but never less than two client timeouts plus a few
 * election timeouts (a client stuck on a request lost in the faults must time out and retry).
 */
export function settleMs(durationMs: number, tuning: ClusterTuning): number {
  const floor = 2 * tuning.workload.timeoutMs + 4 * tuning.electionTicks * tuning.tickMs;
  return Math.min(durationMs, Math.max(floor, Math.min(15_000, Math.floor(durationMs * 0.25))));
}

/** Trace code of a peer message: Raft message types 1..12, request forwarding 20/21, coalesced heartbeats 22, batch 23. */
function peerCode(pm: PeerMessage): number {
  switch (pm.kind) {
    case 'raft':
      return MSG_CODES[pm.message.type];
    case 'forward':
      return 20;
    case 'forward-reply':
      return 21;
    case 'heartbeats':
      return 22;
    case 'batch':
      return 23;
    default: {
      const _: never = pm;
      throw new AssertionError(`unknown peer message ${JSON.stringify(_)}`);
    }
  }
}

function partitionTag(pm: PeerMessage): string {
  return 'partition' in pm ? `p${pm.partition} ` : '';
}

function shortPeerMessage(pm: PeerMessage): string {
  switch (pm.kind) {
    case 'raft':
      return shortMessage(pm.message);
    case 'forward':
      return `forward#${pm.attempt} ${pm.from}->${pm.to} ${describeOp(pm.request.op as Parameters<typeof describeOp>[0])}`;
    case 'forward-reply':
      return `forward-reply#${pm.attempt} ${pm.from}->${pm.to} ${pm.result.kind}`;
    case 'heartbeats':
      return `heartbeats ${pm.from}->${pm.to} beats [${pm.beats.map(([p, t, c, q]) => `p${p} t${t} c${c}${q ? ' q' : ''}`).join(', ')}] acks [${pm.acks.map(([p, t, q]) => `p${p} t${t}${q ? ' q' : ''}`).join(', ')}]`;
    case 'batch':
      return `batch ${pm.from}->${pm.to} n=${pm.messages.length}: ${pm.messages.map((m) => `${'partition' in m ? `p${m.partition} ` : ''}${shortPeerMessage(m)}`).join(' | ')}`;
    default: {
      const _: never = pm;
      throw new AssertionError(`unknown peer message ${JSON.stringify(_)}`);
    }
  }
}

export function shortMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'vote':
      return `${head}${m.preVote ? ' pre' : ''} last ${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
      return `${head}${m.preVote ? ' pre' : ''} ${m.granted ? 'granted' : 'rejected'}`;
    case 'append':
      return `${head} prev ${m.prevIndex}/${m.prevTerm} n=${m.entries.length} commit ${m.commit}`;
    case 'append-response':
      return `${head} ${m.reject ? `reject ${m.index} hint ${m.hintIndex}/${m.hintTerm}` : `ok ${m.index}`}`;
    case 'heartbeat':
      return `${head} commit ${m.commit}${m.quiesce === true ? ' quiesce' : ''}`;
    case 'heartbeat-response':
      return `${head}${m.quiesced === true ? ' quiesced' : ''}`;
    case 'snapshot':
      return `${head} snap ${m.meta.index}/${m.meta.term} bytes ${m.offset}+${m.data.byteLength}/${m.totalBytes}`;
    case 'snapshot-ack':
      return `${head} snap ${m.index} held ${m.offset}`;
    case 'timeout-now':
      return head;
    case 'propose':
      return `${head} n=${m.data.length}`;
    case 'read-index':
      return `${head} ctx ${m.context}`;
    case 'read-index-response':
      return `${head} ctx ${m.context} index ${m.index}`;
    default: {
      const _: never = m;
      return String(_);
    }
  }
}

export function runSimulation(options: SimOptions): SimResult {
  return new World(options).run();
}

class World {
  private readonly rng: Rng;
  private readonly faultRng: Rng;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly net: Network;
  private readonly trace: Trace;
  private readonly checks: SafetyChecks;
  private readonly slots: NodeSlot[] = [];
  private readonly workload: KvWorkload;
  private readonly schedule: FaultSchedule;
  private readonly profile: FaultProfile | null;
  private readonly healAtMs: number;
  private readonly narrative: NarrativeLine[] = [];
  private readonly activeCuts = new Map<number, Array<readonly [number, number]>>();
  /** `isolate-next-leader` partitions waiting for the next election in partition 0. */
  private readonly armedIsolations: number[] = [];
  private readonly corruptible = new Set<number>();
  private readonly processSlot = new Map<number, number>();
  private readonly bugs: ReadonlySet<PlantedBug>;
  private readonly tuning: ClusterTuning;
  private now = 0;
  private events = 0;
  private crashes = 0;
  private restarts = 0;
  private pauses = 0;
  private partitionsCut = 0;
  private stopped = false;
  private lastLeader: NodeId | null = null;
  /** For the weak-read check: entries seen applied, and the (partition, index, term) of each (key, value) written. */
  private readonly writeSeen = new Set<string>();
  private readonly writers = new Map<string, Array<{ readonly p: number; readonly index: number; readonly term: number }>>();
  /** Placement: the same map every node computes (RF from the cluster size unless overridden). */
  private readonly map: PartitionMap;

  constructor(private readonly o: SimOptions) {
    if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new Error(`nodes must be >= 1, got ${o.nodes}`);
    if (!Number.isInteger(o.partitions) || o.partitions < 1) throw new Error(`partitions must be >= 1, got ${o.partitions}`);
    this.rng = new Rng(`conclave-sim/${o.seed}`);
    this.map = new PartitionMap({
      nodes: Array.from({ length: o.nodes }, (_, i) => nodeId(`n${i + 1}`)),
      partitions: o.partitions,
      ...(o.replicationFactor !== undefined ? { replicationFactor: o.replicationFactor } : {}),
    });
    this.faultRng = this.rng.fork('fault-runtime');
    this.trace = new Trace(o.trace);
    this.checks = new SafetyChecks(o.partitions);
    this.bugs = o.bug === null ? new Set() : new Set([o.bug]);
    // The fault window ends before the settle period, which depends on the drawn client
    // timeout; the schedule is drawn for the longest possible window and cut at the heal.
    const drawn = o.tuning ?? drawTuning(this.rng.fork('tuning'));
    let profile: FaultProfile | null = null;
    let schedule: FaultSchedule;
    if (o.schedule !== undefined) schedule = o.schedule;
    else {
      // The heal time does not depend on what the schedule changes (client timeouts and election ticks are drawn above).
      const g = generateSchedule(this.rng.fork('schedule'), o.faults, o.swarm, o.nodes, o.durationMs, o.durationMs - settleMs(o.durationMs, drawn), o.partitions);
      schedule = g.schedule;
      profile = g.profile;
    }
    // Leader-hunting seeds bring a heavy client load: many proposals in flight when leaders fall.
    const heavy = profile?.leaderFocus === true && o.tuning === undefined;
    const wl = {
      ...drawn.workload,
      ...(heavy ? { clients: Math.max(drawn.workload.clients, 12), opsPerSec: Math.max(drawn.workload.opsPerSec, 200) } : {}),
      // A stale read needs a read to land on the deposed leader.
      ...(heavy && (profile?.hunt === 'deposed' || profile?.hunt === 'phased') ? { readRatio: Math.max(drawn.workload.readRatio, 0.5) } : {}),
      ...(o.workloadConfig ?? {}),
    };
    // ...and mostly run without check-quorum (etcd's default), so a deposed leader lingers.
    const focusRng = this.rng.fork('focus');
    const deposed = heavy && profile?.hunt === 'deposed';
    const phased = heavy && profile?.hunt === 'phased';
    let raft = heavy && focusRng.chance(deposed ? 0.9 : phased ? 0.8 : 0.7) ? { ...drawn.raft, checkQuorum: false } : drawn.raft;
    // Phased seeds also run the Figure-8 story: about one command per append message there
    // (see sim/tuning.ts), so a new leader's old entries travel without what follows them.
    if (phased && focusRng.chance(0.6)) raft = { ...raft, maxEntriesBytesPerMsg: 72 };
    this.tuning = { ...drawn, raft, workload: wl };
    this.healAtMs = o.durationMs - settleMs(o.durationMs, this.tuning);
    this.schedule = schedule;
    this.profile = profile;
    this.net = new Network(this.rng.fork('network'), o.nodes + wl.clients, o.nodes);
    for (let i = 0; i < o.nodes; i++) {
      const id = nodeId(`n${i + 1}`);
      const disk = new SimDisk();
      disk.onHardStateWritten = (p, hs) => {
        this.checks.hardStateWritten(id, p, hs, disk.durableCommit.get(p) ?? 0);
        if (hs.vote !== null) this.checks.voteGranted(p, id, hs.vote, hs.term);
      };
      this.slots.push({ index: i, id, disk, node: null, incarnation: 0, paused: false, inbox: [], damaged: false, clockRate: 1, anchorVirtualMs: 0, anchorLocalMs: 0, durableLogs: null, lastCommit: new Array<number>(o.partitions).fill(0), markSeen: [], groups: [], moved: [] });
    }
    this.workload = new KvWorkload(wl, o.nodes, this.rng.fork('workload'), {
      send: (slot, node, req) => {
        this.processSlot.set(req.clientId, slot);
        for (const at of this.net.send(this.now, o.nodes + slot, node)) this.queue.push(at, { t: 'request', to: node, slot, req });
      },
      scheduleNext: (slot, atMs) => this.queue.push(atMs, { t: 'client-next', slot }),
      scheduleTimeout: (slot, process, seq, atMs) => this.queue.push(atMs, { t: 'client-timeout', slot, process, seq }),
      acknowledged: (p, index) => this.checks.acknowledged(p, index),
      note: (slot, text, code) => this.trace.record(this.now, 60 + code, slot, 0, 0, text),
      weakRead: (key, value, level) => this.checkWeakRead(key, value, level),
    }, o.consistency ?? 'strong', o.consistency !== undefined && o.consistency !== 'strong' ? this.rng.fork('consistency') : null);
    this.workload.probeFromMs = this.healAtMs;
  }

  private say(text: string): void {
    this.narrative.push({ atMs: this.now, text });
  }

  private nodeIndex(id: NodeId): number {
    return Number(id.slice(1)) - 1;
  }

  private localClock(s: NodeSlot): number {
    return s.anchorLocalMs + (this.now - s.anchorVirtualMs) * s.clockRate;
  }

  private nodeConfig(s: NodeSlot): NodeConfig {
    const observer = {
      persisted: (node: NodeId, p: number, entries: readonly Entry[]) => this.checks.persisted(node, p, entries),
      commitMoved: (_node: NodeId, p: number) => {
        s.moved.push(p);
        this.leaderCommitSeen(s, p);
      },
      applied: (node: NodeId, p: number, e: Entry) => {
        this.checks.applied(node, p, e);
        if (this.o.consistency !== undefined && this.o.consistency !== 'strong') this.noteWrite(p, e);
      },
      roleChanged: (node: NodeId, p: number, role: Role, term: number, leader: NodeId | null, group: RaftGroup) => {
        this.trace.record(this.now, 3, s.index, ROLE_CODES[role], term, () => `${node} p${p} becomes ${role} in term ${term}${leader !== null ? ` (leader ${leader})` : ''}`);
        const armed = role === 'leader' && p === 0 ? this.armedIsolations.shift() : undefined;
        if (armed !== undefined) {
          const f = this.schedule[armed];
          const delay = f?.kind === 'partition' ? (f.afterElectionMs ?? 0) : 0;
          this.queue.push(this.now + delay, { t: 'isolate-elected', index: armed, node: s.index });
        }
        if (role === 'leader' && p === 0 && leader !== this.lastLeader) {
          this.lastLeader = leader;
          this.say(`${node} was elected leader in term ${term}`);
        }
        this.checks.roleChanged(node, p, role, term, group);
      },
    };
    return {
      id: s.id,
      nodes: this.slots.map((x) => x.id),
      partitions: this.o.partitions,
      replicationFactor: this.map.replicationFactor,
      ...DEFAULT_NODE_TUNING,
      tickMs: this.tuning.tickMs,
      electionTicks: this.tuning.electionTicks,
      heartbeatTicks: this.tuning.heartbeatTicks,
      compactAfterEntries: this.tuning.compactAfterEntries,
      raft: this.tuning.raft,
      random: this.rng.fork(`raft/${s.index}/${s.incarnation}`),
      bugs: this.bugs,
      observer,
    };
  }

  private start(s: NodeSlot): void {
    if (s.node !== null || s.damaged) return;
    try {
      s.node = new ClusterNode(this.nodeConfig(s), s.disk);
    } catch (err) {
      if (err instanceof NodeStartError) {
        s.damaged = true;
        this.trace.mixText(err.message);
        this.trace.record(this.now, 9, s.index, 0, 0, () => `${s.id} refuses to start: ${err.message}`);
        this.say(`${s.id} found damage on its disk and refuses to start (${err.message})`);
        return;
      }
      throw err;
    }
    const started = s.node;
    s.groups = started.hostedPartitions().map((pid) => [pid as number, started.raftGroup(pid)] as const);
    for (const [p, g] of s.groups) s.lastCommit[p] = g.commitIndex();
    if (s.disk.holdsDamage()) this.checks.fail('damaged-state-served', `${s.id} started from a disk holding a damaged record`);
    s.anchorLocalMs = this.localClock(s);
    s.anchorVirtualMs = this.now;
    this.flush(s);
    this.scheduleTick(s);
  }

  private scheduleTick(s: NodeSlot): void {
    this.queue.push(this.now + this.tuning.tickMs / s.clockRate, { t: 'tick', node: s.index, incarnation: s.incarnation });
  }

  /** Send what a node produced (it has persisted what these depend on). */
  private flush(s: NodeSlot): void {
    const node = s.node;
    if (node === null) return;
    const out = node.drain();
    for (const pm of out.messages) {
      const to = this.nodeIndex(pm.to);
      this.trace.record(this.now, 10, s.index, to, peerCode(pm), this.o.trace ? () => `send ${partitionTag(pm)}${shortPeerMessage(pm)}` : undefined);
      for (const one of pm.kind === 'batch' ? pm.messages : [pm]) {
        if (one.kind !== 'raft') continue;
        const m = one.message;
        if (m.type === 'vote-response' && m.granted && !m.preVote) this.checks.voteGranted(one.partition, m.from, m.to, m.term);
      }
      for (const at of this.net.send(this.now, s.index, to)) this.queue.push(at, { t: 'peer', to, from: s.index, pm });
    }
    for (const reply of out.replies) {
      const slot = this.processSlot.get(reply.clientId);
      if (slot === undefined) continue;
      for (const at of this.net.send(this.now, s.index, this.o.nodes + slot)) this.queue.push(at, { t: 'reply', slot, from: s.index, reply });
    }
    // Only groups whose commit moved (the observer hears of every change with its hard state).
    const moved = s.moved;
    for (let k = 0; k < moved.length; k++) {
      const p = moved[k]!;
      const g = node.raftGroup(partitionId(p));
      const commit = g.commitIndex();
      if (commit === s.lastCommit[p]!) continue;
      const pid = partitionId(p);
      // Commit never goes back within one incarnation (lastCommit is reset on restart).
      if (commit < s.lastCommit[p]!) this.checks.fail('commit-monotonic', `partition ${p}: ${s.id} moved its commit index back from ${s.lastCommit[p]} to ${commit}`);
      const st = g.status();
      this.leaderCommitSeen(s, p);
      s.lastCommit[p] = st.commit;
    }
    moved.length = 0;
  }

  /**
   * Record what s committed as leader of p (Raft's leaderCommitMark), with the terms of the
   * entries. Called when the commit is persisted (commitMoved, before the entries are applied
   * and possibly compacted away in the same call) and again at the flush: a leader that
   * commits and steps down in one call (a batch of messages) is still seen.
   */
  private leaderCommitSeen(s: NodeSlot, p: number): void {
    const node = s.node;
    if (node === null || !node.hosts(partitionId(p))) return;
    const g = node.raftGroup(partitionId(p));
    const mark = g.leaderCommitMark();
    if (mark.commit <= (s.markSeen[p] ?? 0)) return;
    s.markSeen[p] = mark.commit;
    this.checks.leaderCommitted(p, mark.term, mark.commit, (i) => g.termAt(i as never));
    const t = g.termAt(mark.commit);
    if (t !== null) this.checks.committedSafe(p, s.id, mark.commit, t, this.logViews(p), this.map.replicasOf(partitionId(p)).length);
  }

  /** Every replica's log for partition p: live nodes' Raft logs, down nodes' durable logs; damaged disks excluded. */
  private logViews(p: number): LogView[] {
    const out: LogView[] = [];
    for (const x of this.slots) {
      if (!this.map.isReplica(x.id, partitionId(p))) continue;
      if (x.node !== null) {
        const g = x.node.raftGroup(partitionId(p));
        const st = g.status();
        out.push({
          id: x.id,
          lastIndex: st.lastIndex,
          lastTerm: g.termAt(st.lastIndex) ?? st.snapshotTerm,
          holds: (i, t) => i <= st.snapshotIndex || g.termAt(i as never) === t,
        });
      } else if (x.durableLogs !== null) {
        const v = x.durableLogs[p];
        if (v !== undefined) out.push(v);
      }
    }
    return out;
  }

  /** What a down node would restart with (null when its disk is damaged beyond repair). */
  private durableLogsOf(s: NodeSlot): LogView[] | null {
    const loaded = s.disk.load();
    if (loaded.kind === 'damaged') return null;
    const out: LogView[] = [];
    for (let p = 0; p < this.o.partitions; p++) {
      // Indexed by partition; a partition this node does not replicate has no log here.
      const ps = loaded.groups.get(partitionId(p));
      const snapIndex = ps?.snapshot?.meta.index ?? 0;
      const snapTerm = ps?.snapshot?.meta.term ?? 0;
      const entries = ps?.entries ?? [];
      const last = entries[entries.length - 1];
      out.push({
        id: s.id,
        lastIndex: last?.index ?? snapIndex,
        lastTerm: last?.term ?? snapTerm,
        holds: (i, t) => i <= snapIndex || entries[i - snapIndex - 1]?.term === t,
      });
    }
    return out;
  }

  private crash(s: NodeSlot, torn: boolean): void {
    if (s.node === null) return;
    s.node = null;
    s.incarnation++;
    s.paused = false;
    s.inbox = [];
    this.crashes++;
    const out = s.disk.crash(this.faultRng, torn);
    s.durableLogs = this.durableLogsOf(s);
    s.lastCommit.fill(0);
    s.markSeen = [];
    this.trace.record(this.now, 7, s.index, out.lostRecords, out.torn ? 1 : 0, () => `${s.id} crashes (lost ${out.lostRecords} unsynced records, kept ${out.keptUnsynced}${out.torn ? ', last one torn' : ''})`);
  }

  private resolve(t: Target): NodeSlot | null {
    const group = this.map.replicasOf(partitionId(0)).map((id) => this.slots[this.nodeIndex(id)]!);
    if ('leader' in t) {
      const leader = this.currentLeader(0);
      if (leader !== null) return leader;
      // No leader: one of partition 0's replicas that is up.
      const up = group.filter((s) => s.node !== null);
      return up.length > 0 ? this.faultRng.pick(up) : null;
    }
    if ('replica' in t) return group[t.replica % group.length] ?? null;
    return this.slots[t.node % this.slots.length] ?? null;
  }

  /** Whether damaging s's disk too still leaves every partition s replicates a healthy majority. */
  private mayCorrupt(s: NodeSlot): boolean {
    for (const p of this.map.partitionsOf(s.id)) {
      const replicas = this.map.replicasOf(p);
      let damaged = 1;
      for (const r of replicas) if (r !== s.id && this.corruptible.has(this.nodeIndex(r))) damaged++;
      if (damaged > Math.floor((replicas.length - 1) / 2)) return false;
    }
    return true;
  }

  /** Remember which (partition, index, term) wrote which value of which key (for the weak-read check). */
  private noteWrite(p: number, e: Entry): void {
    if (e.kind !== 'normal' || e.data.length === 0) return;
    const id = `${p}/${e.index}/${e.term}`;
    if (this.writeSeen.has(id)) return;
    this.writeSeen.add(id);
    const d = decodeAnyCommand(e.data);
    if (d.kind !== 'kv') return; // records and transactions: not KV writes
    const cmd = d.kv as { op?: unknown; key?: unknown; value?: unknown };
    if (cmd.op !== 'put' || typeof cmd.key !== 'string') return;
    const k = `${cmd.key}\u0000${JSON.stringify(cmd.value)}`;
    const list = this.writers.get(k) ?? [];
    list.push({ p, index: e.index, term: e.term });
    this.writers.set(k, list);
  }

  /** A leader/eventual read must return null or a value some committed write of that key wrote. */
  private checkWeakRead(key: string, value: unknown, level: string): void {
    if (value === null) return;
    const list = this.writers.get(`${key}\u0000${JSON.stringify(value)}`) ?? [];
    if (list.some((w) => this.checks.isCommitted(w.p, w.index, w.term))) return;
    this.checks.fail('weak-read-uncommitted', `a ${level} read of ${key} returned ${JSON.stringify(value)}, which no committed write of ${key} wrote${list.length > 0 ? ` (written by uncommitted entries ${list.map((w) => `p${w.p}@${w.index}/t${w.term}`).join(', ')})` : ''}`);
  }

  private currentLeader(p: number): NodeSlot | null {
    let best: NodeSlot | null = null;
    let bestTerm = -1;
    for (const s of this.slots) {
      if (s.node === null || s.paused || !s.node.hosts(partitionId(p))) continue;
      const st = s.node.status(partitionId(p));
      if (st.role === 'leader' && st.term > bestTerm) {
        best = s;
        bestTerm = st.term;
      }
    }
    return best;
  }

  private fault(index: number): void {
    const f = this.schedule[index]!;
    this.trace.mixText(f.kind);
    this.trace.record(this.now, 4, index, 0, 0, () => `fault: ${describeFault(f)}`);
    switch (f.kind) {
      case 'partition': {
        if (f.shape === 'isolate-next-leader') {
          // Armed now, cut when the next leader of partition 0 is elected (see roleChanged).
          this.armedIsolations.push(index);
          return;
        }
        this.cutPartition(index, this.partitionCuts(f));
        return;
      }
      case 'crash': {
        const first = this.resolve(f.target);
        if (first === null) return;
        const pick = new Rng(`pick/${f.pick}`);
        const others = pick.subset(
          this.slots.filter((s) => s !== first && s.node !== null),
          Math.max(0, Math.min(f.count, this.slots.length) - 1),
        );
        const victims = [first, ...others].filter((s) => s.node !== null);
        if (victims.length === 0) return;
        for (const s of victims) this.crash(s, f.torn && this.o.faults.has('disk'));
        this.say(`crash: ${victims.map((s) => s.id).join(', ')} lose${victims.length === 1 ? 's' : ''} power${f.torn ? ' (unsynced writes may tear)' : ''}`);
        for (const s of victims) this.queue.push(Math.min(this.now + f.durationMs, this.healAtMs), { t: 'restart', node: s.index });
        return;
      }
      case 'pause': {
        const s = this.resolve(f.target);
        if (s === null || s.node === null || s.paused) return;
        s.paused = true;
        this.pauses++;
        this.say(`${s.id} pauses (a long GC or a stalled VM) for ${f.durationMs.toFixed(0)}ms`);
        this.queue.push(Math.min(this.now + f.durationMs, this.healAtMs), { t: 'resume', node: s.index });
        return;
      }
      case 'loss':
      case 'duplicate':
        this.net.startWeather(f.kind, index, f.rate);
        this.queue.push(Math.min(this.now + f.durationMs, this.healAtMs), { t: 'fault-end', index });
        return;
      case 'reorder':
        this.net.startWeather('reorder', index, f.rate, f.maxDelayMs);
        this.queue.push(Math.min(this.now + f.durationMs, this.healAtMs), { t: 'fault-end', index });
        return;
      case 'skew': {
        const s = this.slots[f.node % this.slots.length]!;
        s.anchorLocalMs = this.localClock(s);
        s.anchorVirtualMs = this.now;
        s.clockRate = Math.max(0.2, Math.min(5, f.rate));
        return;
      }
      case 'bitflip': {
        const s = this.slots[f.node % this.slots.length]!;
        // Damage at most a minority of every replica set (a damaged disk never serves again).
        if (!this.corruptible.has(s.index) && !this.mayCorrupt(s)) return;
        if (s.disk.flipBit(new Rng(`flip/${f.pick}`))) {
          this.corruptible.add(s.index);
          this.say(`a bit flips on the disk of ${s.id}`);
        }
        return;
      }
      case 'stepdown':
        this.stepDown(f);
        return;
      case 'drain': {
        const s = this.slots[f.node % this.slots.length]!;
        if (s.node === null || s.paused || s.node.state === 'draining') return;
        s.node.startDraining();
        this.say(`${s.id} drains: it hands its leaderships away and stops campaigning`);
        this.flush(s);
        this.queue.push(Math.min(this.now + f.durationMs, this.healAtMs), { t: 'fault-end', index });
        return;
      }
      default: {
        const _: never = f;
        throw new Error(`unknown fault ${JSON.stringify(_)}`);
      }
    }
  }

  /** A stepdown fault: the partition's current leader hands over to another replica (picked from the fault's own seed). */
  private stepDown(f: Extract<FaultEvent, { kind: 'stepdown' }>): void {
    const p = partitionId(f.partition % this.o.partitions);
    const leader = this.currentLeader(p);
    if (leader === null || leader.node === null) return;
    const others = this.map.replicasOf(p).filter((n) => n !== leader.id);
    if (others.length === 0) return;
    const to = new Rng(`stepdown/${f.pick}`).pick(others);
    const r = leader.node.stepDown(p, to);
    this.trace.record(this.now, 4, this.nodeIndex(to), leader.index, r.kind === 'ok' ? 1 : 0, () => `${leader.id} p${p} steps down to ${to}: ${r.kind}`);
    if (r.kind === 'ok') this.say(`${leader.id} hands its leadership of partition ${p} to ${to}`);
    this.flush(leader);
  }

  private cutPartition(index: number, cuts: Array<readonly [number, number]>): void {
    const f = this.schedule[index]!;
    if (cuts.length === 0 || f.kind !== 'partition') return;
    for (const [a, b] of cuts) this.net.cutLink(a, b);
    this.activeCuts.set(index, cuts);
    this.partitionsCut++;
    this.say(`network partition (${f.shape}): ${describeCuts(cuts, this.slots.length)}`);
    this.queue.push(Math.min(this.now + f.durationMs, this.healAtMs), { t: 'fault-end', index });
  }

  /** A new leader is cut off at once: whatever clients send it stays on it alone (short reigns). */
  private isolateElected(index: number, node: number): void {
    if (this.stopped || this.now >= this.healAtMs || this.activeCuts.has(index)) return;
    const others = this.slots.map((s) => s.index).filter((x) => x !== node);
    const cuts: Array<readonly [number, number]> = [];
    for (const y of others) cuts.push([node, y], [y, node]);
    this.trace.record(this.now, 4, index, node, 1, () => `fault: isolate the new leader n${node + 1}`);
    this.cutPartition(index, cuts);
    const f = this.schedule[index]!;
    if (f.kind === 'partition' && f.heals !== undefined) {
      // End the named earlier cut (its own scheduled end then finds nothing to heal).
      for (const j of this.activeCuts.keys()) {
        const g = this.schedule[j]!;
        if (g.kind !== 'partition' || g.pick !== f.heals) continue;
        if ((f.healsAfterMs ?? 0) <= 0) this.faultEnd(j);
        else this.queue.push(Math.min(this.now + f.healsAfterMs!, this.healAtMs), { t: 'fault-end', index: j });
      }
    }
  }

  private partitionCuts(f: Extract<FaultEvent, { kind: 'partition' }>): Array<readonly [number, number]> {
    const n = this.slots.length;
    if (n < 2) return [];
    const r = new Rng(`partition/${f.pick}`);
    const all = this.slots.map((s) => s.index);
    const both = (a: readonly number[], b: readonly number[]): Array<readonly [number, number]> => {
      const out: Array<readonly [number, number]> = [];
      for (const x of a) for (const y of b) out.push([x, y], [y, x]);
      return out;
    };
    const rest = (a: readonly number[]): number[] => all.filter((x) => !a.includes(x));
    switch (f.shape) {
      case 'halves': {
        const a = r.subset(all, Math.floor(n / 2));
        return both(a, rest(a));
      }
      case 'majority-minority': {
        const a = r.subset(all, r.int(1, Math.max(1, Math.floor((n - 1) / 2))));
        return both(a, rest(a));
      }
      case 'bridge': {
        if (n < 3) return [];
        const bridge = r.int(0, n - 1);
        const others = all.filter((x) => x !== bridge);
        const a = r.subset(others, Math.floor(others.length / 2));
        return both(a, others.filter((x) => !a.includes(x)));
      }
      case 'one-way': {
        const a = r.subset(all, r.int(1, n - 1));
        const out: Array<readonly [number, number]> = [];
        for (const x of a) for (const y of rest(a)) out.push([x, y]);
        return out;
      }
      case 'isolate-next-leader':
      case 'isolate-leader': {
        // No leader now: one of partition 0's replicas (cutting a non-replica would do nothing to it).
        const leader = this.currentLeader(0)?.index ?? r.pick(this.map.replicasOf(partitionId(0)).map((id) => this.nodeIndex(id)));
        return both([leader], rest([leader]));
      }
      case 'leader-minority': {
        // A minority of partition 0's group (its replicas, not the whole cluster: at RF 3 of 5
        // nodes a cluster minority of two could be a group majority).
        const group = this.map.replicasOf(partitionId(0)).map((id) => this.nodeIndex(id));
        const leader = this.currentLeader(0)?.index ?? r.pick(group);
        const minority = Math.max(1, Math.floor((group.length - 1) / 2));
        const a = [leader, ...r.subset(group.filter((x) => x !== leader), r.int(0, minority - 1))];
        return both(a, rest(a));
      }
      case 'isolate-node': {
        const x = r.int(0, n - 1);
        return both([x], rest([x]));
      }
      default: {
        const _: never = f.shape;
        throw new Error(`unknown shape ${String(_)}`);
      }
    }
  }

  private faultEnd(index: number): void {
    const f = this.schedule[index]!;
    this.trace.record(this.now, 5, index, 0, 0, () => `fault ends: ${describeFault(f)}`);
    if (f.kind === 'partition') {
      const cuts = this.activeCuts.get(index);
      if (cuts === undefined) return;
      this.activeCuts.delete(index);
      for (const [a, b] of cuts) this.net.healLink(a, b);
      this.say(`the ${f.shape} partition heals`);
    } else if (f.kind === 'loss' || f.kind === 'duplicate' || f.kind === 'reorder') {
      this.net.stopWeather(f.kind, index);
    } else if (f.kind === 'drain') {
      const s = this.slots[f.node % this.slots.length]!;
      if (s.node?.state === 'draining') {
        s.node.activate();
        this.say(`${s.id} is activated again`);
      }
    }
  }

  private resume(s: NodeSlot): void {
    if (!s.paused) return;
    s.paused = false;
    this.trace.record(this.now, 8, s.index, 1, 0, () => `${s.id} resumes, ${s.inbox.length} messages waiting`);
    const inbox = s.inbox;
    s.inbox = [];
    for (const d of inbox) this.deliver(d);
    this.tick(s);
  }

  private healAll(): void {
    this.trace.record(this.now, 12, 0, 0, 0, () => 'all faults heal: network whole, every node up and running');
    this.say('all faults heal: the network is whole again and every node is restarted and running');
    this.net.healAll();
    this.activeCuts.clear();
    for (const s of this.slots) {
      if (s.paused) this.resume(s);
      if (s.node === null && !s.damaged) this.restart(s);
      s.node?.activate();
    }
  }

  private restart(s: NodeSlot): void {
    if (s.node !== null || s.damaged) return;
    this.restarts++;
    this.trace.record(this.now, 8, s.index, 0, 0, () => `${s.id} restarts from its disk`);
    this.start(s);
  }

  private tick(s: NodeSlot): void {
    s.node?.tick(this.localClock(s));
    this.flush(s);
  }

  private deliver(e: Deferred): void {
    const s = this.slots[e.to]!;
    if (s.node === null) return;
    if (s.paused) {
      s.inbox.push(e);
      return;
    }
    if (e.t === 'peer') {
      const pm = e.pm;
      this.trace.record(this.now, 1, e.from, e.to, peerCode(pm), this.o.trace ? () => `recv ${partitionTag(pm)}${shortPeerMessage(pm)}` : undefined);
      s.node.receive(e.pm);
    } else {
      s.node.request(e.req);
    }
    this.flush(s);
  }

  private step(ev: SimEvent): void {
    switch (ev.t) {
      case 'peer':
      case 'request':
        this.deliver(ev);
        return;
      case 'reply':
        this.workload.onReply(ev.slot, ev.from, ev.reply, this.now);
        return;
      case 'tick': {
        const s = this.slots[ev.node]!;
        if (s.node === null || s.incarnation !== ev.incarnation) return; // a tick chain of a dead incarnation
        this.trace.record(this.now, 2, s.index, 0, 0);
        if (!s.paused) this.tick(s);
        this.scheduleTick(s);
        return;
      }
      case 'client-next':
        this.workload.onNext(ev.slot, this.now);
        return;
      case 'client-timeout':
        this.workload.onTimeout(ev.slot, ev.process, ev.seq, this.now);
        return;
      case 'fault':
        this.fault(ev.index);
        return;
      case 'fault-end':
        this.faultEnd(ev.index);
        return;
      case 'isolate-elected':
        this.isolateElected(ev.index, ev.node);
        return;
      case 'restart':
        this.restart(this.slots[ev.node]!);
        return;
      case 'resume':
        this.resume(this.slots[ev.node]!);
        return;
      case 'heal-all':
        this.healAll();
        return;
      default: {
        const _: never = ev;
        throw new Error(`unknown event ${JSON.stringify(_)}`);
      }
    }
  }

  run(): SimResult {
    const wallStart = performance.now();
    for (const s of this.slots) this.start(s);
    this.schedule.forEach((f, i) => {
      if (f.atMs < this.healAtMs) this.queue.push(Math.max(0, f.atMs), { t: 'fault', index: i });
    });
    this.queue.push(this.healAtMs, { t: 'heal-all' });
    this.workload.start(0);
    const end = this.o.durationMs;
    for (;;) {
      const next = this.queue.peekTime();
      if (next === null || next > end) break;
      const item = this.queue.pop()!;
      this.now = item.atMs;
      this.checks.nowMs = this.now;
      this.events++;
      try {
        this.step(item.event);
      } catch (err) {
        if (!(err instanceof AssertionError)) throw err;
        this.checks.fail('assertion', err.message);
      }
      if (!this.checks.ok) {
        this.stopped = true;
        break;
      }
    }
    this.now = this.stopped ? this.now : end;
    this.checks.nowMs = this.now;
    if (!this.stopped) this.finalChecks();
    for (const v of this.checks.violations) {
      this.trace.mixText(v.kind);
      this.trace.record(this.now, 13, 0, 0, 0, () => `VIOLATION ${v.kind}: ${v.message}`);
      this.say(`VIOLATION (${v.kind}): ${v.message}`);
    }
    let linearizable: boolean | 'unknown' | null = null;
    let explanation: string | null = null;
    if (this.o.checkLinearizability) {
      const res = checkHistory(this.workload.history, 'kv', { timeoutMs: this.o.checkTimeoutMs });
      linearizable = res.valid;
      explanation = res.explanation ?? null;
      if (res.valid === false) {
        this.checks.violations.push({ kind: 'linearizability', atMs: this.now, message: `the client history is not linearizable: ${res.explanation ?? ''}`.trim() });
      }
    }
    const traceHash = this.trace.hash();
    const wallMs = performance.now() - wallStart;
    const w = this.workload.stats;
    let applied = 0;
    for (let p = 0; p < this.o.partitions; p++) applied += this.checks.appliedEntries(p);
    const stats: SimStats = {
      virtualMs: this.now,
      wallMs: Math.round(wallMs * 10) / 10,
      events: this.events,
      messages: this.net.stats.sent,
      clientOps: w.invoked,
      committed: w.committed,
      ok: w.ok,
      fail: w.fail,
      info: w.info,
      elections: this.checks.leadersElected(),
      crashes: this.crashes,
      restarts: this.restarts,
      pauses: this.pauses,
      partitions: this.partitionsCut,
      damagedNodes: this.slots.filter((s) => s.damaged).length,
      tornTailsRepaired: this.slots.reduce((a, s) => a + s.disk.stats.tornTailsRepaired, 0),
      bitFlips: this.slots.reduce((a, s) => a + s.disk.stats.bitFlips, 0),
      messagesDropped: this.net.stats.droppedCut + this.net.stats.droppedLoss,
      messagesDuplicated: this.net.stats.duplicated,
      appliedEntries: applied,
      diskBytes: this.slots.reduce((a, s) => a + s.disk.bytes(), 0),
      faultEvents: this.schedule.length,
    };
    return {
      seed: this.o.seed,
      ok: this.checks.violations.length === 0,
      traceHash,
      violations: this.checks.violations,
      stats,
      linearizable,
      linearizabilityExplanation: explanation,
      bug: this.o.bug,
      profile: this.profile,
      tuning: this.tuning,
      schedule: this.schedule,
      healAtMs: this.healAtMs,
      history: this.workload.history,
      traceLines: this.trace.lines,
      narrative: this.narrative,
    };
  }

  private finalChecks(): void {
    // Liveness: every partition has a leader among running nodes, and a write invoked after
    // the heal committed.
    for (let p = 0; p < this.o.partitions; p++) {
      const leader = this.currentLeader(p);
      if (leader === null) {
        this.checks.fail('liveness', `partition ${p} has no leader ${(this.o.durationMs - this.healAtMs).toFixed(0)}ms after all faults healed`);
        continue;
      }
      this.checks.finalLeader(leader.id, p, leader.node!.raftGroup(partitionId(p)));
    }
    if (this.workload.firstOkWriteAfterProbeMs === null) {
      this.checks.fail('liveness', `no write invoked after the heal at ${this.healAtMs.toFixed(0)}ms committed within ${(this.o.durationMs - this.healAtMs).toFixed(0)}ms`);
    }
  }
}

/** Which nodes can still talk: groups of mutually connected nodes, and one-way cuts spelled out. */
function describeCuts(cuts: ReadonlyArray<readonly [number, number]>, n: number): string {
  const cut = new Set(cuts.map(([a, b]) => a * 1000 + b));
  const oneWay = cuts.filter(([a, b]) => !cut.has(b * 1000 + a));
  if (oneWay.length > 0) {
    const from = [...new Set(oneWay.map(([a]) => a))].sort((x, y) => x - y);
    const to = [...new Set(oneWay.map(([, b]) => b))].sort((x, y) => x - y);
    return `${from.map((a) => `n${a + 1}`).join(',')} cannot reach ${to.map((b) => `n${b + 1}`).join(',')} (but hear them)`;
  }
  const name = (xs: readonly number[]): string => `{${xs.map((x) => `n${x + 1}`).join(',')}}`;
  // A node that reaches everyone bridges the others.
  const bridges: number[] = [];
  for (let a = 0; a < n; a++) if (cuts.every(([x, y]) => x !== a && y !== a)) bridges.push(a);
  const rest = Array.from({ length: n }, (_, i) => i).filter((a) => !bridges.includes(a));
  const groups: number[][] = [];
  for (const a of rest) {
    const g = groups.find((xs) => !cut.has(xs[0]! * 1000 + a));
    if (g !== undefined) g.push(a);
    else groups.push([a]);
  }
  const text = groups.map(name).join(' | ');
  return bridges.length > 0 && groups.length > 1 ? `${text}, bridged by ${name(bridges)}` : text;
}
