// Child processes of the real-process harness: start a node with its output in a log file,
// stop it by pid (SIGTERM, then SIGKILL after a bound), pause and resume it (SIGSTOP /
// SIGCONT), kill and restart it on the same data dir.
//
// Nothing may outlive the harness. Every pid started is tracked in one registry for this
// process; an `exit` hook (which also runs after an uncaught exception) SIGKILLs whatever is
// still alive, and SIGINT / SIGTERM / SIGHUP do the same before the signal's usual effect.
// Each child leads its own process group, so a signal reaches anything it spawned too, and a
// Ctrl-C on the terminal reaches the harness (which then stops the children) rather than
// racing it. No hook runs when the harness itself is SIGKILLed, so a small reaper process
// (started with the first child, in its own process group) holds a pipe from the harness and
// the list of live pids; when the pipe closes, however the harness ended, it SIGKILLs them.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ProcessSpec {
  /** Names the process in logs and errors, e.g. "n1". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Added to (and overriding) the harness's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** stdout and stderr are appended here (the directory is created). */
  readonly logFile: string;
}

export type ProcessState = 'running' | 'paused' | 'exited';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Bounds of a stop: how long SIGTERM may take before SIGKILL, and SIGKILL before giving up. */
export interface StopBounds {
  readonly termTimeoutMs?: number;
  readonly killTimeoutMs?: number;
}

export const TERM_TIMEOUT_MS_DEFAULT = 5_000;
export const KILL_TIMEOUT_MS_DEFAULT = 5_000;
/** A process that has not announced `spawn` within this bound failed to start. */
export const SPAWN_TIMEOUT_MS = 10_000;

export class ProcessError extends Error {
  override readonly name = 'ProcessError';
}

// ---- the registry of every live child of this process, and the hooks that clean it up ----

const live = new Map<number, string>();
let hooksInstalled = false;

/**
 * The reaper, run as `node -e REAPER_SCRIPT`: reads "+PID" / "-PID" lines on stdin and, when
 * stdin ends (the harness exited or was killed), SIGKILLs every process group still listed.
 * It also polls its parent, in case the pipe outlives it. Inline, so it runs from sources
 * and from dist/ alike.
 */
const REAPER_SCRIPT = `
const pids = new Set();
const parent = Number(process.argv[1]);
let buf = '';
const reap = () => {
  for (const pid of pids) { try { process.kill(-pid, 'SIGKILL'); } catch {} }
  process.exit(0);
};
process.stdin.on('data', (b) => {
  buf += b.toString();
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (line[0] === '+') pids.add(pid); else if (line[0] === '-') pids.delete(pid);
  }
});
process.stdin.on('end', reap);
process.stdin.on('error', reap);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
setInterval(() => { try { process.kill(parent, 0); } catch { reap(); } }, 1000);
`;

let reaper: ChildProcess | undefined;

function reaperSend(line: string): void {
  if (reaper === undefined) {
    reaper = spawn(process.execPath, ['-e', REAPER_SCRIPT, String(process.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    // Neither the reaper nor its pipe may keep the harness's event loop alive.
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    reaper.stdin?.on('error', () => undefined);
    reaper.once('exit', () => {
      reaper = undefined;
      // A reaper that died (it should not) is replaced, with the pids still alive.
      if (live.size > 0) for (const pid of live.keys()) reaperSend(`+${pid}`);
    });
  }
  reaper.stdin?.write(`${line}\n`);
}

/** The reaper's pid, once started (for tests). */
export function reaperPid(): number | undefined {
  return reaper?.pid;
}

function track(pid: number, name: string): void {
  live.set(pid, name);
  reaperSend(`+${pid}`);
}

function untrack(pid: number): void {
  if (!live.delete(pid)) return;
  reaperSend(`-${pid}`);
}
const GUARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function signalGroup(pid: number, signal: NodeJS.Signals, groupOnly = false): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    if (groupOnly) return false;
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** SIGKILL every tracked child now (synchronous: safe in an `exit` hook). Returns the pids hit. */
export function killAllSync(): number[] {
  const hit: number[] = [];
  for (const pid of [...live.keys()]) {
    if (signalGroup(pid, 'SIGKILL')) hit.push(pid);
    untrack(pid);
  }
  return hit;
}

function onSignal(signal: NodeJS.Signals): void {
  killAllSync();
  process.removeListener(signal, onSignal);
  // With no other listener left, the signal's default action (terminate) is what the user asked for.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const s of GUARDED_SIGNALS) process.on(s, onSignal);
}

/** The pids of every child started by any supervisor of this process and not yet reaped. */
export function livePids(): number[] {
  return [...live.keys()];
}

/** True while `pid` names a process (a reaped child's pid is gone). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function timeout(ms: number): { promise: Promise<'timeout'>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

function logLine(fd: number, text: string): void {
  try {
    writeSync(fd, `--- ${new Date().toISOString()} ${text} ---\n`);
  } catch {
    // the log is best effort; the process itself matters
  }
}

/** One started child. Restarting creates a new ManagedProcess with the same spec. */
export class ManagedProcess {
  private stateNow: ProcessState = 'running';
  private exitInfo: ProcessExit | undefined;
  readonly exited: Promise<ProcessExit>;

  constructor(
    readonly spec: ProcessSpec,
    readonly pid: number,
    private readonly child: ChildProcess,
    /** How many restarts came before this one (0 for the first start). */
    readonly generation: number,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.stateNow = 'exited';
        this.exitInfo = { code, signal };
        untrack(pid);
        // Anything the child left in its group goes with it (the group only: the pid itself is
        // reaped and could be reused).
        signalGroup(pid, 'SIGKILL', true);
        resolve(this.exitInfo);
      });
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get state(): ProcessState {
    return this.stateNow;
  }

  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** Send a signal to the child's whole process group; false when it is already gone. */
  signal(signal: NodeJS.Signals): boolean {
    if (this.stateNow === 'exited') return false;
    const ok = signalGroup(this.pid, signal);
    if (ok && signal === 'SIGSTOP') this.stateNow = 'paused';
    if (ok && signal === 'SIGCONT') this.stateNow = 'running';
    return ok;
  }

  /** Waits at most `ms` for the exit; undefined when it did not come. */
  async waitExit(ms: number): Promise<ProcessExit | undefined> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    const t = timeout(ms);
    const r = await Promise.race([this.exited, t.promise]);
    t.cancel();
    return r === 'timeout' ? undefined : r;
  }

  /** Detach the parent's handles so a live child does not keep the harness's event loop alive. */
  unref(): void {
    this.child.unref();
  }
}

export interface SupervisorOptions extends StopBounds {}

/** Starts, stops, pauses, kills and restarts the harness's child processes. */
export class ProcessSupervisor {
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly restartCounts = new Map<string, number>();
  private readonly termTimeoutMs: number;
  private readonly killTimeoutMs: number;

  constructor(options: SupervisorOptions = {}) {
    this.termTimeoutMs = options.termTimeoutMs ?? TERM_TIMEOUT_MS_DEFAULT;
    this.killTimeoutMs = options.killTimeoutMs ?? KILL_TIMEOUT_MS_DEFAULT;
    for (const [k, v] of [['termTimeoutMs', this.termTimeoutMs], ['killTimeoutMs', this.killTimeoutMs]] as const) {
      if (!Number.isFinite(v) || v < 0 || v > 600_000) throw new ProcessError(`${k} must be in 0..600000 ms, got ${v}`);
    }
  }

  /** The current process of that name (the latest start or restart). */
  get(name: string): ManagedProcess {
    const p = this.processes.get(name);
    if (p === undefined) throw new ProcessError(`no process named '${name}' (known: ${[...this.processes.keys()].join(', ') || 'none'})`);
    return p;
  }

  all(): ManagedProcess[] {
    return [...this.processes.values()];
  }

  /** Restarts per name so far (for results.json). */
  restarts(name: string): number {
    return this.restartCounts.get(name) ?? 0;
  }

  /** Spawn the process; resolves once it runs (rejects when it cannot start, e.g. no such command). */
  async start(spec: ProcessSpec): Promise<ManagedProcess> {
    const existing = this.processes.get(spec.name);
    if (existing !== undefined && existing.state !== 'exited') {
      throw new ProcessError(`'${spec.name}' is already running (pid ${existing.pid})`);
    }
    installHooks();
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      const pid = child.pid;
      if (pid !== undefined) track(pid, spec.name);
      const t = timeout(SPAWN_TIMEOUT_MS);
      const started = await Promise.race([
        new Promise<'spawn'>((resolve) => child.once('spawn', () => resolve('spawn'))),
        new Promise<Error>((resolve) => child.once('error', (err) => resolve(err))),
        t.promise,
      ]);
      t.cancel();
      if (started !== 'spawn' || pid === undefined) {
        if (pid !== undefined) {
          signalGroup(pid, 'SIGKILL');
          untrack(pid);
        }
        const why = started instanceof Error ? started.message : started === 'timeout' ? `no spawn within ${SPAWN_TIMEOUT_MS} ms` : 'no pid';
        logLine(fd, `${spec.name} failed to start: ${why}`);
        throw new ProcessError(`cannot start '${spec.name}' (${spec.command}): ${why}`);
      }
      const generation = existing === undefined ? 0 : this.restarts(spec.name);
      logLine(fd, `${spec.name} started, pid ${pid}, generation ${generation}: ${spec.command} ${spec.args.join(' ')}`);
      const p = new ManagedProcess(spec, pid, child, generation);
      this.processes.set(spec.name, p);
      return p;
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
  }

  /**
   * Stop by pid: SIGTERM (and SIGCONT, so a paused process can act on it), wait up to
   * termTimeoutMs, then SIGKILL and wait up to killTimeoutMs. Throws if the pid survives both.
   */
  async stop(name: string, bounds: StopBounds = {}): Promise<ProcessExit> {
    const p = this.get(name);
    if (p.exit !== undefined) return p.exit;
    const termMs = bounds.termTimeoutMs ?? this.termTimeoutMs;
    p.signal('SIGTERM');
    p.signal('SIGCONT');
    const graceful = await p.waitExit(termMs);
    if (graceful !== undefined) return graceful;
    return this.kill(name, bounds);
  }

  /** SIGKILL now and wait for the exit (a crash: no chance to flush anything). */
  async kill(name: string, bounds: StopBounds = {}): Promise<ProcessExit> {
    const p = this.get(name);
    if (p.exit !== undefined) return p.exit;
    const killMs = bounds.killTimeoutMs ?? this.killTimeoutMs;
    p.signal('SIGKILL');
    const e = await p.waitExit(killMs);
    if (e === undefined) throw new ProcessError(`'${name}' (pid ${p.pid}) is still alive ${killMs} ms after SIGKILL`);
    return e;
  }

  /** SIGSTOP: the process stays, frozen, sockets open, until resume. */
  pause(name: string): void {
    const p = this.get(name);
    if (p.state === 'exited') throw new ProcessError(`cannot pause '${name}': it has exited`);
    if (!p.signal('SIGSTOP')) throw new ProcessError(`cannot pause '${name}' (pid ${p.pid}): signal failed`);
  }

  /** SIGCONT after a pause. */
  resume(name: string): void {
    const p = this.get(name);
    if (p.state === 'exited') throw new ProcessError(`cannot resume '${name}': it has exited`);
    if (!p.signal('SIGCONT')) throw new ProcessError(`cannot resume '${name}' (pid ${p.pid}): signal failed`);
  }

  /** SIGKILL, then start again with the same spec (same data dir, same log file, appended). */
  async restart(name: string, bounds: StopBounds = {}): Promise<ManagedProcess> {
    const p = this.get(name);
    await this.kill(name, bounds);
    this.restartCounts.set(name, this.restarts(name) + 1);
    return this.start(p.spec);
  }

  /** Stop every process this supervisor started (in parallel, each bounded). */
  async stopAll(bounds: StopBounds = {}): Promise<void> {
    const results = await Promise.allSettled(this.all().map((p) => this.stop(p.name, bounds)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw new ProcessError(failed.map((f) => String(f.reason instanceof Error ? f.reason.message : f.reason)).join('; '));
  }

  /** Pids of this supervisor's processes that have not exited. */
  livePids(): number[] {
    return this.all().filter((p) => p.state !== 'exited').map((p) => p.pid);
  }
}

/**
 * Run `body` with a supervisor and stop everything it started afterwards, whether `body`
 * returned or threw; a failure to stop is reported after the body's own error.
 */
export async function withProcesses<T>(options: SupervisorOptions, body: (s: ProcessSupervisor) => Promise<T>): Promise<T> {
  const supervisor = new ProcessSupervisor(options);
  let result: T;
  try {
    result = await body(supervisor);
  } catch (err) {
    try {
      await supervisor.stopAll();
    } catch (stopErr) {
      throw new AggregateError([err, stopErr], `${err instanceof Error ? err.message : String(err)}; and stopping failed: ${(stopErr as Error).message}`);
    }
    throw err;
  }
  await supervisor.stopAll();
  return result;
}
