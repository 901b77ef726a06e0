#!/usr/bin/env node
// The `ddmd` command: flags, the IPv6 link-local address of each interface, the daemon with its
// real I/O (UDP discovery and probes, HTTP exchange, the Linux FIB through `ip -batch`), the admin
// API and the metrics endpoint, JSON logs on stdout, and a clean stop on SIGTERM/SIGINT.
//
//   ddmd --role server --interface eth0 --interface eth1 --prefix fd00:1::/64
//
// Link-local addresses: RFC 4291 §2.5.6 (fe80::/10). An address is unusable while duplicate
// address detection runs (RFC 4862 §5.4: "tentative"; the kernel flags it IFA_F_TENTATIVE in
// /proc/net/if_inet6), so the daemon waits for it, and names the interface if it never appears.
// Routes stay in the kernel when the daemon stops (graceful restart) unless --flush-on-exit.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pino from 'pino';
import { isLoopbackHost } from '../lib/admin.js';
import { realClock } from '../lib/clock.js';
import { serveMetrics, type MetricsServer } from '../lib/metrics.js';
import { stableJson } from '../lib/openapi.js';
import { RT_PROTO_LODESTONE, type FibBackend } from '../rib/fib/backend.js';
import { DEFAULT_WEIGHT_PARAMS } from './select/weights.js';
import { ResilientLinuxFib } from '../rib/fib/resilient.js';

/**
 * ddmd tags its kernel routes with its own protocol number, one below mgd's, so the two daemons on
 * one host never reconcile away each other's routes.
 */
export const RT_PROTO_DDMD = RT_PROTO_LODESTONE - 1;
import { LinuxFib } from '../rib/fib/linux.js';
import { MemoryFib } from '../rib/fib/memory.js';
import { err, ok, type Result } from '../wire/result.js';
import { formatAddr6, formatPrefix6, parseAddr6, parsePrefix6, type Prefix6 } from '../wire/ip/index.js';
import { createDdmAdmin, ddmOpenApi } from './admin.js';
import { DdmDaemon } from './daemon.js';
import { HttpExchangeIo, UdpDatagramIo } from './io.js';
import { ddmMetrics } from './metrics.js';
import type { DdmRole } from './router.js';
import type { SessionParams } from './session.js';
import { isEntryPoint } from '../lib/entry.js';

// ===== Configuration =====

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Everything the command line decides. */
export interface DdmdConfig {
  readonly role: DdmRole;
  readonly hostname: string;
  readonly interfaces: readonly string[];
  readonly admin: HostPort;
  readonly metrics: HostPort;
  readonly fib: 'linux' | 'memory';
  readonly fibProto: number;
  readonly stateFile?: string;
  readonly token?: string;
  readonly flushOnExit: boolean;
  readonly session: Partial<SessionParams>;
  /** Start-up grace of the lower half after a restart (ms). */
  readonly fibGraceMs: number;
  /** 'resilient' installs multipath routes through resilient nexthop groups; 'none' as plain routes. */
  readonly nexthopGroups: 'resilient' | 'none';
  /** 'equal' installs every next hop with the same weight (what Maghemite does), for comparison. */
  readonly weights: 'delay' | 'equal';
  readonly logLevel: string;
  readonly prefixes: readonly Prefix6[];
  readonly addrWaitMs: number;
}

/** What the command line asks for: run, write the OpenAPI document, or exit with text. */
export type DdmdCommand =
  | { readonly kind: 'run'; readonly config: DdmdConfig }
  | { readonly kind: 'openapi'; readonly out: string }
  | { readonly kind: 'exit'; readonly code: number; readonly text: string };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `ADDR:PORT` with `[v6]:port` for IPv6. */
export function parseHostPort(s: string): Result<HostPort, string> {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s);
  if (m === null) return err(`'${s}' is not ADDR:PORT (write IPv6 as [::1]:8000)`);
  const port = Number(m[2]);
  if (port > 65535) return err(`'${s}': port ${port} is above 65535`);
  return ok({ host: m[1]!, port });
}

function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new InvalidArgumentError(`It must be a whole number from ${min} to ${max}.`);
    }
    return Number(v);
  };
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

function program(): Command {
  return new Command('ddmd')
    .description('Delay-Driven Multipath routing daemon')
    .addOption(
      new Option('--role <role>', 'server (sled) or transit (switch)').choices(['server', 'transit']),
    )
    .option('--hostname <name>', 'hostname announced to neighbours', os.hostname())
    .option('--interface <ifname>', 'interface to run on (repeat for each)', collect)
    .option('--prefix <prefix>', 'IPv6 prefix to originate (repeat for each)', collect)
    .option('--admin <addr:port>', 'admin API address', '127.0.0.1:8000')
    .option('--metrics <addr:port>', 'Prometheus metrics address', '127.0.0.1:8001')
    .addOption(new Option('--fib <backend>', 'where routes go').choices(['linux', 'memory']).default('linux'))
    .option(
      '--fib-proto <n>',
      `route protocol number routes are tagged with (default ${RT_PROTO_DDMD})`,
      intArg(1, 255),
    )
    .option('--state-file <path>', 'file keeping originated prefixes and tunnel endpoints across restarts')
    .option('--token <token>', 'bearer token for the admin API (required off loopback; or $DDMD_TOKEN)')
    .option('--flush-on-exit', 'remove our routes from the kernel when stopping', false)
    .option('--solicit-interval <ms>', 'discovery solicitation interval', intArg(10))
    .option('--expiry <ms>', 'forget a neighbour not heard from for this long', intArg(10))
    .option('--probe-interval <ms>', 'delay probe interval', intArg(1))
    .option('--dead-after <n>', 'lost probes in a row that take a neighbour down', intArg(1, 1000))
    .option('--addr-wait <ms>', "how long to wait for an interface's link-local address", intArg(0))
    .option(
      '--fib-grace <ms>',
      'after a restart, keep the routes left in the kernel this long while they are relearned (default 30000)',
      intArg(0),
    )
    .addOption(
      new Option(
        '--nexthop-groups <kind>',
        'linux: multipath routes through resilient nexthop groups (existing flows stay put) or plain',
      )
        .choices(['resilient', 'none'])
        .default('resilient'),
    )
    .addOption(
      new Option('--weights <mode>', 'delay-driven weights, or equal weights as plain ECMP (for comparison)')
        .choices(['delay', 'equal'])
        .default('delay'),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .option('--write-openapi <file>', "write the admin API's OpenAPI document to a file and exit")
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false);
}

interface RawOptions {
  fibGrace?: number;
  weights: 'delay' | 'equal';
  nexthopGroups: 'resilient' | 'none';
  role?: DdmRole;
  hostname: string;
  interface?: string[];
  prefix?: string[];
  admin: string;
  metrics: string;
  fib: 'linux' | 'memory';
  fibProto?: number;
  stateFile?: string;
  token?: string;
  flushOnExit: boolean;
  solicitInterval?: number;
  expiry?: number;
  probeInterval?: number;
  deadAfter?: number;
  addrWait?: number;
  logLevel: string;
  writeOpenapi?: string;
}

/** Interpret the command line (without the node and script arguments). */
export function parseDdmdArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DdmdCommand {
  let out = '';
  let errText = '';
  const cmd = program()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => (out += s),
      writeErr: (s) => (errText += s),
      outputError: (s, write) => write(s),
    });
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0) return { kind: 'exit', code: 0, text: out };
    const line = (errText.split('\n').find((l) => l.trim() !== '') ?? e.message).trim();
    return { kind: 'exit', code: 2, text: `ddmd: ${line.replace(/^error: /, '')}\n` };
  }
  const o = cmd.opts<RawOptions>();
  const fail = (msg: string): DdmdCommand => ({ kind: 'exit', code: 2, text: `ddmd: ${msg}\n` });
  if (o.writeOpenapi !== undefined) return { kind: 'openapi', out: o.writeOpenapi };
  if (o.role === undefined) return fail('--role is required (server or transit)');
  const interfaces = o.interface ?? [];
  if (interfaces.length === 0) return fail('give at least one --interface');
  const dup = interfaces.find((x, i) => interfaces.indexOf(x) !== i);
  if (dup !== undefined) return fail(`--interface ${dup} is given twice`);
  const admin = parseHostPort(o.admin);
  if (!admin.ok) return fail(`--admin: ${admin.error}`);
  const metrics = parseHostPort(o.metrics);
  if (!metrics.ok) return fail(`--metrics: ${metrics.error}`);
  const token = o.token ?? env.DDMD_TOKEN;
  if (!isLoopbackHost(admin.value.host) && (token === undefined || token === '')) {
    return fail(
      `--admin ${o.admin} is not a loopback address; give --token (or $DDMD_TOKEN) or bind 127.0.0.1`,
    );
  }
  const prefixes: Prefix6[] = [];
  for (const text of o.prefix ?? []) {
    const p = parsePrefix6(text, 'reject');
    if (!p.ok) return fail(`--prefix: ${p.error}`);
    prefixes.push(p.value);
  }
  if (o.hostname === '' || Buffer.byteLength(o.hostname) > 255)
    return fail('--hostname must be 1 to 255 bytes');
  const session: Partial<SessionParams> = {
    ...(o.solicitInterval !== undefined ? { solicitIntervalMs: o.solicitInterval } : {}),
    ...(o.expiry !== undefined ? { expiryMs: o.expiry } : {}),
    ...(o.probeInterval !== undefined ? { probeIntervalMs: o.probeInterval } : {}),
    ...(o.deadAfter !== undefined ? { deadAfter: o.deadAfter } : {}),
  };
  return {
    kind: 'run',
    config: {
      role: o.role,
      hostname: o.hostname,
      interfaces,
      admin: admin.value,
      metrics: metrics.value,
      fib: o.fib,
      fibProto: o.fibProto ?? RT_PROTO_DDMD,
      ...(o.stateFile !== undefined ? { stateFile: o.stateFile } : {}),
      ...(token !== undefined && token !== '' ? { token } : {}),
      flushOnExit: o.flushOnExit,
      session,
      weights: o.weights,
      nexthopGroups: o.nexthopGroups,
      logLevel: o.logLevel,
      prefixes,
      addrWaitMs: o.addrWait ?? 10_000,
      fibGraceMs: o.fibGrace ?? 30_000,
    },
  };
}

// ===== Link-local addresses =====

/** One IPv6 address of an interface as the kernel reports it. */
export interface IfAddr6 {
  readonly ifname: string;
  readonly addr: string;
  readonly linkLocal: boolean;
  /** Duplicate address detection is still running (or failed): not usable yet. */
  readonly tentative: boolean;
}

const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;

/** Parse /proc/net/if_inet6: `address(32 hex) ifindex prefixlen scope flags name` per line. */
export function parseIfInet6(text: string): IfAddr6[] {
  const out: IfAddr6[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    const a = parseAddr6(f[0]!.match(/.{4}/g)!.join(':'));
    if (!a.ok) continue;
    const addr = formatAddr6(a.value);
    const scope = parseInt(f[3]!, 16);
    const flags = parseInt(f[4]!, 16);
    out.push({
      ifname: f[5]!,
      addr,
      linkLocal: scope === 0x20,
      tentative: (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) !== 0,
    });
  }
  return out;
}

/** The IPv6 addresses of every interface: /proc/net/if_inet6 where it exists, else os.networkInterfaces(). */
export function readIfAddrs(): IfAddr6[] {
  if (existsSync('/proc/net/if_inet6')) return parseIfInet6(readFileSync('/proc/net/if_inet6', 'utf8'));
  const out: IfAddr6[] = [];
  for (const [ifname, list] of Object.entries(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv6') continue;
      const addr = a.address.split('%')[0]!;
      out.push({ ifname, addr, linkLocal: /^fe[89ab]/i.test(addr), tentative: false });
    }
  }
  return out;
}

/** Wait until `ifname` has a usable link-local address; fails naming the interface and the reason. */
export async function findLinkLocal(
  ifname: string,
  opts: { waitMs: number; pollMs?: number; read?: () => IfAddr6[]; exists?: (ifname: string) => boolean },
): Promise<string> {
  const read = opts.read ?? readIfAddrs;
  const exists =
    opts.exists ?? ((n: string) => existsSync(`/sys/class/net/${n}`) || n in os.networkInterfaces());
  const deadline = Date.now() + opts.waitMs;
  for (;;) {
    const mine = read().filter((a) => a.ifname === ifname && a.linkLocal);
    const usable = mine.find((a) => !a.tentative);
    if (usable !== undefined) return usable.addr;
    if (Date.now() >= deadline) {
      const why = !exists(ifname)
        ? 'the interface does not exist'
        : mine.length > 0
          ? `its link-local address ${mine[0]!.addr} is still tentative (duplicate address detection has not finished or failed)`
          : 'it has no IPv6 link-local address (is it down, or is IPv6 disabled on it?)';
      throw new Error(`interface ${ifname}: ${why} after waiting ${opts.waitMs} ms`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}

// ===== Running =====

/** A running ddmd: its daemon, where the servers listen, and how to stop it. */
export interface RunningDdmd {
  readonly daemon: DdmDaemon;
  readonly admin: HostPort;
  readonly metrics: HostPort;
  stop(): Promise<void>;
}

/** Start ddmd with a configuration; the caller decides when to stop. */
export async function runDdmd(cfg: DdmdConfig, log: pino.Logger): Promise<RunningDdmd> {
  const interfaces = [];
  for (const name of cfg.interfaces) {
    interfaces.push({ name, addr: await findLinkLocal(name, { waitMs: cfg.addrWaitMs }) });
  }
  log.info({ interfaces }, 'link-local addresses');
  // Multipath routes go through resilient nexthop groups, so weight changes move only idle flows.
  const fib: FibBackend =
    cfg.fib === 'memory'
      ? new MemoryFib()
      : cfg.nexthopGroups === 'resilient'
        ? new ResilientLinuxFib({ proto: cfg.fibProto })
        : new LinuxFib({ proto: cfg.fibProto });
  const d = new DdmDaemon({
    hostname: cfg.hostname,
    role: cfg.role,
    interfaces,
    clock: realClock,
    datagrams: new UdpDatagramIo(),
    exchange: new HttpExchangeIo(),
    fib,
    session: cfg.session,
    fibStartupGraceMs: cfg.fibGraceMs,
    // Equal weights: every delay difference counts as noise, so all next hops weigh the same.
    ...(cfg.weights === 'equal'
      ? { router: { weights: { ...DEFAULT_WEIGHT_PARAMS, toleranceUs: Number.MAX_SAFE_INTEGER } } }
      : {}),
    log: log.child({ component: 'ddm' }),
    ...(cfg.stateFile !== undefined ? { stateFile: cfg.stateFile } : {}),
  });
  await d.start();
  const added = d.originate(cfg.prefixes);
  if (added.length > 0)
    log.info({ prefixes: added.map(formatPrefix6) }, 'originating prefixes from the command line');
  const admin = createDdmAdmin(d, {
    host: cfg.admin.host,
    port: cfg.admin.port,
    log: log.child({ component: 'admin' }),
    clock: realClock,
    ...(cfg.token !== undefined ? { token: cfg.token } : {}),
  });
  let metrics: MetricsServer | undefined;
  try {
    const a = await admin.listen();
    log.info(a, 'admin API listening');
    metrics = await serveMetrics(ddmMetrics(d, log), { ...cfg.metrics, log });
  } catch (e) {
    await admin.close();
    await d.stop();
    throw e;
  }
  const adminAt = admin.app.server.address();
  const m = metrics;
  return {
    daemon: d,
    admin:
      typeof adminAt === 'object' && adminAt !== null
        ? { host: adminAt.address, port: adminAt.port }
        : cfg.admin,
    metrics: { host: m.host, port: m.port },
    async stop() {
      await admin.close();
      await m.close();
      await d.stop({ flush: cfg.flushOnExit });
      await fib.close();
    },
  };
}

/** The whole command: returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const c = parseDdmdArgs(argv);
  if (c.kind === 'exit') {
    (c.code === 0 ? process.stdout : process.stderr).write(c.text);
    return c.code;
  }
  if (c.kind === 'openapi') {
    writeFileSync(c.out, stableJson(ddmOpenApi()));
    return 0;
  }
  const cfg = c.config;
  const log = pino({ level: cfg.logLevel, base: { name: 'ddmd', hostname: cfg.hostname, pid: process.pid } });
  let running: RunningDdmd;
  try {
    running = await runDdmd(cfg, log);
  } catch (e) {
    log.fatal({ error: (e as Error).message }, 'ddmd failed to start');
    process.stderr.write(`ddmd: ${(e as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        // A second signal while stopping: leave at once.
        log.warn({ signal: sig }, 'second signal; exiting without waiting');
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal: sig, flush: cfg.flushOnExit }, 'stopping');
      running.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ error: (e as Error).message }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`ddmd: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
