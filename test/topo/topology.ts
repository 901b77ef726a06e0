// Network topologies on one Linux machine, after Oxide's Falcon: nodes are anonymous network
// namespaces, links are veth pairs, and every node gets predictable addresses.
//
//   const topo = new Topology('chain');
//   const a = topo.node('a'); const b = topo.node('b');
//   const l = topo.link(a, b, { rate: { rate: '5mbit' } });
//   await topo.launch();
//   await a.exec(['ping', '-c1', l.b.addr4]);     // { code, stdout, stderr }
//   const p = a.spawn('bird', ['-f', ...]);        // killed by PID on destroy
//   await a.routes({ family: 4, proto: 'static' }); // structured kernel routes
//   await topo.destroy();                           // idempotent; use in afterAll/finally
//
// Namespaces. Each node is held by a small `unshare -n sh` process (the holder) whose stdin is a
// pipe from this process. If this process dies for any reason the pipe reaches EOF and the holder
// kills every process in its namespace and exits, so the namespace and its links vanish: a crash
// leaks nothing. Commands enter a node with `nsenter -t HOLDER -n`, which execs in place (no fork
// for a network namespace alone), so the PID we see is the daemon's PID. Nothing is named in the
// root namespace: veth ends are created directly inside their namespaces, so parallel topologies
// cannot collide and may reuse the same interface names and addresses.
//
// Addresses (link k = 1, 2, ... in creation order; node n = 1, 2, ...):
//   link k   IPv4 10.<k/256>.<k%256>.0/30: end a .1, end b .2
//            IPv6 fd00:0:<k hex>::/64:     end a ::1, end b ::2
//            MAC 02:00:00:<k hi>:<k lo>:0<1|2>, so link-local fe80::ff:fe<k hi>:<k lo>0<1|2>
//   node n   loopback 10.255.<n/256>.<n%256>/32 and fd00:ff::<n hex>/128 on lo
// Interfaces are named eth0, eth1, ... per node in link order.
// Every node: lo up, forwarding on (unless disabled), keep_addr_on_down=1, accept_dad=0 (addresses
// usable at once), fib_multipath_hash_policy=1 (layer 4) for IPv4 and IPv6.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execArgv, killQuietly, pidAlive, sleep, spawnArgv, waitFor } from './proc.js';
import type { ExecOptions, ExecResult, Proc, SpawnOptions } from './proc.js';
import { parseIpRoutes, routeArgv } from './routes.js';
import type { KernelRoute, RouteQuery } from './routes.js';

// ===== Descriptions =====

export interface TopologyOptions {
  /** Keep the per-topology directory (logs, configs) after destroy. */
  readonly keepDir?: boolean;
  /** Parent of the per-topology directory (default the OS temp directory). */
  readonly baseDir?: string;
}

export interface NodeOptions {
  /** IPv4 loopback address (default 10.255.x.n). */
  readonly loopback4?: string;
  /** IPv6 loopback address (default fd00:ff::n). */
  readonly loopback6?: string;
  /** IP forwarding (default true). */
  readonly forwarding?: boolean;
}

/** A token-bucket rate limit (`tc qdisc ... tbf`), applied at the egress of both link ends. */
export interface RateLimit {
  /** e.g. '5mbit'. */
  readonly rate: string;
  /** Bucket size (default '16kb'). */
  readonly burst?: string;
  /** Maximum queueing delay before drops (default '50ms'). */
  readonly latency?: string;
}

export interface LinkOptions {
  readonly rate?: RateLimit;
  readonly mtu?: number;
}

/** What to drop on a link: everything by default, or one UDP/TCP destination port, or an nft match. */
export interface DropSpec {
  readonly udpPort?: number;
  readonly tcpPort?: number;
  /** A raw nftables match expression, e.g. 'ip6 nexthdr icmpv6'. */
  readonly match?: string;
}

// ===== Nodes =====

/** One end of a link: the interface inside one node. */
export class LinkEnd {
  constructor(
    readonly node: Node,
    readonly link: Link,
    readonly ifname: string,
    readonly mac: string,
    /** IPv4 address without length. */
    readonly addr4: string,
    /** IPv6 ULA address without length. */
    readonly addr6: string,
    /** IPv6 link-local address (derived from the MAC). */
    readonly linkLocal6: string,
  ) {}

  /** IPv4 address with the link's length. */
  get cidr4(): string {
    return `${this.addr4}/30`;
  }

  /** IPv6 address with the link's length. */
  get cidr6(): string {
    return `${this.addr6}/64`;
  }
}

/** A node: one network namespace. */
export class Node {
  readonly loopback4: string;
  readonly loopback6: string;
  readonly forwarding: boolean;
  /** Link ends inside this node, in link order (eth0, eth1, ...). */
  readonly interfaces: LinkEnd[] = [];
  private holder: ChildProcess | null = null;
  private holderPidValue: number | null = null;
  private spawnCount = 0;

  constructor(
    readonly topology: Topology,
    readonly name: string,
    /** 1-based position in the topology. */
    readonly index: number,
    opts: NodeOptions = {},
  ) {
    this.loopback4 = opts.loopback4 ?? `10.255.${index >> 8}.${index & 255}`;
    this.loopback6 = opts.loopback6 ?? `fd00:ff::${index.toString(16)}`;
    this.forwarding = opts.forwarding ?? true;
  }

  /** PID of the namespace holder (after launch). */
  get pid(): number {
    if (this.holderPidValue === null) throw new Error(`node ${this.name}: not launched`);
    return this.holderPidValue;
  }

  /** Per-node directory for configs, sockets and logs (world-readable, for daemons that drop root). */
  get dir(): string {
    return join(this.topology.dir, this.name);
  }

  /** The argv that runs argv inside this node. */
  nsArgv(argv: readonly string[]): string[] {
    return ['nsenter', '-t', String(this.pid), '-n', '--', ...argv];
  }

  /** Run a command inside the node to completion (bounded by opts.timeoutMs, default 15 s). */
  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return execArgv(this.nsArgv(argv), opts);
  }

  /** Like exec, but throws on a non-zero exit code; returns stdout. */
  async run(argv: readonly string[], opts: ExecOptions = {}): Promise<string> {
    return (await execArgv(this.nsArgv(argv), { ...opts, check: true })).stdout;
  }

  /** Run a shell script inside the node (throws on failure); returns stdout. */
  sh(script: string, opts: ExecOptions = {}): Promise<string> {
    return this.run(['sh', '-c', script], opts);
  }

  /** Start a long-lived process inside the node; output goes to opts.logFile (default in dir). */
  spawn(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Proc {
    this.spawnCount++;
    const logFile = opts.logFile ?? join(this.dir, `${basename(cmd)}-${this.spawnCount}.log`);
    const proc = spawnArgv(this.nsArgv([cmd, ...args]), logFile, opts);
    this.topology.track(proc);
    return proc;
  }

  /** The node's kernel routes as data. */
  async routes(q: RouteQuery): Promise<KernelRoute[]> {
    return parseIpRoutes(await this.run(routeArgv(q)), q);
  }

  /** Wait (bounded, 5 s) until the given interfaces are up with carrier and have their link-local address. */
  async waitInterfacesUp(ends: readonly LinkEnd[] = this.interfaces): Promise<void> {
    if (ends.length === 0) return;
    await waitFor(
      async () => {
        const links = JSON.parse(await this.run(['ip', '-j', 'addr', 'show'])) as {
          ifname: string;
          operstate: string;
          addr_info?: { local?: string }[];
        }[];
        return ends.every((e) => {
          const l = links.find((x) => x.ifname === e.ifname);
          return l?.operstate === 'UP' && (l.addr_info ?? []).some((a) => a.local === e.linkLocal6);
        });
      },
      { what: `interfaces of ${this.name} up with link-local addresses`, timeoutMs: 5_000, intervalMs: 25 },
    );
  }

  /** The link end inside this node that faces peer (the first such link). */
  endTowards(peer: Node): LinkEnd {
    for (const e of this.interfaces) {
      if (e.link.other(this).node === peer) return e;
    }
    throw new Error(`node ${this.name} has no link to ${peer.name}`);
  }

  /** @internal Start the holder process; resolves once it is inside its new namespace. */
  async startHolder(): Promise<void> {
    // The holder also removes the topology directory when it reaps after a crash (unless kept).
    const rmDir = this.topology.options.keepDir === true ? '' : this.topology.dir;
    const child = spawn('unshare', ['-n', 'sh', '-c', HOLDER_SCRIPT, 'holder', rmDir], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.holder = child;
    child.on('error', () => undefined);
    child.stdin.on('error', () => undefined);
    const ready = new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString('utf8');
        if (buf.includes('ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`node ${this.name}: namespace holder exited (${code})`)));
    });
    await Promise.race([
      ready,
      sleep(10_000).then(() => {
        throw new Error(`node ${this.name}: namespace holder not ready after 10 s`);
      }),
    ]);
    if (child.pid === undefined) throw new Error(`node ${this.name}: holder has no PID`);
    this.holderPidValue = child.pid;
    // Neither the holder nor its pipes may keep this process alive; its pipe closing is the point.
    child.unref();
    (child.stdin as unknown as Socket).unref();
    (child.stdout as unknown as Socket).unref();
  }

  /** @internal Kill every process in the namespace, then the holder; resolves when the holder is gone. */
  async killNamespace(): Promise<void> {
    const pid = this.holderPidValue;
    if (pid === null) return;
    if (!pidAlive(pid)) return;
    for (const p of pidsInNetns(pid)) {
      if (p !== pid) killQuietly(p, 'SIGKILL');
    }
    killQuietly(pid, 'SIGKILL');
    this.holder?.stdin?.destroy();
    await waitFor(() => !pidAlive(pid), {
      what: `namespace holder of ${this.name} (PID ${pid}) to exit`,
      timeoutMs: 5_000,
      intervalMs: 20,
    });
  }
}

// When the pipe on stdin closes (normally because the test process died), kill everything left in
// this namespace so that the namespace itself goes away, then remove the topology directory ($1).
const HOLDER_SCRIPT = [
  'me=$(readlink /proc/$$/ns/net)',
  'echo ready',
  'read _ || true',
  'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = "$$" ] && continue;',
  '[ "$(readlink "$d/ns/net" 2>/dev/null)" = "$me" ] && kill -9 "$p" 2>/dev/null; done',
  '[ -n "$1" ] && rm -rf "$1"',
  'exit 0',
].join('\n');

/**
 * PIDs of every process in the same network namespace as pid (including pid); empty when pid is
 * gone or shares this process's namespace (never a list of the root namespace's processes).
 */
export function pidsInNetns(pid: number): number[] {
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${pid}/ns/net`);
    if (ns === readlinkSync('/proc/self/ns/net')) return [];
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === ns) out.push(Number(entry));
    } catch {
      // Exited while scanning.
    }
  }
  return out;
}

// ===== Links =====

/** A point-to-point link: a veth pair between two nodes. */
export class Link {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
  /** IPv4 prefix of the link, e.g. 10.0.1.0/30. */
  readonly prefix4: string;
  /** IPv6 prefix of the link, e.g. fd00:0:1::/64. */
  readonly prefix6: string;

  constructor(
    readonly topology: Topology,
    /** 1-based position in the topology. */
    readonly index: number,
    nodeA: Node,
    nodeB: Node,
    readonly options: LinkOptions,
  ) {
    const hi = index >> 8;
    const lo = index & 255;
    const net4 = `10.${hi}.${lo}`;
    const net6 = `fd00:0:${index.toString(16)}`;
    this.prefix4 = `${net4}.0/30`;
    this.prefix6 = `${net6}::/64`;
    const mk = (node: Node, side: 1 | 2): LinkEnd => {
      const mac = `02:00:00:${hex2(hi)}:${hex2(lo)}:0${side}`;
      const ll = `fe80::ff:fe${hex2(hi)}:${((lo << 8) | side).toString(16)}`;
      return new LinkEnd(
        node,
        this,
        `eth${node.interfaces.length}`,
        mac,
        `${net4}.${side}`,
        `${net6}::${side}`,
        ll,
      );
    };
    this.a = mk(nodeA, 1);
    nodeA.interfaces.push(this.a);
    this.b = mk(nodeB, 2);
    nodeB.interfaces.push(this.b);
  }

  /** This link's end inside node. */
  end(node: Node): LinkEnd {
    if (this.a.node === node) return this.a;
    if (this.b.node === node) return this.b;
    throw new Error(`node ${node.name} is not on link ${this.index}`);
  }

  /** The end opposite node. */
  other(node: Node): LinkEnd {
    return this.end(node) === this.a ? this.b : this.a;
  }

  /** Take both ends down (traffic stops; daemons see the interface go down). */
  async cut(): Promise<void> {
    await this.bothEnds((e) => e.node.run(['ip', 'link', 'set', e.ifname, 'down']));
  }

  /** Bring both ends back up; resolves once both report carrier (bounded, 5 s). */
  async restore(): Promise<void> {
    await this.bothEnds((e) => e.node.run(['ip', 'link', 'set', e.ifname, 'up']));
    await this.bothEnds((e) => e.node.waitInterfacesUp([e]));
  }

  /** Rate-limit both directions with tbf (null removes the limit). */
  async setRate(rate: RateLimit | null): Promise<void> {
    await this.bothEnds((e) => e.node.run(rateArgv(e.ifname, rate)));
  }

  /** Drop packets arriving at either end (both directions), with nftables inside the nodes. */
  async drop(spec: DropSpec = {}): Promise<void> {
    const match = [
      spec.udpPort !== undefined ? `udp dport ${spec.udpPort}` : '',
      spec.tcpPort !== undefined ? `tcp dport ${spec.tcpPort}` : '',
      spec.match ?? '',
    ]
      .filter((s) => s !== '')
      .join(' ');
    await this.bothEnds((e) => {
      const t = dropTable(e);
      const rules = [
        `table inet ${t} {}`,
        `delete table inet ${t}`,
        `table inet ${t} {`,
        `  chain in { type filter hook prerouting priority -300; iifname "${e.ifname}" ${match} drop; }`,
        `}`,
      ].join('\n');
      return e.node.run(['nft', '-f', '-'], { input: rules });
    });
  }

  /** Remove any drop rules set by drop(). */
  async undrop(): Promise<void> {
    await this.bothEnds((e) => {
      const t = dropTable(e);
      return e.node.run(['nft', '-f', '-'], { input: `table inet ${t} {}\ndelete table inet ${t}\n` });
    });
  }

  private async bothEnds(fn: (e: LinkEnd) => Promise<unknown>): Promise<void> {
    await Promise.all([fn(this.a), fn(this.b)]);
  }
}

function dropTable(e: LinkEnd): string {
  return `topo_drop_${e.ifname}`;
}

function rateArgv(ifname: string, rate: RateLimit | null): string[] {
  if (rate === null) return ['sh', '-c', `tc qdisc del dev ${ifname} root 2>/dev/null || true`];
  return [
    'tc',
    'qdisc',
    'replace',
    'dev',
    ifname,
    'root',
    'tbf',
    'rate',
    rate.rate,
    'burst',
    rate.burst ?? '16kb',
    'latency',
    rate.latency ?? '50ms',
  ];
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

// ===== Topology =====

/** A set of nodes and links, launched and destroyed as one. */
export class Topology {
  readonly nodes: Node[] = [];
  readonly links: Link[] = [];
  private dirValue: string | null = null;
  private readonly procs: Proc[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];
  private launchState: 'new' | 'launching' | 'up' | 'destroyed' = 'new';
  private destroying: Promise<void> | null = null;

  constructor(
    readonly name: string,
    readonly options: TopologyOptions = {},
  ) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`topology name '${name}': use [A-Za-z0-9_.-]`);
  }

  /** Declare a node. */
  node(name: string, opts: NodeOptions = {}): Node {
    this.assertNew();
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`node name '${name}': use [A-Za-z0-9_-]`);
    if (this.nodes.some((n) => n.name === name)) throw new Error(`node '${name}' declared twice`);
    const n = new Node(this, name, this.nodes.length + 1, opts);
    this.nodes.push(n);
    return n;
  }

  /** Declare a point-to-point link between two nodes. */
  link(a: Node, b: Node, opts: LinkOptions = {}): Link {
    this.assertNew();
    if (a === b) throw new Error(`link from ${a.name} to itself`);
    if (a.topology !== this || b.topology !== this) throw new Error('link between nodes of another topology');
    const l = new Link(this, this.links.length + 1, a, b, opts);
    this.links.push(l);
    return l;
  }

  /** Look a node up by name. */
  get(name: string): Node {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node '${name}' in topology ${this.name}`);
    return n;
  }

  /** The per-topology directory (logs, configs), created by launch. */
  get dir(): string {
    if (this.dirValue === null) throw new Error(`topology ${this.name}: not launched`);
    return this.dirValue;
  }

  /** Create the namespaces, links and addresses. On failure, everything made so far is destroyed. */
  async launch(): Promise<void> {
    this.assertNew();
    this.launchState = 'launching';
    try {
      await this.doLaunch();
      this.launchState = 'up';
    } catch (e) {
      await this.destroy();
      throw e;
    }
  }

  private async doLaunch(): Promise<void> {
    const dir = mkdtempSync(join(this.options.baseDir ?? tmpdir(), `lodestone-topo-${this.name}-`));
    chmodSync(dir, 0o755);
    this.dirValue = dir;
    for (const n of this.nodes) {
      mkdirSync(n.dir);
      chmodSync(n.dir, 0o755);
    }
    await Promise.all(this.nodes.map((n) => n.startHolder()));
    await Promise.all(this.nodes.map((n) => n.sh(nodeSetupScript(n))));
    if (this.links.length > 0) {
      const batch = this.links.map((l) => vethCommand(l)).join('\n') + '\n';
      await execArgv(['ip', '-batch', '-'], { input: batch, check: true });
    }
    await Promise.all(
      this.nodes.map(async (n) => {
        await n.run(['ip', '-batch', '-'], { input: nodeAddressBatch(n) });
        for (const e of n.interfaces) {
          if (e.link.options.rate !== undefined) await n.run(rateArgv(e.ifname, e.link.options.rate));
        }
        await n.waitInterfacesUp();
      }),
    );
  }

  /** @internal Remember a process to kill at destroy. */
  track(proc: Proc): void {
    this.procs.push(proc);
  }

  /** Run fn at destroy, before processes are killed (newest first); e.g. a daemon's graceful stop. */
  onDestroy(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** Every PID this topology holds: namespace holders and started processes still running. */
  pids(): number[] {
    const holders = this.nodes.flatMap((n) => {
      try {
        return [n.pid];
      } catch {
        return [];
      }
    });
    return [...holders, ...this.procs.filter((p) => p.running).map((p) => p.pid)];
  }

  /** Kill every process started, then the namespaces; remove the directory. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.doDestroy();
    return this.destroying;
  }

  private async doDestroy(): Promise<void> {
    this.launchState = 'destroyed';
    const errors: unknown[] = [];
    for (const fn of this.cleanups.reverse()) {
      try {
        await Promise.race([fn(), sleep(5_000)]);
      } catch (e) {
        errors.push(e);
      }
    }
    await Promise.all(this.procs.map((p) => p.stop(1_000)));
    const results = await Promise.allSettled(this.nodes.map((n) => n.killNamespace()));
    for (const r of results) if (r.status === 'rejected') errors.push(r.reason);
    if (this.dirValue !== null && this.options.keepDir !== true) {
      rmSync(this.dirValue, { recursive: true, force: true });
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, `topology ${this.name}: destroy had ${errors.length} error(s)`);
    }
  }

  /** Nodes, links and addresses as plain data (for printing and state files). */
  describe(): TopologySummary {
    return {
      name: this.name,
      dir: this.dirValue,
      nodes: this.nodes.map((n) => ({
        name: n.name,
        pid: this.launchState === 'up' ? n.pid : null,
        loopback4: n.loopback4,
        loopback6: n.loopback6,
        interfaces: n.interfaces.map((e) => ({
          ifname: e.ifname,
          peer: e.link.other(n).node.name,
          peerIfname: e.link.other(n).ifname,
          addr4: e.cidr4,
          addr6: e.cidr6,
          linkLocal6: e.linkLocal6,
        })),
      })),
      links: this.links.map((l) => ({
        index: l.index,
        a: `${l.a.node.name}:${l.a.ifname}`,
        b: `${l.b.node.name}:${l.b.ifname}`,
        prefix4: l.prefix4,
        prefix6: l.prefix6,
        ...(l.options.rate !== undefined ? { rate: l.options.rate } : {}),
      })),
    };
  }

  private assertNew(): void {
    if (this.launchState !== 'new') throw new Error(`topology ${this.name}: already ${this.launchState}`);
  }
}

/** Plain-data view of a topology. */
export interface TopologySummary {
  readonly name: string;
  readonly dir: string | null;
  readonly nodes: readonly {
    readonly name: string;
    readonly pid: number | null;
    readonly loopback4: string;
    readonly loopback6: string;
    readonly interfaces: readonly {
      readonly ifname: string;
      readonly peer: string;
      readonly peerIfname: string;
      readonly addr4: string;
      readonly addr6: string;
      readonly linkLocal6: string;
    }[];
  }[];
  readonly links: readonly {
    readonly index: number;
    readonly a: string;
    readonly b: string;
    readonly prefix4: string;
    readonly prefix6: string;
    readonly rate?: RateLimit;
  }[];
}

// ===== Launch scripts =====

function nodeSetupScript(n: Node): string {
  const fwd = n.forwarding ? 1 : 0;
  const sysctls: [string, number][] = [
    ['ipv4/ip_forward', fwd],
    ['ipv6/conf/all/forwarding', fwd],
    ['ipv6/conf/default/forwarding', fwd],
    ['ipv6/conf/all/keep_addr_on_down', 1],
    ['ipv6/conf/default/keep_addr_on_down', 1],
    ['ipv6/conf/all/accept_dad', 0],
    ['ipv6/conf/default/accept_dad', 0],
    ['ipv4/fib_multipath_hash_policy', 1],
    ['ipv6/fib_multipath_hash_policy', 1],
  ];
  return [...sysctls.map(([k, v]) => `echo ${v} > /proc/sys/net/${k}`), 'ip link set lo up'].join('\n');
}

function vethCommand(l: Link): string {
  const mtu = l.options.mtu !== undefined ? ` mtu ${l.options.mtu}` : '';
  return (
    `link add ${l.a.ifname} netns ${l.a.node.pid} address ${l.a.mac}${mtu} type veth ` +
    `peer name ${l.b.ifname} netns ${l.b.node.pid} address ${l.b.mac}${mtu}`
  );
}

function nodeAddressBatch(n: Node): string {
  const lines = [`address add ${n.loopback4}/32 dev lo`, `address add ${n.loopback6}/128 dev lo`];
  for (const e of n.interfaces) {
    lines.push(`address add ${e.cidr4} dev ${e.ifname}`);
    lines.push(`address add ${e.cidr6} dev ${e.ifname} nodad`);
    lines.push(`link set ${e.ifname} up`);
  }
  return lines.join('\n') + '\n';
}
