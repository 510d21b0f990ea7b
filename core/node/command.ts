// The operations a client request carries. The first four are the original forms (the history
// format's read/write/cas/delete, which the server and the simulator speak); the rest are the
// KV face's richer operations (core/storage/kv); then the records face's (RecordOp) and the
// reads over every partition (FanOutOp). A single-partition op is routed to one partition
// (partitionOfRequest); a fan-out op is split by the node into one PartOp per partition.
import type { Value } from '../storage/encoding.js';
import type { BulkWriteItem } from '../storage/kv/commands.js';
import type { PartitionMap } from '../partition/index.js';
import type { Criteria } from '../storage/records/criteria.js';
import { RECORD_ID_MAX, type RecordId, type Value as RecordValue } from '../storage/records/values.js';
import { AssertionError, type PartitionId } from '../types.js';

/** A value as the original ops write it. The richer ops take any core/storage `Value`. */
export type KvValue = string | number | boolean;

/** How fresh a read must be (default `strong`). See docs/partitioning.md. */
export type ReadConsistency = 'strong' | 'leader' | 'eventual';

export const READ_CONSISTENCIES: readonly ReadConsistency[] = ['strong', 'leader', 'eventual'];

export type KvOp =
  | { readonly f: 'read'; readonly key: string; readonly consistency?: ReadConsistency }
  | { readonly f: 'write'; readonly key: string; readonly value: KvValue }
  | { readonly f: 'cas'; readonly key: string; readonly expected: KvValue | null; readonly value: KvValue }
  /** Without `expected` deleting an absent key succeeds; with it, the key must hold that value. */
  | { readonly f: 'delete'; readonly key: string; readonly expected?: Value }
  /**
   * The KV face's put: `ttlMs` (from the entry's log time), and conditions: `expected` (the
   * current value must equal it; an absent key fails), `expectedRevision` (0: must be absent),
   * `ifAbsent`. A failed condition answers `cas-failed` with the current value.
   */
  | {
      readonly f: 'put';
      readonly key: string;
      readonly value: Value;
      readonly ttlMs?: number;
      readonly expected?: Value;
      readonly expectedRevision?: number;
      readonly ifAbsent?: boolean;
    }
  /** The KV face's get: like read, answering null for an absent or expired key. */
  | { readonly f: 'get'; readonly key: string; readonly consistency?: ReadConsistency };

/**
 * The records face's operations (core/storage/records): each names one record and is routed to
 * that record's partition (PartitionMap.partitionOfRecord), except `insert`, which creates a
 * record in the partition of its request id (see partitionOfRequest). Values are the store's
 * typed values; `at` is a store timestamp (HLC: wall microseconds, see core/storage/types.ts).
 */
export type RecordOp =
  /** Adds value to key; answer value {changed, version}. */
  | { readonly f: 'add'; readonly record: RecordId; readonly key: string; readonly value: RecordValue }
  /** Makes value the only value of key. */
  | { readonly f: 'set'; readonly record: RecordId; readonly key: string; readonly value: RecordValue }
  /** Removes one value of key, or (without value) every value of key. */
  | { readonly f: 'remove'; readonly record: RecordId; readonly key: string; readonly value?: RecordValue }
  /** Inserts a JSON document (docs/storage-records.md) into a new record; answer value {record, version}. */
  | { readonly f: 'insert'; readonly document: Value }
  /** Adds a link from record to destination under key. */
  | { readonly f: 'link'; readonly record: RecordId; readonly key: string; readonly destination: RecordId }
  /** Brings keys (all without keys) of record back to their values at `at`, as new revisions. */
  | { readonly f: 'revert'; readonly record: RecordId; readonly at: number; readonly keys?: readonly string[] }
  /** The record's data (only `keys` when given) now or at `at`; answer value {exists, data: {key: [values]}}. */
  | { readonly f: 'select'; readonly record: RecordId; readonly keys?: readonly string[]; readonly at?: number; readonly consistency?: ReadConsistency }
  /** The revisions of the record (of one key when given), in version order. */
  | { readonly f: 'audit'; readonly record: RecordId; readonly key?: string; readonly consistency?: ReadConsistency };

/**
 * Reads over every partition: the node asks each partition (each at the request's consistency)
 * and merges in order (core/coordinator/fanout.ts). Key ranges are Unicode code point order.
 */
export type FanOutOp =
  /** KV keys with `prefix`, or start <= key < end; `offset` skipped, at most `limit`; answer value {items: [{key, value, revision}], more}. */
  | {
      readonly f: 'list';
      readonly prefix?: string;
      readonly start?: string;
      readonly end?: string;
      readonly limit?: number;
      readonly offset?: number;
      readonly consistency?: ReadConsistency;
    }
  /** The number of KV keys matching like `list`; answer value a number. */
  | { readonly f: 'count'; readonly prefix?: string; readonly start?: string; readonly end?: string; readonly consistency?: ReadConsistency }
  /** Records matching criteria (CCL text or core/storage/records Criteria), now or at `at`; answer value: ids ascending. */
  | { readonly f: 'find'; readonly criteria: string | Criteria; readonly at?: number; readonly consistency?: ReadConsistency }
  /** Records whose `key` holds a string containing the search query; answer value: ids ascending. */
  | { readonly f: 'search'; readonly key: string; readonly query: string; readonly consistency?: ReadConsistency };

/** One partition's share of a fan-out read (made by the node, never sent by clients). */
export type PartOp = { readonly f: 'part'; readonly partition: PartitionId; readonly read: FanOutOp };

/** One operation of a one-shot transaction (core/lock): reads take shared locks, writes exclusive ones. */
export type AtomicTxnOp =
  | { readonly type: 'get'; readonly record: RecordId; readonly key: string }
  | { readonly type: 'select'; readonly record: RecordId }
  | { readonly type: 'add' | 'remove' | 'set'; readonly record: RecordId; readonly key: string; readonly value: RecordValue };

/**
 * A one-shot transaction over records of ONE partition (the one-phase path: begin, operations
 * and commit in one log entry, under core/lock's TransactionManager). Records of several
 * partitions are refused (`invalid`) until cross-partition 2PC exists. Answer value
 * {results: [...], version}.
 */
export type AtomicOp = { readonly f: 'atomic'; readonly ops: readonly AtomicTxnOp[] };

/**
 * Puts and deletes on keys of ONE partition, all or nothing, in one log entry (the KV face's
 * bulk-write). A failed condition answers `cas-failed` with current = {index, key, current}
 * (the first failing item); keys in several partitions are refused until 2PC exists.
 */
export type KvBulkOp = { readonly f: 'bulk'; readonly items: readonly BulkWriteItem[] };

/** Every operation a ClientRequest may carry. */
export type NodeOp = KvOp | KvBulkOp | RecordOp | AtomicOp | FanOutOp | PartOp;

export type ReadOp = Extract<NodeOp, { readonly f: 'read' | 'get' | 'select' | 'audit' | 'part' }>;
export type WriteOp = Exclude<NodeOp, ReadOp | FanOutOp>;
export type KvWriteOp = Exclude<KvOp, Extract<KvOp, { readonly f: 'read' | 'get' }>>;
export type RecordWriteOp = Exclude<RecordOp, Extract<RecordOp, { readonly f: 'select' | 'audit' }>>;

/** Served without the log (at the request's consistency). */
export function isReadOp(op: NodeOp): op is ReadOp {
  return op.f === 'read' || op.f === 'get' || op.f === 'select' || op.f === 'audit' || op.f === 'part';
}

export function isFanOutOp(op: NodeOp): op is FanOutOp {
  return op.f === 'list' || op.f === 'count' || op.f === 'find' || op.f === 'search';
}

export function isKvWriteOp(op: WriteOp): op is KvWriteOp | KvBulkOp {
  return op.f === 'write' || op.f === 'cas' || op.f === 'delete' || op.f === 'put' || op.f === 'bulk';
}

/** The read consistency an op asks for (default strong). */
export function consistencyOf(op: ReadOp | FanOutOp): ReadConsistency {
  return (op.f === 'part' ? op.read.consistency : op.consistency) ?? 'strong';
}

/** The key an `insert` is placed by: its request id, so a retry lands in the same partition and its session. */
export function insertPlacementKey(clientId: number, seq: number): string {
  return `insert/${clientId}/${seq}`;
}

/** Most operations in one transaction. */
export const ATOMIC_OPS_MAX = 500;

/** A request that cannot be placed (a client's mistake): answered `invalid`. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}

/** The partition a single-partition request goes to. Fan-out ops have none (throws). */
export function partitionOfRequest(map: PartitionMap, req: { readonly clientId: number; readonly seq: number; readonly op: NodeOp }): PartitionId {
  const op = req.op;
  switch (op.f) {
    case 'read':
    case 'write':
    case 'cas':
    case 'delete':
    case 'put':
    case 'get':
      return map.partitionOfKey(op.key);
    case 'add':
    case 'set':
    case 'remove':
    case 'link':
    case 'revert':
    case 'select':
    case 'audit':
      if (typeof op.record !== 'bigint' || op.record < 0n || op.record > RECORD_ID_MAX) throw new InvalidRequestError(`record id must be an integer in [0, 2^63), got ${String(op.record)}`);
      return map.partitionOfRecord(op.record);
    case 'insert':
      return map.partitionOfKey(insertPlacementKey(req.clientId, req.seq));
    case 'bulk': {
      if (!Array.isArray(op.items) || op.items.length === 0) throw new InvalidRequestError('a bulk call needs at least one item');
      if (op.items.length > ATOMIC_OPS_MAX) throw new InvalidRequestError(`a bulk call takes at most ${ATOMIC_OPS_MAX} items, got ${op.items.length}`);
      let p: PartitionId | null = null;
      for (const [i, it] of op.items.entries()) {
        if (typeof it?.key !== 'string') throw new InvalidRequestError(`items[${i}]: key must be a string`);
        const q = map.partitionOfKey(it.key);
        if (p !== null && q !== p) throw new InvalidRequestError(`items[${i}]: key ${JSON.stringify(it.key)} is in partition ${q}, the earlier ones in ${p}; bulk calls across partitions (2PC) are not built yet`);
        p = q;
      }
      return p!;
    }
    case 'atomic': {
      if (!Array.isArray(op.ops) || op.ops.length === 0) throw new InvalidRequestError('a transaction needs at least one operation');
      if (op.ops.length > ATOMIC_OPS_MAX) throw new InvalidRequestError(`a transaction takes at most ${ATOMIC_OPS_MAX} operations, got ${op.ops.length}`);
      let p: PartitionId | null = null;
      for (const [i, o] of op.ops.entries()) {
        if (typeof o.record !== 'bigint' || o.record < 0n || o.record > RECORD_ID_MAX) throw new InvalidRequestError(`ops[${i}]: record id must be an integer in [0, 2^63), got ${String(o.record)}`);
        const q = map.partitionOfRecord(o.record);
        if (p !== null && q !== p) throw new InvalidRequestError(`ops[${i}]: record ${o.record} is in partition ${q}, the earlier ones in ${p}; transactions across partitions (2PC) are not built yet`);
        p = q;
      }
      return p!;
    }
    case 'part':
      return op.partition;
    case 'list':
    case 'count':
    case 'find':
    case 'search':
      throw new AssertionError(`partitionOfRequest: ${op.f} reads every partition`);
    default: {
      const _: never = op;
      throw new AssertionError(`partitionOfRequest: unknown op ${JSON.stringify(_)}`);
    }
  }
}
