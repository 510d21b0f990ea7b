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
