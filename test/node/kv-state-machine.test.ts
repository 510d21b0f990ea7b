import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, type KvCommand } from '../../core/node/command.js';
import { KvStateMachine, SnapshotCorruptError } from '../../core/node/kv-state-machine.js';
import { AssertionError, logIndex } from '../../core/types.js';

const cmd = (clientId: number, seq: number, op: KvCommand['op']): Uint8Array => encodeCommand({ clientId, seq, op });

describe('command codec', () => {
  it('round-trips every mutating op and is byte-for-byte deterministic', () => {
    const cmds: KvCommand[] = [
      { clientId: 1, seq: 1, op: { f: 'write', key: 'x', value: 3 } },
      { clientId: 2, seq: 9, op: { f: 'cas', key: 'y', expected: null, value: 'a' } },
      { clientId: 3, seq: 4, op: { f: 'cas', key: 'y', expected: true, value: false } },
      { clientId: 4, seq: 2, op: { f: 'delete', key: 'z' } },
    ];
    for (const c of cmds) {
      expect(decodeCommand(encodeCommand(c))).toEqual(c);
      expect(encodeCommand(c)).toEqual(encodeCommand(structuredClone(c)));
    }
  });

  it('refuses bytes that are not a command', () => {
    expect(() => decodeCommand(new TextEncoder().encode('{"x":1}'))).toThrow(AssertionError);
    expect(() => decodeCommand(new Uint8Array([0xff, 0xfe]))).toThrow(AssertionError);
    expect(() => decodeCommand(new TextEncoder().encode('[1,1,"q","k"]'))).toThrow(AssertionError);
  });
});

describe('KvStateMachine', () => {
  it('applies writes, cas and deletes with revisions', () => {
    const sm = new KvStateMachine();
    expect(sm.apply(logIndex(1), cmd(1, 1, { f: 'write', key: 'x', value: 1 })).result).toEqual({ kind: 'ok', revision: 1 });
    expect(sm.apply(logIndex(2), cmd(1, 2, { f: 'cas', key: 'x', expected: 2, value: 3 })).result).toEqual({ kind: 'cas-failed', current: 1 });
    expect(sm.apply(logIndex(3), cmd(1, 3, { f: 'cas', key: 'x', expected: 1, value: 3 })).result).toEqual({ kind: 'ok', revision: 3 });
    expect(sm.get('x')).toEqual({ value: 3, revision: 3 });
    sm.applyNoop(logIndex(4));
    sm.apply(logIndex(5), cmd(1, 4, { f: 'delete', key: 'x' }));
    expect(sm.get('x')).toBeUndefined();
    expect(sm.apply(logIndex(6), cmd(2, 1, { f: 'cas', key: 'x', expected: null, value: 7 })).result).toEqual({ kind: 'ok', revision: 6 });
    expect(sm.applied).toBe(6);
  });

  it('applies a duplicated command once and answers it as the first time', () => {
    const sm = new KvStateMachine();
    sm.apply(logIndex(1), cmd(5, 1, { f: 'write', key: 'x', value: 1 }));
    sm.apply(logIndex(2), cmd(6, 1, { f: 'write', key: 'x', value: 2 }));
    const dup = sm.apply(logIndex(3), cmd(5, 1, { f: 'write', key: 'x', value: 1 }));
    expect(dup.duplicate).toBe(true);
    expect(dup.result).toEqual({ kind: 'ok', revision: 1 });
    expect(sm.get('x')?.value).toBe(2);
  });

  it('refuses a gap or a repeat in the applied index', () => {
    const sm = new KvStateMachine();
    expect(() => sm.applyNoop(logIndex(2))).toThrow(AssertionError);
    sm.applyNoop(logIndex(1));
    expect(() => sm.applyNoop(logIndex(1))).toThrow(AssertionError);
  });

  it('snapshots deterministically, restores exactly, and refuses a damaged snapshot', () => {
    const a = new KvStateMachine();
    a.apply(logIndex(1), cmd(1, 1, { f: 'write', key: 'b', value: 'v' }));
    a.apply(logIndex(2), cmd(2, 1, { f: 'write', key: 'a', value: 2 }));
    a.apply(logIndex(3), cmd(2, 2, { f: 'cas', key: 'a', expected: 9, value: 3 }));
    const snap = a.snapshot();
    const b = new KvStateMachine();
    b.restore(snap);
    expect(b.applied).toBe(3);
    expect(b.get('a')).toEqual({ value: 2, revision: 2 });
    expect(b.snapshot()).toEqual(snap);
    // The session survives: a duplicate of (2, 2) is answered from it.
    expect(b.apply(logIndex(4), cmd(2, 2, { f: 'cas', key: 'a', expected: 9, value: 3 })).result).toEqual({ kind: 'cas-failed', current: 2 });
    for (const at of [0, Math.floor(snap.length / 2), snap.length - 1]) {
      const bad = snap.slice();
      bad[at] = bad[at]! ^ 1;
      expect(() => new KvStateMachine().restore(bad)).toThrow(SnapshotCorruptError);
    }
  });
});
