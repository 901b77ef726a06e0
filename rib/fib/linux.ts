// The Linux FIB backend: long-lived `ip -force -batch -` children ("lanes", two by default) write
// routes, and `ip -j [-6] route show proto N` reads back the routes we own. Every route carries
// `proto RT_PROTO_LODESTONE`; nothing without that tag is ever deleted or replaced by us.
//
//   apply(ops) ─┬─ lane of prefix 0 ──lines──▶ ip -force -batch - (stdin)   one netlink request
//               └─ lane of prefix 1 ──lines──▶ ip -force -batch - (stdin)   per line; each child
//        ▲                                       │                          recycled every
//        │                                       │                          RECYCLE_LINES lines
//        │                                       │ stderr: "<reason>\nCommand failed -:N"
//        └── failures (in the order of ops) ◀────┘ line N → op; a final deliberately unknown
//                                                  command ("sentinel") fails too, and its line
//                                                  number marks the end of the batch
//
// A prefix always goes to the same lane (a hash of the prefix), so the operations on one prefix
// are applied in call order; operations on different prefixes are independent. Batches are
// written as soon as the previous one is written, so `ip` never waits for an acknowledgement to
// reach us; a recycled child's successor is started at once and gets its lines as soon as the
// predecessor's last batch is acknowledged (not when it has exited).
// `-force` keeps the batch going past a refused route. stdout of `ip` is block-buffered on a pipe,
// but errors go to stderr unbuffered, which is why the end-of-batch marker is an error.
// New prefixes use `route add` so a route of another protocol with the same prefix and metric is
// refused instead of overwritten; prefixes we already own use `route replace`.
// A command prefix such as `['nsenter', '-t', PID, '-n']` runs `ip` inside a network namespace.
//
// Cost (test/bench/fib.ts, 2 CPUs, load 1.8-2.5, three runs): about 10 µs of CPU per route,
// nearly all in the kernel under `ip`'s sendmsg and in page faults of iproute2 6.1's per-command
// leak (see RECYCLE_LINES); with two lanes 1M routes install at 97-116k/s, replace at 90-190k/s
// and are removed at 44-59k/s wall. With the other CPU busy the lanes share one CPU and the
// rates fall towards the per-CPU-second figures (75-105k, 33-39k for removal).

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
  /** `ip -batch` children working side by side on disjoint sets of prefixes (default LANES). */
  readonly lanes?: number;
}

// ===== Commands =====

function hopText(h: NextHop, v4Route: boolean): string {
  const fam = v4Route && typeof h.addr !== 'number' ? 'inet6 ' : '';
  return `via ${fam}${formatNextHopAddr(h)}${h.ifname === undefined ? '' : ` dev ${h.ifname}`}`;
}

/** The next-hop part of a line, with its leading space. */
function hopsText(hops: readonly NextHop[], v4Route: boolean): string {
  if (hops.length === 1) return ` ${hopText(hops[0]!, v4Route)}`;
  let s = '';
  for (const h of hops)
    s += ` nexthop ${hopText(h, v4Route)}${h.weight === undefined ? '' : ` weight ${h.weight}`}`;
  return s;
}

/**
 * Builds batch lines: the `proto … metric … table …` part is made once per backend, and the
 * next-hop text of the last next-hop list seen is kept per family, since the RIB shares one list
 * object among the routes that use it and a bulk change repeats it line after line.
 */
class LineBuilder {
  private readonly tail: string;
  private last4: readonly NextHop[] | undefined;
  private last4Text = '';
  private last6: readonly NextHop[] | undefined;
  private last6Text = '';

  constructor(proto: number, metric?: number, table?: number) {
    this.tail = ` proto ${proto}${metric === undefined ? '' : ` metric ${metric}`}${table === undefined ? '' : ` table ${table}`}`;
  }

  /** The batch line for one operation, without its newline. */
  line(op: FibOp): string {
    const dst = formatAfPrefix(op.route);
    if (op.op === 'delete') return `route del ${dst}${this.tail}`;
    const r = op.route;
    // A route through a nexthop object (rib/fib/resilient.ts) names it instead of its hops.
    if (r.nhid !== undefined) return `route replace ${dst}${this.tail} nhid ${r.nhid}`;
    let hops: string;
    if (r.afi === 4) {
      if (r.nexthops !== this.last4) {
        this.last4 = r.nexthops;
        this.last4Text = hopsText(r.nexthops, true);
      }
      hops = this.last4Text;
    } else {
      if (r.nexthops !== this.last6) {
        this.last6 = r.nexthops;
        this.last6Text = hopsText(r.nexthops, false);
      }
      hops = this.last6Text;
    }
    return `${op.existing ? 'route replace ' : 'route add '}${dst}${this.tail}${hops}`;
  }
}

/** The batch line for one operation. */
export function opLine(op: FibOp, proto: number, metric?: number, table?: number): string {
  return new LineBuilder(proto, metric, table).line(op);
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

/** An operation the kernel refused, by its position in the batch. */
interface LineFailure {
  readonly at: number;
  readonly error: string;
}

interface PendingBatch {
  readonly first: number;
  readonly sentinel: number;
  readonly failures: LineFailure[];
  readonly resolve: (f: LineFailure[]) => void;
  readonly reject: (e: Error) => void;
}

const FAILED_RE = /^Command failed -:(\d+)$/;
const CHUNK = 4096;
/**
 * Lines after which a batch process is retired and a fresh one started: iproute2 6.1's
 * `ip -batch` keeps about 4 KB per route command the kernel accepts (measured: 400 MB resident
 * after 100k `route add` lines; refused lines keep nothing), so a long-lived child is recycled
 * instead of being allowed to grow without bound.
 */
const RECYCLE_LINES = 20_000;
/**
 * `ip` children working side by side. Nearly all of a route's cost is the kernel's work in the
 * child's `sendmsg`, one request at a time; a second child keeps a second CPU busy, and the
 * kernel takes the two children's requests concurrently for much of that work.
 */
const LANES = 2;

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
  /** Resolves once retired with every batch acknowledged (or on exit): a successor may start. */
  readonly done: Promise<void>;
  private markDone!: () => void;

  constructor(
    argv: [string, string[]],
    private readonly render: (op: FibOp) => string,
    /** Writing starts after this: the predecessor's last acknowledgement, so batches stay in order. */
    after: Promise<void>,
  ) {
    this.writing = after;
    this.done = new Promise((resolve) => (this.markDone = resolve));
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
    this.markDone();
  }

  /** After the last acknowledgement of a retired process: close its input, let a successor go. */
  private finishIfDone(): void {
    if (!this.retired || this.pending.length > 0) return;
    this.child.stdin.end();
    this.markDone();
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
        this.finishIfDone();
      } else if (n >= b.first && n < b.sentinel) {
        b.failures.push({ at: n - b.first, error: why || 'refused' });
      }
    }
  }

  /** Queue a batch; line numbers are assigned now, so writes are chained in call order. */
  apply(ops: readonly FibOp[]): Promise<LineFailure[]> {
    const first = this.line + 1;
    this.line += ops.length + 1;
    const done = new Promise<LineFailure[]>((resolve, reject) => {
      this.pending.push({ first, sentinel: this.line, failures: [], resolve, reject });
    });
    // Written as soon as the previous batch is written, not acknowledged: `ip` never waits for us.
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
    this.finishIfDone();
  }
}

/**
 * One lane: the sequence of batch processes that serves a fixed share of the prefixes. A process
 * is retired after `recycleLines` lines and its successor is started at once, so that it is ready
 * when the predecessor's last batch is acknowledged; only then does the successor get its lines.
 */
class Lane {
  private proc: BatchProcess | undefined;
  /** The newest process's `done`: the next process writes only after it. */
  private tail: Promise<void> = Promise.resolve();
  private readonly live = new Set<BatchProcess>();

  constructor(
    private readonly argv: [string, string[]],
    private readonly render: (op: FibOp) => string,
    private readonly recycleLines: number,
  ) {}

  private start(): BatchProcess {
    const p = new BatchProcess(this.argv, this.render, this.tail);
    this.tail = p.done;
    this.live.add(p);
    void p.closed.then(() => this.live.delete(p));
    this.proc = p;
    return p;
  }

  /** True when a process is running or starting (an empty batch then waits for its queue). */
  get active(): boolean {
    return this.proc !== undefined && !this.proc.retired;
  }

  apply(ops: readonly FibOp[]): Promise<LineFailure[]> {
    let p = this.proc;
    if (p === undefined || p.retired) p = this.start();
    const result = p.apply(ops);
    if (p.line >= this.recycleLines) {
      p.retire();
      this.start();
    }
    return result;
  }

  /** Retire every process and wait for them to exit. */
  async close(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    p?.retire();
    await Promise.all([...this.live].map((q) => q.closed));
  }
}

/** The lane of a prefix: the top bits of a multiplicative hash, even for runs of prefixes. */
function laneOf(r: FibOp['route'], lanes: number): number {
  let x: number;
  if (r.afi === 4) {
    const p = r.prefix;
    x = ((p - (p % 64)) / 64) ^ Math.imul(p % 64, 0x85ebca6b);
  } else {
    const p = r.prefix;
    x =
      Math.imul(p.w0, 0x85ebca6b) ^ Math.imul(p.w1, 0xc2b2ae35) ^ p.w2 ^ Math.imul(p.w3 ^ p.len, 0x27d4eb2f);
  }
  const h = Math.imul(x ^ (x >>> 15), 0x9e3779b1) >>> 0;
  return Math.floor((h * lanes) / 4294967296);
}

/** Routes in the Linux kernel through iproute2. */
export class LinuxFib implements FibBackend {
  readonly name = 'linux';
  private readonly proto: number;
  private readonly lanes: Lane[];

  constructor(private readonly opts: LinuxFibOptions = {}) {
    this.proto = opts.proto ?? RT_PROTO_LODESTONE;
    const lines = new LineBuilder(this.proto, opts.metric, opts.table);
    const render = (op: FibOp): string => lines.line(op);
    const argv = this.cmd(['-force', '-batch', '-']);
    const n = Math.max(1, Math.floor(opts.lanes ?? LANES));
    this.lanes = Array.from({ length: n }, () => new Lane(argv, render, opts.recycleLines ?? RECYCLE_LINES));
  }

  private cmd(args: readonly string[]): [string, string[]] {
    const full = [...(this.opts.commandPrefix ?? []), 'ip', ...args];
    return [full[0]!, full.slice(1)];
  }

  /**
   * Operations go to the lane of their prefix, in order, so each prefix's operations are applied
   * in call order; operations on different prefixes do not depend on each other (a gateway is
   * resolved through a connected route, never through one of ours). Failures come back in the
   * order of `ops`.
   */
  async apply(ops: readonly FibOp[]): Promise<FibFailure[]> {
    const n = this.lanes.length;
    if (n === 1) {
      const f = await this.lanes[0]!.apply(ops);
      return f.map((x) => ({ op: ops[x.at]!, error: x.error }));
    }
    if (ops.length === 0) {
      // Nothing to write: still wait for the batches already queued, as a single process would.
      await Promise.all(this.lanes.filter((l) => l.active).map((l) => l.apply(ops)));
      return [];
    }
    const parts: FibOp[][] = [];
    const index: number[][] = [];
    for (let i = 0; i < n; i++) {
      parts.push([]);
      index.push([]);
    }
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const k = laneOf(op.route, n);
      parts[k]!.push(op);
      index[k]!.push(i);
    }
    const none: Promise<LineFailure[]> = Promise.resolve([]);
    const results = await Promise.all(parts.map((p, k) => (p.length === 0 ? none : this.lanes[k]!.apply(p))));
    const at: number[] = [];
    const why: string[] = [];
    results.forEach((fs, k) => {
      for (const f of fs) {
        at.push(index[k]![f.at]!);
        why.push(f.error);
      }
    });
    const order = at.map((_, i) => i).sort((x, y) => at[x]! - at[y]!);
    return order.map((i) => ({ op: ops[at[i]!]!, error: why[i]! }));
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
    await Promise.all(this.lanes.map((l) => l.close()));
  }
}
