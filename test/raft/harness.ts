// A tiny in-test world for Raft stories: a few nodes, an explicit network queue delivered by
// hand, and an in-memory disk that follows the Ready contract (writes are durable only once
// synced; a crash keeps only what was synced).
import { Raft } from '../../core/raft/index.js';
import type { Entry, HardState, Message, PersistedState, RaftConfig, ReadState, Ready, Snapshot } from '../../core/raft/index.js';
export type { Message };
import type { PlantedBug } from '../../core/bugs.js';
import { nodeId, type LogIndex, type NodeId, type Random, type Term } from '../../core/types.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A deterministic random source (mulberry32). */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

interface DiskState {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

function cloneDisk(d: DiskState): DiskState {
  return { hardState: d.hardState, snapshot: d.snapshot, entries: d.entries.slice() };
}

/** A disk that loses unsynced writes on crash. */
export class Disk {
  written: DiskState = { hardState: { term: 0 as Term, vote: null, commit: 0 as LogIndex }, snapshot: null, entries: [] };
  synced: DiskState = cloneDisk(this.written);
  syncs = 0;

  persist(rd: Ready): void {
    const d = this.written;
    if (rd.snapshot !== null) {
      d.snapshot = rd.snapshot;
      d.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const base = (d.snapshot?.meta.index ?? 0) + 1;
      d.entries.length = Math.max(0, first - base);
      for (const e of rd.entries) d.entries.push(e);
    }
    if (rd.hardState !== null) d.hardState = rd.hardState;
    if (rd.mustSync) this.sync();
  }

  sync(): void {
    this.synced = cloneDisk(this.written);
    this.syncs++;
  }

  /** The driver persisted a snapshot from compact(): it may drop the covered entries. */
  saveSnapshot(s: Snapshot): void {
    const d = this.written;
    const base = (d.snapshot?.meta.index ?? 0) + 1;
    d.entries = d.entries.slice(s.meta.index - base + 1);
    d.snapshot = s;
    this.sync();
  }

  crash(): void {
    this.written = cloneDisk(this.synced);
  }

  persisted(): PersistedState {
    return cloneDisk(this.written);
  }
}

/** The state machine: the applied entries (noops included), for state machine safety checks. */
export interface Applied {
  readonly index: number;
  readonly term: number;
  readonly data: string;
}

export interface NodeOptions {
  electionTicks?: number;
  heartbeatTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxInflightMsgs?: number;
  maxInflightBytes?: number;
  maxEntriesBytesPerMsg?: number;
  bugs?: readonly PlantedBug[];
  seed?: number;
  maxSnapshotChunkBytes?: number;
  /** Quiescence on, with the cluster's `live` set as the node-level liveness view. */
  quiesce?: boolean;
  /** What the node's disk holds before it starts (default: empty). */
  persisted?: PersistedState;
}

export class TestNode {
  raft: Raft;
  readonly disk = new Disk();
  applied: Applied[] = [];
  readStates: ReadState[] = [];
  readies: Ready[] = [];
  up = true;

  constructor(
    readonly id: NodeId,
    readonly config: RaftConfig,
    initial?: PersistedState,
  ) {
    if (initial !== undefined) {
      this.disk.written = { hardState: initial.hardState, snapshot: initial.snapshot, entries: initial.entries.slice() };
      this.disk.sync();
    }
    this.raft = new Raft(config, this.disk.persisted());
  }

  appliedIndex(): number {
    return this.applied.length === 0 ? 0 : this.applied[this.applied.length - 1]!.index;
  }

  restart(): void {
    this.raft = new Raft(this.config, this.disk.persisted());
    // The state machine restarts from the snapshot.
    const snap = this.disk.written.snapshot;
    this.applied = snap === null ? [] : (JSON.parse(dec(snap.data)) as Applied[]);
    this.readStates = [];
    this.up = true;
  }
}

export class Cluster {
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, TestNode>();
  /** The network: messages in flight, delivered by hand. */
  queue: Message[] = [];
  /** Links that drop everything: "a->b". */
  private readonly cut = new Set<string>();
  /** The node-level liveness every node sees (quiescence only): the nodes in it are live. */
  readonly live = new Set<NodeId>();
  /** Every (term -> leader) ever seen, for election safety. */
  readonly leaders = new Map<number, NodeId>();
  /** index -> the entry first applied there by any node, for state machine safety. */
  readonly appliedAt = new Map<number, Applied>();
  violations: string[] = [];
  /** "voter@term" -> the candidate it granted its vote to. */
  private readonly votesGranted = new Map<string, NodeId>();
  /** index -> the term of the entry committed there and the term of the leader that committed it. */
  readonly committed = new Map<number, { term: number; inTerm: number }>();
  private maxCommitted = 0;
  /** Called with every Ready before the driver acts on it (for contract checks). */
  onReady: ((id: NodeId, rd: Ready) => void) | null = null;
  /** Reads requested: context -> the highest commit index any node knew when it was asked. */
  readonly readFloor = new Map<string, number>();
  /** Reads answered: context -> read index. */
  readonly readsServed = new Map<string, number>();
  sent = 0;

  constructor(n: number, opts: NodeOptions = {}, perNode: (i: number) => NodeOptions = () => ({})) {
    this.ids = Array.from({ length: n }, (_, i) => nodeId(`n${i + 1}`));
    for (const id of this.ids) this.live.add(id);
    this.ids.forEach((id, i) => {
      const o = { ...opts, ...perNode(i) };
      const config: RaftConfig = {
        id,
        conf: { voters: this.ids },
        electionTicks: o.electionTicks ?? 10,
        heartbeatTicks: o.heartbeatTicks ?? 1,
        preVote: o.preVote ?? true,
        checkQuorum: o.checkQuorum ?? true,
        maxInflightMsgs: o.maxInflightMsgs ?? 64,
        maxInflightBytes: o.maxInflightBytes ?? 0,
        maxEntriesBytesPerMsg: o.maxEntriesBytesPerMsg ?? 1 << 20,
        random: seeded((o.seed ?? 1) * 1000 + i),
        bugs: new Set(o.bugs ?? []),
        ...(o.maxSnapshotChunkBytes !== undefined ? { maxSnapshotChunkBytes: o.maxSnapshotChunkBytes } : {}),
        ...(o.quiesce === true ? { quiesce: true, peerLive: (peer: NodeId) => this.live.has(peer) } : {}),
      };
      this.nodes.set(id, new TestNode(id, config, o.persisted));
    });
  }

  node(id: string): TestNode {
    const n = this.nodes.get(id as NodeId);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: string): Raft {
    return this.node(id).raft;
  }

  /** Run every node's Ready loop until quiet: persist, send, apply, advance. */
  process(): void {
    for (const id of this.ids) this.processNode(id);
  }

  processNode(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    while (n.raft.hasReady()) {
      const rd = n.raft.ready();
      this.onReady?.(id, rd);
      n.readies.push(rd);
      if (n.readies.length > 50) n.readies.shift();
      n.disk.persist(rd);
      for (const m of rd.messages) {
        this.sent++;
        if (m.type === 'vote-response' && m.granted && !m.preVote) {
          // One vote per voter per term, across restarts.
          const key = `${m.from}@${m.term}`;
          const prev = this.votesGranted.get(key);
          if (prev !== undefined && prev !== m.to) this.violations.push(`double vote: ${m.from} voted for ${prev} and ${m.to} in term ${m.term}`);
          this.votesGranted.set(key, m.to);
        }
        if (!this.cut.has(`${m.from}->${m.to}`)) this.queue.push(m);
      }
      if (rd.snapshot !== null) n.applied = JSON.parse(dec(rd.snapshot.data)) as Applied[];
      for (const e of rd.committedEntries) {
        // The persistence contract: only entries already durable locally are applied.
        const synced = n.disk.synced;
        const base = (synced.snapshot?.meta.index ?? 0) + 1;
        const onDisk = synced.entries[e.index - base];
        if (onDisk === undefined || onDisk.term !== e.term) this.violations.push(`${id} applied entry ${e.index} before it was durable`);
        const a: Applied = { index: e.index, term: e.term, data: dec(e.data) };
        n.applied.push(a);
        const seen = this.appliedAt.get(e.index);
        if (seen === undefined) this.appliedAt.set(e.index, a);
        else if (seen.term !== a.term || seen.data !== a.data) {
          this.violations.push(`state machine safety: ${id} applied ${a.term}/${a.data} at ${a.index}, another node applied ${seen.term}/${seen.data}`);
        }
      }
      for (const rs of rd.readStates) {
        n.readStates.push(rs);
        this.readsServed.set(rs.context, rs.index);
        const floor = this.readFloor.get(rs.context);
        // Linearizability of reads: a read must see every write committed before it began.
        if (floor !== undefined && rs.index < floor) {
          this.violations.push(`stale read: ${id} answered read ${rs.context} at index ${rs.index}, but ${floor} was committed before it was asked`);
        }
      }
      if (rd.softState.role === 'leader') {
        const st = n.raft.status();
        if (!this.leaders.has(st.term)) this.checkLeaderCompleteness(id, st.term);
        // Record what this leader commits, and in which term, for later leaders' checks.
        for (let i = this.maxCommitted + 1; i <= st.commit; i++) {
          const t = n.raft.termAt(i as LogIndex);
          if (t !== null) this.committed.set(i, { term: t, inTerm: st.term });
        }
        this.maxCommitted = Math.max(this.maxCommitted, st.commit);
        const prev = this.leaders.get(n.raft.status().term);
        if (prev !== undefined && prev !== id) this.violations.push(`election safety: ${prev} and ${id} both led term ${n.raft.status().term}`);
        this.leaders.set(n.raft.status().term, id);
      }
      n.raft.advance(rd);
    }
  }

  /** Deliver queued messages matching `pred` (default: all), then process; repeat until quiet. */
  deliverAll(pred: (m: Message) => boolean = () => true, maxRounds = 1000): void {
    this.process();
    for (let round = 0; round < maxRounds; round++) {
      const now = this.take(pred);
      if (now.length === 0) return;
      for (const m of now) this.deliver(m);
      this.process();
    }
    const show = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? dec(v) : v));
    throw new Error(`deliverAll: the network did not go quiet: ${show(this.queue.slice(0, 6))}; statuses ${show(this.ids.map((id) => this.raft(id).status()))}`);
  }

  /** Deliver one message (if its target is up and the link is not cut). */
  deliver(m: Message): void {
    const n = this.nodes.get(m.to);
    if (n === undefined || !n.up || this.cut.has(`${m.from}->${m.to}`)) return;
    n.raft.step(m);
  }

  /** Leader completeness: a new leader of `term` holds every entry committed in an earlier term. */
  private checkLeaderCompleteness(id: NodeId, term: number): void {
    const r = this.raft(id);
    for (const [i, c] of this.committed) {
      if (c.inTerm >= term) continue;
      const have = r.termAt(i as LogIndex);
      if (have !== null && have !== c.term) {
        this.violations.push(`leader completeness: ${id} leads term ${term} with term ${have} at ${i}, where term ${c.term} was committed in term ${c.inTerm}`);
        return;
      }
      if (have === null && i > r.status().lastIndex) {
        this.violations.push(`leader completeness: ${id} leads term ${term} without committed index ${i}`);
        return;
      }
    }
  }

  /** Ask `id` for a linearizable read point, remembering what was committed at that moment. */
  read(id: string, context: string): void {
    let floor = 0;
    for (const n of this.nodes.values()) floor = Math.max(floor, n.raft.status().commit);
    this.readFloor.set(context, floor);
    this.raft(id).readIndex(context);
    this.process();
  }

  /** Take the queued messages matching `pred` out of the network (to hold, reorder or drop). */
  take(pred: (m: Message) => boolean): Message[] {
    const out: Message[] = [];
    const keep: Message[] = [];
    for (const m of this.queue) (pred(m) ? out : keep).push(m);
    this.queue = keep;
    return out;
  }

  drop(pred: (m: Message) => boolean = () => true): number {
    return this.take(pred).length;
  }

  tick(ids: readonly string[] = this.ids, times = 1): void {
    for (let t = 0; t < times; t++) {
      for (const id of ids) if (this.node(id).up) this.raft(id).tick();
      this.process();
    }
  }

  /** Tick everyone and deliver everything, `times` rounds. */
  run(times: number): void {
    for (let t = 0; t < times; t++) {
      this.tick();
      this.deliverAll();
    }
  }

  /** Cut every link between the two groups (both ways). */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) {
      this.cut.add(`${x}->${y}`);
      this.cut.add(`${y}->${x}`);
    }
    this.queue = this.queue.filter((m) => !this.cut.has(`${m.from}->${m.to}`));
  }

  isolate(id: string): void {
    this.partition([id], this.ids.filter((x) => x !== id));
  }

  heal(): void {
    this.cut.clear();
  }

  crash(id: string): void {
    const n = this.node(id);
    n.up = false;
    n.disk.crash();
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  restart(id: string): void {
    this.node(id).restart();
    this.process();
  }

  /** Tick until some node is leader (bounded), returning it. */
  elect(id?: string, maxTicks = 200): NodeId {
    if (id !== undefined) {
      // Make `id` time out first: tick only it until it campaigns.
      for (let t = 0; t < maxTicks && this.raft(id).status().role !== 'leader'; t++) {
        this.tick([id]);
        this.deliverAll();
      }
      if (this.raft(id).status().role !== 'leader') throw new Error(`${id} did not become leader`);
      return id as NodeId;
    }
    for (let t = 0; t < maxTicks; t++) {
      const l = this.leader();
      if (l !== null) return l;
      this.tick();
      this.deliverAll();
    }
    throw new Error('no leader elected');
  }

  /** The unique up node that thinks it leads the highest term, or null. */
  leader(): NodeId | null {
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const id of this.ids) {
      const n = this.node(id);
      if (!n.up) continue;
      const s = n.raft.status();
      if (s.role === 'leader' && s.term > bestTerm) {
        best = id;
        bestTerm = s.term;
      }
    }
    return best;
  }

  /** The log of a node as "term:index" strings, for readable assertions. */
  logOf(id: string): string[] {
    const r = this.raft(id);
    const s = r.status();
    return r.entries(s.firstIndex, (s.lastIndex + 1) as LogIndex).map((e) => `${e.term}`);
  }

  /** Log matching: if two logs have an entry with the same index and term, they agree before it. */
  checkLogMatching(): void {
    const ups = this.ids.filter((id) => this.node(id).up);
    for (let a = 0; a < ups.length; a++) {
      for (let b = a + 1; b < ups.length; b++) {
        const ra = this.raft(ups[a]!);
        const rb = this.raft(ups[b]!);
        const sa = ra.status();
        const sb = rb.status();
        const lo = Math.max(sa.firstIndex, sb.firstIndex);
        const hi = Math.min(sa.lastIndex, sb.lastIndex);
        let agreeFrom = -1;
        for (let i = hi; i >= lo; i--) {
          const ta = ra.termAt(i as LogIndex);
          const tb = rb.termAt(i as LogIndex);
          if (agreeFrom === -1 && ta !== null && ta === tb) agreeFrom = i;
          if (agreeFrom !== -1) {
            const ea = ra.entries(i as LogIndex, (i + 1) as LogIndex)[0]!;
            const eb = rb.entries(i as LogIndex, (i + 1) as LogIndex)[0]!;
            if (ea.term !== eb.term || dec(ea.data) !== dec(eb.data)) {
              this.violations.push(`log matching: ${ups[a]} and ${ups[b]} agree at ${agreeFrom} but differ at ${i}`);
              return;
            }
          }
        }
      }
    }
  }
}

/** Entries with the given terms at indexes 1.. (data "i@t"), for building logs in stories. */
export function logOfTerms(terms: readonly number[], from = 1): Entry[] {
  return terms.map((t, k) => ({ term: t as Term, index: (from + k) as LogIndex, kind: 'normal' as const, data: enc(`${from + k}@${t}`) }));
}

/** A node's disk before it starts: a log of the given terms, a hard state. */
export function persistedLog(terms: readonly number[], term: number, commit = 0, vote: string | null = null): PersistedState {
  return { hardState: { term: term as Term, vote: vote as NodeId | null, commit: commit as LogIndex }, snapshot: null, entries: logOfTerms(terms) };
}
