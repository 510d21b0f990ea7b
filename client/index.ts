// `conclave/client`: a typed client for the HTTP API. The routes, payloads and error bodies are
// not described here a second time: each endpoint's HttpApiClient is derived from ConclaveApi
// (adapters/http/api.ts), the definition the server serves. On top of it this module adds what
// one HTTP call cannot: several endpoints with failover, bounded retries with backoff, and a
// plain Promise facade for TypeScript users who do not use Effect.
//
// Retry safety. A read is retried on any retryable failure. A write (put, delete) is retried only
// when it certainly did not reach a server: the connection was refused. The API has no client
// session (no request id the server would deduplicate) and its 503 body does not say whether a
// write may have applied ("no answer within N ms" and "no quorum" both leave the outcome
// unknown), so retrying a write after a 503, a reset or a time-out could apply it twice. Such a
// write fails with `ConclaveError` whose `outcome` is 'unknown'.
import * as FetchHttpClient from '@effect/platform/FetchHttpClient';
import * as HttpApi from '@effect/platform/HttpApi';
import * as HttpApiClient from '@effect/platform/HttpApiClient';
import * as HttpClient from '@effect/platform/HttpClient';
import * as HttpClientRequest from '@effect/platform/HttpClientRequest';
import * as Effect from 'effect/Effect';
import * as Either from 'effect/Either';
import * as Option from 'effect/Option';
import { ConclaveApi } from '../adapters/http/api.js';

export type Consistency = 'strong' | 'leader' | 'eventual';

export interface RetryOptions {
  /** Attempts in all, over all endpoints (the first try included). Default 8. */
  readonly attempts?: number;
  /** First backoff after every endpoint failed once; doubles each round. Default 50 ms. */
  readonly baseDelayMs?: number;
  /** Upper bound of one backoff. Default 1000 ms. */
  readonly maxDelayMs?: number;
  /** Upper bound of one call, retries included. Default 20000 ms. */
  readonly deadlineMs?: number;
}

export interface ClientOptions {
  /** `host:port` or `http://host:port`, tried in this order; the first that answers is kept. */
  readonly endpoints: readonly string[];
  /** Bearer token (`conclave token create`); sent on every request when given. */
  readonly token?: string | undefined;
  /** Time-out of one HTTP attempt. Default 10000 ms (above the server's request_timeout_ms). */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
}

/** An error the cluster answered (code from the API's error body) or a failure to reach it. */
export class ConclaveError extends Error {
  override readonly name = 'ConclaveError';
  constructor(
    /** The API's error code (`not_found`, `condition_failed`, `bad_request`, `unavailable`,
     *  `unauthorized`, `forbidden`, ...) or `connection_failed` / `timeout` / `unsupported`. */
    readonly code: string,
    message: string,
    /** HTTP status, 0 when no response came. */
    readonly status: number,
    readonly retryable: boolean,
    /** 'not_applied' when the request certainly had no effect, 'unknown' when a write may have. */
    readonly outcome: 'not_applied' | 'unknown' | 'answered',
    readonly endpoint: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export interface PutOptions {
  /** Seconds until the key expires. */
  readonly ttl?: number;
  /** Compare-and-swap: write only if the key holds this value (412 otherwise, 404 when absent). */
  readonly expected?: unknown;
}
export interface DeleteOptions {
  readonly expected?: unknown;
}
export interface ListOptions {
  readonly prefix?: string;
  readonly limit?: number;
  readonly consistency?: Consistency;
}
export interface ListItem {
  readonly key: string;
  readonly value: unknown;
  readonly revision: number;
}

export type Status = typeof import('../adapters/http/api.js').Status.Type;
export type Health = typeof import('../adapters/http/api.js').Health.Type;

/** The key-value API, the same for the HTTP client and the embedded database (`open`). */
export interface KvApi {
  put(key: string, value: unknown, options?: PutOptions): Promise<{ readonly revision: number }>;
  /** null when the key is absent. */
  get(key: string, options?: { readonly consistency?: Consistency }): Promise<{ readonly value: unknown; readonly revision: number } | null>;
  delete(key: string, options?: DeleteOptions): Promise<{ readonly revision: number }>;
  list(options?: ListOptions): Promise<{ readonly items: readonly ListItem[]; readonly more: boolean }>;
}

export interface Client {
  readonly endpoints: readonly string[];
  readonly kv: KvApi;
  readonly node: {
    /** GET /v1/health of one endpoint (default: the current one), no failover. */
    health(endpoint?: string): Promise<Health>;
    /** GET /v1/status of one endpoint (default: the current one), no failover. */
    status(endpoint?: string): Promise<Status>;
  };
  /** The endpoint the next call goes to first (the last that answered). */
  current(): string;
}

type Api = Effect.Effect.Success<ReturnType<typeof makeApi>>;
const makeApi = (baseUrl: string, token: string | undefined) =>
  HttpApiClient.make(ConclaveApi, {
    baseUrl,
    transformClient: (c) => (token === undefined ? c : c.pipe(HttpClient.mapRequest(HttpClientRequest.bearerToken(token)))),
  }).pipe(Effect.provide(FetchHttpClient.layer));

/** How one attempt failed, for the retry policy. */
type Failure =
  | { readonly kind: 'refused'; readonly message: string } // no connection: nothing was sent
  | { readonly kind: 'transport'; readonly message: string } // sent or maybe sent, no answer
  | { readonly kind: 'timeout'; readonly message: string }
  | { readonly kind: 'http'; readonly status: number; readonly code: string; readonly message: string; readonly retryable: boolean }
  | { readonly kind: 'client'; readonly message: string }; // encoding/decoding: never retried

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND']);

function causeCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e !== null && typeof e === 'object' && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (e as { errors?: unknown }).errors; // AggregateError of a dual-stack connect
    if (Array.isArray(errors) && errors.length > 0) return causeCode(errors[0]);
  }
  return undefined;
}

function errorBody(x: unknown): { error: string; message: string; retryable?: boolean } | null {
  if (x === null || typeof x !== 'object') return null;
  const o = x as Record<string, unknown>;
  return typeof o['error'] === 'string' && typeof o['message'] === 'string' ? (o as { error: string; message: string; retryable?: boolean }) : null;
}

const statusOfCode: Record<string, number> = { bad_request: 400, unauthorized: 401, forbidden: 403, not_found: 404, txn_conflict: 409, condition_failed: 412, unavailable: 503 };

/** Turn whatever an endpoint call failed with into a Failure (reading the body of an undeclared status). */
const classify = (e: unknown): Effect.Effect<Failure> => {
  const body = errorBody(e);
  if (body !== null) return Effect.succeed({ kind: 'http', status: statusOfCode[body.error] ?? 0, code: body.error, message: body.message, retryable: body.retryable === true });
  const tag = (e as { _tag?: string } | null)?._tag;
  if (tag === 'RequestError') {
    const re = e as { reason: string; cause?: unknown; message: string };
    if (re.reason !== 'Transport') return Effect.succeed({ kind: 'client', message: re.message });
    const code = causeCode(re.cause);
    const message = `${code ?? 'transport error'}: ${(re.cause as Error | undefined)?.message ?? re.message}`;
    return Effect.succeed(code !== undefined && NOT_SENT_CODES.has(code) ? { kind: 'refused', message } : { kind: 'transport', message });
  }
  if (tag === 'ResponseError') {
    const re = e as { reason: string; response: { status: number; text: Effect.Effect<string, unknown> }; message: string };
    const status = re.response.status;
    return re.response.text.pipe(
      Effect.map((text): Failure => {
        let parsed: unknown = null;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        const b = errorBody(parsed);
        return b !== null
          ? { kind: 'http', status, code: b.error, message: b.message, retryable: b.retryable === true }
          : { kind: 'http', status, code: `http_${status}`, message: text.slice(0, 200) || `HTTP ${status}`, retryable: status === 503 };
      }),
      Effect.catchAll(() => Effect.succeed<Failure>({ kind: 'http', status, code: `http_${status}`, message: `HTTP ${status}`, retryable: status === 503 })),
    );
  }
  return Effect.succeed({ kind: 'client', message: e instanceof Error ? e.message : String(e) });
};

function normalize(endpoint: string): string {
  const e = endpoint.trim();
  if (e === '') throw new ConclaveError('bad_request', 'an endpoint is empty', 0, false, 'not_applied', '', 0);
  return /^https?:\/\//.test(e) ? e.replace(/\/+$/, '') : `http://${e}`;
}

/** The GET /v1/kv listing endpoint in the API definition, when it has one (found by method and
 *  path, so whatever it is named). */
function findListing(): { group: string; name: string } | null {
  let found: { group: string; name: string } | null = null;
  HttpApi.reflect(ConclaveApi, {
    onGroup: () => undefined,
    onEndpoint: ({ group, endpoint }) => {
      if (endpoint.method === 'GET' && endpoint.path === '/v1/kv') found = { group: group.identifier, name: endpoint.name };
    },
  });
  return found;
}

export function createClient(options: ClientOptions): Client {
  if (options.endpoints.length === 0) throw new ConclaveError('bad_request', 'no endpoint given', 0, false, 'not_applied', '', 0);
  const endpoints = options.endpoints.map(normalize);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const attempts = Math.max(1, options.retry?.attempts ?? 8);
  const baseDelayMs = options.retry?.baseDelayMs ?? 50;
  const maxDelayMs = options.retry?.maxDelayMs ?? 1000;
  const deadlineMs = options.retry?.deadlineMs ?? 20_000;
  const apis = new Map<string, Api>();
  let current = 0;

  const apiOf = (base: string): Api => {
    let a = apis.get(base);
    if (a === undefined) {
      a = Effect.runSync(makeApi(base, options.token));
      apis.set(base, a);
    }
    return a;
  };

  /** One attempt at one endpoint: the value, or how it failed. */
  const attempt = <A>(base: string, call: (api: Api) => Effect.Effect<A, unknown>): Promise<Either.Either<A, Failure>> => {
    const timedOut: Failure = { kind: 'timeout', message: `no answer within ${timeoutMs} ms` };
    const program: Effect.Effect<Either.Either<A, Failure>> = Effect.suspend(() => call(apiOf(base))).pipe(
      Effect.timeoutOption(timeoutMs),
      Effect.map(Option.match({ onNone: (): Either.Either<A, Failure> => Either.left(timedOut), onSome: (a): Either.Either<A, Failure> => Either.right(a) })),
      Effect.catchAll((e) => Effect.map(classify(e), (f): Either.Either<A, Failure> => Either.left(f))),
    );
    return Effect.runPromise(program);
  };

  /** Try endpoints in turn, backing off after each full round, while the failure is safe to retry. */
  async function run<A>(call: (api: Api) => Effect.Effect<A, unknown>, isWrite: boolean): Promise<A> {
    const start = Date.now();
    let last: Failure | null = null;
    let lastEndpoint = endpoints[current]!;
    let made = 0;
    for (let i = 0; i < attempts; i++) {
      if (i > 0 && i % endpoints.length === 0) {
        const round = i / endpoints.length;
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (round - 1));
        const jittered = delay / 2 + Math.random() * (delay / 2);
        if (Date.now() + jittered > start + deadlineMs) break;
        await new Promise((r) => setTimeout(r, jittered));
      }
      const idx = (current + (i % endpoints.length)) % endpoints.length;
      lastEndpoint = endpoints[idx]!;
      const r = await attempt(lastEndpoint, call);
      made++;
      if (Either.isRight(r)) {
        current = idx;
        return r.right;
      }
      last = r.left;
      if (!retrySafe(last, isWrite)) break;
      if (Date.now() > start + deadlineMs) break;
    }
    throw toError(last!, lastEndpoint, isWrite, made);
  }
  const retrySafe = (f: Failure, isWrite: boolean): boolean => {
    switch (f.kind) {
      case 'refused':
        return true;
      case 'transport':
      case 'timeout':
        return !isWrite;
      case 'http':
        return f.retryable && !isWrite;
      case 'client':
        return false;
    }
  };
  const toError = (f: Failure, endpoint: string, isWrite: boolean, n: number): ConclaveError => {
    const tries = `${n} attempt${n === 1 ? '' : 's'}`;
    switch (f.kind) {
      case 'refused':
        return new ConclaveError('connection_failed', n === 1 ? `${endpoint}: ${f.message}` : `no endpoint reachable (${endpoints.join(', ')}) after ${tries}: ${f.message}`, 0, true, 'not_applied', endpoint, n);
      case 'transport':
        return new ConclaveError('connection_failed', `${endpoint}: ${f.message}${isWrite ? "; the write's outcome is unknown (not retried)" : ` (after ${tries})`}`, 0, true, isWrite ? 'unknown' : 'not_applied', endpoint, n);
      case 'timeout':
        return new ConclaveError('timeout', `${endpoint}: ${f.message}${isWrite ? "; the write's outcome is unknown (not retried)" : ` (after ${tries})`}`, 0, true, isWrite ? 'unknown' : 'not_applied', endpoint, n);
      case 'http': {
        const unknown = isWrite && f.retryable;
        return new ConclaveError(f.code, `${f.message}${unknown ? ' (not retried: the API cannot say whether it applied)' : f.retryable ? ` (after ${tries})` : ''}`, f.status, f.retryable, unknown ? 'unknown' : 'answered', endpoint, n);
      }
      case 'client':
        return new ConclaveError('bad_request', f.message, 0, false, 'not_applied', endpoint, n);
    }
  };

  const one = async <A>(endpoint: string | undefined, call: (api: Api) => Effect.Effect<A, unknown>): Promise<A> => {
    const base = endpoint === undefined ? endpoints[current]! : normalize(endpoint);
    const r = await attempt(base, call);
    if (Either.isRight(r)) return r.right;
    throw toError(r.left, base, false, 1);
  };

  // Path parameters are placed into the URL as given, so keys are percent-encoded here.
  const keyPath = (key: string) => ({ key: encodeURIComponent(key) });

  return {
    endpoints,
    current: () => endpoints[current]!,
    kv: {
      put: (key, value, o = {}) =>
        run(
          (api) =>
            api.kv.put({
              path: keyPath(key),
              payload: { value, ...(o.ttl !== undefined ? { ttl: o.ttl } : {}), ...(Object.prototype.hasOwnProperty.call(o, 'expected') ? { expected: o.expected } : {}) },
            }),
          true,
        ),
      get: async (key, o = {}) => {
        try {
          return await run((api) => api.kv.get({ path: keyPath(key), urlParams: o.consistency !== undefined ? { consistency: o.consistency } : {} }), false);
        } catch (err) {
          if (err instanceof ConclaveError && err.code === 'not_found') return null;
          throw err;
        }
      },
      delete: (key, o = {}) =>
        run(
          (api) =>
            api.kv.delete({
              path: keyPath(key),
              urlParams: Object.prototype.hasOwnProperty.call(o, 'expected') ? { expected: JSON.stringify(o.expected) } : {},
            }),
          true,
        ),
      list: (o = {}) => {
        const listing = findListing();
        if (listing === null) {
          return Promise.reject(
            new ConclaveError('unsupported', 'key listing (GET /v1/kv) is not in this version of the HTTP API (adapters/http/api.ts); nothing was sent', 0, false, 'not_applied', endpoints[current]!, 0),
          );
        }
        const urlParams = {
          ...(o.prefix !== undefined ? { prefix: o.prefix } : {}),
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
          ...(o.consistency !== undefined ? { consistency: o.consistency } : {}),
        };
        return run((api) => {
          const fn = (api as unknown as Record<string, Record<string, (req: unknown) => Effect.Effect<unknown, unknown>>>)[listing.group]![listing.name]!;
          return fn({ urlParams }) as Effect.Effect<{ readonly items: readonly ListItem[]; readonly more: boolean }, unknown>;
        }, false);
      },
    },
    node: {
      health: (endpoint) => one(endpoint, (api) => api.node.health()),
      status: (endpoint) => one(endpoint, (api) => api.node.status()),
    },
  };
}
