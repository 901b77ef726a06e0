// The Linux FIB backend: one long-lived `ip -force -batch -` child per backend writes routes, and
// `ip -j [-6] route show proto N` reads back the routes we own. Every route carries
// `proto RT_PROTO_LODESTONE`; nothing without that tag is ever deleted or replaced by us.
//
//   apply(ops) ──lines──▶ ip -force -batch - (stdin)        one netlink request per line;
//                          recycled every RECYCLE_LINES lines
//        ▲                   │ stderr: "<reason>\nCommand failed -:N"
//        └── failures ◀──────┘ line N → op; a final deliberately unknown command ("sentinel")
//                              fails too, and its line number marks the end of the batch
//
// `-force` keeps the batch going past a refused route. stdout of `ip` is block-buffered on a pipe,
// but errors go to stderr unbuffered, which is why the end-of-batch marker is an error.
// New prefixes use `route add` so a route of another protocol with the same prefix and metric is
// refused instead of overwritten; prefixes we already own use `route replace`.
// A command prefix such as `['nsenter', '-t', PID, '-n']` runs `ip` inside a network namespace.

import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promisify } from 'node:util';
import {
  RT_PROTO_LODESTONE,
  type FibBackend,
  type FibFailure,
  type FibOp,
  type FibRoute,
} from './backend.js';
import { formatAfPrefix, formatNextHopAddr, type NextHop } from '../types.js';
import { parseAddr4, parseAddr6, parsePrefix4, parsePrefix6 } from '../../wire/ip/index.js';

const execFileP = promisify(execFile);

// ===== Options =====

/** Options of the Linux backend. */
export interface LinuxFibOptions {
  /** Prepended to every `ip` command (e.g. `['nsenter', '-t', '1234', '-n']`). */
  readonly commandPrefix?: readonly string[];
  /** Protocol number to tag routes with. */
  readonly proto?: number;
  /** Route metric (priority); the kernel default when absent. */
  readonly metric?: number;
  /** Routing table; `main` when absent. */
  readonly table?: number;
  /** Start a fresh `ip -batch` child after this many lines (default RECYCLE_LINES). */
  readonly recycleLines?: number;
}

// ===== Commands =====

function hopText(h: NextHop, v4Route: boolean): string {
  const fam = v4Route && typeof h.addr !== 'number' ? 'inet6 ' : '';
  return `via ${fam}${formatNextHopAddr(h)}${h.ifname === undefined ? '' : ` dev ${h.ifname}`}`;
}

/** The batch line for one operation. */
export function opLine(op: FibOp, proto: number, metric?: number, table?: number): string {
  const tail = `proto ${proto}${metric === undefined ? '' : ` metric ${metric}`}${table === undefined ? '' : ` table ${table}`}`;
  const dst = formatAfPrefix(op.route);
  if (op.op === 'delete') return `route del ${dst} ${tail}`;
  const r = op.route;
  const verb = op.existing ? 'replace' : 'add';
  // A route through a nexthop object (rib/fib/resilient.ts) names it instead of its hops.
  if (r.nhid !== undefined) return `route replace ${dst} ${tail} nhid ${r.nhid}`;
  const v4 = r.afi === 4;
  if (r.nexthops.length === 1) return `route ${verb} ${dst} ${tail} ${hopText(r.nexthops[0]!, v4)}`;
  let s = `route ${verb} ${dst} ${tail}`;
  for (const h of r.nexthops)
    s += ` nexthop ${hopText(h, v4)}${h.weight === undefined ? '' : ` weight ${h.weight}`}`;
  return s;
}

// ===== Reading =====

interface IpNexthopJson {
  gateway?: string;
  via?: { family?: string; host?: string };
  dev?: string;
  weight?: number;
}

interface IpRouteJson extends IpNexthopJson {
  dst?: string;
  nexthops?: IpNexthopJson[];
}

function hopFromJson(j: IpNexthopJson): NextHop | undefined {
  const text = j.gateway ?? j.via?.host;
  if (text === undefined) return undefined;
  const a = text.includes(':') ? parseAddr6(text) : parseAddr4(text);
  if (!a.ok) return undefined;
  return {
    addr: a.value,
    ...(j.dev !== undefined ? { ifname: j.dev } : {}),
    ...(j.weight !== undefined ? { weight: j.weight } : {}),
  };
}

/** Parse `ip -j route show` output of one family into routes. */
export function parseIpRoutes(json: string, afi: 4 | 6): FibRoute[] {
  const out: FibRoute[] = [];
  const text = json.trim();
  if (text === '') return out;
  for (const r of JSON.parse(text) as IpRouteJson[]) {
    if (r.dst === undefined) continue;
    let dst = r.dst === 'default' ? (afi === 4 ? '0.0.0.0/0' : '::/0') : r.dst;
    if (!dst.includes('/')) dst += afi === 4 ? '/32' : '/128';
    const hops: NextHop[] = [];
    for (const j of r.nexthops ?? [r]) {
      const h = hopFromJson(j);
      if (h !== undefined) hops.push(h);
    }
    if (afi === 4) {
      const p = parsePrefix4(dst, 'clear');
      if (p.ok) out.push({ afi: 4, prefix: p.value, nexthops: hops });
    } else {
      const p = parsePrefix6(dst, 'clear');
      if (p.ok) out.push({ afi: 6, prefix: p.value, nexthops: hops });
    }
  }
  return out;
}

// ===== Backend =====

interface PendingBatch {
  readonly first: number;
  readonly sentinel: number;
  readonly ops: readonly FibOp[];
  readonly failures: FibFailure[];
  readonly resolve: (f: FibFailure[]) => void;
  readonly reject: (e: Error) => void;
}

const FAILED_RE = /^Command failed -:(\d+)$/;
const CHUNK = 4096;
/**
 * Lines after which a batch process is retired and a fresh one started: iproute2 6.1's
 * `ip -batch` keeps about 4 KB per route command (measured: 400 MB resident after 100k `route
 * add` lines), so a long-lived child is recycled instead of being allowed to grow without bound.
 */
const RECYCLE_LINES = 20_000;

/** One `ip -force -batch -` child with the batches written to it and not yet acknowledged. */
class BatchProcess {
  readonly child: ChildProcessWithoutNullStreams;
  line = 0;
  retired = false;
  private pending: PendingBatch[] = [];
  private errText = '';
  private partial = '';
  private writing: Promise<void>;
  /** Resolves when the process has exited and its output has been read. */
  readonly closed: Promise<void>;

  constructor(
    argv: [string, string[]],
    private readonly render: (op: FibOp) => string,
    /** Writing starts after this: the retired predecessor's exit, so batches stay in order. */
    after: Promise<void>,
  ) {
    this.writing = after;
    const child = spawn(argv[0], argv[1], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => this.onStderr(d));
    child.stdin.on('error', () => undefined);
    // 'close' comes after stderr has been read to its end, so every acknowledgement is in.
    this.closed = new Promise((resolve) => {
      child.on('close', (code, sig) => {
        this.fail(`ip -batch exited: code ${code} signal ${sig}`);
        resolve();
      });
      child.on('error', (e) => {
        this.fail(`ip -batch failed: ${e.message}`);
        resolve();
      });
    });
  }

  private fail(why: string): void {
    this.retired = true;
    const p = this.pending;
    this.pending = [];
    for (const b of p) b.reject(new Error(why));
  }

  private onStderr(d: string): void {
    const parts = (this.partial + d).split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) {
      const m = FAILED_RE.exec(l);
      if (m === null) {
        this.errText += (this.errText === '' ? '' : '; ') + l.trim();
        continue;
      }
      const n = Number(m[1]);
      const why = this.errText;
      this.errText = '';
      const b = this.pending[0];
      if (b === undefined) continue;
      if (n === b.sentinel) {
        this.pending.shift();
        b.resolve(b.failures);
        if (this.retired && this.pending.length === 0) this.child.stdin.end();
      } else if (n >= b.first && n < b.sentinel) {
        b.failures.push({ op: b.ops[n - b.first]!, error: why || 'refused' });
      }
    }
  }

  /** Queue a batch; line numbers are assigned now, so writes are chained in call order. */
  apply(ops: readonly FibOp[]): Promise<FibFailure[]> {
    const first = this.line + 1;
    this.line += ops.length + 1;
    const done = new Promise<FibFailure[]>((resolve, reject) => {
      this.pending.push({ first, sentinel: this.line, ops, failures: [], resolve, reject });
    });
    this.writing = this.writing.then(() => this.write(ops)).catch(() => undefined);
    return done;
  }

  private async write(ops: readonly FibOp[]): Promise<void> {
    const stdin = this.child.stdin;
    for (let i = 0; i < ops.length; i += CHUNK) {
      let s = '';
      const end = Math.min(ops.length, i + CHUNK);
      for (let j = i; j < end; j++) s += this.render(ops[j]!) + '\n';
      if (!stdin.write(s)) await new Promise<void>((r) => stdin.once('drain', r));
    }
    // An unknown object name: `ip` reports it on stderr as a failure of this line number.
    stdin.write('lodestone-end-of-batch\n');
  }

  /** Take no more batches; exit once the queued ones are acknowledged. */
  retire(): void {
    this.retired = true;
    if (this.pending.length === 0) this.child.stdin.end();
  }

  /** Retire and wait for the process to exit. */
  async close(): Promise<void> {
    this.retire();
    await this.closed;
  }
}

/** Routes in the Linux kernel through iproute2. */
export class LinuxFib implements FibBackend {
  readonly name = 'linux';
  private proc: BatchProcess | undefined;
  private readonly proto: number;

  constructor(private readonly opts: LinuxFibOptions = {}) {
    this.proto = opts.proto ?? RT_PROTO_LODESTONE;
  }

  private cmd(args: readonly string[]): [string, string[]] {
    const full = [...(this.opts.commandPrefix ?? []), 'ip', ...args];
    return [full[0]!, full.slice(1)];
  }

  apply(ops: readonly FibOp[]): Promise<FibFailure[]> {
    let p = this.proc;
    if (p !== undefined && !p.retired && p.line >= (this.opts.recycleLines ?? RECYCLE_LINES)) p.retire();
    if (p === undefined || p.retired) {
      const { metric, table } = this.opts;
      const proto = this.proto;
      const after = p?.closed ?? Promise.resolve();
      p = new BatchProcess(
        this.cmd(['-force', '-batch', '-']),
        (op) => opLine(op, proto, metric, table),
        after,
      );
      this.proc = p;
    }
    return p.apply(ops);
  }

  async list(): Promise<FibRoute[]> {
    const tableArgs = this.opts.table === undefined ? [] : ['table', String(this.opts.table)];
    const run = async (fam: string[]): Promise<string> => {
      const [c, a] = this.cmd(['-j', ...fam, 'route', 'show', ...tableArgs, 'proto', String(this.proto)]);
      const { stdout } = await execFileP(c, a, { maxBuffer: 1 << 30 });
      return stdout;
    };
    const [v4, v6] = await Promise.all([run([]), run(['-6'])]);
    return [...parseIpRoutes(v4, 4), ...parseIpRoutes(v6, 6)];
  }

  async close(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    await p?.close();
  }
}
