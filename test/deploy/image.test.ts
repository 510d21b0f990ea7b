// Builds the container image, where a container engine runs (docker, else podman), and looks
// at what came out: the CLI runs inside it as the unprivileged user, with the health check and
// the /data volume in the image's config. Skipped, saying why, where no engine answers.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');

function engineThatRuns(): { engine: string | undefined; why: string } {
  const reasons: string[] = [];
  for (const engine of ['docker', 'podman']) {
    const r = spawnSync(engine, ['info'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0) return { engine, why: '' };
    const err = r.error !== undefined ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : `exit ${r.status}`;
    reasons.push(`\`${engine} info\` failed (${err === 'ENOENT' ? 'not installed' : err})`);
  }
  return { engine: undefined, why: reasons.join(', ') };
}

const { engine, why } = engineThatRuns();
if (engine === undefined) process.stderr.write(`test/deploy/image.test.ts: image build skipped: ${why}\n`);
const tag = `conclave:test-${process.pid}`;

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(engine!, args, { cwd: root, encoding: 'utf8', timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe.skipIf(engine === undefined)(`container image${engine === undefined ? ` (skipped: ${why})` : ` (${engine})`}`, () => {
  afterAll(() => {
    if (engine !== undefined) run('rmi', '-f', tag);
  });

  it('builds, runs the CLI as uid 10001, and declares the health check and the /data volume', () => {
    const built = run('build', '-t', tag, '.');
    expect(built.status, built.stderr.slice(-4000)).toBe(0);

    const help = run('run', '--rm', '--entrypoint', 'conclave', tag, '--help');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/usage: conclave <command>/);

    const id = run('run', '--rm', '--entrypoint', 'id', tag, '-u');
    expect(id.stdout.trim()).toBe('10001');

    const inspect = run('image', 'inspect', tag, '--format', '{{json .Config}}');
    expect(inspect.status, inspect.stderr).toBe(0);
    const config = JSON.parse(inspect.stdout) as { Healthcheck?: { Test?: string[] }; Volumes?: Record<string, unknown>; User?: string; Entrypoint?: string[] };
    expect(config.User).toBe('10001:10001');
    expect(Object.keys(config.Volumes ?? {})).toContain('/data');
    expect((config.Healthcheck?.Test ?? []).join(' ')).toContain('http://127.0.0.1:7070/v1/health');
    expect(config.Entrypoint?.slice(-4)).toEqual(['conclave', 'server', '--config', '/etc/conclave/conclave.yaml']);
  }, 900_000);
});

// The 3-node compose cluster, where the engine has compose: up, all three healthy, a write on
// n1 read back on n3, down with its volumes. Host ports 7071..7073 must be free.
const compose = engine !== undefined && spawnSync(engine, ['compose', 'version'], { encoding: 'utf8', timeout: 20_000 }).status === 0;
const composeWhy = engine === undefined ? why : `\`${engine} compose version\` failed`;

describe.skipIf(!compose)(`compose cluster${compose ? '' : ` (skipped: ${composeWhy})`}`, () => {
  const project = `conclave-test-${process.pid}`;
  const secret = join(root, 'deploy', 'compose', 'cluster-secret');
  const madeSecret = !existsSync(secret);
  const dc = (...args: string[]) => run('compose', '-p', project, '-f', join(root, 'deploy', 'docker-compose.yml'), ...args);

  afterAll(() => {
    dc('down', '-v', '--timeout', '30');
    if (madeSecret) rmSync(secret, { force: true });
  });

  it('starts three healthy nodes that serve one cluster', async () => {
    if (madeSecret) writeFileSync(secret, randomBytes(32).toString('hex'), { mode: 0o644 });
    const up = dc('up', '-d', '--build');
    expect(up.status, up.stderr.slice(-4000)).toBe(0);
    // Bounded: at most 90 polls, 2 s apart.
    let healthy = 0;
    for (let i = 0; i < 90 && healthy < 3; i++) {
      const ps = dc('ps', '--format', '{{.Service}} {{.Health}}');
      healthy = ps.stdout.split('\n').filter((l) => / healthy$/.test(l.trim())).length;
      if (healthy < 3) await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(healthy, dc('logs', '--tail', '50').stdout).toBe(3);
    const put = await fetch('http://127.0.0.1:7071/v1/kv/compose-test', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'hello' }) });
    expect(put.status).toBe(200);
    const got = await fetch('http://127.0.0.1:7073/v1/kv/compose-test');
    expect(got.status).toBe(200);
    expect(((await got.json()) as { value: unknown }).value).toBe('hello');
  }, 900_000);
});

