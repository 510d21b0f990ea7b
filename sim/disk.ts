// A simulated disk: an append-only log of checksummed records, split into what is durable
// (synced) and what is merely written (in the page cache). A crash loses the unsynced tail —
// or keeps a prefix of it, possibly with the last record torn. Bit flips (at rest) damage a
// durable record that is never the last one, so on load a bad *last* record is always a torn
// unsynced write (safe to truncate) and a bad record anywhere else is real damage (refuse).
import type { Entry, HardState, PersistedState, Snapshot } from '../core/raft/types.js';
import { crc32c as crc32 } from '../core/storage/checksum.js';
import type { LoadResult, SaveRequest, StoragePort } from '../core/node/storage-port.js';
import { partitionId, type PartitionId } from '../core/types.js';
import { ByteReader, ByteWriter, readEntry, readHardState, readSnapshot, writeEntry, writeHardState, writeSnapshot } from './codec.js';
import type { Rng } from './rng.js';

const T_HARD_STATE = 1;
const T_ENTRIES = 2;
const T_SNAPSHOT = 3;

interface DiskRecord {
  /** [crc32 of the payload, 4 bytes][payload]. */
  bytes: Uint8Array;
  readonly type: number;
  readonly partition: number;
  /** For entry records: the highest index held; for snapshots: the snapshot index. */
  readonly lastIndex: number;
  /** For snapshots: received from the leader (it discards the whole log) rather than taken locally. */
  readonly installed?: boolean;
  /** Set by the fault injector so the simulator can tell whether damage went unnoticed. */
  damaged: boolean;
  /** The bytes whose checksum was last verified (byte arrays are replaced, never mutated). */
  verified?: Uint8Array;
}

export interface DiskStats {
  writes: number;
  syncs: number;
  bytesWritten: number;
  tornTailsRepaired: number;
  bitFlips: number;
}

export interface CrashOutcome {
  readonly lostRecords: number;
  readonly keptUnsynced: number;
  readonly torn: boolean;
}

/** One writer reused for every record (the simulation is single-threaded). */
const writer = new ByteWriter();

function frame(type: number, partition: number, body: (w: ByteWriter) => void): Uint8Array {
  const w = writer;
  w.u8(type);
  w.u32(partition);
  body(w);
  const payload = w.finish();
  const out = new Uint8Array(payload.length + 4);
  new DataView(out.buffer).setUint32(0, crc32(payload));
  out.set(payload, 4);
  return out;
}

function frameOk(bytes: Uint8Array): boolean {
  if (bytes.length < 5) return false;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0) === crc32(bytes, 4);
}

interface GroupReplay {
  hardState: HardState | null;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export class SimDisk implements StoragePort {
  private durable: DiskRecord[] = [];
  private pending: DiskRecord[] = [];
  readonly stats: DiskStats = { writes: 0, syncs: 0, bytesWritten: 0, tornTailsRepaired: 0, bitFlips: 0 };
  /** The commit index of the last durable hard state, per partition (for the commit-monotonic check). */
  readonly durableCommit = new Map<number, number>();
  private lastWrittenCommit = new Map<number, number>();
  /** What load() last returned; valid until the next write, crash, compaction or bit flip. */
  private loaded: LoadResult | null = null;

  /** Called with every hard state written, before it is durable (the simulator's checks listen). */
  onHardStateWritten: ((partition: PartitionId, hs: HardState) => void) | null = null;

  /** One record holding `es` (nothing when empty). */
  private appendEntries(p: number, es: readonly Entry[]): void {
    if (es.length === 0) return;
    this.append({
      type: T_ENTRIES,
      partition: p,
      lastIndex: es[es.length - 1]!.index,
      bytes: frame(T_ENTRIES, p, (w) => {
        w.u32(es.length);
        for (const e of es) writeEntry(w, e);
      }),
      damaged: false,
    });
  }

  save(req: SaveRequest): void {
    const p = req.partition;
    if (req.snapshot !== null) this.appendSnapshot(p, req.snapshot, true);
    this.appendEntries(p, req.entries);
    if (req.hardState !== null) {
      const hs = req.hardState;
      this.onHardStateWritten?.(p, hs);
      this.lastWrittenCommit.set(p, hs.commit);
      this.append({ type: T_HARD_STATE, partition: p, lastIndex: 0, bytes: frame(T_HARD_STATE, p, (w) => writeHardState(w, hs)), damaged: false });
    }
    if (req.sync) this.sync();
  }

  private appendSnapshot(p: number, s: Snapshot, installed: boolean): void {
    this.append({
      type: T_SNAPSHOT,
      partition: p,
      lastIndex: s.meta.index,
      installed,
      bytes: frame(T_SNAPSHOT, p, (w) => {
        w.u8(installed ? 1 : 0);
        writeSnapshot(w, s);
      }),
      damaged: false,
    });
  }

  private append(r: DiskRecord): void {
    this.loaded = null;
    this.pending.push(r);
    this.stats.writes++;
    this.stats.bytesWritten += r.bytes.length;
  }

  sync(): void {
    this.stats.syncs++;
    if (this.pending.length === 0) return;
    for (const r of this.pending) this.durable.push(r);
    this.pending = [];
    for (const [p, c] of this.lastWrittenCommit) this.durableCommit.set(p, c);
  }

  compact(partition: PartitionId, snapshot: Snapshot): void {
    const p = partition as number;
    this.appendSnapshot(p, snapshot, false);
    this.sync();
    const loaded = this.load();
    // A damaged disk is not rewritten (a real rewrite would fail reading it); the damage is
    // found when the node next starts.
    if (loaded.kind === 'damaged') return;
    const g = loaded.groups.get(partition);
    if (g === undefined) return;
    // Rewrite this partition's records from what they mean now: the snapshot, the entries
    // above it, the hard state — so no dropped record can take an overwrite with it.
    const idx = snapshot.meta.index;
    const above = g.entries.filter((e) => e.index > idx);
    const kept: DiskRecord[] = this.durable.filter((r) => r.partition !== p);
    this.durable = kept;
    this.appendSnapshot(p, snapshot, false);
    this.appendEntries(p, above);
    const hs = g.hardState;
    this.append({ type: T_HARD_STATE, partition: p, lastIndex: 0, bytes: frame(T_HARD_STATE, p, (w) => writeHardState(w, hs)), damaged: false });
    this.sync();
  }

  /** The process died: unsynced records are lost, except perhaps a prefix (the last of which may be torn). */
  crash(rng: Rng, allowTorn: boolean): CrashOutcome {
    this.loaded = null;
    const n = this.pending.length;
    if (n === 0) return { lostRecords: 0, keptUnsynced: 0, torn: false };
    const keep = rng.chance(0.5) ? rng.int(0, n) : 0;
    for (let i = 0; i < keep; i++) this.durable.push(this.pending[i]!);
    let torn = false;
    if (allowTorn && keep < n && rng.chance(0.7)) {
      const r = this.pending[keep]!;
      const cut = rng.int(1, r.bytes.length - 1);
      this.durable.push({ ...r, bytes: r.bytes.slice(0, cut) });
      torn = true;
    }
    this.pending = [];
    this.lastWrittenCommit = new Map(this.durableCommit);
    return { lostRecords: n - keep, keptUnsynced: keep, torn };
  }

  /** Damage one durable record at rest (never the last record). Returns false when there is none to damage. */
  flipBit(rng: Rng): boolean {
    if (this.pending.length > 0) this.sync();
    if (this.durable.length < 2) return false;
    const i = rng.int(0, this.durable.length - 2);
    const r = this.durable[i]!;
    this.loaded = null;
    const bytes = r.bytes.slice();
    const at = rng.int(0, bytes.length - 1);
    bytes[at] = bytes[at]! ^ (1 << rng.int(0, 7));
    r.bytes = bytes;
    r.damaged = true;
    this.stats.bitFlips++;
    return true;
  }

  /** Whether a record damaged at rest is still on the disk. */
  holdsDamage(): boolean {
    return this.durable.some((r) => r.damaged);
  }

  records(): number {
    return this.durable.length + this.pending.length;
  }

  bytes(): number {
    let n = 0;
    for (const r of this.durable) n += r.bytes.length;
    for (const r of this.pending) n += r.bytes.length;
    return n;
  }

  /** Everything durable, decoded; cached until the disk changes (the result is never mutated). */
  load(): LoadResult {
    this.sync();
    if (this.loaded === null) this.loaded = this.decode();
    return this.loaded;
  }

  private decode(): LoadResult {
    const groups = new Map<number, GroupReplay>();
    const recs = this.durable;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      if (r.verified !== r.bytes && frameOk(r.bytes)) r.verified = r.bytes;
      if (r.verified !== r.bytes) {
        if (i === recs.length - 1) {
          // A torn tail: an unsynced write the crash cut short. It was never acknowledged; drop it.
          recs.pop();
          this.stats.tornTailsRepaired++;
          break;
        }
        return { kind: 'damaged', reason: `record ${i} of ${recs.length} fails its checksum` };
      }
      try {
        const rd = new ByteReader(r.bytes.subarray(4));
        const type = rd.u8();
        const p = rd.u32();
        let g = groups.get(p);
        if (g === undefined) {
          g = { hardState: null, snapshot: null, entries: [] };
          groups.set(p, g);
        }
        if (type === T_HARD_STATE) g.hardState = readHardState(rd);
        else if (type === T_SNAPSHOT) {
          const installed = rd.u8() === 1;
          applySnapshot(g, readSnapshot(rd), installed);
        }
        else if (type === T_ENTRIES) {
          const n = rd.u32();
          const es: Entry[] = [];
          for (let k = 0; k < n; k++) es.push(readEntry(rd));
          appendEntries(g, es);
        } else return { kind: 'damaged', reason: `record ${i} has unknown type ${type}` };
        if (!rd.done()) return { kind: 'damaged', reason: `record ${i} has trailing bytes` };
      } catch (err) {
        return { kind: 'damaged', reason: `record ${i} does not decode: ${(err as Error).message}` };
      }
    }
    const out = new Map<PartitionId, PersistedState>();
    for (const [p, g] of [...groups].sort((a, b) => a[0] - b[0])) {
      const snapIndex = g.snapshot?.meta.index ?? 0;
      const entries = g.entries.filter((e) => e.index > snapIndex);
      if (entries.length > 0 && entries[0]!.index !== snapIndex + 1) {
        return { kind: 'damaged', reason: `partition ${p}: log starts at ${entries[0]!.index} after snapshot ${snapIndex}` };
      }
      out.set(partitionId(p), {
        hardState: g.hardState ?? { term: 0 as never, vote: null, commit: 0 as never },
        snapshot: g.snapshot,
        entries,
      });
    }
    return { kind: 'ok', groups: out };
  }
}

function appendEntries(g: GroupReplay, es: readonly Entry[]): void {
  const first = es[0];
  if (first === undefined) return;
  const cur = g.entries;
  const head = cur[0];
  if (head === undefined || first.index > cur[cur.length - 1]!.index + 1 || first.index <= head.index) {
    g.entries = [...es];
    return;
  }
  // An entry at index i replaces every entry at >= i.
  cur.length = first.index - head.index;
  for (const e of es) cur.push(e);
}

function applySnapshot(g: GroupReplay, s: Snapshot, installed: boolean): void {
  g.snapshot = s;
  if (installed) {
    // Raft discarded its whole log to install it; what follows is written after this record.
    g.entries = [];
    return;
  }
  const idx = s.meta.index;
  const at = g.entries.find((e) => e.index === idx);
  if (at !== undefined && at.term !== s.meta.term) {
    g.entries = [];
    return;
  }
  const rest = g.entries.filter((e) => e.index > idx);
  g.entries = rest.length > 0 && rest[0]!.index === idx + 1 ? rest : [];
}
