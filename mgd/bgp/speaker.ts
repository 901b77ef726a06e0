// A BGP speaker: one local AS with its neighbours, joining their sessions to the shared RIB
// (RFC 4271 §3.2, §9). Several speakers (one per local ASN) may share one daemon and one RIB.
//
//   listener ──accept──▶ Peer (FSM, transport) ──UPDATE──▶ Adj-RIB-In (before policy)
//                                                              │ rules + import policy
//                                                              ▼
//   RIB best-path changes ──changed prefixes──▶ per-neighbour queue (FIFO) ◀── RIB (shared)
//                                                              │ export rules + policy
//                                                              ▼
//                              Adj-RIB-Out diff ─▶ packed UPDATEs (wire/bgp/builder) ─▶ Peer.sendRaw
//
// Outbound work runs in bounded slices with a `setImmediate` between them and stops while the
// socket buffer is full (resuming on drain), so keepalives and timers keep running during a
// full-table dump. Also here: maximum-prefix (RFC 4486 §4), ROUTE-REFRESH with RFC 7313 BoRR/EoRR,
// End-of-RIB (RFC 4724 §2), the receiving side of graceful restart (RFC 4724 §4.2, RFC 8538) and
// per-neighbour status for the admin API.
//
// Full-table costs: the UPDATEs of one received chunk form one RIB batch; import verdicts and
// export outcomes are computed once per attribute set (per UPDATE) unless a policy matches prefix
// lists; Adj-RIB-In/Out and the queue hold no object per prefix, and Adj-RIB-In holds the RIB's
// interned attribute sets rather than copies. Export hears only prefixes whose best path changed
// (`Rib.onBestChange`), and not for the neighbour the new best path came from unless it has
// something of the prefix. `npm run bench:bgp` measures propagation of 100k and 1M prefixes
// against BIRD, FRR and GoBGP.

import pino from 'pino';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { AttrInterner } from '../../rib/intern.js';
import { sameHops, type Entry, type Path, type PathInput, type Rib } from '../../rib/rib.js';
import type { NextHop } from '../../rib/types.js';
import { buildAnnouncements, buildWithdrawals, endOfRib } from '../../wire/bgp/builder.js';
import {
  AFISAFI_IPV4_UNICAST,
  AFISAFI_IPV6_UNICAST,
  CeaseSubcode,
  ErrorCode,
  Origin,
  RouteRefreshSubtype,
} from '../../wire/bgp/constants.js';
import type { RouteRefreshMessage, UpdateMessage } from '../../wire/bgp/types.js';
import { Addr6, isPrefix4, parseAddr4, parseAddr6, type Addr4, type Prefix } from '../../wire/ip/index.js';
import {
  AdjRibIn,
  AdjRibOut,
  FAMILIES,
  Settled,
  familyOf,
  routeKey,
  isAccepted,
  sameOutRoute,
  IN_STALE,
  type InRoute,
  type InSet,
  type OutRoute,
} from './adj-rib.js';
import type { PrefixIds } from '../../rib/prefix-ids.js';
import { exportRoute, type ExportTarget, type PathOrigin } from './export.js';
import type { FsmConfig, TransitionReason } from './fsm.js';
import { nlriCount, parseUpdate, ruleFailure, type ImportSession } from './import.js';
import type { AddPathMode, LocalSessionSettings, NegotiatedSession } from './negotiate.js';
import { Peer, type PeerCounters, type PeerHandler } from './peer.js';
import {
  ACCEPT_ALL_POLICY,
  DEFAULT_EBGP_POLICY,
  compilePolicy,
  evaluatePolicy,
  type CompiledPolicy,
} from './policy.js';
import type { BgpTransport, Listener } from './transport.js';
import { afiOf, firstPath, prefixOf, selectedCount } from '../../rib/entry.js';

// ===== Settings =====

/** Maximum-prefix for one neighbour (RFC 4486 §4). */
export interface MaxPrefixSettings {
  /** Accepted prefixes allowed per family. */
  readonly limit: number;
  /** Per-family limits (AFI/SAFI key → limit) overriding `limit`. */
  readonly families?: ReadonlyMap<number, number>;
  /** `warn`: log and count; `restart`: Cease/1 and reconnect after `restartAfter` seconds. */
  readonly action: 'warn' | 'restart';
  readonly restartAfter: number;
}

/** One neighbour, resolved from the configuration. */
export interface NeighborSettings {
  /** Peer address; an IPv6 link-local address carries its interface as `fe80::1%eth0`. */
  readonly address: string;
  readonly port: number;
  readonly remoteAsn: number;
  readonly localAddress?: string;
  readonly fsm: FsmConfig;
  readonly families: readonly number[];
  readonly nextHopSelf: boolean;
  readonly allowAsIn: number;
  readonly enforceFirstAs: boolean;
  /** Compiled policies; undefined means the default (RFC 8212 reject on eBGP, accept on iBGP). */
  readonly importPolicy?: CompiledPolicy;
  readonly exportPolicy?: CompiledPolicy;
  readonly maxPrefix?: MaxPrefixSettings;
  /** Advertise graceful restart (receiving speaker) and keep the peer's routes when it restarts. */
  readonly gracefulRestart: boolean;
  /** Restart time we advertise (seconds). */
  readonly gracefulRestartTime: number;
  readonly addPath: ReadonlyMap<number, AddPathMode>;
  /** Offer IPv4 routes over IPv6 next hops (RFC 8950), e.g. on unnumbered link-local sessions. */
  readonly extendedNextHop?: boolean;
  readonly description?: string;
}

/** Neighbour defaults for fields a configuration may leave out. */
export const NEIGHBOR_DEFAULTS = {
  port: 179,
  families: [AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST] as readonly number[],
  nextHopSelf: false,
  allowAsIn: 0,
  enforceFirstAs: true,
  gracefulRestart: true,
  gracefulRestartTime: 120,
} as const;

/** What a speaker is built from. */
export interface SpeakerOptions {
  readonly asn: number;
  readonly routerId: Addr4;
  /** Where to accept connections; undefined runs without a listener (active neighbours only). */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly transport: BgpTransport;
  readonly clock: Clock;
  /** The shared RIB the speaker writes its neighbours' and originated routes into. */
  readonly rib: Rib;
  readonly neighbors: readonly NeighborSettings[];
  readonly originate?: readonly Prefix[];
  readonly redistributeStatic?: boolean;
  readonly log?: pino.Logger;
  readonly random?: () => number;
  /** Prefixes examined per outbound slice (default 8000: a few milliseconds of work per turn). */
  readonly sliceSize?: number;
  /** Keep stale routes at most this long after the peer is back without its End-of-RIB (s). */
  readonly stalePathTime?: number;
}

// ===== Status =====

/** Per-family prefix counts for the API. */
export interface FamilyCounts {
  readonly received: number;
  readonly accepted: number;
  readonly advertised: number;
  readonly stale: number;
}

/** Counters the speaker keeps beyond the session's message counters. */
export interface SpeakerCounters {
  treatAsWithdraw: number;
  rejectedByRules: number;
  rejectedByPolicy: number;
  unusableNextHop: number;
  ignoredFamily: number;
  maxPrefixExceeded: number;
  routeRefreshSent: number;
  endOfRibReceived: number;
  endOfRibSent: number;
  staleRemoved: number;
  /** Times outbound work stopped for a full socket buffer and waited for it to drain. */
  backpressureWaits: number;
}

/** One neighbour as the admin API shows it. */
export interface NeighborStatus {
  readonly address: string;
  readonly remoteAsn: number;
  readonly description?: string;
  readonly state: string;
  readonly lastTransition?: { from: string; to: string; at: number; reason: TransitionReason };
  readonly lastError?: string;
  readonly establishedAt?: number;
  readonly session?: {
    readonly peerBgpId: number;
    readonly ibgp: boolean;
    readonly fourOctetAs: boolean;
    readonly families: number[];
    readonly routeRefresh: boolean;
    readonly enhancedRouteRefresh: boolean;
    readonly extendedMessage: boolean;
    readonly gracefulRestart: boolean;
    readonly addPathRx: number[];
    readonly addPathTx: number[];
  };
  readonly counters: PeerCounters & SpeakerCounters;
  readonly families: Record<string, FamilyCounts>;
  readonly maxPrefixRestartAt?: number;
  readonly gracefulRestartUntil?: number;
}

// ===== Neighbour state =====

/** A neighbour with its session, Adj-RIBs and outbound queue. */
class Neighbor {
  peer!: Peer;
  readonly source: string;
  readonly addr: Addr4 | Addr6;
  readonly ifname: string | undefined;
  readonly adjIn: AdjRibIn;
  readonly adjOut: AdjRibOut;
  /** Messages to send once the export queue is empty (End-of-RIB, EoRR). */
  markers: { family: number; kind: 'eor' | 'eorr' }[] = [];
  session: NegotiatedSession | undefined;
  target: Map<number, ExportTarget> = new Map();
  importSession: ImportSession | undefined;
  flushScheduled = false;
  blocked = false;
  establishedAt: number | undefined;
  epoch = 0;
  readonly counters: SpeakerCounters = {
    treatAsWithdraw: 0,
    rejectedByRules: 0,
    rejectedByPolicy: 0,
    unusableNextHop: 0,
    ignoredFamily: 0,
    maxPrefixExceeded: 0,
    routeRefreshSent: 0,
    endOfRibReceived: 0,
    endOfRibSent: 0,
    staleRemoved: 0,
    backpressureWaits: 0,
  };
  maxPrefixOver = new Set<number>();
  maxPrefixTimer: TimerHandle | undefined;
  maxPrefixRestartAt: number | undefined;
  restartTimer: TimerHandle | undefined;
  restartUntil: number | undefined;
  staleTimer: TimerHandle | undefined;
  /** Families with stale routes waiting for the peer's End-of-RIB (or EoRR). */
  staleFamilies = new Set<number>();
  /** The import verdict of the last route imported (reused for the rest of its UPDATE). */
  lastImport: ImportVerdict | undefined;
  /** The next hops of the last UPDATE: equal ones are shared (a peer's UPDATEs mostly agree). */
  lastHops: readonly NextHop[] | undefined;
  /** Export results of prefix-independent export policies (see `ExportCache`). */
  readonly cache = new ExportCache();

  constructor(
    public settings: NeighborSettings,
    interner: AttrInterner,
    ids: PrefixIds,
  ) {
    // Keyed by the RIB's prefix ids: a prefix is hashed once for the RIB and every neighbour.
    this.adjIn = new AdjRibIn(interner, ids);
    this.adjOut = new AdjRibOut(ids);
    const [host, zone] = settings.address.split('%');
    this.ifname = zone;
    this.addr = parseAddress(host ?? '');
    this.source = `bgp:${settings.address}`;
  }

  get ebgp(): boolean {
    return this.session !== undefined ? !this.session.ibgp : true;
  }

  get pendingCount(): number {
    return this.adjOut.queued;
  }
}

function parseAddress(s: string): Addr4 | Addr6 {
  const a4 = parseAddr4(s);
  if (a4.ok) return a4.value;
  const a6 = parseAddr6(s);
  if (a6.ok) return a6.value;
  throw new Error(`'${s}' is not an IPv4 or IPv6 address`);
}

/** Canonical text of an address (as neighbours are keyed). */
function canonical(s: string): string {
  const [host, zone] = s.split('%');
  const a4 = parseAddr4(host ?? '');
  if (a4.ok) return host ?? '';
  const a6 = parseAddr6(host ?? '');
  if (!a6.ok) return s;
  return zone !== undefined ? `${a6.value.toString()}%${zone}` : a6.value.toString();
}

/**
 * The next hop of originated prefixes in the RIB: a path needs one, but an originated prefix is
 * only announced, not forwarded by us. The daemon keeps routes whose only next hop is this sink
 * out of the kernel (see `isOriginSink`).
 */
export const ORIGIN_SINK_IFNAME = 'lo';
const SINK4: readonly NextHop[] = Object.freeze([{ addr: 0, ifname: ORIGIN_SINK_IFNAME }]);
const SINK6: readonly NextHop[] = Object.freeze([{ addr: Addr6.ZERO, ifname: ORIGIN_SINK_IFNAME }]);

/** True for the next hops of an originated prefix (unspecified address on the sink interface). */
export function isOriginSink(hops: readonly NextHop[]): boolean {
  if (hops.length !== 1) return false;
  const h = hops[0]!;
  if (h.ifname !== ORIGIN_SINK_IFNAME) return false;
  const a = h.addr;
  return typeof a === 'number' ? a === 0 : a.w0 === 0 && a.w1 === 0 && a.w2 === 0 && a.w3 === 0;
}

// ===== Speaker =====

/** One local AS: its neighbours, listener, originated routes and the import/export pipeline. */
export class Speaker implements PeerHandler {
  readonly asn: number;
  readonly routerId: Addr4;
  private readonly log: pino.Logger;
  private readonly clock: Clock;
  private readonly rib: Rib;
  private readonly neighbors = new Map<string, Neighbor>();
  private readonly byPeer = new Map<Peer, Neighbor>();
  /** RIB source ids of our neighbours. */
  private readonly sources = new Set<string>();
  private listener: Listener | undefined;
  private unlisten: (() => void) | undefined;
  private readonly originSource: string;
  private originated: Prefix[] = [];
  private redistributeStatic: boolean;
  private readonly sliceSize: number;
  private readonly stalePathTime: number;
  private stopped = false;

  constructor(private readonly opts: SpeakerOptions) {
    this.asn = opts.asn;
    this.routerId = opts.routerId;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ asn: opts.asn });
    this.clock = opts.clock;
    this.rib = opts.rib;
    this.redistributeStatic = opts.redistributeStatic ?? false;
    this.sliceSize = opts.sliceSize ?? 8000;
    this.stalePathTime = opts.stalePathTime ?? 360;
    this.originSource = `originate:${opts.asn}`;
    for (const s of opts.neighbors) this.addNeighbor(s);
  }

  // ----- lifecycle -----

  /** Register RIB sources, originate prefixes, listen and start every neighbour. */
  async start(): Promise<void> {
    const rib = this.rib;
    rib.addSource({ id: this.originSource, kind: 'bgp', ebgp: false, routerId: this.routerId });
    this.unlisten = rib.onBestChange((e) => this.bestChanged(e));
    this.setOriginated(this.opts.originate ?? []);
    if (this.opts.listen !== undefined) {
      this.listener = await this.opts.transport.listen(this.opts.listen, (c) => {
        const nb = this.neighborFor(c.remoteAddress);
        if (nb === undefined) {
          this.log.warn({ remote: c.remoteAddress }, 'connection from an unknown peer dropped');
          c.destroy();
          return;
        }
        nb.peer.accept(c);
      });
      this.log.info({ listen: this.opts.listen, port: this.listener.port }, 'BGP listening');
    }
    for (const nb of this.neighbors.values()) nb.peer.start();
  }

  /** The port the listener is bound to (useful with port 0). */
  get listenPort(): number | undefined {
    return this.listener?.port;
  }

  /** Stop every session with Cease/Administrative Shutdown and close the listener. */
  stop(): void {
    this.stopped = true;
    // Our originated prefixes leave the shared RIB with us (other speakers may go on).
    this.setOriginated([]);
    this.listener?.close();
    for (const nb of this.neighbors.values()) {
      nb.peer.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN);
      this.clearTimers(nb);
      nb.peer.destroy();
    }
    this.unlisten?.();
  }

  private clearTimers(nb: Neighbor): void {
    nb.maxPrefixTimer?.cancel();
    nb.restartTimer?.cancel();
    nb.staleTimer?.cancel();
  }

  // ----- neighbours -----

  private addNeighbor(s: NeighborSettings): Neighbor {
    const key = canonical(s.address);
    if (this.neighbors.has(key)) throw new Error(`neighbour ${s.address} configured twice`);
    const nb = new Neighbor(s, this.rib.interner, this.rib.prefixIds);
    nb.peer = new Peer(
      s.address,
      {
        // A link-local address keeps its zone: the socket needs it to pick the interface.
        address: s.address,
        port: s.port,
        ...(s.localAddress !== undefined ? { localAddress: s.localAddress } : {}),
      },
      this.localSettings(s),
      s.fsm,
      this.opts.transport,
      this.clock,
      this,
      this.opts.random,
    );
    nb.peer.onDrain(() => {
      if (!nb.blocked) return;
      nb.blocked = false;
      this.scheduleFlush(nb);
    });
    this.neighbors.set(key, nb);
    this.byPeer.set(nb.peer, nb);
    this.sources.add(nb.source);
    // Which paths count as learned from our neighbours changed: cached export outcomes may too.
    for (const other of this.neighbors.values()) other.cache.clear();
    return nb;
  }

  /**
   * Apply a new neighbour list: new ones start, missing ones stop with Cease/Peer De-configured
   * (RFC 4486) and lose their routes, changed session parameters restart the session, and policy
   * or route-handling changes apply in place (soft reconfiguration, no reset).
   */
  setNeighbors(list: readonly NeighborSettings[]): void {
    const want = new Map<string, NeighborSettings>();
    for (const s of list) want.set(canonical(s.address), s);
    for (const [k, nb] of [...this.neighbors]) {
      const s = want.get(k);
      if (s === undefined) this.removeNeighbor(nb, CeaseSubcode.PEER_DECONFIGURED);
      else if (sessionKey(s) !== sessionKey(nb.settings)) {
        this.removeNeighbor(nb, CeaseSubcode.OTHER_CONFIGURATION_CHANGE);
        this.addNeighbor(s).peer.start();
      } else {
        const policiesChanged =
          policyKey(s.importPolicy) !== policyKey(nb.settings.importPolicy) ||
          policyKey(s.exportPolicy) !== policyKey(nb.settings.exportPolicy);
        const knobsChanged =
          s.allowAsIn !== nb.settings.allowAsIn ||
          s.enforceFirstAs !== nb.settings.enforceFirstAs ||
          s.nextHopSelf !== nb.settings.nextHopSelf;
        const maxPrefixChanged = maxPrefixKey(s.maxPrefix) !== maxPrefixKey(nb.settings.maxPrefix);
        nb.settings = s;
        if (policiesChanged || knobsChanged) {
          this.softIn(s.address);
          this.softOut(s.address);
        } else if (maxPrefixChanged) {
          nb.maxPrefixOver.clear();
          this.checkMaxPrefix(nb, new Set(FAMILIES));
        }
      }
    }
    for (const [k, s] of want) if (!this.neighbors.has(k)) this.addNeighbor(s).peer.start();
  }

  private removeNeighbor(nb: Neighbor, subcode: number): void {
    nb.peer.stop(subcode);
    this.clearTimers(nb);
    if (nb.session !== undefined) this.down(nb.peer, { kind: 'admin-stop' });
    this.dropAll(nb);
    nb.peer.destroy();
    this.neighbors.delete(canonical(nb.settings.address));
    this.byPeer.delete(nb.peer);
    this.sources.delete(nb.source);
    for (const other of this.neighbors.values()) other.cache.clear();
  }

  private localSettings(s: NeighborSettings): LocalSessionSettings {
    return {
      asn: this.asn,
      bgpId: this.routerId,
      holdTime: s.fsm.holdTime,
      families: s.families,
      peerAsn: s.remoteAsn,
      extendedMessage: true,
      enhancedRouteRefresh: true,
      extendedNextHop: s.extendedNextHop === true ? [AFISAFI_IPV4_UNICAST] : [],
      addPath: s.addPath,
      ...(s.gracefulRestart ? { gracefulRestartTime: s.gracefulRestartTime } : {}),
    };
  }

  private neighbor(address: string): Neighbor {
    const nb = this.neighbors.get(canonical(address));
    if (nb === undefined) throw new Error(`no neighbour ${address}`);
    return nb;
  }

  /** The neighbour a connection comes from; link-local peers match without their zone too. */
  private neighborFor(remote: string): Neighbor | undefined {
    const exact = this.neighbors.get(canonical(remote));
    if (exact !== undefined || remote.includes('%')) return exact;
    const host = canonical(remote);
    for (const [k, nb] of this.neighbors) if (k.split('%')[0] === host) return nb;
    return undefined;
  }

  /** The Peer of a neighbour (tests, admin). */
  peerOf(address: string): Peer {
    return this.neighbor(address).peer;
  }

  // ----- originated routes -----

  /** Replace the prefixes this AS originates (ORIGIN IGP, empty AS_PATH at origin). */
  setOriginated(prefixes: readonly Prefix[]): void {
    const want = new Map<number | string, Prefix>();
    for (const p of prefixes) want.set(routeKey(p), p);
    const attrs = { origin: Origin.IGP, asPath: [] };
    this.rib.batch(() => {
      for (const p of this.originated) if (!want.has(routeKey(p))) this.rib.removePath(p, this.originSource);
      for (const p of want.values())
        this.rib.addPath(p, { source: this.originSource, attrs, nexthops: isPrefix4(p) ? SINK4 : SINK6 });
    });
    this.originated = [...want.values()];
  }

  /** Turn redistribution of static routes on or off. */
  setRedistributeStatic(on: boolean): void {
    if (on === this.redistributeStatic) return;
    this.redistributeStatic = on;
    this.resendAll(false);
  }

  // ----- policy and soft reconfiguration -----

  /** Replace a neighbour's policies; import re-runs from Adj-RIB-In and export is recomputed. */
  setPolicies(address: string, importPolicy?: CompiledPolicy, exportPolicy?: CompiledPolicy): void {
    const nb = this.neighbor(address);
    const { importPolicy: _i, exportPolicy: _e, ...rest } = nb.settings;
    nb.settings = {
      ...rest,
      ...(importPolicy !== undefined ? { importPolicy } : {}),
      ...(exportPolicy !== undefined ? { exportPolicy } : {}),
    };
    this.softIn(address);
    this.softOut(address);
  }

  /** Change a neighbour's route-handling knobs in place; import and export are re-run. */
  reconfigure(
    address: string,
    patch: Partial<
      Pick<NeighborSettings, 'allowAsIn' | 'enforceFirstAs' | 'nextHopSelf' | 'maxPrefix' | 'description'>
    >,
  ): void {
    const nb = this.neighbor(address);
    nb.settings = { ...nb.settings, ...patch };
    this.softIn(address);
    this.softOut(address);
  }

  /** Re-run import for a neighbour from its Adj-RIB-In (no session reset). */
  softIn(address: string): void {
    const nb = this.neighbor(address);
    if (nb.importSession === undefined) return;
    // In slices like removals: a full table re-imported at once would stall keepalives. Routes
    // replaced or withdrawn by UPDATEs meanwhile were imported by those UPDATEs already.
    const routes = nb.adjIn.all();
    const epoch = nb.epoch;
    let i = 0;
    const slice = () => {
      if (nb.epoch !== epoch) return;
      const end = Math.min(routes.length, i + REMOVE_SLICE);
      this.rib.batch(() => {
        for (; i < end; i++) {
          const r = routes[i]!;
          if (nb.adjIn.get(r.prefix, r.pathId) !== r.set) continue;
          const v = this.importVerdict(nb, r.prefix, r.set);
          if (v === undefined) continue;
          const flags = nb.adjIn.flagsOf(r.prefix, r.pathId);
          nb.adjIn.setAccepted(r.prefix, r.pathId, v.accept);
          this.importInto(nb, r.prefix, r.pathId, v, isAccepted(flags));
        }
      });
      if (i < routes.length) setImmediate(slice);
      else this.checkMaxPrefix(nb, new Set([AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST]));
    };
    slice();
  }

  /** Recompute and re-send what a neighbour gets (no session reset). */
  softOut(address: string): void {
    const nb = this.neighbor(address);
    if (nb.session === undefined) return;
    this.refreshTargets(nb);
    for (const fam of nb.session.families) this.queueFamily(nb, fam, true);
    this.scheduleFlush(nb);
  }

  private resendAll(force: boolean): void {
    for (const nb of this.neighbors.values()) {
      if (nb.session === undefined) continue;
      nb.cache.clear();
      for (const fam of nb.session.families) this.queueFamily(nb, fam, force);
      this.scheduleFlush(nb);
    }
  }

  // ----- PeerHandler -----

  /** A session reached Established: register the source, settle stale routes, dump the table. */
  established(peer: Peer, session: NegotiatedSession): void {
    const nb = this.byPeer.get(peer);
    if (nb === undefined) return;
    nb.epoch++;
    nb.session = session;
    nb.establishedAt = this.clock.now();
    this.rib.addSource({
      id: nb.source,
      kind: 'bgp',
      ebgp: !session.ibgp,
      peerAddr: nb.addr,
      routerId: session.peerBgpId,
    });
    nb.importSession = {
      localAsn: this.asn,
      peerAsn: session.peerAsn,
      ebgp: !session.ibgp,
      fourOctetAs: session.fourOctetAs,
      families: session.families,
      ...(nb.ifname !== undefined ? { ifname: nb.ifname } : {}),
    };
    this.refreshTargets(nb);
    this.log.info(
      { peer: nb.settings.address, peerAsn: session.peerAsn, families: [...session.families] },
      'session established',
    );
    // Graceful restart (RFC 4724 §4.2): the restart timer stops; stale routes wait for End-of-RIB,
    // unless the new OPEN does not say forwarding state was preserved for the family (no
    // capability, family absent, or F bit clear): then they MUST go at once.
    nb.restartTimer?.cancel();
    nb.restartTimer = undefined;
    nb.restartUntil = undefined;
    if (nb.staleFamilies.size > 0) {
      const gr = session.gracefulRestart;
      for (const fam of [...nb.staleFamilies]) {
        if (gr?.families.get(fam) !== true || !session.families.has(fam)) this.purgeStale(nb, fam);
      }
      if (nb.staleFamilies.size > 0) this.armStaleTimer(nb);
    }
    // Initial dump of every family, each followed by End-of-RIB.
    for (const fam of FAMILIES) {
      if (!session.families.has(fam)) continue;
      this.queueFamily(nb, fam, false);
      nb.markers.push({ family: fam, kind: 'eor' });
    }
    this.scheduleFlush(nb);
  }

  /** The messages of one received chunk: their UPDATEs go into the RIB as one batch. */
  burst(_peer: Peer, fn: () => void): void {
    this.rib.batch(fn);
  }

  /** An UPDATE: into Adj-RIB-In, through the rules and import policy, into the RIB. */
  update(peer: Peer, msg: UpdateMessage): void {
    const nb = this.byPeer.get(peer);
    if (nb?.importSession === undefined) return;
    try {
      this.receiveUpdate(nb, nb.importSession, msg);
    } catch (e) {
      // As for sending: a fault of ours resets this session rather than ending the daemon.
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      this.log.error({ peer: nb.settings.address, error }, 'UPDATE handling failed; resetting the session');
      nb.peer.stop(
        CeaseSubcode.OUT_OF_RESOURCES,
        undefined,
        true,
        'internal error while importing an UPDATE',
      );
    }
  }

  private receiveUpdate(nb: Neighbor, session: ImportSession, msg: UpdateMessage): void {
    const u = parseUpdate(msg, session);
    nb.counters.ignoredFamily += u.ignored;
    if (u.endOfRib !== undefined) {
      nb.counters.endOfRibReceived++;
      if (nb.staleFamilies.has(u.endOfRib)) this.purgeStale(nb, u.endOfRib);
      return;
    }
    if (u.treatAsWithdraw !== undefined) {
      nb.counters.treatAsWithdraw++;
      this.log.warn(
        { peer: nb.settings.address, error: u.treatAsWithdraw, withdrawn: nlriCount(u.withdrawn) },
        'UPDATE treated as withdraw (RFC 7606)',
      );
    }
    // Families that changed, for maximum-prefix (not collected without a limit to check).
    const touched = nb.settings.maxPrefix === undefined ? undefined : new Set<number>();
    const interner = this.rib.interner;
    this.rib.batch(() => {
      for (const w of u.withdrawn) {
        const ids = w.pathIds;
        for (let i = 0; i < w.prefixes.length; i++) {
          const prefix = w.prefixes[i]!;
          const pathId = ids?.[i] ?? 0;
          const old = nb.adjIn.remove(prefix, pathId);
          if (isAccepted(old)) this.rib.removePath(prefix, nb.source, pathId);
          if (i === 0) touched?.add(familyOf(prefix));
        }
      }
      for (const a of u.announced) {
        touched?.add(a.family);
        // The RIB's interned set, held by Adj-RIB-In too: one copy of each set in the daemon.
        const ref = interner.intern(a.attrs);
        const last = nb.lastHops;
        const hops = last !== undefined && sameHops(last, a.nexthops) ? last : (nb.lastHops = a.nexthops);
        const set: InSet = { attrs: ref.attrs, nexthops: hops, ref };
        const ids = a.pathIds;
        for (let i = 0; i < a.prefixes.length; i++) {
          const prefix = a.prefixes[i]!;
          const pathId = ids?.[i] ?? 0;
          const v = this.importVerdict(nb, prefix, set);
          if (v === undefined) continue;
          const old = nb.adjIn.put(prefix, pathId, set, v.accept);
          this.importInto(nb, prefix, pathId, v, isAccepted(old));
        }
      }
    });
    if (touched !== undefined) this.checkMaxPrefix(nb, touched);
    if (this.log.isLevelEnabled('debug')) {
      let announced = 0;
      for (const a of u.announced) announced += a.prefixes.length;
      this.log.debug(
        { peer: nb.settings.address, announced, withdrawn: nlriCount(u.withdrawn) },
        'UPDATE received',
      );
    }
  }

  /** A ROUTE-REFRESH request, or the peer's RFC 7313 BoRR/EoRR markers. */
  routeRefresh(peer: Peer, msg: RouteRefreshMessage): void {
    const nb = this.byPeer.get(peer);
    if (nb?.session === undefined) return;
    const fam = (msg.afi << 8) | msg.safi;
    if (!nb.session.families.has(fam)) return;
    switch (msg.subtype) {
      case RouteRefreshSubtype.NORMAL:
        this.refreshOut(nb, fam);
        return;
      case RouteRefreshSubtype.BEGIN:
        // RFC 7313 §4: the peer re-sends the family; what it does not re-send before EoRR goes.
        // An EoRR that never comes must not keep stale routes forever (§4: purge on a timer).
        this.markStale(nb, fam);
        this.armStaleTimer(nb);
        return;
      case RouteRefreshSubtype.END:
        if (nb.staleFamilies.has(fam)) this.purgeStale(nb, fam);
        return;
      default:
        return;
    }
  }

  /** The session left Established: keep the routes as stale (graceful restart) or drop them. */
  down(peer: Peer, reason: TransitionReason): void {
    const nb = this.byPeer.get(peer);
    if (nb === undefined) return;
    const session = nb.session;
    nb.epoch++;
    nb.session = undefined;
    nb.importSession = undefined;
    nb.establishedAt = undefined;
    nb.markers = [];
    nb.blocked = false;
    nb.adjOut.clear();
    nb.cache.clear();
    nb.maxPrefixOver.clear();
    const gr = session?.gracefulRestart;
    // RFC 4724 §4.2: routes are retained only for the families the peer listed in its Graceful
    // Restart capability; a receiving-speaker-only peer lists none, so nothing is retained.
    const retained =
      gr !== undefined &&
      nb.settings.gracefulRestart &&
      gr.restartTime > 0 &&
      gracefulDown(reason, gr.notification)
        ? FAMILIES.filter((f) => session?.families.has(f) === true && gr.families.has(f))
        : [];
    this.log.info(
      { peer: nb.settings.address, reason, gracefulRestart: retained.length > 0 },
      'session left Established',
    );
    if (gr !== undefined && retained.length > 0) {
      const gone: InRoute[] = [];
      for (const fam of FAMILIES) {
        if (retained.includes(fam)) this.markStale(nb, fam);
        else gone.push(...nb.adjIn.routes(fam));
      }
      for (const r of gone) nb.adjIn.remove(r.prefix, r.pathId);
      this.removeFromRib(nb, gone);
      nb.restartTimer?.cancel();
      nb.restartUntil = this.clock.now() + gr.restartTime * 1000;
      nb.restartTimer = this.clock.setTimer(nb.restartUntil, () => {
        nb.restartTimer = undefined;
        nb.restartUntil = undefined;
        if (nb.session !== undefined) return;
        this.log.info({ peer: nb.settings.address }, 'graceful restart timer expired: stale routes removed');
        for (const fam of [...nb.staleFamilies]) this.purgeStale(nb, fam);
      });
      return;
    }
    this.dropAll(nb);
  }

  /** Any FSM transition: falling back to Idle is worth an operator's attention, the rest is debug. */
  stateChange(peer: Peer, from: string, to: string, reason: TransitionReason): void {
    const quiet = to !== 'Idle' || reason.kind === 'admin-stop' || reason.kind === 'tcp-failed';
    const entry = {
      peer: peer.name,
      from,
      to,
      reason,
      ...(peer.lastError !== undefined ? { error: peer.lastError } : {}),
    };
    if (quiet) this.log.debug(entry, 'BGP state change');
    else this.log.info(entry, 'BGP state change');
  }

  // ----- import -----

  /**
   * Rules and import policy for one route (undefined without a session). The prefixes of one
   * UPDATE share their `InSet`: unless the policy looks at prefixes, the verdict of the first
   * holds for all of them.
   */
  private importVerdict(nb: Neighbor, prefix: Prefix, set: InSet): ImportVerdict | undefined {
    const s = nb.importSession;
    if (s === undefined) return undefined;
    const fam = familyOf(prefix);
    const policy = nb.settings.importPolicy ?? (s.ebgp ? DEFAULT_EBGP : ACCEPT_ALL);
    const v = nb.lastImport;
    if (
      v !== undefined &&
      v.set === set &&
      v.fam === fam &&
      v.policy === policy &&
      v.settings === nb.settings &&
      v.session === s &&
      !policy.perPrefix
    )
      return v;
    const nv = this.evaluateImport(nb, s, policy, fam, prefix, set);
    nb.lastImport = policy.perPrefix ? undefined : nv;
    return nv;
  }

  /** Write the RIB for one route according to its verdict. */
  private importInto(
    nb: Neighbor,
    prefix: Prefix,
    pathId: number,
    v: ImportVerdict,
    wasInRib: boolean,
  ): void {
    if (v.counter !== undefined) nb.counters[v.counter]++;
    if (v.accept) {
      // The path input is shared by every prefix of the verdict (one object per UPDATE).
      this.rib.addPath(prefix, pathId === 0 ? v.input : { ...v.input, pathId });
    } else if (wasInRib) {
      this.rib.removePath(prefix, nb.source, pathId);
    }
  }

  private evaluateImport(
    nb: Neighbor,
    s: ImportSession,
    policy: CompiledPolicy,
    fam: number,
    prefix: Prefix,
    set: InSet,
  ): ImportVerdict {
    // Verdicts are written out whole (no spread of a common part): one object shape, built fast.
    const reject = (counter: ImportVerdict['counter']): ImportVerdict => ({
      set,
      fam,
      policy,
      settings: nb.settings,
      session: s,
      accept: false,
      input: { source: nb.source, attrs: set.attrs, nexthops: set.nexthops },
      counter,
    });
    if (set.nexthops.length === 0) return reject('unusableNextHop');
    if (ruleFailure(set.attrs, s, nb.settings) !== undefined) return reject('rejectedByRules');
    const out = evaluatePolicy(
      policy,
      { prefix, attrs: set.attrs, nextHop: set.nexthops[0]!.addr },
      { localAsn: this.asn },
    );
    const hop = out.nextHop;
    // A policy-set link-local next hop is usable only over the session's own interface.
    const setLinkLocal = hop !== undefined && typeof hop !== 'number' && hop.isLinkLocal();
    if (!out.accept) return reject('rejectedByPolicy');
    if (setLinkLocal && s.ifname === undefined) return reject('unusableNextHop');
    const outHops =
      hop === undefined
        ? set.nexthops
        : [setLinkLocal && s.ifname !== undefined ? { addr: hop, ifname: s.ifname } : { addr: hop }];
    return {
      set,
      fam,
      policy,
      settings: nb.settings,
      session: s,
      accept: true,
      input: { source: nb.source, attrs: out.attrs, nexthops: outHops },
      counter: undefined,
    };
  }

  private checkMaxPrefix(nb: Neighbor, families: ReadonlySet<number>): void {
    const mp = nb.settings.maxPrefix;
    if (mp === undefined) return;
    for (const fam of families) {
      const n = nb.adjIn.accepted(fam);
      const limit = mp.families?.get(fam) ?? mp.limit;
      if (n <= limit) {
        nb.maxPrefixOver.delete(fam);
        continue;
      }
      if (nb.maxPrefixOver.has(fam)) continue;
      nb.maxPrefixOver.add(fam);
      nb.counters.maxPrefixExceeded++;
      this.log.warn(
        { peer: nb.settings.address, family: fam, accepted: n, limit, action: mp.action },
        'maximum prefixes exceeded',
      );
      if (mp.action === 'restart') {
        this.maxPrefixRestart(nb, fam, limit, mp.restartAfter);
        return;
      }
    }
  }

  /** RFC 4486 §4: Cease/1 with AFI (2), SAFI (1) and the limit (4); reconnect later. */
  private maxPrefixRestart(nb: Neighbor, fam: number, limit: number, restartAfter: number): void {
    const data = new Uint8Array(7);
    data[0] = fam >> 16;
    data[1] = (fam >> 8) & 255;
    data[2] = fam & 255;
    new DataView(data.buffer).setUint32(3, limit);
    nb.peer.stop(CeaseSubcode.MAXIMUM_PREFIXES_REACHED, data, false, `maximum prefixes (${limit}) exceeded`);
    nb.maxPrefixTimer?.cancel();
    nb.maxPrefixRestartAt = this.clock.now() + restartAfter * 1000;
    nb.maxPrefixTimer = this.clock.setTimer(nb.maxPrefixRestartAt, () => {
      nb.maxPrefixTimer = undefined;
      nb.maxPrefixRestartAt = undefined;
      if (this.stopped) return;
      this.log.info({ peer: nb.settings.address }, 'restarting after maximum-prefix shutdown');
      nb.peer.start();
    });
  }

  // ----- stale routes (graceful restart, enhanced route refresh) -----

  /** Purge whatever is still stale after `stalePathTime` (End-of-RIB or EoRR never came). */
  private armStaleTimer(nb: Neighbor): void {
    nb.staleTimer?.cancel();
    nb.staleTimer = this.clock.setTimer(this.clock.now() + this.stalePathTime * 1000, () => {
      nb.staleTimer = undefined;
      for (const fam of [...nb.staleFamilies]) this.purgeStale(nb, fam);
    });
  }

  private markStale(nb: Neighbor, fam: number): void {
    nb.adjIn.markStale(fam);
    nb.staleFamilies.add(fam);
  }

  private purgeStale(nb: Neighbor, fam: number): void {
    nb.staleFamilies.delete(fam);
    const gone: InRoute[] = [];
    for (const r of nb.adjIn.routes(fam)) if ((r.flags & IN_STALE) !== 0) gone.push(r);
    for (const r of gone) nb.adjIn.remove(r.prefix, r.pathId);
    this.removeFromRib(nb, gone);
    nb.counters.staleRemoved += gone.length;
    if (nb.staleFamilies.size === 0) {
      nb.staleTimer?.cancel();
      nb.staleTimer = undefined;
    }
  }

  /** Remove every route of the neighbour from the RIB (no graceful restart). */
  private dropAll(nb: Neighbor): void {
    const gone = nb.adjIn.all();
    nb.adjIn.clear();
    this.removeFromRib(nb, gone);
    nb.staleFamilies.clear();
    nb.restartTimer?.cancel();
    nb.restartTimer = undefined;
    nb.restartUntil = undefined;
    nb.staleTimer?.cancel();
    nb.staleTimer = undefined;
  }

  /**
   * Take routes that left Adj-RIB-In out of the RIB, in slices of `REMOVE_SLICE` with the event
   * loop turning in between: a full table going away must not hold up keepalives and timers. A
   * route the peer has re-sent meanwhile (accepted again in Adj-RIB-In) stays.
   */
  private removeFromRib(nb: Neighbor, routes: readonly InRoute[]): void {
    let i = 0;
    const slice = () => {
      const end = Math.min(routes.length, i + REMOVE_SLICE);
      this.rib.batch(() => {
        for (; i < end; i++) {
          const r = routes[i]!;
          if (!isAccepted(r.flags)) continue;
          const now = nb.adjIn.flagsOf(r.prefix, r.pathId);
          if (isAccepted(now)) continue;
          this.rib.removePath(r.prefix, nb.source, r.pathId);
        }
      });
      if (i < routes.length) setImmediate(slice);
    };
    slice();
  }

  // ----- export: which prefixes to look at -----

  /**
   * A prefix's best path changed, or it became (un)selected: every Established neighbour looks
   * again, except one whose own path is now best and that has nothing of the prefix advertised
   * or queued: it would get nothing (no sending back), so there is nothing to look at. During a
   * full-table load this keeps the sending neighbour's queue empty.
   */
  private bestChanged(e: Entry): void {
    const fam = afiOf(e) === 4 ? AFISAFI_IPV4_UNICAST : AFISAFI_IPV6_UNICAST;
    const from = selectedCount(e) > 0 ? firstPath(e)?.shared.source.id : undefined;
    let p: Prefix | undefined;
    for (const nb of this.neighbors.values()) {
      if (nb.session === undefined || !nb.session.families.has(fam)) continue;
      p ??= prefixOf(e);
      if (from === nb.source && !nb.adjOut.holds(p)) continue;
      nb.adjOut.mark(p);
      if (!nb.flushScheduled) this.scheduleFlush(nb);
    }
  }

  /** Queue a whole family for a neighbour: the RIB's prefixes and what was advertised. */
  private queueFamily(nb: Neighbor, fam: number, force: boolean): void {
    for (const e of this.rib.entriesOf(fam === AFISAFI_IPV4_UNICAST ? 4 : 6)) {
      if (selectedCount(e) === 0) continue;
      nb.adjOut.mark(prefixOf(e), force);
    }
    for (const p of nb.adjOut.prefixes(fam)) nb.adjOut.mark(p, force);
  }

  /** ROUTE-REFRESH: re-send a family, inside BoRR/EoRR when enhanced route refresh was negotiated. */
  private refreshOut(nb: Neighbor, fam: number): void {
    const s = nb.session;
    if (s === undefined) return;
    if (s.enhancedRouteRefresh) {
      // BoRR goes out before anything queued for the family (RFC 7313 §4).
      nb.peer.send({ type: 5, afi: fam >> 8, safi: fam & 255, subtype: RouteRefreshSubtype.BEGIN });
      nb.markers.push({ family: fam, kind: 'eorr' });
    }
    this.queueFamily(nb, fam, true);
    this.scheduleFlush(nb);
  }

  /** Ask a neighbour to re-send a family (admin soft-in when Adj-RIB-In is not enough). */
  requestRefresh(address: string, fam: number): boolean {
    const nb = this.neighbor(address);
    if (nb.session?.routeRefresh !== true) return false;
    nb.counters.routeRefreshSent++;
    return nb.peer.send({ type: 5, afi: fam >> 8, safi: fam & 255, subtype: RouteRefreshSubtype.NORMAL });
  }

  // ----- export: computing and sending -----

  private refreshTargets(nb: Neighbor): void {
    const s = nb.session;
    nb.cache.clear();
    nb.target.clear();
    if (s === undefined) return;
    const conn = nb.peer.connection;
    let self4: Addr4 | undefined;
    let self6: Addr6 | undefined;
    let selfLinkLocal: Addr6 | undefined;
    if (conn !== undefined) {
      const [host] = conn.localAddress.split('%');
      const a4 = parseAddr4(host ?? '');
      const a6 = a4.ok ? undefined : parseAddr6(host ?? '');
      if (a4.ok) self4 = a4.value;
      else if (a6?.ok === true) {
        if (a6.value.isLinkLocal()) selfLinkLocal = a6.value;
        else self6 = a6.value;
      }
    }
    const ebgp = !s.ibgp;
    const policy = nb.settings.exportPolicy ?? (ebgp ? DEFAULT_EBGP : ACCEPT_ALL);
    if (
      s.families.has(AFISAFI_IPV4_UNICAST) &&
      self4 === undefined &&
      !s.extendedNextHop.has(AFISAFI_IPV4_UNICAST)
    ) {
      this.log.warn(
        { peer: nb.settings.address },
        'IPv4 routes cannot be sent on this IPv6 session without extended next hop (RFC 8950); enable extendedNextHop',
      );
    }
    for (const fam of s.families) {
      nb.target.set(fam, {
        localAsn: this.asn,
        ebgp,
        source: nb.source,
        nextHopSelf: nb.settings.nextHopSelf,
        ...(self4 !== undefined ? { self4 } : {}),
        ...(self6 !== undefined ? { self6 } : {}),
        ...(selfLinkLocal !== undefined ? { selfLinkLocal } : {}),
        fourOctetAs: s.fourOctetAs,
        extendedNextHop4: s.extendedNextHop.has(AFISAFI_IPV4_UNICAST),
        policy,
      });
    }
  }

  /** How export sees the source of a path; undefined for sources this speaker does not export. */
  private originOf(p: Path): PathOrigin | undefined {
    const src = p.source;
    if (src.id === this.originSource) return { kind: 'originated' };
    if (src.kind === 'static') return this.redistributeStatic ? { kind: 'static' } : undefined;
    if (src.kind === 'bgp' && this.sources.has(src.id))
      return { kind: 'learned', ebgp: src.ebgp, source: src.id };
    return undefined;
  }

  /** What the neighbour should have for a prefix now (`e`: its RIB entry, if any). */
  private desired(nb: Neighbor, fam: number, prefix: Prefix, e: Entry | undefined): OutRoute | undefined {
    const t = nb.target.get(fam);
    if (t === undefined) return undefined;
    if (e === undefined || selectedCount(e) === 0) return undefined;
    const best = firstPath(e)!;
    // Unless the policy looks at prefixes, the result depends only on the path's attribute set,
    // source and next hops, which the RIB shares between prefixes: compute it once per path.
    if (!t.policy.perPrefix) {
      const hit = nb.cache.get(fam, best);
      if (hit !== undefined) return hit ?? undefined;
    }
    const origin = this.originOf(best);
    const r =
      origin === undefined ? undefined : exportRoute(prefix, origin, best.attrs.attrs, best.nh.hops[0], t);
    if (!t.policy.perPrefix) nb.cache.set(fam, best, r);
    return r;
  }

  private scheduleFlush(nb: Neighbor): void {
    if (nb.flushScheduled || nb.blocked || nb.session === undefined) return;
    nb.flushScheduled = true;
    const epoch = nb.epoch;
    setImmediate(() => {
      nb.flushScheduled = false;
      if (nb.epoch !== epoch) return;
      try {
        this.flush(nb);
      } catch (e) {
        // A fault of ours must not take the daemon down: log it and reset this session, which
        // rebuilds its Adj-RIB-Out from scratch when it comes back.
        const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
        this.log.error({ peer: nb.settings.address, error }, 'outbound UPDATE failed; resetting the session');
        nb.peer.stop(CeaseSubcode.OUT_OF_RESOURCES, undefined, true, 'internal error while sending UPDATEs');
      }
    });
  }

  /** One bounded slice of outbound work: diff, pack, write; then yield or wait for drain. */
  private flush(nb: Neighbor): void {
    const s = nb.session;
    if (s === undefined || nb.blocked) return;
    const ctx = s.tx;
    // Prefixes grouped by outgoing set: by object first (cached outcomes are shared), then by
    // hash and equality, so equal sets from different paths still share UPDATEs.
    const announce = new Map<OutRoute, OutGroup>();
    const byHash = new Map<number, OutGroup[]>();
    const withdraw: Prefix[] = [];
    const batch: Prefix[] = [];
    // IPv4 prefixes come as slots of Adj-RIB-Out (prefix ids, as in the RIB): no lookups.
    const slots: number[] = [];
    const out = nb.adjOut;
    for (const fam of FAMILIES) {
      const v4 = fam === AFISAFI_IPV4_UNICAST;
      const from = v4 ? slots.length : batch.length;
      if (v4) out.take4(this.sliceSize, slots);
      else out.take(fam, this.sliceSize - slots.length, batch);
      const n = v4 ? slots.length : batch.length;
      for (let i = from; i < n; i++) {
        let p: Prefix;
        let what: Settled;
        let want: OutRoute | undefined;
        if (v4) {
          const slot = slots[i]!;
          p = out.prefixAt(slot);
          want = this.desired(nb, fam, p, this.rib.entryById(slot));
          what = out.settleAt(slot, want);
        } else {
          p = batch[i]!;
          want = this.desired(nb, fam, p, this.rib.entry(p));
          what = out.settle(p, want);
        }
        if (what === Settled.WITHDRAW) withdraw.push(p);
        if (what !== Settled.ANNOUNCE || want === undefined) continue;
        let g = announce.get(want);
        if (g === undefined) {
          let same = byHash.get(want.hash);
          g = same?.find((x) => sameOutRoute(x.out, want));
          if (g === undefined) {
            g = { out: want, prefixes: [] };
            if (same === undefined) byHash.set(want.hash, (same = []));
            same.push(g);
          }
          announce.set(want, g);
        }
        g.prefixes.push(p);
      }
    }
    const msgs: Uint8Array[] = [];
    if (withdraw.length > 0) msgs.push(...buildWithdrawals(withdraw, ctx));
    for (const same of byHash.values())
      for (const g of same) msgs.push(...buildAnnouncements(g.out.attrs, g.prefixes, ctx));
    let ok = true;
    if (msgs.length > 0) ok = nb.peer.sendRaw(concat(msgs), msgs.length);
    if (nb.session === undefined) return;
    if (nb.pendingCount === 0 && nb.markers.length > 0) {
      for (const m of nb.markers) {
        if (m.kind === 'eor') {
          ok = nb.peer.sendRaw(endOfRib(m.family >> 8, m.family & 255), 1) && ok;
          nb.counters.endOfRibSent++;
        } else {
          ok =
            nb.peer.send({
              type: 5,
              afi: m.family >> 8,
              safi: m.family & 255,
              subtype: RouteRefreshSubtype.END,
            }) && ok;
        }
      }
      nb.markers = [];
    }
    if (!ok && nb.peer.pendingBytes > 0) {
      nb.blocked = true;
      nb.counters.backpressureWaits++;
      return;
    }
    if (nb.pendingCount > 0 || nb.markers.length > 0) this.scheduleFlush(nb);
  }

  // ----- status -----

  /** Neighbour status for the admin API. */
  status(): NeighborStatus[] {
    return [...this.neighbors.values()].map((nb) => this.statusOf(nb));
  }

  private statusOf(nb: Neighbor): NeighborStatus {
    const p = nb.peer;
    const s = nb.session;
    const families: Record<string, FamilyCounts> = {};
    for (const fam of nb.settings.families) {
      const stale = nb.adjIn.stale(fam);
      families[
        fam === AFISAFI_IPV4_UNICAST
          ? 'ipv4-unicast'
          : fam === AFISAFI_IPV6_UNICAST
            ? 'ipv6-unicast'
            : String(fam)
      ] = {
        received: nb.adjIn.received(fam),
        accepted: nb.adjIn.accepted(fam),
        advertised: nb.adjOut.advertised(fam),
        stale,
      };
    }
    return {
      address: nb.settings.address,
      remoteAsn: nb.settings.remoteAsn,
      ...(nb.settings.description !== undefined ? { description: nb.settings.description } : {}),
      state: p.state,
      ...(p.lastTransition !== undefined ? { lastTransition: p.lastTransition } : {}),
      ...(p.lastError !== undefined ? { lastError: p.lastError } : {}),
      ...(nb.establishedAt !== undefined ? { establishedAt: nb.establishedAt } : {}),
      ...(s !== undefined
        ? {
            session: {
              peerBgpId: s.peerBgpId,
              ibgp: s.ibgp,
              fourOctetAs: s.fourOctetAs,
              families: [...s.families],
              routeRefresh: s.routeRefresh,
              enhancedRouteRefresh: s.enhancedRouteRefresh,
              extendedMessage: s.extendedMessage,
              gracefulRestart: s.gracefulRestart !== undefined,
              addPathRx: [...s.addPathRx],
              addPathTx: [...s.addPathTx],
            },
          }
        : {}),
      counters: { ...p.counters, ...nb.counters },
      families,
      ...(nb.maxPrefixRestartAt !== undefined ? { maxPrefixRestartAt: nb.maxPrefixRestartAt } : {}),
      ...(nb.restartUntil !== undefined ? { gracefulRestartUntil: nb.restartUntil } : {}),
    };
  }
}

// ===== Helpers =====

/** Prefixes of one flush that go out with one attribute set. */
interface OutGroup {
  readonly out: OutRoute;
  readonly prefixes: Prefix[];
}

/** What import decided for an attribute set and next hops (of one UPDATE) in a family. */
interface ImportVerdict {
  readonly set: InSet;
  readonly fam: number;
  /** What else the verdict depends on (settings and policies are replaced, never mutated). */
  readonly policy: CompiledPolicy;
  readonly settings: NeighborSettings;
  readonly session: ImportSession;
  readonly accept: boolean;
  /** What goes into the RIB when accepted (the policy's rewrite, a policy-set next hop), path id 0. */
  readonly input: PathInput;
  /** The counter a rejection counts in. */
  readonly counter: 'unusableNextHop' | 'rejectedByRules' | 'rejectedByPolicy' | undefined;
}

/** One cached export outcome, kept in a list on the interned attribute set (`Attrs.memo`). */
interface ExportMemo {
  /** The `ExportCache` it belongs to (its id, so a gone cache is not kept alive). */
  readonly owner: number;
  /** The cache's generation when computed: an older one is stale. */
  gen: number;
  fam: number;
  /** The path's shared part (source, next hops) the outcome was computed for. */
  shared: object;
  out: OutRoute | null;
  next: ExportMemo | undefined;
}

let nextCacheId = 1;

/**
 * Export outcomes per family for paths of the RIB (an outcome is reused for every prefix whose
 * best path has the same interned attribute set and shared part: same source and next hops),
 * plus a memo of the last path asked for, since consecutive prefixes of one UPDATE share their
 * `Path` object. Outcomes live on the attribute set itself, in a short list with a cell per
 * neighbour, family and shared part: no map from sets to outcomes (a full table has tens of
 * thousands of sets). Cleared, by moving to a new generation, whenever what export depends on
 * changes (targets, policies, sources).
 */
class ExportCache {
  private readonly id = nextCacheId++;
  private gen = 0;
  private lastPath: Path | undefined;
  private lastFam = 0;
  private lastOut: OutRoute | null = null;

  /** The cached outcome (null: nothing is sent), or undefined when not cached. */
  get(fam: number, p: Path): OutRoute | null | undefined {
    if (p === this.lastPath && fam === this.lastFam) return this.lastOut;
    for (let m = p.attrs.memo as ExportMemo | undefined; m !== undefined; m = m.next) {
      if (m.owner === this.id && m.gen === this.gen && m.fam === fam && m.shared === p.shared) {
        this.memo(fam, p, m.out);
        return m.out;
      }
    }
    return undefined;
  }

  set(fam: number, p: Path, out: OutRoute | undefined): void {
    const o = out ?? null;
    const a = p.attrs;
    // Reuse a stale cell of ours (from a cleared generation) before adding one.
    let cell: ExportMemo | undefined;
    for (let m = a.memo as ExportMemo | undefined; m !== undefined; m = m.next) {
      if (m.owner === this.id && (m.gen !== this.gen || (m.fam === fam && m.shared === p.shared))) {
        cell = m;
        break;
      }
    }
    if (cell === undefined) {
      a.memo = {
        owner: this.id,
        gen: this.gen,
        fam,
        shared: p.shared,
        out: o,
        next: a.memo as ExportMemo | undefined,
      };
    } else {
      cell.gen = this.gen;
      cell.fam = fam;
      cell.shared = p.shared;
      cell.out = o;
    }
    this.memo(fam, p, o);
  }

  clear(): void {
    this.gen++;
    this.lastPath = undefined;
    this.lastOut = null;
  }

  private memo(fam: number, p: Path, out: OutRoute | null): void {
    this.lastPath = p;
    this.lastFam = fam;
    this.lastOut = out;
  }
}

/** Routes taken out of the RIB per event-loop turn when a neighbour's table goes. */
const REMOVE_SLICE = 10_000;

const DEFAULT_EBGP = mustCompile(DEFAULT_EBGP_POLICY);
const ACCEPT_ALL = mustCompile(ACCEPT_ALL_POLICY);

function mustCompile(p: unknown): CompiledPolicy {
  const r = compilePolicy(p);
  if (!r.ok) throw new Error(r.error.join('; '));
  return r.value;
}

/**
 * Does this way of losing the session keep the peer's routes (RFC 4724 §4.2)? TCP failure and
 * hold-timer expiry do; a NOTIFICATION does only when the peer set the N bit (RFC 8538 §4) and it
 * is not a Hard Reset. A stop we decided ourselves (admin, maximum-prefix, errors we found) does not.
 */
export function gracefulDown(reason: TransitionReason, notificationBit: boolean): boolean {
  if (reason.kind === 'tcp-failed' || reason.kind === 'hold-timer-expired') return true;
  if (reason.kind !== 'notification-received') return false;
  return notificationBit && !(reason.code === ErrorCode.CEASE && reason.subcode === CeaseSubcode.HARD_RESET);
}

/** Identity of the settings that need a new session when they change. */
function sessionKey(s: NeighborSettings): string {
  return JSON.stringify([
    s.port,
    s.remoteAsn,
    s.localAddress ?? null,
    s.fsm,
    s.families,
    s.gracefulRestart,
    s.gracefulRestartTime,
    [...s.addPath],
    s.extendedNextHop === true,
  ]);
}

function maxPrefixKey(m: MaxPrefixSettings | undefined): string {
  return m === undefined ? '-' : JSON.stringify([m.limit, m.action, m.restartAfter, [...(m.families ?? [])]]);
}

function policyKey(p: CompiledPolicy | undefined): string {
  return p === undefined ? '-' : JSON.stringify(p.source);
}

function concat(msgs: readonly Uint8Array[]): Uint8Array {
  if (msgs.length === 1) return msgs[0]!;
  let n = 0;
  for (const m of msgs) n += m.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const m of msgs) {
    out.set(m, o);
    o += m.length;
  }
  return out;
}
