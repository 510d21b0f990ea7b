// The HTTP API (CONTRACTS.md "HTTP API"), defined once as an @effect/platform HttpApi: request
// validation, GET /v1/openapi.json and a typed client all derive from these schemas.
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from '@effect/platform';
import { Schema } from 'effect';

// ---- errors: {"error": code, "message": text, "retryable"?: true} ----------------------

const errorBody = <C extends string>(code: C, status: number, description: string) =>
  Schema.Struct({ error: Schema.Literal(code), message: Schema.String, retryable: Schema.optional(Schema.Boolean) }).annotations({
    identifier: `Error_${code}`,
    description,
    ...HttpApiSchema.annotations({ status }),
  });

export const BadRequest = errorBody('bad_request', 400, 'The request is malformed or a field is invalid; the message names the field.');
export const NotFound = errorBody('not_found', 404, 'The key is absent.');
export const ConditionFailed = errorBody('condition_failed', 412, 'The key holds a value other than `expected`.');
export const Unavailable = errorBody('unavailable', 503, 'No quorum, no leader yet, not ready, or the request was not answered in time; retryable.');
export type ErrorBody = { readonly error: string; readonly message: string; readonly retryable?: boolean };

// ---- KV ---------------------------------------------------------------------------------

export const KeyPath = Schema.Struct({ key: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024)) });
export const ConsistencyParam = Schema.Literal('strong', 'leader', 'eventual');

export const PutBody = Schema.Struct({
  value: Schema.Unknown.pipe(Schema.annotations({ description: 'any JSON value' })),
  ttl: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.positive()), { exact: true }),
  expected: Schema.optionalWith(Schema.Unknown, { exact: true }),
}).pipe(Schema.annotations({ identifier: 'PutBody' }));

export const Revision = Schema.Struct({ revision: Schema.Number });
export const ValueWithRevision = Schema.Struct({ value: Schema.Unknown, revision: Schema.Number });

export const kvGroup = HttpApiGroup.make('kv')
  .add(
    HttpApiEndpoint.put('put', '/v1/kv/:key')
      .setPath(KeyPath)
      .setPayload(PutBody)
      .addSuccess(Revision)
      .addError(BadRequest)
      .addError(NotFound)
      .addError(ConditionFailed)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Write a key (compare-and-swap with `expected`)'),
  )
  .add(
    HttpApiEndpoint.get('get', '/v1/kv/:key')
      .setPath(KeyPath)
      .setUrlParams(Schema.Struct({ consistency: Schema.optional(ConsistencyParam) }))
      .addSuccess(ValueWithRevision)
      .addError(BadRequest)
      .addError(NotFound)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Read a key'),
  )
  .add(
    HttpApiEndpoint.del('delete', '/v1/kv/:key')
      .setPath(KeyPath)
      .setUrlParams(Schema.Struct({ expected: Schema.optional(Schema.String) }))
      .addSuccess(Revision)
      .addError(BadRequest)
      .addError(NotFound)
      .addError(ConditionFailed)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Delete a key'),
  );

// ---- node ------------------------------------------------------------------------------

export const Health = Schema.Struct({ status: Schema.Literal('ok'), node: Schema.String });
export const PartitionStatus = Schema.Struct({
  partition: Schema.Number,
  role: Schema.String,
  leader: Schema.NullOr(Schema.String),
  term: Schema.Number,
  commit: Schema.Number,
  applied: Schema.Number,
  last_index: Schema.Number,
  snapshot_index: Schema.Number,
});
export const PeerStatus = Schema.Struct({ peer: Schema.String, state: Schema.String, inbound: Schema.Boolean, last_error: Schema.NullOr(Schema.String) });
export const Status = Schema.Struct({
  node: Schema.String,
  ready: Schema.Boolean,
  reason: Schema.NullOr(Schema.String),
  nodes: Schema.Array(Schema.String),
  replication_factor: Schema.Number,
  partitions: Schema.Array(PartitionStatus),
  peers: Schema.Array(PeerStatus),
  in_flight: Schema.Number,
  uptime_ms: Schema.Number,
});

export const nodeGroup = HttpApiGroup.make('node')
  .add(HttpApiEndpoint.get('health', '/v1/health').addSuccess(Health).addError(Unavailable).annotate(OpenApi.Summary, '200 when this node serves; 503 with the reason otherwise'))
  .add(HttpApiEndpoint.get('status', '/v1/status').addSuccess(Status).annotate(OpenApi.Summary, 'This node, its partitions and peers'));

export const ConclaveApi = HttpApi.make('conclave')
  .add(kvGroup)
  .add(nodeGroup)
  .annotate(OpenApi.Title, 'Conclave')
  .annotate(OpenApi.Version, '1');
