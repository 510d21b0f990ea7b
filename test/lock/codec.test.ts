// Transaction commands survive the trip through log-entry bytes, and malformed entries are refused.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeTxnCommand, encodeTxnCommand } from '../../core/lock/codec.js';
import { decodeTxnState, encodeTxnState } from '../../core/lock/snapshot.js';
import { txnId } from '../../core/lock/types.js';
import { encodeValue } from '../../core/storage/encoding.js';
import { integer, long, str, where } from '../../core/storage/records/index.js';
import { timestamp } from '../../core/storage/types.js';
import { AssertionError } from '../../core/types.js';
import { Bench, type Cmd } from './bench.js';

const T1 = txnId('n1:1');

describe('transaction command codec', () => {
  it('round-trips every command kind, with bigint ids and typed values', () => {
    const cmds: Cmd[] = [
      { type: 'begin', txn: T1 },
      { type: 'begin', txn: T1, priority: timestamp(12_000) },
      {
        type: 'ops',
        txn: T1,
        ops: [
          { type: 'get', record: 9_007_199_254_740_993n, key: 'k' },
          { type: 'select', record: 1n },
          { type: 'find', criteria: where.and(where.gt('age', integer(3)), where.regex('name', 'a.*')) },
          { type: 'add', record: 2n, key: 'n', value: long(1n << 62n) },
          { type: 'remove', record: 2n, key: 'n', value: { type: 'double', value: 0.5 } },
          { type: 'set', record: 3n, key: 's', value: str('ü') },
        ],
      },
      { type: 'atomic', txn: T1, ops: [{ type: 'get', record: 1n, key: 'k' }] },
      { type: 'prepare', txn: T1 },
      { type: 'commit', txn: T1 },
      { type: 'abort', txn: T1 },
      { type: 'tick' },
    ];
    for (const c of cmds) expect(decodeTxnCommand(encodeTxnCommand(c))).toEqual(c);
  });

  it('equal commands are equal bytes, whatever the field order', () => {
    const a = encodeTxnCommand({ type: 'commit', txn: T1 });
    const b = encodeTxnCommand({ txn: T1, type: 'commit' } as Cmd);
    expect(a).toEqual(b);
  });

  it('refuses malformed entries', () => {
    const bad: unknown[] = [
      'commit',
      { type: 'commit' },
      { type: 'launch', txn: 'x' },
      { type: 'ops', txn: 'x', ops: 'get' },
      { type: 'ops', txn: 'x', ops: [{ type: 'get', record: 1n }] },
      { type: 'ops', txn: 'x', ops: [{ type: 'drop', record: 1n }] },
      { type: 'begin', txn: 'x', priority: 1.5 },
    ];
    for (const x of bad) expect(() => decodeTxnCommand(encodeValue(x as never))).toThrow(AssertionError);
    expect(() => decodeTxnCommand(Uint8Array.of(0xff, 0x00))).toThrow(AssertionError);
  });

  it('decoded commands drive a manager exactly as the originals do', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('t1', 't2'), fc.nat(5), fc.integer({ min: 1, max: 3 })), { maxLength: 30 }), (steps) => {
        const a = new Bench();
        const b = new Bench();
        for (const [who, what, rec] of steps) {
          const txn = txnId(who);
          const record = BigInt(rec);
          const cmd: Cmd =
            what === 0
              ? { type: 'begin', txn }
              : what === 1
                ? { type: 'ops', txn, ops: [{ type: 'get', record, key: 'k' }] }
                : what === 2
                  ? { type: 'ops', txn, ops: [{ type: 'add', record, key: 'k', value: integer(rec) }] }
                  : what === 3
                    ? { type: 'ops', txn, ops: [{ type: 'find', criteria: where.gte('k', integer(2)) }] }
                    : what === 4
                      ? { type: 'commit', txn }
                      : { type: 'abort', txn };
          expect(b.run(decodeTxnCommand(encodeTxnCommand(cmd)))).toEqual(a.run(cmd));
        }
        expect(encodeTxnState(b.mgr.image())).toEqual(encodeTxnState(a.mgr.image()));
        expect(decodeTxnState(encodeTxnState(a.mgr.image()))).toEqual(decodeTxnState(encodeTxnState(b.mgr.image())));
      }),
      { numRuns: 100 },
    );
  });
});
