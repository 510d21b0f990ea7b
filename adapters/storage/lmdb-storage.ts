// The node's StoragePort on LMDB: one environment per node (data_dir/conclave.mdb) holding the
// Raft log, hard state and snapshot of every partition, and a meta record that ties the
// directory to one cluster and one node.
//
// Group commit: the core's save()/compact() calls are synchronous, so they only buffer here;
// the driver (node-host.ts) calls flushSync() once per turn of the event loop, which writes the
// whole buffer as ONE LMDB write transaction committed synchronously on this thread. The
// environment is opened with overlappingSync off and without noSync, so LMDB's commit itself
// fsyncs (data pages, then the meta page) before it returns: when flushSync() returns, the turn
// is durable — there is no separate "flushed" signal to wait for, because commit and durability
// are one step. The driver releases the turn's messages and client replies only after that, so
// nothing leaves that depends on state not yet on disk.
//
// Why synchronous: an asynchronous lmdb-js transaction (with overlappingSync) costs three hops
// through the event loop (queue to the write thread, run the callback back on this thread,
// commit and `flushed` resolution), and on a busy machine each hop waits for the CPU; measured
// on the 3-node bench, a group commit took 7-190 ms that way against ~1-3 ms for the fsync.
// A blocking fsync of ~1-3 ms per turn is the cheaper price (see docs/server.md, Performance).
//
// Every value is framed [CRC-32C u32 big-endian][msgpack payload], so damage at rest is found
// on load instead of being served.
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { crc32c } from '../../core/storage/checksum.js';
import type { LoadResult, SaveRequest, StoragePort } from '../../core/node/storage-port.js';
import type { Entry, EntryKind, HardState, PersistedState, Snapshot } from '../../core/raft/types.js';
import { logIndex, nodeId, partitionId, term, type PartitionId } from '../../core/types.js';
import { STORAGE_FORMAT_VERSION } from '../fingerprint.js';

export const DATA_FILE = 'conclave.mdb';

/** The data directory cannot be used (corrupt, foreign, unknown format); nothing was written to it. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export interface DataDirIdentity {
  readonly nodeId: string;
  readonly clusterFingerprint: string;
  /** Shown when refusing a foreign directory. */
  readonly clusterDescription: string;
}

interface Meta {
  readonly format: number;
  readonly node: string;
  readonly cluster: string;
  readonly clusterDescription: string;
  /** Incremented on every start: client sessions of this node are numbered from it (see node-host). */
  readonly epoch: number;
}

type Op =
  | { readonly t: 'put'; readonly db: Database<Buffer, Key>; readonly key: Key; readonly value: Buffer }
  | { readonly t: 'del'; readonly db: Database<Buffer, Key>; readonly key: Key };

const packr = new Packr({ useRecords: false, moreTypes: false });

function frame(value: unknown): Buffer {
  const payload = packr.pack(value);
  const out = Buffer.allocUnsafe(payload.length + 4);
  out.writeUInt32BE(crc32c(payload), 0);
  payload.copy(out, 4);
  return out;
}

function unframe(buf: Buffer | undefined, what: string): unknown {
  if (buf === undefined) return undefined;
  if (buf.length < 5) throw new DataDirError(`${what}: record too short (${buf.length} bytes)`);
  const payload = buf.subarray(4);
  if (buf.readUInt32BE(0) !== crc32c(payload)) throw new DataDirError(`${what}: checksum mismatch (damaged at rest)`);
  try {
    return packr.unpack(payload);
  } catch {
    throw new DataDirError(`${what}: record does not decode`);
  }
}

interface StoredEntry {
  t: number;
  k: EntryKind;
  d: Uint8Array;
}
interface StoredHardState {
  t: number;
  v: string | null;
  c: number;
}
interface StoredSnapshot {
  i: number;
  t: number;
  voters: string[];
  d: Uint8Array;
}

function toSnapshot(s: StoredSnapshot): Snapshot {
  return { meta: { index: logIndex(s.i), term: term(s.t), conf: { voters: s.voters.map(nodeId) } }, data: new Uint8Array(s.d) };
}
function fromSnapshot(s: Snapshot): StoredSnapshot {
  return { i: s.meta.index, t: s.meta.term, voters: [...s.meta.conf.voters], d: s.data };
}

export interface FlushStats {
  flushes: number;
  opsWritten: number;
  lastFlushMs: number;
}

/** LMDB's meta page magic (MDB_MAGIC) and data version as lmdb-js writes them (little-endian). */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_META_MAGIC_OFFSET = 24;

/**
 * The native library trusts its file (a garbage file can crash the process), so the meta page
 * is checked first: a file that does not start like an LMDB environment is refused unopened.
 */
function checkLmdbHeader(file: string, dir: string): void {
  const head = Buffer.alloc(32);
  let n = 0;
  const fd = openSync(file, 'r');
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n < head.length || head.readUInt32LE(LMDB_META_MAGIC_OFFSET) !== LMDB_MAGIC) {
    throw new DataDirError(`data dir ${dir}: ${DATA_FILE} is not an LMDB environment (bad magic in its meta page): corrupt or foreign; refusing to use it`);
  }
}

export class LmdbStorage implements StoragePort {
  private pending: Op[] = [];
  /** Some pending write must be durable before the output that depends on it leaves (see needsSync). */
  private pendingSync = false;
  /** Per partition: lowest and highest log index stored (0/0 when the log is empty). */
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  readonly epoch: number;
  readonly stats: FlushStats = { flushes: 0, opsWritten: 0, lastFlushMs: 0 };
  /** Test hook: each flush records 'committed' then 'durable' (both once the synchronous, fsyncing commit returned). */
  onFlushEvent: ((e: 'committed' | 'durable') => void) | null = null;
  /** Each durable group commit: its duration and record count (metrics). */
  onFlushed: ((ms: number, ops: number) => void) | null = null;

  private constructor(
    private readonly root: RootDatabase,
    private readonly log: Database<Buffer, Key>,
    private readonly hard: Database<Buffer, Key>,
    private readonly snap: Database<Buffer, Key>,
    private readonly partitions: number,
    epoch: number,
  ) {
    this.epoch = epoch;
  }

  /**
   * Open (or create) the node's environment in `dir`. Refuses — without writing anything — a
   * directory holding something else, a damaged environment, another node's or cluster's data,
   * or an unknown format version.
   */
  static open(dir: string, id: DataDirIdentity, partitions: number): LmdbStorage {
    const file = join(dir, DATA_FILE);
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new DataDirError(`data dir ${dir} is not a directory`);
      // Files Conclave itself keeps beside the environment (bearer tokens: adapters/auth.ts).
      const names = readdirSync(dir).filter((n) => n !== 'tokens.json' && n !== 'tokens.json.tmp');
      if (names.length > 0 && !names.includes(DATA_FILE)) {
        throw new DataDirError(`data dir ${dir} is not empty and holds no ${DATA_FILE} (found ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}): not a Conclave data directory; refusing to use or overwrite it`);
      }
    } else {
      mkdirSync(dir, { recursive: true });
    }
    const fresh = !existsSync(file);
    if (!fresh) checkLmdbHeader(file, dir);
    let root: RootDatabase;
    try {
      // overlappingSync off, noSync off: a synchronous commit returns only once it is fsynced.
      root = open({ path: file, noSubdir: true, overlappingSync: false, noSync: false, maxDbs: 8, mapSize: 1024 * 1024 * 1024 });
    } catch (err) {
      throw new DataDirError(`data dir ${dir}: ${DATA_FILE} cannot be opened (${err instanceof Error ? err.message : String(err)}): corrupt or not an LMDB file; refusing to use it`);
    }
    try {
      const metaDb = root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
      const binary = { encoding: 'binary' as const, keyEncoding: 'ordered-binary' as const };
      const log = root.openDB<Buffer, Key>({ name: 'log', ...binary });
      const hard = root.openDB<Buffer, Key>({ name: 'hard', ...binary });
      const snap = root.openDB<Buffer, Key>({ name: 'snap', ...binary });
      const raw = metaDb.get('meta');
      let meta: Meta;
      if (raw === undefined) {
        if (!fresh) throw new DataDirError(`data dir ${dir}: ${DATA_FILE} holds no Conclave metadata (another program's LMDB file, or a start that never finished); refusing to use it`);
        meta = { format: STORAGE_FORMAT_VERSION, node: id.nodeId, cluster: id.clusterFingerprint, clusterDescription: id.clusterDescription, epoch: 1 };
      } else {
        const m = unframe(raw, `data dir ${dir}: metadata`) as Partial<Meta>;
        if (typeof m !== 'object' || m === null || typeof m.format !== 'number') throw new DataDirError(`data dir ${dir}: metadata is malformed; refusing to use it`);
        if (m.format !== STORAGE_FORMAT_VERSION) {
          throw new DataDirError(`data dir ${dir}: storage format version ${m.format}, this build reads only version ${STORAGE_FORMAT_VERSION}; refusing to use it`);
        }
        if (m.node !== id.nodeId) throw new DataDirError(`data dir ${dir} belongs to node ${String(m.node)}, not ${id.nodeId}; refusing to use it`);
        if (m.cluster !== id.clusterFingerprint) {
          throw new DataDirError(`data dir ${dir} belongs to another cluster (${String(m.clusterDescription)}); this node is configured for ${id.clusterDescription}; refusing to use it`);
        }
        meta = { ...(m as Meta), epoch: (m.epoch ?? 0) + 1 };
      }
      root.transactionSync(() => {
        metaDb.putSync('meta', frame(meta));
      });
      const s = new LmdbStorage(root, log, hard, snap, partitions, meta.epoch);
      return s;
    } catch (err) {
      void root.close();
      if (err instanceof DataDirError) throw err;
      throw new DataDirError(`data dir ${dir}: ${err instanceof Error ? err.message : String(err)}; refusing to use it`);
    }
  }

  load(): LoadResult {
    const groups = new Map<PartitionId, PersistedState>();
    try {
      for (let p = 0; p < this.partitions; p++) {
        const hsRaw = unframe(this.hard.get(p), `partition ${p} hard state`) as StoredHardState | undefined;
        const snRaw = unframe(this.snap.get(p), `partition ${p} snapshot`) as StoredSnapshot | undefined;
        const snapshot = snRaw === undefined ? null : toSnapshot(snRaw);
        const entries: Entry[] = [];
        let expect = (snapshot?.meta.index ?? 0) + 1;
        let first = 0;
        for (const { key, value } of this.log.getRange({ start: [p, 0], end: [p + 1, 0] })) {
          const index = (key as [number, number])[1];
          if (index < expect) continue; // covered by the snapshot (compaction deletes these too)
          if (index !== expect) return { kind: 'damaged', reason: `partition ${p}: log gap, expected index ${expect}, found ${index}` };
          const e = unframe(value, `partition ${p} entry ${index}`) as StoredEntry;
          entries.push({ index: logIndex(index), term: term(e.t), kind: e.k, data: new Uint8Array(e.d) });
          if (first === 0) first = index;
          expect++;
        }
        this.first.set(p, first);
        this.last.set(p, entries.length > 0 ? entries[entries.length - 1]!.index : 0);
        if (hsRaw === undefined && snapshot === null && entries.length === 0) continue;
        const hardState: HardState = hsRaw === undefined ? { term: term(0), vote: null, commit: logIndex(0) } : { term: term(hsRaw.t), vote: hsRaw.v === null ? null : nodeId(hsRaw.v), commit: logIndex(hsRaw.c) };
        groups.set(partitionId(p), { hardState, snapshot, entries });
      }
    } catch (err) {
      if (err instanceof DataDirError) return { kind: 'damaged', reason: err.message };
      throw err;
    }
    return { kind: 'ok', groups };
  }

  save(req: SaveRequest): void {
    const p = req.partition as number;
    if (req.sync || req.snapshot !== null) this.pendingSync = true;
    if (req.snapshot !== null) {
      // An installed snapshot replaces the whole log.
      this.deleteEntries(p, this.first.get(p) ?? 0, this.last.get(p) ?? 0);
      this.first.set(p, 0);
      this.last.set(p, 0);
      this.pending.push({ t: 'put', db: this.snap, key: p, value: frame(fromSnapshot(req.snapshot)) });
    }
    if (req.entries.length > 0) {
      const lo = req.entries[0]!.index as number;
      const last = this.last.get(p) ?? 0;
      if (lo <= last) this.deleteEntries(p, lo, last);
      for (const e of req.entries) this.pending.push({ t: 'put', db: this.log, key: [p, e.index], value: frame({ t: e.term, k: e.kind, d: e.data } satisfies StoredEntry) });
      if ((this.first.get(p) ?? 0) === 0 || lo < (this.first.get(p) ?? 0)) this.first.set(p, lo);
      this.last.set(p, req.entries[req.entries.length - 1]!.index);
    }
    if (req.hardState !== null) {
      const hs = req.hardState;
      this.pending.push({ t: 'put', db: this.hard, key: p, value: frame({ t: hs.term, v: hs.vote, c: hs.commit } satisfies StoredHardState) });
    }
  }

  compact(partition: PartitionId, snapshot: Snapshot): void {
    const p = partition as number;
    this.pendingSync = true; // the port promises a compaction is durable when it returns
    this.pending.push({ t: 'put', db: this.snap, key: p, value: frame(fromSnapshot(snapshot)) });
    const first = this.first.get(p) ?? 0;
    const upTo = Math.min(snapshot.meta.index, this.last.get(p) ?? 0);
    if (first > 0 && first <= upTo) {
      this.deleteEntries(p, first, upTo);
      this.first.set(p, upTo + 1 <= (this.last.get(p) ?? 0) ? upTo + 1 : 0);
      if (this.first.get(p) === 0) this.last.set(p, 0);
    }
  }

  private deleteEntries(p: number, lo: number, hi: number): void {
    if (lo <= 0 || hi < lo) return;
    for (let i = lo; i <= hi; i++) this.pending.push({ t: 'del', db: this.log, key: [p, i] });
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Whether anything buffered was saved with `sync: true` (entries, a term or vote, a
   * snapshot) or is a compaction. False: the buffer holds only hard states whose commit index
   * alone moved, which the Ready contract (mustSync false) lets messages overtake: a commit
   * index is re-learnt from the leader after a crash, so losing it loses nothing acknowledged.
   */
  needsSync(): boolean {
    return this.pendingSync;
  }

  /**
   * Write everything buffered as ONE transaction and return once it is durable on disk (LMDB's
   * synchronous commit fsyncs before returning). Throws when the disk refuses the write; then
   * nothing of the buffer was committed.
   */
  flushSync(): void {
    if (this.pending.length === 0) return;
    const ops = this.pending;
    this.pending = [];
    this.pendingSync = false;
    const started = performance.now();
    this.root.transactionSync(() => {
      for (const op of ops) {
        if (op.t === 'put') op.db.putSync(op.key, op.value);
        else op.db.removeSync(op.key);
      }
    });
    this.onFlushEvent?.('committed');
    // The commit above was synchronous and fsynced: committed and durable are the same moment.
    this.onFlushEvent?.('durable');
    this.stats.flushes++;
    this.stats.opsWritten += ops.length;
    this.stats.lastFlushMs = performance.now() - started;
    this.onFlushed?.(this.stats.lastFlushMs, ops.length);
  }

  /** flushSync() as a promise (rejects instead of throwing). */
  async flush(): Promise<void> {
    this.flushSync();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.root.flushed;
    await this.root.close();
  }
}
