// The transaction layer's replicated state as bytes, for Raft snapshots: open transactions
// (status, intents, parked operations), remembered outcomes, held locks and wait queues.
// Encoded with the store's self-describing value encoding (core/storage/encoding.ts), which
// sorts object keys: equal states give equal bytes on every replica.
import { decodeValue, encodeValue, type Value as StoredValue } from '../storage/encoding.js';
import { assert } from '../types.js';
import type { TxnStateImage } from './transactions.js';

export function encodeTxnState<R, V, C>(image: TxnStateImage<R, V, C>): Uint8Array {
  // The image is plain data (records, arrays, strings, numbers, bigints, booleans) by design.
  return encodeValue(image as unknown as StoredValue);
}

export function decodeTxnState<R, V, C>(bytes: Uint8Array): TxnStateImage<R, V, C> {
  const x = decodeValue(bytes) as unknown;
  assert(typeof x === 'object' && x !== null && !Array.isArray(x), 'transaction state: not an object');
  const o = x as Record<string, unknown>;
  assert(o['version'] === 1, () => `transaction state: unknown version ${String(o['version'])}`);
  assert(Array.isArray(o['txns']) && Array.isArray(o['finished']), 'transaction state: txns and finished must be lists');
  const locks = o['locks'] as Record<string, unknown> | undefined;
  assert(
    typeof locks === 'object' && locks !== null && Array.isArray(locks['held']) && Array.isArray(locks['queue']) && typeof locks['nextSeq'] === 'number',
    'transaction state: malformed lock table',
  );
  return x as TxnStateImage<R, V, C>;
}
