// Embedded mode: `import { open } from 'conclave'` runs a single-node database in this process:
// the same core ClusterNode the server runs (one replica per partition, RF 1), its data in LMDB
// under a directory, real timers, no HTTP and no peer sockets. Its `kv` is the KvApi of
// conclave/client, with the same results and the same ConclaveError codes.
//
// A write resolves once it is committed and durable (the node's log fsync), as on the server.
// One directory is one database: the node id and shape are fixed ('embedded', 1 node), so a
// server's data dir is refused (another cluster fingerprint) rather than misread.
import { ConclaveError, type Consistency, type DeleteOptions, type KvApi, type PutOptions } from '../client/index.js';
import { clusterFingerprint, describeShape } from './fingerprint.js';
import { deleteOp, outcomeOf, putOp, readOp, type KvOutcome } from './kv-mapping.js';
import { makeLogger, type Logger } from './log.js';
import { NodeHost, type HostResult } from './node-host.js';
import { LmdbStorage } from './storage/lmdb-storage.js';
import type { KvOp } from '../core/node/command.js';

export interface OpenOptions {
  /** Partitions (each one Raft group of one replica). Default 8; fixed for the directory's life. */
  readonly partitions?: number;
  /** Bound of one operation. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Bound of the wait for every partition to elect itself at open. Default 10000 ms. */
  readonly readyTimeoutMs?: number;
  /** Log lines (the server's logger format); default: warnings and errors on stderr. */
  readonly log?: Logger;
}

export interface Database {
  readonly dir: string;
  readonly kv: KvApi;
  /** Finish what is in flight, flush, and close LMDB. Calls after close fail with `closed`. */
  close(): Promise<void>;
}

const NODE = 'embedded';

function errorOf(o: Exclude<KvOutcome, { kind: 'ok' }>, key: string): ConclaveError {
  switch (o.kind) {
    case 'absent':
      return new ConclaveError('not_found', `key '${key}' is absent`, 404, false, 'answered', 'embedded', 1);
    case 'condition-failed':
      return new ConclaveError('condition_failed', `key '${key}' holds a different value than expected`, 412, false, 'answered', 'embedded', 1);
    case 'invalid':
      return new ConclaveError('bad_request', o.reason, 400, false, 'not_applied', 'embedded', 1);
    case 'unavailable':
      return new ConclaveError('unavailable', o.reason, 503, true, o.unknown ? 'unknown' : 'not_applied', 'embedded', 1);
  }
}

export async function open(dir: string, options: OpenOptions = {}): Promise<Database> {
  const partitions = options.partitions ?? 8;
  const timeoutMs = options.timeoutMs ?? 5000;
  const log = options.log ?? makeLogger('pretty', (l) => process.stderr.write(l + '\n'), 'warn');
  const shape = { nodes: [NODE], replicationFactor: 1, partitions };
  const storage = LmdbStorage.open(dir, { nodeId: NODE, clusterFingerprint: clusterFingerprint(shape), clusterDescription: describeShape(shape) }, partitions);
  let fatal: unknown = null;
  let host: NodeHost;
  try {
    host = new NodeHost({
      id: NODE,
      nodes: [NODE],
      partitions,
      replicationFactor: 1,
      storage,
      send: () => undefined, // one node: no peers
      log,
      onFatal: (err) => {
        fatal = err;
        log.error('embedded database stopped: the disk refused a write', { error: String(err) });
      },
    });
    host.start();
    const end = Date.now() + (options.readyTimeoutMs ?? 10_000);
    while (host.leaderlessPartitions().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    const left = host.leaderlessPartitions().length;
    if (left > 0) throw new Error(`embedded database in ${dir}: ${left} of ${partitions} partitions elected no leader within ${options.readyTimeoutMs ?? 10_000} ms`);
  } catch (err) {
    await storage.close();
    throw err;
  }
  let closed = false;

  const run = async (op: KvOp, key: string): Promise<KvOutcome & { kind: 'ok' }> => {
    if (closed) throw new ConclaveError('closed', 'the embedded database is closed', 0, false, 'not_applied', 'embedded', 0);
    if (fatal !== null) throw new ConclaveError('unavailable', `the embedded database stopped: ${String(fatal)}`, 0, false, 'unknown', 'embedded', 0);
    const r: HostResult = await host.submit(op, timeoutMs);
    if (r.kind === 'timeout' || r.kind === 'overloaded' || r.kind === 'stopped') {
      const write = op.f !== 'get' && op.f !== 'read';
      const why = r.kind === 'timeout' ? `no answer within ${timeoutMs} ms` : r.kind === 'overloaded' ? 'too many operations waiting' : 'the database is closing';
      throw new ConclaveError(r.kind === 'timeout' ? 'timeout' : 'unavailable', why, 0, true, write && r.kind !== 'overloaded' ? 'unknown' : 'not_applied', 'embedded', 1);
    }
    const o = outcomeOf(op, r);
    if (o.kind !== 'ok') throw errorOf(o, key);
    return o;
  };

  const kv: KvApi = {
    put: async (key: string, value: unknown, o: PutOptions = {}) => {
      const has = Object.prototype.hasOwnProperty.call(o, 'expected');
      const r = await run(putOp(key, value, { present: has, value: o.expected }, o.ttl), key);
      return { revision: r.revision };
    },
    get: async (key: string, o: { readonly consistency?: Consistency } = {}) => {
      try {
        const r = await run(readOp(key, o.consistency ?? 'strong'), key);
        return { value: r.value, revision: r.revision };
      } catch (err) {
        if (err instanceof ConclaveError && err.code === 'not_found') return null;
        throw err;
      }
    },
    delete: async (key: string, o: DeleteOptions = {}) => {
      const r = await run(deleteOp(key, Object.prototype.hasOwnProperty.call(o, 'expected') ? { value: o.expected } : undefined), key);
      // As over HTTP: a delete of an absent key changes nothing (revision 0) and is not_found.
      if (r.revision === 0) throw errorOf({ kind: 'absent' }, key);
      return { revision: r.revision };
    },
    list: () => Promise.reject(new ConclaveError('unsupported', 'key listing is not in the core yet (no listing operation in core/node/command.ts)', 0, false, 'not_applied', 'embedded', 0)),
  };

  return {
    dir,
    kv,
    close: async () => {
      if (closed) return;
      closed = true;
      await host.stop();
      await storage.close();
    },
  };
}
