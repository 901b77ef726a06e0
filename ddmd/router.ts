// The DDM router core, sans I/O: the path-vector table, loop check, delay accumulation,
// advertisement with threshold and rate limit, and the weighted next-hop selection that the lower
// half installs. The daemon feeds it peer state, received updates, link delays and the clock, and
// carries out what it returns (pushes to peers, routes to install).
//
//   peers ──push/pull──▶ learn() ──▶ table (dest → peer → paths)
//   probes ──delay────▶ setLinkDelay()      │
//                                           ├─▶ routes(): every loop-free next hop, weighted by
//                                           │            total delay (select/weights.ts)
//                                           └─▶ outbox(now): per peer, what to announce/withdraw
//
// Rules (DESIGN.md "DDM"): servers (sleds) advertise only what they originate; transit routers
// redistribute, appending their hostname, never back to the peer the path came from; every router
// drops a path that already contains its own hostname. A router advertises each destination with
// the delay of its best path (its link delay to the next hop plus what that next hop advertised);
// a delay-only change is re-advertised only past a threshold and no faster than a rate limit.

import { formatPrefix6, key6, type Prefix6 } from '../wire/ip/index.js';
import {
  destinationToPrefix6,
  pathVectorKey,
  prefix6ToDestination,
  type DdmPathVector,
  type DdmTunnelOrigin,
  type DdmUpdate,
  type DdmPullResponse,
} from '../wire/ddm/exchange.js';
import {
  applyHysteresis,
  computeWeights,
  DEFAULT_WEIGHT_PARAMS,
  type WeightParams,
} from './select/weights.js';

// ===== Configuration =====

export type DdmRole = 'server' | 'transit';

export interface DdmRouterParams {
  /** Re-advertise a delay change only when it moves by more than max(abs, rel · old). */
  readonly delayThresholdUs: number;
  readonly delayThresholdRatio: number;
  /** Minimum ms between two delay-only re-advertisements of one destination to one peer. */
  readonly minReadvertiseMs: number;
  readonly weights: WeightParams;
}

export const DEFAULT_ROUTER_PARAMS: DdmRouterParams = {
  delayThresholdUs: 1000,
  delayThresholdRatio: 0.25,
  minReadvertiseMs: 500,
  weights: DEFAULT_WEIGHT_PARAMS,
};

// ===== State =====

/** A neighbour on one interface. */
export interface DdmPeerInfo {
  /** Our name for the session: the interface it runs on. */
  readonly id: string;
  readonly hostname: string;
  readonly kind: DdmRole;
  /** The neighbour's link-local address (the next hop). */
  readonly addr: string;
}

interface PeerState {
  info: DdmPeerInfo;
  /** One-way link delay estimate in µs (from probes); undefined until measured. */
  linkDelayUs: number | undefined;
  /** dest key → path key → path vector as received. */
  paths: Map<string, Map<string, DdmPathVector>>;
  /** Tunnel origins learned from this peer, by JSON identity. */
  tunnels: Map<string, DdmTunnelOrigin>;
  /** Learn sequence: bumped per update, so pull snapshots can be ordered against pushes. */
  seq: number;
  /** Path key → sequence at which it was learned / withdrawn. */
  stamps: Map<string, number>;
  tombstones: Map<string, number>;
  /** What we last told this peer per destination (for withdrawals and thresholds). */
  sent: Map<string, { path: readonly string[]; delayUs: number; at: number }>;
  sentTunnels: Set<string>;
}

/** One installed next hop of a destination. */
export interface DdmNextHop {
  readonly peer: string;
  readonly addr: string;
  /** Total delay via this next hop: link delay plus advertised delay, µs. */
  readonly delayUs: number | undefined;
  readonly path: readonly string[];
  readonly weight: number;
}

export interface DdmRoute {
  readonly prefix: Prefix6;
  readonly nextHops: readonly DdmNextHop[];
}

interface Candidate {
  readonly peer: PeerState;
  readonly pv: DdmPathVector;
  readonly totalUs: number | undefined;
}

/** The DDM router core for one daemon. */
export class DdmRouter {
  private readonly peers = new Map<string, PeerState>();
  private readonly originated = new Map<string, { prefix: Prefix6; version: number }>();
  private readonly originatedTunnels = new Map<string, DdmTunnelOrigin>();
  /** Installed weights per destination key and next-hop peer order, for hysteresis. */
  private readonly installedWeights = new Map<string, { peers: string; weights: readonly number[] }>();
  /** Destinations whose routes may have changed since the last `takeChanged`. */
  private changed = new Set<string>();
  /** Every destination ever seen, by key (destinations are few: one or two per sled). */
  private readonly prefixes = new Map<string, Prefix6>();
  private versionClock: number;

  constructor(
    readonly hostname: string,
    readonly role: DdmRole,
    readonly params: DdmRouterParams = DEFAULT_ROUTER_PARAMS,
    /** Seed for origin versions; wall-clock ms makes a restarted router's versions newer. */
    versionSeed: number = Date.now(),
  ) {
    this.versionClock = versionSeed;
  }

  // ----- origination -----

  /** Originate a prefix (or re-originate it with a newer version). */
  originate(prefix: Prefix6): void {
    const k = key6(prefix);
    this.prefixes.set(k, prefix);
    this.originated.set(k, { prefix, version: ++this.versionClock });
    this.changed.add(k);
  }

  /** Stop originating a prefix. */
  withdrawOrigin(prefix: Prefix6): boolean {
    const k = key6(prefix);
    const had = this.originated.delete(k);
    if (had) this.changed.add(k);
    return had;
  }

  originatedPrefixes(): Prefix6[] {
    return [...this.originated.values()].map((o) => o.prefix);
  }

  originateTunnel(t: DdmTunnelOrigin): void {
    this.originatedTunnels.set(JSON.stringify(t), t);
  }

  withdrawTunnel(t: DdmTunnelOrigin): boolean {
    return this.originatedTunnels.delete(JSON.stringify(t));
  }

  originatedTunnelList(): DdmTunnelOrigin[] {
    return [...this.originatedTunnels.values()];
  }

  // ----- peers -----

  /** A neighbour reached the exchange state (or its identity changed). */
  peerUp(info: DdmPeerInfo): void {
    const old = this.peers.get(info.id);
    if (old !== undefined && old.info.hostname === info.hostname && old.info.addr === info.addr) {
      old.info = info;
      return;
    }
    if (old !== undefined) this.peerDown(info.id);
    this.peers.set(info.id, {
      info,
      linkDelayUs: undefined,
      paths: new Map(),
      seq: 0,
      stamps: new Map(),
      tombstones: new Map(),
      tunnels: new Map(),
      sent: new Map(),
      sentTunnels: new Set(),
    });
  }

  /** A neighbour expired: forget everything learned from it. */
  peerDown(id: string): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    for (const k of p.paths.keys()) this.changed.add(k);
    this.peers.delete(id);
  }

  peerList(): DdmPeerInfo[] {
    return [...this.peers.values()].map((p) => p.info);
  }

  /** The probe estimate of the one-way delay to a neighbour changed. */
  setLinkDelay(id: string, delayUs: number | undefined): void {
    const p = this.peers.get(id);
    if (p === undefined || p.linkDelayUs === delayUs) return;
    p.linkDelayUs = delayUs;
    for (const k of p.paths.keys()) this.changed.add(k);
  }

  linkDelay(id: string): number | undefined {
    return this.peers.get(id)?.linkDelayUs;
  }

  // ----- learning -----

  /** Mark the start of a pull from `id`; pass the token to `learn` with the response. */
  beginPull(id: string): number {
    const p = this.peers.get(id);
    return p === undefined ? 0 : ++p.seq;
  }

  /**
   * Apply an update pushed by a neighbour, or (with `pullToken` from `beginPull`) the neighbour's
   * whole table from a pull. A pull response is a snapshot that may be older than pushes which
   * overtook it: what was learned or withdrawn after the pull began wins over the snapshot, and
   * only paths learned before it that the snapshot lacks are forgotten.
   * Returns how many path vectors were dropped by the loop check, and how many were invalid.
   */
  learn(id: string, update: DdmUpdate, pullToken?: number): { loops: number; invalid: number } {
    const p = this.peers.get(id);
    if (p === undefined) return { loops: 0, invalid: 0 };
    const seq = ++p.seq;
    let loops = 0;
    let invalid = 0;
    const newer = (pk: string) =>
      pullToken !== undefined &&
      ((p.stamps.get(pk) ?? -1) >= pullToken || (p.tombstones.get(pk) ?? -1) >= pullToken);
    for (const pv of update.underlay?.withdraw ?? []) {
      const dest = destinationToPrefix6(pv.destination);
      if (!dest.ok) {
        invalid++;
        continue;
      }
      const k = key6(dest.value);
      const pk = pathVectorKey(pv);
      if (newer(pk)) continue;
      p.stamps.delete(pk);
      p.tombstones.set(pk, seq);
      const m = p.paths.get(k);
      if (m?.delete(pk) === true) {
        if (m.size === 0) p.paths.delete(k);
        this.changed.add(k);
      }
    }
    const seen = new Set<string>();
    for (const pv of update.underlay?.announce ?? []) {
      const dest = destinationToPrefix6(pv.destination);
      if (!dest.ok) {
        invalid++;
        continue;
      }
      // The loop check Maghemite lacks: a path through us is never used or passed on.
      if (pv.path.includes(this.hostname)) {
        loops++;
        continue;
      }
      const k = key6(dest.value);
      const pk = pathVectorKey(pv);
      seen.add(pk);
      if (newer(pk)) continue;
      this.prefixes.set(k, dest.value);
      let m = p.paths.get(k);
      if (m === undefined) {
        m = new Map();
        p.paths.set(k, m);
      }
      const known = m.get(pk);
      if (known?.version !== undefined && pv.version !== undefined && pv.version < known.version) continue;
      m.set(pk, { ...pv, destination: prefix6ToDestination(dest.value) });
      p.stamps.set(pk, seq);
      p.tombstones.delete(pk);
      this.changed.add(k);
    }
    if (pullToken !== undefined) {
      // Forget what the snapshot no longer lists, unless a push taught it to us after the pull began.
      for (const [k, m] of p.paths) {
        for (const pk of [...m.keys()]) {
          if (seen.has(pk) || (p.stamps.get(pk) ?? -1) >= pullToken) continue;
          m.delete(pk);
          p.stamps.delete(pk);
          this.changed.add(k);
        }
        if (m.size === 0) p.paths.delete(k);
      }
      // Tombstones only matter while a pull is in flight.
      for (const [pk, at] of p.tombstones) if (at < pullToken) p.tombstones.delete(pk);
      p.tunnels.clear();
    }
    for (const t of update.tunnel?.withdraw ?? []) p.tunnels.delete(JSON.stringify(t));
    for (const t of update.tunnel?.announce ?? []) p.tunnels.set(JSON.stringify(t), t);
    return { loops, invalid };
  }

  // ----- selection -----

  private candidates(k: string): Candidate[] {
    const out: Candidate[] = [];
    for (const p of this.peers.values()) {
      const m = p.paths.get(k);
      if (m === undefined || m.size === 0) continue;
      // A neighbour's best path for the destination: lowest advertised delay, then shortest.
      let best: DdmPathVector | undefined;
      for (const pv of m.values()) {
        if (
          best === undefined ||
          (pv.delay ?? 0) < (best.delay ?? 0) ||
          ((pv.delay ?? 0) === (best.delay ?? 0) && pv.path.length < best.path.length)
        ) {
          best = pv;
        }
      }
      if (best === undefined) continue;
      const total = p.linkDelayUs === undefined ? undefined : p.linkDelayUs + (best.delay ?? 0);
      out.push({ peer: p, pv: best, totalUs: total });
    }
    // Deterministic order: by peer id.
    return out.sort((a, b) =>
      a.peer.info.id < b.peer.info.id ? -1 : a.peer.info.id > b.peer.info.id ? 1 : 0,
    );
  }

  /**
   * The path a router uses: among the candidates within the weights' tolerance of the lowest total
   * delay (differences that small are measurement noise), the fewest hops, then the lowest delay,
   * then the peer id. So a detour through another switch is taken only when it is clearly faster.
   */
  private best(cands: readonly Candidate[]): Candidate | undefined {
    let min = Number.MAX_SAFE_INTEGER;
    for (const c of cands) if (c.totalUs !== undefined && c.totalUs < min) min = c.totalUs;
    const w = this.params.weights;
    const within =
      min === Number.MAX_SAFE_INTEGER
        ? Number.MAX_SAFE_INTEGER
        : min + Math.max(w.toleranceUs, w.toleranceRatio * min);
    let best: Candidate | undefined;
    for (const c of cands) {
      const t = c.totalUs ?? Number.MAX_SAFE_INTEGER;
      if (t > within && min !== Number.MAX_SAFE_INTEGER) continue;
      if (best === undefined) {
        best = c;
        continue;
      }
      const bt = best.totalUs ?? Number.MAX_SAFE_INTEGER;
      if (c.pv.path.length < best.pv.path.length || (c.pv.path.length === best.pv.path.length && t < bt))
        best = c;
    }
    return best;
  }

  /**
   * Which candidates may carry traffic. A server (sled) is never transited — nobody routes through
   * it — so every loop-free path is usable. A transit router uses its best path, plus only
   * neighbours whose advertised path is shorter (in hops) than the best one. Since a transit
   * router advertises exactly the path it uses (see `advertisement`), every forwarding step then
   * strictly shortens the used path, so no forwarding loop can form — while the path-vector loop
   * check alone only keeps each router's own best path loop-free, not its extra next hops.
   */
  private feasible(cands: Candidate[]): Candidate[] {
    if (this.role !== 'transit' || cands.length < 2) return cands;
    const best = this.best(cands);
    if (best === undefined) return cands;
    return cands.filter((c) => c === best || c.pv.path.length < best.pv.path.length);
  }

  /** The route to install for one destination key, or undefined (none, or originated here). */
  private route(k: string): DdmRoute | undefined {
    if (this.originated.has(k)) return undefined;
    const cands = this.feasible(this.candidates(k));
    const first = cands[0];
    if (first === undefined) return undefined;
    const dest = destinationToPrefix6(first.pv.destination);
    if (!dest.ok) return undefined;
    const fresh = computeWeights(
      cands.map((c) => c.totalUs),
      this.params.weights,
    );
    const peersKey = cands.map((c) => c.peer.info.id).join(',');
    const prev = this.installedWeights.get(k);
    const weights = applyHysteresis(
      prev?.peers === peersKey ? prev.weights : undefined,
      fresh,
      this.params.weights,
    );
    this.installedWeights.set(k, { peers: peersKey, weights });
    return {
      prefix: dest.value,
      nextHops: cands.map((c, i) => ({
        peer: c.peer.info.id,
        addr: c.peer.info.addr,
        delayUs: c.totalUs,
        path: c.pv.path,
        weight: weights[i] as number,
      })),
    };
  }

  /** Every route: destination → weighted next hops. */
  routes(): DdmRoute[] {
    const keys = new Set<string>();
    for (const p of this.peers.values()) for (const k of p.paths.keys()) keys.add(k);
    const out: DdmRoute[] = [];
    for (const k of [...keys].sort()) {
      const r = this.route(k);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /**
   * Destinations whose installed route may need an update since the last call, with the route now
   * (undefined = remove).
   */
  takeChanged(): { prefixKey: string; route: DdmRoute | undefined }[] {
    const keys = [...this.changed].sort();
    this.changed = new Set();
    return keys.map((k) => {
      const route = this.route(k);
      if (route === undefined) this.installedWeights.delete(k);
      return { prefixKey: k, route };
    });
  }

  // ----- advertisement -----

  /** What we would tell `peer` about destination `k` now: path and delay, or undefined. */
  private advertisement(k: string, to: PeerState): { pv: DdmPathVector; delayUs: number } | undefined {
    const own = this.originated.get(k);
    if (own !== undefined) {
      return {
        pv: {
          destination: prefix6ToDestination(own.prefix),
          path: [this.hostname],
          delay: 0,
          version: own.version,
        },
        delayUs: 0,
      };
    }
    if (this.role !== 'transit') return undefined;
    // Transit: exactly the path we use, appending our name; nothing to the peer it came through
    // (split horizon with poisoned reverse: advertising another path there could make that peer
    // route through us while we route through it).
    const best = this.best(this.candidates(k));
    if (best === undefined || best.peer === to || best.pv.path.includes(to.info.hostname)) return undefined;
    const delayUs = Math.min(0xffffffff, Math.round(best.totalUs ?? best.pv.delay ?? 0));
    return {
      pv: {
        destination: best.pv.destination,
        path: [...best.pv.path, this.hostname],
        delay: delayUs,
        ...(best.pv.version !== undefined ? { version: best.pv.version } : {}),
      },
      delayUs,
    };
  }

  private allDestinations(): Set<string> {
    const keys = new Set<string>(this.originated.keys());
    if (this.role === 'transit')
      for (const p of this.peers.values()) for (const k of p.paths.keys()) keys.add(k);
    return keys;
  }

  /**
   * The update each peer needs now: structural changes (new, changed or withdrawn paths) at once,
   * delay-only changes past the threshold and outside the rate limit. Marks them as sent.
   */
  outbox(nowMs: number): Map<string, DdmUpdate> {
    const out = new Map<string, DdmUpdate>();
    const keys = this.allDestinations();
    for (const p of this.peers.values()) {
      const u = this.outboxFor(p, keys, nowMs);
      if (u !== undefined) out.set(p.info.id, u);
    }
    return out;
  }

  private outboxFor(p: PeerState, keys: ReadonlySet<string>, nowMs: number): DdmUpdate | undefined {
    {
      const announce: DdmPathVector[] = [];
      const withdraw: DdmPathVector[] = [];
      for (const k of new Set([...keys, ...p.sent.keys()])) {
        const adv = this.advertisement(k, p);
        const last = p.sent.get(k);
        if (adv === undefined) {
          if (last !== undefined) {
            withdraw.push(this.sentVector(k, last));
            p.sent.delete(k);
          }
          continue;
        }
        if (last !== undefined && samePath(last.path, adv.pv.path)) {
          const moved = Math.abs(adv.delayUs - last.delayUs);
          const threshold = Math.max(
            this.params.delayThresholdUs,
            this.params.delayThresholdRatio * last.delayUs,
          );
          if (moved <= threshold || nowMs - last.at < this.params.minReadvertiseMs) continue;
        } else if (last !== undefined) {
          // The path changed: withdraw the old one (withdrawals match on the path).
          withdraw.push(this.sentVector(k, last));
        }
        announce.push(adv.pv);
        p.sent.set(k, { path: adv.pv.path, delayUs: adv.delayUs, at: nowMs });
      }
      const tunnels = this.tunnelOutbox(p);
      if (announce.length === 0 && withdraw.length === 0 && tunnels === undefined) return undefined;
      return {
        ...(announce.length > 0 || withdraw.length > 0 ? { underlay: { announce, withdraw } } : {}),
        ...(tunnels !== undefined ? { tunnel: tunnels } : {}),
      };
    }
  }

  private sentVector(k: string, last: { path: readonly string[] }): DdmPathVector {
    const prefix = this.prefixOfKey(k);
    return { destination: prefix6ToDestination(prefix), path: [...last.path] };
  }

  private prefixOfKey(k: string): Prefix6 {
    const p = this.prefixes.get(k);
    if (p === undefined) throw new Error(`unknown destination key ${k}`);
    return p;
  }

  /** Tunnel origins: ours to everyone; a transit also passes on what others told it. */
  private tunnelOutbox(
    p: PeerState,
  ): { announce: DdmTunnelOrigin[]; withdraw: DdmTunnelOrigin[] } | undefined {
    const want = new Map<string, DdmTunnelOrigin>(this.originatedTunnels);
    if (this.role === 'transit') {
      for (const q of this.peers.values()) if (q !== p) for (const [k, t] of q.tunnels) want.set(k, t);
    }
    const announce = [...want].filter(([k]) => !p.sentTunnels.has(k)).map(([, t]) => t);
    const withdraw = [...p.sentTunnels]
      .filter((k) => !want.has(k))
      .map((k) => JSON.parse(k) as DdmTunnelOrigin);
    if (announce.length === 0 && withdraw.length === 0) return undefined;
    p.sentTunnels = new Set(want.keys());
    return { announce, withdraw };
  }

  /** Forget what we believe `peer` has heard (after a failed push): the next outbox resends all. */
  forgetSent(id: string): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    p.sent.clear();
    p.sentTunnels.clear();
  }

  /**
   * The full table for a pull by `peer`: everything we would announce to it. Also resets what we
   * consider sent to it, since a pull starts a session afresh.
   */
  pull(id: string, nowMs: number): DdmPullResponse {
    const p = this.peers.get(id);
    if (p === undefined) return { underlay: [], tunnel: [] };
    p.sent.clear();
    p.sentTunnels.clear();
    const update = this.outboxFor(p, this.allDestinations(), nowMs);
    return { underlay: update?.underlay?.announce ?? [], tunnel: update?.tunnel?.announce ?? [] };
  }

  /** Imported path vectors per peer, for the API. */
  imported(): { peer: DdmPeerInfo; paths: DdmPathVector[] }[] {
    return [...this.peers.values()].map((p) => ({
      peer: p.info,
      paths: [...p.paths.values()].flatMap((m) => [...m.values()]),
    }));
  }

  /** Imported tunnel origins per peer, for the API. */
  importedTunnels(): { peer: DdmPeerInfo; tunnels: DdmTunnelOrigin[] }[] {
    return [...this.peers.values()].map((p) => ({ peer: p.info, tunnels: [...p.tunnels.values()] }));
  }

  /** Text form of a destination key, for logs. */
  static describeKey(r: DdmRoute): string {
    return formatPrefix6(r.prefix);
  }
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
