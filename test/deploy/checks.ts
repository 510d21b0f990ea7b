// Structural checks of the deployment files (Dockerfile, compose, Kubernetes, server configs).
// Each returns a list of problems in words, empty when all is well, so the tests can show
// both that the committed files pass and that a broken copy is caught.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Doc = Record<string, unknown>;

/** Every YAML document of a file; parse errors and warnings are thrown, naming the file. */
export function loadYaml(path: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Doc[] = [];
  for (const d of list) {
    const issues = [...d.errors, ...d.warnings];
    if (issues.length > 0) throw new Error(`${path}: ${issues.map((e) => e.message).join('; ')}`);
    const v = d.toJS({ maxAliasCount: 100 }) as unknown;
    if (v !== null && v !== undefined) out.push(v as Doc);
  }
  return out;
}

export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFilesUnder(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

// ---- small accessors that never throw: a missing field is a problem, not a crash ----

export function get(o: unknown, ...path: Array<string | number>): unknown {
  let cur: unknown = o;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function sameLabels(selector: unknown, labels: unknown): boolean {
  if (selector === null || typeof selector !== 'object' || Object.keys(selector).length === 0) return false;
  if (labels === null || typeof labels !== 'object') return false;
  return Object.entries(selector as Record<string, unknown>).every(([k, v]) => (labels as Record<string, unknown>)[k] === v);
}

// ---- server configuration (CONTRACTS.md "Server configuration") ----

const HOST_PORT = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;

export function splitHostPort(v: unknown): { host: string; port: number } | undefined {
  const m = typeof v === 'string' ? HOST_PORT.exec(v) : null;
  if (m === null) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

/** Problems of one server config, on its own. */
export function configProblems(cfg: unknown, name: string): string[] {
  const p: string[] = [];
  const node = splitHostPort(get(cfg, 'node'));
  if (node === undefined) p.push(`${name}: node must be host:port, got ${JSON.stringify(get(cfg, 'node'))}`);
  if (splitHostPort(get(cfg, 'http')) === undefined) p.push(`${name}: http must be host:port`);
  if (typeof get(cfg, 'data_dir') !== 'string') p.push(`${name}: data_dir must be a path`);
  const nodes = get(cfg, 'cluster', 'nodes');
  if (!Array.isArray(nodes) || nodes.length === 0) {
    p.push(`${name}: cluster.nodes must be a non-empty list`);
    return p;
  }
  for (const n of nodes) if (splitHostPort(n) === undefined) p.push(`${name}: cluster.nodes entry ${JSON.stringify(n)} is not host:port`);
  if (new Set(nodes).size !== nodes.length) p.push(`${name}: cluster.nodes has duplicates`);
  if (node !== undefined && !nodes.includes(get(cfg, 'node'))) p.push(`${name}: node ${String(get(cfg, 'node'))} is not one of cluster.nodes`);
  const rf = get(cfg, 'cluster', 'replication_factor');
  if (rf !== undefined && (!Number.isInteger(rf) || (rf as number) < 1 || (rf as number) > nodes.length)) {
    p.push(`${name}: replication_factor must be an integer in 1..${nodes.length}, got ${String(rf)}`);
  }
  const parts = get(cfg, 'cluster', 'partitions');
  if (parts !== undefined && (!Number.isInteger(parts) || (parts as number) < 1)) p.push(`${name}: partitions must be a positive integer`);
  const remote = nodes.some((n) => {
    const hp = splitHostPort(n);
    return hp !== undefined && !isLoopback(hp.host);
  });
  if (remote && typeof get(cfg, 'cluster', 'secret_file') !== 'string') p.push(`${name}: cluster.secret_file is required when nodes are not on loopback`);
  return p;
}

/** Problems across the configs of one cluster: the same nodes, RF and partitions everywhere, each node once. */
export function clusterProblems(configs: ReadonlyArray<{ name: string; cfg: unknown }>): string[] {
  const p: string[] = configs.flatMap(({ name, cfg }) => configProblems(cfg, name));
  const first = configs[0];
  if (first === undefined) return ['no configs'];
  for (const field of ['nodes', 'replication_factor', 'partitions'] as const) {
    const want = JSON.stringify(get(first.cfg, 'cluster', field));
    for (const { name, cfg } of configs.slice(1)) {
      const got = JSON.stringify(get(cfg, 'cluster', field));
      if (got !== want) p.push(`${name}: cluster.${field} is ${got}, but ${first.name} has ${want}`);
    }
  }
  const own = configs.map(({ cfg }) => get(cfg, 'node'));
  if (new Set(own).size !== own.length) p.push(`two configs claim the same node: ${own.join(', ')}`);
  const listed = arr(get(first.cfg, 'cluster', 'nodes'));
  if (listed.length !== configs.length) p.push(`cluster.nodes lists ${listed.length} nodes but there are ${configs.length} configs`);
  return p;
}

// ---- the Dockerfile ----

export interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly stage: number;
}

/** Instructions in order, continuation lines joined, comments dropped; `stage` counts FROMs from 0. */
export function parseDockerfile(text: string): { instructions: Instruction[]; args: Map<string, string> } {
  const instructions: Instruction[] = [];
  const args = new Map<string, string>();
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (pending !== '' && line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m === null) continue;
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.replace(/\s+/g, ' ').trim();
    if (op === 'FROM') stage++;
    if (op === 'ARG' && stage === -1) {
      const [k, v] = rest.split('=');
      if (k !== undefined && v !== undefined) args.set(k, v);
    }
    instructions.push({ op, args: rest, stage });
  }
  return { instructions, args };
}

export interface DockerfileFacts {
  readonly stages: ReadonlyArray<{ image: string; name: string | undefined }>;
  readonly user: string | undefined;
  readonly volumes: string[];
  readonly healthcheck: string | undefined;
  readonly entrypoint: string[] | undefined;
  readonly exposed: number[];
}

export function dockerfileFacts(text: string): DockerfileFacts {
  const { instructions, args } = parseDockerfile(text);
  const expand = (s: string): string => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? '');
  const stages = instructions
    .filter((i) => i.op === 'FROM')
    .map((i) => {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
      return { image: expand(m?.[1] ?? i.args), name: m?.[2] };
    });
  const last = stages.length - 1;
  const inLast = instructions.filter((i) => i.stage === last);
  const lastOf = (op: string) => [...inLast].reverse().find((i) => i.op === op)?.args;
  const volumes = inLast
    .filter((i) => i.op === 'VOLUME')
    .flatMap((i) => (i.args.startsWith('[') ? (JSON.parse(i.args) as string[]) : i.args.split(' ')));
  const ep = lastOf('ENTRYPOINT');
  const exposed = inLast.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(' ').map((p) => Number(p.split('/')[0])));
  return {
    stages,
    user: lastOf('USER'),
    volumes,
    healthcheck: lastOf('HEALTHCHECK'),
    entrypoint: ep !== undefined && ep.startsWith('[') ? (JSON.parse(ep) as string[]) : undefined,
    exposed,
  };
}

export function dockerfileProblems(text: string): string[] {
  const p: string[] = [];
  const f = dockerfileFacts(text);
  const { instructions } = parseDockerfile(text);
  if (f.stages.length < 2) p.push(`a multi-stage build needs at least 2 stages, found ${f.stages.length}`);
  for (const s of f.stages) if (s.image !== 'node:20-slim') p.push(`stage ${s.name ?? '?'} is FROM ${s.image}, not node:20-slim`);
  const build = f.stages.findIndex((s) => s.name === 'build');
  if (build < 0) p.push('no stage named build');
  else if (!instructions.some((i) => i.stage === build && i.op === 'RUN' && /\bnpm ci\b/.test(i.args))) p.push('the build stage does not run npm ci');
  const last = f.stages.length - 1;
  if (!instructions.some((i) => i.stage === last && i.op === 'COPY' && /--from=build\b/.test(i.args))) p.push('the final stage copies nothing from the build stage');
  if (instructions.some((i) => i.stage === last && i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args))) p.push('the final stage installs packages itself');
  const user = f.user?.split(':')[0];
  if (user === undefined) p.push('the final stage sets no USER (it would run as root)');
  else if (user === 'root' || user === '0') p.push(`the final stage runs as ${user}`);
  if (!f.volumes.includes('/data')) p.push(`VOLUME does not include /data (has ${JSON.stringify(f.volumes)})`);
  if (f.healthcheck === undefined) p.push('no HEALTHCHECK');
  else {
    if (!f.healthcheck.includes('http://127.0.0.1:7070/v1/health')) p.push('the HEALTHCHECK does not ask http://127.0.0.1:7070/v1/health');
    if (!/--interval=\d+s/.test(f.healthcheck) || !/--timeout=\d+s/.test(f.healthcheck)) p.push('the HEALTHCHECK sets no interval or timeout');
  }
  const want = ['conclave', 'server', '--config', '/etc/conclave/conclave.yaml'];
  if (f.entrypoint === undefined) p.push('ENTRYPOINT is not in exec (JSON) form');
  else if (f.entrypoint.slice(-want.length).join(' ') !== want.join(' ')) p.push(`ENTRYPOINT ends with ${JSON.stringify(f.entrypoint)}, not ${want.join(' ')}`);
  for (const port of [7070, 7100]) if (!f.exposed.includes(port)) p.push(`port ${port} is not EXPOSEd`);
  return p;
}

/** Paths the final image needs that a .dockerignore must not leave out of the context. */
export function dockerignoreProblems(ignore: string, needed: readonly string[], mustExclude: readonly string[]): string[] {
  const patterns = ignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
  const excluded = (path: string) =>
    patterns.some((pat) => {
      const re = new RegExp(`^${pat.replace(/^\//, '').replace(/[.+^$()|[\]{}]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
      return re.test(path) || re.test(path.split('/').pop()!);
    });
  const p: string[] = [];
  for (const n of needed) if (excluded(n)) p.push(`.dockerignore leaves out ${n}, which the build needs`);
  for (const m of mustExclude) if (!excluded(m)) p.push(`.dockerignore does not leave out ${m}`);
  return p;
}

// ---- docker compose ----

export function composeProblems(compose: Doc, configFor: (path: string) => unknown, root: string): string[] {
  const p: string[] = [];
  const services = get(compose, 'services');
  if (services === null || typeof services !== 'object') return ['compose has no services'];
  const names = Object.keys(services);
  if (names.length !== 3) p.push(`compose has ${names.length} services, want 3`);
  const topVolumes = Object.keys((get(compose, 'volumes') as object | undefined) ?? {});
  const topSecrets = (get(compose, 'secrets') as Record<string, unknown> | undefined) ?? {};
  const dataVolumes: string[] = [];
  const configs: Array<{ name: string; cfg: unknown }> = [];
  const hostPorts: string[] = [];
  for (const name of names) {
    const svc = get(services, name);
    const mounts = arr(get(svc, 'volumes')).map(String);
    const data = mounts.find((m) => m.split(':')[1] === '/data');
    if (data === undefined) p.push(`${name}: no volume at /data`);
    else {
      const vol = data.split(':')[0]!;
      dataVolumes.push(vol);
      if (!topVolumes.includes(vol)) p.push(`${name}: /data is on ${vol}, which is not a named volume of the file`);
    }
    const conf = mounts.find((m) => m.split(':')[1] === '/etc/conclave/conclave.yaml');
    if (conf === undefined) {
      p.push(`${name}: no config mounted at /etc/conclave/conclave.yaml`);
      continue;
    }
    const cfgPath = conf.split(':')[0]!;
    const cfg = configFor(cfgPath);
    if (cfg === undefined) {
      p.push(`${name}: config ${cfgPath} does not exist`);
      continue;
    }
    configs.push({ name: `${name} (${cfgPath})`, cfg });
    const node = splitHostPort(get(cfg, 'node'));
    if (node !== undefined && node.host !== name && node.host !== get(svc, 'hostname')) p.push(`${name}: its config says node ${String(get(cfg, 'node'))}, not this service`);
    const http = splitHostPort(get(cfg, 'http'));
    for (const port of arr(get(svc, 'ports')).map(String)) {
      const parts = port.split(':');
      if (parts.length !== 3 || parts[0] !== '127.0.0.1') p.push(`${name}: port ${port} is not published on 127.0.0.1 only`);
      if (http !== undefined && Number(parts[parts.length - 1]) !== http.port) p.push(`${name}: publishes container port ${parts[parts.length - 1]}, but HTTP is on ${http.port}`);
      hostPorts.push(parts.slice(0, -1).join(':'));
    }
    const secretFile = str(get(cfg, 'cluster', 'secret_file'));
    const svcSecrets = arr(get(svc, 'secrets')).map((s) => (typeof s === 'string' ? s : String(get(s, 'source'))));
    if (secretFile !== undefined) {
      const m = /^\/run\/secrets\/(.+)$/.exec(secretFile);
      if (m === null || !svcSecrets.includes(m[1]!) || !(m[1]! in topSecrets)) p.push(`${name}: secret_file ${secretFile} is not a compose secret of this service`);
    }
    const ctx = str(get(svc, 'build', 'context'));
    if (ctx !== undefined && relative(root, join(root, 'deploy', ctx)) !== '') p.push(`${name}: build context ${ctx} is not the repository root`);
  }
  if (new Set(dataVolumes).size !== dataVolumes.length) p.push(`services share a data volume: ${dataVolumes.join(', ')}`);
  if (new Set(hostPorts).size !== hostPorts.length) p.push(`services publish the same host port: ${hostPorts.join(', ')}`);
  if (configs.length > 0) {
    p.push(...clusterProblems(configs));
    const hosts = arr(get(configs[0]!.cfg, 'cluster', 'nodes')).map((n) => splitHostPort(n)?.host);
    for (const h of hosts) if (h !== undefined && !names.includes(h)) p.push(`cluster.nodes names ${h}, which is not a compose service`);
  }
  return p;
}

// ---- Kubernetes ----

function containerPort(container: unknown, ref: unknown): number | undefined {
  if (typeof ref === 'number') return ref;
  const found = arr(get(container, 'ports')).find((p) => get(p, 'name') === ref);
  const n = get(found, 'containerPort');
  return typeof n === 'number' ? n : undefined;
}

export function kubernetesProblems(docs: readonly Doc[], entrypointConfig: string): string[] {
  const p: string[] = [];
  const ofKind = (k: string) => docs.filter((d) => d['kind'] === k);
  const sts = ofKind('StatefulSet');
  if (sts.length !== 1) return [`want exactly one StatefulSet, found ${sts.length}`];
  const s = sts[0]!;
  if (s['apiVersion'] !== 'apps/v1') p.push(`StatefulSet apiVersion is ${String(s['apiVersion'])}`);
  const name = str(get(s, 'metadata', 'name')) ?? '';
  const replicas = get(s, 'spec', 'replicas');
  if (replicas !== 3) p.push(`StatefulSet replicas is ${String(replicas)}, want 3`);
  const podLabels = get(s, 'spec', 'template', 'metadata', 'labels');
  if (!sameLabels(get(s, 'spec', 'selector', 'matchLabels'), podLabels)) p.push("the StatefulSet's selector does not match its pod labels");
  if (get(s, 'spec', 'podManagementPolicy') !== 'Parallel') p.push('podManagementPolicy is not Parallel (OrderedReady would wait for a lone pod to be ready)');

  const services = ofKind('Service');
  const serviceName = get(s, 'spec', 'serviceName');
  const headless = services.find((x) => get(x, 'metadata', 'name') === serviceName);
  if (headless === undefined) p.push(`the StatefulSet's serviceName ${String(serviceName)} names no Service`);
  else {
    if (get(headless, 'spec', 'clusterIP') !== 'None') p.push(`Service ${String(serviceName)} is not headless (clusterIP: None)`);
    if (get(headless, 'spec', 'publishNotReadyAddresses') !== true) p.push(`Service ${String(serviceName)} does not publish not-ready addresses (peers could not find each other before quorum)`);
  }
  const clients = services.filter((x) => x !== headless);
  if (clients.length !== 1) p.push(`want one client Service beside the headless one, found ${clients.length}`);
  for (const svc of services) {
    if (!sameLabels(get(svc, 'spec', 'selector'), podLabels)) p.push(`Service ${String(get(svc, 'metadata', 'name'))} does not select the StatefulSet's pods`);
  }
  for (const c of clients) if (get(c, 'spec', 'clusterIP') === 'None') p.push('the client Service is headless');

  const containers = arr(get(s, 'spec', 'template', 'spec', 'containers'));
  const c = containers[0];
  if (containers.length !== 1 || c === undefined) return [...p, `want one container, found ${containers.length}`];
  const httpPort = containerPort(c, 'http');
  const peerPort = containerPort(c, 'peer');
  if (httpPort === undefined || peerPort === undefined) p.push('the container does not name its http and peer ports');
  for (const svc of services) {
    for (const port of arr(get(svc, 'spec', 'ports'))) {
      if (containerPort(c, get(port, 'targetPort')) === undefined) p.push(`Service ${String(get(svc, 'metadata', 'name'))} targets port ${String(get(port, 'targetPort'))}, which the container does not have`);
    }
  }
  const ready = get(c, 'readinessProbe', 'httpGet');
  if (get(ready, 'path') !== '/v1/health') p.push(`the readiness probe asks ${String(get(ready, 'path'))}, not /v1/health`);
  if (httpPort === undefined || containerPort(c, get(ready, 'port')) !== httpPort) p.push('the readiness probe is not on the HTTP port');
  if (get(c, 'livenessProbe', 'httpGet', 'path') === '/v1/health') p.push('the liveness probe is /v1/health: a node without quorum would be restarted');

  const preStop = arr(get(c, 'lifecycle', 'preStop', 'exec', 'command')).map(String).join(' ');
  if (!/\bconclave node drain\b/.test(preStop)) p.push(`the pre-stop hook does not run conclave node drain (runs ${JSON.stringify(preStop)})`);
  const grace = get(s, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds');
  if (typeof grace !== 'number' || grace < 30) p.push('terminationGracePeriodSeconds leaves the drain less than 30 s');

  const sec = get(s, 'spec', 'template', 'spec', 'securityContext');
  if (get(sec, 'runAsNonRoot') !== true) p.push('pods do not require runAsNonRoot');

  const claims = arr(get(s, 'spec', 'volumeClaimTemplates'));
  const mounts = arr(get(c, 'volumeMounts'));
  const dataMount = mounts.find((m) => get(m, 'mountPath') === '/data');
  if (dataMount === undefined) p.push('nothing is mounted at /data');
  else if (!claims.some((t) => get(t, 'metadata', 'name') === get(dataMount, 'name'))) p.push('/data is not on a volumeClaimTemplate');

  // The config: mounted where the image's entrypoint reads it, from the ConfigMap, its node list the stable pod names.
  const confMount = mounts.find((m) => get(m, 'mountPath') === entrypointConfig);
  const volumes = arr(get(s, 'spec', 'template', 'spec', 'volumes'));
  const confVolume = volumes.find((v) => get(v, 'name') === get(confMount, 'name'));
  const cmName = get(confVolume, 'configMap', 'name');
  const cm = ofKind('ConfigMap').find((x) => get(x, 'metadata', 'name') === cmName);
  if (confMount === undefined || cm === undefined) {
    p.push(`no ConfigMap mounted at ${entrypointConfig}`);
    return p;
  }
  const key = str(get(confMount, 'subPath')) ?? 'conclave.yaml';
  const text = str(get(cm, 'data', key));
  if (text === undefined) return [...p, `ConfigMap ${String(cmName)} has no key ${key}`];
  const cfg = loadYamlText(text);
  p.push(...configProblems(cfg, `ConfigMap ${String(cmName)}`));
  const want = Array.from({ length: typeof replicas === 'number' ? replicas : 0 }, (_, i) => `${name}-${i}.${String(serviceName)}:${peerPort}`);
  if (JSON.stringify(get(cfg, 'cluster', 'nodes')) !== JSON.stringify(want)) {
    p.push(`cluster.nodes is ${JSON.stringify(get(cfg, 'cluster', 'nodes'))}, want the stable pod names ${JSON.stringify(want)}`);
  }
  if (get(cfg, 'data_dir') !== '/data') p.push(`data_dir is ${String(get(cfg, 'data_dir'))}, not the volume at /data`);
  if (splitHostPort(get(cfg, 'http'))?.port !== httpPort) p.push("the config's http port is not the container's http port");
  const args = arr(get(c, 'args')).map(String);
  const nodeArg = args[args.indexOf('--node') + 1];
  if (args.indexOf('--node') < 0 || nodeArg !== `$(POD_NAME).${String(serviceName)}:${peerPort}`) p.push(`the container does not set --node from its pod name (args ${JSON.stringify(args)})`);
  const podNameEnv = arr(get(c, 'env')).find((e) => get(e, 'name') === 'POD_NAME');
  if (get(podNameEnv, 'valueFrom', 'fieldRef', 'fieldPath') !== 'metadata.name') p.push('POD_NAME does not come from metadata.name');
  for (const field of [['cluster', 'secret_file'], ['auth', 'tokens_file']] as const) {
    const path = str(get(cfg, ...field));
    if (path === undefined) continue;
    if (!mounts.some((m) => path.startsWith(`${String(get(m, 'mountPath'))}/`) && volumes.some((v) => get(v, 'name') === get(m, 'name') && get(v, 'secret') !== undefined))) {
      p.push(`${field.join('.')} ${path} is not in a mounted Secret`);
    }
  }

  const pdbs = ofKind('PodDisruptionBudget');
  if (pdbs.length !== 1) p.push(`want one PodDisruptionBudget, found ${pdbs.length}`);
  for (const pdb of pdbs) {
    if (pdb['apiVersion'] !== 'policy/v1') p.push(`PodDisruptionBudget apiVersion is ${String(pdb['apiVersion'])}`);
    if (get(pdb, 'spec', 'maxUnavailable') !== 1) p.push(`PodDisruptionBudget maxUnavailable is ${String(get(pdb, 'spec', 'maxUnavailable'))}, want 1`);
    if (!sameLabels(get(pdb, 'spec', 'selector', 'matchLabels'), podLabels)) p.push("the PodDisruptionBudget does not select the StatefulSet's pods");
  }
  return p;
}

export function loadYamlText(text: string): unknown {
  const docs = parseAllDocuments(text, { merge: true });
  const d = Array.isArray(docs) ? docs[0] : docs;
  if (d === undefined) return undefined;
  if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
  return d.toJS() as unknown;
}
