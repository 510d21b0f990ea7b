// The operations a client request carries. The first four are the original forms (the history
// format's read/write/cas/delete, which the server and the simulator speak); the rest are the
// KV face's richer operations (core/storage/kv). Every op names one key: it is routed to that
// key's partition. Multi-partition operations (list, count, bulk over several partitions) are
// not served yet: they need the coordinator's fan-out.
import type { Value } from '../storage/encoding.js';

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

export type ReadOp = Extract<KvOp, { readonly f: 'read' | 'get' }>;
export type WriteOp = Exclude<KvOp, ReadOp>;

export function isReadOp(op: KvOp): op is ReadOp {
  return op.f === 'read' || op.f === 'get';
}
