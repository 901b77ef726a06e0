// Connected routes: the host's own interface subnets, over which next hops resolve first.
// `MemoryConnectedRoutes` serves tests; `LinuxConnectedRoutes` reads `ip -j addr show` and keeps it
// current by re-reading whenever `ip monitor address link` prints a line (plus a slow periodic
// refresh in case the monitor dies), optionally inside a namespace through a command prefix.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import {
  parseAddr4,
  parseAddr6,
  prefix4,
  prefix6FromAddr,
  type Prefix4,
  type Prefix6,
} from '../wire/ip/index.js';

const execFileP = promisify(execFile);

// ===== Interface =====

/** One connected subnet. */
export type ConnectedRoute =
  | { readonly afi: 4; readonly prefix: Prefix4; readonly ifname: string }
  | { readonly afi: 6; readonly prefix: Prefix6; readonly ifname: string };

/** A source of connected routes and up interfaces. */
export interface ConnectedRoutes {
  /** Current subnets on up interfaces. */
  routes(): readonly ConnectedRoute[];
  /** Names of interfaces that are administratively and operationally up. */
  interfaces(): ReadonlySet<string>;
  /** Register a change callback; returns an unsubscribe. */
  onChange(cb: () => void): () => void;
}

// ===== Memory =====

/** Connected routes held in memory (tests). */
export class MemoryConnectedRoutes implements ConnectedRoutes {
  private list: ConnectedRoute[] = [];
  private ifs = new Set<string>();
  private cbs: (() => void)[] = [];

  routes(): readonly ConnectedRoute[] {
    return this.list;
  }

  interfaces(): ReadonlySet<string> {
    return this.ifs;
  }

  onChange(cb: () => void): () => void {
    this.cbs.push(cb);
    return () => {
      this.cbs = this.cbs.filter((x) => x !== cb);
    };
  }

  /** Replace the whole state and notify. */
  set(routes: readonly ConnectedRoute[], interfaces?: Iterable<string>): void {
    this.list = [...routes];
    this.ifs = new Set(interfaces ?? routes.map((r) => r.ifname));
    for (const cb of this.cbs) cb();
  }
}

// ===== Linux =====

interface IpAddrJson {
  ifname?: string;
  flags?: string[];
  operstate?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

/** Parse `ip -j addr show` output into connected routes and up interfaces. */
export function parseIpAddr(json: string): { routes: ConnectedRoute[]; interfaces: Set<string> } {
  const routes: ConnectedRoute[] = [];
  const interfaces = new Set<string>();
  const links = JSON.parse(json) as IpAddrJson[];
  for (const l of links) {
    if (l.ifname === undefined) continue;
    const up =
      (l.flags ?? []).includes('UP') && l.operstate !== 'DOWN' && (l.flags ?? []).includes('LOWER_UP');
    if (!up) continue;
    interfaces.add(l.ifname);
    for (const a of l.addr_info ?? []) {
      if (a.local === undefined || a.prefixlen === undefined) continue;
      if (a.family === 'inet') {
        const p = parseAddr4(a.local);
        if (p.ok) routes.push({ afi: 4, prefix: prefix4(p.value, a.prefixlen), ifname: l.ifname });
      } else if (a.family === 'inet6') {
        const p = parseAddr6(a.local);
        if (p.ok) routes.push({ afi: 6, prefix: prefix6FromAddr(p.value, a.prefixlen), ifname: l.ifname });
      }
    }
  }
  return { routes, interfaces };
}

/** Options of the Linux reader. */
export interface LinuxConnectedOptions {
  /** Prepended to every `ip` command, e.g. `['nsenter', '-t', pid, '-n']`. */
  readonly commandPrefix?: readonly string[];
  /** Periodic refresh in ms (the monitor triggers refreshes between these). */
  readonly refreshMs?: number;
}

/** Connected routes read from the Linux kernel with iproute2. */
export class LinuxConnectedRoutes implements ConnectedRoutes {
  private state: { routes: ConnectedRoute[]; interfaces: Set<string> } = {
    routes: [],
    interfaces: new Set(),
  };
  private cbs: (() => void)[] = [];
  private monitor: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private lastText = '';

  constructor(private readonly opts: LinuxConnectedOptions = {}) {}

  routes(): readonly ConnectedRoute[] {
    return this.state.routes;
  }

  interfaces(): ReadonlySet<string> {
    return this.state.interfaces;
  }

  onChange(cb: () => void): () => void {
    this.cbs.push(cb);
    return () => {
      this.cbs = this.cbs.filter((x) => x !== cb);
    };
  }

  private cmd(args: string[]): [string, string[]] {
    const full = [...(this.opts.commandPrefix ?? []), 'ip', ...args];
    return [full[0]!, full.slice(1)];
  }

  /** Read the current state once (failing if `ip` cannot be run) and start watching. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.lastError !== undefined) throw this.lastError;
    const [c, a] = this.cmd(['monitor', 'address', 'link']);
    this.monitor = spawn(c, a, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.monitor.stdout?.on('data', () => void this.refresh());
    this.monitor.on('error', () => undefined);
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 10_000);
    this.timer.unref();
  }

  /** The error of the last refresh, if it failed (the previous state is kept). */
  lastError: Error | undefined;

  /** Re-read addresses now (coalesces concurrent calls; never rejects). */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          const [c, a] = this.cmd(['-j', 'addr', 'show']);
          const { stdout } = await execFileP(c, a, { maxBuffer: 64 << 20 });
          this.lastError = undefined;
          if (stdout !== this.lastText) {
            this.lastText = stdout;
            this.state = parseIpAddr(stdout);
            for (const cb of this.cbs) cb();
          }
        } catch (e) {
          this.lastError = e instanceof Error ? e : new Error(String(e));
        }
      } while (this.again);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Stop watching. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.monitor?.kill();
  }
}
