// mgd in a topology node, for the interoperability tests against FRR, BIRD and GoBGP: a
// configuration written from a small description, the daemon started from the built tree
// (dist/), its JSON log lines parsed, its neighbour status (counters, last transition) read back,
// and the routes it installed in the node's kernel (`proto 199`).
//
// Run as a program (`node dist/test/mgd/interop-support.js CONFIG STATUS_FILE`), this module starts
// mgd exactly as `mgd --config CONFIG --fib linux --log-level debug --flush-on-exit` does (through
// mgd/main.ts runMgd) and, in addition, writes the daemon's neighbour status to STATUS_FILE as JSON
// every 100 ms, and reloads CONFIG on SIGHUP: the counters (ROUTE-REFRESH received, NOTIFICATIONs) are not in the log.

import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import type { ConfigFile } from '../../mgd/config/schema.js';
import type { KernelRoute, Node, Proc } from '../topo/index.js';
import { waitFor } from '../topo/index.js';

// ===== Description =====

/** One mgd neighbour; the session carries the address family of `address` only. */
export interface MgdNeighbor {
  readonly address: string;
  readonly remoteAsn: number;
  readonly gracefulRestart?: boolean;
  readonly passive?: boolean;
}

/** What mgd runs in a node. */
export interface MgdSpec {
  readonly asn: number;
  readonly routerId: string;
  readonly neighbors: readonly MgdNeighbor[];
  readonly originate?: { readonly ipv4?: readonly string[]; readonly ipv6?: readonly string[] };
}

/** The kernel protocol number mgd tags its routes with. */
export const MGD_PROTO = 199;

/** The mgd configuration file for a description: accept-all policies both ways, short timers. */
export function mgdConfig(spec: MgdSpec): ConfigFile {
  return {
    routers: [{ asn: spec.asn, routerId: spec.routerId, listen: { host: '::', port: 179 } }],
    neighbors: spec.neighbors.map((n) => ({
      router: spec.asn,
      address: n.address,
      remoteAsn: n.remoteAsn,
      families: [n.address.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast'],
      holdTime: 9,
      keepaliveTime: 3,
      connectRetryTime: 1,
      idleHoldTime: 1,
      importPolicy: 'all',
      exportPolicy: 'all',
      ...(n.passive === true ? { passive: true } : {}),
      ...(n.gracefulRestart === true ? { gracefulRestart: { enabled: true, restartTime: 60 } } : {}),
    })),
    policies: { all: { statements: [], default: 'accept' } },
    originate: { ipv4: [...(spec.originate?.ipv4 ?? [])], ipv6: [...(spec.originate?.ipv6 ?? [])] },
    fib: { backend: 'linux' },
  };
}

// ===== Running =====

/** The repository: two levels up from test/mgd, three from dist/test/mgd. */
const ROOT = ((): string => {
  const up2 = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  return basename(up2) === 'dist' ? dirname(up2) : up2;
})();
/** This module, built. */
const RUNNER = join(ROOT, 'dist/test/mgd/interop-support.js');

/** null when the built daemon is there, else the one-line reason to skip. */
export function requireBuiltMgd(): string | null {
  if (!existsSync(RUNNER) || !existsSync(join(ROOT, 'dist/mgd/main.js')))
    return `${RUNNER} or dist/mgd/main.js missing (run npx tsc -p . first)`;
  return null;
}

/** One JSON log line of mgd (pino). */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

/** A neighbour as the daemon's status reports it (the fields the tests read). */
export interface MgdNeighborStatus {
  readonly address: string;
  readonly state: string;
  readonly lastTransition?: { from: string; to: string; reason: Record<string, unknown> };
  readonly counters: Record<string, number>;
}

/** A running mgd inside a node. */
export class MgdProcess {
  private proc: Proc;
  private readonly conf: string;
  private readonly statusFile: string;
  readonly logFile: string;

  constructor(
    readonly node: Node,
    readonly spec: MgdSpec,
  ) {
    this.conf = join(node.dir, 'mgd.json');
    this.statusFile = join(node.dir, 'mgd-status.json');
    this.logFile = join(node.dir, 'mgd.log');
    writeFileSync(this.conf, JSON.stringify(mgdConfig(spec), null, 2));
    this.proc = this.launch();
  }

  private launch(): Proc {
    return this.node.spawn(process.execPath, [RUNNER, this.conf, this.statusFile], { logFile: this.logFile });
  }

  /** Wait (bounded) until mgd logs that it runs. */
  async ready(timeoutMs = 15_000): Promise<void> {
    await this.waitLog((l) => l.msg === 'mgd running', 'mgd running', timeoutMs);
  }

  /** Every JSON line logged so far. */
  logs(): LogLine[] {
    if (!existsSync(this.logFile)) return [];
    const out: LogLine[] = [];
    for (const line of readFileSync(this.logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // A line still being written.
      }
    }
    return out;
  }

  /** Wait (bounded) for a log line matching pred, from line number `since` on; returns it. */
  waitLog(pred: (l: LogLine) => boolean, what: string, timeoutMs = 20_000, since = 0): Promise<LogLine> {
    return waitFor(
      () => {
        if (!this.proc.running) throw new Error(`mgd on ${this.node.name} exited; see ${this.logFile}`);
        return this.logs().slice(since).find(pred) ?? null;
      },
      { what: `mgd on ${this.node.name}: ${what}`, timeoutMs, intervalMs: 100 },
    );
  }

  /** The neighbours' status as last written by the daemon. */
  status(): MgdNeighborStatus[] {
    try {
      return JSON.parse(readFileSync(this.statusFile, 'utf8')) as MgdNeighborStatus[];
    } catch {
      return [];
    }
  }

  /** One neighbour's status. */
  neighbor(address: string): MgdNeighborStatus | undefined {
    return this.status().find((n) => n.address.toLowerCase() === address.toLowerCase());
  }

  /** Wait (bounded) until every neighbour (or those named) is Established. */
  async waitEstablished(peers?: readonly string[], timeoutMs = 30_000): Promise<void> {
    const want = peers ?? this.spec.neighbors.map((n) => n.address);
    await waitFor(() => want.every((p) => this.neighbor(p)?.state === 'Established'), {
      what: `mgd on ${this.node.name}: ${want.join(', ')} Established`,
      timeoutMs,
      intervalMs: 100,
    });
  }

  /** The routes mgd installed in the node's kernel. */
  kernelRoutes(family: 4 | 6): Promise<KernelRoute[]> {
    return this.node.routes({ family, proto: MGD_PROTO });
  }

  /** Wait (bounded) until the kernel holds (or, with present false, lacks) every prefix named. */
  async waitKernel(family: 4 | 6, prefixes: readonly string[], present = true, timeoutMs = 20_000) {
    return waitFor(
      async () => {
        const routes = await this.kernelRoutes(family);
        const ok = prefixes.every((p) => routes.some((r) => r.dst === p) === present);
        return ok ? routes : null;
      },
      {
        what: `mgd on ${this.node.name}: kernel ${present ? 'has' : 'lacks'} ${prefixes.join(', ')}`,
        timeoutMs,
        intervalMs: 100,
      },
    );
  }

  /** Originate other prefixes: rewrite the configuration file and reload it (SIGHUP). */
  async setOriginate(originate: NonNullable<MgdSpec['originate']>): Promise<void> {
    const before = this.logs().filter((l) => l.msg === 'configuration reloaded').length;
    writeFileSync(this.conf, JSON.stringify(mgdConfig({ ...this.spec, originate }), null, 2));
    this.proc.signal('SIGHUP');
    await waitFor(() => this.logs().filter((l) => l.msg === 'configuration reloaded').length > before, {
      what: `mgd on ${this.node.name}: configuration reloaded`,
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  }

  /** Stop the daemon (SIGTERM; it flushes its routes). */
  stop(): Promise<void> {
    return this.proc.stop(5_000);
  }
}

/** Start mgd in a node and wait until it runs. */
export async function startMgd(node: Node, spec: MgdSpec): Promise<MgdProcess> {
  const m = new MgdProcess(node, spec);
  node.topology.onDestroy(() => m.stop());
  await m.ready();
  return m;
}

// ===== Program =====

async function runner(conf: string, statusFile: string): Promise<void> {
  const { runMgd } = await import('../../mgd/main.js');
  const log = pino({ level: 'debug', base: { daemon: 'mgd', pid: process.pid } });
  const daemon = await runMgd({ config: conf, fib: 'linux', logLevel: 'debug', flushOnExit: true }, log);
  const tmp = `${statusFile}.tmp`;
  const timer = setInterval(() => {
    writeFileSync(tmp, JSON.stringify(daemon.neighbors()));
    renameSync(tmp, statusFile);
  }, 100);
  const stop = (): void => {
    clearInterval(timer);
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => void daemon.reloadFile(conf));
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  const [conf, statusFile] = process.argv.slice(2);
  if (conf === undefined || statusFile === undefined) {
    process.stderr.write('usage: interop-support.js CONFIG STATUS_FILE\n');
    process.exit(2);
  }
  runner(conf, statusFile).catch((e: unknown) => {
    process.stderr.write(`mgd failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
