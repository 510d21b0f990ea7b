// The transaction layer's state kept in the OrderedKV port beside the records, so that a
// snapshot of the port (core/storage/snapshot.ts) carries open transactions, their intents,
// their locks and the wait queue with everything else. Written at the end of every applied
// command, only what the command changed: the same bytes on every replica.
//
// Layout (namespace 'L' = 0x4C; u64/u32 big-endian, so byte order is numeric order):
//   L 01                    meta: counters (next lock seq, next open seq, next finish seq)
//   L 02 <open u64>         an open transaction's head: id, priority, status, parked ops,
//                           last activity, and the lock request it waits on (if any)
//   L 03 <open u64> <u32 i> its i-th intent (intents only grow while it is open)
//   L 04 <open u64> <seq u64> a lock it holds
//   L 05 <finish u64>       a remembered outcome (oldest first, so eviction deletes the first)
// "open" numbers transactions in begin order and "finish" outcomes in finishing order: a range
// scan gives back the orders the manager iterates in.
import { decodeValue, encodeValue, prefixRange, type Value as StoredValue } from '../storage/encoding.js';
import type { Bytes, OrderedKV, RangeOptions, WriteOp } from '../storage/port.js';
import { assert } from '../types.js';
import type { HeldLock, WaitingRequest } from './lockTable.js';
import type { Intent } from './store.js';
import { comparePriority } from './types.js';
import type { FinishedTxn, TxnRecord, TxnStateImage } from './transactions.js';

export const LOCK_NAMESPACE = 0x4c;
const META = 0x01;
const HEAD = 0x02;
const INTENT = 0x03;
const LOCK = 0x04;
const FINISHED = 0x05;

function u64(n: number): number[] {
  assert(Number.isSafeInteger(n) && n >= 0, `persisted sequence ${n} is not a non-negative safe integer`);
  const out: number[] = [];
  let x = n;
  for (let i = 0; i < 8; i++) {
    out.unshift(x % 256);
    x = Math.floor(x / 256);
  }
  return out;
}

function u32(n: number): number[] {
  assert(Number.isInteger(n) && n >= 0 && n <= 0xffffffff, `persisted index ${n} out of range`);
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

const key = (...parts: number[]): Bytes => Uint8Array.from([LOCK_NAMESPACE, ...parts]);
export const metaKey = (): Bytes => key(META);
export const headKey = (open: number): Bytes => key(HEAD, ...u64(open));
export const intentKey = (open: number, i: number): Bytes => key(INTENT, ...u64(open), ...u32(i));
export const lockKey = (open: number, seq: number): Bytes => key(LOCK, ...u64(open), ...u64(seq));
export const finishedKey = (finish: number): Bytes => key(FINISHED, ...u64(finish));
const prefix = (...parts: number[]): RangeOptions => prefixRange(key(...parts));

export interface Counters {
  /** The lock table's next sequence number. */
  readonly lockSeq: number;
  readonly open: number;
  readonly finish: number;
}

/** What an open transaction's head entry holds: the record without its intents, plus its wait. */
interface Head<R, V, C> {
  readonly record: Omit<TxnRecord<R, V, C>, 'intents'>;
  readonly waiting?: WaitingRequest<V>;
}

export const encode = (x: unknown): Bytes => encodeValue(x as StoredValue);
const decode = <T>(b: Bytes): T => decodeValue(b) as unknown as T;

export function metaPut(c: Counters): WriteOp {
  return { type: 'put', key: metaKey(), value: encode(c) };
}

export function headPut<R, V, C>(t: TxnRecord<R, V, C>, waiting: WaitingRequest<V> | undefined): WriteOp {
  const { intents: _, ...record } = t;
  const head: Head<R, V, C> = waiting === undefined ? { record } : { record, waiting };
  return { type: 'put', key: headKey(t.seq), value: encode(head) };
}

export function intentPut<R, V>(open: number, i: number, intent: Intent<R, V>): WriteOp {
  return { type: 'put', key: intentKey(open, i), value: encode(intent) };
}

export function lockPut<V>(open: number, lock: HeldLock<V>): WriteOp {
  return { type: 'put', key: lockKey(open, lock.seq), value: encode(lock) };
}

export function finishedPut(f: FinishedTxn): WriteOp {
  return { type: 'put', key: finishedKey(f.seq), value: encode(f) };
}

export function finishedDelete(f: FinishedTxn): WriteOp {
  return { type: 'delete', key: finishedKey(f.seq) };
}

/** Deletes for everything of one closed transaction: head, intents, locks. */
export function closeDeletes(port: OrderedKV, open: number): WriteOp[] {
  const ops: WriteOp[] = [{ type: 'delete', key: headKey(open) }];
  for (const p of [prefix(INTENT, ...u64(open)), prefix(LOCK, ...u64(open))]) {
    for (const e of port.range(p)) ops.push({ type: 'delete', key: e.key });
  }
  return ops;
}

/** The state persisted in `port`, or undefined when the port holds none (a fresh store). */
export function loadTxnImage<R, V, C>(port: OrderedKV): { image: TxnStateImage<R, V, C>; counters: Counters } | undefined {
  const meta = port.get(metaKey());
  if (meta === undefined) return undefined;
  const counters = decode<Counters>(meta);
  const txns: TxnRecord<R, V, C>[] = [];
  const held: HeldLock<V>[] = [];
  const queue: WaitingRequest<V>[] = [];
  for (const e of port.range(prefix(HEAD))) {
    const head = decode<Head<R, V, C>>(e.value);
    const intents: Intent<R, V>[] = [];
    for (const ie of port.range(prefix(INTENT, ...u64(head.record.seq)))) intents.push(decode<Intent<R, V>>(ie.value));
    for (const le of port.range(prefix(LOCK, ...u64(head.record.seq)))) held.push(decode<HeldLock<V>>(le.value));
    txns.push({ ...head.record, intents });
    if (head.waiting !== undefined) queue.push(head.waiting);
  }
  const finished: FinishedTxn[] = [];
  for (const e of port.range(prefix(FINISHED))) finished.push(decode<FinishedTxn>(e.value));
  held.sort((a, b) => a.seq - b.seq);
  queue.sort((a, b) => comparePriority(a.priority, b.priority));
  return { image: { version: 1, txns, finished, counters: { open: counters.open, finish: counters.finish }, locks: { nextSeq: counters.lockSeq, held, queue } }, counters };
}
