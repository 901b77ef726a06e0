// Reference BGP speakers in topology nodes: FRR (zebra, bgpd, bfdd), BIRD 2 and GoBGP started from
// one small description, and their state read back as data through their own query tools
// (vtysh JSON, birdc, gobgp -j). Each helper stops its daemons when the topology is destroyed.
//
// Quirks handled here (see /work/shared/reference/interop-notes.md):
//   - FRR refuses to run as root: its files live in a per-node directory owned by frr, daemons run
//     with -u frr -g frr in the foreground (so the PID we hold is the daemon's); bgpd gets -n (no
//     kernel install); zebra always runs, since bgpd reaches bfdd and next-hop tracking through it.
//   - eBGP needs explicit policy: FRR `no bgp ebgp-requires-policy`, BIRD `import all; export all`.
//   - BIRD needs `protocol device {}` or next hops do not resolve.
//   - GoBGP sends IPv6 routes over an IPv4 session with an IPv4 next hop, so every session here
//     carries only the address family of its neighbour address (all three daemons, for symmetry).
//   - GoBGP's API listens on 127.0.0.1:50051 inside the namespace; loopback is private per node.

import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './proc.js';
import type { Proc } from './proc.js';
import type { Node } from './topology.js';

// ===== Descriptions =====

/** One BGP neighbour. The session carries the address family of `address` only. */
export interface BgpNeighbor {
  readonly address: string;
  readonly asn: number;
  /** Do not open the connection; wait for the peer. */
  readonly passive?: boolean;
  /** Tie the session to a single-hop BFD session (FRR and BIRD only). */
  readonly bfd?: boolean;
}

/** A prefix to originate, optionally with communities ('65001:100') and large communities ('65001:1:2'). */
export interface Originate {
  readonly prefix: string;
  readonly communities?: readonly string[];
  readonly largeCommunities?: readonly string[];
}

/** What a speaker runs. */
export interface BgpSpeakerConfig {
  readonly asn: number;
  readonly routerId: string;
  readonly neighbors: readonly BgpNeighbor[];
  /** IPv4 and IPv6 prefixes to originate. */
  readonly originate?: readonly (string | Originate)[];
  /** BFD timers for neighbours with bfd (default 100 ms × 3). */
  readonly bfdIntervalMs?: number;
  readonly bfdMultiplier?: number;
  /** Hold time in seconds (default 9; keepalive a third of it). */
  readonly holdTime?: number;
  /**
   * Graceful restart (RFC 4724) on every session, FRR and BIRD only. FRR also claims preserved
   * forwarding state (F bit) for its families.
   */
  readonly gracefulRestart?: boolean;
}

// ===== State as data =====

export type BgpState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established';

/** A BGP session as the speaker reports it. */
export interface BgpSession {
  readonly peer: string;
  readonly peerAs: number;
  readonly state: BgpState;
}

/** A route in the speaker's RIB. */
export interface BgpRoute {
  readonly prefix: string;
  /**
   * Next hop; absent for locally originated routes that have none. BIRD reports the gateway it
   * resolved, or the NEXT_HOP attribute when the next hop does not resolve.
   */
  readonly nextHop?: string;
  /** AS path as a flat list (empty for local routes). */
  readonly asPath: readonly number[];
  /** True when learned from a BGP neighbour (false for local origination). */
  readonly learned: boolean;
  /** LOCAL_PREF when the route carries one (iBGP routes). */
  readonly localPref?: number;
}

/** A BFD session as the speaker reports it. */
export interface BfdPeer {
  readonly peer: string;
  readonly state: 'up' | 'down' | 'init' | 'admindown';
}

/** A running reference speaker. */
export interface BgpSpeaker {
  readonly kind: 'frr' | 'bird' | 'gobgp';
  readonly node: Node;
  readonly config: BgpSpeakerConfig;
  /** PIDs of the speaker's daemons. */
  pids(): number[];
  sessions(): Promise<BgpSession[]>;
  routes(family: 4 | 6): Promise<BgpRoute[]>;
  bfdPeers(): Promise<BfdPeer[]>;
  /**
   * Administratively shut a session down: the speaker sends a Cease NOTIFICATION, carrying
   * `message` as an RFC 9003 shutdown communication when given.
   */
  shutdownNeighbor(address: string, message?: string): Promise<void>;
  /**
   * Ask a neighbour to send its routes again: FRR `clear bgp ... soft in`, BIRD `reload in`, GoBGP
   * `softresetin` (each sends a ROUTE-REFRESH when the neighbour supports it).
   */
  softResetIn(address: string): Promise<void>;
  /** Stop originating a prefix from the description (withdrawn from every neighbour). */
  withdraw(prefix: string): Promise<void>;
  /**
   * Stop the BGP daemon (FRR: bgpd only): SIGTERM, or SIGKILL with `kill` so that no NOTIFICATION
   * goes out. Resolves once it has exited.
   */
  stopDaemon(opts?: { readonly kill?: boolean }): Promise<void>;
  /**
   * Start the BGP daemon again after stopDaemon, with the current description or, when given, one
   * with other originations (same neighbours). Resolves once it answers its query tool.
   */
  startDaemon(config?: BgpSpeakerConfig): Promise<void>;
  stop(): Promise<void>;
}

/** Wait (bounded) until the speaker reports every neighbour (or the ones named) Established. */
export async function waitEstablished(
  s: BgpSpeaker,
  opts: { readonly peers?: readonly string[]; readonly timeoutMs?: number } = {},
): Promise<void> {
  const want = opts.peers ?? s.config.neighbors.map((n) => n.address);
  await waitFor(
    async () => {
      const sessions = await s.sessions();
      return want.every((p) => sessions.some((x) => sameAddr(x.peer, p) && x.state === 'established'));
    },
    {
      what: `${s.kind} on ${s.node.name}: sessions to ${want.join(', ')} Established`,
      timeoutMs: opts.timeoutMs ?? 30_000,
      intervalMs: 250,
    },
  );
}

/** Wait (bounded) until the speaker has learned every prefix named (from any neighbour). */
export async function waitRoutes(
  s: BgpSpeaker,
  family: 4 | 6,
  prefixes: readonly string[],
  timeoutMs = 20_000,
): Promise<BgpRoute[]> {
  return waitFor(
    async () => {
      const routes = (await s.routes(family)).filter((r) => r.learned);
      return prefixes.every((p) => routes.some((r) => r.prefix === p)) ? routes : null;
    },
    { what: `${s.kind} on ${s.node.name}: learned ${prefixes.join(', ')}`, timeoutMs, intervalMs: 250 },
  );
}

function sameAddr(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function familyOf(addrOrPrefix: string): 4 | 6 {
  return addrOrPrefix.includes(':') ? 6 : 4;
}

function originations(cfg: BgpSpeakerConfig): Originate[] {
  return (cfg.originate ?? []).map((o) => (typeof o === 'string' ? { prefix: o } : o));
}

function withoutPrefix(cfg: BgpSpeakerConfig, prefix: string): (string | Originate)[] {
  return (cfg.originate ?? []).filter((o) => (typeof o === 'string' ? o : o.prefix) !== prefix);
}

function normaliseState(s: string): BgpState {
  const k = s.toLowerCase().replace(/[^a-z]/g, '');
  switch (k) {
    case 'established':
      return 'established';
    case 'opensent':
      return 'opensent';
    case 'openconfirm':
      return 'openconfirm';
    case 'connect':
      return 'connect';
    case 'active':
    case 'passive':
      return 'active';
    default:
      return 'idle';
  }
}

function bfdState(s: string): BfdPeer['state'] {
  const k = s.toLowerCase().replace(/[^a-z]/g, '');
  if (k === 'up' || k === 'init' || k === 'admindown') return k;
  return 'down';
}

/** Stop processes newest first. */
async function stopAll(procs: readonly Proc[]): Promise<void> {
  for (const p of [...procs].reverse()) await p.stop(2_000);
}

/** Stop one daemon process: SIGKILL (a crash, as for graceful restart) or a clean stop. */
async function stopDaemonProc(p: Proc, opts: { readonly kill?: boolean }): Promise<void> {
  if (opts.kill === true) {
    p.signal('SIGKILL');
    await p.exited;
  } else await p.stop(5_000);
}

// ===== BIRD 2 =====

/** Start BIRD 2 in node from a description; resolves once its control socket answers. */
export async function startBird(node: Node, config: BgpSpeakerConfig): Promise<BgpSpeaker> {
  const dir = join(node.dir, 'bird');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'bird.conf');
  const sock = join(dir, 'bird.ctl');
  let current = config;
  writeFileSync(conf, birdConfig(current));
  const launch = (): Proc =>
    node.spawn('bird', ['-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid')], {
      logFile: join(dir, 'bird.log'),
    });
  let proc = launch();
  const birdc = (cmd: string): Promise<string> => node.run(['birdc', '-s', sock, ...cmd.split(' ')]);
  const answers = (): Promise<unknown> =>
    waitFor(async () => (await node.exec(['birdc', '-s', sock, 'show', 'status'])).code === 0, {
      what: `bird on ${node.name} to answer on its control socket`,
      timeoutMs: 10_000,
    });
  const names = config.neighbors.map((_, i) => `peer${i + 1}`);
  const speaker: BgpSpeaker = {
    kind: 'bird',
    node,
    config,
    pids: () => (proc.running ? [proc.pid] : []),
    sessions: async () => parseBirdProtocols(await birdc('show protocols'), config, names),
    routes: async (family) => parseBirdRoutes(await birdc(`show route all table master${family}`), names),
    bfdPeers: async () => parseBirdBfd(await birdc('show bfd sessions')),
    shutdownNeighbor: async (address, message) => {
      const i = config.neighbors.findIndex((n) => sameAddr(n.address, address));
      if (i < 0) throw new Error(`bird on ${node.name}: no neighbour ${address}`);
      const argv = ['birdc', '-s', sock, 'disable', names[i]!];
      if (message !== undefined) argv.push(JSON.stringify(message));
      await node.run(argv);
    },
    softResetIn: async (address) => {
      const i = config.neighbors.findIndex((n) => sameAddr(n.address, address));
      if (i < 0) throw new Error(`bird on ${node.name}: no neighbour ${address}`);
      await birdc(`reload in ${names[i]!}`);
    },
    withdraw: async (prefix) => {
      current = { ...current, originate: withoutPrefix(current, prefix) };
      writeFileSync(conf, birdConfig(current));
      await birdc('configure');
    },
    stopDaemon: (opts = {}) => stopDaemonProc(proc, opts),
    startDaemon: async (next) => {
      if (next !== undefined) current = next;
      writeFileSync(conf, birdConfig(current));
      proc = launch();
      await answers();
    },
    stop: () => stopAll([proc]),
  };
  node.topology.onDestroy(() => speaker.stop());
  await answers();
  return speaker;
}

/** BIRD 2 configuration for a description. */
export function birdConfig(cfg: BgpSpeakerConfig): string {
  const orig = originations(cfg);
  const lines: string[] = ['log stderr all;', `router id ${cfg.routerId};`, 'protocol device {}'];
  for (const fam of [4, 6] as const) {
    const mine = orig.filter((o) => familyOf(o.prefix) === fam);
    lines.push(`protocol static static${fam} {`, `  ipv${fam};`);
    for (const o of mine) lines.push(`  route ${o.prefix} blackhole;`);
    lines.push('}');
  }
  const bfdPeers = cfg.neighbors.filter((n) => n.bfd === true);
  if (bfdPeers.length > 0) {
    const iv = cfg.bfdIntervalMs ?? 100;
    lines.push(
      'protocol bfd {',
      `  interface "*" { min rx interval ${iv} ms; min tx interval ${iv} ms; multiplier ${cfg.bfdMultiplier ?? 3}; };`,
      '}',
    );
  }
  // Communities are attached on export, per originated prefix.
  const exportFilter = (fam: 4 | 6): string => {
    const sets = orig
      .filter((o) => familyOf(o.prefix) === fam)
      .filter((o) => (o.communities?.length ?? 0) + (o.largeCommunities?.length ?? 0) > 0)
      .map((o) => {
        const adds = [
          ...(o.communities ?? []).map((c) => `bgp_community.add((${c.replace(':', ',')}));`),
          ...(o.largeCommunities ?? []).map((c) => `bgp_large_community.add((${c.split(':').join(',')}));`),
        ];
        return `if net = ${o.prefix} then { ${adds.join(' ')} }`;
      });
    return sets.length === 0 ? 'export all;' : `export filter { ${sets.join(' ')} accept; };`;
  };
  // iBGP next hops resolve recursively (BIRD's default for iBGP) through a table of their own, fed
  // with the connected networks only, so that the connected routes are not exported over BGP.
  const ibgp = cfg.neighbors.some((n) => n.asn === cfg.asn);
  if (ibgp) {
    lines.push(
      'ipv4 table igp4;',
      'ipv6 table igp6;',
      'protocol direct connected {',
      '  ipv4 { table igp4; };',
      '  ipv6 { table igp6; };',
      '}',
    );
  }
  const hold = cfg.holdTime ?? 9;
  cfg.neighbors.forEach((n, i) => {
    const fam = familyOf(n.address);
    const igp = n.asn === cfg.asn ? ` igp table igp${fam};` : '';
    lines.push(
      `protocol bgp peer${i + 1} {`,
      `  local as ${cfg.asn};`,
      `  neighbor ${n.address} as ${n.asn};`,
      `  hold time ${hold}; keepalive time ${Math.max(1, Math.floor(hold / 3))};`,
      `  connect retry time 1; start delay time 1; error wait time 1, 5;`,
      ...(n.passive === true ? ['  passive on;'] : []),
      ...(n.bfd === true ? ['  bfd on;'] : []),
      ...(cfg.gracefulRestart === true ? ['  graceful restart on;'] : []),
      `  ipv${fam} {${igp} import all; ${exportFilter(fam)} };`,
      '}',
    );
  });
  return lines.join('\n') + '\n';
}

function parseBirdProtocols(out: string, cfg: BgpSpeakerConfig, names: readonly string[]): BgpSession[] {
  const sessions: BgpSession[] = [];
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const i = names.indexOf(cols[0] ?? '');
    const n = cfg.neighbors[i];
    if (n === undefined || cols[1] !== 'BGP') continue;
    // name proto table state since(date and/or time) info; the BGP state is the last column.
    const info = cols[cols.length - 1] ?? '';
    sessions.push({ peer: n.address, peerAs: n.asn, state: normaliseState(info) });
  }
  return sessions;
}

function parseBirdRoutes(out: string, bgpNames: readonly string[]): BgpRoute[] {
  const routes: BgpRoute[] = [];
  let prefix = '';
  let cur: {
    prefix: string;
    nextHop?: string;
    asPath: number[];
    learned: boolean;
    localPref?: number;
  } | null = null;
  const flush = (): void => {
    if (cur !== null) routes.push(cur);
    cur = null;
  };
  for (const line of out.split('\n')) {
    // "10.1.0.0/24          unicast [peer1 08:00:00.000] * (100) [AS65001i]" starts a route;
    // further routes to the same prefix start with whitespace and "unicast [".
    const head = /^(\S+)?\s+(unicast|blackhole|unreachable|prohibit)\s+\[(\S+)/.exec(line);
    if (head !== null) {
      flush();
      if (head[1] !== undefined) prefix = head[1];
      cur = { prefix, asPath: [], learned: bgpNames.includes(head[3] ?? '') };
      continue;
    }
    if (cur === null) continue;
    const c: { nextHop?: string; asPath: number[]; localPref?: number } = cur;
    const via = /^\s+via (\S+)/.exec(line);
    if (via !== null && c.nextHop === undefined) c.nextHop = via[1]!;
    // A route whose next hop does not resolve (iBGP, third-party next hop) has no "via" line; its
    // NEXT_HOP attribute ("BGP.next_hop: 10.0.0.1" or "2001:db8::1 fe80::1") names it then.
    const attrNh = /^\s+BGP\.next_hop:\s*(\S+)/.exec(line);
    if (attrNh !== null && c.nextHop === undefined) c.nextHop = attrNh[1]!;
    const path = /^\s+BGP\.as_path:(.*)$/.exec(line);
    if (path !== null) c.asPath = (path[1] ?? '').match(/\d+/g)?.map(Number) ?? [];
    const lp = /^\s+BGP\.local_pref:\s*(\d+)/.exec(line);
    if (lp !== null) c.localPref = Number(lp[1]);
  }
  flush();
  return routes;
}

function parseBirdBfd(out: string): BfdPeer[] {
  const peers: BfdPeer[] = [];
  for (const line of out.split('\n')) {
    // "IP address                Interface  State      Since         Interval  Timeout"
    const m = /^(\S*[.:]\S*)\s+(\S+)\s+(Up|Down|Init|AdminDown)\b/i.exec(line.trim());
    if (m !== null) peers.push({ peer: m[1]!, state: bfdState(m[3]!) });
  }
  return peers;
}

// ===== FRR =====

const FRR_DIR = '/usr/lib/frr';

/** Start FRR (zebra, bgpd, and bfdd when a neighbour uses BFD) in node; resolves once vtysh answers. */
export async function startFrr(node: Node, config: BgpSpeakerConfig): Promise<BgpSpeaker> {
  const dir = join(node.dir, 'frr');
  mkdirSync(dir, { recursive: true });
  const ids = frrIds();
  const withBfd = config.neighbors.some((n) => n.bfd === true);
  const files: Record<string, string> = {
    zebra: `hostname ${node.name}\nlog stdout informational\n`,
    bgpd: frrBgpConfig(node.name, config),
    ...(withBfd ? { bfdd: frrBfdConfig(node.name, config) } : {}),
  };
  for (const [d, text] of Object.entries(files)) writeFileSync(join(dir, `${d}.conf`), text);
  chownTree(dir, Object.keys(files), ids);
  const procs: Proc[] = [];
  const start = (daemon: string, extra: string[]): void => {
    procs.push(
      node.spawn(
        join(FRR_DIR, daemon),
        [
          '-u',
          'frr',
          '-g',
          'frr',
          '-f',
          join(dir, `${daemon}.conf`),
          '-i',
          join(dir, `${daemon}.pid`),
          '-z',
          join(dir, 'zserv.api'),
          '--vty_socket',
          dir,
          ...extra,
        ],
        { logFile: join(node.dir, `frr-${daemon}.log`) },
      ),
    );
  };
  const vtysh = (...cmds: string[]): Promise<string> =>
    node.run(['vtysh', '--vty_socket', dir, ...cmds.flatMap((c) => ['-c', c])]);
  let current = config;
  const bgpdAnswers = (): Promise<unknown> =>
    waitFor(
      async () => (await node.exec(['vtysh', '--vty_socket', dir, '-c', 'show bgp summary json'])).code === 0,
      { what: `FRR bgpd on ${node.name} to answer vtysh`, timeoutMs: 10_000 },
    );
  const speaker: BgpSpeaker = {
    kind: 'frr',
    node,
    config,
    pids: () => procs.filter((p) => p.running).map((p) => p.pid),
    sessions: async () => parseFrrNeighbors(await vtysh('show bgp neighbors json')),
    routes: async (family) => parseFrrRoutes(await vtysh(`show bgp ipv${family} unicast json`)),
    bfdPeers: async () => parseFrrBfd(await vtysh('show bfd peers json')),
    shutdownNeighbor: async (address, message) => {
      const msg = message !== undefined ? ` message ${message}` : '';
      await vtysh('configure terminal', `router bgp ${config.asn}`, `neighbor ${address} shutdown${msg}`);
    },
    softResetIn: async (address) => {
      await vtysh(`clear bgp ipv${familyOf(address)} unicast ${address} soft in`);
    },
    withdraw: async (prefix) => {
      current = { ...current, originate: withoutPrefix(current, prefix) };
      await vtysh(
        'configure terminal',
        `router bgp ${config.asn}`,
        `address-family ipv${familyOf(prefix)} unicast`,
        `no network ${prefix}`,
      );
    },
    stopDaemon: async (opts = {}) => {
      const bgpd = procs.find((p) => p.running && p.argv.some((a) => a.endsWith('/bgpd')));
      if (bgpd === undefined) return;
      await stopDaemonProc(bgpd, opts);
    },
    startDaemon: async (next) => {
      if (next !== undefined) current = next;
      const text = frrBgpConfig(node.name, current);
      writeFileSync(join(dir, 'bgpd.conf'), text);
      chownTree(dir, ['bgpd'], ids);
      start('bgpd', ['-n']);
      await bgpdAnswers();
    },
    stop: () => stopAll(procs),
  };
  node.topology.onDestroy(() => speaker.stop());
  start('zebra', []);
  const zebra = procs[0]!;
  await waitFor(
    () => {
      if (!zebra.running) throw new Error(`zebra exited; see ${zebra.logFile}`);
      return existsSync(join(dir, 'zserv.api'));
    },
    {
      what: `zebra on ${node.name} to open its zserv socket`,
      timeoutMs: 10_000,
      intervalMs: 50,
    },
  );
  if (withBfd) start('bfdd', []);
  start('bgpd', ['-n']);
  await bgpdAnswers();
  return speaker;
}

function frrIds(): { uid: number; gid: number } {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const m = /^frr:[^:]*:(\d+):(\d+):/m.exec(passwd);
  if (m === null) throw new Error('user frr not found (is the frr package installed?)');
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

function chownTree(dir: string, daemons: readonly string[], ids: { uid: number; gid: number }): void {
  chownSync(dir, ids.uid, ids.gid);
  for (const d of daemons) chownSync(join(dir, `${d}.conf`), ids.uid, ids.gid);
}

/** FRR bgpd configuration for a description. */
export function frrBgpConfig(hostname: string, cfg: BgpSpeakerConfig): string {
  const orig = originations(cfg);
  const hold = cfg.holdTime ?? 9;
  const lines = [
    'frr defaults traditional',
    `hostname ${hostname}`,
    'log stdout informational',
    '!',
    `router bgp ${cfg.asn}`,
    ` bgp router-id ${cfg.routerId}`,
    ' bgp log-neighbor-changes',
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' no bgp default ipv4-unicast',
    ` timers bgp ${Math.max(1, Math.floor(hold / 3))} ${hold}`,
    ...(cfg.gracefulRestart === true
      ? [' bgp graceful-restart', ' bgp graceful-restart preserve-fw-state']
      : []),
  ];
  for (const n of cfg.neighbors) {
    lines.push(` neighbor ${n.address} remote-as ${n.asn}`, ` neighbor ${n.address} timers connect 1`);
    if (n.passive === true) lines.push(` neighbor ${n.address} passive`);
    if (n.bfd === true) lines.push(` neighbor ${n.address} bfd`);
  }
  for (const fam of [4, 6] as const) {
    lines.push(` address-family ipv${fam} unicast`);
    orig.forEach((o, i) => {
      if (familyOf(o.prefix) !== fam) return;
      const hasComm = (o.communities?.length ?? 0) + (o.largeCommunities?.length ?? 0) > 0;
      lines.push(`  network ${o.prefix}${hasComm ? ` route-map ORIG${i}` : ''}`);
    });
    for (const n of cfg.neighbors)
      if (familyOf(n.address) === fam) lines.push(`  neighbor ${n.address} activate`);
    lines.push(' exit-address-family');
  }
  orig.forEach((o, i) => {
    if ((o.communities?.length ?? 0) + (o.largeCommunities?.length ?? 0) === 0) return;
    lines.push('!', `route-map ORIG${i} permit 10`);
    if (o.communities?.length) lines.push(` set community ${o.communities.join(' ')}`);
    if (o.largeCommunities?.length) lines.push(` set large-community ${o.largeCommunities.join(' ')}`);
  });
  return lines.join('\n') + '\n';
}

function frrBfdConfig(hostname: string, cfg: BgpSpeakerConfig): string {
  const iv = cfg.bfdIntervalMs ?? 100;
  const lines = [`hostname ${hostname}`, 'log stdout informational', 'bfd'];
  for (const n of cfg.neighbors.filter((x) => x.bfd === true)) {
    lines.push(
      ` peer ${n.address}`,
      `  receive-interval ${iv}`,
      `  transmit-interval ${iv}`,
      `  detect-multiplier ${cfg.bfdMultiplier ?? 3}`,
      ' exit',
    );
  }
  return lines.join('\n') + '\n';
}

function parseFrrNeighbors(json: string): BgpSession[] {
  const data = JSON.parse(json) as Record<string, { remoteAs?: number; bgpState?: string }>;
  return Object.entries(data)
    .filter(([, v]) => typeof v === 'object' && v.bgpState !== undefined)
    .map(([peer, v]) => ({ peer, peerAs: v.remoteAs ?? 0, state: normaliseState(v.bgpState ?? '') }));
}

interface FrrPath {
  valid?: boolean;
  bestpath?: boolean;
  path?: string;
  peerId?: string;
  locPrf?: number;
  nexthops?: { ip?: string; afi?: string }[];
}

function parseFrrRoutes(json: string): BgpRoute[] {
  const data = JSON.parse(json) as { routes?: Record<string, FrrPath[]> };
  const out: BgpRoute[] = [];
  for (const [prefix, paths] of Object.entries(data.routes ?? {})) {
    for (const p of paths) {
      const nh = p.nexthops?.find((n) => n.ip !== undefined && n.ip !== '0.0.0.0' && n.ip !== '::')?.ip;
      out.push({
        prefix,
        ...(nh !== undefined ? { nextHop: nh } : {}),
        asPath: (p.path ?? '').match(/\d+/g)?.map(Number) ?? [],
        learned: p.peerId !== undefined && p.peerId !== '(unspec)',
        ...(p.locPrf !== undefined ? { localPref: p.locPrf } : {}),
      });
    }
  }
  return out;
}

function parseFrrBfd(json: string): BfdPeer[] {
  const data = JSON.parse(json) as { peer?: string; status?: string }[];
  return data
    .filter((p) => p.peer !== undefined)
    .map((p) => ({ peer: p.peer!, state: bfdState(p.status ?? '') }));
}

// ===== GoBGP =====

const GOBGP_API = ['-u', '127.0.0.1', '-p', '50051'];

/** Start GoBGP in node; originates the described prefixes through its CLI once its API answers. */
export async function startGobgp(node: Node, config: BgpSpeakerConfig): Promise<BgpSpeaker> {
  if (config.neighbors.some((n) => n.bfd === true)) throw new Error('GoBGP has no BFD');
  const dir = join(node.dir, 'gobgp');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'gobgpd.toml');
  writeFileSync(conf, gobgpConfig(config));
  const launch = (): Proc =>
    node.spawn('gobgpd', ['-f', conf, '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'], {
      logFile: join(dir, 'gobgpd.log'),
    });
  let proc = launch();
  let current = config;
  const gobgp = (...args: string[]): Promise<string> => node.run(['gobgp', ...GOBGP_API, ...args]);
  const answersAndOriginates = async (): Promise<void> => {
    await waitFor(async () => (await node.exec(['gobgp', ...GOBGP_API, 'global', '-j'])).code === 0, {
      what: `gobgpd on ${node.name} to answer on its API`,
      timeoutMs: 10_000,
    });
    for (const o of originations(current)) {
      const args = ['global', 'rib', '-a', `ipv${familyOf(o.prefix)}`, 'add', o.prefix];
      if (o.communities?.length) args.push('community', o.communities.join(','));
      if (o.largeCommunities?.length) args.push('large-community', o.largeCommunities.join(','));
      await gobgp(...args);
    }
  };
  const speaker: BgpSpeaker = {
    kind: 'gobgp',
    node,
    config,
    pids: () => (proc.running ? [proc.pid] : []),
    sessions: async () => parseGobgpNeighbors(await gobgp('neighbor', '-j')),
    routes: async (family) => parseGobgpRib(await gobgp('global', 'rib', '-a', `ipv${family}`, '-j')),
    bfdPeers: () => Promise.resolve([]),
    shutdownNeighbor: async (address, message) => {
      await gobgp('neighbor', address, 'shutdown', ...(message !== undefined ? ['--reason', message] : []));
    },
    softResetIn: async (address) => {
      await gobgp('neighbor', address, 'softresetin', '-a', `ipv${familyOf(address)}`);
    },
    withdraw: async (prefix) => {
      current = { ...current, originate: withoutPrefix(current, prefix) };
      await gobgp('global', 'rib', '-a', `ipv${familyOf(prefix)}`, 'del', prefix);
    },
    stopDaemon: (opts = {}) => stopDaemonProc(proc, opts),
    startDaemon: async (next) => {
      if (next !== undefined) current = next;
      proc = launch();
      await answersAndOriginates();
    },
    stop: () => stopAll([proc]),
  };
  node.topology.onDestroy(() => speaker.stop());
  await answersAndOriginates();
  return speaker;
}

/** GoBGP TOML configuration for a description. */
export function gobgpConfig(cfg: BgpSpeakerConfig): string {
  const hold = cfg.holdTime ?? 9;
  const lines = ['[global.config]', `  as = ${cfg.asn}`, `  router-id = "${cfg.routerId}"`];
  for (const n of cfg.neighbors) {
    const fam = familyOf(n.address);
    lines.push(
      '',
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      '  [neighbors.timers.config]',
      `    hold-time = ${hold}`,
      `    keepalive-interval = ${Math.max(1, Math.floor(hold / 3))}`,
      '    connect-retry = 1',
      '  [neighbors.transport.config]',
      `    passive-mode = ${n.passive === true}`,
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "ipv${fam}-unicast"`,
    );
  }
  return lines.join('\n') + '\n';
}

interface GobgpPeer {
  conf?: { neighbor_address?: string; peer_asn?: number };
  state?: { session_state?: number | string; neighbor_address?: string; peer_asn?: number };
}

// GoBGP's API enum for session states.
const GOBGP_STATES: readonly BgpState[] = [
  'idle',
  'idle',
  'connect',
  'active',
  'opensent',
  'openconfirm',
  'established',
];

function parseGobgpNeighbors(json: string): BgpSession[] {
  const data = JSON.parse(json) as GobgpPeer[];
  return data.map((p) => {
    const s = p.state?.session_state;
    const state = typeof s === 'number' ? (GOBGP_STATES[s] ?? 'idle') : normaliseState(s ?? '');
    return {
      peer: p.conf?.neighbor_address ?? p.state?.neighbor_address ?? '',
      peerAs: p.conf?.peer_asn ?? p.state?.peer_asn ?? 0,
      state,
    };
  });
}

interface GobgpPath {
  nlri?: { prefix?: string };
  attrs?: { type?: number; nexthop?: string; as_paths?: { asns?: number[] }[]; value?: unknown }[];
  'neighbor-ip'?: string;
  'source-id'?: string;
}

function parseGobgpRib(json: string): BgpRoute[] {
  const data = JSON.parse(json === '' ? '{}' : json) as Record<string, GobgpPath[]>;
  const out: BgpRoute[] = [];
  for (const [prefix, paths] of Object.entries(data)) {
    for (const p of paths) {
      const nh = p.attrs?.find((a) => a.type === 3 || a.type === 14)?.nexthop;
      const asPath = p.attrs?.find((a) => a.type === 2)?.as_paths?.flatMap((seg) => seg.asns ?? []) ?? [];
      const lp = p.attrs?.find((a) => a.type === 5)?.value;
      const from = p['neighbor-ip'];
      out.push({
        prefix,
        ...(nh !== undefined && nh !== '0.0.0.0' && nh !== '::' ? { nextHop: nh } : {}),
        asPath,
        learned: from !== undefined && from !== '<nil>' && from !== '',
        ...(typeof lp === 'number' ? { localPref: lp } : {}),
      });
    }
  }
  return out;
}
