// The send side of a BGP session after the RIB: which selected route a neighbour gets and with
// which attributes (RFC 4271 §9.1.3 and §5.1).
//
//   RIB best path ─▶ may it go to this peer? ─▶ base attributes ─▶ export policy ─▶ own AS, next hop,
//   (no sending back; iBGP-learned not to       (LOCAL_PREF/MED     (RFC 8212 default   2-octet form
//    iBGP; NO_ADVERTISE; NO_EXPORT to eBGP)      per RFC 4271 §5.1)  reject for eBGP)    (RFC 6793 §4.2.2)
//
// The RIB bus reports changes of forwarding next hops only; a new best path with the same next hop
// (a new AS_PATH, a different MED) changes what BGP sends but not the FIB. The speakers therefore
// follow the RIB's best-path changes (`Rib.onBestChange`), which cover every writer.

import type { NextHop } from '../../rib/types.js';
import { asPathPrepend, forOldSpeaker } from '../../wire/bgp/aspath.js';
import { Afi, AttrFlag, Origin, Safi, WellKnownCommunity } from '../../wire/bgp/constants.js';
import type { PathAttributes, RawAttribute } from '../../wire/bgp/types.js';
import { Addr6, isPrefix4, type Addr4, type Prefix } from '../../wire/ip/index.js';
import { outRoute, type OutRoute } from './adj-rib.js';
import { evaluatePolicy, type CompiledPolicy } from './policy.js';

// ===== Change feed =====

// ===== Route classes =====

/** Where a selected path comes from, as export sees it. */
export type PathOrigin =
  | { readonly kind: 'learned'; readonly ebgp: boolean; readonly source: string }
  | { readonly kind: 'originated' }
  | { readonly kind: 'static' };

// ===== Targets =====

/** What export needs to know about the neighbour it computes for. */
export interface ExportTarget {
  readonly localAsn: number;
  readonly ebgp: boolean;
  /** RIB source id of this neighbour (its own routes are never sent back). */
  readonly source: string;
  readonly nextHopSelf: boolean;
  /** Our transport addresses on the session, used as next-hop-self. */
  readonly self4?: Addr4;
  readonly self6?: Addr6;
  /** Our link-local address when the session runs over IPv6 link-local. */
  readonly selfLinkLocal?: Addr6;
  readonly fourOctetAs: boolean;
  /** IPv4 NLRI may carry IPv6 next hops (RFC 8950). */
  readonly extendedNextHop4: boolean;
  readonly policy: CompiledPolicy;
}

// ===== Export =====

const DEFAULT_LOCAL_PREF = 100;

/** True when communities forbid sending to this kind of neighbour (RFC 1997). */
export function communitiesForbid(a: PathAttributes, ebgp: boolean): boolean {
  const cs = a.communities;
  if (cs === undefined) return false;
  if (cs.includes(WellKnownCommunity.NO_ADVERTISE)) return true;
  return (
    ebgp && (cs.includes(WellKnownCommunity.NO_EXPORT) || cs.includes(WellKnownCommunity.NO_EXPORT_SUBCONFED))
  );
}

/** May a path of this origin go to the target at all (before attributes and policy)? */
export function mayExport(o: PathOrigin, t: ExportTarget, a: PathAttributes): boolean {
  if (o.kind === 'learned') {
    if (o.source === t.source) return false;
    // No route reflection yet: iBGP-learned routes go to external neighbours only (RFC 4271 §9.2).
    if (!o.ebgp && !t.ebgp) return false;
  }
  return !communitiesForbid(a, t.ebgp);
}

/**
 * The attributes before policy (RFC 4271 §5.1): LOCAL_PREF only to internal neighbours (the
 * path's, else 100), MED to external neighbours only for our own routes, no ORIGINATOR_ID or
 * CLUSTER_LIST (we reflect nothing), unknown optional transitive attributes passed on with the
 * Partial bit (§5), others dropped. Local routes start with an empty AS_PATH.
 */
export function baseAttributes(o: PathOrigin, a: PathAttributes, t: ExportTarget): PathAttributes {
  // Built field by field in `inOrder`'s order (no rest destructuring: see there). NEXT_HOP,
  // MP_REACH/MP_UNREACH and AS4_PATH/AS4_AGGREGATOR are made again for the neighbour.
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};
  out.origin =
    o.kind === 'originated'
      ? Origin.IGP
      : o.kind === 'static'
        ? Origin.INCOMPLETE
        : (a.origin ?? Origin.INCOMPLETE);
  out.asPath = o.kind === 'learned' ? (a.asPath ?? []) : [];
  if (t.ebgp) {
    if (a.med !== undefined && o.kind !== 'learned') out.med = a.med;
  } else {
    if (a.med !== undefined) out.med = a.med;
    out.localPref = a.localPref ?? DEFAULT_LOCAL_PREF;
  }
  if (a.atomicAggregate !== undefined) out.atomicAggregate = a.atomicAggregate;
  if (a.aggregator !== undefined) out.aggregator = a.aggregator;
  if (a.communities !== undefined) out.communities = a.communities;
  if (a.extCommunities !== undefined) out.extCommunities = a.extCommunities;
  if (a.largeCommunities !== undefined) out.largeCommunities = a.largeCommunities;
  if (a.otc !== undefined) out.otc = a.otc;
  if (a.unknown !== undefined) {
    const pass: RawAttribute[] = [];
    for (const u of a.unknown) {
      if ((u.flags & AttrFlag.OPTIONAL) !== 0 && (u.flags & AttrFlag.TRANSITIVE) !== 0)
        pass.push({ flags: u.flags | AttrFlag.PARTIAL, code: u.code, data: u.data });
    }
    if (pass.length > 0) out.unknown = pass;
  }
  return out;
}

/**
 * The same attributes as a new object whose fields are set in one fixed order. Sets built by
 * spreads, rest destructuring and additions (above, and in policy actions) end up with a hidden
 * class each; an outgoing set lives as long as it is advertised, so that would cost every set its
 * own class (about 190 bytes) and make every later read of its fields slow.
 */
function inOrder(a: PathAttributes): { -readonly [K in keyof PathAttributes]: PathAttributes[K] } {
  const c: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};
  if (a.origin !== undefined) c.origin = a.origin;
  if (a.asPath !== undefined) c.asPath = a.asPath;
  if (a.nextHop !== undefined) c.nextHop = a.nextHop;
  if (a.med !== undefined) c.med = a.med;
  if (a.localPref !== undefined) c.localPref = a.localPref;
  if (a.atomicAggregate !== undefined) c.atomicAggregate = a.atomicAggregate;
  if (a.aggregator !== undefined) c.aggregator = a.aggregator;
  if (a.communities !== undefined) c.communities = a.communities;
  if (a.originatorId !== undefined) c.originatorId = a.originatorId;
  if (a.clusterList !== undefined) c.clusterList = a.clusterList;
  if (a.mpReach !== undefined) c.mpReach = a.mpReach;
  if (a.mpUnreach !== undefined) c.mpUnreach = a.mpUnreach;
  if (a.extCommunities !== undefined) c.extCommunities = a.extCommunities;
  if (a.as4Path !== undefined) c.as4Path = a.as4Path;
  if (a.as4Aggregator !== undefined) c.as4Aggregator = a.as4Aggregator;
  if (a.largeCommunities !== undefined) c.largeCommunities = a.largeCommunities;
  if (a.otc !== undefined) c.otc = a.otc;
  if (a.unknown !== undefined) c.unknown = a.unknown;
  return c;
}

/** IPv4-mapped IPv6 address of an IPv4 address (::ffff:a.b.c.d). */
function mapped(a: Addr4): Addr6 {
  return new Addr6(0, 0, 0xffff, a >>> 0);
}

/**
 * The outgoing attribute set for one prefix, or undefined when the neighbour gets nothing.
 * `learnedHop` is the path's next hop (kept towards iBGP unless next-hop-self applies).
 */
export function exportRoute(
  prefix: Prefix,
  o: PathOrigin,
  a: PathAttributes,
  learnedHop: NextHop | undefined,
  t: ExportTarget,
): OutRoute | undefined {
  if (!mayExport(o, t, a)) return undefined;
  const base = baseAttributes(o, a, t);
  const r = evaluatePolicy(
    t.policy,
    { prefix, attrs: base, ...(learnedHop !== undefined ? { nextHop: learnedHop.addr } : {}) },
    { localAsn: t.localAsn },
  );
  if (!r.accept) return undefined;
  return finishRoute(prefix, o, r.attrs, learnedHop, r.nextHopSelf, r.nextHop, t);
}

/** Own AS, next hop and the 2-octet form applied to attributes that passed policy. */
export function finishRoute(
  prefix: Prefix,
  o: PathOrigin,
  attrs: PathAttributes,
  learnedHop: NextHop | undefined,
  policySelf: boolean,
  policyHop: Addr4 | Addr6 | undefined,
  t: ExportTarget,
): OutRoute | undefined {
  const out = inOrder(attrs);
  let path = attrs.asPath ?? [];
  if (t.ebgp) path = asPathPrepend(path, t.localAsn);
  if (t.fourOctetAs) {
    out.asPath = path;
  } else {
    const old = forOldSpeaker(path, attrs.aggregator);
    out.asPath = old.asPath;
    if (old.as4Path !== undefined) out.as4Path = old.as4Path;
    if (old.aggregator !== undefined) out.aggregator = old.aggregator;
    if (old.as4Aggregator !== undefined) out.as4Aggregator = old.as4Aggregator;
  }

  // Next hop: policy's address, else self (eBGP, next-hop-self, our own routes, or a learned
  // next hop the neighbour cannot use), else the learned one.
  const v4 = isPrefix4(prefix);
  let hop: Addr4 | Addr6 | undefined = policyHop;
  let linkLocal: Addr6 | undefined;
  if (hop === undefined) {
    const learned = learnedHop?.addr;
    const usable =
      learned !== undefined &&
      (typeof learned === 'number' || !learned.isLinkLocal()) &&
      (typeof learned === 'number' ? true : !v4 || t.extendedNextHop4);
    const self = t.ebgp || t.nextHopSelf || policySelf || o.kind !== 'learned' || !usable;
    if (!self) hop = learned;
    else if (v4) hop = t.self4 ?? (t.extendedNextHop4 ? (t.self6 ?? t.selfLinkLocal) : undefined);
    else {
      hop = t.self6 ?? t.selfLinkLocal ?? (t.self4 !== undefined ? mapped(t.self4) : undefined);
      if (t.selfLinkLocal !== undefined) linkLocal = t.selfLinkLocal;
    }
  }
  if (hop === undefined) return undefined;
  if (v4 && typeof hop === 'number') {
    out.nextHop = hop;
  } else if (v4 && typeof hop !== 'number') {
    if (!t.extendedNextHop4) return undefined;
    // RFC 8950 §3 carries the RFC 2545 forms: over a link-local session, global + link-local.
    const ll = hop.isLinkLocal() ? hop : undefined;
    out.mpReach = {
      afi: Afi.IPV4,
      safi: Safi.UNICAST,
      nextHop: hop,
      ...(ll !== undefined ? { nextHopLinkLocal: ll } : {}),
      nlri: [],
    };
  } else {
    const g = typeof hop === 'number' ? mapped(hop) : hop;
    out.mpReach = {
      afi: Afi.IPV6,
      safi: Safi.UNICAST,
      nextHop: g,
      ...(linkLocal !== undefined ? { nextHopLinkLocal: linkLocal } : {}),
      nlri: [],
    };
  }
  // The family is part of the identity through NEXT_HOP or MP_REACH's AFI (see `sameOutRoute`).
  return outRoute(out);
}
