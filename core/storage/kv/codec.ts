// Key-value commands as log entry bytes: the deterministic value encoding of the command object
// (object keys sorted, so equal commands give equal bytes). Decoding does not check the shape;
// KvStateMachine.apply does, and answers invalid-argument for a malformed command.
import { decodeValue, encodeValue, type Value } from '../encoding.js';
import type { Bytes } from '../port.js';
import type { KvCommand } from './commands.js';

/** Drops undefined fields (an optional field left undefined means "absent"). */
function strip(x: unknown): Value {
  if (Array.isArray(x)) return x.map(strip);
  if (typeof x === 'object' && x !== null && !(x instanceof Uint8Array)) {
    const out: { [k: string]: Value } = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) Object.defineProperty(out, k, { value: strip(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return x as Value;
}

export function encodeKvCommand(cmd: KvCommand): Uint8Array {
  return encodeValue(strip(cmd));
}

/** The command object of an entry; throws DecodeError if the bytes are not an encoded value. */
export function decodeKvCommand(bytes: Bytes): unknown {
  return decodeValue(bytes);
}
