// The receive side of a BGP session before the RIB: an UPDATE taken apart into withdrawals and
// announcements with their next hops (RFC 4271 §5.1.3, RFC 4760 §3, RFC 2545 §3), the attributes
// sanitised as received (RFC 6793 §4.2.3 AS_PATH/AS4_PATH merge for a 2-octet peer; LOCAL_PREF,
// ORIGINATOR_ID and CLUSTER_LIST from an external peer ignored, RFC 4271 §5.1.5 and RFC 4456 §8),
// RFC 7606 treat-as-withdraw, and the import rules that run before policy (AS_PATH loop
// detection with allowas-in, RFC 4271 §9.1.2; first AS = peer AS on eBGP, RFC 4271 §6.3).

import type { NextHop } from '../../rib/types.js';
import { asPathContains, firstAsn, reconcileAs4 } from '../../wire/bgp/aspath.js';
import { endOfRibFamily } from '../../wire/bgp/builder.js';
import { AFISAFI_IPV4_UNICAST, Safi, afiSafiKey } from '../../wire/bgp/constants.js';
import type { AsPathSegment, MpReach, PathAttributes, UpdateMessage } from '../../wire/bgp/types.js';
import type { Prefix } from '../../wire/ip/index.js';

// ===== Session facts =====

/** What the receive side needs to know about the session. */
export interface ImportSession {
  readonly localAsn: number;
  readonly peerAsn: number;
  readonly ebgp: boolean;
  /** The peer speaks 4-octet AS (RFC 6793); otherwise AS4_PATH is merged. */
  readonly fourOctetAs: boolean;
  /** Interface of a session over IPv6 link-local: link-local next hops are usable over it. */
  readonly ifname?: string;
  /** Families negotiated for the session. */
  readonly families: ReadonlySet<number>;
}

// ===== Taking an UPDATE apart =====

/**
 * NLRI as decoded: the prefixes and, with ADD-PATH, their path identifiers (parallel; without
 * them every identifier is 0). No object per prefix: a full table is a million of them.
 */
export interface NlriList {
  readonly prefixes: readonly Prefix[];
  readonly pathIds: readonly number[] | undefined;
}

/** Announcements sharing one attribute set and one next hop. */
export interface Announcement {
  readonly family: number;
  readonly attrs: PathAttributes;
  /** Empty when the next hop is unusable (a link-local next hop off an interface-less session). */
  readonly nexthops: readonly NextHop[];
  readonly prefixes: readonly Prefix[];
  readonly pathIds: readonly number[] | undefined;
}

/** An UPDATE as the Adj-RIB-In consumes it. */
export interface ParsedUpdate {
  /** Withdrawn NLRI, in groups as they came (withdrawn routes, MP_UNREACH, treat-as-withdraw). */
  readonly withdrawn: readonly NlriList[];
  readonly announced: readonly Announcement[];
  /** Set for an End-of-RIB marker (RFC 4724 §2): the family it ends. */
  readonly endOfRib?: number;
  /** RFC 7606: the announcements were turned into withdrawals; the error text. */
  readonly treatAsWithdraw?: string;
  /** NLRI of families the session did not negotiate (ignored, counted). */
  readonly ignored: number;
}

function withIds(prefixes: readonly Prefix[], pathIds: readonly number[] | undefined): NlriList {
  return { prefixes, pathIds };
}

/** Number of NLRI in groups. */
export function nlriCount(lists: readonly NlriList[]): number {
  let n = 0;
  for (const l of lists) n += l.prefixes.length;
  return n;
}

/** Split an UPDATE into withdrawals and announcements (RFC 7606 treat-as-withdraw applied). */
export function parseUpdate(msg: UpdateMessage, s: ImportSession): ParsedUpdate {
  const eor = endOfRibFamily(msg);
  if (eor !== undefined) return { withdrawn: [], announced: [], endOfRib: eor, ignored: 0 };
  const withdrawn: NlriList[] =
    msg.withdrawn.length > 0 ? [withIds(msg.withdrawn, msg.withdrawnPathIds)] : [];
  let ignored = 0;
  const un = msg.attrs.mpUnreach;
  if (un !== undefined && un.raw === undefined) {
    if (s.families.has(afiSafiKey(un.afi, un.safi))) withdrawn.push(withIds(un.withdrawn, un.pathIds));
    else ignored += un.withdrawn.length;
  }
  const mp = msg.attrs.mpReach;
  const mpKey = mp !== undefined && mp.raw === undefined ? afiSafiKey(mp.afi, mp.safi) : undefined;
  if (msg.treatAsWithdraw !== undefined) {
    // RFC 7606 §2: every NLRI the UPDATE carries, reachable or not, is withdrawn.
    withdrawn.push(withIds(msg.nlri, msg.nlriPathIds));
    if (mp !== undefined && mpKey !== undefined && s.families.has(mpKey))
      withdrawn.push(withIds(mp.nlri, mp.pathIds));
    return { withdrawn, announced: [], treatAsWithdraw: msg.treatAsWithdraw.message, ignored };
  }
  const announced: Announcement[] = [];
  const needAttrs = msg.nlri.length > 0 || (mp !== undefined && mp.nlri.length > 0);
  if (!needAttrs) return { withdrawn, announced, ignored };
  const attrs = sanitise(msg.attrs, s);
  if (msg.nlri.length > 0) {
    if (!s.families.has(AFISAFI_IPV4_UNICAST)) ignored += msg.nlri.length;
    else {
      const nh = msg.attrs.nextHop;
      announced.push({
        family: AFISAFI_IPV4_UNICAST,
        attrs,
        nexthops: nh === undefined ? [] : [{ addr: nh }],
        prefixes: msg.nlri,
        pathIds: msg.nlriPathIds,
      });
    }
  }
  if (mp !== undefined && mp.nlri.length > 0) {
    if (mpKey === undefined || !s.families.has(mpKey) || mp.safi !== Safi.UNICAST) ignored += mp.nlri.length;
    else
      announced.push({
        family: mpKey,
        attrs,
        nexthops: mpNextHops(mp, s.ifname),
        prefixes: mp.nlri,
        pathIds: mp.pathIds,
      });
  }
  return { withdrawn, announced, ignored };
}

/**
 * The RIB next hop of an MP_REACH (RFC 2545 §3): the global address, unless there is none (or it
 * is itself link-local), in which case the link-local one over the session's interface.
 */
export function mpNextHops(mp: MpReach, ifname: string | undefined): NextHop[] {
  const nh = mp.nextHop;
  if (typeof nh === 'number') return [{ addr: nh }];
  const zero = nh.w0 === 0 && nh.w1 === 0 && nh.w2 === 0 && nh.w3 === 0;
  if (!zero && !nh.isLinkLocal()) return [{ addr: nh }];
  const ll = zero ? mp.nextHopLinkLocal : nh;
  if (ll === undefined || ifname === undefined) return [];
  return [{ addr: ll, ifname }];
}

/**
 * The attributes as the Adj-RIB-In keeps them: no NEXT_HOP / MP_* (the next hop lives on the
 * path), AS4_PATH merged for a 2-octet peer and dropped otherwise, LOCAL_PREF / ORIGINATOR_ID /
 * CLUSTER_LIST dropped from an external peer.
 */
export function sanitise(a: PathAttributes, s: ImportSession): PathAttributes {
  // Built field by field in one order (no rest destructuring): the sets stay in Adj-RIB-In and
  // objects of one shape keep every later read of them fast. NEXT_HOP and MP_REACH/MP_UNREACH
  // became the next hops and NLRI; AS4_PATH/AS4_AGGREGATOR are merged below for a 2-octet peer.
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};
  let asPath = a.asPath;
  let aggregator = a.aggregator;
  if (!s.fourOctetAs) {
    const eff = reconcileAs4(a);
    asPath = eff.asPath;
    aggregator = eff.aggregator;
  }
  if (a.origin !== undefined) out.origin = a.origin;
  if (asPath !== undefined) out.asPath = asPath;
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined && !s.ebgp) out.localPref = a.localPref;
  if (a.atomicAggregate !== undefined) out.atomicAggregate = a.atomicAggregate;
  if (aggregator !== undefined) out.aggregator = aggregator;
  if (a.communities !== undefined) out.communities = a.communities;
  if (a.originatorId !== undefined && !s.ebgp) out.originatorId = a.originatorId;
  if (a.clusterList !== undefined && !s.ebgp) out.clusterList = a.clusterList;
  if (a.extCommunities !== undefined) out.extCommunities = a.extCommunities;
  if (a.largeCommunities !== undefined) out.largeCommunities = a.largeCommunities;
  if (a.otc !== undefined) out.otc = a.otc;
  if (a.unknown !== undefined) out.unknown = a.unknown;
  return out;
}

// ===== Import rules before policy =====

/** Per-neighbour knobs of the import rules. */
export interface ImportRules {
  /** How many times our own ASN may appear in a received AS_PATH (0 = loop detection on). */
  readonly allowAsIn: number;
  /** eBGP: the first AS of the path must be the peer's AS. */
  readonly enforceFirstAs: boolean;
}

function countAsn(path: readonly AsPathSegment[], asn: number): number {
  let n = 0;
  for (const seg of path) for (const a of seg.asns) if (a === asn) n++;
  return n;
}

/** Why a route fails the rules, or undefined when it passes. */
export function ruleFailure(a: PathAttributes, s: ImportSession, r: ImportRules): string | undefined {
  const path = a.asPath ?? [];
  if (asPathContains(path, s.localAsn) && countAsn(path, s.localAsn) > r.allowAsIn) return 'as-path-loop';
  if (s.ebgp && r.enforceFirstAs && firstAsn(path) !== s.peerAsn) return 'first-as-not-peer-as';
  return undefined;
}
