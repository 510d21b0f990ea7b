// One partition's state machine: the real store. A MemStore (an OrderedKV; LMDB under the real
// server later) holds the KV face's data (core/storage/kv), the client sessions (sessions.ts)
// and this replica's applied index, so the store's snapshot (core/storage/snapshot.ts) is the
// whole replicated state. Entries apply in log order; everything an apply decides comes from
// the entry (its index, the proposer's clock in it), never from this replica's clock.
import { MemStore } from '../storage/memstore.js';
import { decodeValue, encodeValue, type Value } from '../storage/encoding.js';
import { KvStateMachine as KvFace } from '../storage/kv/machine.js';
import type { KvResult } from '../storage/kv/commands.js';
import type { OrderedKV, WriteOp } from '../storage/port.js';
import { restoreSnapshot, SnapshotError, takeSnapshot } from '../storage/snapshot.js';
import { timestamp, timestampFromMs, timestampMs, type Timestamp } from '../storage/types.js';
import { assert, AssertionError, type LogIndex } from '../types.js';
import { decodeAnyCommand, type AnswerShape, type LoggedRecordWrite, type LoggedTxnOp } from './command.js';
import { RecordTxnStore } from '../lock/recordStore.js';
import { TransactionManager } from '../lock/transactions.js';
import type { OpResult } from '../lock/commands.js';
import { txnId } from '../lock/types.js';
import type { Criteria, RecordId, Value as RecordValue } from '../storage/records/index.js';
import { RecordStore } from '../storage/records/store.js';
import { RecordError } from '../storage/records/errors.js';
import { partitionOfRecord } from '../partition/map.js';
import type { ApplyContext } from '../storage/types.js';
import { readSession, SESSION_TTL_MS, sweepSessions, writeSession, type SessionAnswer } from './sessions.js';

/**
 * The replica's own meta: the last log index applied (no-ops included) and the log time.
 * Namespace 'P' (0x50): the store's other faces use 'K' (KV), 'R' (records), 'L' (locks) and
 * sessions 'S', so all of them can share this one store.
 */
export const REPLICA_NAMESPACE = 0x50;
const REPLICA_META_KEY = Uint8Array.of(REPLICA_NAMESPACE, 0x01);

/** Thrown when snapshot bytes fail their checksum or do not parse: the node must not use them. */
export class SnapshotCorruptError extends Error {
  override readonly name = 'SnapshotCorruptError';
}

export interface KvRecord {
  readonly value: Value;
  /** The store revision of the last change to the key. */
  readonly revision: number;
}

export interface Applied {
  readonly clientId: number;
  readonly seq: number;
  readonly answer: SessionAnswer;
  /** The command reached the log before (a retry): it was not applied again. */
  readonly duplicate: boolean;
}

export class PartitionStateMachine {
  readonly store: OrderedKV = new MemStore();
  private kv: KvFace;
  /** The records face (core/storage/records) over the same store, namespace 'R'. */
  private recordStore: RecordStore;
  /** core/lock's transactions over the records face; its locks and intents live in namespace 'L' of the store. */
  private txns: TransactionManager<RecordId, RecordValue, Criteria>;
  private appliedIndex = 0;
  /** Log time of the last applied command (ms): never goes back along the log. */
  private logTimeMs = 0;

  /**
   * `placement`: this replica's partition and the partition count. With it, a new record
   * (insert) gets the next id above this partition's last allocated one that hashes to this
   * partition (core/partition) and never held data: ids are unique cluster-wide (an id can only
   * be allocated by the one partition it hashes to) and deterministic (allocated at apply from
   * the replicated state). Without it (tests of one store) every id is acceptable.
   */
  constructor(
    private readonly sessionTtlMs = SESSION_TTL_MS,
    private readonly placement?: { readonly partition: number; readonly partitions: number },
  ) {
    this.kv = new KvFace(this.store);
    this.recordStore = this.makeRecordStore();
    this.txns = TransactionManager.fromPort(new RecordTxnStore(this.recordStore), this.store);
  }

  private makeRecordStore(): RecordStore {
    const p = this.placement;
    return new RecordStore(this.store, p === undefined ? {} : { acceptRecordId: (id) => partitionOfRecord(id, p.partitions) === p.partition });
  }

  /** The records face, for reads (writes go through apply). */
  get records(): RecordStore {
    return this.recordStore;
  }

  /** The last timestamp either face applied (a read "now" of the records face reads at it). */
  get lastTimestamp(): Timestamp {
    return timestamp(Math.max(this.kv.appliedTimestamp, this.recordStore.lastTimestamp()));
  }

  get applied(): number {
    return this.appliedIndex;
  }

  /**
   * A key's current value. Expiry is judged at `atMs` when given (the serving node's clock: a
   * read changes nothing, so it may use it), never before the last applied log time.
   */
  get(key: string, atMs?: number): KvRecord | undefined {
    const at = atMs === undefined ? undefined : timestamp(Math.max(this.kv.appliedTimestamp, timestampFromMs(Math.floor(atMs))));
    const r = this.kv.read({ op: 'get', key }, at);
    if (r.status === 'ok' && r.op === 'get') return { value: r.entry.value, revision: r.entry.revision };
    return undefined;
  }

  /** A read-only KV command (get, list, count, bulk-get) against the applied state. */
  read(command: unknown, at?: Timestamp): KvResult {
    return this.kv.read(command, at);
  }

  /** The answer of (clientId, seq) if that command was the client's last one applied. */
  sessionResult(clientId: number, seq: number): SessionAnswer | null {
    const s = readSession(this.store, clientId);
    return s !== null && s.seq === seq ? s.answer : null;
  }

  /** Number of keys in the store (data, indexes, sessions). */
  size(): number {
    return this.store.size();
  }

  /** An entry without a command (a leader's no-op): only the applied index moves. */
  applyNoop(index: LogIndex): void {
    this.advance(index);
    this.store.write([{ type: 'put', key: REPLICA_META_KEY, value: this.encodeMeta() }]);
  }

  apply(index: LogIndex, bytes: Uint8Array): Applied {
    this.advance(index);
    const decoded = decodeAnyCommand(bytes);
    const envelope = decoded.envelope;
    // Log time: the proposer's clock, never behind what this log already applied (proposers' clocks differ).
    this.logTimeMs = Math.max(this.logTimeMs, envelope.proposedAtMs);
    const ops: WriteOp[] = [];
    sweepSessions(this.store, this.logTimeMs, this.sessionTtlMs, ops);
    const session = readSession(this.store, envelope.clientId);
    let answer: SessionAnswer;
    let duplicate = false;
    if (session !== null && envelope.seq <= session.seq) {
      duplicate = true;
      answer = envelope.seq === session.seq ? session.answer : { kind: 'invalid', reason: `client ${envelope.clientId}: seq ${envelope.seq} is older than its last (${session.seq})` };
    } else {
      // One timestamp per entry: log milliseconds x 1000 + a logical counter from the index,
      // so two entries in one millisecond still increase.
      const ts = this.nextTimestamp(index);
      if (decoded.kind === 'kv') {
        const result = this.kv.apply(decoded.kv, { index, timestamp: ts });
        answer = answerOf(decoded.envelope.shape, decoded.kv, result, index);
      } else if (decoded.kind === 'txn') {
        answer = this.applyTxn(decoded.envelope.txn, decoded.ops, { index, timestamp: ts });
      } else {
        answer = this.applyRecordWrite(decoded.write, { index, timestamp: ts });
      }
    }
    if (!duplicate || session === null) writeSession(this.store, envelope.clientId, { seq: envelope.seq, touchedMs: this.logTimeMs, answer }, ops);
    else writeSession(this.store, envelope.clientId, { seq: session.seq, touchedMs: this.logTimeMs, answer: session.answer }, ops);
    ops.push({ type: 'put', key: REPLICA_META_KEY, value: this.encodeMeta() });
    this.store.write(ops);
    return { clientId: envelope.clientId, seq: envelope.seq, answer, duplicate };
  }

  /** The whole replicated state as bytes: the store's snapshot. */
  snapshot(): Uint8Array {
    return takeSnapshot(this.store);
  }

  restore(bytes: Uint8Array): void {
    try {
      restoreSnapshot(bytes, this.store);
    } catch (e) {
      if (e instanceof SnapshotError) throw new SnapshotCorruptError(e.message);
      throw e;
    }
    const meta = this.store.get(REPLICA_META_KEY);
    if (meta === undefined) {
      this.appliedIndex = 0;
      this.logTimeMs = 0;
    } else {
      const v = decodeValue(meta);
      if (!Array.isArray(v) || typeof v[0] !== 'number' || typeof v[1] !== 'number') throw new SnapshotCorruptError('snapshot: replica meta is malformed');
      this.appliedIndex = v[0];
      this.logTimeMs = v[1];
    }
    this.kv = new KvFace(this.store);
    this.recordStore = this.makeRecordStore();
    this.txns = TransactionManager.fromPort(new RecordTxnStore(this.recordStore), this.store);
  }

  /**
   * A one-shot transaction: core/lock's `atomic` (begin, the operations under locks, commit)
   * in this one entry. Only one-shot transactions exist, and each completes within its entry,
   * so none is ever open when another applies: an atomic never waits (asserted).
   */
  private applyTxn(txn: string, ops: readonly LoggedTxnOp[], ctx: ApplyContext): SessionAnswer {
    const out = this.txns.apply({ type: 'atomic', txn: txnId(txn), ops }, ctx);
    const r = out.reply;
    switch (r.type) {
      case 'committed': {
        const version = this.recordStore.version();
        return { kind: 'ok', revision: version, index: ctx.index, value: { results: r.results.map(opResultValue), version } };
      }
      case 'error':
        return { kind: 'invalid', reason: `${r.error.code}: ${r.error.message}` };
      default:
        throw new AssertionError(`applyTxn: a one-shot transaction answered ${r.type} (none can be open to wait on)`);
    }
  }

  /** One record write as one batch; a client's mistake (RecordError) answers invalid and writes nothing. */
  private applyRecordWrite(w: LoggedRecordWrite, ctx: ApplyContext): SessionAnswer {
    let results;
    try {
      results = this.recordStore.apply([w], ctx);
    } catch (e) {
      if (e instanceof RecordError) return { kind: 'invalid', reason: `${e.code}: ${e.message}` };
      throw e;
    }
    const r = results[0]!;
    const version = this.recordStore.version();
    switch (w.op) {
      case 'insert':
        return { kind: 'ok', revision: version, index: ctx.index, value: { record: r.record!, version } };
      case 'add':
      case 'remove':
      case 'link':
        return { kind: 'ok', revision: version, index: ctx.index, value: { changed: r.ok, version } };
      case 'set':
      case 'clear':
      case 'revert':
        return { kind: 'ok', revision: version, index: ctx.index, value: { changed: r.revisions > 0, version } };
      default: {
        const _: never = w;
        throw new AssertionError(`applyRecordWrite: unknown op ${JSON.stringify(_)}`);
      }
    }
  }

  private advance(index: LogIndex): void {
    if (index !== this.appliedIndex + 1) throw new AssertionError(`PartitionStateMachine: apply of index ${index} after ${this.appliedIndex} (gap or repeat)`);
    this.appliedIndex = index;
  }

  private nextTimestamp(index: LogIndex): Timestamp {
    const last = this.lastTimestamp;
    let ts = timestampFromMs(this.logTimeMs);
    if (ts <= last) ts = timestamp(last + 1);
    assert(timestampMs(ts) >= 0, () => `bad timestamp at ${index}`);
    return ts;
  }

  private encodeMeta(): Uint8Array {
    return encodeValue([this.appliedIndex, this.logTimeMs]);
  }
}

/** A transaction operation's result as a storage Value (record values as {type, value}). */
function opResultValue(r: OpResult<RecordId, RecordValue>): Value {
  switch (r.type) {
    case 'values':
      return { type: 'values', values: r.values.map((v) => ({ type: v.type, value: v.value })) };
    case 'record':
      return { type: 'record', keys: r.keys.map(([k, vs]) => [k, vs.map((v) => ({ type: v.type, value: v.value }))]) };
    case 'records':
      return { type: 'records', records: [...r.records] };
    case 'changed':
      return { type: 'changed', changed: r.changed };
  }
}

/** The session answer of a command from the KV face's result, shaped for the op the client sent. */
function answerOf(shape: AnswerShape, kv: Value, result: KvResult, index: LogIndex): SessionAnswer {
  const written = typeof kv === 'object' && kv !== null && !Array.isArray(kv) && !(kv instanceof Uint8Array) ? (kv as { value?: Value }).value ?? null : null;
  if (result.status === 'ok') {
    const revision = 'revision' in result ? result.revision : 0;
    return { kind: 'ok', revision, index, value: shape === 'delete' || shape === 'remove' ? null : written };
  }
  if (shape === 'bulk' && (result.code === 'condition-failed' || result.code === 'not-found') && result.index !== undefined) {
    // Which item failed, for the client's 412: {index, key, current} (current null: absent).
    const items = (kv as { items?: Array<{ key?: Value }> }).items ?? [];
    return { kind: 'cas-failed', current: { index: result.index, key: items[result.index]?.key ?? null, current: result.current?.value ?? null } };
  }
  switch (result.code) {
    case 'condition-failed':
      return { kind: 'cas-failed', current: result.current?.value ?? null };
    case 'not-found':
      // The legacy delete of an absent key succeeds (nothing to do); a conditional one fails.
      if (shape === 'delete') return { kind: 'ok', revision: 0, index, value: null };
      return { kind: 'cas-failed', current: null };
    default:
      return { kind: 'invalid', reason: `${result.code}: ${result.message}` };
  }
}

