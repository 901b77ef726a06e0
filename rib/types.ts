// Shared RIB vocabulary: address families, route sources, next hops and the options that steer
// best-path selection (RFC 4271 §9.1.2.2 and its common extensions). Prefixes are the integer and
// word-object forms from wire/ip; nothing here allocates strings per prefix.

import {
  Addr6,
  formatAddr4,
  formatAddr6,
  formatPrefix4,
  formatPrefix6,
  key6,
  type Addr4,
  type Prefix4,
  type Prefix6,
} from '../wire/ip/index.js';

// ===== Families and prefixes =====

/** Address family of a RIB table: 4 (IPv4 unicast) or 6 (IPv6 unicast). */
export type Afi = 4 | 6;

/** A prefix tagged with its family, as carried by events and the FIB. */
export type AfPrefix =
  { readonly afi: 4; readonly prefix: Prefix4 } | { readonly afi: 6; readonly prefix: Prefix6 };

/** Prefix text for logs and JSON. */
export function formatAfPrefix(p: AfPrefix): string {
  return p.afi === 4 ? formatPrefix4(p.prefix) : formatPrefix6(p.prefix);
}

/** A Map key for a prefix: the number itself for IPv4, `key6` text for IPv6. */
export function prefixKey(p: AfPrefix): number | string {
  return p.afi === 4 ? p.prefix : key6(p.prefix);
}

// ===== Next hops =====

/** One next hop of a path: an address of either family, an interface for link-local, a weight. */
export interface NextHop {
  readonly addr: Addr4 | Addr6;
  /** Outgoing interface; required for IPv6 link-local next hops. */
  readonly ifname?: string;
  /** Relative weight for weighted multipath (1..256 in Linux); absent means 1. */
  readonly weight?: number;
}

/** True when the next hop address is IPv4. */
export function isNextHop4(nh: NextHop): nh is NextHop & { readonly addr: Addr4 } {
  return typeof nh.addr === 'number';
}

/** Address text of a next hop (no interface, no weight). */
export function formatNextHopAddr(nh: NextHop): string {
  return typeof nh.addr === 'number' ? formatAddr4(nh.addr) : formatAddr6(nh.addr);
}

/** Identity of a next hop's reachability: address plus interface (the weight is not part of it). */
export function nextHopAddrKey(nh: NextHop): string {
  const a =
    typeof nh.addr === 'number'
      ? `4:${nh.addr}`
      : `6:${nh.addr.w0}.${nh.addr.w1}.${nh.addr.w2}.${nh.addr.w3}`;
  return nh.ifname === undefined ? a : `${a}%${nh.ifname}`;
}

/** Full identity of a next hop including its weight; used to intern next-hop lists. */
export function nextHopKey(nh: NextHop): string {
  const k = nextHopAddrKey(nh);
  return nh.weight === undefined || nh.weight === 1 ? k : `${k}*${nh.weight}`;
}

/** Human text such as `10.0.0.1`, `fe80::1%eth0`, `10.0.0.1 weight 3`. */
export function formatNextHop(nh: NextHop): string {
  const a = formatNextHopAddr(nh) + (nh.ifname === undefined ? '' : `%${nh.ifname}`);
  return nh.weight === undefined || nh.weight === 1 ? a : `${a} weight ${nh.weight}`;
}

/** Copy of an IPv6 address object (keeps JSON-revived shapes monomorphic). */
export function addr6Of(w: { w0: number; w1: number; w2: number; w3: number }): Addr6 {
  return new Addr6(w.w0, w.w1, w.w2, w.w3);
}

// ===== Sources =====

/** The protocol that contributed a path. */
export type SourceKind = 'connected' | 'static' | 'bgp' | 'ddm';

/** Description of a route source (a BGP neighbour, the static table, ddmd…). */
export interface SourceSpec {
  /** Stable id, for example `bgp:192.0.2.1` or `static`. */
  readonly id: string;
  readonly kind: SourceKind;
  /** BGP: true for an external neighbour (RFC 4271 §9.1.2.2 d). */
  readonly ebgp?: boolean;
  /** BGP: the neighbour's transport address (final tie-break, RFC 4271 §9.1.2.2 g). */
  readonly peerAddr?: Addr4 | Addr6;
  /** BGP: the neighbour's BGP identifier (RFC 4271 §9.1.2.2 f). */
  readonly routerId?: number;
  /** Overrides the administrative distance of the source's kind. */
  readonly distance?: number;
}

// ===== Decision options =====

/** Administrative distance per protocol; lower wins, as in most routers. */
export type DistanceTable = Readonly<Record<SourceKind, number>>;

/** Default distances: connected 0, static 1, eBGP/iBGP 20 (BGP kinds share one value), DDM 30. */
export const DEFAULT_DISTANCES: DistanceTable = { connected: 0, static: 1, bgp: 20, ddm: 30 };

/** Knobs of the decision process. */
export interface DecisionOptions {
  readonly distances: DistanceTable;
  /** LOCAL_PREF assumed when the attribute is absent (RFC 4271 §5.1.5 leaves it local; 100 is customary). */
  readonly defaultLocalPref: number;
  /** Compare MED between paths from different neighbouring ASes too ("always-compare-med"). */
  readonly alwaysCompareMed: boolean;
  /** Treat a missing MED as the worst value (2^32-1) instead of 0 (RFC 4271 §9.1.2.2 c says 0). */
  readonly missingMedWorst: boolean;
  /** Maximum number of paths installed for one prefix (1 = no multipath). */
  readonly maxPaths: number;
  /** Allow next hops to resolve over a default route (off by default, as in most BGP speakers). */
  readonly resolveViaDefault: boolean;
}

/** Defaults: LOCAL_PREF 100, MED compared within a neighbouring AS only, missing MED = 0, 1 path. */
export const DEFAULT_DECISION: DecisionOptions = {
  distances: DEFAULT_DISTANCES,
  defaultLocalPref: 100,
  alwaysCompareMed: false,
  missingMedWorst: false,
  maxPaths: 1,
  resolveViaDefault: false,
};
