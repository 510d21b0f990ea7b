// The replicated key-value state machine of one Raft group: keys with values and revisions,
// plus client sessions (the last sequence number applied per client and its result), so a
// command that reaches the log twice (a duplicated or re-forwarded proposal) applies once.
import { AssertionError, type LogIndex } from '../types.js';
import { decodeCommand, type KvCommand, type KvValue } from './command.js';
import { crc32c as crc32 } from '../storage/checksum.js';

export interface KvRecord {
  readonly value: KvValue;
  /** The log index of the command that last wrote this key. */
  readonly revision: number;
}

/** What applying a command did. `cas-failed` applied nothing: a definite failure for the client. */
export type ApplyResult =
  | { readonly kind: 'ok'; readonly revision: number }
  | { readonly kind: 'cas-failed'; readonly current: KvValue | null };

interface Session {
  readonly seq: number;
  readonly result: ApplyResult;
}

/** Thrown when snapshot bytes fail their checksum or do not parse: the node must not use them. */
export class SnapshotCorruptError extends Error {
  override readonly name = 'SnapshotCorruptError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class KvStateMachine {
  private readonly data = new Map<string, KvRecord>();
  private readonly sessions = new Map<number, Session>();
  private appliedIndex = 0;

  get applied(): number {
    return this.appliedIndex;
  }

  get(key: string): KvRecord | undefined {
    return this.data.get(key);
  }

  size(): number {
    return this.data.size;
  }

  /** The result of (clientId, seq) if that command was the client's last one applied. */
  sessionResult(clientId: number, seq: number): ApplyResult | null {
    const s = this.sessions.get(clientId);
    return s !== undefined && s.seq === seq ? s.result : null;
  }

  /** Skip an entry that carries no command (a leader's no-op), keeping the applied index exact. */
  applyNoop(index: LogIndex): void {
    this.advanceTo(index);
  }

  apply(index: LogIndex, bytes: Uint8Array): { readonly command: KvCommand; readonly result: ApplyResult; readonly duplicate: boolean } {
    this.advanceTo(index);
    const command = decodeCommand(bytes);
    const session = this.sessions.get(command.clientId);
    if (session !== undefined && command.seq <= session.seq) {
      // A duplicate of a command already applied: its effect happened once; answer as then.
      const result: ApplyResult = command.seq === session.seq ? session.result : { kind: 'ok', revision: 0 };
      return { command, result, duplicate: true };
    }
    const result = this.execute(index, command);
    this.sessions.set(command.clientId, { seq: command.seq, result });
    return { command, result, duplicate: false };
  }

  private advanceTo(index: LogIndex): void {
    if (index !== this.appliedIndex + 1) {
      throw new AssertionError(`KvStateMachine: apply of index ${index} after ${this.appliedIndex} (gap or repeat)`);
    }
    this.appliedIndex = index;
  }

  private execute(index: number, command: KvCommand): ApplyResult {
    const op = command.op;
    switch (op.f) {
      case 'write':
        this.data.set(op.key, { value: op.value, revision: index });
        return { kind: 'ok', revision: index };
      case 'cas': {
        const current = this.data.get(op.key)?.value ?? null;
        if (current !== op.expected) return { kind: 'cas-failed', current };
        this.data.set(op.key, { value: op.value, revision: index });
        return { kind: 'ok', revision: index };
      }
      case 'delete':
        this.data.delete(op.key);
        return { kind: 'ok', revision: index };
      default: {
        const _: never = op;
        throw new AssertionError(`KvStateMachine: unknown op ${JSON.stringify(_)}`);
      }
    }
  }

  /**
   * The state at the applied index as bytes: JSON (keys and sessions in sorted order, so equal
   * states give equal bytes) followed by its CRC-32, big-endian.
   */
  snapshot(): Uint8Array {
    const keys = [...this.data.keys()].sort();
    const ids = [...this.sessions.keys()].sort((a, b) => a - b);
    const body = {
      applied: this.appliedIndex,
      data: keys.map((k) => {
        const r = this.data.get(k)!;
        return [k, r.value, r.revision];
      }),
      sessions: ids.map((id) => {
        const s = this.sessions.get(id)!;
        return s.result.kind === 'ok' ? [id, s.seq, 'ok', s.result.revision] : [id, s.seq, 'cas-failed', s.result.current];
      }),
    };
    const json = encoder.encode(JSON.stringify(body));
    const out = new Uint8Array(json.length + 4);
    out.set(json, 0);
    new DataView(out.buffer).setUint32(json.length, crc32(json), false);
    return out;
  }

  /** Replace the whole state with a snapshot's; throws SnapshotCorruptError on damage. */
  restore(bytes: Uint8Array): void {
    if (bytes.length < 4) throw new SnapshotCorruptError('snapshot shorter than its checksum');
    const n = bytes.length - 4;
    const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(n, false);
    if (crc32(bytes, 0, n) !== stored) throw new SnapshotCorruptError('snapshot checksum mismatch');
    let body: { applied: number; data: [string, KvValue, number][]; sessions: [number, number, string, unknown][] };
    try {
      body = JSON.parse(decoder.decode(bytes.subarray(0, n)));
    } catch {
      throw new SnapshotCorruptError('snapshot does not parse');
    }
    this.data.clear();
    this.sessions.clear();
    for (const [k, value, revision] of body.data) this.data.set(k, { value, revision });
    for (const [id, seq, kind, extra] of body.sessions) {
      const result: ApplyResult =
        kind === 'ok' ? { kind: 'ok', revision: extra as number } : { kind: 'cas-failed', current: extra as KvValue | null };
      this.sessions.set(id, { seq, result });
    }
    this.appliedIndex = body.applied;
  }
}
