// Reads over every partition (KV listing and count, records find and search): the node splits
// a fan-out op into one `part` request per partition, each served like any single-partition
// read (by a local replica or routed to one, at the request's consistency), and this file
// gathers the answers and merges them in order. A list asks every partition for its first
// offset + limit keys, so the merged page is exact: skip `offset`, keep `limit`, and `more` when
// anything was left beyond. The first part that fails answers for the whole request.
import type { FanOutOp, PartOp } from '../node/command.js';
import type { ClientRequest, ClientResult } from '../node/types.js';
import type { Value } from '../storage/encoding.js';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from '../storage/kv/limits.js';
import { compareCodePoints } from '../storage/records/values.js';
import { AssertionError, partitionId, type LogIndex, type PartitionId } from '../types.js';

export interface FanOutHost {
  /** Send one part (a single-partition read) on its way. */
  dispatch(part: ClientRequest): void;
  /** The merged answer to the client's request. */
  answer(request: ClientRequest, result: ClientResult): void;
}

interface Gather {
  readonly request: ClientRequest;
  readonly op: FanOutOp;
  readonly results: Array<Extract<ClientResult, { kind: 'ok' }> | undefined>;
  waiting: number;
}

type ListItemOut = { readonly key: string; readonly value: Value; readonly revision: number };

/** Why a fan-out op is malformed, or null. Checked before any partition is asked. */
export function checkFanOut(op: FanOutOp): string | null {
  if (op.f === 'list' || op.f === 'count') {
    if (op.prefix !== undefined && (op.start !== undefined || op.end !== undefined)) return "field 'prefix': give either prefix or a range (start / range_end), not both";
  }
  if (op.f === 'list') {
    const limit = op.limit ?? LIST_LIMIT_DEFAULT;
    const offset = op.offset ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) return `field 'limit': must be an integer in [1, ${LIST_LIMIT_MAX}], got ${limit}`;
    if (!Number.isSafeInteger(offset) || offset < 0) return `field 'offset': must be a non-negative integer, got ${offset}`;
    if (offset + limit > LIST_LIMIT_MAX) return `field 'offset': offset + limit must be at most ${LIST_LIMIT_MAX} (every partition returns that many keys), got ${offset + limit}`;
  }
  return null;
}

export class FanOuts {
  private readonly open = new Map<string, Gather>();

  constructor(
    private readonly partitions: number,
    private readonly host: FanOutHost,
  ) {}

  get pending(): number {
    return this.open.size;
  }

  start(request: ClientRequest, op: FanOutOp): void {
    const ctx = `${request.clientId}:${request.seq}`;
    if (this.open.has(ctx)) return; // a retry of a fan-out still gathering
    const bad = checkFanOut(op);
    if (bad !== null) {
      this.host.answer(request, { kind: 'invalid', reason: bad });
      return;
    }
    const g: Gather = { request, op, results: new Array(this.partitions).fill(undefined), waiting: this.partitions };
    this.open.set(ctx, g);
    for (let p = 0; p < this.partitions; p++) {
      if (this.open.get(ctx) !== g) return; // a part already failed the whole request
      const part: PartOp = { f: 'part', partition: partitionId(p), read: op };
      this.host.dispatch({ clientId: request.clientId, seq: request.seq, op: part });
    }
  }

  /** A part's answer; false when `part` is not a fan-out part (not ours). */
  onPart(part: ClientRequest, result: ClientResult): boolean {
    if (part.op.f !== 'part') return false;
    const ctx = `${part.clientId}:${part.seq}`;
    const g = this.open.get(ctx);
    if (g === undefined) return true; // the request was answered already
    const p = part.op.partition;
    if (g.results[p] !== undefined) return true; // a duplicate answer
    if (result.kind !== 'ok') {
      this.open.delete(ctx);
      this.host.answer(g.request, result.kind === 'cas-failed' ? { kind: 'invalid', reason: 'a read answered cas-failed' } : result);
      return true;
    }
    g.results[p] = result;
    g.waiting--;
    if (g.waiting === 0) {
      this.open.delete(ctx);
      this.host.answer(g.request, merge(g.op, g.results as Array<Extract<ClientResult, { kind: 'ok' }>>));
    }
    return true;
  }
}

/** The parts' answers as one, in order. */
export function merge(op: FanOutOp, parts: ReadonlyArray<Extract<ClientResult, { kind: 'ok' }>>): ClientResult {
  let revision = 0;
  let index = 0;
  for (const r of parts) {
    revision = Math.max(revision, r.revision);
    index = Math.max(index, r.index);
  }
  const ok = (value: Value): ClientResult => ({ kind: 'ok', value, revision, index: index as LogIndex, partition: partitionId(0) as PartitionId });
  switch (op.f) {
    case 'list': {
      const limit = op.limit ?? LIST_LIMIT_DEFAULT;
      const offset = op.offset ?? 0;
      const all: ListItemOut[] = [];
      let more = false;
      for (const r of parts) {
        const v = r.value as { items: ListItemOut[]; more: boolean };
        all.push(...v.items);
        more ||= v.more;
      }
      all.sort((a, b) => compareCodePoints(a.key, b.key));
      if (all.length > offset + limit) more = true;
      return ok({ items: all.slice(offset, offset + limit), more });
    }
    case 'count': {
      let n = 0;
      for (const r of parts) n += r.value as number;
      return ok(n);
    }
    case 'find':
    case 'search': {
      const ids: bigint[] = [];
      for (const r of parts) for (const id of r.value as readonly (bigint | number)[]) ids.push(BigInt(id));
      ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return ok(ids.filter((id, i) => i === 0 || ids[i - 1] !== id));
    }
    default: {
      const _: never = op;
      throw new AssertionError(`merge: unknown op ${JSON.stringify(_)}`);
    }
  }
}
