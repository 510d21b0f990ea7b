// Child processes of the harness, for real: started with logs to a file, stopped by pid
// (SIGTERM, then SIGKILL after a bound), paused, killed and restarted; and nothing outlives
// the harness, even when it dies of an uncaught error or a SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { livePids, pidExists, ProcessError, ProcessSupervisor, withProcesses } from '../../jepsen/harness/processes.js';
import { waitFor } from './net-helpers.js';

const root = resolve(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'conclave-proc-'));
const node = process.execPath;
const SLEEPER = "console.log('ready ' + process.pid); setInterval(() => {}, 1000);";
const STUBBORN = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('ready'); setInterval(() => {}, 1000);";

let supervisor = new ProcessSupervisor({ termTimeoutMs: 2_000, killTimeoutMs: 2_000 });
afterEach(async () => {
  await supervisor.stopAll();
  supervisor = new ProcessSupervisor({ termTimeoutMs: 2_000, killTimeoutMs: 2_000 });
});
afterAll(() => {
  expect(livePids()).toEqual([]);
});

function spec(name: string, script: string) {
  return { name, command: node, args: ['-e', script], logFile: join(dir, `${name}.log`) };
}

function log(name: string): string {
  const p = join(dir, `${name}.log`);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

/** The state letter of /proc/PID/stat (R, S, T for stopped, Z ...). */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

describe('ProcessSupervisor', () => {
  it('starts a process with its output in the log, stops it with SIGTERM, and the pid is gone', async () => {
    const p = await supervisor.start(spec('s1', SLEEPER));
    expect(pidExists(p.pid)).toBe(true);
    expect(livePids()).toContain(p.pid);
    expect(await waitFor(() => log('s1').includes(`ready ${p.pid}\n`))).toBe(true);
    expect(log('s1')).toMatch(new RegExp(`s1 started, pid ${p.pid}, generation 0`));
    const exit = await supervisor.stop('s1');
    expect(exit.signal).toBe('SIGTERM');
    expect(pidExists(p.pid)).toBe(false);
    expect(livePids()).not.toContain(p.pid);
    expect(supervisor.livePids()).toEqual([]);
  });

  it('escalates to SIGKILL when SIGTERM is ignored past the bound', async () => {
    const p = await supervisor.start(spec('stubborn', STUBBORN));
    // A line of its own: the log's start line quotes the script, which says 'ready' too.
    expect(await waitFor(() => /^ready$/m.test(log('stubborn')))).toBe(true);
    const exit = await supervisor.stop('stubborn', { termTimeoutMs: 300 });
    expect(exit.signal).toBe('SIGKILL');
    expect(log('stubborn')).toContain('ignoring SIGTERM');
    expect(pidExists(p.pid)).toBe(false);
  });

  it('pause freezes the process (SIGSTOP), resume thaws it, and a paused process still stops', async () => {
    const p = await supervisor.start(spec('frozen', SLEEPER));
    supervisor.pause('frozen');
    expect(await waitFor(() => procState(p.pid) === 'T')).toBe(true);
    expect(p.state).toBe('paused');
    supervisor.resume('frozen');
    expect(await waitFor(() => procState(p.pid) !== 'T')).toBe(true);
    expect(p.state).toBe('running');
    supervisor.pause('frozen');
    expect(await waitFor(() => procState(p.pid) === 'T')).toBe(true);
    const exit = await supervisor.stop('frozen');
    expect(exit.signal).toBe('SIGTERM');
    expect(pidExists(p.pid)).toBe(false);
  });

  it('restart: SIGKILL, then the same spec again with a new pid; the log keeps both runs', async () => {
    const first = await supervisor.start(spec('r', SLEEPER));
    expect(await waitFor(() => log('r').includes(`ready ${first.pid}`))).toBe(true);
    const second = await supervisor.restart('r');
    expect(first.exit?.signal).toBe('SIGKILL');
    expect(pidExists(first.pid)).toBe(false);
    expect(second.pid).not.toBe(first.pid);
    expect(supervisor.get('r')).toBe(second);
    expect(supervisor.restarts('r')).toBe(1);
    expect(second.generation).toBe(1);
    expect(await waitFor(() => log('r').includes(`ready ${second.pid}`))).toBe(true);
    expect(log('r')).toContain(`ready ${first.pid}`);
    await supervisor.stop('r');
    expect(pidExists(second.pid)).toBe(false);
  });

  it('stop reaches what the child spawned (its process group)', async () => {
    const p = await supervisor.start({ name: 'sh', command: '/bin/sh', args: ['-c', 'sleep 30 & echo "child $!"; wait'], logFile: join(dir, 'sh.log') });
    expect(await waitFor(() => /child \d+/.test(log('sh')))).toBe(true);
    const grandchild = Number(/child (\d+)/.exec(log('sh'))![1]);
    expect(pidExists(grandchild)).toBe(true);
    await supervisor.stop('sh');
    expect(pidExists(p.pid)).toBe(false);
    expect(await waitFor(() => !pidExists(grandchild) || procState(grandchild) === 'Z')).toBe(true);
  });

  it('refuses what it cannot do, clearly', async () => {
    await expect(supervisor.start({ name: 'nope', command: join(dir, 'no-such-binary'), args: [], logFile: join(dir, 'nope.log') })).rejects.toThrow(
      ProcessError,
    );
    expect(supervisor.livePids()).toEqual([]);
    expect(() => supervisor.get('ghost')).toThrow(/no process named 'ghost'/);
    await supervisor.start(spec('twice', SLEEPER));
    await expect(supervisor.start(spec('twice', SLEEPER))).rejects.toThrow(/already running/);
    await supervisor.stop('twice');
    expect(() => supervisor.pause('twice')).toThrow(/has exited/);
    expect(() => new ProcessSupervisor({ termTimeoutMs: -1 })).toThrow(/termTimeoutMs/);
  });

  it('withProcesses stops everything when the body throws', async () => {
    let pid = 0;
    await expect(
      withProcesses({ termTimeoutMs: 1_000 }, async (s) => {
        pid = (await s.start(spec('w', SLEEPER))).pid;
        throw new Error('the body failed');
      }),
    ).rejects.toThrow('the body failed');
    expect(pid).toBeGreaterThan(0);
    expect(pidExists(pid)).toBe(false);
  });
});

describe('nothing outlives the harness', () => {
  // A small harness in its own process: it starts a sleeper through the compiled module, prints
  // the sleeper's pid, then dies in the way the test asks.
  const harnessScript = (how: 'throw' | 'wait') => `
    const { ProcessSupervisor } = await import(${JSON.stringify(join(root, 'dist', 'jepsen', 'harness', 'processes.js'))});
    const s = new ProcessSupervisor();
    const p = await s.start({ name: 'orphan', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], logFile: ${JSON.stringify(join(dir, 'orphan.log'))} });
    console.log('pid ' + p.pid);
    ${how === 'throw' ? "setTimeout(() => { throw new Error('harness crashed'); }, 50);" : 'setInterval(() => {}, 1000);'}
  `;

  async function runHarness(how: 'throw' | 'wait'): Promise<{ childPid: number; harness: ReturnType<typeof spawn> }> {
    const harness = spawn(node, ['--input-type=module', '-e', harnessScript(how)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    harness.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    expect(await waitFor(() => /pid \d+/.test(out), 10_000)).toBe(true);
    return { childPid: Number(/pid (\d+)/.exec(out)![1]), harness };
  }

  function exited(h: ReturnType<typeof spawn>): Promise<void> {
    return new Promise((resolve) => (h.exitCode !== null || h.signalCode !== null ? resolve() : h.once('exit', () => resolve())));
  }

  it('an uncaught error in the harness takes its children with it', async () => {
    if (!existsSync(join(root, 'dist', 'jepsen', 'harness', 'processes.js'))) throw new Error('dist/ was not built');
    const { childPid, harness } = await runHarness('throw');
    await exited(harness);
    expect(harness.exitCode).not.toBe(0);
    expect(await waitFor(() => !pidExists(childPid))).toBe(true);
  });

  it('a SIGKILL of the harness (no hook runs) still takes its children with it: the reaper sees the pipe close', async () => {
    const { childPid, harness } = await runHarness('wait');
    expect(pidExists(childPid)).toBe(true);
    harness.kill('SIGKILL');
    await exited(harness);
    expect(await waitFor(() => !pidExists(childPid), 10_000, 20)).toBe(true);
  });

  it('a SIGTERM to the harness takes its children with it', async () => {
    const { childPid, harness } = await runHarness('wait');
    expect(pidExists(childPid)).toBe(true);
    harness.kill('SIGTERM');
    await exited(harness);
    expect(harness.signalCode).toBe('SIGTERM');
    expect(await waitFor(() => !pidExists(childPid))).toBe(true);
  });
});
