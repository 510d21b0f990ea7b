// InstallSnapshot in bounded chunks: the leader sends a snapshot as chunks of at most
// maxSnapshotChunkBytes, one at a time, each asked for by the follower's snapshot-ack; the
// follower reassembles them in order and installs the snapshot with the last one. A lost chunk
// is resumed from what the follower holds, not from the start.
import { describe, expect, it } from 'vitest';
import { Cluster, enc, type TestNode } from './harness.js';
import type { LogIndex } from '../../core/types.js';
import type { Message } from '../../core/raft/types.js';

function compactAt(n: TestNode, index: number): number {
  const data = enc(JSON.stringify(n.applied.filter((a) => a.index <= index)));
  n.disk.saveSnapshot(n.raft.compact(index as LogIndex, data));
  return data.byteLength;
}

/** A cluster whose n3 missed 40 entries that n1 has compacted away. */
function behind(chunk: number): { c: Cluster; bytes: number } {
  const c = new Cluster(3, { maxSnapshotChunkBytes: chunk, electionTicks: 10 });
  c.elect('n1');
  c.run(1);
  c.crash('n3');
  for (let i = 0; i < 40; i++) c.raft('n1').propose(enc(`value-${i}-${'x'.repeat(20)}`));
  c.deliverAll();
  c.run(2);
  const bytes = compactAt(c.node('n1'), 35);
  c.restart('n3');
  return { c, bytes };
}

describe('chunked InstallSnapshot', () => {
  it('sends the snapshot in chunks no larger than the bound and the follower installs it whole', () => {
    const { c, bytes } = behind(256);
    expect(bytes).toBeGreaterThan(1000);
    const chunks: Array<{ offset: number; len: number }> = [];
    for (let i = 0; i < 10; i++) {
      c.tick();
      c.deliverAll((m) => {
        if (m.type === 'snapshot') chunks.push({ offset: m.offset, len: m.data.byteLength });
        return true;
      });
    }
    expect(chunks.length).toBe(Math.ceil(bytes / 256));
    expect(chunks.every((ch) => ch.len <= 256)).toBe(true);
    expect(chunks.map((ch) => ch.offset)).toEqual(chunks.map((_, i) => i * 256));
    const n3 = c.node('n3');
    // Installed once, from the reassembled bytes (the harness's state machine parses them).
    expect(n3.readies.filter((r) => r.snapshot !== null).length).toBe(1);
    expect(c.raft('n3').status()).toMatchObject({ snapshotIndex: 35, lastIndex: 41, applied: 41 });
    expect(n3.applied.map((a) => a.data)).toEqual(c.node('n1').applied.map((a) => a.data));
    expect(c.violations).toEqual([]);
  });

  it('a lost chunk is resumed from what the follower holds after an election timeout', () => {
    const { c, bytes } = behind(200);
    const offsets: number[] = [];
    let lost = false;
    const pass = (m: Message): boolean => {
      if (m.type !== 'snapshot') return true;
      offsets.push(m.offset);
      if (!lost && m.offset === 600) {
        lost = true; // the fourth chunk never arrives
        return false;
      }
      return true;
    };
    for (let i = 0; i < 40; i++) {
      c.tick();
      c.deliverAll(pass);
      c.drop((m) => m.type === 'snapshot' && m.offset === 600 && offsets.filter((o) => o === 600).length === 1);
    }
    expect(lost).toBe(true);
    // The retry starts at offset 0; the follower answers with 600 and the leader goes on from there.
    const restart = offsets.indexOf(0, 1);
    expect(restart).toBeGreaterThan(0);
    expect(offsets[restart + 1]).toBe(600);
    expect(offsets.filter((o) => o === 200).length).toBe(1); // chunks it held were not sent again
    expect(c.raft('n3').status()).toMatchObject({ snapshotIndex: 35, applied: 41 });
    expect(c.node('n3').applied.map((a) => a.data)).toEqual(c.node('n1').applied.map((a) => a.data));
    expect(bytes).toBeGreaterThan(800);
  });

  it('a chunk out of order is not taken; the follower asks for the one it needs', () => {
    const { c } = behind(128);
    let first: Message[] = [];
    for (let i = 0; i < 10 && first.length === 0; i++) {
      c.tick();
      c.deliverAll((m) => m.type !== 'snapshot');
      first = c.take((m) => m.type === 'snapshot');
    }
    expect(first.length).toBe(1);
    const f = first[0]!;
    if (f.type !== 'snapshot') throw new Error('unreachable');
    // Deliver a forged later chunk first: n3 holds nothing, so it asks for offset 0.
    c.deliver({ ...f, offset: 128, data: f.data });
    c.process();
    const acks = c.take((m) => m.type === 'snapshot-ack');
    expect(acks.map((m) => (m.type === 'snapshot-ack' ? m.offset : -1))).toEqual([0]);
    c.deliver(f);
    c.process();
    const next = c.take((m) => m.type === 'snapshot-ack');
    expect(next.map((m) => (m.type === 'snapshot-ack' ? m.offset : -1))).toEqual([128]);
  });

  it('the leader compacting again mid-transfer restarts the transfer with the newer snapshot', () => {
    const { c } = behind(200);
    c.tick();
    c.deliverAll((m) => m.type !== 'snapshot' || m.offset < 400); // two chunks arrive, the third waits
    c.drop((m) => m.type === 'snapshot');
    for (let i = 0; i < 3; i++) c.raft('n1').propose(enc(`later-${i}`));
    c.deliverAll((m) => m.to !== 'n3');
    c.run(1);
    compactAt(c.node('n1'), 43);
    for (let i = 0; i < 40; i++) {
      c.tick();
      c.deliverAll();
    }
    expect(c.raft('n3').status()).toMatchObject({ snapshotIndex: 43, applied: 44 });
    expect(c.node('n3').applied.map((a) => a.data)).toEqual(c.node('n1').applied.map((a) => a.data));
    expect(c.violations).toEqual([]);
  });

  it('duplicated chunks and acks do not multiply the chunks in flight (found by sim seed 5)', () => {
    const { c, bytes } = behind(256);
    let chunks = 0;
    for (let i = 0; i < 20; i++) {
      c.tick();
      for (let round = 0; round < 200; round++) {
        c.process();
        const now = c.take(() => true);
        if (now.length === 0) break;
        for (const m of now) {
          if (m.type === 'snapshot') chunks++;
          c.deliver(m);
          if (m.type === 'snapshot' || m.type === 'snapshot-ack') c.deliver(m); // every copy twice
        }
      }
    }
    expect(c.raft('n3').status()).toMatchObject({ snapshotIndex: 35, applied: 41 });
    // Without the guard each round doubled the chunks (an ack per copy, a chunk per ack).
    expect(chunks).toBeLessThanOrEqual(Math.ceil(bytes / 256) + 2);
  });
});
