// The one place where HTTP's key-value surface meets the node's operations. Re-point this
// module when core/node grows (more ops, consistency levels, TTL); nothing else in adapters/
// knows the shape of a node op.
//
// Today's node stores string | number | boolean; HTTP values are any JSON. A value is stored as
// its canonical JSON text (object keys sorted, no spaces), so `expected` compares JSON values
// by meaning ({"a":1,"b":2} equals {"b":2,"a":1}) and reads give back the JSON value.
import type { KvOp, KvValue } from '../core/node/command.js';
import type { ClientResult } from '../core/node/types.js';

export type Consistency = 'strong' | 'leader' | 'eventual';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

function toStored(v: unknown): KvValue {
  if (v === undefined) throw new Error('kv-mapping: undefined is not a JSON value');
  return canonicalJson(v);
}

function fromStored(v: KvValue | null): unknown {
  if (v === null) return null;
  if (typeof v !== 'string') return v; // written by something other than this module (tests, sim)
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** PUT /v1/kv/{key}: a write, or a compare-and-swap when `expected` is given. */
export function putOp(key: string, value: unknown, expected: { readonly present: boolean; readonly value: unknown }): KvOp {
  if (expected.present) return { f: 'cas', key, expected: expected.value === null ? null : toStored(expected.value), value: toStored(value) };
  return { f: 'write', key, value: toStored(value) };
}

/**
 * GET /v1/kv/{key}. Today's node serves every read through ReadIndex at the leader (linearizable);
 * `leader` and `eventual` are accepted and served the same way (stronger than they promise).
 */
export function readOp(key: string, _consistency: Consistency): KvOp {
  return { f: 'read', key };
}

export function deleteOp(key: string): KvOp {
  return { f: 'delete', key };
}

export type KvOutcome =
  | { readonly kind: 'ok'; readonly value: unknown; readonly revision: number }
  | { readonly kind: 'absent' }
  | { readonly kind: 'condition-failed'; readonly current: unknown }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** A node result as HTTP sees it. For reads, a null value means the key is absent. */
export function outcomeOf(op: KvOp, r: ClientResult): KvOutcome {
  switch (r.kind) {
    case 'ok':
      if (op.f === 'read' && r.value === null) return { kind: 'absent' };
      return { kind: 'ok', value: fromStored(r.value), revision: r.revision };
    case 'cas-failed':
      return r.current === null ? { kind: 'absent' } : { kind: 'condition-failed', current: fromStored(r.current) };
    case 'unavailable':
      return { kind: 'unavailable', reason: r.reason };
    default: {
      const _: never = r;
      return { kind: 'unavailable', reason: `unknown result ${JSON.stringify(_)}` };
    }
  }
}
