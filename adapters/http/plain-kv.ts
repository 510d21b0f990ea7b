// The hot KV routes (PUT and GET /v1/kv/{key}) served straight from node:http, ahead of the
// HttpApi. The HttpApi (api.ts) stays the one source: this path decodes with the very schemas
// its endpoints declare (taken from the endpoint definitions, not restated), answers through
// the same handler logic (server.ts kvHandlers) and shapes decode errors the same way. It
// takes only plainly shaped requests — a key segment without percent-escapes, a JSON body,
// no query beyond `consistency` — and hands everything else to the HttpApi untouched, so
// unusual input gets exactly the framework's answer. Why it exists: docs/server.md,
// Performance (the HttpApi's per-request cost on the bench).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Either, Option, ParseResult, Schema } from 'effect';
import { ConclaveApi, KeyPath, PutBody } from './api.js';

type AnySchema = Schema.Schema<unknown, unknown, never>;
interface EndpointSchemas {
  readonly pathSchema: Option.Option<AnySchema>;
  readonly payloadSchema: Option.Option<AnySchema>;
  readonly urlParamsSchema: Option.Option<AnySchema>;
}
const kvEndpoints = (ConclaveApi.groups as unknown as Record<string, { readonly endpoints: Record<string, EndpointSchemas> }>)['kv']!.endpoints;
function schemaOf(endpoint: string, part: keyof EndpointSchemas): AnySchema {
  const o = kvEndpoints[endpoint]?.[part];
  if (o === undefined || Option.isNone(o)) throw new Error(`plain-kv: the HttpApi's kv.${endpoint} declares no ${part}`);
  return o.value;
}
const decodeKey = Schema.decodeUnknownEither(schemaOf('put', 'pathSchema') as unknown as typeof KeyPath);
const decodePut = Schema.decodeUnknownEither(schemaOf('put', 'payloadSchema') as unknown as typeof PutBody);
const decodeGetKey = Schema.decodeUnknownEither(schemaOf('get', 'pathSchema') as unknown as typeof KeyPath);
const decodeGetParams = Schema.decodeUnknownEither(schemaOf('get', 'urlParamsSchema') as unknown as Schema.Schema<{ readonly consistency?: 'strong' | 'leader' | 'eventual' }, { readonly consistency?: string }>);

/** A key segment the router would hand over unchanged (no escapes, no slash). */
const PLAIN_SEGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;
const PREFIX = '/v1/kv/';
/**
 * The HttpApi's router (find-my-way) matches no path parameter longer than 100 characters
 * (its maxParamLength): such keys get its 404 "no route", although KeyPath allows 1024.
 * Longer keys go to the HttpApi so both paths answer alike (docs/server.md notes the limit).
 */
const ROUTER_MAX_PARAM = 100;

export type PlainAnswer = { readonly status: number; readonly body: unknown };

export interface PlainKvDeps {
  readonly maxBodyBytes: number;
  readonly put: (key: string, payload: typeof PutBody.Type) => Promise<PlainAnswer>;
  readonly get: (key: string, consistency: 'strong' | 'leader' | 'eventual' | undefined) => Promise<PlainAnswer>;
  /** "field 'x': message" for a schema decode failure, as the HttpApi path words it. */
  readonly describe: (issues: ReadonlyArray<{ path?: ReadonlyArray<PropertyKey>; message?: string }>) => string;
  readonly done: (status: number) => void;
}

function send(res: ServerResponse, status: number, body: unknown, done: (status: number) => void): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  done(status);
}

function decodeFailure(res: ServerResponse, e: ParseResult.ParseError, d: PlainKvDeps): void {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(e);
  send(res, 400, { error: 'bad_request', message: d.describe(issues) }, d.done);
}

const BODY_UNREADABLE = "field 'body': the request body could not be decoded (malformed JSON, or a wrong content-type)";

/** Serve the request if it is a plainly shaped PUT or GET of one key; false: leave it to the HttpApi. */
export function servePlainKv(req: IncomingMessage, res: ServerResponse, d: PlainKvDeps): boolean {
  const url = req.url ?? '';
  if (!url.startsWith(PREFIX)) return false;
  const q = url.indexOf('?');
  const segment = q < 0 ? url.slice(PREFIX.length) : url.slice(PREFIX.length, q);
  if (segment.length > ROUTER_MAX_PARAM || !PLAIN_SEGMENT.test(segment)) return false;
  if (req.method === 'GET') {
    let consistency: string | undefined;
    if (q >= 0) {
      const params = new URLSearchParams(url.slice(q + 1));
      let n = 0;
      for (const [k] of params) if (k !== 'consistency' || ++n > 1) return false;
      consistency = params.get('consistency') ?? undefined;
    }
    const key = decodeGetKey({ key: segment });
    if (Either.isLeft(key)) return decodeFailure(res, key.left, d), req.resume(), true;
    const p = decodeGetParams(consistency === undefined ? {} : { consistency });
    if (Either.isLeft(p)) return decodeFailure(res, p.left, d), req.resume(), true;
    req.resume();
    d.get(key.right.key, p.right.consistency).then(
      (a) => send(res, a.status, a.body, d.done),
      () => send(res, 500, { error: 'internal', message: 'internal error (logged on the node)' }, d.done),
    );
    return true;
  }
  if (req.method === 'PUT') {
    if (q >= 0) return false;
    const type = req.headers['content-type'];
    if (type === undefined || !/^application\/json\s*(;|$)/i.test(type)) return false;
    // The HttpApi decodes the path before it reads the body: so does this.
    const key = decodeKey({ key: segment });
    if (Either.isLeft(key)) return decodeFailure(res, key.left, d), req.resume(), true;
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > d.maxBodyBytes) over = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (over) {
        res.setHeader('connection', 'close');
        return send(res, 413, { error: 'bad_request', message: `request body exceeds ${d.maxBodyBytes} bytes` }, d.done);
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
      } catch {
        return send(res, 400, { error: 'bad_request', message: BODY_UNREADABLE }, d.done);
      }
      const payload = decodePut(json);
      if (Either.isLeft(payload)) return decodeFailure(res, payload.left, d);
      d.put(key.right.key, payload.right).then(
        (a) => send(res, a.status, a.body, d.done),
        () => send(res, 500, { error: 'internal', message: 'internal error (logged on the node)' }, d.done),
      );
    });
    req.on('error', () => res.destroy());
    return true;
  }
  return false;
}
