// Adj-RIB-In and Adj-RIB-Out of one BGP neighbour (RFC 4271 §3.2): what the peer sent us before
// import policy, and what we last sent the peer, per address family and prefix (plus the ADD-PATH
// path identifier, RFC 7911, on the receive side).
//
// Keeping Adj-RIB-In before policy lets a policy change re-run import without asking the peer to
// resend (no session reset, no ROUTE-REFRESH). Entries also carry the graceful-restart stale mark
// (RFC 4724 §4.2) and whether import accepted them (for the accepted counter and maximum-prefix).
// Adj-RIB-Out records the outgoing attribute set we advertised, so a RIB change becomes an UPDATE
// only when what the peer would receive differs.
//
// Tables are keyed by prefix through rib/prefix-map.ts (unboxed integer keys per prefix length
// for IPv4): a Map keyed by the IPv4 prefix number itself boxes and hashes doubles, which showed
// as the largest cost of a full-table dump.

import type { NextHop } from '../../rib/types.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST } from '../../wire/bgp/constants.js';
import type { PathAttributes } from '../../wire/bgp/types.js';
import { Prefix4Map, Prefix6Map } from '../../rib/prefix-map.js';
import { isPrefix4, key6, type Prefix, type Prefix4, type Prefix6 } from '../../wire/ip/index.js';

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

// ===== Prefix tables =====

/** A map from prefixes of both families to values. */
export class PrefixTable<V> {
  private readonly t4 = new Prefix4Map<V>();
  private readonly t6 = new Prefix6Map<V>();

  /** Entries of one family. */
  size(family: number): number {
    return family === AFISAFI_IPV4_UNICAST ? this.t4.size : this.t6.size;
  }

  /** Entries of both families. */
  get total(): number {
    return this.t4.size + this.t6.size;
  }

  get(p: Prefix): V | undefined {
    return isPrefix4(p) ? this.t4.get(p) : this.t6.get(p);
  }

  set(p: Prefix, v: V): void {
    if (isPrefix4(p)) this.t4.set(p, v);
    else this.t6.set(p, v);
  }

  delete(p: Prefix): boolean {
    return isPrefix4(p) ? this.t4.delete(p) : this.t6.delete(p);
  }

  clear(): void {
    this.t4.clear();
    this.t6.clear();
  }

  /** The entries of one family. */
  entries(family: number): IterableIterator<[Prefix, V]> {
    return family === AFISAFI_IPV4_UNICAST ? this.t4.entries() : this.t6.entries();
  }

  /** The values of one family. */
  values(family: number): IterableIterator<V> {
    return family === AFISAFI_IPV4_UNICAST ? this.t4.values() : this.t6.values();
  }

  /** Take and remove up to `max` prefixes of one family into `out`. */
  take(family: number, max: number, out: Prefix[]): void {
    if (max <= 0) return;
    if (family === AFISAFI_IPV4_UNICAST) {
      const pairs: [Prefix4, V][] = [];
      this.t4.take(max, pairs);
      for (const [p] of pairs) out.push(p);
    } else {
      const pairs: [Prefix6, V][] = [];
      this.t6.take(max, pairs);
      for (const [p] of pairs) out.push(p);
    }
  }
}

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

/**
 * A neighbour's routes before import policy. Routes without a path identifier (the usual case)
 * live in a prefix table; ADD-PATH routes with identifiers in a text-keyed map beside it.
 */
export class AdjRibIn {
  private readonly plain = new PrefixTable<InRoute>();
  private readonly withIds = new Map<string, InRoute>();
  private readonly idCount = new Map<number, number>();
  private readonly acceptedCount = new Map<number, number>();
  private readonly staleCount = new Map<number, number>();

  /** The route for a prefix and path identifier. */
  get(prefix: Prefix, pathId: number): InRoute | undefined {
    return pathId === 0 ? this.plain.get(prefix) : this.withIds.get(routeKey(prefix, pathId) as string);
  }

  /** Every route of one family. */
  *values(family: number): IterableIterator<InRoute> {
    yield* this.plain.values(family);
    for (const r of this.withIds.values()) if (familyOf(r.prefix) === family) yield r;
  }

  /** Every route of every family. */
  *all(): IterableIterator<InRoute> {
    for (const f of FAMILIES) yield* this.values(f);
  }

  /** Routes received in a family. */
  received(family: number): number {
    return this.plain.size(family) + (this.idCount.get(family) ?? 0);
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
    for (const r of this.values(family)) r.stale = true;
    this.staleCount.set(family, this.received(family));
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
    let old: InRoute | undefined;
    if (r.pathId === 0) {
      old = this.plain.get(r.prefix);
      this.plain.set(r.prefix, r);
    } else {
      const k = routeKey(r.prefix, r.pathId) as string;
      old = this.withIds.get(k);
      this.withIds.set(k, r);
      if (old === undefined) this.idCount.set(fam, (this.idCount.get(fam) ?? 0) + 1);
    }
    if (old?.accepted === true) this.acceptedCount.set(fam, this.accepted(fam) - 1);
    if (old?.stale === true) this.staleCount.set(fam, this.stale(fam) - 1);
    if (r.stale) this.staleCount.set(fam, this.stale(fam) + 1);
    return old;
  }

  /** Remove a route; returns it if it was there. */
  remove(prefix: Prefix, pathId: number): InRoute | undefined {
    const fam = familyOf(prefix);
    let old: InRoute | undefined;
    if (pathId === 0) {
      old = this.plain.get(prefix);
      if (old !== undefined) this.plain.delete(prefix);
    } else {
      const k = routeKey(prefix, pathId) as string;
      old = this.withIds.get(k);
      if (old !== undefined) {
        this.withIds.delete(k);
        this.idCount.set(fam, (this.idCount.get(fam) ?? 0) - 1);
      }
    }
    if (old === undefined) return undefined;
    if (old.accepted) this.acceptedCount.set(fam, this.accepted(fam) - 1);
    if (old.stale) this.staleCount.set(fam, this.stale(fam) - 1);
    return old;
  }

  /** Forget everything. */
  clear(): void {
    this.plain.clear();
    this.withIds.clear();
    this.idCount.clear();
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

/** What we advertised to a neighbour, per prefix. */
export class AdjRibOut {
  private readonly t = new PrefixTable<OutRoute>();

  /** What was last sent for a prefix. */
  get(prefix: Prefix): OutRoute | undefined {
    return this.t.get(prefix);
  }

  /** Record an advertisement (`out`) or a withdrawal (undefined). */
  set(prefix: Prefix, out: OutRoute | undefined): void {
    if (out === undefined) this.t.delete(prefix);
    else this.t.set(prefix, out);
  }

  /** The prefixes advertised in a family. */
  *prefixes(family: number): IterableIterator<Prefix> {
    for (const [p] of this.t.entries(family)) yield p;
  }

  /** Prefixes advertised in a family. */
  advertised(family: number): number {
    return this.t.size(family);
  }

  /** Forget everything (the session went down). */
  clear(): void {
    this.t.clear();
  }
}
