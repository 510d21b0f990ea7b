// Stories about the persistence contract: what must be durable before a message leaves or an
// entry is applied, how the core asserts it, and what the planted bugs that break it do.
import { describe, expect, it } from 'vitest';
import { Cluster, enc, persistedLog, seeded, type Message } from './harness.js';
import { Raft, EMPTY_PERSISTED_STATE, type RaftConfig, type Ready } from '../../core/raft/index.js';
import type { LogIndex, NodeId, Term } from '../../core/types.js';

const config = (over: Partial<RaftConfig> = {}): RaftConfig => ({
  id: 'n1' as NodeId,
  conf: { voters: ['n1', 'n2', 'n3'] as NodeId[] },
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: false,
  checkQuorum: false,
  maxInflightMsgs: 8,
  maxInflightBytes: 0,
  maxEntriesBytesPerMsg: 1024,
  random: seeded(1),
  ...over,
});

/** Does this Ready release a message that vouches for new durable state? */
function vouches(rd: Ready): { votes: boolean; acks: boolean } {
  const votes = rd.messages.some((m) => m.type === 'vote-response' && m.granted && !m.preVote);
  const acks = rd.messages.some((m) => m.type === 'append-response' && !m.reject);
  return { votes, acks };
}

describe('the persistence contract', () => {
  it('vote grants and acknowledgements of new entries only leave in a Ready marked mustSync', () => {
    const c = new Cluster(5, { seed: 3 });
    let checked = 0;
    c.onReady = (_id, rd) => {
      const v = vouches(rd);
      if (v.votes && rd.hardState !== null) {
        expect(rd.mustSync).toBe(true);
        checked++;
      }
      if (v.acks && rd.entries.length > 0) {
        expect(rd.mustSync).toBe(true);
        checked++;
      }
      // Nothing is applied from this Ready's own entries: only what an earlier Ready persisted.
      const fresh = new Set(rd.entries.map((e) => e.index));
      for (const e of rd.committedEntries) expect(fresh.has(e.index)).toBe(false);
    };
    c.elect();
    for (let i = 0; i < 30; i++) {
      c.raft(c.leader()!).propose(enc(`v${i}`));
      if (i % 7 === 0) c.run(1);
    }
    c.deliverAll();
    c.crash(c.leader()!);
    c.run(40);
    expect(checked).toBeGreaterThan(10);
    expect(c.violations).toEqual([]);
  });

  it('the contract check itself refuses a Ready that would vouch for state that is not durable', () => {
    // Smuggle messages the core would never produce into its outbox, to show ready() catches them.
    const outbox = (r: Raft): Message[] => Reflect.get(r, 'msgs') as Message[];
    const ack: Message = { type: 'append-response', from: 'n1' as NodeId, to: 'n2' as NodeId, term: 0 as Term, index: 5 as LogIndex, reject: false, hintIndex: 0 as LogIndex, hintTerm: 0 as Term };
    const r1 = new Raft(config(), EMPTY_PERSISTED_STATE);
    outbox(r1).push(ack);
    expect(() => r1.ready()).toThrow(/acknowledges index 5 it does not hold durably/);
    const grant: Message = { type: 'vote-response', from: 'n1' as NodeId, to: 'n2' as NodeId, term: 3 as Term, preVote: false, granted: true };
    const r2 = new Raft(config(), EMPTY_PERSISTED_STATE);
    outbox(r2).push(grant);
    expect(() => r2.ready()).toThrow(/grants a vote to n2 in term 3 that is not in this Ready's hard state/);
  });

  it('a restarted node keeps its term and vote from the hard state', () => {
    const r = new Raft(config(), { hardState: { term: 7 as Term, vote: 'n3' as NodeId, commit: 2 as LogIndex }, snapshot: null, entries: persistedLog([1, 1, 5], 7).entries });
    expect(r.status()).toMatchObject({ term: 7, vote: 'n3', commit: 2, lastIndex: 3, applied: 0, role: 'follower', leader: null });
    // n2 asks for a vote in the same term: refused, already voted for n3.
    r.step({ type: 'vote', from: 'n2' as NodeId, to: 'n1' as NodeId, term: 7 as Term, preVote: false, lastLogIndex: 9 as LogIndex, lastLogTerm: 6 as Term, transfer: false });
    const rd = r.ready();
    expect(rd.messages).toEqual([{ type: 'vote-response', from: 'n1', to: 'n2', term: 7, preVote: false, granted: false }]);
    // Nothing changed, so nothing to persist; committed entries 1..2 are re-applied.
    expect(rd.hardState).toBe(null);
    expect(rd.mustSync).toBe(false);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    r.advance(rd);
  });

  it('a driver whose state machine is durable says how far it applied; nothing before is re-applied', () => {
    const persisted = persistedLog([1, 1, 1, 1], 1, 2);
    const r = new Raft(config({ applied: 3 as LogIndex }), persisted);
    // Applied entries were committed even though the hard state (commit 2) lagged.
    expect(r.status()).toMatchObject({ commit: 3, applied: 3 });
    expect(r.hasReady()).toBe(true); // the commit moved: a hard state to persist
    const rd = r.ready();
    expect(rd.committedEntries).toEqual([]);
    expect(rd.hardState).toEqual({ term: 1, vote: null, commit: 3 });
    r.advance(rd);
    expect(() => new Raft(config({ applied: 9 as LogIndex }), persisted)).toThrow(/beyond the persisted log/);
  });

  it('the Ready loop is one Ready at a time, and misuse fails loudly', () => {
    const r = new Raft(config(), EMPTY_PERSISTED_STATE);
    for (let i = 0; i < 25; i++) r.tick();
    expect(r.hasReady()).toBe(true);
    const rd = r.ready();
    expect(r.hasReady()).toBe(false);
    expect(() => r.ready()).toThrow(/before advance/);
    r.advance(rd);
    expect(() => r.advance(rd)).toThrow(/without an outstanding Ready/);
    const vote: Message = { type: 'vote', from: 'n2' as NodeId, to: 'n9' as NodeId, term: 9 as Term, preVote: false, lastLogIndex: 0 as LogIndex, lastLogTerm: 0 as Term, transfer: false };
    expect(() => r.step(vote)).toThrow(/delivered to n1/);
    expect(() => r.step({ ...vote, from: 'n1' as NodeId, to: 'n1' as NodeId })).toThrow(/to itself/);
  });

  it('bad configuration and inconsistent persisted state are refused with a clear error', () => {
    expect(() => new Raft(config({ electionTicks: 0 }), EMPTY_PERSISTED_STATE)).toThrow(/electionTicks/);
    expect(() => new Raft(config({ heartbeatTicks: 10 }), EMPTY_PERSISTED_STATE)).toThrow(/heartbeatTicks/);
    expect(() => new Raft(config({ maxInflightBytes: -1 }), EMPTY_PERSISTED_STATE)).toThrow(/maxInflightBytes/);
    expect(() => new Raft(config({ conf: { voters: [] } }), EMPTY_PERSISTED_STATE)).toThrow(/empty/);
    expect(() => new Raft(config({ conf: { voters: ['n1', 'n1'] as NodeId[] } }), EMPTY_PERSISTED_STATE)).toThrow(/duplicates/);
    const gap = persistedLog([1, 1, 1], 1, 0);
    expect(() => new Raft(config(), { ...gap, entries: [gap.entries[0]!, gap.entries[2]!] })).toThrow(/not contiguous/);
    expect(() => new Raft(config(), persistedLog([2, 1], 2, 0))).toThrow(/below its predecessor/);
    expect(() => new Raft(config(), persistedLog([1], 1, 5))).toThrow(/beyond the persisted log/);
  });

  it('with ack-before-durable a follower acknowledges unsynced entries, and a crash loses a committed one', () => {
    const story = (bugs: ('ack-before-durable')[]) => {
      const c = new Cluster(3, { bugs, checkQuorum: false });
      c.elect('n1');
      c.run(1);
      c.isolate('n3');
      c.raft('n1').propose(enc('x'));
      c.deliverAll();
      // n1 and n2 hold x: committed and applied on the leader.
      expect(c.node('n1').applied.map((a) => a.data)).toContain('x');
      // n2 crashes (its unsynced writes are lost), and so does n1.
      c.crash('n2');
      c.crash('n1');
      c.restart('n2');
      c.heal();
      c.isolate('n1');
      c.run(40);
      return c;
    };
    const ok = story([]);
    expect(ok.node('n2').applied.map((a) => a.data)).toContain('x');
    expect(ok.violations).toEqual([]);

    const bad = story(['ack-before-durable']);
    expect(bad.node('n2').applied.map((a) => a.data)).not.toContain('x');
    expect(bad.violations.join('\n')).toMatch(/state machine safety: .* at 2/);
  });

  it('with apply-uncommitted a follower applies an entry that a new leader then replaces', () => {
    const story = (bugs: ('apply-uncommitted')[]) => {
      const c = new Cluster(5, { bugs });
      c.elect('n1');
      c.run(1);
      c.partition(['n1', 'n2'], ['n3', 'n4', 'n5']);
      c.raft('n1').propose(enc('minority'));
      c.deliverAll();
      // The majority elects a leader of its own, whose noop takes index 2.
      const majority = ['n3', 'n4', 'n5'];
      for (let i = 0; i < 60 && !majority.some((id) => c.raft(id).status().role === 'leader'); i++) {
        c.tick(majority);
        c.deliverAll();
      }
      c.run(2);
      c.heal();
      c.run(10);
      return c;
    };
    const ok = story([]);
    expect(ok.node('n2').applied.map((a) => a.data)).not.toContain('minority');
    expect(ok.violations).toEqual([]);
    const bad = story(['apply-uncommitted']);
    expect(bad.violations.join('\n')).toMatch(/state machine safety: .* at 2/);
  });

  it('with truncate-committed a late duplicate append drops committed entries from a follower', () => {
    const story = (bugs: ('truncate-committed')[]) => {
      const c = new Cluster(3, { bugs, checkQuorum: false });
      c.elect('n1');
      c.run(1);
      c.raft('n1').propose(enc('e2'));
      c.process();
      // The network keeps a copy of the append carrying e2 to n2 (to deliver it again later).
      const dup = c.queue.find((m) => m.type === 'append' && m.to === 'n2' && m.entries.length > 0)!;
      c.deliverAll();
      c.isolate('n3');
      for (const v of ['e3', 'e4', 'e5']) c.raft('n1').propose(enc(v));
      c.deliverAll();
      c.run(1);
      expect(c.raft('n2').status().commit).toBe(5);
      // The duplicate arrives late.
      c.deliver(dup);
      c.process();
      c.crash('n1');
      c.heal();
      c.isolate('n1');
      c.run(40);
      return c;
    };
    const ok = story([]);
    expect(ok.raft('n2').status().lastIndex).toBeGreaterThanOrEqual(5);
    expect(ok.violations).toEqual([]);

    const bad = story(['truncate-committed']);
    expect(bad.violations.join('\n')).toMatch(/state machine safety/);
  });
});
