// Client sessions in the replicated state: per client, the last sequence number applied and the
// answer it got, so a command that reaches the log twice (a retry after a leader change, a
// re-forwarded proposal) applies once and is answered as the first time. They live in the
// partition's OrderedKV beside the data, so the store's snapshot carries them, and they expire
// by log time: a session untouched for SESSION_TTL_MS of log time is dropped (a client that
// comes back after that starts over, as a client that timed out must anyway).
import { decodeKey, decodeValue, encodeKey, encodeValue, type Value } from '../storage/encoding.js';
import type { OrderedKV, WriteOp } from '../storage/port.js';

/** Namespace byte of sessions in the partition store ('S'; the KV face uses 'K'). */
export const SESSION_NAMESPACE = 0x53;
const TABLE_SESSION = 1;
const TABLE_BY_TIME = 2;

export const SESSION_TTL_MS = 10 * 60 * 1000;
/** Most sessions one apply drops (bounds the work of one entry). */
export const SESSION_SWEEP_MAX = 16;

/** What a session remembers of its last command's answer. */
export type SessionAnswer =
  | { readonly kind: 'ok'; readonly revision: number; readonly index: number; readonly value: Value }
  | { readonly kind: 'cas-failed'; readonly current: Value }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface Session {
  readonly seq: number;
  readonly touchedMs: number;
  readonly answer: SessionAnswer;
}

function sessionKey(clientId: number): Uint8Array {
  const k = encodeKey([clientId]);
  const out = new Uint8Array(k.length + 2);
  out[0] = SESSION_NAMESPACE;
  out[1] = TABLE_SESSION;
  out.set(k, 2);
  return out;
}

function timeKey(touchedMs: number, clientId: number): Uint8Array {
  const k = encodeKey([touchedMs, clientId]);
  const out = new Uint8Array(k.length + 2);
  out[0] = SESSION_NAMESPACE;
  out[1] = TABLE_BY_TIME;
  out.set(k, 2);
  return out;
}

function encodeAnswer(a: SessionAnswer): Value {
  switch (a.kind) {
    case 'ok':
      return ['ok', a.revision, a.index, a.value];
    case 'cas-failed':
      return ['cas-failed', a.current];
    case 'invalid':
      return ['invalid', a.reason];
  }
}

function decodeAnswer(v: Value): SessionAnswer {
  if (!Array.isArray(v)) throw new RangeError('session answer: not a list');
  const [kind, a, b, c] = v as Value[];
  if (kind === 'ok' && typeof a === 'number' && typeof b === 'number' && c !== undefined) return { kind, revision: a, index: b, value: c };
  if (kind === 'cas-failed' && a !== undefined) return { kind, current: a };
  if (kind === 'invalid' && typeof a === 'string') return { kind, reason: a };
  throw new RangeError('session answer: malformed');
}

export function readSession(store: OrderedKV, clientId: number): Session | null {
  const b = store.get(sessionKey(clientId));
  if (b === undefined) return null;
  const v = decodeValue(b);
  if (!Array.isArray(v) || typeof v[0] !== 'number' || typeof v[1] !== 'number') throw new RangeError(`session of client ${clientId}: malformed`);
  return { seq: v[0], touchedMs: v[1], answer: decodeAnswer(v[2] as Value) };
}

/** The writes that record `session` for `clientId` (replacing its previous one). */
export function writeSession(store: OrderedKV, clientId: number, session: Session, ops: WriteOp[]): void {
  const prev = readSession(store, clientId);
  if (prev !== null) ops.push({ type: 'delete', key: timeKey(prev.touchedMs, clientId) });
  ops.push({ type: 'put', key: sessionKey(clientId), value: encodeValue([session.seq, session.touchedMs, encodeAnswer(session.answer)]) });
  ops.push({ type: 'put', key: timeKey(session.touchedMs, clientId), value: new Uint8Array(0) });
}

/** The writes that drop up to SESSION_SWEEP_MAX sessions last touched before `nowMs - ttlMs`. */
export function sweepSessions(store: OrderedKV, nowMs: number, ttlMs: number, ops: WriteOp[]): number {
  const start = Uint8Array.of(SESSION_NAMESPACE, TABLE_BY_TIME);
  const end = timeKey(Math.max(0, nowMs - ttlMs), 0);
  let n = 0;
  for (const kv of store.range({ start, end, limit: SESSION_SWEEP_MAX })) {
    const parts = decodeKey(kv.key.subarray(2));
    const clientId = parts[1];
    if (typeof clientId !== 'number') throw new RangeError('session time index: malformed key');
    ops.push({ type: 'delete', key: kv.key });
    ops.push({ type: 'delete', key: sessionKey(clientId) });
    n++;
  }
  return n;
}

export function sessionCount(store: OrderedKV): number {
  let n = 0;
  for (const _ of store.range({ start: Uint8Array.of(SESSION_NAMESPACE, TABLE_SESSION), end: Uint8Array.of(SESSION_NAMESPACE, TABLE_SESSION + 1) })) n++;
  return n;
}
