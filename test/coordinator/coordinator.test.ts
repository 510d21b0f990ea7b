// The coordinator's routing rules, step by step: first target, hints, silence, refusals, the
// bound, and which answer the bound gives (unavailable: certainly not applied; no-quorum:
// outcome unknown).
import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../core/coordinator/index.js';
import type { ClientRequest, ClientResult, ForwardRequest } from '../../core/node/types.js';
import { PartitionMap } from '../../core/partition/index.js';
import { nodeId, partitionId } from '../../core/types.js';

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map(nodeId);
const map = new PartitionMap({ nodes, partitions: 4 });
const p = partitionId(0);
const replicas = map.replicasOf(p);
const self = nodes.find((n) => !map.isReplica(n, p))!;

function setup() {
  const sent: ForwardRequest[] = [];
  const answers: Array<{ req: ClientRequest; result: ClientResult }> = [];
  const c = new Coordinator({ self, routeTimeoutMs: 1000, forwardRetryMs: 100, refusalBackoffMs: 20 }, map, {
    send: (m) => sent.push(m),
    answer: (req, result) => answers.push({ req, result }),
  });
  return { c, sent, answers };
}

const write: ClientRequest = { clientId: 1, seq: 1, op: { f: 'write', key: 'k', value: 1 } };
const read: ClientRequest = { clientId: 2, seq: 1, op: { f: 'read', key: 'k' } };

describe('Coordinator', () => {
  it('sends first to the preferred leader, and answers with the first success', () => {
    const { c, sent, answers } = setup();
    c.route(write, p, 0);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'forward', from: self, to: replicas[0], attempt: 1, partition: p });
    c.onReply({ kind: 'forward-reply', from: replicas[0]!, to: self, partition: p, attempt: 1, clientId: 1, seq: 1, result: { kind: 'ok', value: 1, revision: 1, index: 3 as never, partition: p } }, 5);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.result.kind).toBe('ok');
    expect(c.pending).toBe(0);
    // The next request for p goes to the replica that answered.
    c.route({ ...write, seq: 2 }, p, 10);
    expect(sent[1]!.to).toBe(replicas[0]);
  });

  it('follows a leader hint at once, and a refusal without one after the backoff', () => {
    const { c, sent } = setup();
    c.route(write, p, 0);
    c.onReply({ kind: 'forward-reply', from: replicas[0]!, to: self, partition: p, attempt: 1, clientId: 1, seq: 1, result: { kind: 'unavailable', leaderHint: replicas[2]!, reason: 'not leader' } }, 1);
    expect(sent.map((m) => [m.to, m.attempt])).toEqual([[replicas[0], 1], [replicas[2], 2]]);
    c.onReply({ kind: 'forward-reply', from: replicas[2]!, to: self, partition: p, attempt: 2, clientId: 1, seq: 1, result: { kind: 'unavailable', leaderHint: null, reason: 'no leader known' } }, 2);
    expect(sent).toHaveLength(2);
    c.tick(10);
    expect(sent).toHaveLength(2); // backing off
    c.tick(22);
    expect(sent).toHaveLength(3);
    expect(sent[2]!.to).toBe(replicas[0]); // the next after replicas[2], round the set
  });

  it('ignores a refusal of an attempt it already moved past', () => {
    const { c, sent } = setup();
    c.route(write, p, 0);
    c.tick(100); // silence: attempt 2 goes to the next replica
    expect(sent.map((m) => m.attempt)).toEqual([1, 2]);
    c.onReply({ kind: 'forward-reply', from: replicas[0]!, to: self, partition: p, attempt: 1, clientId: 1, seq: 1, result: { kind: 'unavailable', leaderHint: null, reason: 'late' } }, 101);
    expect(sent).toHaveLength(2);
  });

  it('a write that met only refusals is answered unavailable at the bound', () => {
    const { c, sent, answers } = setup();
    c.route(write, p, 0);
    for (let t = 1; t <= 1000; t++) {
      const last = sent[sent.length - 1]!;
      if (answers.length === 0 && last.attempt === sent.length) {
        c.onReply({ kind: 'forward-reply', from: last.to, to: self, partition: p, attempt: last.attempt, clientId: 1, seq: 1, result: { kind: 'unavailable', leaderHint: null, reason: 'no leader known' } }, t);
      }
      c.tick(t);
    }
    expect(answers).toHaveLength(1);
    expect(answers[0]!.result).toMatchObject({ kind: 'unavailable' });
  });

  it('a write with an attempt unanswered is no-quorum at the bound (it may have applied); a read is unavailable', () => {
    const { c, answers } = setup();
    c.route(write, p, 0);
    c.route(read, p, 0);
    for (let t = 0; t <= 999; t += 10) c.tick(t);
    expect(answers).toHaveLength(0);
    c.tick(1000);
    expect(answers.map((a) => [a.req.clientId, a.result.kind])).toEqual([
      [1, 'no-quorum'],
      [2, 'unavailable'],
    ]);
    expect(c.pending).toBe(0);
  });

  it('requests routed before the first tick are timed from it', () => {
    const { c, answers } = setup();
    c.route(write, p, 0); // the node has no clock yet
    c.clockStarted(50_000);
    c.tick(50_500);
    expect(answers).toHaveLength(0);
    c.tick(51_000);
    expect(answers).toHaveLength(1);
  });
});
