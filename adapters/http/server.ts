// Serves ConclaveApi (api.ts) with @effect/platform-node. Handlers only translate: the request
// becomes a node op through kv-mapping.ts, the node host runs it, the outcome becomes a status.
// One middleware turns every error the framework raises (schema decode, malformed JSON,
// oversized body, unknown route) into the API's JSON error shape, so a client's mistake is a
// 4xx naming the field and never a 500.
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { HttpApiBuilder, HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse, FileSystem as PFileSystem } from '@effect/platform';
import { NodeHttpServer } from '@effect/platform-node';
import { Cause, Effect, Layer, Option } from 'effect';
import type { ServerConfig } from '../config.js';
import { splitHostPort } from '../config.js';
import { bulkConditionMessage, bulkOp, deleteOp, listingOf, listOp, outcomeOf, putOp, readOp, type Consistency, type KvOutcome } from '../kv-mapping.js';
import {
  atomicOp,
  atomicResultOf,
  auditOf,
  changeOf,
  FieldError,
  findOp,
  insertOp,
  keysParam,
  parseAt,
  parseRecordId,
  recordDataOf,
  recordIdsOf,
  recordsOutcomeOf,
  recordValueOf,
} from '../records-mapping.js';
import type { Value } from '../../core/storage/encoding.js';
import type { Logger } from '../log.js';
import type { HostResult, NodeHost } from '../node-host.js';
import type { TcpTransport } from '../transport/tcp-transport.js';
import { ConclaveApi, PutBody, type ErrorBody } from './api.js';
import { servePlainKv, type PlainAnswer, type PlainKvDeps } from './plain-kv.js';
import type { Metrics } from '../metrics.js';
import type { TokenAuth } from '../auth.js';
import type { KvOp, NodeOp } from '../../core/node/command.js';
import { nodeId } from '../../core/types.js';

export interface HttpDeps {
  readonly metrics: Metrics;
  /** Null when auth is off. */
  readonly auth: TokenAuth | null;
  readonly config: ServerConfig;
  readonly host: NodeHost;
  readonly transport: TcpTransport;
  readonly log: Logger;
  readonly startedAt: number;
}

/** Shared between the server layer and the shutdown sequence. */
export class HttpControl {
  inFlight = 0;
  draining = false;
  server: Server | null = null;
  readonly counts = new Map<string, number>();
}

const unavailable = (message: string) => ({ error: 'unavailable' as const, message, retryable: true });

function unavailableOf(r: Extract<HostResult, { kind: 'timeout' | 'overloaded' | 'stopped' }>, timeoutMs: number): ReturnType<typeof unavailable> {
  switch (r.kind) {
    case 'timeout':
      return unavailable(`no answer from the cluster within ${timeoutMs} ms (no quorum, or a leader change); a write's outcome is unknown`);
    case 'overloaded':
      return unavailable('this node has too many requests waiting');
    case 'stopped':
      return unavailable('this node is shutting down');
  }
}

const badRequest = (message: string) => ({ error: 'bad_request' as const, message });

interface KvFailureBodies {
  readonly absent: { readonly error: 'not_found'; readonly message: string };
  readonly 'condition-failed': { readonly error: 'condition_failed'; readonly message: string };
  readonly invalid: ReturnType<typeof badRequest>;
  readonly unavailable: ReturnType<typeof unavailable>;
}

/** The error body of a KV outcome other than ok, shared by PUT, GET and DELETE (typed by the outcome's kind). */
function kvFailure<O extends Exclude<KvOutcome, { kind: 'ok' }>>(o: O, key: string): KvFailureBodies[O['kind']] {
  const bodies: { [K in keyof KvFailureBodies]: () => KvFailureBodies[K] } = {
    absent: () => ({ error: 'not_found', message: `key '${key}' is absent` }),
    'condition-failed': () => ({ error: 'condition_failed', message: `key '${key}' holds a different value than expected` }),
    invalid: () => badRequest((o as Extract<KvOutcome, { kind: 'invalid' }>).reason),
    unavailable: () => unavailable((o as Extract<KvOutcome, { kind: 'unavailable' }>).reason),
  };
  return bodies[o.kind as O['kind']]() as KvFailureBodies[O['kind']];
}

/** Why this node cannot serve yet, or null when it can. */
export function notReadyReason(d: HttpDeps): string | null {
  const leaderless = d.host.leaderlessPartitions();
  if (leaderless.length === 0) return null;
  const peers = d.transport.peerStates();
  const down = peers.filter((p) => p.state !== 'connected' || !p.inbound).map((p) => p.peer);
  const quorum = Math.floor(d.config.nodes.length / 2) + 1;
  const reach = d.config.nodes.length - down.length;
  const head = `${leaderless.length} of ${d.config.partitions} partitions have no leader`;
  if (reach < quorum) return `${head}: waiting for a quorum (${quorum} of ${d.config.nodes.length} nodes), can reach ${reach}; waiting for ${down.join(', ')}`;
  return `${head}: elections in progress`;
}

type KvError = KvFailureBodies[keyof KvFailureBodies];
/** A KV handler's answer: the success body, or the error body (its `error` code gives the status). */
export type KvAnswer<A, E extends KvError = KvError> = { readonly ok: A } | { readonly err: E };

/** HTTP status of an error body, as the HttpApi's error schemas annotate it (api.ts). */
export const ERROR_STATUS: Record<KvError['error'], number> = { bad_request: 400, not_found: 404, condition_failed: 412, unavailable: 503 };

/**
 * The KV handlers' logic, shared by the HttpApi handlers and the plain hot path (plain-kv.ts):
 * both decode with the same schemas and answer through these, so they answer alike.
 */
export function kvHandlers(d: Pick<HttpDeps, 'host' | 'config'>) {
  const timeoutMs = d.config.requestTimeoutMs;
  const run = async (op: KvOp): Promise<{ outcome: KvOutcome } | { fail: ReturnType<typeof unavailable> }> => {
    const r = await d.host.submit(op, timeoutMs);
    return r.kind === 'timeout' || r.kind === 'overloaded' || r.kind === 'stopped' ? { fail: unavailableOf(r, timeoutMs) } : { outcome: outcomeOf(op, r) };
  };
  return {
    async put(key: string, payload: typeof PutBody.Type): Promise<KvAnswer<{ revision: number }>> {
      if (payload.value === undefined) return { err: badRequest("field 'value': is missing") };
      const expected = Object.prototype.hasOwnProperty.call(payload, 'expected') ? { present: true, value: payload.expected } : { present: false, value: undefined };
      const r = await run(putOp(key, payload.value, expected, payload.ttl));
      if ('fail' in r) return { err: r.fail };
      const o = r.outcome;
      if (o.kind === 'ok') return { ok: { revision: o.revision } };
      return { err: kvFailure(o, key) };
    },
    async get(key: string, consistency: Consistency | undefined): Promise<KvAnswer<{ value: unknown; revision: number }, Exclude<KvError, { error: 'condition_failed' }>>> {
      const r = await run(readOp(key, consistency ?? 'strong'));
      if ('fail' in r) return { err: r.fail };
      const o = r.outcome;
      if (o.kind === 'ok') return { ok: { value: o.value, revision: o.revision } };
      // A read has no condition to fail; the node never answers one with cas-failed.
      if (o.kind === 'condition-failed') return { err: unavailable('unexpected read outcome') };
      return { err: kvFailure(o, key) };
    },
    async delete(key: string, expectedText: string | undefined): Promise<KvAnswer<{ revision: number }>> {
      let expected: { value: unknown } | undefined;
      if (expectedText !== undefined) {
        try {
          expected = { value: JSON.parse(expectedText) as unknown };
        } catch {
          return { err: badRequest("field 'expected': is not JSON (give the expected value as JSON text, e.g. expected=%22a%22)") };
        }
      }
      const r = await run(deleteOp(key, expected));
      if ('fail' in r) return { err: r.fail };
      const o = r.outcome;
      // The node answers a delete of an absent key with revision 0 (nothing changed).
      if (o.kind === 'ok') return o.revision === 0 ? { err: kvFailure({ kind: 'absent' }, key) } : { ok: { revision: o.revision } };
      return { err: kvFailure(o, key) };
    },
  };
}

const answerEffect = <A, E extends KvError>(p: () => Promise<KvAnswer<A, E>>): Effect.Effect<A, E> =>
  Effect.flatMap(Effect.promise(p), (a) => ('ok' in a ? Effect.succeed(a.ok) : Effect.fail(a.err)));

export function apiLayer(d: HttpDeps) {
  const handlers = kvHandlers(d);
  const timeoutMs = d.config.requestTimeoutMs;

  /**
   * Run a records or listing op: its ok value, or the error body (400 naming the field, 503
   * retryable). Mapping errors (FieldError) are a 400 before the node is asked.
   */
  type RunFail = ReturnType<typeof badRequest> | ReturnType<typeof unavailable>;
  const runValue = (build: () => NodeOp, field: string): Effect.Effect<Value, RunFail> =>
    Effect.suspend((): Effect.Effect<Value, RunFail> => {
      let op: NodeOp;
      try {
        op = build();
      } catch (e) {
        if (e instanceof FieldError) return Effect.fail(badRequest(e.message));
        throw e;
      }
      return Effect.promise(() => d.host.submit(op, timeoutMs)).pipe(
        Effect.flatMap((r): Effect.Effect<Value, RunFail> => {
          if (r.kind === 'timeout' || r.kind === 'overloaded' || r.kind === 'stopped') return Effect.fail(unavailableOf(r, timeoutMs));
          const o = recordsOutcomeOf(r, field);
          if (o.kind === 'ok') return Effect.succeed(o.value);
          if (o.kind === 'invalid') return Effect.fail(badRequest(o.message));
          return Effect.fail(unavailable(o.reason));
        }),
      );
    });

  const records = HttpApiBuilder.group(ConclaveApi, 'records', (h) =>
    h
      .handle('insert', ({ payload }) => runValue(() => insertOp(payload.data), 'data').pipe(Effect.map((v) => ({ record: String((v as { record: bigint }).record) }))))
      .handle('add', ({ path, payload }) => runValue(() => ({ f: 'add', record: parseRecordId(path.id), key: path.key, value: recordValueOf(payload.value, 'value') }), 'value').pipe(Effect.map(changeOf)))
      .handle('set', ({ path, payload }) => runValue(() => ({ f: 'set', record: parseRecordId(path.id), key: path.key, value: recordValueOf(payload.value, 'value') }), 'value').pipe(Effect.map(changeOf)))
      .handle('remove', ({ path, urlParams }) =>
        runValue(() => {
          const record = parseRecordId(path.id);
          if (urlParams.value === undefined) return { f: 'remove', record, key: path.key };
          let json: unknown;
          try {
            json = JSON.parse(urlParams.value);
          } catch {
            throw new FieldError('value', 'is not JSON (give the value as JSON text, e.g. value=%22a%22 or value=3)');
          }
          return { f: 'remove', record, key: path.key, value: recordValueOf(json, 'value') };
        }, 'value').pipe(Effect.map(changeOf)),
      )
      .handle('select', ({ path, urlParams }) =>
        Effect.gen(function* () {
          const id = yield* Effect.try({ try: () => parseRecordId(path.id), catch: (e) => badRequest((e as Error).message) });
          const v = yield* runValue(() => {
            const keys = keysParam(urlParams.keys);
            return { f: 'select', record: id, consistency: urlParams.consistency ?? 'strong', ...(keys !== undefined ? { keys } : {}), ...(urlParams.at !== undefined ? { at: parseAt(urlParams.at) } : {}) };
          }, 'keys');
          const out = recordDataOf(id, v);
          if (out === null) return yield* Effect.fail({ error: 'not_found' as const, message: `record ${id} holds no data` });
          return out;
        }),
      )
      .handle('audit', ({ path, urlParams }) =>
        runValue(() => ({ f: 'audit', record: parseRecordId(path.id), consistency: urlParams.consistency ?? 'strong', ...(urlParams.key !== undefined ? { key: urlParams.key } : {}) }), 'key').pipe(Effect.map(auditOf)),
      )
      .handle('revert', ({ path, payload }) =>
        runValue(() => ({ f: 'revert', record: parseRecordId(path.id), at: parseAt(payload.at), ...(payload.keys !== undefined ? { keys: payload.keys } : {}) }), 'keys').pipe(Effect.map(changeOf)),
      )
      .handle('find', ({ urlParams }) => runValue(() => findOp(urlParams.criteria, urlParams.at, urlParams.consistency ?? 'strong'), 'criteria').pipe(Effect.map(recordIdsOf)))
      .handle('search', ({ urlParams }) => runValue(() => ({ f: 'search', key: urlParams.key, query: urlParams.query, consistency: urlParams.consistency ?? 'strong' }), 'query').pipe(Effect.map(recordIdsOf))),
  );

  const txn = HttpApiBuilder.group(ConclaveApi, 'txn', (h) =>
    h.handle('atomic', ({ payload }) =>
      runValue(() => atomicOp(payload.ops), 'ops').pipe(
        Effect.map(atomicResultOf),
        Effect.mapError((e): RunFail | { error: 'txn_conflict'; message: string; retryable: true } =>
          // The lock layer's retryable conflict (wound-wait, timeout) is a 409, nothing applied.
          e.error === 'bad_request' && /txn-conflict/.test(e.message) ? { error: 'txn_conflict', message: e.message, retryable: true } : e,
        ),
      ),
    ),
  );

  const kv = HttpApiBuilder.group(ConclaveApi, 'kv', (h) =>
    h
      .handle('bulk', ({ payload }) =>
        Effect.gen(function* () {
          let op: NodeOp;
          try {
            op = bulkOp(payload.ops);
          } catch (e) {
            if (e instanceof FieldError) return yield* Effect.fail(badRequest(e.message));
            throw e;
          }
          const r = yield* Effect.promise(() => d.host.submit(op, timeoutMs));
          if (r.kind === 'timeout' || r.kind === 'overloaded' || r.kind === 'stopped') return yield* Effect.fail(unavailableOf(r, timeoutMs));
          if (r.kind === 'ok') return { revision: r.revision };
          if (r.kind === 'cas-failed') return yield* Effect.fail({ error: 'condition_failed' as const, message: bulkConditionMessage(r.current) });
          if (r.kind === 'invalid') return yield* Effect.fail(badRequest(r.reason.startsWith('field ') ? r.reason : `field 'ops': ${r.reason}`));
          return yield* Effect.fail(unavailable(r.kind === 'no-quorum' ? `no quorum: ${r.reason}` : r.reason));
        }),
      )
      .handle('list', ({ urlParams }) =>
        runValue(() => listOp({ prefix: urlParams.prefix, start: urlParams.start, rangeEnd: urlParams.range_end, limit: urlParams.limit, offset: urlParams.offset }, urlParams.consistency ?? 'strong'), 'prefix').pipe(Effect.map(listingOf)),
      )
      .handle('put', ({ path, payload }) => answerEffect(() => handlers.put(path.key, payload)))
      .handle('get', ({ path, urlParams }) => answerEffect(() => handlers.get(path.key, urlParams.consistency)))
      .handle('delete', ({ path, urlParams }) => answerEffect(() => handlers.delete(path.key, urlParams.expected))),
  );

  const node = HttpApiBuilder.group(ConclaveApi, 'node', (h) =>
    h
      .handle('health', () =>
        Effect.suspend(() => {
          const reason = notReadyReason(d);
          return reason === null ? Effect.succeed({ status: 'ok' as const, node: d.config.node }) : Effect.fail(unavailable(`not ready: ${reason}`));
        }),
      )
      .handle('status', () =>
        Effect.sync(() => {
          const partitions = [];
          // Partitions this node replicates (docs/partitioning.md: placement by rendezvous hashing).
          for (const p of d.host.node.hostedPartitions()) {
            const s = d.host.node.status(p);
            partitions.push({ partition: p, role: s.role, leader: s.leader, term: s.term, commit: s.commit, applied: s.applied, last_index: s.lastIndex, snapshot_index: s.snapshotIndex });
          }
          const reason = notReadyReason(d);
          return {
            node: d.config.node,
            state: d.host.node.state,
            ready: reason === null,
            reason,
            nodes: d.config.nodes,
            replication_factor: d.config.replicationFactor,
            partitions,
            peers: d.transport.peerStates().map((p) => ({ peer: p.peer, state: p.state, inbound: p.inbound, last_error: p.lastError })),
            in_flight: d.host.inFlight(),
            uptime_ms: Math.round(performance.now() - d.startedAt),
          };
        }),
      ),
  );

  // Node operations (docs/operations.md). Guarded by the bearer token like every route but /v1/health.
  const drainStatus = () => {
    const dp = d.host.node.drainProgress();
    return { node: d.config.node, state: dp.state, leaderships: dp.leaderships.slice(), handoffs: dp.handoffs };
  };
  const admin = HttpApiBuilder.group(ConclaveApi, 'admin', (h) =>
    h
      .handle('stepdown', ({ payload }) =>
        Effect.suspend((): Effect.Effect<{ transfers: Array<{ partition: number; to: string }>; skipped: Array<{ partition: number; reason: string }> }, ReturnType<typeof badRequest> | { error: 'not_leader'; message: string; leader: string | null }> => {
          const to = payload.to;
          if (to !== undefined && !d.config.nodes.includes(to)) {
            return Effect.fail(badRequest(`field 'to': ${JSON.stringify(to)} is not a node of this cluster (${d.config.nodes.join(', ')})`));
          }
          const toId = to === undefined ? undefined : nodeId(to);
          if (payload.partition !== undefined) {
            const p = payload.partition;
            if (p >= d.host.node.partitions) return Effect.fail(badRequest(`field 'partition': must be below the partition count ${d.host.node.partitions}, got ${p}`));
            const r = d.host.stepDown(p, toId);
            switch (r.kind) {
              case 'ok':
                return Effect.succeed({ transfers: [{ partition: r.partition as number, to: r.to as string }], skipped: [] });
              case 'not-leader':
                return Effect.fail({ error: 'not_leader' as const, message: r.reason, leader: r.leaderHint });
              case 'invalid':
                return Effect.fail(badRequest(`field '${to !== undefined && r.reason.startsWith(to) ? 'to' : 'partition'}': ${r.reason}`));
            }
          }
          // Every partition this node leads: to `to` where it is a replica, else skipped.
          const transfers: Array<{ partition: number; to: string }> = [];
          const skipped: Array<{ partition: number; reason: string }> = [];
          for (const p of d.host.node.drainProgress().leaderships) {
            const r = d.host.stepDown(p, toId !== undefined && d.host.node.map.isReplica(toId, p) ? toId : undefined);
            if (r.kind === 'ok') transfers.push({ partition: r.partition, to: r.to });
            else skipped.push({ partition: p, reason: r.reason });
          }
          return Effect.succeed({ transfers, skipped });
        }),
      )
      .handle('drain', () =>
        Effect.sync(() => {
          if (d.host.node.state !== 'draining') d.log.info('node drain started', { node: d.config.node });
          d.host.startDraining();
          return drainStatus();
        }),
      )
      .handle('activate', () =>
        Effect.sync(() => {
          if (d.host.node.state !== 'active') d.log.info('node activated', { node: d.config.node });
          d.host.activate();
          return drainStatus();
        }),
      )
      .handle('drainStatus', () => Effect.sync(drainStatus)),
  );

  return HttpApiBuilder.api(ConclaveApi).pipe(Layer.provide(kv), Layer.provide(records), Layer.provide(txn), Layer.provide(node), Layer.provide(admin));
}

const json = (status: number, body: ErrorBody): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(body, { status });

/** The first issue of a schema decode error as "field 'a.b': message". */
function describeDecodeError(body: { issues?: Array<{ path?: unknown[]; message?: string }>; message?: string }): string {
  const issue = body.issues?.[0];
  if (issue === undefined) return body.message ?? 'the request does not match the API';
  const path = (issue.path ?? []).map(String);
  // The framework's paths start at the part of the request: path / urlParams / payload (body) / headers.
  const where = path.length === 0 ? 'request' : path.join('.');
  return `field '${where}': ${issue.message ?? 'invalid'}`;
}

/** Give every framework-made error response the API's JSON error shape. */
function rewrite(res: HttpServerResponse.HttpServerResponse, req: HttpServerRequest.HttpServerRequest, maxBodyBytes: number): HttpServerResponse.HttpServerResponse {
  if (res.status < 400) return res;
  const empty = res.body._tag === 'Empty';
  if (res.status === 404 && empty) return json(404, { error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  if (res.status === 413) return json(413, { error: 'bad_request', message: `request body exceeds ${maxBodyBytes} bytes` });
  if (res.status === 405 && empty) return json(405, { error: 'bad_request', message: `method ${req.method} not allowed on ${req.url.split('?')[0]}` });
  if (res.status === 400 && empty) return json(400, { error: 'bad_request', message: "field 'body': the request body could not be decoded (malformed JSON, or a wrong content-type)" });
  if (res.status !== 400 || res.body._tag !== 'Uint8Array') return res;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(res.body.body));
  } catch {
    return res;
  }
  const b = parsed as { _tag?: string };
  if (b?._tag !== 'HttpApiDecodeError') return res;
  return json(400, { error: 'bad_request', message: describeDecodeError(parsed as never) });
}

export function errorMiddleware(control: HttpControl, d: HttpDeps) {
  return (app: HttpApp.Default): HttpApp.Default =>
    Effect.gen(function* () {
      const req = yield* HttpServerRequest.HttpServerRequest;
      if (control.draining) return json(503, { error: 'unavailable', message: 'this node is shutting down', retryable: true }).pipe(HttpServerResponse.setHeader('connection', 'close'));
      const res = yield* app.pipe(
        HttpIncomingMessage.withMaxBodySize(Option.some(PFileSystem.Size(d.config.maxBodyBytes))),
        Effect.map((r) => rewrite(r, req, d.config.maxBodyBytes)),
        Effect.catchAllCause((cause) => {
          const squashed = Cause.squash(cause);
          if (HttpServerResponse.isServerResponse(squashed)) return Effect.succeed(rewrite(squashed, req, d.config.maxBodyBytes));
          const e = squashed as { _tag?: string; reason?: string; description?: string; cause?: unknown; message?: string };
          if (e?._tag === 'RouteNotFound') return Effect.succeed(json(404, { error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
          if (e?._tag === 'RequestError') {
            const text = `${e.description ?? ''} ${String((e.cause as Error | undefined)?.message ?? e.cause ?? '')}`;
            if (/size|too large|exceed/i.test(text)) return Effect.succeed(json(413, { error: 'bad_request', message: `request body exceeds ${d.config.maxBodyBytes} bytes` }));
            return Effect.succeed(json(400, { error: 'bad_request', message: "field 'body': the request body could not be decoded (malformed JSON, or a wrong content-type)" }));
          }
          if (e?._tag === 'HttpApiDecodeError') return Effect.succeed(json(400, { error: 'bad_request', message: describeDecodeError(e as never) }));
          d.log.error('internal error serving a request', { method: req.method, url: req.url, error: Cause.pretty(cause) });
          return Effect.succeed(json(500, { error: 'internal', message: 'internal error (logged on the node)' }));
        }),
      );
      const key = `${res.status}`;
      control.counts.set(key, (control.counts.get(key) ?? 0) + 1);
      return res;
    });
}

/**
 * Node-level hook, ahead of the Effect handler: counts in-flight requests (for the graceful
 * stop) and gives the framework's own error responses (schema decode errors, malformed JSON,
 * unknown routes, oversized bodies — which @effect/platform answers after any app middleware)
 * the API's JSON error shape.
 */
function shapeErrors(req: IncomingMessage, res: ServerResponse, control: HttpControl, d: HttpDeps): void {
  control.inFlight++;
  const t0 = performance.now();
  res.once('close', () => {
    control.inFlight--;
    d.metrics.httpDone(req.method ?? 'GET', req.url ?? '/', res.statusCode, (performance.now() - t0) / 1000);
  });
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: OutgoingHttpHeaders) => ServerResponse;
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  let held: { status: number; headers: OutgoingHttpHeaders } | null = null;
  (res as { writeHead: unknown }).writeHead = (status: number, ...rest: unknown[]) => {
    const headers = (rest.find((x) => typeof x === 'object' && x !== null) ?? {}) as OutgoingHttpHeaders;
    if (status >= 400) {
      held = { status, headers };
      return res;
    }
    return writeHead(status, headers);
  };
  (res as { end: unknown }).end = (chunk?: unknown, ...rest: unknown[]) => {
    if (held === null) return (end as (...a: unknown[]) => ServerResponse)(chunk, ...rest);
    const h = held;
    held = null;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.alloc(0);
    const shaped = shapeErrorBody(h.status, bytes, req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, d.config.maxBodyBytes);
    if (shaped === null) {
      writeHead(h.status, h.headers);
      return end(bytes);
    }
    const text = JSON.stringify(shaped.body);
    writeHead(shaped.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(h.status === 413 ? { connection: 'close' } : {}) });
    return end(text);
  };
}

/** The API's error body for a framework error response, or null to leave it as it is. */
export function shapeErrorBody(status: number, body: Buffer, method: string, path: string, maxBodyBytes: number): { status: number; body: ErrorBody } | null {
  const empty = body.length === 0;
  if (status === 404 && empty) return { status, body: { error: 'not_found', message: `no route ${method} ${path}` } };
  if (status === 413) return { status, body: { error: 'bad_request', message: `request body exceeds ${maxBodyBytes} bytes` } };
  if (status === 405 && empty) return { status, body: { error: 'bad_request', message: `method ${method} is not allowed on ${path}` } };
  if (status === 400 && empty) return { status, body: { error: 'bad_request', message: "field 'body': the request body could not be decoded (malformed JSON, or a wrong content-type)" } };
  if (status !== 400) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if ((parsed as { _tag?: string })?._tag !== 'HttpApiDecodeError') return null;
  return { status: 400, body: { error: 'bad_request', message: describeDecodeError(parsed as never) } };
}

/**
 * The plain hot path for PUT/GET of one key (plain-kv.ts), or null when
 * CONCLAVE_HTTP_KV_PATH=httpapi asks for every request to go through the HttpApi (the
 * benchmark measures both; docs/server.md, Performance).
 */
function plainKvDeps(d: HttpDeps, control: HttpControl): PlainKvDeps | null {
  if (process.env['CONCLAVE_HTTP_KV_PATH'] === 'httpapi') return null;
  const h = kvHandlers(d);
  const answer = <A>(a: KvAnswer<A>): PlainAnswer => ('ok' in a ? { status: 200, body: a.ok } : { status: ERROR_STATUS[a.err.error], body: a.err });
  return {
    maxBodyBytes: d.config.maxBodyBytes,
    put: (key, payload) => h.put(key, payload).then(answer),
    get: (key, consistency) => h.get(key, consistency).then(answer),
    describe: (issues) => describeDecodeError({ issues: issues.map((i) => ({ path: [...(i.path ?? [])], ...(i.message !== undefined ? { message: i.message } : {}) })) }),
    done: (status) => {
      const k = `${status}`;
      control.counts.set(k, (control.counts.get(k) ?? 0) + 1);
    },
  };
}

/** The HTTP server as a layer: listening when built, closed when its scope closes. */
export function httpLayer(d: HttpDeps, control: HttpControl) {
  const { host, port } = splitHostPort(d.config.http);
  const plain = plainKvDeps(d, control);
  const serverLayer = NodeHttpServer.layer(() => {
    const s = createServer();
    s.headersTimeout = 10_000;
    s.requestTimeout = 30_000;
    control.server = s;
    // Ahead of the Effect handler: refuse while draining, refuse a declared oversized body
    // before reading it, and shape the framework's error responses.
    const emit = s.emit.bind(s) as (event: string, ...args: unknown[]) => boolean;
    (s as { emit: unknown }).emit = (event: string, ...args: unknown[]): boolean => {
      if (event === 'request') {
        const req = args[0] as IncomingMessage;
        const res = args[1] as ServerResponse;
        const declared = Number(req.headers['content-length'] ?? 0);
        const path = (req.url ?? '/').split('?')[0];
        const denied = d.auth !== null && path !== '/v1/health' ? d.auth.check(req.headers['authorization']) : { ok: true as const };
        const early: [number, ErrorBody] | null = !denied.ok
          ? [denied.status, { error: denied.status === 401 ? 'unauthorized' : 'forbidden', message: denied.message }]
          : control.draining
          ? [503, { error: 'unavailable', message: 'this node is shutting down', retryable: true }]
          : declared > d.config.maxBodyBytes
            ? [413, { error: 'bad_request', message: `request body of ${declared} bytes exceeds the limit of ${d.config.maxBodyBytes} bytes` }]
            : null;
        if (early === null && req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
          // Prometheus text, outside the JSON API (not part of the HttpApi definition).
          const t0 = performance.now();
          d.metrics.registry.metrics().then(
            (text) => {
              res.writeHead(200, { 'content-type': d.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
              res.end(text);
              d.metrics.httpDone('GET', '/metrics', 200, (performance.now() - t0) / 1000);
            },
            () => {
              res.writeHead(503).end();
            },
          );
          req.resume();
          return true;
        }
        if (early !== null) {
          const text = JSON.stringify(early[1]);
          res.writeHead(early[0], { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' });
          res.end(text);
          req.resume();
          return true;
        }
        if (plain !== null && servePlainKv(req, res, plain)) {
          control.inFlight++;
          const t0 = performance.now();
          res.once('close', () => {
            control.inFlight--;
            d.metrics.httpDone(req.method ?? 'GET', req.url ?? '/', res.statusCode, (performance.now() - t0) / 1000);
          });
          return true;
        }
        shapeErrors(req, res, control, d);
      }
      return emit(event, ...args);
    };
    return s;
  }, { host, port });
  return HttpApiBuilder.serve(errorMiddleware(control, d)).pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: '/v1/openapi.json' })),
    Layer.provide(apiLayer(d)),
    Layer.provide(serverLayer),
  );
}
