// The small parts on their own: majority arithmetic, the inflight window, a follower's
// progress state machine, and the log's stable/committed/applied bookkeeping.
import { describe, expect, it } from 'vitest';
import { committedIndex, quorumActive, quorumSize, voteResult, Inflights, Progress, RaftLog, entrySizeBytes } from '../../core/raft/index.js';
import { logOfTerms } from './harness.js';
import type { NodeId } from '../../core/types.js';

const ids = (...xs: string[]) => xs as NodeId[];

describe('quorum', () => {
  it('majorities', () => {
    expect([1, 2, 3, 4, 5].map(quorumSize)).toEqual([1, 2, 2, 3, 3]);
  });

  it('the committed index is the highest index a majority has reached', () => {
    const v = ids('a', 'b', 'c', 'd', 'e');
    const m: Record<string, number> = { a: 9, b: 3, c: 7, d: 5, e: 1 };
    expect(committedIndex(v, (id) => m[id]!)).toBe(5);
    expect(committedIndex(ids('a'), () => 4)).toBe(4);
    expect(committedIndex(ids('a', 'b'), (id) => (id === 'a' ? 4 : 2))).toBe(2);
    expect(committedIndex([], () => 1)).toBe(0);
  });

  it('vote tallies: won, lost, pending', () => {
    const v = ids('a', 'b', 'c');
    expect(voteResult(v, new Map([['a' as NodeId, true]]))).toBe('pending');
    expect(voteResult(v, new Map([['a' as NodeId, true], ['b' as NodeId, true]]))).toBe('won');
    expect(voteResult(v, new Map([['a' as NodeId, true], ['b' as NodeId, false], ['c' as NodeId, false]]))).toBe('lost');
    expect(voteResult(ids('a', 'b', 'c', 'd'), new Map([['a' as NodeId, true], ['b' as NodeId, false], ['c' as NodeId, false]]))).toBe('lost');
    expect(quorumActive(v, (id) => id !== 'c')).toBe(true);
    expect(quorumActive(v, (id) => id === 'a')).toBe(false);
  });
});

describe('inflights', () => {
  it('bounds by count and bytes, frees from the front', () => {
    const f = new Inflights(3, 100);
    f.add(1, 40);
    f.add(2, 40);
    expect(f.full()).toBe(false);
    f.add(5, 30); // 3 messages, 110 bytes
    expect(f.full()).toBe(true);
    expect(() => f.add(6, 1)).toThrow(/full/);
    f.freeLE(2);
    expect([f.count, f.bytes]).toEqual([1, 30]);
    f.add(7, 10);
    f.add(9, 10);
    expect(() => f.add(8, 1)).toThrow(); // full again (3 messages)
    f.freeFirstOne();
    expect(f.count).toBe(2);
    expect(() => f.add(8, 1)).toThrow(/not after/);
    f.freeLE(100);
    expect([f.count, f.bytes, f.full()]).toEqual([0, 0, false]);
    f.freeFirstOne();
    expect(() => new Inflights(0, 0)).toThrow(/maxInflightMsgs/);
  });

  it('the ring buffer wraps around', () => {
    const f = new Inflights(2, 0);
    f.add(1, 5);
    for (let i = 2; i <= 11; i++) {
      f.add(i, 5); // always one old message in flight: the slots rotate
      expect(f.full()).toBe(true);
      f.freeLE(i - 1);
      expect([f.count, f.bytes]).toEqual([1, 5]);
    }
    f.freeFirstOne();
    expect(f.count).toBe(0);
  });
});

describe('progress', () => {
  it('probe sends one message at a time, replicate streams within the window', () => {
    const p = new Progress(5, 2, 0);
    expect(p.state).toBe('probe');
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 5, 30);
    expect(p.isPaused()).toBe(true);
    expect(p.maybeUpdate(5)).toBe(true);
    p.becomeReplicate();
    expect(p.next).toBe(6);
    p.sentEntries(2, 7, 60);
    p.sentEntries(1, 8, 30);
    expect(p.next).toBe(9);
    expect(p.isPaused()).toBe(true);
    // A stale rejection (at or below match) is ignored; a fresh one falls back to match + 1.
    expect(p.maybeDecrTo(5, 0)).toBe(false);
    expect(p.maybeDecrTo(7, 6)).toBe(true);
    expect(p.next).toBe(6);
  });

  it('probe backtracks to the hint but never below match + 1, ignoring stale answers', () => {
    const p = new Progress(11, 4, 0);
    p.match = 3;
    expect(p.maybeDecrTo(7, 2)).toBe(false); // not the probe we sent (next - 1 = 10)
    expect(p.maybeDecrTo(10, 6)).toBe(true);
    expect(p.next).toBe(7);
    expect(p.maybeDecrTo(6, 0)).toBe(true);
    expect(p.next).toBe(4);
  });

  it('snapshot state pauses until acknowledged, then probes past the snapshot', () => {
    const p = new Progress(3, 4, 0);
    p.becomeSnapshot(20);
    expect(p.isPaused()).toBe(true);
    expect(p.maybeDecrTo(2, 0)).toBe(false);
    p.sentEntries(0, 0, 0);
    p.becomeProbe();
    expect(p.next).toBe(21);
  });
});

describe('log', () => {
  it('tracks stable, committed and applied, and applies only committed durable entries', () => {
    const log = new RaftLog(null, [], 0);
    log.append(logOfTerms([1, 1, 2]));
    expect([log.lastIndex(), log.lastTerm(), log.stable]).toEqual([3, 2, 0]);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([1, 2, 3]);
    log.commitTo(2);
    expect(log.nextCommitted(false)).toEqual([]); // nothing stable yet
    log.stableTo(3, 2);
    expect(log.nextCommitted(false).map((e) => e.index)).toEqual([1, 2]);
    expect(log.nextCommitted(true).map((e) => e.index)).toEqual([1, 2, 3]);
    log.stableTo(3, 9); // a stale acknowledgement of a replaced entry is ignored
    expect(log.stable).toBe(3);
    log.appliedTo(2);
    expect(() => log.commitTo(9)).toThrow(/beyond the last index/);
    expect(() => log.append(logOfTerms([3], 2))).toThrow(/truncating committed/);
    expect(() => log.append(logOfTerms([3], 9))).toThrow(/gap/);
    log.append(logOfTerms([3], 3));
    expect(log.stable).toBe(2); // the replaced entry must be persisted again
  });

  it('findConflictByTerm walks back to the last entry of a term no later than the hint', () => {
    const log = new RaftLog(null, logOfTerms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6]), 0);
    expect(log.findConflictByTerm(10, 3)).toEqual([3, 1]);
    expect(log.findConflictByTerm(10, 5)).toEqual([7, 5]);
    expect(log.findConflictByTerm(20, 6)).toEqual([10, 6]);
    expect(log.findConflictByTerm(10, 0)).toEqual([0, 0]);
  });

  it('slices by bytes, at least one entry', () => {
    const log = new RaftLog(null, logOfTerms([1, 1, 1, 1]), 0);
    const size = entrySizeBytes(log.entryAt(1)!);
    expect(log.slice(1, 5, size * 2).length).toBe(2);
    expect(log.slice(1, 5, 1).length).toBe(1);
    expect(log.slice(3, 99).map((e) => e.index)).toEqual([3, 4]);
    expect(log.slice(9, 12)).toEqual([]);
  });
});
