// The one place where HTTP's key-value surface meets the node's operations (docs/node.md has
// the mapping); nothing else in adapters/ knows the shape of a node op.
//
// HTTP values are JSON; the node stores core/storage Values, of which JSON is a subset, so a
// value goes in as it is. The store encodes objects with sorted keys, so `expected` compares
// JSON values by meaning ({"a":1,"b":2} equals {"b":2,"a":1}).
import type { FanOutOp, KvOp, NodeOp } from '../core/node/command.js';
import type { BulkWriteItem } from '../core/storage/kv/commands.js';
import { FieldError } from './records-mapping.js';
import type { ClientResult } from '../core/node/types.js';
import type { Value } from '../core/storage/encoding.js';

export type Consistency = 'strong' | 'leader' | 'eventual';

/** A JSON value as the store takes it (JSON is a subset of Value). */
function toStored(v: unknown): Value {
  if (v === undefined) throw new Error('kv-mapping: undefined is not a JSON value');
  return v as Value;
}

/** A stored value as JSON: what HTTP wrote comes back as it was; other writers' bigint and bytes get a JSON form. */
function fromStored(v: Value): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(fromStored);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = fromStored(x as Value);
    return o;
  }
  return v;
}

/** PUT /v1/kv/{key}: a put, conditional when `expected` is given, expiring when `ttl` (seconds) is. */
export function putOp(key: string, value: unknown, expected: { readonly present: boolean; readonly value: unknown }, ttlSeconds?: number): KvOp {
  return {
    f: 'put',
    key,
    value: toStored(value),
    ...(expected.present ? { expected: toStored(expected.value) } : {}),
    ...(ttlSeconds !== undefined ? { ttlMs: Math.round(ttlSeconds * 1000) } : {}),
  };
}

/** GET /v1/kv/{key}: strong (ReadIndex), leader (the leader's applied state) or eventual (any replica). */
export function readOp(key: string, consistency: Consistency): KvOp {
  return { f: 'get', key, consistency };
}

/** DELETE /v1/kv/{key}, conditional when `expected` is given. */
export function deleteOp(key: string, expected?: { readonly value: unknown }): KvOp {
  return expected === undefined ? { f: 'delete', key } : { f: 'delete', key, expected: toStored(expected.value) };
}

export type KvOutcome =
  | { readonly kind: 'ok'; readonly value: unknown; readonly revision: number }
  | { readonly kind: 'absent' }
  | { readonly kind: 'condition-failed'; readonly current: unknown }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** `unknown`: a write's outcome is not known (no-quorum); otherwise it certainly did not happen. */
  | { readonly kind: 'unavailable'; readonly reason: string; readonly unknown: boolean };

/** A node result as HTTP sees it. For reads, a null value means the key is absent. */
export function outcomeOf(op: KvOp, r: ClientResult): KvOutcome {
  switch (r.kind) {
    case 'ok':
      if ((op.f === 'read' || op.f === 'get') && r.value === null) return { kind: 'absent' };
      return { kind: 'ok', value: fromStored(r.value), revision: r.revision };
    case 'cas-failed':
      return r.current === null ? { kind: 'absent' } : { kind: 'condition-failed', current: fromStored(r.current) };
    case 'invalid':
      return { kind: 'invalid', reason: r.reason };
    case 'unavailable':
      return { kind: 'unavailable', reason: r.reason, unknown: false };
    case 'no-quorum':
      return { kind: 'unavailable', reason: `no quorum: ${r.reason}`, unknown: true };
    default: {
      const _: never = r;
      return { kind: 'unavailable', reason: `unknown result ${JSON.stringify(_)}`, unknown: true };
    }
  }
}

/** GET /v1/kv: a listing over every partition (prefix, or start <= key < range_end), merged by the node. */
export function listOp(q: { readonly prefix?: string | undefined; readonly start?: string | undefined; readonly rangeEnd?: string | undefined; readonly limit?: number | undefined; readonly offset?: number | undefined }, consistency: Consistency): FanOutOp {
  return {
    f: 'list',
    consistency,
    ...(q.prefix !== undefined ? { prefix: q.prefix } : {}),
    ...(q.start !== undefined ? { start: q.start } : {}),
    ...(q.rangeEnd !== undefined ? { end: q.rangeEnd } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    ...(q.offset !== undefined ? { offset: q.offset } : {}),
  };
}

/** The node's merged listing as the HTTP answer. */
export function listingOf(v: Value): { items: Array<{ key: string; value: unknown; revision: number }>; more: boolean } {
  const o = v as { items: ReadonlyArray<{ key: string; value: Value; revision: number }>; more: boolean };
  return { items: o.items.map((it) => ({ key: it.key, value: fromStored(it.value), revision: it.revision })), more: o.more };
}

/** POST /v1/kv/_bulk: puts and deletes, all or nothing (keys of one partition; see docs/server.md). */
export function bulkOp(ops: ReadonlyArray<{ readonly op: 'put' | 'delete'; readonly key: string; readonly value?: unknown; readonly ttl?: number; readonly expected?: unknown }>): NodeOp {
  const items: BulkWriteItem[] = ops.map((o, i) => {
    const hasExpected = Object.prototype.hasOwnProperty.call(o, 'expected');
    if (o.op === 'put') {
      if (o.value === undefined) throw new FieldError(`ops[${i}].value`, 'is missing');
      return {
        type: 'put',
        key: o.key,
        value: toStored(o.value),
        ...(hasExpected ? { expected: toStored(o.expected) } : {}),
        ...(o.ttl !== undefined ? { ttlMs: Math.round(o.ttl * 1000) } : {}),
      };
    }
    if (o.value !== undefined || o.ttl !== undefined) throw new FieldError(`ops[${i}]`, 'a delete takes no value or ttl');
    return { type: 'delete', key: o.key, ...(hasExpected ? { expected: toStored(o.expected) } : {}) };
  });
  return { f: 'bulk', items };
}

/** A bulk call's failed condition (the node's cas-failed current: {index, key, current}) as the 412 message. */
export function bulkConditionMessage(current: Value): string {
  const c = current as { index?: number; key?: string; current?: Value };
  const what = c.current === null || c.current === undefined ? 'is absent' : 'holds a different value than expected';
  return `ops[${c.index ?? '?'}]: key '${c.key ?? '?'}' ${what}; nothing was written`;
}
