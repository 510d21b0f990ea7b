import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { crc32c } from '../../core/storage/checksum.js';
import { takeSnapshot, readSnapshot, restoreSnapshot, SnapshotError } from '../../core/storage/snapshot.js';
import { MemStore } from '../../core/storage/memstore.js';
import { KvStateMachine } from '../../core/storage/kv/index.js';
import { timestampFromMs } from '../../core/storage/types.js';
import { logIndex } from '../../core/types.js';
import type { OrderedKV } from '../../core/storage/port.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dump = (s: OrderedKV): string[] => [...s.range()].map((e) => `${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`);

/** Bit-at-a-time CRC-32C, the definition the table version must match. */
function crcSlow(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

function storeOf(entries: [Uint8Array, Uint8Array][]): MemStore {
  const s = new MemStore();
  s.write(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
  return s;
}

/** Rewrites the trailing checksum so a crafted body passes the checksum and reaches the deeper checks. */
function reseal(b: Uint8Array): Uint8Array {
  const out = b.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32c(out, 0, out.length - 4));
  return out;
}

describe('CRC-32C', () => {
  it('matches the standard check value and the bitwise definition, and chains across chunks', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (b, cut) => {
        const k = b.length === 0 ? 0 : cut % b.length;
        expect(crc32c(b)).toBe(crcSlow(b));
        expect(crc32c(b, k, b.length, crc32c(b, 0, k))).toBe(crc32c(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('store snapshots', () => {
  const entry = fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 10 }));

  it('restore gives back exactly the snapshotted contents, replacing what the target held', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), fc.array(entry, { maxLength: 60 }), (a, b) => {
        const src = storeOf(a);
        const snap = takeSnapshot(src);
        expect(readSnapshot(snap).length).toBe(src.size());
        const target = storeOf(b);
        restoreSnapshot(snap, target);
        expect(dump(target)).toEqual(dump(src));
        expect(takeSnapshot(target)).toEqual(snap);
      }),
      { numRuns: 200 },
    );
  });

  it('lays out bytes as documented', () => {
    const snap = takeSnapshot(storeOf([[ascii('k'), ascii('vv')]]));
    expect(Buffer.from(snap.subarray(0, snap.length - 4)).toString('hex')).toBe('43534e50' + '00000001' + '0000000000000001' + '00000001' + '6b' + '00000002' + '7676');
  });

  it('refuses every flipped bit and every truncation, leaving the target untouched', () => {
    const src = storeOf([[ascii('alpha'), ascii('1')], [ascii('beta'), ascii('22')], [ascii('gamma'), new Uint8Array(0)]]);
    const snap = takeSnapshot(src);
    const target = storeOf([[ascii('keep'), ascii('me')]]);
    const before = dump(target);
    for (let bit = 0; bit < snap.length * 8; bit++) {
      const bad = snap.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => restoreSnapshot(bad, target)).toThrow(SnapshotError);
    }
    for (let n = 0; n < snap.length; n++) expect(() => restoreSnapshot(snap.subarray(0, n), target)).toThrow(SnapshotError);
    expect(dump(target)).toEqual(before);
    expect(() => restoreSnapshot(new Uint8Array(3), target)).toThrow(/shorter/);
    expect(() => restoreSnapshot(snap.slice(0, -1), target)).toThrow(/checksum mismatch|corrupt/);
  });

  it('explains structural damage that a checksum would not catch', () => {
    const snap = takeSnapshot(storeOf([[ascii('a'), ascii('1')], [ascii('b'), ascii('2')]]));
    const v2 = snap.slice();
    v2[7] = 2;
    expect(() => readSnapshot(reseal(v2))).toThrow(/format version 2/);
    const count = snap.slice();
    count[15] = 3;
    expect(() => readSnapshot(reseal(count))).toThrow(/header says 3/);
    const swapped = snap.slice();
    swapped[20] = 0x62; // first key 'a' -> 'b': equal to the next key
    expect(() => readSnapshot(reseal(swapped))).toThrow(/out of order/);
    const magic = snap.slice();
    magic[0] = 0;
    expect(() => readSnapshot(magic)).toThrow(/magic/);
  });

  it('carries a key-value machine across: the restored replica continues identically', () => {
    const run = (restoreAt: number | null) => {
      let store = new MemStore();
      let kv = new KvStateMachine(store);
      const answers: unknown[] = [];
      for (let i = 1; i <= 60; i++) {
        if (i === restoreAt) {
          const snap = takeSnapshot(store);
          store = new MemStore();
          store.write([{ type: 'put', key: ascii('junk'), value: ascii('x') }]);
          restoreSnapshot(snap, store);
          kv = new KvStateMachine(store);
        }
        const ctx = { index: logIndex(i), timestamp: timestampFromMs(1000 + i * 7) };
        const cmd = i % 5 === 0 ? { op: 'list', match: { type: 'prefix', prefix: 'k' }, limit: 5 } : i % 3 === 0 ? { op: 'increment', key: `c${i % 4}` } : { op: 'put', key: `k${i % 9}`, value: i, ttlMs: 30 };
        answers.push(kv.apply(cmd, ctx));
      }
      return { answers, dump: dump(store), revision: kv.revision };
    };
    const straight = run(null);
    expect(run(31)).toEqual(straight);
    expect(run(2)).toEqual(straight);
  });
});

describe('restoring underneath a running machine', () => {
  it('a machine whose store is restored in place follows the restored state on its next apply', () => {
    const ctx = (i: number, ms: number) => ({ index: logIndex(i), timestamp: timestampFromMs(ms) });
    // Leader history: a key with a TTL, then more writes.
    const a = new KvStateMachine(new MemStore());
    a.apply({ op: 'put', key: 't', value: 1, ttlMs: 100 }, ctx(1, 1000));
    a.apply({ op: 'put', key: 'u', value: 2 }, ctx(2, 1010));
    const snap = takeSnapshot(a.store);
    // A lagging replica that only saw entry 1... then receives the snapshot into the same store.
    const bStore = new MemStore();
    const b = new KvStateMachine(bStore);
    b.apply({ op: 'get', key: 'x' }, ctx(1, 1000));
    restoreSnapshot(snap, bStore);
    // Both apply entry 3 at a time when t has expired: same answer, same revision, same store.
    const ra = a.apply({ op: 'put', key: 'v', value: 3 }, ctx(3, 1200));
    const rb = b.apply({ op: 'put', key: 'v', value: 3 }, ctx(3, 1200));
    expect(rb).toEqual(ra);
    expect(dump(bStore)).toEqual(dump(a.store));
    expect(b.revision).toBe(a.revision);
  });
});
