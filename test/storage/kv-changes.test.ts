import { describe, it, expect } from 'vitest';
import { ChangeFeed, type ChangeEvent } from '../../core/storage/changes.js';
import { logIndex } from '../../core/types.js';
import { timestamp } from '../../core/storage/types.js';

const kvEvent = (i: number): ChangeEvent => ({
  kind: 'kv', key: `k${i}`, old: null, new: i, revision: i, prevRevision: 0, cause: 'put', logIndex: logIndex(i), timestamp: timestamp(i * 1000),
});

describe('ChangeFeed', () => {
  it('hands back events in log order and empties on drain', () => {
    const feed = new ChangeFeed();
    feed.emit(kvEvent(1));
    feed.emit({ kind: 'record', record: 7n, key: 'name', action: 'ADD', value: 'x', version: 1, logIndex: logIndex(1), timestamp: timestamp(1000) });
    feed.emit(kvEvent(2));
    expect(feed.pending).toBe(3);
    expect(feed.drain().map((e) => e.kind)).toEqual(['kv', 'record', 'kv']);
    expect(feed.pending).toBe(0);
    expect(feed.drain()).toEqual([]);
    expect(feed.lastIndex).toBe(2);
  });

  it('refuses an event from an earlier log index', () => {
    const feed = new ChangeFeed();
    feed.emit(kvEvent(5));
    expect(() => feed.emit(kvEvent(4))).toThrow(/out of log order/);
  });

  it('drops the oldest beyond its capacity and counts them', () => {
    const feed = new ChangeFeed({ capacity: 3 });
    for (let i = 1; i <= 3000; i++) feed.emit(kvEvent(i));
    expect(feed.dropped).toBe(2997);
    expect(feed.drain().map((e) => e.logIndex)).toEqual([2998, 2999, 3000]);
    expect(() => new ChangeFeed({ capacity: 0 })).toThrow(/capacity/);
  });
});

describe('KV change events', () => {
  it('every applied change yields one event in log order, with old/new values and revisions', async () => {
    const { MemStore } = await import('../../core/storage/memstore.js');
    const { KvStateMachine } = await import('../../core/storage/kv/index.js');
    const { timestampFromMs } = await import('../../core/storage/types.js');
    const feed = new ChangeFeed();
    const kv = new KvStateMachine(new MemStore(), feed);
    const cmds: unknown[] = [
      { op: 'put', key: 'a', value: null },
      { op: 'put', key: 'a', value: 1, expected: null },
      { op: 'put', key: 'a', value: 2, expected: 7 }, // fails: no event
      { op: 'increment', key: 'n', delta: 3 },
      { op: 'bulk-put', atomic: false, items: [{ key: 'b', value: 'x' }, { key: 'c', value: 'y', ttlMs: 5 }, { key: 'a', value: 0, ifAbsent: true }] },
      { op: 'get', key: 'a' }, // reads: no event
      { op: 'touch', key: 'b', ttlMs: 1000 }, // expiry only: no event
      { op: 'delete-where', match: { type: 'range', start: 'a', end: 'c' } },
      { op: 'get', key: 'zzz' },
    ];
    cmds.forEach((c, i) => kv.apply(c, { index: logIndex(i + 1), timestamp: timestampFromMs(1000 + i * 10) }));
    const evs = feed.drain().map((e) => (e.kind === 'kv' ? [e.logIndex, e.key, e.cause, e.old, e.new, e.revision, e.prevRevision] : e.kind));
    expect(evs).toEqual([
      [1, 'a', 'put', null, null, 1, 0],
      [2, 'a', 'put', null, 1, 2, 1],
      [4, 'n', 'put', null, 3, 3, 0],
      [5, 'b', 'put', null, 'x', 4, 0],
      [5, 'c', 'put', null, 'y', 4, 0],
      // c (ttl 5 ms from t=1040) is swept by the next entry, a read at t=1050.
      [6, 'c', 'expire', 'y', null, 5, 4],
      [8, 'a', 'delete', 1, null, 6, 2],
      [8, 'b', 'delete', 'x', null, 6, 4],
    ]);
  });
});
