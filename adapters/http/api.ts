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
export const NotFound = errorBody('not_found', 404, 'The key is absent (records: the record never held data).');
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

const UrlInt = Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative());

export const KvListParams = Schema.Struct({
  prefix: Schema.optional(Schema.String),
  start: Schema.optional(Schema.String.pipe(Schema.annotations({ description: 'first key of a range (inclusive)' }))),
  range_end: Schema.optional(Schema.String.pipe(Schema.annotations({ description: 'end of a range (exclusive)' }))),
  limit: Schema.optional(UrlInt),
  offset: Schema.optional(UrlInt),
  consistency: Schema.optional(ConsistencyParam),
}).pipe(Schema.annotations({ identifier: 'KvListParams' }));

export const KvItem = Schema.Struct({ key: Schema.String, value: Schema.Unknown, revision: Schema.Number }).pipe(Schema.annotations({ identifier: 'KvItem' }));
export const KvList = Schema.Struct({ items: Schema.Array(KvItem), more: Schema.Boolean }).pipe(Schema.annotations({ identifier: 'KvList' }));

export const BulkOpItem = Schema.Struct({
  op: Schema.Literal('put', 'delete'),
  key: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024)),
  value: Schema.optionalWith(Schema.Unknown, { exact: true }),
  ttl: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.positive()), { exact: true }),
  expected: Schema.optionalWith(Schema.Unknown, { exact: true }),
}).pipe(Schema.annotations({ identifier: 'BulkOp' }));
export const BulkBody = Schema.Struct({ ops: Schema.Array(BulkOpItem).pipe(Schema.minItems(1), Schema.maxItems(500)) }).pipe(Schema.annotations({ identifier: 'BulkBody' }));

export const kvGroup = HttpApiGroup.make('kv')
  .add(
    HttpApiEndpoint.post('bulk', '/v1/kv/_bulk')
      .setPayload(BulkBody)
      .addSuccess(Revision)
      .addError(BadRequest)
      .addError(ConditionFailed)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Up to 500 puts and deletes, all or nothing')
      .annotate(OpenApi.Description, 'All keys must lie in one partition for now (cross-partition bulk calls need 2PC: 400). 412 names the first failed condition; nothing is written then.'),
  )
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
    HttpApiEndpoint.get('list', '/v1/kv')
      .setUrlParams(KvListParams)
      .addSuccess(KvList)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'List keys over every partition, in Unicode code point order')
      .annotate(OpenApi.Description, 'Keys with `prefix`, or with start <= key < range_end (either bound may be left out), or every key; `offset` keys skipped, at most `limit` (default 1000, offset + limit <= 10000). `more` is true when keys beyond the page match.'),
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

// ---- records (the versioned document-graph model) ---------------------------------------

/** A record id: a decimal string (64-bit, 0 <= id < 2^63). */
export const RecordIdText = Schema.String.pipe(Schema.pattern(/^(0|[1-9][0-9]{0,18})$/), Schema.annotations({ description: 'record id, a decimal string' }));
/** A value: a JSON boolean, number or string, or a typed form {"type", "value"}. */
export const RecordValueJson = Schema.Unknown.pipe(
  Schema.annotations({
    identifier: 'RecordValue',
    description: 'a boolean, number or string as itself (an integral number is an integer if it fits 32 bits, else a long; others double), or {"type": "long"|"link"|"timestamp"|"double"|"integer"|"boolean"|"string", "value": ...}',
  }),
);
/** Microseconds since the epoch, or an ISO 8601 time. */
export const AtParam = Schema.String.pipe(Schema.annotations({ description: 'microseconds since the epoch, or an ISO 8601 time' }));

export const RecordPath = Schema.Struct({ id: RecordIdText });
export const RecordKeyPath = Schema.Struct({ id: RecordIdText, key: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)) });
export const InsertBody = Schema.Struct({
  data: Schema.Record({ key: Schema.String, value: Schema.Unknown }).pipe(Schema.annotations({ description: 'key -> a value or a list of values' })),
}).pipe(Schema.annotations({ identifier: 'InsertBody' }));
export const RecordCreated = Schema.Struct({ record: RecordIdText }).pipe(Schema.annotations({ identifier: 'RecordCreated' }));
export const RecordValueBody = Schema.Struct({ value: RecordValueJson }).pipe(Schema.annotations({ identifier: 'RecordValueBody' }));
export const RecordChange = Schema.Struct({ changed: Schema.Boolean, version: Schema.Number }).pipe(Schema.annotations({ identifier: 'RecordChange' }));
export const RecordDeleteParams = Schema.Struct({ value: Schema.optional(Schema.String.pipe(Schema.annotations({ description: 'the value to remove, as JSON text; without it the key is cleared' }))) });
export const RecordSelectParams = Schema.Struct({
  keys: Schema.optional(Schema.String.pipe(Schema.annotations({ description: 'comma-separated key names' }))),
  at: Schema.optional(AtParam),
  consistency: Schema.optional(ConsistencyParam),
});
export const RecordData = Schema.Struct({ record: RecordIdText, data: Schema.Record({ key: Schema.String, value: Schema.Array(RecordValueJson) }) }).pipe(Schema.annotations({ identifier: 'RecordData' }));
export const AuditParams = Schema.Struct({ key: Schema.optional(Schema.String), consistency: Schema.optional(ConsistencyParam) });
export const AuditRevision = Schema.Struct({
  version: Schema.Number,
  timestamp: Schema.Number.pipe(Schema.annotations({ description: 'microseconds since the epoch (the hybrid logical clock of the write)' })),
  action: Schema.Literal('ADD', 'REMOVE'),
  key: Schema.String,
  value: RecordValueJson,
}).pipe(Schema.annotations({ identifier: 'AuditRevision' }));
export const Audit = Schema.Struct({ revisions: Schema.Array(AuditRevision) }).pipe(Schema.annotations({ identifier: 'Audit' }));
export const RevertBody = Schema.Struct({
  keys: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  at: Schema.Union(Schema.String, Schema.Number).pipe(Schema.annotations({ description: 'microseconds since the epoch, or an ISO 8601 time' })),
}).pipe(Schema.annotations({ identifier: 'RevertBody' }));
export const FindParams = Schema.Struct({ criteria: Schema.String.pipe(Schema.minLength(1)), at: Schema.optional(AtParam), consistency: Schema.optional(ConsistencyParam) });
export const SearchParams = Schema.Struct({ key: Schema.String.pipe(Schema.minLength(1)), query: Schema.String.pipe(Schema.minLength(1)), consistency: Schema.optional(ConsistencyParam) });
export const RecordIds = Schema.Struct({ records: Schema.Array(RecordIdText) }).pipe(Schema.annotations({ identifier: 'RecordIds' }));

export const recordsGroup = HttpApiGroup.make('records')
  .add(
    HttpApiEndpoint.post('insert', '/v1/records')
      .setPayload(InsertBody)
      .addSuccess(RecordCreated)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Insert a new record; its id is allocated by the partition it is placed in'),
  )
  .add(
    HttpApiEndpoint.get('audit', '/v1/records/:id/audit')
      .setPath(RecordPath)
      .setUrlParams(AuditParams)
      .addSuccess(Audit)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'The revisions of a record (of one key with `key`), in version order'),
  )
  .add(
    HttpApiEndpoint.post('revert', '/v1/records/:id/revert')
      .setPath(RecordPath)
      .setPayload(RevertBody)
      .addSuccess(RecordChange)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Bring keys (all without `keys`) back to their values at `at`, as new revisions'),
  )
  .add(
    HttpApiEndpoint.post('add', '/v1/records/:id/:key')
      .setPath(RecordKeyPath)
      .setPayload(RecordValueBody)
      .addSuccess(RecordChange)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Add a value to a key (a link: {"type": "link", "value": id})'),
  )
  .add(
    HttpApiEndpoint.put('set', '/v1/records/:id/:key')
      .setPath(RecordKeyPath)
      .setPayload(RecordValueBody)
      .addSuccess(RecordChange)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Set a key's only value"),
  )
  .add(
    HttpApiEndpoint.del('remove', '/v1/records/:id/:key')
      .setPath(RecordKeyPath)
      .setUrlParams(RecordDeleteParams)
      .addSuccess(RecordChange)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Clear a key, or with `value` remove one value'),
  )
  .add(
    HttpApiEndpoint.get('select', '/v1/records/:id')
      .setPath(RecordPath)
      .setUrlParams(RecordSelectParams)
      .addSuccess(RecordData)
      .addError(BadRequest)
      .addError(NotFound)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "A record's data (only `keys` when given), now or at `at`; 404 when it never held data"),
  )
  .add(
    HttpApiEndpoint.get('find', '/v1/find')
      .setUrlParams(FindParams)
      .addSuccess(RecordIds)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Records matching criteria (e.g. age > 30 and name = "Ada"), now or at `at`; ascending ids over every partition'),
  )
  .add(
    HttpApiEndpoint.get('search', '/v1/search')
      .setUrlParams(SearchParams)
      .addSuccess(RecordIds)
      .addError(BadRequest)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, 'Records whose `key` holds a string containing `query` (full text); ascending ids over every partition'),
  );

// ---- transactions ------------------------------------------------------------------------

export const Conflict = errorBody('txn_conflict', 409, 'The transaction lost a lock conflict; nothing of it applied. Retryable.');
export const AtomicOpItem = Schema.Struct({
  op: Schema.String.pipe(Schema.annotations({ description: 'get | select | add | remove | set' })),
  record: Schema.optional(RecordIdText),
  key: Schema.optional(Schema.String),
  value: Schema.optionalWith(RecordValueJson, { exact: true }),
}).pipe(Schema.annotations({ identifier: 'AtomicOp' }));
export const AtomicBody = Schema.Struct({ ops: Schema.Array(AtomicOpItem).pipe(Schema.minItems(1), Schema.maxItems(500)) }).pipe(Schema.annotations({ identifier: 'AtomicBody' }));
export const AtomicResult = Schema.Struct({
  results: Schema.Array(Schema.Unknown.pipe(Schema.annotations({ description: 'per operation: get {"values"}, select {"data"}, add/remove/set {"changed"}' }))),
  version: Schema.Number,
}).pipe(Schema.annotations({ identifier: 'AtomicResult' }));

export const txnGroup = HttpApiGroup.make('txn').add(
  HttpApiEndpoint.post('atomic', '/v1/txn/atomic')
    .setPayload(AtomicBody)
    .addSuccess(AtomicResult)
    .addError(BadRequest)
    .addError(Conflict)
    .addError(Unavailable)
    .annotate(OpenApi.Summary, 'Records operations as one serializable transaction (one partition for now)')
    .annotate(OpenApi.Description, 'Runs under core/lock (shared locks for reads, exclusive for writes) in one log entry. Records of several partitions need 2PC, not built yet: 400.'),
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
export const NodeStateSchema = Schema.Literal('active', 'draining').pipe(Schema.annotations({ identifier: 'NodeState', description: 'active, or draining (gives away its leaderships, does not campaign while another replica could win)' }));
export const Status = Schema.Struct({
  node: Schema.String,
  state: NodeStateSchema,
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

// ---- admin: node operations (docs/operations.md) -----------------------------------------

export const NotLeader = Schema.Struct({
  error: Schema.Literal('not_leader'),
  message: Schema.String,
  leader: Schema.NullOr(Schema.String).pipe(Schema.annotations({ description: 'the leader this node knows of, if any: send the stepdown there' })),
}).annotations({ identifier: 'Error_not_leader', description: 'This node does not lead the partition.', ...HttpApiSchema.annotations({ status: 409 }) });
export const StepdownBody = Schema.Struct({
  partition: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.nonNegative()), { exact: true }),
  to: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1), Schema.annotations({ description: 'the successor, a node address (host:port) that replicates the partition' })), { exact: true }),
}).pipe(Schema.annotations({ identifier: 'StepdownBody' }));
export const StepdownResult = Schema.Struct({
  transfers: Schema.Array(Schema.Struct({ partition: Schema.Number, to: Schema.String })),
  skipped: Schema.Array(Schema.Struct({ partition: Schema.Number, reason: Schema.String })),
}).pipe(Schema.annotations({ identifier: 'StepdownResult' }));
export const DrainStatus = Schema.Struct({
  node: Schema.String,
  state: NodeStateSchema,
  leaderships: Schema.Array(Schema.Number).pipe(Schema.annotations({ description: 'partitions this node still leads; a finished drain has none' })),
  handoffs: Schema.Number.pipe(Schema.annotations({ description: 'leadership transfers the drain has under way' })),
}).pipe(Schema.annotations({ identifier: 'DrainStatus' }));

export const adminGroup = HttpApiGroup.make('admin')
  .add(
    HttpApiEndpoint.post('stepdown', '/v1/admin/stepdown')
      .setPayload(StepdownBody)
      .addSuccess(StepdownResult)
      .addError(BadRequest)
      .addError(NotLeader)
      .annotate(OpenApi.Summary, 'Hand leadership of a partition (every partition this node leads, without `partition`) to `to` or the most caught-up replica')
      .annotate(OpenApi.Description, 'Starts the transfers and answers at once; each completes within an election timeout or is abandoned (the old leader leads on). 409 when this node does not lead `partition`, naming the leader it knows.'),
  )
  .add(HttpApiEndpoint.post('drain', '/v1/admin/drain').addSuccess(DrainStatus).annotate(OpenApi.Summary, 'Start draining this node: it gives away its leaderships and stops campaigning; poll GET until `leaderships` is empty'))
  .add(HttpApiEndpoint.post('activate', '/v1/admin/activate').addSuccess(DrainStatus).annotate(OpenApi.Summary, 'Return this node to active'))
  .add(HttpApiEndpoint.get('drainStatus', '/v1/admin/drain').addSuccess(DrainStatus).annotate(OpenApi.Summary, "This node's state and the leaderships it still holds"));

export const ConclaveApi = HttpApi.make('conclave')
  .add(kvGroup)
  .add(recordsGroup)
  .add(txnGroup)
  .add(nodeGroup)
  .add(adminGroup)
  .annotate(OpenApi.Title, 'Conclave')
  .annotate(OpenApi.Version, '1');
