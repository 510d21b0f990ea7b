// The key-value face as a deterministic state machine. A Raft group applies commands from its
// log with `apply(command, ctx)`; every replica, given the same log, makes the same writes, the
// same answers and the same change events, because everything it decides comes from the command
// and the entry's context (index, HLC timestamp) — never from a clock. All state lives in the
// OrderedKV (meta included), so a snapshot of the store is a snapshot of the machine.
//
// One apply = one atomic write batch: first the expiry sweep (at most EXPIRY_SWEEP_MAX keys
// whose expiry is at or before the entry's time), then the command, then the meta. Purges share
// one revision, allocated before the command's own revision, and announce `expire` events.
import { assert, unreachable } from '../../types.js';
import { discardChanges, type ChangeSink, type KvChangeEvent } from '../changes.js';
import { bytesEqual, decodeValue, encodeValue, type Value } from '../encoding.js';
import type { OrderedKV, WriteOp } from '../port.js';
import { timestampMs, type ApplyContext, type Timestamp } from '../types.js';
import {
  isReadCommand,
  KvFailure,
  type BulkItemResult,
  type DeleteItem,
  type KvCommand,
  type KvReadCommand,
  type KvResult,
  type PutItem,
  type TouchItem,
} from './commands.js';
import { dataKey, encodeEntry, encodeMeta, expiredRange, expiryKey, META_KEY, parseExpiryKey, decodeEntry, type Meta, type StoredEntry } from './layout.js';
import { DELETE_WHERE_MAX, EXPIRY_SWEEP_MAX } from './limits.js';
import { currentOf, isLive, read, readMeta, scan } from './reader.js';
import { checkBulkWriteItem, checkCommand, checkDeleteItem, checkPutItem, checkTouchItem, checkValue } from './validate.js';

/** Everything one apply decides before it writes. */
class ApplyTx {
  readonly ops: WriteOp[] = [];
  readonly events: KvChangeEvent[] = [];
  /** Keys purged in this apply (so a key is never purged twice). */
  readonly purged = new Set<string>();
  private purgeRevision: number | null = null;
  private commandRevision: number | null = null;

  /** The earliest expiry this apply wrote (Infinity: none). */
  earliestNewExpiryMs = Infinity;

  constructor(
    readonly store: OrderedKV,
    public revision: number,
    readonly ctx: ApplyContext,
    readonly nowMs: number,
    /** False when nobody listens: events (which decode old values) are not built at all. */
    private readonly withEvents: boolean,
  ) {}

  revisionForPurge(): number {
    if (this.purgeRevision === null) {
      assert(this.commandRevision === null, 'a purge after the command changed something: purges must come first');
      this.purgeRevision = ++this.revision;
    }
    return this.purgeRevision;
  }

  /** Whether the command has begun to change things (after which it may not fail). */
  get changing(): boolean {
    return this.commandRevision !== null;
  }

  revisionForCommand(): number {
    if (this.commandRevision === null) this.commandRevision = ++this.revision;
    return this.commandRevision;
  }

  emit(key: string, old: StoredEntry | undefined, now: Value | null, revision: number, cause: KvChangeEvent['cause']): void {
    if (!this.withEvents) return;
    this.events.push({
      kind: 'kv',
      key,
      old: old === undefined ? null : decodeValue(old.value),
      new: now,
      revision,
      prevRevision: old === undefined ? 0 : old.modRevision,
      cause,
      logIndex: this.ctx.index,
      timestamp: this.ctx.timestamp,
    });
  }

  /** Removes an expired entry and announces it. */
  purge(key: string, e: StoredEntry): void {
    if (this.purged.has(key)) return;
    this.purged.add(key);
    const rev = this.revisionForPurge();
    this.ops.push({ type: 'delete', key: dataKey(key) });
    if (e.expiresAtMs !== null) this.ops.push({ type: 'delete', key: expiryKey(e.expiresAtMs, key) });
    this.emit(key, e, null, rev, 'expire');
  }

  /** The live entry of `key`, purging it first if it has expired. */
  load(key: string): StoredEntry | undefined {
    const b = this.store.get(dataKey(key));
    if (b === undefined) return undefined;
    const e = decodeEntry(b);
    if (isLive(e, this.nowMs)) return e;
    this.purge(key, e);
    return undefined;
  }

  /** Writes `next` over `prev` (undefined: absent), keeping the expiry index in step. */
  store_(key: string, prev: StoredEntry | undefined, next: StoredEntry): void {
    this.ops.push({ type: 'put', key: dataKey(key), value: encodeEntry(next) });
    if (prev?.expiresAtMs !== next.expiresAtMs) {
      if (prev !== undefined && prev.expiresAtMs !== null) this.ops.push({ type: 'delete', key: expiryKey(prev.expiresAtMs, key) });
      if (next.expiresAtMs !== null) {
        this.ops.push({ type: 'put', key: expiryKey(next.expiresAtMs, key), value: new Uint8Array(0) });
        this.earliestNewExpiryMs = Math.min(this.earliestNewExpiryMs, next.expiresAtMs);
      }
    }
  }

  remove(key: string, prev: StoredEntry): number {
    const rev = this.revisionForCommand();
    this.ops.push({ type: 'delete', key: dataKey(key) });
    if (prev.expiresAtMs !== null) this.ops.push({ type: 'delete', key: expiryKey(prev.expiresAtMs, key) });
    this.emit(key, prev, null, rev, 'delete');
    return rev;
  }
}

export class KvStateMachine {
  private meta: Meta;
  /**
   * A lower bound on the earliest expiry in the expiry index (Infinity: the index is empty), so
   * an apply whose time is before it skips the sweep's range scan. A cache derived from the
   * store — rebuilt on construction and reload — never state of its own.
   */
  private expiryLowerBoundMs: number;
  private readonly changes: ChangeSink;
  private readonly withEvents: boolean;

  /**
   * `store` may already hold state (a restored snapshot, a reopened LMDB): the machine resumes
   * from the meta it finds there. `changes` receives every event in log order; without it no
   * events are built.
   */
  constructor(
    readonly store: OrderedKV,
    changes?: ChangeSink,
  ) {
    this.changes = changes ?? discardChanges();
    this.withEvents = changes !== undefined;
    this.meta = readMeta(store);
    this.expiryLowerBoundMs = this.earliestExpiryMs();
  }

  /** The earliest expiry in the index, read from the store. */
  private earliestExpiryMs(): number {
    for (const kv of this.store.range({ ...expiredRange(Number.MAX_SAFE_INTEGER - 1), limit: 1 })) return parseExpiryKey(kv.key).expiresAtMs;
    return Infinity;
  }

  /** The last store revision assigned. */
  get revision(): number {
    return this.meta.revision;
  }

  get appliedIndex(): number {
    return this.meta.appliedIndex;
  }

  get appliedTimestamp(): Timestamp {
    return this.meta.appliedTimestamp as Timestamp;
  }

  /**
   * A snapshot restored into the store underneath this machine changes the meta there; the
   * cached meta and expiry bound must follow, or this replica would sweep at other times than
   * its peers. Reading the meta costs one get per apply.
   */
  private resyncIfReplaced(): void {
    const stored = readMeta(this.store);
    if (stored.appliedIndex !== this.meta.appliedIndex || stored.revision !== this.meta.revision) this.reload();
  }

  /** Re-reads the meta and the expiry bound from the store (done by apply when needed). */
  reload(): void {
    this.meta = readMeta(this.store);
    this.expiryLowerBoundMs = this.earliestExpiryMs();
  }

  /**
   * Applies one log entry's command. `command` is checked (it may come straight from decoded
   * bytes): a malformed one answers invalid-argument, still consuming the entry.
   */
  apply(command: unknown, ctx: ApplyContext): KvResult {
    this.resyncIfReplaced();
    assert(ctx.index > this.meta.appliedIndex, () => `KvStateMachine: apply of index ${ctx.index} after ${this.meta.appliedIndex}`);
    assert(ctx.timestamp >= this.meta.appliedTimestamp, () => `KvStateMachine: timestamp ${ctx.timestamp} before the last applied ${this.meta.appliedTimestamp}`);
    const tx = new ApplyTx(this.store, this.meta.revision, ctx, timestampMs(ctx.timestamp), this.withEvents);
    const swept = tx.nowMs >= this.expiryLowerBoundMs;
    if (swept) this.sweep(tx);
    let result: KvResult;
    try {
      result = this.execute(tx, checkCommand(command));
    } catch (e) {
      if (!(e instanceof KvFailure)) throw e;
      // Every check comes before the first change, so a failure never leaves half a command.
      assert(!tx.changing, () => `KvStateMachine: ${e.code} after the command began to write: ${e.message}`);
      result = e.toResult();
    }
    const meta: Meta = { revision: tx.revision, appliedIndex: ctx.index, appliedTimestamp: ctx.timestamp };
    tx.ops.push({ type: 'put', key: META_KEY, value: encodeMeta(meta) });
    this.store.write(tx.ops);
    this.meta = meta;
    this.expiryLowerBoundMs = Math.min(swept ? this.earliestExpiryMs() : this.expiryLowerBoundMs, tx.earliestNewExpiryMs);
    for (const e of tx.events) this.changes.emit(e);
    return result;
  }

  /**
   * A read outside the log (ReadIndex, lease read): the same read functions, no writes. `at` is
   * the time expiry is judged at — the applied entry's timestamp or a later leader HLC reading.
   */
  read(command: unknown, at?: Timestamp): KvResult {
    this.resyncIfReplaced();
    let cmd: KvCommand;
    try {
      cmd = checkCommand(command);
    } catch (e) {
      if (!(e instanceof KvFailure)) throw e;
      return e.toResult();
    }
    if (!isReadCommand(cmd)) return new KvFailure('invalid-argument', `${cmd.op} writes; it must go through the log`).toResult();
    return read(this.store, cmd, timestampMs(at ?? this.appliedTimestamp));
  }

  /** Purges up to EXPIRY_SWEEP_MAX keys that expired at or before this entry's time, earliest first. */
  private sweep(tx: ApplyTx): void {
    const due: { key: string; expiresAtMs: number }[] = [];
    for (const kv of this.store.range({ ...expiredRange(tx.nowMs), limit: EXPIRY_SWEEP_MAX })) due.push(parseExpiryKey(kv.key));
    for (const { key, expiresAtMs } of due) {
      const b = this.store.get(dataKey(key));
      assert(b !== undefined, () => `expiry index names ${JSON.stringify(key)}, which has no entry`);
      const e = decodeEntry(b);
      assert(e.expiresAtMs === expiresAtMs, () => `expiry index for ${JSON.stringify(key)} says ${expiresAtMs}, the entry ${e.expiresAtMs}`);
      tx.purge(key, e);
    }
  }

  private execute(tx: ApplyTx, cmd: KvCommand): KvResult {
    if (isReadCommand(cmd)) return read(this.store, cmd as KvReadCommand, tx.nowMs, tx.revision);
    switch (cmd.op) {
      case 'put': {
        const prev = tx.load(cmd.key);
        checkPut(cmd, prev);
        const next = put(tx, cmd, prev);
        return { status: 'ok', op: 'put', revision: next.modRevision, createRevision: next.createRevision, version: next.version, expiresAtMs: next.expiresAtMs };
      }
      case 'delete': {
        const prev = tx.load(cmd.key);
        checkDelete(cmd, prev);
        return { status: 'ok', op: 'delete', revision: tx.remove(cmd.key, prev!) };
      }
      case 'touch': {
        const prev = tx.load(cmd.key);
        if (prev === undefined) throw notFound(cmd.key);
        return { status: 'ok', op: 'touch', expiresAtMs: touch(tx, cmd, prev) };
      }
      case 'increment':
        return this.increment(tx, cmd);
      case 'delete-where': {
        const limit = Math.min(cmd.limit ?? DELETE_WHERE_MAX, DELETE_WHERE_MAX);
        const victims: { key: string; entry: StoredEntry }[] = [];
        let more = false;
        for (const hit of scan(this.store, cmd.match, cmd.filter, tx.nowMs)) {
          if (victims.length === limit) {
            more = true;
            break;
          }
          victims.push(hit);
        }
        for (const v of victims) tx.remove(v.key, v.entry);
        return { status: 'ok', op: 'delete-where', deleted: victims.map((v) => v.key), more, revision: tx.revision };
      }
      case 'bulk-put':
        return this.bulk(tx, cmd.op, cmd.items, cmd.atomic, checkPutItem, (item, prev) => {
          checkPut(item, prev);
          return () => put(tx, item, prev).modRevision;
        });
      case 'bulk-delete':
        return this.bulk(tx, cmd.op, cmd.items, cmd.atomic, checkDeleteItem, (item, prev) => {
          checkDelete(item, prev);
          return () => tx.remove(item.key, prev!);
        });
      case 'bulk-write':
        return this.bulk(tx, cmd.op, cmd.items, cmd.atomic, checkBulkWriteItem, (item, prev) => {
          if (item.type === 'put') {
            checkPut(item, prev);
            const { type: _t, ...putItem } = item;
            return () => put(tx, putItem, prev).modRevision;
          }
          checkDelete(item, prev);
          return () => tx.remove(item.key, prev!);
        });
      case 'bulk-touch':
        return this.bulk(tx, cmd.op, cmd.items, cmd.atomic, checkTouchItem, (item, prev) => {
          if (prev === undefined) throw notFound(item.key);
          return () => {
            touch(tx, item, prev);
            return prev.modRevision;
          };
        });
      default:
        return unreachable(cmd as never);
    }
  }

  /**
   * The shape of every bulk call: check each item, load (and purge) every key, check every
   * condition, then — unless an atomic call already failed — apply the passing items. Nothing
   * is written before all checks are done, and all writes land in the apply's one batch.
   */
  private bulk<I extends { readonly key: string }>(
    tx: ApplyTx,
    op: 'bulk-put' | 'bulk-delete' | 'bulk-touch' | 'bulk-write',
    items: readonly unknown[],
    atomic: boolean,
    checkItem: (x: unknown, what: string) => I,
    prepare: (item: I, prev: StoredEntry | undefined) => () => number,
  ): KvResult {
    const results: (BulkItemResult | null)[] = [];
    const checked: (I | null)[] = [];
    const seen = new Set<string>();
    items.forEach((x, i) => {
      try {
        const item = checkItem(x, `items[${i}]`);
        if (seen.has(item.key)) throw new KvFailure('invalid-argument', `items[${i}]: key ${JSON.stringify(item.key)} appears twice in one bulk call`);
        seen.add(item.key);
        checked.push(item);
        results.push(null);
      } catch (e) {
        if (!(e instanceof KvFailure)) throw e;
        if (atomic) throw withIndex(e, i);
        checked.push(null);
        results.push(e.toResult());
      }
    });
    // Loading purges expired keys; all purges happen before the first change.
    const prevs = checked.map((item) => (item === null ? undefined : tx.load(item.key)));
    const actions: ((() => number) | null)[] = checked.map((item, i) => {
      if (item === null) return null;
      try {
        return prepare(item, prevs[i]);
      } catch (e) {
        if (!(e instanceof KvFailure)) throw e;
        if (atomic) throw withIndex(e, i);
        results[i] = e.toResult();
        return null;
      }
    });
    actions.forEach((act, i) => {
      if (act !== null) results[i] = { status: 'ok', revision: act() };
    });
    return { status: 'ok', op, results: results.map((r) => r!), revision: tx.revision };
  }

  private increment(tx: ApplyTx, cmd: Extract<KvCommand, { op: 'increment' }>): KvResult {
    const prev = tx.load(cmd.key);
    let current: Value;
    if (prev === undefined) current = cmd.initial ?? 0;
    else {
      current = decodeValue(prev.value);
      if (!(typeof current === 'bigint' || (typeof current === 'number' && Number.isSafeInteger(current)))) {
        throw new KvFailure('wrong-type', `key ${JSON.stringify(cmd.key)} holds ${describeKind(current)}, not an integer counter`);
      }
    }
    const delta = cmd.delta ?? 1;
    let next: number | bigint;
    if (typeof current === 'bigint') next = current + BigInt(delta);
    else {
      const sum = BigInt(current as number) + BigInt(delta);
      if (sum > BigInt(Number.MAX_SAFE_INTEGER) || sum < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new KvFailure('invalid-argument', `counter ${JSON.stringify(cmd.key)} would leave the safe integer range; store a bigint counter instead`);
      }
      next = Number(sum);
    }
    const rev = tx.revisionForCommand();
    const value = encodeValue(next);
    const expiresAtMs = prev === undefined ? (cmd.ttlMs === undefined ? null : tx.nowMs + cmd.ttlMs) : prev.expiresAtMs;
    const entry: StoredEntry = {
      createRevision: prev?.createRevision ?? rev,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
      expiresAtMs,
      value,
    };
    tx.store_(cmd.key, prev, entry);
    tx.emit(cmd.key, prev, next, rev, 'put');
    return { status: 'ok', op: 'increment', value: next, revision: rev };
  }
}

function notFound(key: string): KvFailure {
  return new KvFailure('not-found', `key ${JSON.stringify(key)} not found`);
}

function withIndex(e: KvFailure, i: number): KvFailure {
  return new KvFailure(e.code, e.message.startsWith('items[') ? e.message : `items[${i}]: ${e.message}`, e.current, i);
}

function describeKind(v: Value): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Throws unless the put's conditions hold against `prev` (undefined: absent). */
function checkPut(p: PutItem, prev: StoredEntry | undefined): void {
  if (p.ifAbsent === true && prev !== undefined) {
    throw new KvFailure('condition-failed', `key ${JSON.stringify(p.key)} exists (ifAbsent)`, currentOf(prev));
  }
  if (p.expected !== undefined) {
    if (prev === undefined) throw notFound(p.key);
    if (!bytesEqual(prev.value, checkValue(p.expected, 'expected'))) {
      throw new KvFailure('condition-failed', `key ${JSON.stringify(p.key)} does not hold the expected value`, currentOf(prev));
    }
  }
  checkExpectedRevision(p.key, p.expectedRevision, prev);
}

function checkDelete(d: DeleteItem, prev: StoredEntry | undefined): void {
  if (prev === undefined) {
    // expectedRevision 0 asserts absence; deleting an absent key is still not-found.
    throw notFound(d.key);
  }
  if (d.expected !== undefined && !bytesEqual(prev.value, checkValue(d.expected, 'expected'))) {
    throw new KvFailure('condition-failed', `key ${JSON.stringify(d.key)} does not hold the expected value`, currentOf(prev));
  }
  checkExpectedRevision(d.key, d.expectedRevision, prev);
}

function checkExpectedRevision(key: string, want: number | undefined, prev: StoredEntry | undefined): void {
  if (want === undefined) return;
  const have = prev === undefined ? 0 : prev.modRevision;
  if (have !== want) {
    throw new KvFailure('condition-failed', `key ${JSON.stringify(key)} is at revision ${have}, not ${want}`, currentOf(prev));
  }
}

function put(tx: ApplyTx, p: PutItem, prev: StoredEntry | undefined): StoredEntry {
  const rev = tx.revisionForCommand();
  const value = checkValue(p.value);
  const expiresAtMs = p.ttlMs !== undefined ? tx.nowMs + p.ttlMs : p.keepTtl === true && prev !== undefined ? prev.expiresAtMs : null;
  const next: StoredEntry = {
    createRevision: prev?.createRevision ?? rev,
    modRevision: rev,
    version: (prev?.version ?? 0) + 1,
    expiresAtMs,
    value,
  };
  tx.store_(p.key, prev, next);
  tx.emit(p.key, prev, p.value, rev, 'put');
  return next;
}

/** Sets a new expiry; the value, revision and version do not change, so no event is emitted. */
function touch(tx: ApplyTx, t: TouchItem, prev: StoredEntry): number {
  const expiresAtMs = tx.nowMs + t.ttlMs;
  tx.store_(t.key, prev, { ...prev, expiresAtMs });
  return expiresAtMs;
}
