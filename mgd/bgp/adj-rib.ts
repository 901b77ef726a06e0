// Adj-RIB-In and Adj-RIB-Out of one BGP neighbour (RFC 4271 §3.2): what the peer sent us before
// import policy, and what we last sent the peer, per address family and prefix (plus the ADD-PATH
// path identifier, RFC 7911, on the receive side).
//
// Keeping Adj-RIB-In before policy lets a policy change re-run import without asking the peer to
// resend (no session reset, no ROUTE-REFRESH). Entries also carry the graceful-restart stale mark
// (RFC 4724 §4.2) and whether import accepted them (for the accepted counter and maximum-prefix).
// Adj-RIB-Out records the outgoing attribute set we advertised, so a RIB change becomes an UPDATE
// only when what the peer would receive differs.

import type { NextHop } from '../../rib/types.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST } from '../../wire/bgp/constants.js';
import type { PathAttributes } from '../../wire/bgp/types.js';
import { isPrefix4, key6, type Prefix } from '../../wire/ip/index.js';

// ===== Keys =====

/** Map key of a prefix (and path identifier): the number for IPv4 without a path id, else text. */
export function routeKey(prefix: Prefix, pathId = 0): number | string {
  if (isPrefix4(prefix)) return pathId === 0 ? prefix : `${prefix}#${pathId}`;
  return pathId === 0 ? key6(prefix) : `${key6(prefix)}#${pathId}`;
}

/** The AFI/SAFI key (unicast) of a prefix. */
export function familyOf(prefix: Prefix): number {
  return isPrefix4(prefix) ? AFISAFI_IPV4_UNICAST : AFISAFI_IPV6_UNICAST;
}

/** The families we carry, in the order End-of-RIB and dumps go out. */
export const FAMILIES: readonly number[] = [AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST];

// ===== Adj-RIB-In =====

/** One route as received, after sanitising (RFC 6793 merge, eBGP-only attribute removal). */
export interface InRoute {
  readonly prefix: Prefix;
  readonly pathId: number;
  /** Attributes without NEXT_HOP / MP_REACH / MP_UNREACH (shared by the NLRI of one UPDATE). */
  readonly attrs: PathAttributes;
  /** Next hops for the RIB (shared by the NLRI of one UPDATE). */
  readonly nexthops: readonly NextHop[];
  /** Import accepted it: a path is in the RIB. */
  accepted: boolean;
  /** Left from before a graceful restart (or an enhanced route refresh) and not yet re-advertised. */
  stale: boolean;
}

/** A neighbour's routes before import policy, per family. */
export class AdjRibIn {
  private readonly tables = new Map<number, Map<number | string, InRoute>>();
  private readonly acceptedCount = new Map<number, number>();
  private readonly staleCount = new Map<number, number>();

  /** The table of one family. */
  table(family: number): Map<number | string, InRoute> {
    let t = this.tables.get(family);
    if (t === undefined) {
      t = new Map();
      this.tables.set(family, t);
    }
    return t;
  }

  /** Routes received in a family. */
  received(family: number): number {
    return this.tables.get(family)?.size ?? 0;
  }

  /** Routes accepted by import in a family. */
  accepted(family: number): number {
    return this.acceptedCount.get(family) ?? 0;
  }

  /** Routes still marked stale in a family. */
  stale(family: number): number {
    return this.staleCount.get(family) ?? 0;
  }

  /** Mark every route of a family stale (graceful restart, RFC 7313 BoRR). */
  markStale(family: number): void {
    const t = this.tables.get(family);
    if (t === undefined) return;
    for (const r of t.values()) r.stale = true;
    this.staleCount.set(family, t.size);
  }

  /** Record the import verdict of a route (keeps the accepted counter right). */
  setAccepted(family: number, r: InRoute, accepted: boolean): void {
    if (r.accepted === accepted) return;
    r.accepted = accepted;
    this.acceptedCount.set(family, this.accepted(family) + (accepted ? 1 : -1));
  }

  /** Store a route; returns the one it replaced. */
  put(r: InRoute): InRoute | undefined {
    const fam = familyOf(r.prefix);
    const t = this.table(fam);
    const k = routeKey(r.prefix, r.pathId);
    const old = t.get(k);
    t.set(k, r);
    if (old?.accepted === true) this.acceptedCount.set(fam, this.accepted(fam) - 1);
    if (old?.stale === true) this.staleCount.set(fam, this.stale(fam) - 1);
    if (r.stale) this.staleCount.set(fam, this.stale(fam) + 1);
    return old;
  }

  /** Remove a route; returns it if it was there. */
  remove(prefix: Prefix, pathId: number): InRoute | undefined {
    const fam = familyOf(prefix);
    const t = this.tables.get(fam);
    if (t === undefined) return undefined;
    const k = routeKey(prefix, pathId);
    const old = t.get(k);
    if (old === undefined) return undefined;
    t.delete(k);
    if (old.accepted) this.acceptedCount.set(fam, this.accepted(fam) - 1);
    if (old.stale) this.staleCount.set(fam, this.stale(fam) - 1);
    return old;
  }

  /** Every route of every family. */
  *all(): IterableIterator<InRoute> {
    for (const t of this.tables.values()) yield* t.values();
  }

  /** Forget everything. */
  clear(): void {
    this.tables.clear();
    this.acceptedCount.clear();
    this.staleCount.clear();
  }
}

// ===== Adj-RIB-Out =====

/** An outgoing attribute set: attributes with the next hop in place, and its identity text. */
export interface OutRoute {
  /** NEXT_HOP set for IPv4 over an IPv4 next hop; otherwise `mpReach` (without NLRI) carries it. */
  readonly attrs: PathAttributes;
  /** Equal keys mean byte-identical attribute sections: prefixes sharing one are packed together. */
  readonly key: string;
}

/** What we advertised to a neighbour, per family. */
export class AdjRibOut {
  private readonly tables = new Map<number, Map<number | string, { prefix: Prefix; out: OutRoute }>>();

  /** The table of one family. */
  table(family: number): Map<number | string, { prefix: Prefix; out: OutRoute }> {
    let t = this.tables.get(family);
    if (t === undefined) {
      t = new Map();
      this.tables.set(family, t);
    }
    return t;
  }

  /** What was last sent for a prefix. */
  get(prefix: Prefix): OutRoute | undefined {
    return this.tables.get(familyOf(prefix))?.get(routeKey(prefix))?.out;
  }

  /** Record an advertisement (`out`) or a withdrawal (undefined). */
  set(prefix: Prefix, out: OutRoute | undefined): void {
    const t = this.table(familyOf(prefix));
    if (out === undefined) t.delete(routeKey(prefix));
    else t.set(routeKey(prefix), { prefix, out });
  }

  /** Prefixes advertised in a family. */
  advertised(family: number): number {
    return this.tables.get(family)?.size ?? 0;
  }

  /** Forget everything (the session went down). */
  clear(): void {
    this.tables.clear();
  }
}
