// Process plumbing for the topology harness: bounded command execution, long-lived processes
// tracked by PID, bounded waiting, and the check that decides whether topology tests can run here.
//
// Every wait in this module has a deadline; every process it starts can be killed by PID.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

// ===== Bounded execution =====

/** What a finished command produced. */
export interface ExecResult {
  /** Exit code; null when the process died of a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Kill the command and throw after this long (default 15 s). */
  readonly timeoutMs?: number;
  /** Bytes written to the command's stdin (then closed). */
  readonly input?: string;
  /** Throw an ExecError on a non-zero exit code (default false). */
  readonly check?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** A command that exited non-zero (with `check`) or ran past its deadline. */
export class ExecError extends Error {
  constructor(
    message: string,
    readonly argv: readonly string[],
    readonly result: ExecResult | null,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

const DEFAULT_EXEC_TIMEOUT_MS = 15_000;

/** Run argv to completion, capturing output, killed by PID when it overruns its deadline. */
export function execArgv(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new Error('execArgv: empty argv'));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killQuietly(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => errOut.push(b));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ExecError(`${argv.join(' ')}: ${e.message}`, argv, null));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = {
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(errOut).toString('utf8'),
      };
      if (timedOut) {
        reject(new ExecError(`${argv.join(' ')}: timed out after ${timeoutMs} ms`, argv, result));
      } else if (opts.check === true && code !== 0) {
        const why = result.stderr.trim() || result.stdout.trim();
        reject(new ExecError(`${argv.join(' ')}: exit ${code}: ${why}`, argv, result));
      } else {
        resolve(result);
      }
    });
  });
}

// ===== Long-lived processes =====

export interface SpawnOptions {
  /** File receiving stdout and stderr (appended). Default: a file in the topology directory. */
  readonly logFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** A long-lived process started by the harness. */
export class Proc {
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  private done = false;

  constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly argv: readonly string[],
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.done = true;
        resolve(code ?? signal ?? 'unknown');
      });
    });
  }

  /** True while the process has not exited. */
  get running(): boolean {
    return !this.done;
  }

  /** Send a signal; SIGTERM first, SIGKILL after graceMs if still there. Idempotent. */
  async stop(graceMs = 2_000): Promise<void> {
    if (this.done) return;
    killQuietly(this.pid, 'SIGTERM');
    const t = await Promise.race([this.exited.then(() => 'gone'), sleep(graceMs).then(() => 'late')]);
    if (t === 'late') {
      killQuietly(this.pid, 'SIGKILL');
      await Promise.race([this.exited, sleep(2_000)]);
    }
  }

  /** Send one signal without waiting. */
  signal(sig: NodeJS.Signals): void {
    if (!this.done) killQuietly(this.pid, sig);
  }

  /** Detach from the event loop so a forgotten process cannot keep the test runner alive. */
  unref(): void {
    this.child.unref();
  }
}

/** Start argv with stdout+stderr going to logFile. */
export function spawnArgv(argv: readonly string[], logFile: string, opts: SpawnOptions = {}): Proc {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('spawnArgv: empty argv');
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
    if (child.pid === undefined) throw new Error(`spawn ${argv.join(' ')} failed`);
    child.on('error', () => undefined);
    return new Proc(child, child.pid, argv, logFile);
  } finally {
    closeSync(fd);
  }
}

/** kill(2) that ignores ESRCH (already gone). */
export function killQuietly(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** True when a process with this PID exists (and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 after the parenthesised command name is the state; Z is a zombie.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== '';
  } catch {
    return false;
  }
}

// ===== Waiting =====

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Poll interval (default 100 ms). */
  readonly intervalMs?: number;
  /** What is awaited, named in the timeout error. */
  readonly what: string;
}

/** A condition that did not become true in time. */
export class WaitTimeout extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastError: unknown,
  ) {
    const last = lastError === undefined ? '' : `; last error: ${errorText(lastError)}`;
    super(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    this.name = 'WaitTimeout';
  }
}

/** Poll fn until it returns a truthy value (returned), or throw WaitTimeout naming `what`. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitOptions,
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = undefined;
  while (true) {
    try {
      const v = await fn();
      if (v) return v as Exclude<T, false | null | undefined | 0 | ''>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) throw new WaitTimeout(opts.what, timeoutMs, lastError);
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** Resolve after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ===== Can topology tests run here? =====

const EXTRA_PATH = ['/usr/sbin', '/sbin', '/usr/lib/frr'];

/** Absolute path of a binary on PATH (plus sbin and FRR's directory), or null. */
export function findBinary(name: string): string | null {
  if (name.includes('/')) return existsSync(name) ? name : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_PATH];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

let namespaceCheck: string | null | undefined;

/**
 * Why topology tests cannot run here (one line), or null when they can: root, a working
 * `unshare -n`, iproute2, and every binary named.
 */
export function requireRoot(...binaries: string[]): string | null {
  if (process.platform !== 'linux') return 'topology tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'topology tests need root (network namespaces, veth pairs)';
  for (const b of ['unshare', 'nsenter', 'ip', ...binaries]) {
    if (findBinary(b) === null) return `topology tests need the binary '${b}' (scripts/test.sh installs it)`;
  }
  if (namespaceCheck === undefined) {
    const r = spawnSync('unshare', ['-n', 'true'], { timeout: 5_000, encoding: 'utf8' });
    namespaceCheck = r.status === 0 ? null : `cannot create network namespaces: ${r.stderr.trim()}`;
  }
  return namespaceCheck;
}
