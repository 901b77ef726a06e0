#!/usr/bin/env node
// ddmadm: the command line client of the ddmd admin API (ddmd/admin.ts), close to Maghemite's
// ddmadm (get-peers, get-prefixes, advertise-prefixes, …) with shorter names, tables that show
// the delay measurements, `watch`, and `--json` for the raw responses.
//
//   ddmadm peers            ddmadm originate fd00:1::/64       ddmadm sync
//   ddmadm prefixes         ddmadm withdraw fd00:1::/64        ddmadm expire-peer eth0
//   ddmadm originated       ddmadm tunnels                     ddmadm watch
//
// Maghemite's names work as aliases: get-peers, get-prefixes, get-originated, advertise-prefixes,
// withdraw-prefixes.
//
// API errors are printed as `error: <message>` and exit with status 1.

import { isIP } from 'node:net';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { isEntryPoint } from '../lib/entry.js';

// ===== Client =====

/** An error answer of the admin API, or a failure to reach it. */
export class AdminCallError extends Error {
  override name = 'AdminCallError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** A small client of the admin API over fetch. */
export class DdmAdminClient {
  readonly base: string;

  constructor(
    host: string,
    port: number,
    private readonly token?: string,
  ) {
    this.base = `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  }

  /** Call `method path` with an optional JSON body; returns the parsed JSON answer. */
  async call(method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
      throw new AdminCallError(
        `cannot reach the ddmd admin API at ${this.base}: ${cause}`,
        undefined,
        undefined,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new AdminCallError(
        `${method} ${path}: HTTP ${res.status} with a body that is not JSON`,
        undefined,
        res.status,
      );
    }
    if (!res.ok) {
      const e = json as { code?: unknown; message?: unknown } | undefined;
      const message = typeof e?.message === 'string' ? e.message : `${method} ${path}: HTTP ${res.status}`;
      throw new AdminCallError(message, typeof e?.code === 'string' ? e.code : undefined, res.status);
    }
    return json;
  }
}

// ===== Shapes (as the API answers; see openapi/ddmd.json) =====

interface Peer {
  ifname: string;
  state: string;
  addr?: string;
  hostname?: string;
  kind?: string;
  duration_ms: number;
  reason: string;
  rtt: { srtt_us?: number; min_us?: number; jitter_us?: number; loss: number };
}

interface Prefixes {
  routes: {
    destination: string;
    next_hops: {
      ifname: string;
      nexthop: string;
      hostname?: string;
      path: string[];
      delay_us?: number;
      weight: number;
    }[];
  }[];
}

interface TunnelOrigin {
  overlay_prefix: { V4?: { addr: string; len: number }; V6?: { addr: string; len: number } };
  boundary_addr: string;
  vni: number;
  metric?: number;
}

interface FibError {
  prefix: string;
  op: string;
  error: string;
  attempts: number;
}

// ===== Formatting =====

/** Left-aligned columns separated by two spaces, with an upper-case header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n') + '\n';
}

/** A duration in µs as `85us`, `1.25ms` or `2.10s`; `-` when unknown. */
export function fmtUs(us: number | undefined): string {
  if (us === undefined) return '-';
  if (Math.round(us) < 1000) return `${Math.round(us)}us`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

function fmtDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function peersTable(peers: readonly Peer[]): string {
  return table(
    ['interface', 'state', 'peer', 'kind', 'address', 'srtt', 'min', 'jitter', 'loss', 'since'],
    peers.map((p) => [
      p.ifname,
      p.state,
      p.hostname ?? '-',
      p.kind ?? '-',
      p.addr ?? '-',
      fmtUs(p.rtt.srtt_us),
      fmtUs(p.rtt.min_us),
      fmtUs(p.rtt.jitter_us),
      `${(p.rtt.loss * 100).toFixed(1)}%`,
      fmtDuration(p.duration_ms),
    ]),
  );
}

function prefixesTable(p: Prefixes): string {
  const rows: string[][] = [];
  for (const r of p.routes) {
    for (const [i, h] of r.next_hops.entries()) {
      rows.push([
        i === 0 ? r.destination : '',
        `${h.nexthop}%${h.ifname}`,
        h.path.join(' '),
        fmtUs(h.delay_us),
        String(h.weight),
      ]);
    }
  }
  return table(['destination', 'next hop', 'path', 'delay', 'weight'], rows);
}

function overlayText(t: TunnelOrigin): string {
  const p = t.overlay_prefix.V6 ?? t.overlay_prefix.V4;
  return p === undefined ? '?' : `${p.addr}/${p.len}`;
}

// ===== Commands =====

/** Where the CLI writes and how it waits (tests replace these). */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  sleep(ms: number): Promise<void>;
  /** Whether `out` is a terminal (watch clears the screen between rounds). */
  readonly tty: boolean;
}

const processIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  tty: process.stdout.isTTY,
};

function positiveInt(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new InvalidArgumentError('It must be a whole number of at least 1.');
  return Number(v);
}

function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535)
    throw new InvalidArgumentError('It must be a port number (0 to 65535).');
  return Number(v);
}

interface GlobalOptions {
  address: string;
  port: number;
  token?: string;
  json: boolean;
}

function tunnelFromOptions(o: {
  overlay: string;
  boundary: string;
  vni: string;
  metric?: string;
}): TunnelOrigin {
  const slash = o.overlay.lastIndexOf('/');
  const addr = slash < 0 ? o.overlay : o.overlay.slice(0, slash);
  const len = slash < 0 ? NaN : Number(o.overlay.slice(slash + 1));
  const family = isIP(addr) === 4 ? 'V4' : 'V6';
  return {
    overlay_prefix: { [family]: { addr, len } },
    boundary_addr: o.boundary,
    vni: Number(o.vni),
    ...(o.metric !== undefined ? { metric: Number(o.metric) } : {}),
  };
}

function build(io: CliIo): Command {
  const program = new Command('ddmadm')
    .description('Administer ddmd, the Delay-Driven Multipath daemon')
    .option('-a, --address <addr>', 'admin API address', '127.0.0.1')
    .option('-p, --port <port>', 'admin API port', port, 8000)
    .option('--token <token>', 'bearer token (or $DDMD_TOKEN)')
    .option('--json', 'print the raw JSON responses', false)
    .showHelpAfterError(false);

  const ctx = () => {
    const o = program.opts<GlobalOptions>();
    const token = o.token ?? process.env.DDMD_TOKEN;
    return { o, api: new DdmAdminClient(o.address, o.port, token === '' ? undefined : token) };
  };
  const printJson = (v: unknown) => io.out(`${JSON.stringify(v, null, 2)}\n`);

  program
    .command('peers')
    .alias('get-peers')
    .description('neighbours per interface with state and delay statistics')
    .action(async () => {
      const { o, api } = ctx();
      const peers = (await api.call('GET', '/peers')) as Peer[];
      if (o.json) printJson(peers);
      else io.out(peersTable(peers));
    });

  program
    .command('prefixes')
    .alias('get-prefixes')
    .description('imported routes: next hops with path, delay and weight')
    .action(async () => {
      const { o, api } = ctx();
      const p = (await api.call('GET', '/prefixes')) as Prefixes;
      if (o.json) printJson(p);
      else io.out(prefixesTable(p));
    });

  program
    .command('originated')
    .alias('get-originated')
    .description('prefixes this router originates')
    .action(async () => {
      const { o, api } = ctx();
      const list = (await api.call('GET', '/originated')) as string[];
      if (o.json) printJson(list);
      else io.out(list.map((p) => `${p}\n`).join(''));
    });

  const change = (verb: 'originate' | 'withdraw') => async (prefixes: string[]) => {
    const { o, api } = ctx();
    const r = (await api.call(verb === 'originate' ? 'PUT' : 'DELETE', '/prefix', { prefixes })) as {
      changed: string[];
    };
    if (o.json) printJson(r);
    else if (r.changed.length === 0) io.out(`nothing to ${verb}\n`);
    else io.out(r.changed.map((p) => `${verb === 'originate' ? 'originated' : 'withdrew'} ${p}\n`).join(''));
  };
  program
    .command('originate')
    .alias('advertise-prefixes')
    .description('originate IPv6 prefixes (kept across restarts)')
    .argument('<prefix...>', 'IPv6 prefixes such as fd00:1::/64')
    .action(change('originate'));
  program
    .command('withdraw')
    .alias('withdraw-prefixes')
    .description('stop originating IPv6 prefixes')
    .argument('<prefix...>', 'IPv6 prefixes such as fd00:1::/64')
    .action(change('withdraw'));

  program
    .command('tunnels')
    .description('tunnel endpoints: originated here and learned from neighbours')
    .action(async () => {
      const { o, api } = ctx();
      const mine = (await api.call('GET', '/originated_tunnel_endpoints')) as TunnelOrigin[];
      const learned = (await api.call('GET', '/tunnel_endpoints')) as {
        origin: TunnelOrigin;
        ifname: string;
        hostname: string;
      }[];
      if (o.json) {
        printJson({ originated: mine, imported: learned });
        return;
      }
      const row = (t: TunnelOrigin, via: string) => [
        overlayText(t),
        t.boundary_addr,
        String(t.vni),
        String(t.metric ?? 0),
        via,
      ];
      io.out(
        table(
          ['overlay', 'boundary', 'vni', 'metric', 'from'],
          [
            ...mine.map((t) => row(t, 'local')),
            ...learned.map((x) => row(x.origin, `${x.hostname}%${x.ifname}`)),
          ],
        ),
      );
    });

  const tunnelChange = (verb: 'advertise' | 'withdraw') =>
    program
      .command(`tunnel-${verb}`)
      .description(
        verb === 'advertise' ? 'originate a tunnel endpoint' : 'stop originating a tunnel endpoint',
      )
      .requiredOption('--overlay <prefix>', 'overlay prefix (IPv4 or IPv6)')
      .requiredOption('--boundary <addr>', 'boundary (tunnel endpoint) IPv6 address')
      .requiredOption('--vni <vni>', 'virtual network identifier')
      .option('--metric <n>', 'metric')
      .action(async (opts: { overlay: string; boundary: string; vni: string; metric?: string }) => {
        const { o, api } = ctx();
        const r = (await api.call(verb === 'advertise' ? 'PUT' : 'DELETE', '/tunnel_endpoint', {
          endpoints: [tunnelFromOptions(opts)],
        })) as { changed: TunnelOrigin[] };
        if (o.json) printJson(r);
        else
          io.out(
            r.changed.length === 0
              ? 'nothing changed\n'
              : `${verb === 'advertise' ? 'advertised' : 'withdrew'} ${overlayText(r.changed[0]!)} via ${r.changed[0]!.boundary_addr}\n`,
          );
      });
  tunnelChange('advertise');
  tunnelChange('withdraw');

  program
    .command('sync')
    .description('pull the full table again from every neighbour')
    .action(async () => {
      const { o, api } = ctx();
      const r = (await api.call('PUT', '/sync')) as { peers: number };
      if (o.json) printJson(r);
      else io.out(`pulling from ${r.peers} neighbour${r.peers === 1 ? '' : 's'}\n`);
    });

  program
    .command('expire-peer')
    .description('forget the neighbour on an interface (it is rediscovered)')
    .argument('<ifname>', 'interface')
    .action(async (ifname: string) => {
      const { o, api } = ctx();
      const r = (await api.call('DELETE', `/peers/${encodeURIComponent(ifname)}`)) as {
        ifname: string;
        previous_state: string;
      };
      if (o.json) printJson(r);
      else io.out(`expired the neighbour on ${r.ifname} (was ${r.previous_state})\n`);
    });

  program
    .command('fib-errors')
    .description('routes the kernel refused')
    .action(async () => {
      const { o, api } = ctx();
      const list = (await api.call('GET', '/fib/errors')) as FibError[];
      if (o.json) printJson(list);
      else
        io.out(
          table(
            ['prefix', 'op', 'attempts', 'error'],
            list.map((e) => [e.prefix, e.op, String(e.attempts), e.error]),
          ),
        );
    });

  program
    .command('watch')
    .description('print peers and prefixes again every interval until interrupted')
    .option('--interval <ms>', 'time between rounds', positiveInt, 1000)
    .option('--count <n>', 'stop after this many rounds', positiveInt)
    .action(async (opts: { interval: number; count?: number }) => {
      const { o, api } = ctx();
      for (let round = 1; opts.count === undefined || round <= opts.count; round++) {
        const peers = (await api.call('GET', '/peers')) as Peer[];
        const prefixes = (await api.call('GET', '/prefixes')) as Prefixes;
        if (o.json) printJson({ peers, prefixes });
        else {
          if (io.tty) io.out('\x1b[H\x1b[2J');
          io.out(
            `${new Date().toISOString()}  ${api.base}\n\n${peersTable(peers)}\n${prefixesTable(prefixes)}\n`,
          );
        }
        if (opts.count !== undefined && round === opts.count) break;
        await io.sleep(opts.interval);
      }
    });

  return program;
}

/** Run ddmadm with arguments (without node and the script); returns the exit status. */
export async function runDdmadm(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let errText = '';
  const program = build(io)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => (errText += s),
      outputError: (s, write) => write(s),
    });
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof AdminCallError) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      // No command at all: the whole help is the useful answer.
      if (e.code === 'commander.help') io.err(errText);
      else io.err(`${(errText.split('\n').find((l) => l.trim() !== '') ?? e.message).trim()}\n`);
      return 1;
    }
    throw e;
  }
}

if (isEntryPoint(import.meta.url)) {
  runDdmadm(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
