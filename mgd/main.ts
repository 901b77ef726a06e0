#!/usr/bin/env node
// The `mgd` command: flags, the configuration file (or the embedded default), pino JSON logs on
// stdout, the daemon with real TCP and the chosen forwarding table, the read-only admin API
// (mgd/admin.ts) when `--admin-port` is given, SIGHUP to reload the file (validated in full first;
// a bad file changes nothing) and a clean stop on SIGTERM/SIGINT.
//
//   mgd --config /etc/mgd.json [--listen HOST:PORT] [--fib linux|memory|none]
//       [--admin-port PORT [--admin-host ADDR] [--token T]] [--log-level L] [--flush-on-exit]
//   mgd --write-openapi FILE
//
// The admin API binds 127.0.0.1 unless --admin-host says otherwise; any other address needs a
// bearer token (--token or $MGD_TOKEN), as for ddmd.
//
// Without --config it runs the embedded default: AS 65000, router id 10.0.0.1, BGP on
// 127.0.0.1:1790 (unprivileged), no neighbours, originating 192.0.2.0/24, memory FIB.

import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { isLoopbackHost, type AdminServer } from '../lib/admin.js';
import { realClock } from '../lib/clock.js';
import { stableJson } from '../lib/openapi.js';
import { err, ok, type Result } from '../wire/result.js';
import { createMgdAdmin, isAdminHost, mgdOpenApi } from './admin.js';
import { formatConfigErrors, loadConfigFile, validateConfig, type MgdConfig } from './config/load.js';
import { EMBEDDED_DEFAULT_CONFIG } from './config/schema.js';
import { MgdDaemon } from './daemon.js';
import { isEntryPoint } from '../lib/entry.js';

// ===== Command line =====

/** What the command line decides. */
export interface MgdArgs {
  readonly config?: string;
  readonly listen?: { readonly host: string; readonly port: number };
  readonly fib?: 'linux' | 'memory' | 'none';
  readonly logLevel: string;
  readonly flushOnExit: boolean;
  /** Serve the admin API (`--admin-port`); absent: no admin API. */
  readonly admin?: AdminArgs;
}

/** Where the admin API listens, and its bearer token. */
export interface AdminArgs {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
}

/** Run with arguments, write the OpenAPI document, or exit with text (help, a usage error). */
export type MgdCommand =
  | { readonly kind: 'run'; readonly args: MgdArgs }
  | { readonly kind: 'openapi'; readonly out: string }
  | { readonly kind: 'exit'; readonly code: number; readonly text: string };

/** The admin host when `--admin-host` is not given. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `ADDR:PORT`, with `[v6]:port` for IPv6. */
export function parseHostPort(s: string): Result<{ host: string; port: number }, string> {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s);
  if (m === null) return err(`'${s}' is not HOST:PORT (write IPv6 as [::1]:179)`);
  const port = Number(m[2]);
  if (port > 65535) return err(`'${s}': port ${port} is above 65535`);
  return ok({ host: m[1]!, port });
}

/** Parse `mgd` arguments (without the node and script names); `env` supplies $MGD_TOKEN. */
export function parseMgdArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): MgdCommand {
  let out = '';
  const cmd = new Command('mgd')
    .description('lodestone routing daemon: BGP, static routes and the forwarding-table lower half')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => (out += s),
      writeErr: (s) => (out += s),
    })
    .option('--config <file>', 'configuration file (JSON); without it the embedded default runs')
    .option('--listen <host:port>', "BGP listener of the first router (overrides the file's)")
    .addOption(new Option('--fib <backend>', 'forwarding table').choices(['linux', 'memory', 'none']))
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .option('--flush-on-exit', 'remove our routes from the forwarding table on stop', false)
    .option('--admin-port <port>', 'serve the read-only admin API on this TCP port (4676 by convention)')
    .option('--admin-host <addr>', `address of the admin API (default ${DEFAULT_ADMIN_HOST})`)
    .option('--token <token>', 'bearer token for the admin API (required off loopback; or $MGD_TOKEN)')
    .option('--write-openapi <file>', "write the admin API's OpenAPI document to a file and exit");
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { kind: 'exit', code: e.exitCode, text: out };
    throw e;
  }
  const o = cmd.opts<{
    config?: string;
    listen?: string;
    fib?: 'linux' | 'memory' | 'none';
    logLevel: string;
    flushOnExit: boolean;
    adminPort?: string;
    adminHost?: string;
    token?: string;
    writeOpenapi?: string;
  }>();
  const fail = (msg: string): MgdCommand => ({ kind: 'exit', code: 2, text: `mgd: ${msg}\n` });
  if (o.writeOpenapi !== undefined) return { kind: 'openapi', out: o.writeOpenapi };
  const admin = adminArgs(o, env);
  if (!admin.ok) return fail(admin.error);
  let listen: { host: string; port: number } | undefined;
  if (o.listen !== undefined) {
    const hp = parseHostPort(o.listen);
    if (!hp.ok) return fail(`--listen: ${hp.error}`);
    listen = hp.value;
  }
  return {
    kind: 'run',
    args: {
      ...(o.config !== undefined ? { config: o.config } : {}),
      ...(listen !== undefined ? { listen } : {}),
      ...(o.fib !== undefined ? { fib: o.fib } : {}),
      logLevel: o.logLevel,
      flushOnExit: o.flushOnExit,
      ...(admin.value !== undefined ? { admin: admin.value } : {}),
    },
  };
}

/** The admin API flags, checked together; undefined when `--admin-port` is not given. */
function adminArgs(
  o: { adminPort?: string; adminHost?: string; token?: string },
  env: NodeJS.ProcessEnv,
): Result<AdminArgs | undefined, string> {
  if (o.adminPort === undefined) {
    if (o.adminHost !== undefined)
      return err('--admin-host needs --admin-port (the admin API is off without it)');
    if (o.token !== undefined) return err('--token needs --admin-port (the admin API is off without it)');
    return ok(undefined);
  }
  if (!/^\d{1,5}$/.test(o.adminPort) || Number(o.adminPort) > 65535)
    return err(
      `--admin-port: '${o.adminPort}' is not a TCP port; give a whole number from 0 to 65535 (0: any free port, logged)`,
    );
  const port = Number(o.adminPort);
  const host = (o.adminHost ?? DEFAULT_ADMIN_HOST).replace(/^\[(.*)\]$/, '$1');
  if (!isAdminHost(host))
    return err(`--admin-host: '${o.adminHost}' is not an IP address; give one such as 127.0.0.1 or ::1`);
  const token = o.token ?? env.MGD_TOKEN;
  if (o.token === '') return err('--token: the token is empty');
  if (!isLoopbackHost(host) && (token === undefined || token === ''))
    return err(
      `--admin-host ${host} is not a loopback address; give --token (or $MGD_TOKEN) or bind 127.0.0.1`,
    );
  return ok({ host, port, ...(token !== undefined && token !== '' ? { token } : {}) });
}

/** The configuration to run: the file, or the embedded default; `--fib` overrides the backend. */
export async function configFor(args: MgdArgs): Promise<Result<MgdConfig, string>> {
  const r =
    args.config !== undefined ? await loadConfigFile(args.config) : validateConfig(EMBEDDED_DEFAULT_CONFIG);
  if (!r.ok) return err(formatConfigErrors(r.error));
  const c = r.value;
  return ok(args.fib !== undefined ? { ...c, fib: { ...c.fib, backend: args.fib } } : c);
}

// ===== Running =====

/** Start the daemon for parsed arguments; resolves with the running daemon. */
export async function runMgd(args: MgdArgs, log: pino.Logger): Promise<MgdDaemon> {
  if (args.config === undefined) {
    log.info(
      { config: EMBEDDED_DEFAULT_CONFIG },
      'no --config given: running the embedded default (AS 65000, BGP on 127.0.0.1:1790, originating 192.0.2.0/24, memory FIB)',
    );
  }
  const cfg = await configFor(args);
  if (!cfg.ok) throw new Error(`invalid configuration:\n${cfg.error}`);
  const daemon = new MgdDaemon({
    config: cfg.value,
    log,
    ...(args.listen !== undefined ? { listen: args.listen } : {}),
    flushOnExit: args.flushOnExit,
  });
  await daemon.start();
  log.info({ fib: cfg.value.fib.backend, routers: cfg.value.routers.length }, 'mgd running');
  return daemon;
}

/** Serve the admin API of a running daemon; resolves once listening. */
export async function serveMgdAdmin(
  daemon: MgdDaemon,
  admin: AdminArgs,
  log: pino.Logger,
): Promise<AdminServer> {
  const server = createMgdAdmin(daemon, {
    host: admin.host,
    port: admin.port,
    log: log.child({ part: 'admin' }),
    clock: realClock,
    ...(admin.token !== undefined ? { token: admin.token } : {}),
  });
  try {
    const at = await server.listen();
    log.info(at, 'admin API listening');
  } catch (e) {
    await server.close();
    throw e;
  }
  return server;
}

async function main(): Promise<void> {
  const parsed = parseMgdArgs(process.argv.slice(2));
  if (parsed.kind === 'exit') {
    (parsed.code === 0 ? process.stdout : process.stderr).write(parsed.text);
    process.exit(parsed.code);
  }
  if (parsed.kind === 'openapi') {
    writeFileSync(parsed.out, stableJson(mgdOpenApi()));
    process.exit(0);
  }
  const args = parsed.args;
  const log = pino({ level: args.logLevel, base: { daemon: 'mgd', pid: process.pid } });
  let daemon: MgdDaemon;
  let admin: AdminServer | undefined;
  try {
    daemon = await runMgd(args, log);
    try {
      if (args.admin !== undefined) admin = await serveMgdAdmin(daemon, args.admin, log);
    } catch (e) {
      await daemon.stop();
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(`admin API on ${args.admin?.host}:${args.admin?.port}: ${message}`);
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log.fatal({ errors: message.split('\n') }, 'mgd failed to start');
    // Also plainly on stderr: whoever started it from a shell reads what to fix line by line.
    process.stderr.write(`mgd: ${message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    Promise.resolve(admin?.close())
      .then(() => daemon.stop())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ error: e instanceof Error ? e.message : String(e) }, 'error while stopping');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (args.config === undefined) {
      log.warn('SIGHUP ignored: running the embedded default configuration');
      return;
    }
    // The forwarding-table backend is fixed at start; everything else follows the file.
    void daemon.reloadFile(args.config);
  });
}

// Run only when executed as a program (tests import the parsers above).
if (isEntryPoint(import.meta.url)) {
  void main();
}
