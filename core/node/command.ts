// Key-value commands as they travel through the Raft log. The encoding is deterministic (fixed
// field order, JSON of plain values) so that every replica, and every run of a seed, writes the
// same bytes for the same command.
import { AssertionError } from '../types.js';

/** A value held under a key. `null` is never stored: it means "absent". */
export type KvValue = string | number | boolean;

export type KvOp =
  | { readonly f: 'read'; readonly key: string }
  | { readonly f: 'write'; readonly key: string; readonly value: KvValue }
  | { readonly f: 'cas'; readonly key: string; readonly expected: KvValue | null; readonly value: KvValue }
  | { readonly f: 'delete'; readonly key: string };

/** A mutating command: a client's op tagged with its session (client id, sequence number). */
export interface KvCommand {
  readonly clientId: number;
  readonly seq: number;
  readonly op: Exclude<KvOp, { readonly f: 'read' }>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCommand(cmd: KvCommand): Uint8Array {
  const op = cmd.op;
  let body: unknown[];
  switch (op.f) {
    case 'write':
      body = [cmd.clientId, cmd.seq, 'w', op.key, op.value];
      break;
    case 'cas':
      body = [cmd.clientId, cmd.seq, 'c', op.key, op.value, op.expected];
      break;
    case 'delete':
      body = [cmd.clientId, cmd.seq, 'd', op.key];
      break;
    default: {
      const _: never = op;
      throw new AssertionError(`encodeCommand: unknown op ${JSON.stringify(_)}`);
    }
  }
  return encoder.encode(JSON.stringify(body));
}

function isValue(v: unknown): v is KvValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Decode a command written by encodeCommand; throws on anything else (a log entry is never guessed at). */
export function decodeCommand(bytes: Uint8Array): KvCommand {
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new AssertionError('decodeCommand: entry bytes are not a command');
  }
  if (!Array.isArray(body) || typeof body[0] !== 'number' || typeof body[1] !== 'number' || typeof body[3] !== 'string') {
    throw new AssertionError(`decodeCommand: malformed command ${JSON.stringify(body)}`);
  }
  const [clientId, seq, tag, key] = body as [number, number, unknown, string];
  if (tag === 'w' && isValue(body[4])) return { clientId, seq, op: { f: 'write', key, value: body[4] } };
  if (tag === 'c' && isValue(body[4]) && (body[5] === null || isValue(body[5]))) {
    return { clientId, seq, op: { f: 'cas', key, value: body[4], expected: body[5] as KvValue | null } };
  }
  if (tag === 'd') return { clientId, seq, op: { f: 'delete', key } };
  throw new AssertionError(`decodeCommand: malformed command ${JSON.stringify(body)}`);
}

/** FNV-1a over a string: spreads keys over partitions identically on every node. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
