// The records face through the replica's state machine: version-2 log commands in the store's
// binary encoding, timestamps from the proposer's clock in the entry, record ids allocated at
// apply among the ids of the partition, snapshots that carry the records.
import { describe, expect, it } from 'vitest';
import { decodeAnyCommand, encodeRecordCommand, encodeReplicaCommand, type LoggedRecordWrite } from '../../core/replica/command.js';
import { serveRead } from '../../core/replica/reads.js';
import { PartitionStateMachine } from '../../core/replica/state-machine.js';
import { partitionOfRecord } from '../../core/partition/map.js';
import { bool, double, integer, link, long, str, timestampMicros } from '../../core/storage/records/values.js';
import { timestamp } from '../../core/storage/types.js';
import { parseCriteria } from '../../core/storage/records/ccl.js';
import { logIndex, partitionId } from '../../core/types.js';

class Log {
  index = 0;
  seq = 0;
  constructor(readonly sm: PartitionStateMachine) {}
  write(w: LoggedRecordWrite, atMs = 1000) {
    return this.sm.apply(logIndex(++this.index), encodeRecordCommand({ clientId: 1, seq: ++this.seq, proposedAtMs: atMs, write: w }));
  }
}

describe('record commands', () => {
  it('round-trip every value type and op; equal commands give equal bytes; KV commands keep format 1', () => {
    const writes: LoggedRecordWrite[] = [
      { op: 'add', record: 5n, key: 'a', value: bool(true) },
      { op: 'add', record: 5n, key: 'a', value: integer(-7) },
      { op: 'set', record: 5n, key: 'b', value: long(1n << 62n) },
      { op: 'add', record: 5n, key: 'c', value: double(3) },
      { op: 'add', record: 5n, key: 'c', value: double(2.5) },
      { op: 'remove', record: (1n << 63n) - 1n, key: 'd', value: str('x'.repeat(300)) },
      { op: 'add', record: 0n, key: 'e', value: link(9n) },
      { op: 'add', record: 0n, key: 'e', value: timestampMicros(-5n) },
      { op: 'clear', record: 3n, key: 'k' },
      { op: 'clear', record: 3n },
      { op: 'insert', document: { name: 'Ada', tags: ['x', 'y'], nested: { n: 1 } } },
      { op: 'link', source: 1n, key: 'friend', destination: 2n },
      { op: 'revert', record: 1n, at: timestamp(123), keys: ['a', 'b'] },
      { op: 'revert', record: 1n, at: timestamp(0) },
    ];
    for (const w of writes) {
      const bytes = encodeRecordCommand({ clientId: 4, seq: 9, proposedAtMs: 77, write: w });
      const d = decodeAnyCommand(bytes);
      expect(d.kind).toBe('records');
      if (d.kind !== 'records') continue;
      expect(d.envelope).toEqual({ clientId: 4, seq: 9, proposedAtMs: 77 });
      expect(d.write).toEqual(w);
      expect(encodeRecordCommand({ clientId: 4, seq: 9, proposedAtMs: 77, write: d.write })).toEqual(bytes);
    }
    const kv = encodeReplicaCommand({ clientId: 1, seq: 1, proposedAtMs: 5, shape: 'put', kv: { op: 'put', key: 'k', value: 1 } });
    expect(kv[0]).toBe(encodeReplicaCommand({ clientId: 1, seq: 1, proposedAtMs: 5, shape: 'put', kv: { op: 'put', key: 'k', value: 1 } })[0]);
    expect(decodeAnyCommand(kv).kind).toBe('kv');
  });
});

describe('the records face in the partition state machine', () => {
  it('stamps revisions with the proposer clock carried in the entry, so replicas agree and reads at a past time work', () => {
    const a = new Log(new PartitionStateMachine());
    const b = new Log(new PartitionStateMachine());
    for (const log of [a, b]) {
      log.write({ op: 'add', record: 1n, key: 'name', value: str('Ada') }, 5000);
      log.write({ op: 'set', record: 1n, key: 'name', value: str('Grace') }, 7000);
      log.write({ op: 'add', record: 1n, key: 'age', value: integer(36) }, 7000);
    }
    const audit = a.sm.records.audit(1n);
    expect(audit.map((r) => [r.action, r.key, r.timestamp])).toEqual([
      ['ADD', 'name', 5_000_000],
      ['REMOVE', 'name', 7_000_000],
      ['ADD', 'name', 7_000_000],
      ['ADD', 'age', 7_000_001], // same millisecond, a later entry: the logical counter moves
    ]);
    expect(b.sm.snapshot()).toEqual(a.sm.snapshot());
    expect(a.sm.records.select('name', 1n, timestamp(6_000_000))).toEqual([str('Ada')]);
    expect(a.sm.records.select('name', 1n)).toEqual([str('Grace')]);
  });

  it('a bad write (bad key, wrong document) answers invalid and writes nothing; a retried command applies once', () => {
    const log = new Log(new PartitionStateMachine());
    const before = log.sm.snapshot().length;
    expect(log.write({ op: 'insert', document: { 'bad key!': 1 } }).answer.kind).toBe('invalid');
    expect(log.sm.records.version()).toBe(0);
    expect(log.sm.snapshot().length).toBeGreaterThanOrEqual(before);
    const bytes = encodeRecordCommand({ clientId: 3, seq: 1, proposedAtMs: 1000, write: { op: 'add', record: 2n, key: 'k', value: integer(1) } });
    const first = log.sm.apply(logIndex(++log.index), bytes);
    const again = log.sm.apply(logIndex(++log.index), bytes);
    expect(again.duplicate).toBe(true);
    expect(again.answer).toEqual(first.answer);
    expect(log.sm.records.audit(2n)).toHaveLength(1);
  });

  it('allocates new record ids only among those that hash to its partition, skipping ids that held data', () => {
    const partitions = 8;
    const mine = partitionId(3);
    const log = new Log(new PartitionStateMachine(undefined, { partition: mine, partitions }));
    const firstMine = [...Array(200).keys()].map((i) => BigInt(i + 1)).filter((id) => partitionOfRecord(id, partitions) === mine);
    log.write({ op: 'add', record: firstMine[0]!, key: 'taken', value: bool(true) });
    const ids: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      const r = log.write({ op: 'insert', document: { i } });
      expect(r.answer.kind).toBe('ok');
      ids.push((r.answer as { value: { record: bigint } }).value.record);
    }
    expect(ids).toEqual(firstMine.slice(1, 6));
    for (const id of ids) expect(partitionOfRecord(id, partitions)).toBe(mine);
  });

  it('snapshots carry the records; a restored replica answers the same reads', () => {
    const log = new Log(new PartitionStateMachine());
    log.write({ op: 'insert', document: { name: 'Ada', langs: ['en', 'fr'], born: 1815 } }, 1000);
    log.write({ op: 'insert', document: { name: 'Alan', born: 1912 } }, 2000);
    const copy = new PartitionStateMachine();
    copy.restore(log.sm.snapshot());
    expect(copy.applied).toBe(log.sm.applied);
    expect(copy.records.find(parseCriteria('born > 1900'))).toEqual([2n]);
    expect(log.sm.records.find(parseCriteria('born > 1900'))).toEqual([2n]);
    expect(copy.records.search('name', 'ad')).toEqual([1n]);
    const sel = serveRead(copy, { f: 'select', record: 1n }, 5000, logIndex(2), partitionId(0));
    expect(sel).toMatchObject({ kind: 'ok', value: { exists: true, data: { name: [{ type: 'string', value: 'Ada' }], langs: [{ type: 'string', value: 'en' }, { type: 'string', value: 'fr' }] } } });
    const missing = serveRead(copy, { f: 'select', record: 99n }, 5000, logIndex(2), partitionId(0));
    expect(missing).toMatchObject({ kind: 'ok', value: { exists: false, data: {} } });
    expect(serveRead(copy, { f: 'part', partition: partitionId(0), read: { f: 'find', criteria: 'born >' } }, 0, logIndex(2), partitionId(0)).kind).toBe('invalid');
  });
});
