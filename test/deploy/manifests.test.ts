// The deployment files, checked by structure (no container engine needed): every YAML parses;
// the Dockerfile has its stages, USER, VOLUME, HEALTHCHECK and entrypoint; compose runs three
// nodes with their own volumes and agreeing configs; the Kubernetes objects fit together.
// Each check is also run on a broken copy, to show it can fail.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  clusterProblems,
  composeProblems,
  configProblems,
  dockerfileFacts,
  dockerfileProblems,
  dockerignoreProblems,
  get,
  kubernetesProblems,
  loadYaml,
  yamlFilesUnder,
  type Doc,
} from './checks.js';

const root = resolve(__dirname, '..', '..');
const deploy = join(root, 'deploy');
const k8sDir = join(deploy, 'kubernetes');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const CONFIG_PATH = '/etc/conclave/conclave.yaml';

function k8sDocs(): Doc[] {
  return yamlFilesUnder(k8sDir)
    .filter((f) => !f.endsWith('kustomization.yaml'))
    .flatMap(loadYaml);
}

function composeFile(): Doc {
  return loadYaml(join(deploy, 'docker-compose.yml'))[0]!;
}

function composeConfig(path: string): unknown {
  const p = join(deploy, path);
  return existsSync(p) ? loadYaml(p)[0] : undefined;
}

const clone = <T>(v: T): T => structuredClone(v);

describe('deployment files', () => {
  it('every YAML file under deploy/ parses without errors or warnings', () => {
    const files = yamlFilesUnder(deploy);
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) expect(loadYaml(f).length, f).toBeGreaterThan(0);
  });

  describe('Dockerfile', () => {
    it('has a node:20-slim build stage running npm ci, a runtime stage, a non-root USER, /data, a health check and the server entrypoint', () => {
      expect(dockerfileProblems(dockerfile)).toEqual([]);
      const f = dockerfileFacts(dockerfile);
      expect(f.stages.map((s) => s.name)).toEqual(['build', 'runtime']);
      expect(f.user).toBe('10001:10001');
      expect(f.volumes).toEqual(['/data']);
      expect(f.entrypoint).toEqual(['/usr/bin/tini', '--', 'conclave', 'server', '--config', CONFIG_PATH]);
    });

    it('copies files that exist, and its default config is a valid one-node config', () => {
      const copied = [...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!).filter((s) => s !== '.');
      for (const c of copied) expect(existsSync(join(root, c)), c).toBe(true);
      const cfg = loadYaml(join(deploy, 'docker', 'conclave.yaml'))[0];
      expect(configProblems(cfg, 'image default')).toEqual([]);
      expect(get(cfg, 'data_dir')).toBe('/data');
    });

    it('the checks catch a root user, a missing volume, a wrong health URL and a one-stage build', () => {
      expect(dockerfileProblems(dockerfile.replace('USER 10001:10001', 'USER root'))).toEqual(['the final stage runs as root']);
      expect(dockerfileProblems(dockerfile.replace('VOLUME ["/data"]', 'VOLUME ["/var/lib/x"]'))[0]).toMatch(/VOLUME does not include \/data/);
      expect(dockerfileProblems(dockerfile.replace('/v1/health', '/health'))).toEqual(['the HEALTHCHECK does not ask http://127.0.0.1:7070/v1/health']);
      const oneStage = dockerfile.slice(dockerfile.indexOf('FROM ${NODE_IMAGE} AS runtime'));
      expect(dockerfileProblems(`ARG NODE_IMAGE=node:20-slim\n${oneStage}`)).toContain('a multi-stage build needs at least 2 stages, found 1');
      expect(dockerfileProblems(dockerfile.replace('ARG NODE_IMAGE=node:20-slim', 'ARG NODE_IMAGE=node:18'))).toContain('stage build is FROM node:18, not node:20-slim');
    });

    it('the runtime stage can run on production dependencies alone: no shipped source imports a devDependency', () => {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
      const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
      const dirs = tsconfig.include.map((g) => g.split('/')[0]!).filter((d) => existsSync(join(root, d)));
      const problems: string[] = [];
      const sources = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
        );
      let files = 0;
      for (const d of dirs) {
        for (const f of sources(join(root, d))) {
          files++;
          const text = readFileSync(f, 'utf8');
          for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s*['"]([^'".][^'"]*)['"]|import\(\s*['"]([^'".][^'"]*)['"]\s*\)/g)) {
            const spec = (m[1] ?? m[2])!;
            if (spec.startsWith('node:')) continue;
            const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
            if (!(name in pkg.dependencies)) problems.push(`${f.slice(root.length + 1)} imports ${spec}, which is ${name in pkg.devDependencies ? 'a devDependency (pruned from the image)' : 'not a dependency'}`);
          }
        }
      }
      expect(files).toBeGreaterThan(20);
      expect(problems).toEqual([]);
    });

    it('.dockerignore keeps what the build needs and leaves out node_modules, dist, data and .git', () => {
      const ignore = readFileSync(join(root, '.dockerignore'), 'utf8');
      const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'bin/conclave', 'core/raft/raft.ts', 'cli/main.ts', 'deploy/docker/conclave.yaml'];
      const out = ['node_modules', 'dist', 'data', '.git', 'deploy/compose/cluster-secret', 'server.log'];
      expect(dockerignoreProblems(ignore, needed, out)).toEqual([]);
      expect(dockerignoreProblems(`${ignore}\ndeploy\n`, needed, out)).toEqual(['.dockerignore leaves out deploy/docker/conclave.yaml, which the build needs']);
    });
  });

  describe('docker compose', () => {
    it('runs three nodes, each with its own volume, its own config and the same cluster', () => {
      const compose = composeFile();
      expect(composeProblems(compose, composeConfig, root)).toEqual([]);
      expect(Object.keys(get(compose, 'services') as object)).toEqual(['n1', 'n2', 'n3']);
      const nodes = ['n1', 'n2', 'n3'].map((n) => get(composeConfig(`./compose/${n}.yaml`), 'cluster', 'nodes'));
      expect(nodes).toEqual([nodes[0], nodes[0], nodes[0]]);
      // The anchor's fields reach every service (merge keys resolved).
      for (const n of ['n1', 'n2', 'n3']) expect(get(compose, 'services', n, 'image')).toBe('conclave:0.1.0');
    });

    it('the checks catch a shared volume, a missing config and disagreeing configs', () => {
      const shared = clone(composeFile());
      (get(shared, 'services', 'n2', 'volumes') as string[])[0] = 'n1-data:/data';
      expect(composeProblems(shared, composeConfig, root)).toContain('services share a data volume: n1-data, n1-data, n3-data');
      const missing = clone(composeFile());
      (get(missing, 'services', 'n3', 'volumes') as string[])[1] = './compose/n9.yaml:/etc/conclave/conclave.yaml:ro';
      expect(composeProblems(missing, composeConfig, root)).toContain('n3: config ./compose/n9.yaml does not exist');
      const other = (path: string) => {
        const cfg = clone(composeConfig(path)) as Doc;
        if (path.endsWith('n2.yaml')) (cfg['cluster'] as Doc)['partitions'] = 32;
        return cfg;
      };
      expect(composeProblems(composeFile(), other, root)).toContain('n2 (./compose/n2.yaml): cluster.partitions is 32, but n1 (./compose/n1.yaml) has 64');
    });
  });

  describe('Kubernetes', () => {
    it('has the ConfigMap, the headless and client Services, the StatefulSet and the PodDisruptionBudget, and kustomize lists them all', () => {
      const kinds = k8sDocs().map((d) => String(d['kind'])).sort();
      expect(kinds).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'Service', 'StatefulSet']);
      const listed = (get(loadYaml(join(k8sDir, 'kustomization.yaml'))[0], 'resources') as string[]).slice().sort();
      const files = yamlFilesUnder(k8sDir)
        .map((f) => f.slice(k8sDir.length + 1))
        .filter((f) => f !== 'kustomization.yaml')
        .sort();
      expect(listed).toEqual(files);
    });

    it('fits together: serviceName, probes on /v1/health at the HTTP port, the PDB, the pre-stop drain, the node list from pod names', () => {
      expect(kubernetesProblems(k8sDocs(), CONFIG_PATH)).toEqual([]);
    });

    it('the checks catch a wrong serviceName, a probe elsewhere, a PDB selecting other pods and a node list off the pod names', () => {
      const broken = (edit: (docs: Doc[]) => void): string[] => {
        const docs = clone(k8sDocs());
        edit(docs);
        return kubernetesProblems(docs, CONFIG_PATH);
      };
      const sts = (docs: Doc[]) => docs.find((d) => d['kind'] === 'StatefulSet')!;
      const container = (docs: Doc[]) => (get(sts(docs), 'spec', 'template', 'spec', 'containers') as Doc[])[0]!;
      expect(broken((d) => ((get(sts(d), 'spec') as Doc)['serviceName'] = 'nope'))).toContain("the StatefulSet's serviceName nope names no Service");
      expect(broken((d) => ((get(container(d), 'readinessProbe', 'httpGet') as Doc)['port'] = 'peer'))).toContain('the readiness probe is not on the HTTP port');
      expect(broken((d) => ((get(container(d), 'readinessProbe', 'httpGet') as Doc)['path'] = '/'))).toContain('the readiness probe asks /, not /v1/health');
      expect(
        broken((d) => {
          const pdb = d.find((x) => x['kind'] === 'PodDisruptionBudget')!;
          (get(pdb, 'spec', 'selector') as Doc)['matchLabels'] = { app: 'other' };
        }),
      ).toContain("the PodDisruptionBudget does not select the StatefulSet's pods");
      expect(broken((d) => ((get(sts(d), 'spec') as Doc)['replicas'] = 5))).toEqual(
        expect.arrayContaining(['StatefulSet replicas is 5, want 3', expect.stringMatching(/^cluster.nodes is .* want the stable pod names/)]),
      );
      expect(broken((d) => ((get(container(d), 'lifecycle', 'preStop', 'exec') as Doc)['command'] = ['sleep', '5']))).toContain(
        'the pre-stop hook does not run conclave node drain (runs "sleep 5")',
      );
    });

    // kubectl renders a kustomization offline; where it is installed, it must accept ours.
    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 20_000 });
    it.skipIf(kubectl.status !== 0)(`kubectl kustomize renders the directory${kubectl.status !== 0 ? ' (skipped: kubectl is not installed)' : ''}`, () => {
      const r = spawnSync('kubectl', ['kustomize', k8sDir], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.match(/^kind: /gm)).toHaveLength(5);
    });
  });

  it('cluster checks see configs that disagree or claim the same node', () => {
    const base = { node: 'a:1', http: '0.0.0.0:7070', data_dir: '/data', cluster: { nodes: ['a:1', 'b:1'], replication_factor: 2, partitions: 8, secret_file: '/s' } };
    const b = { ...base, node: 'b:1' };
    expect(clusterProblems([{ name: 'a', cfg: base }, { name: 'b', cfg: b }])).toEqual([]);
    expect(clusterProblems([{ name: 'a', cfg: base }, { name: 'b', cfg: { ...b, cluster: { ...b.cluster, replication_factor: 1 } } }])).toEqual([
      'b: cluster.replication_factor is 1, but a has 2',
    ]);
    expect(clusterProblems([{ name: 'a', cfg: base }, { name: 'b', cfg: base }])).toContain('two configs claim the same node: a:1, a:1');
    expect(configProblems({ ...base, node: 'c:1' }, 'x')).toEqual(['x: node c:1 is not one of cluster.nodes']);
    expect(configProblems({ ...base, cluster: { ...base.cluster, secret_file: undefined } }, 'x')).toEqual([
      'x: cluster.secret_file is required when nodes are not on loopback',
    ]);
  });

  // Where the server is built (adapters/config.ts, compiled into dist/ by the test setup), every
  // config here must also load with the server's own loader, with the flags the deployment passes.
  const serverConfig = join(root, 'dist', 'adapters', 'config.js');
  it.skipIf(!existsSync(serverConfig))(
    `the server's own config loader accepts every config${existsSync(serverConfig) ? '' : ' (skipped: dist/adapters/config.js is not built here)'}`,
    async () => {
      const mod = (await import(pathToFileURL(serverConfig).href)) as { loadConfig?: (flags: Record<string, unknown>, cwd?: string) => { node: string; nodes: readonly string[] } };
      if (typeof mod.loadConfig !== 'function') throw new Error('dist/adapters/config.js has no loadConfig: update this test with the server');
      const load = mod.loadConfig;
      const image = load({ config: join(deploy, 'docker', 'conclave.yaml'), insecure: true });
      expect(image.nodes).toEqual(['127.0.0.1:7100']);
      for (const n of ['n1', 'n2', 'n3']) {
        const cfg = load({ config: join(deploy, 'compose', `${n}.yaml`), insecure: true });
        expect(cfg.node).toBe(`${n}:7100`);
      }
      const cm = k8sDocs().find((d) => d['kind'] === 'ConfigMap')!;
      const tmp = join(mkdtempSync(join(tmpdir(), 'conclave-k8s-')), 'conclave.yaml');
      writeFileSync(tmp, String(get(cm, 'data', 'conclave.yaml')));
      for (const pod of ['conclave-0', 'conclave-1', 'conclave-2']) {
        const cfg = load({ config: tmp, node: `${pod}.conclave-peers:7100` });
        expect(cfg.node).toBe(`${pod}.conclave-peers:7100`);
        expect(cfg.nodes).toHaveLength(3);
      }
    },
  );
});
