// The partition state machine is the real store: the KV face over an OrderedKV, sessions in
// the replicated state, commands in the store's binary encoding, snapshots of the store.
import { describe, expect, it } from 'vitest';
import { decodeReplicaCommand, encodeReplicaCommand, type ReplicaCommand } from '../../core/replica/command.js';
import { sessionCount, SESSION_SWEEP_MAX } from '../../core/replica/sessions.js';
import { PartitionStateMachine, SnapshotCorruptError } from '../../core/replica/state-machine.js';
import type { KvCommand } from '../../core/storage/kv/commands.js';
import { logIndex } from '../../core/types.js';

class Log {
  index = 0;
  constructor(readonly sm: PartitionStateMachine) {}
  apply(clientId: number, seq: number, shape: ReplicaCommand['shape'], kv: KvCommand, atMs = 1000) {
    return this.sm.apply(logIndex(++this.index), encodeReplicaCommand({ clientId, seq, proposedAtMs: atMs, shape, kv }));
  }
  noop() {
    this.sm.applyNoop(logIndex(++this.index));
  }
}

describe('replica commands', () => {
  it('are the store value encoding, not JSON, and round-trip', () => {
    const c: ReplicaCommand = { clientId: 7, seq: 3, proposedAtMs: 12345, shape: 'cas', kv: { op: 'put', key: 'k', value: 'v', expected: 'u' } };
    const bytes = encodeReplicaCommand(c);
    expect(bytes[0]).not.toBe('['.charCodeAt(0));
    expect(bytes[0]).not.toBe('{'.charCodeAt(0));
    const d = decodeReplicaCommand(bytes);
    expect(d.envelope).toEqual({ clientId: 7, seq: 3, proposedAtMs: 12345, shape: 'cas' });
    expect(d.kv).toEqual({ op: 'put', key: 'k', value: 'v', expected: 'u' });
    expect(encodeReplicaCommand(c)).toEqual(bytes);
  });

  it('refuses bytes that are not a command', () => {
    expect(() => decodeReplicaCommand(new TextEncoder().encode('[1,2,"w","x",3]'))).toThrow(/not/);
    expect(() => decodeReplicaCommand(new Uint8Array(0))).toThrow();
  });
});

describe('PartitionStateMachine', () => {
  it('applies the original ops with their old meaning (write, cas, delete) over the KV face', () => {
    const log = new Log(new PartitionStateMachine());
    expect(log.apply(1, 1, 'write', { op: 'put', key: 'x', value: 1 }).answer).toMatchObject({ kind: 'ok', value: 1, index: 1 });
    expect(log.apply(1, 2, 'cas', { op: 'put', key: 'x', value: 3, expected: 2 }).answer).toEqual({ kind: 'cas-failed', current: 1 });
    expect(log.apply(1, 3, 'cas', { op: 'put', key: 'y', value: 3, expected: 2 }).answer).toEqual({ kind: 'cas-failed', current: null });
    expect(log.apply(1, 4, 'cas', { op: 'put', key: 'y', value: 4, ifAbsent: true }).answer).toMatchObject({ kind: 'ok', value: 4 });
    expect(log.apply(1, 5, 'cas', { op: 'put', key: 'y', value: 5, ifAbsent: true }).answer).toEqual({ kind: 'cas-failed', current: 4 });
    expect(log.apply(1, 6, 'delete', { op: 'delete', key: 'nothing' }).answer).toMatchObject({ kind: 'ok', value: null, revision: 0 });
    expect(log.apply(1, 7, 'delete', { op: 'delete', key: 'x' }).answer).toMatchObject({ kind: 'ok', value: null });
    expect(log.sm.get('x')).toBeUndefined();
    expect(log.sm.get('y')?.value).toBe(4);
    expect(log.apply(1, 8, 'remove', { op: 'delete', key: 'y', expected: 9 }).answer).toEqual({ kind: 'cas-failed', current: 4 });
    expect(log.sm.applied).toBe(8);
  });

  it('a command that reaches the log twice applies once and is answered as the first time', () => {
    const log = new Log(new PartitionStateMachine());
    const first = log.apply(5, 1, 'write', { op: 'put', key: 'x', value: 'a' });
    log.apply(6, 1, 'write', { op: 'put', key: 'x', value: 'b' });
    const again = log.apply(5, 1, 'write', { op: 'put', key: 'x', value: 'a' });
    expect(again.duplicate).toBe(true);
    expect(again.answer).toEqual(first.answer);
    expect(log.sm.get('x')?.value).toBe('b'); // not written again
    expect(log.sm.sessionResult(5, 1)).toEqual(first.answer);
    expect(log.sm.sessionResult(5, 2)).toBeNull();
  });

  it('sessions expire by log time, at most SESSION_SWEEP_MAX per entry', () => {
    const log = new Log(new PartitionStateMachine(60_000));
    for (let c = 0; c < 40; c++) log.apply(c, 1, 'write', { op: 'put', key: `k${c}`, value: c }, 1000);
    expect(sessionCount(log.sm.store)).toBe(40);
    log.apply(100, 1, 'write', { op: 'put', key: 'z', value: 0 }, 30_000);
    expect(sessionCount(log.sm.store)).toBe(41); // not yet expired
    log.apply(100, 2, 'write', { op: 'put', key: 'z', value: 1 }, 62_000);
    expect(sessionCount(log.sm.store)).toBe(41 - SESSION_SWEEP_MAX);
    log.apply(100, 3, 'write', { op: 'put', key: 'z', value: 2 }, 62_001);
    log.apply(100, 4, 'write', { op: 'put', key: 'z', value: 3 }, 62_002);
    expect(sessionCount(log.sm.store)).toBe(1); // only client 100 remains
    expect(log.sm.sessionResult(0, 1)).toBeNull();
  });

  it('log time never goes back along the log (a proposer with a slow clock does not rewind TTLs)', () => {
    const log = new Log(new PartitionStateMachine());
    log.apply(1, 1, 'put', { op: 'put', key: 't', value: 'v', ttlMs: 1000 }, 10_000);
    log.apply(2, 1, 'write', { op: 'put', key: 'o', value: 1 }, 500); // a slow clock
    expect(log.sm.get('t')?.value).toBe('v');
    log.apply(2, 2, 'write', { op: 'put', key: 'o', value: 2 }, 11_001);
    expect(log.sm.get('t')).toBeUndefined(); // expired at log time 11 000
  });

  it('the snapshot is the store: data, sessions and applied index come back; a damaged one is refused', () => {
    const log = new Log(new PartitionStateMachine());
    log.apply(1, 1, 'write', { op: 'put', key: 'x', value: 'a' });
    log.noop();
    log.apply(2, 1, 'put', { op: 'put', key: 'y', value: { nested: [1, 2n, true] } });
    const snap = log.sm.snapshot();
    const b = new PartitionStateMachine();
    b.restore(snap);
    expect(b.applied).toBe(3);
    expect(b.get('x')?.value).toBe('a');
    expect(b.get('y')?.value).toEqual({ nested: [1, 2n, true] });
    expect(b.sessionResult(2, 1)).toEqual(log.sm.sessionResult(2, 1));
    expect(b.snapshot()).toEqual(snap);
    // It goes on applying where the snapshot left off.
    const next = new Log(b);
    next.index = 3;
    expect(next.apply(1, 2, 'write', { op: 'put', key: 'x', value: 'b' }).answer).toMatchObject({ kind: 'ok', index: 4 });
    const bad = snap.slice();
    bad[Math.floor(bad.length / 2)]! ^= 0x10;
    expect(() => new PartitionStateMachine().restore(bad)).toThrow(SnapshotCorruptError);
  });

  it('refuses a gap or a repeat in the applied indexes', () => {
    const sm = new PartitionStateMachine();
    sm.applyNoop(logIndex(1));
    expect(() => sm.applyNoop(logIndex(3))).toThrow(/gap or repeat/);
    expect(() => sm.applyNoop(logIndex(1))).toThrow(/gap or repeat/);
  });

  it('answers a malformed KV command as invalid, still consuming the entry', () => {
    const log = new Log(new PartitionStateMachine());
    const r = log.apply(1, 1, 'put', { op: 'put', key: '', value: 1 } as KvCommand);
    expect(r.answer.kind).toBe('invalid');
    expect(log.sm.applied).toBe(1);
  });
});
