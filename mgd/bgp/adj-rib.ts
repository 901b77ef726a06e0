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
// A full table is a million IPv4 prefixes per neighbour, so IPv4 routes (without ADD-PATH ids)
// live in `Prefix4Slots` (mgd/bgp/prefix-slots.ts): per prefix one slot with the shared
// attribute set of its UPDATE and a flag byte, no object per route. IPv6 and ADD-PATH routes use
// maps. `PrefixTable` (Maps per prefix length) remains for small per-neighbour sets.

import type { NextHop } from '../../rib/types.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST } from '../../wire/bgp/constants.js';
import type { PathAttributes } from '../../wire/bgp/types.js';
import { Prefix4Map, Prefix6Map } from '../../rib/prefix-map.js';
import { Prefix4Slots } from './prefix-slots.js';
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

/** Attributes and next hops as received (after sanitising), shared by the NLRI of one UPDATE. */
export interface InSet {
  /** Attributes without NEXT_HOP / MP_REACH / MP_UNREACH. */
  readonly attrs: PathAttributes;
  /** Next hops for the RIB. */
  readonly nexthops: readonly NextHop[];
}

/** Flag of a route: import accepted it, so a path is in the RIB. */
export const IN_ACCEPTED = 1;
/** Flag of a route: left from before a graceful restart (or an enhanced route refresh) and not yet re-advertised. */
export const IN_STALE = 2;

/** A route of Adj-RIB-In as listed for bulk work (a snapshot). */
export interface InRoute {
  readonly prefix: Prefix;
  readonly pathId: number;
  readonly set: InSet;
  /** IN_ACCEPTED | IN_STALE at the time of listing. */
  readonly flags: number;
}

/** A route kept in the side map (IPv6, or with an ADD-PATH identifier). */
interface SideRoute {
  readonly prefix: Prefix;
  readonly pathId: number;
  set: InSet;
  flags: number;
}

/**
 * A neighbour's routes before import policy. IPv4 routes without a path identifier (a full
 * table's bulk) live in `Prefix4Slots`: per prefix a slot holding the shared `InSet` and a flag
 * byte, no object per route. IPv6 routes and routes with ADD-PATH identifiers live in a map
 * beside it.
 */
export class AdjRibIn {
  private readonly plain4 = new Prefix4Slots<InSet>();
  private readonly side = new Map<number | string, SideRoute>();
  private readonly sideCount = new Map<number, number>();
  private readonly acceptedCount = new Map<number, number>();
  private readonly staleCount = new Map<number, number>();

  /** The attribute set of a route, or undefined. */
  get(prefix: Prefix, pathId: number): InSet | undefined {
    if (pathId === 0 && isPrefix4(prefix)) {
      const i = this.plain4.find(prefix);
      return i < 0 ? undefined : this.plain4.vals[i];
    }
    return this.side.get(routeKey(prefix, pathId))?.set;
  }

  /** The flags of a route (IN_ACCEPTED, IN_STALE), or -1 when it is not there. */
  flagsOf(prefix: Prefix, pathId: number): number {
    if (pathId === 0 && isPrefix4(prefix)) {
      const i = this.plain4.find(prefix);
      return i < 0 ? -1 : this.plain4.flags[i]!;
    }
    return this.side.get(routeKey(prefix, pathId))?.flags ?? -1;
  }

  /** Snapshot of every route of one family. */
  routes(family: number): InRoute[] {
    const out: InRoute[] = [];
    if (family === AFISAFI_IPV4_UNICAST) {
      const t = this.plain4;
      for (let i = 0; i < t.capacity; i++) {
        const p = t.prefixAt(i);
        if (p >= 0) out.push({ prefix: p as Prefix4, pathId: 0, set: t.vals[i]!, flags: t.flags[i]! });
      }
    }
    for (const r of this.side.values()) {
      if (familyOf(r.prefix) === family)
        out.push({ prefix: r.prefix, pathId: r.pathId, set: r.set, flags: r.flags });
    }
    return out;
  }

  /** Snapshot of every route of every family. */
  all(): InRoute[] {
    return FAMILIES.flatMap((f) => this.routes(f));
  }

  /** Routes received in a family. */
  received(family: number): number {
    return (family === AFISAFI_IPV4_UNICAST ? this.plain4.size : 0) + (this.sideCount.get(family) ?? 0);
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
    if (family === AFISAFI_IPV4_UNICAST) {
      const t = this.plain4;
      for (let i = 0; i < t.capacity; i++) if (t.prefixAt(i) >= 0) t.flags[i]! |= IN_STALE;
    }
    for (const r of this.side.values()) if (familyOf(r.prefix) === family) r.flags |= IN_STALE;
    this.staleCount.set(family, this.received(family));
  }

  /** Record the import verdict of a route that is there (keeps the accepted counter right). */
  setAccepted(prefix: Prefix, pathId: number, accepted: boolean): void {
    let old: number;
    if (pathId === 0 && isPrefix4(prefix)) {
      const i = this.plain4.find(prefix);
      if (i < 0) return;
      old = this.plain4.flags[i]!;
      this.plain4.flags[i] = accepted ? old | IN_ACCEPTED : old & ~IN_ACCEPTED;
    } else {
      const r = this.side.get(routeKey(prefix, pathId));
      if (r === undefined) return;
      old = r.flags;
      r.flags = accepted ? old | IN_ACCEPTED : old & ~IN_ACCEPTED;
    }
    if (((old & IN_ACCEPTED) !== 0) === accepted) return;
    const fam = familyOf(prefix);
    this.acceptedCount.set(fam, this.accepted(fam) + (accepted ? 1 : -1));
  }

  /**
   * Store a route (not stale, accepted as given); returns the flags of the one it replaced, or
   * -1 when there was none.
   */
  put(prefix: Prefix, pathId: number, set: InSet, accepted: boolean): number {
    const fam = familyOf(prefix);
    const flags = accepted ? IN_ACCEPTED : 0;
    let old: number;
    if (pathId === 0 && isPrefix4(prefix)) {
      const t = this.plain4;
      const before = t.size;
      const i = t.insert(prefix);
      old = t.size === before ? t.flags[i]! : -1;
      t.vals[i] = set;
      t.flags[i] = flags;
    } else {
      const k = routeKey(prefix, pathId);
      const r = this.side.get(k);
      if (r === undefined) {
        old = -1;
        this.side.set(k, { prefix, pathId, set, flags });
        this.sideCount.set(fam, (this.sideCount.get(fam) ?? 0) + 1);
      } else {
        old = r.flags;
        r.set = set;
        r.flags = flags;
      }
    }
    this.count(fam, old, -1);
    this.count(fam, flags, 1);
    return old;
  }

  /** Remove a route; returns its flags, or -1 when it was not there. */
  remove(prefix: Prefix, pathId: number): number {
    const fam = familyOf(prefix);
    let old: number;
    if (pathId === 0 && isPrefix4(prefix)) {
      const i = this.plain4.find(prefix);
      if (i < 0) return -1;
      old = this.plain4.flags[i]!;
      this.plain4.removeAt(i);
    } else {
      const k = routeKey(prefix, pathId);
      const r = this.side.get(k);
      if (r === undefined) return -1;
      old = r.flags;
      this.side.delete(k);
      this.sideCount.set(fam, (this.sideCount.get(fam) ?? 0) - 1);
    }
    this.count(fam, old, -1);
    return old;
  }

  /** Forget everything. */
  clear(): void {
    this.plain4.clear();
    this.side.clear();
    this.sideCount.clear();
    this.acceptedCount.clear();
    this.staleCount.clear();
  }

  private count(fam: number, flags: number, d: number): void {
    if (flags <= 0) return;
    if ((flags & IN_ACCEPTED) !== 0) this.acceptedCount.set(fam, this.accepted(fam) + d);
    if ((flags & IN_STALE) !== 0) this.staleCount.set(fam, this.stale(fam) + d);
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
  private readonly t4 = new Prefix4Slots<OutRoute>();
  private readonly t6 = new Prefix6Map<OutRoute>();

  /** What was last sent for a prefix. */
  get(prefix: Prefix): OutRoute | undefined {
    if (!isPrefix4(prefix)) return this.t6.get(prefix);
    const i = this.t4.find(prefix);
    return i < 0 ? undefined : this.t4.vals[i];
  }

  /** Record an advertisement (`out`) or a withdrawal (undefined). */
  set(prefix: Prefix, out: OutRoute | undefined): void {
    if (!isPrefix4(prefix)) {
      if (out === undefined) this.t6.delete(prefix);
      else this.t6.set(prefix, out);
    } else if (out === undefined) {
      const i = this.t4.find(prefix);
      if (i >= 0) this.t4.removeAt(i);
    } else {
      this.t4.vals[this.t4.insert(prefix)] = out;
    }
  }

  /** The prefixes advertised in a family. */
  *prefixes(family: number): IterableIterator<Prefix> {
    if (family !== AFISAFI_IPV4_UNICAST) {
      for (const [p] of this.t6.entries()) yield p;
      return;
    }
    // A snapshot: callers may change the table while iterating.
    const ps: Prefix4[] = [];
    for (let i = 0; i < this.t4.capacity; i++) {
      const p = this.t4.prefixAt(i);
      if (p >= 0) ps.push(p as Prefix4);
    }
    yield* ps;
  }

  /** Prefixes advertised in a family. */
  advertised(family: number): number {
    return family === AFISAFI_IPV4_UNICAST ? this.t4.size : this.t6.size;
  }

  /** Forget everything (the session went down). */
  clear(): void {
    this.t4.clear();
    this.t6.clear();
  }
}
