// The simulator's parts on their own: event order, disks, network, schedules, checks.
import { describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../../core/raft/types.js';
import { logIndex, nodeId, partitionId, term } from '../../core/types.js';
import { SafetyChecks } from '../../sim/checks.js';
import { SimDisk } from '../../sim/disk.js';
import { EventQueue } from '../../sim/event-queue.js';
import { FAULT_KINDS, generateSchedule, parseFaults } from '../../sim/faults.js';
import { Network } from '../../sim/network.js';
import { Rng } from '../../sim/rng.js';

const P0 = partitionId(0);
const entry = (i: number, t: number, data = `e${i}`): Entry => ({ index: logIndex(i), term: term(t), kind: 'normal', data: new TextEncoder().encode(data) });
const hs = (t: number, commit: number): HardState => ({ term: term(t), vote: nodeId('n1'), commit: logIndex(commit) });

describe('EventQueue', () => {
  it('pops by time, and ties in the order they were pushed', () => {
    const q = new EventQueue<string>();
    const r = new Rng('q');
    const pushed: Array<[number, string]> = [];
    for (let i = 0; i < 500; i++) {
      const t = r.int(0, 20);
      pushed.push([t, `e${i}`]);
      q.push(t, `e${i}`);
    }
    const want = pushed
      .map(([t, e], i) => ({ t, e, i }))
      .sort((a, b) => a.t - b.t || a.i - b.i)
      .map((x) => x.e);
    const got: string[] = [];
    for (let x = q.pop(); x !== undefined; x = q.pop()) got.push(x.event);
    expect(got).toEqual(want);
  });
});

describe('SimDisk', () => {
  it('keeps what was synced, loses what was not when it crashes', () => {
    const d = new SimDisk();
    d.save({ partition: P0, snapshot: null, entries: [entry(1, 1), entry(2, 1)], hardState: hs(1, 0), sync: true });
    d.save({ partition: P0, snapshot: null, entries: [entry(3, 1)], hardState: hs(1, 2), sync: false });
    // A crash that keeps no unsynced prefix: find a seed whose draw keeps nothing.
    let seed = 0;
    for (;;) {
      const probe = new Rng(`c${seed}`);
      if (!probe.chance(0.5)) break;
      seed++;
    }
    expect(d.crash(new Rng(`c${seed}`), false)).toMatchObject({ lostRecords: 2, keptUnsynced: 0 });
    const l = d.load();
    if (l.kind !== 'ok') throw new Error(l.reason);
    expect(l.groups.get(P0)!.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(l.groups.get(P0)!.hardState.commit).toBe(0);
  });

  it('replays overwrites: an entry at index i replaces everything at >= i', () => {
    const d = new SimDisk();
    d.save({ partition: P0, snapshot: null, entries: [entry(1, 1), entry(2, 1), entry(3, 1)], hardState: null, sync: true });
    d.save({ partition: P0, snapshot: null, entries: [entry(2, 2, 'new')], hardState: null, sync: true });
    const l = d.load();
    if (l.kind !== 'ok') throw new Error(l.reason);
    expect(l.groups.get(P0)!.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/2']);
  });

  it('repairs a torn unsynced tail, but refuses a flipped bit in the middle', () => {
    for (let s = 0; s < 30; s++) {
      const d = new SimDisk();
      d.save({ partition: P0, snapshot: null, entries: [entry(1, 1)], hardState: hs(1, 1), sync: true });
      for (let i = 2; i < 6; i++) d.save({ partition: P0, snapshot: null, entries: [entry(i, 1)], hardState: null, sync: false });
      const out = d.crash(new Rng(`torn${s}`), true);
      const l = d.load();
      expect(l.kind).toBe('ok');
      if (l.kind !== 'ok') continue;
      const idx = l.groups.get(P0)!.entries.map((e) => e.index);
      expect(idx).toEqual(Array.from({ length: idx.length }, (_, k) => k + 1)); // a clean prefix
      if (out.torn) expect(d.stats.tornTailsRepaired).toBe(1);
    }
    const d = new SimDisk();
    for (let i = 1; i < 6; i++) d.save({ partition: P0, snapshot: null, entries: [entry(i, 1)], hardState: hs(1, i), sync: true });
    expect(d.flipBit(new Rng('flip'))).toBe(true);
    expect(d.holdsDamage()).toBe(true);
    expect(d.load()).toMatchObject({ kind: 'damaged' });
  });

  it('compaction keeps the snapshot, the later entries and the hard state', () => {
    const d = new SimDisk();
    for (let i = 1; i <= 10; i++) d.save({ partition: P0, snapshot: null, entries: [entry(i, 1)], hardState: hs(1, i), sync: true });
    const snap = { meta: { index: logIndex(6), term: term(1), conf: { voters: [nodeId('n1')] } }, data: new Uint8Array([1, 2, 3]) };
    const before = d.records();
    d.compact(P0, snap);
    expect(d.records()).toBeLessThan(before);
    const l = d.load();
    if (l.kind !== 'ok') throw new Error(l.reason);
    const g = l.groups.get(P0)!;
    expect(g.snapshot?.meta.index).toBe(6);
    expect(g.entries.map((e) => e.index)).toEqual([7, 8, 9, 10]);
    expect(g.hardState.commit).toBe(10);
  });
});

describe('SimDisk and snapshots from the leader', () => {
  const snapAt = (i: number, t: number) => ({ meta: { index: logIndex(i), term: term(t), conf: { voters: [nodeId('n1')] } }, data: new Uint8Array([9]) });

  it('an installed snapshot discards the whole log, above its index too', () => {
    const d = new SimDisk();
    for (let i = 1; i <= 8; i++) d.save({ partition: P0, snapshot: null, entries: [entry(i, 3)], hardState: hs(3, 2), sync: true });
    d.save({ partition: P0, snapshot: snapAt(6, 5), entries: [entry(7, 5)], hardState: hs(5, 6), sync: true });
    const l = d.load();
    if (l.kind !== 'ok') throw new Error(l.reason);
    expect(l.groups.get(P0)!.snapshot?.meta.index).toBe(6);
    expect(l.groups.get(P0)!.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['7/5']);
  });

  it('compaction keeps an overwrite: entries a later append replaced stay replaced (sim seed 639, 3 nodes)', () => {
    const d = new SimDisk();
    for (let i = 1; i <= 4; i++) d.save({ partition: P0, snapshot: null, entries: [entry(i, 3)], hardState: hs(3, 1), sync: true });
    d.save({ partition: P0, snapshot: null, entries: [entry(3, 5)], hardState: hs(5, 3), sync: true }); // replaces 3/3 and 4/3
    d.compact(P0, snapAt(3, 5));
    const l = d.load();
    if (l.kind !== 'ok') throw new Error(l.reason);
    expect(l.groups.get(P0)!.snapshot?.meta.index).toBe(3);
    expect(l.groups.get(P0)!.entries).toEqual([]); // not the stale 4/3
    expect(l.groups.get(P0)!.hardState.commit).toBe(3);
  });

  it('a later compaction does not bring back entries the installed snapshot discarded', () => {
    const d = new SimDisk();
    for (let i = 1; i <= 4; i++) d.save({ partition: P0, snapshot: null, entries: [entry(i, 3)], hardState: hs(3, 1), sync: true });
    d.save({ partition: P0, snapshot: snapAt(3, 5), entries: [], hardState: hs(5, 3), sync: true });
    d.compact(P0, snapAt(3, 5));
    const l = d.load();
    if (l.kind !== 'ok') throw new Error(l.reason);
    expect(l.groups.get(P0)!.entries).toEqual([]); // not the stale 4/3
  });
});

describe('Network', () => {
  it('is FIFO per link without reordering, drops on cut links, and heals', () => {
    const n = new Network(new Rng('net'), 3, 3);
    let last = 0;
    for (let i = 0; i < 200; i++) {
      const [at] = n.send(i * 0.1, 0, 1);
      expect(at).toBeGreaterThanOrEqual(last);
      last = at!;
    }
    n.cutLink(0, 1);
    expect(n.send(100, 0, 1)).toEqual([]);
    expect(n.send(100, 1, 0)).toHaveLength(1); // one-way
    n.healLink(0, 1);
    expect(n.send(100, 0, 1)).toHaveLength(1);
  });

  it('loses and duplicates at about the configured rates', () => {
    const n = new Network(new Rng('net2'), 2, 2);
    n.startWeather('loss', 1, 0.3);
    n.startWeather('duplicate', 2, 0.2);
    let copies = 0;
    for (let i = 0; i < 5000; i++) copies += n.send(i, 0, 1).length;
    expect(n.stats.droppedLoss / 5000).toBeGreaterThan(0.25);
    expect(n.stats.droppedLoss / 5000).toBeLessThan(0.35);
    expect(copies).toBeGreaterThan(5000 * 0.7 * 1.1);
  });
});

describe('fault schedules', () => {
  it('parse the --faults list and refuse unknown kinds', () => {
    expect([...parseFaults('all')]).toEqual([...FAULT_KINDS]);
    expect(parseFaults('none').size).toBe(0);
    expect([...parseFaults('crash,loss')]).toEqual(['crash', 'loss']);
    expect(() => parseFaults('crash,meteor')).toThrow(/unknown fault 'meteor'/);
  });

  it('swarm: seeds draw different mixes, all inside the fault window', () => {
    const mixes = new Set<string>();
    for (let s = 0; s < 40; s++) {
      const g = generateSchedule(new Rng(`sw${s}`), new Set(FAULT_KINDS), true, 5, 45_000);
      mixes.add(g.profile.enabled.join(','));
      for (const f of g.schedule) expect(f.atMs).toBeLessThan(45_000);
    }
    expect(mixes.size).toBeGreaterThan(10);
  });
});

describe('SafetyChecks', () => {
  const n1 = nodeId('n1');
  const n2 = nodeId('n2');

  it('sees two applied entries at one index, and two votes in one term', () => {
    const c = new SafetyChecks(1);
    c.applied(n1, 0, entry(1, 1, 'a'));
    c.applied(n2, 0, entry(1, 1, 'a'));
    expect(c.ok).toBe(true);
    c.applied(n2, 0, entry(1, 2, 'b'));
    expect(c.violations.map((v) => v.kind)).toEqual(['state-machine-safety']);
    const d = new SafetyChecks(1);
    d.voteGranted(0, n1, n2, 3);
    d.voteGranted(0, n1, n2, 3);
    d.voteGranted(0, n2, n1, 3);
    expect(d.ok).toBe(true);
    d.voteGranted(0, n1, nodeId('n3'), 3);
    expect(d.violations.map((v) => v.kind)).toEqual(['double-vote']);
    d.voteGranted(0, n1, nodeId('n3'), 4);
    expect(d.violations).toHaveLength(1);
  });

  it('sees log matching broken and an acknowledged write replaced', () => {
    const c = new SafetyChecks(1);
    c.persisted(n1, 0, [entry(1, 1, 'a')]);
    c.persisted(n2, 0, [entry(1, 1, 'b')]);
    expect(c.violations.map((v) => v.kind)).toEqual(['log-matching']);
    const d = new SafetyChecks(1);
    d.applied(n1, 0, entry(4, 1, 'a'));
    d.acknowledged(0, 4);
    d.applied(n2, 0, entry(4, 2, 'b'));
    expect(d.violations.map((v) => v.kind)).toEqual(['acknowledged-write-lost']);
  });

  it('flags a committed entry a lagging node could still overwrite (Figure 8)', () => {
    const c = new SafetyChecks(1);
    const view = (id: string, lastIndex: number, lastTerm: number, has: boolean) => ({ id: nodeId(id), lastIndex, lastTerm, holds: () => has });
    // (2, term 2) held by n1..n3; n5 holds (2, term 3): more up to date than n2..n4.
    const logs = [view('n1', 3, 4, true), view('n2', 2, 2, true), view('n3', 2, 2, true), view('n4', 1, 1, false), view('n5', 2, 3, false)];
    c.committedSafe(0, n1, 2, 2, logs);
    expect(c.violations.map((v) => v.kind)).toEqual(['committed-entry-unsafe']);
    const ok = new SafetyChecks(1);
    ok.committedSafe(0, n1, 3, 4, [view('n1', 3, 4, true), view('n2', 3, 4, true), view('n3', 3, 4, true), view('n4', 1, 1, false), view('n5', 2, 3, false)]);
    expect(ok.ok).toBe(true);
  });
});
