// A replica's log command: the client's session (clientId, seq), the proposer's clock reading
// (log time: TTLs and session expiry are judged by it, never by a replica's own clock) and the
// KV face's command, all in the store's binary value encoding (core/storage/encoding.ts), not
// JSON. Equal commands give equal bytes on every node.
import { DecodeError, decodeValue, encodeValue, type Value } from '../storage/encoding.js';
import { encodeKvCommand } from '../storage/kv/codec.js';
import type { KvCommand } from '../storage/kv/commands.js';
import { AssertionError } from '../types.js';

/** Bumped when the envelope changes shape. */
export const COMMAND_FORMAT_VERSION = 1;

/** How the answer to the client is shaped (the legacy ops and the richer ones read results differently). */
export type AnswerShape = 'write' | 'cas' | 'delete' | 'put' | 'remove';

export interface ReplicaCommand {
  readonly clientId: number;
  readonly seq: number;
  /** The proposer's local clock, milliseconds. */
  readonly proposedAtMs: number;
  readonly shape: AnswerShape;
  readonly kv: KvCommand;
}

const SHAPES: readonly AnswerShape[] = ['write', 'cas', 'delete', 'put', 'remove'];

export function encodeReplicaCommand(c: ReplicaCommand): Uint8Array {
  return encodeValue([COMMAND_FORMAT_VERSION, c.clientId, c.seq, Math.floor(c.proposedAtMs), SHAPES.indexOf(c.shape), encodeKvCommand(c.kv)]);
}

/** Decodes a command written by encodeReplicaCommand; throws AssertionError on anything else (a log entry is never guessed at). */
export function decodeReplicaCommand(bytes: Uint8Array): { readonly envelope: Omit<ReplicaCommand, 'kv'>; readonly kv: Value } {
  let v: Value;
  try {
    v = decodeValue(bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new AssertionError(`decodeReplicaCommand: entry bytes are not a command (${e.message})`);
    throw e;
  }
  if (!Array.isArray(v) || v.length !== 6 || v[0] !== COMMAND_FORMAT_VERSION) throw new AssertionError('decodeReplicaCommand: not a version-1 command envelope');
  const [, clientId, seq, at, shape, kv] = v as Value[];
  if (typeof clientId !== 'number' || typeof seq !== 'number' || typeof at !== 'number' || typeof shape !== 'number' || !(kv instanceof Uint8Array) || SHAPES[shape] === undefined) {
    throw new AssertionError('decodeReplicaCommand: malformed command envelope');
  }
  let cmd: Value;
  try {
    cmd = decodeValue(kv);
  } catch (e) {
    if (e instanceof DecodeError) throw new AssertionError(`decodeReplicaCommand: KV command bytes do not decode (${e.message})`);
    throw e;
  }
  return { envelope: { clientId, seq, proposedAtMs: at, shape: SHAPES[shape]! }, kv: cmd };
}
