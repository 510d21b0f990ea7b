// Serving a read op from one partition's applied state: the KV face's get, the records face's
// select and audit, and one partition's share of a fan-out read (list, count, find, search).
// A read changes nothing, so it may judge TTL expiry by the serving node's clock (never before
// the last applied log time). A client's mistake (bad criteria, bad key) answers `invalid`.
import type { Bugs } from '../bugs.js';
import type { FanOutOp, ReadOp } from '../node/command.js';
import type { ClientResult } from '../node/types.js';
import type { Value } from '../storage/encoding.js';
import type { KeyMatch, KvCommand } from '../storage/kv/commands.js';
import { LIST_LIMIT_DEFAULT } from '../storage/kv/limits.js';
import { parseCriteria } from '../storage/records/ccl.js';
import { RecordError } from '../storage/records/errors.js';
import { checkKey, recordId, type Value as RecordValue } from '../storage/records/values.js';
import { timestamp, timestampFromMs, type Timestamp } from '../storage/types.js';
import { AssertionError, type LogIndex, type PartitionId } from '../types.js';
import type { PartitionStateMachine } from './state-machine.js';

/** A plain object from entries, without prototype surprises for keys like "__proto__". */
export function objectOf(entries: Iterable<readonly [string, Value]>): { [k: string]: Value } {
  const o: { [k: string]: Value } = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** A record value as a storage Value: {type, value} (bigint payloads stay bigint). */
export function recordValueOut(v: RecordValue): Value {
  return { type: v.type, value: v.value };
}

/** The KV face's key match of a list or count: prefix, or start <= key < end, or every key. */
export function keyMatchOf(op: Extract<FanOutOp, { f: 'list' | 'count' }>): KeyMatch {
  if (op.prefix !== undefined) return { type: 'prefix', prefix: op.prefix };
  if (op.start !== undefined || op.end !== undefined) return { type: 'range', ...(op.start !== undefined ? { start: op.start } : {}), ...(op.end !== undefined ? { end: op.end } : {}) };
  return { type: 'all' };
}

function atOf(at: number | undefined): Timestamp | undefined {
  if (at === undefined) return undefined;
  if (!Number.isSafeInteger(at) || at < 0) throw new RecordError('bad-time', `at must be a non-negative integer timestamp (microseconds), got ${at}`);
  return timestamp(at);
}

export function serveRead(sm: PartitionStateMachine, op: ReadOp, nowMs: number, index: LogIndex, partition: PartitionId, bugs?: Bugs): ClientResult {
  const ok = (value: Value, revision: number): ClientResult => ({ kind: 'ok', value, revision, index, partition });
  try {
    switch (op.f) {
      case 'read':
      case 'get': {
        const rec = sm.get(op.key, nowMs);
        return ok(rec?.value ?? null, rec?.revision ?? 0);
      }
      case 'select': {
        const rs = sm.records;
        const id = recordId(op.record);
        const keys = op.keys?.map((k) => checkKey(k));
        const data = rs.selectRecord(id, keys, atOf(op.at));
        const out: Array<readonly [string, Value]> = [];
        for (const [k, vs] of data) if (vs.length > 0) out.push([k, vs.map(recordValueOut)]);
        return ok({ exists: rs.keysEver(id).length > 0, data: objectOf(out) }, rs.version());
      }
      case 'audit': {
        const rs = sm.records;
        const revs = rs.audit(recordId(op.record), op.key === undefined ? undefined : checkKey(op.key));
        return ok(
          revs.map((r) => ({ version: r.version, timestamp: r.timestamp, action: r.action, key: r.key, value: recordValueOut(r.value) })),
          rs.version(),
        );
      }
      case 'part':
        return servePart(sm, op.read, nowMs, ok, bugs);
      default: {
        const _: never = op;
        throw new AssertionError(`serveRead: unknown op ${JSON.stringify(_)}`);
      }
    }
  } catch (e) {
    if (e instanceof RecordError) return { kind: 'invalid', reason: `${e.code}: ${e.message}` };
    throw e;
  }
}

/** One partition's answer to a fan-out read; fanout.ts merges these. */
function servePart(sm: PartitionStateMachine, op: FanOutOp, nowMs: number, ok: (value: Value, revision: number) => ClientResult, bugs?: Bugs): ClientResult {
  const at = timestamp(Math.max(sm.lastTimestamp, timestampFromMs(Math.floor(nowMs))));
  switch (op.f) {
    case 'list': {
      // Every partition returns its first offset + limit keys; the merge skips and cuts.
      const want = (op.offset ?? 0) + (op.limit ?? LIST_LIMIT_DEFAULT);
      // Planted bug: skipping the offset here too drops keys that other partitions' keys push past it.
      const skip = bugs?.has('fanout-offset-per-partition') === true ? (op.offset ?? 0) : 0;
      const cmd: KvCommand = { op: 'list', match: keyMatchOf(op), limit: want, ...(skip > 0 ? { offset: skip } : {}) };
      const r = sm.read(cmd, at);
      if (r.status !== 'ok' || r.op !== 'list') return r.status === 'error' ? { kind: 'invalid', reason: `${r.code}: ${r.message}` } : unexpected(r.op);
      const items = r.items.map((it) => ({ key: it.key, value: 'value' in it ? it.value : null, revision: it.revision }));
      return ok({ items, more: r.more }, r.revision);
    }
    case 'count': {
      const r = sm.read({ op: 'count', match: keyMatchOf(op) }, at);
      if (r.status !== 'ok' || r.op !== 'count') return r.status === 'error' ? { kind: 'invalid', reason: `${r.code}: ${r.message}` } : unexpected(r.op);
      return ok(r.count, r.revision);
    }
    case 'find': {
      const criteria = typeof op.criteria === 'string' ? parseCriteria(op.criteria) : op.criteria;
      return ok(sm.records.find(criteria, atOf(op.at)), sm.records.version());
    }
    case 'search':
      return ok(sm.records.search(op.key, op.query), sm.records.version());
    default: {
      const _: never = op;
      throw new AssertionError(`servePart: unknown op ${JSON.stringify(_)}`);
    }
  }
}

function unexpected(op: string): never {
  throw new AssertionError(`serveRead: the KV face answered ${op}`);
}
