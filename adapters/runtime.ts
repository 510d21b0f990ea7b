// The server's lifecycle as an Effect program: every resource is acquired in a scope and
// released in reverse order — on SIGTERM/SIGINT the node stops accepting HTTP, lets in-flight
// requests finish (bounded), stops the node and flushes its storage, closes the peer
// transport, then the LMDB environment. The hot path (node-host, transport) is plain code.
import { readFileSync } from 'node:fs';
import { Deferred, Effect, Exit, Fiber, Layer } from 'effect';
import { NodeStartError } from '../core/node/node.js';
import type { ServerConfig } from './config.js';
import { clusterFingerprint, describeShape } from './fingerprint.js';
import { HttpControl, httpLayer, notReadyReason } from './http/server.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { TokenAuth, tokensPath } from './auth.js';
import { NodeHost } from './node-host.js';
import { PLANTED_BUG_ENV, plantedBugsFromEnv } from './planted.js';
import { DataDirError, LmdbStorage } from './storage/lmdb-storage.js';
import { TcpTransport } from './transport/tcp-transport.js';

/** A refusal to start with a message for the operator (exit 2). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export const SHUTDOWN_GRACE_MS = 5_000;

function readSecret(config: ServerConfig, fingerprint: string): Buffer {
  if (config.secretFile === null) {
    // Loopback only (config.ts refuses otherwise): the fingerprint stands in, so the handshake
    // still rejects other clusters, but it proves nothing secret.
    return Buffer.from(`conclave-loopback-${fingerprint}`);
  }
  let text: string;
  try {
    text = readFileSync(config.secretFile, 'utf8').trim();
  } catch (err) {
    throw new StartupError(`cluster.secret_file ${config.secretFile}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (text.length < 16) throw new StartupError(`cluster.secret_file ${config.secretFile}: the secret must be at least 16 characters`);
  return Buffer.from(text);
}

export interface ServerHandle {
  readonly stop: () => void;
  readonly done: Promise<number>;
}

export function serverProgram(config: ServerConfig, log: Logger, stop: Deferred.Deferred<number>, print: (line: string) => void) {
  return Effect.scoped(
    Effect.gen(function* () {
      const startedAt = performance.now();
      const shape = { nodes: config.nodes, replicationFactor: config.replicationFactor, partitions: config.partitions };
      const fingerprint = clusterFingerprint(shape);
      const secret = yield* Effect.try({ try: () => readSecret(config, fingerprint), catch: (e) => e });
      const bugs = yield* Effect.try({ try: () => plantedBugsFromEnv(), catch: (e) => new StartupError((e as Error).message) });
      if (bugs.size > 0) log.error('UNSAFE: planted bugs are switched on; this node breaks its guarantees on purpose (for the real-process harness only)', { env: PLANTED_BUG_ENV, bugs: [...bugs].join(',') });
      const storage = yield* Effect.acquireRelease(
        Effect.try({ try: () => LmdbStorage.open(config.dataDir, { nodeId: config.node, clusterFingerprint: fingerprint, clusterDescription: describeShape(shape) }, config.partitions), catch: (e) => e }),
        (s) => Effect.promise(() => s.close()).pipe(Effect.tap(() => log.info('storage closed', { data_dir: config.dataDir }))),
      );
      let host: NodeHost | null = null;
      const metrics = new Metrics(config.partitions);
      const auth = config.authEnabled
        ? yield* Effect.try({ try: () => new TokenAuth(tokensPath(config.dataDir, config.tokensFile)), catch: (e) => new StartupError(`auth.tokens_file: ${e instanceof Error ? e.message : String(e)}`) })
        : null;
      if (auth !== null) log.info('auth on', { tokens_file: tokensPath(config.dataDir, config.tokensFile) });
      const transport = new TcpTransport({
        self: config.node,
        nodes: config.nodes,
        dial: config.dial,
        partitions: config.partitions,
        fingerprint,
        secret,
        log,
        onMessages: (_from, ms) => {
          if (host === null) return;
          for (const pm of ms) host.receive(pm);
        },
      });
      yield* Effect.acquireRelease(
        Effect.tryPromise({ try: () => transport.listen(), catch: (e) => new StartupError(`cannot listen for peers on ${config.node}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`) }),
        () => Effect.promise(() => transport.close()),
      );
      const h = yield* Effect.acquireRelease(
        Effect.try({
          try: () =>
            new NodeHost({
              id: config.node,
              nodes: config.nodes,
              partitions: config.partitions,
              replicationFactor: config.replicationFactor,
              bugs,
              storage,
              send: (ms) => transport.send(ms),
              log,
              onLeaderChange: (p) => metrics.leaderChanges.inc({ partition: String(p) }),
              onFatal: () => Deferred.unsafeDone(stop, Exit.succeed(3)),
            }),
          catch: (e) => e,
        }),
        (x) => Effect.promise(() => x.stop()).pipe(Effect.tap(() => log.info('node stopped; storage flushed'))),
      );
      host = h;
      metrics.attach(h, transport);
      storage.onFlushed = (ms, ops) => metrics.flushed(ms, ops);
      h.start();
      const control = new HttpControl();
      yield* Layer.build(httpLayer({ config, host: h, transport, log, startedAt, metrics, auth }, control)).pipe(
        Effect.catchAll((e) => Effect.fail(new StartupError(`cannot serve HTTP on ${config.http}: ${String((e as { cause?: { code?: string } }).cause?.code ?? e)}`))),
      );
      log.info('listening', { node: config.node, http: `http://${config.http}`, data_dir: config.dataDir, nodes: config.nodes.length, partitions: config.partitions, config: config.source });
      const base = `http://${config.http}`;
      print(`conclave: node ${config.node} serving HTTP on ${base} (peers on ${config.node}, data in ${config.dataDir})`);
      print('try:');
      print(`  curl -X PUT -H 'content-type: application/json' -d '{"value":"hello"}' ${base}/v1/kv/greeting`);
      print(`  curl ${base}/v1/kv/greeting`);
      if (config.nodes.length > 1) log.info('waiting for peers', { peers: config.nodes.filter((n) => n !== config.node) });
      // Until it serves, say every few seconds why not (whom it waits for); then say it is ready.
      const deps = { config, host: h, transport, log, startedAt, metrics, auth };
      let wasReady = false;
      let lastSaid = performance.now();
      yield* Effect.acquireRelease(
        Effect.sync(() =>
          setInterval(() => {
            const reason = notReadyReason(deps);
            if (reason === null && !wasReady) log.info('ready', { node: config.node, after_ms: Math.round(performance.now() - startedAt) });
            else if (reason !== null && (wasReady || performance.now() - lastSaid > 5000)) {
              log.warn('not ready', { reason });
              lastSaid = performance.now();
            }
            wasReady = reason === null;
          }, 250),
        ),
        (t) => Effect.sync(() => clearInterval(t)),
      );
      const code = yield* Deferred.await(stop);
      // Graceful stop: refuse new requests, let in-flight ones finish (bounded).
      log.info('shutting down', { in_flight: control.inFlight });
      control.draining = true;
      control.server?.close();
      const deadline = performance.now() + SHUTDOWN_GRACE_MS;
      while (control.inFlight > 0 && performance.now() < deadline) yield* Effect.sleep('20 millis');
      if (control.inFlight > 0) log.warn('in-flight requests abandoned at the shutdown bound', { in_flight: control.inFlight, bound_ms: SHUTDOWN_GRACE_MS });
      control.server?.closeAllConnections();
      return code;
    }),
  );
}

/** Run until a signal (or a fatal storage error); resolves with the exit code. */
export async function runServer(config: ServerConfig, log: Logger, print: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const stop = Effect.runSync(Deferred.make<number>());
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info('signal received', { signal: sig });
    Deferred.unsafeDone(stop, Exit.succeed(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const fiber = Effect.runFork(serverProgram(config, log, stop, print));
    const exit = await Effect.runPromise(Fiber.await(fiber));
    if (Exit.isSuccess(exit)) {
      log.info('stopped', { exit_code: exit.value });
      return exit.value;
    }
    const err = exit.cause._tag === 'Fail' ? exit.cause.error : exit.cause._tag === 'Die' ? exit.cause.defect : exit.cause;
    if (err instanceof DataDirError || err instanceof StartupError || err instanceof NodeStartError) {
      log.error('refusing to start', { reason: err.message });
      process.stderr.write(`conclave server: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`conclave server: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 3;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
