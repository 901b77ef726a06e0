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
// live in `Prefix4Slots` (mgd/bgp/prefix-slots.ts): per prefix one slot, at the prefix's id in the
// RIB's shared `PrefixIds`, with the shared attribute set of its UPDATE and a flag byte, no
// object per route and no hash table per neighbour. The set's attributes are the
// RIB's interned object (a reference per route), not a copy. IPv6 and ADD-PATH routes use maps.
// Adj-RIB-Out also holds the export work queue (see `AdjRibOut`); outgoing sets are compared by
// hash and field (`sameOutRoute`), not by a text key.

import { attrsEqual, attrsHash, type AttrInterner, type Attrs } from '../../rib/intern.js';
import type { NextHop } from '../../rib/types.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST } from '../../wire/bgp/constants.js';
import type { PathAttributes } from '../../wire/bgp/types.js';
import { Prefix6Map } from '../../rib/prefix-map.js';
import { Prefix4Slots } from './prefix-slots.js';
import type { PrefixIds } from '../../rib/prefix-ids.js';
import {
  isPrefix4,
  key6,
  type Addr4,
  type Addr6,
  type Prefix,
  type Prefix4,
  type Prefix6,
} from '../../wire/ip/index.js';

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

/** Index of a family among `FAMILIES` (-1 for any other). */
function famIndex(fam: number): number {
  return fam === AFISAFI_IPV4_UNICAST ? 0 : fam === AFISAFI_IPV6_UNICAST ? 1 : -1;
}

/** The families we carry, in the order End-of-RIB and dumps go out. */
export const FAMILIES: readonly number[] = [AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST];

// ===== Adj-RIB-In =====

/** Attributes and next hops as received (after sanitising), shared by the NLRI of one UPDATE. */
export interface InSet {
  /** Attributes without NEXT_HOP / MP_REACH / MP_UNREACH. */
  readonly attrs: PathAttributes;
  /** Next hops for the RIB. */
  readonly nexthops: readonly NextHop[];
  /**
   * The RIB's interned set whose `attrs` these are: Adj-RIB-In then keeps no copy of its own, and
   * holds one reference per route so the set stays interned while a route has it.
   */
  readonly ref?: Attrs;
}

/** Flag of a route: import accepted it, so a path is in the RIB. */
export const IN_ACCEPTED = 1;
/** True for the flags of a route that is there and was accepted (`flags` -1: not there). */
export function isAccepted(flags: number): boolean {
  return flags > 0 && (flags & IN_ACCEPTED) !== 0;
}

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
  private readonly plain4: Prefix4Slots<InSet>;

  /**
   * `interner` takes the references of sets with a `ref` (the one that made them); `ids` are the
   * daemon's shared prefix ids (the RIB's), a table of its own by default.
   */
  constructor(
    private readonly interner?: AttrInterner,
    ids?: PrefixIds,
  ) {
    this.plain4 = new Prefix4Slots<InSet>(ids);
  }

  private readonly side = new Map<number | string, SideRoute>();
  // Counters per family, indexed by `famIndex` (plain numbers: `put` updates them per prefix).
  private readonly sideCount = [0, 0];
  private readonly acceptedCount = [0, 0];
  private readonly staleCount = [0, 0];

  /** The attribute set of a route, or undefined. */
  get(prefix: Prefix, pathId: number): InSet | undefined {
    if (pathId === 0 && isPrefix4(prefix)) {
      const i = this.plain4.find(prefix);
      return i < 0 ? undefined : this.plain4.valueAt(i);
    }
    return this.side.get(routeKey(prefix, pathId))?.set;
  }

  /** The flags of a route (IN_ACCEPTED, IN_STALE), or -1 when it is not there. */
  flagsOf(prefix: Prefix, pathId: number): number {
    if (pathId === 0 && isPrefix4(prefix)) {
      const i = this.plain4.find(prefix);
      return i < 0 ? -1 : this.plain4.flagsAt(i);
    }
    return this.side.get(routeKey(prefix, pathId))?.flags ?? -1;
  }

  /** Snapshot of every route of one family. */
  routes(family: number): InRoute[] {
    const out: InRoute[] = [];
    if (family === AFISAFI_IPV4_UNICAST) {
      const t = this.plain4;
      t.forEachHeld((i) =>
        out.push({ prefix: t.prefixAt(i) as Prefix4, pathId: 0, set: t.valueAt(i)!, flags: t.flagsAt(i) }),
      );
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
    const f = famIndex(family);
    return f < 0 ? 0 : (f === 0 ? this.plain4.size : 0) + this.sideCount[f]!;
  }

  /** Routes accepted by import in a family. */
  accepted(family: number): number {
    const f = famIndex(family);
    return f < 0 ? 0 : this.acceptedCount[f]!;
  }

  /** Routes still marked stale in a family. */
  stale(family: number): number {
    const f = famIndex(family);
    return f < 0 ? 0 : this.staleCount[f]!;
  }

  /** Mark every route of a family stale (graceful restart, RFC 7313 BoRR). */
  markStale(family: number): void {
    if (family === AFISAFI_IPV4_UNICAST) {
      const t = this.plain4;
      t.forEachHeld((i) => t.setFlags(i, t.flagsAt(i) | IN_STALE));
    }
    for (const r of this.side.values()) if (familyOf(r.prefix) === family) r.flags |= IN_STALE;
    const f = famIndex(family);
    if (f >= 0) this.staleCount[f] = this.received(family);
  }

  /** Record the import verdict of a route that is there (keeps the accepted counter right). */
  setAccepted(prefix: Prefix, pathId: number, accepted: boolean): void {
    let old: number;
    if (pathId === 0 && isPrefix4(prefix)) {
      const i = this.plain4.find(prefix);
      if (i < 0) return;
      old = this.plain4.flagsAt(i);
      this.plain4.setFlags(i, accepted ? old | IN_ACCEPTED : old & ~IN_ACCEPTED);
    } else {
      const r = this.side.get(routeKey(prefix, pathId));
      if (r === undefined) return;
      old = r.flags;
      r.flags = accepted ? old | IN_ACCEPTED : old & ~IN_ACCEPTED;
    }
    if (((old & IN_ACCEPTED) !== 0) === accepted) return;
    const fam = familyOf(prefix);
    this.acceptedCount[famIndex(fam)]! += accepted ? 1 : -1;
  }

  /**
   * Store a route (not stale, accepted as given); returns the flags of the one it replaced, or
   * -1 when there was none.
   */
  put(prefix: Prefix, pathId: number, set: InSet, accepted: boolean): number {
    const fam = familyOf(prefix);
    const flags = accepted ? IN_ACCEPTED : 0;
    let old: number;
    this.hold(set);
    if (pathId === 0 && isPrefix4(prefix)) {
      const t = this.plain4;
      const before = t.size;
      const i = t.insert(prefix);
      old = t.size === before ? t.flagsAt(i) : -1;
      if (old >= 0) this.drop(t.valueAt(i));
      t.setValue(i, set);
      t.setFlags(i, flags);
    } else {
      const k = routeKey(prefix, pathId);
      const r = this.side.get(k);
      if (r === undefined) {
        old = -1;
        this.side.set(k, { prefix, pathId, set, flags });
        this.sideCount[famIndex(fam)]!++;
      } else {
        old = r.flags;
        this.drop(r.set);
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
      old = this.plain4.flagsAt(i);
      this.drop(this.plain4.valueAt(i));
      this.plain4.removeAt(i);
    } else {
      const k = routeKey(prefix, pathId);
      const r = this.side.get(k);
      if (r === undefined) return -1;
      old = r.flags;
      this.drop(r.set);
      this.side.delete(k);
      this.sideCount[famIndex(fam)]!--;
    }
    this.count(fam, old, -1);
    return old;
  }

  /** Forget everything. */
  clear(): void {
    if (this.interner !== undefined) {
      const t = this.plain4;
      t.forEachHeld((i) => this.drop(t.valueAt(i)));
      for (const r of this.side.values()) this.drop(r.set);
    }
    this.plain4.clear();
    this.side.clear();
    this.sideCount.fill(0);
    this.acceptedCount.fill(0);
    this.staleCount.fill(0);
  }

  private hold(set: InSet): void {
    if (set.ref !== undefined) this.interner?.retain(set.ref);
  }

  private drop(set: InSet | undefined): void {
    if (set?.ref !== undefined) this.interner?.release(set.ref);
  }

  private count(fam: number, flags: number, d: number): void {
    if (flags <= 0) return;
    const f = famIndex(fam);
    if ((flags & IN_ACCEPTED) !== 0) this.acceptedCount[f]! += d;
    if ((flags & IN_STALE) !== 0) this.staleCount[f]! += d;
  }
}

// ===== Adj-RIB-Out =====

/** An outgoing attribute set: attributes with the next hop in place, and a hash of both. */
export interface OutRoute {
  /** NEXT_HOP set for IPv4 over an IPv4 next hop; otherwise `mpReach` (without NLRI) carries it. */
  readonly attrs: PathAttributes;
  /** `outRouteHash(attrs)`: equal routes have equal hashes (see `sameOutRoute`). */
  readonly hash: number;
}

function mixHop(h: number, a: Addr4 | Addr6 | undefined): number {
  if (a === undefined) return Math.imul(h ^ 0x5f, 0x01000193);
  if (typeof a === 'number') return Math.imul(h ^ a, 0x01000193);
  for (const w of [a.w0, a.w1, a.w2, a.w3]) h = Math.imul(h ^ w, 0x01000193);
  return h;
}

/** A hash of outgoing attributes with their next hop (NEXT_HOP, or MP_REACH's family and next hops). */
export function outRouteHash(a: PathAttributes): number {
  let h = mixHop(attrsHash(a), a.nextHop);
  const r = a.mpReach;
  if (r !== undefined)
    h = mixHop(mixHop(Math.imul(h ^ ((r.afi << 8) | r.safi), 0x01000193), r.nextHop), r.nextHopLinkLocal);
  return h ^ (h >>> 15);
}

/** An outgoing attribute set. */
export function outRoute(attrs: PathAttributes): OutRoute {
  return { attrs, hash: outRouteHash(attrs) };
}

function sameHop(a: Addr4 | Addr6 | undefined, b: Addr4 | Addr6 | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || typeof a === 'number' || typeof b === 'number') return false;
  return a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3;
}

/**
 * True when two outgoing sets encode to the same attribute section (attributes, NEXT_HOP, and
 * MP_REACH family and next hops): what a neighbour has needs no UPDATE, and prefixes sharing a set
 * are packed together.
 */
export function sameOutRoute(x: OutRoute, y: OutRoute): boolean {
  if (x === y) return true;
  if (x.hash !== y.hash) return false;
  const a = x.attrs;
  const b = y.attrs;
  const ra = a.mpReach;
  const rb = b.mpReach;
  if ((ra === undefined) !== (rb === undefined) || !sameHop(a.nextHop, b.nextHop)) return false;
  if (ra !== undefined && rb !== undefined) {
    if (ra.afi !== rb.afi || ra.safi !== rb.safi) return false;
    if (!sameHop(ra.nextHop, rb.nextHop) || !sameHop(ra.nextHopLinkLocal, rb.nextHopLinkLocal)) return false;
  }
  return attrsEqual(a, b);
}

// Flags of an Adj-RIB-Out slot: queued for another look, and re-send even if unchanged.
const OUT_PENDING = 1;
const OUT_FORCE = 2;

/** What `settle` decided for a prefix: nothing to send, announce the new set, or withdraw. */
export const Settled = { NONE: 0, ANNOUNCE: 1, WITHDRAW: 2 } as const;
export type Settled = (typeof Settled)[keyof typeof Settled];

/**
 * What we advertised to a neighbour, per prefix, and the export work queue: the prefixes to look
 * at again, each once, oldest first (taking them in arrival order keeps the prefixes of one
 * UPDATE together, so outgoing UPDATEs pack as densely as incoming ones). For IPv4 both live in
 * one `Prefix4Slots` table (the advertised attribute set in the value, "queued" and "force" in
 * the flag byte) plus a FIFO of slots (prefix ids), so settling a queued prefix needs no lookup,
 * and a full table costs no object per prefix. A slot lives while the prefix is advertised or
 * queued. IPv6 uses maps.
 */
export class AdjRibOut {
  private readonly t4: Prefix4Slots<OutRoute>;
  private fifo4 = new Int32Array(64);
  private head4 = 0;
  private tail4 = 0;
  private queued4 = 0;
  private advertised4 = 0;
  private readonly t6 = new Prefix6Map<OutRoute>();
  private readonly q6 = new Map<string, Prefix6>();
  private readonly force6 = new Set<string>();

  /** `ids` are the daemon's shared prefix ids (the RIB's), a table of its own by default. */
  constructor(ids?: PrefixIds) {
    this.t4 = new Prefix4Slots<OutRoute>(ids);
  }

  /** What was last sent for a prefix. */
  get(prefix: Prefix): OutRoute | undefined {
    if (!isPrefix4(prefix)) return this.t6.get(prefix);
    const i = this.t4.find(prefix);
    return i < 0 ? undefined : this.t4.valueAt(i);
  }

  /** True when the prefix is advertised or queued (its slot exists). */
  holds(prefix: Prefix): boolean {
    if (!isPrefix4(prefix)) {
      const k = key6(prefix);
      return this.q6.has(k) || this.t6.get(prefix) !== undefined;
    }
    return this.t4.size > 0 && this.t4.find(prefix) >= 0;
  }

  /** Queue a prefix (once); `force` re-sends it even if what we would send is unchanged. */
  mark(prefix: Prefix, force = false): void {
    if (!isPrefix4(prefix)) {
      const k = key6(prefix);
      if (!this.q6.has(k)) this.q6.set(k, prefix);
      if (force) this.force6.add(k);
      return;
    }
    const t = this.t4;
    const i = t.insert(prefix);
    const f = t.flagsAt(i);
    t.setFlags(i, f | OUT_PENDING | (force ? OUT_FORCE : 0));
    if ((f & OUT_PENDING) !== 0) return;
    this.queued4++;
    if (this.tail4 === this.fifo4.length) this.growFifo();
    this.fifo4[this.tail4++] = i;
  }

  /** IPv4 prefixes with a slot: advertised or queued (for tests). */
  get slots4(): number {
    return this.t4.size;
  }

  /** Prefixes queued in both families. */
  get queued(): number {
    return this.queued4 + this.q6.size;
  }

  /** Take up to `max` queued prefixes of one family, oldest first, into `out`. */
  take(family: number, max: number, out: Prefix[]): void {
    let n = 0;
    if (family !== AFISAFI_IPV4_UNICAST) {
      for (const [k, p] of this.q6) {
        if (n++ >= max) return;
        this.q6.delete(k);
        out.push(p);
      }
      return;
    }
    const slots: number[] = [];
    this.take4(max, slots);
    for (const i of slots) out.push(this.t4.prefixAt(i) as Prefix4);
  }

  /**
   * Take up to `max` queued IPv4 prefixes, oldest first, as slots into `out`: settle them with
   * `settleAt` (and find the prefix with `prefixAt`) before anything else changes this table.
   */
  take4(max: number, out: number[]): void {
    const t = this.t4;
    const fifo = this.fifo4;
    let n = 0;
    while (n < max && this.head4 < this.tail4) {
      const i = fifo[this.head4++]!;
      // Queued once per PENDING mark. A slot freed after it was queued and taken (its prefix id
      // then reused) may be here again: only a held, pending slot counts.
      if (!t.occupied(i)) continue;
      const f = t.flagsAt(i);
      if ((f & OUT_PENDING) === 0) continue;
      t.setFlags(i, f & ~OUT_PENDING);
      this.queued4--;
      out.push(i);
      n++;
    }
    if (this.head4 === this.tail4) {
      this.head4 = 0;
      this.tail4 = 0;
      if (this.fifo4.length > 65536) this.fifo4 = new Int32Array(64);
    }
  }

  /** The IPv4 prefix of a slot from `take4`. */
  prefixAt(slot: number): Prefix4 {
    return this.t4.prefixAt(slot) as Prefix4;
  }

  /**
   * Record what the neighbour should now have for a taken prefix (`want`, or undefined for
   * nothing) and say what to send: nothing when it already has exactly that (unless forced).
   */
  settle(prefix: Prefix, want: OutRoute | undefined): Settled {
    if (!isPrefix4(prefix)) {
      const had = this.t6.get(prefix);
      const forced = this.force6.delete(key6(prefix));
      if (want === undefined) {
        if (had === undefined) return Settled.NONE;
        this.t6.delete(prefix);
        return Settled.WITHDRAW;
      }
      if (!forced && had !== undefined && sameOutRoute(had, want)) return Settled.NONE;
      this.t6.set(prefix, want);
      return Settled.ANNOUNCE;
    }
    const i = this.t4.find(prefix);
    if (i >= 0) return this.settleAt(i, want);
    if (want === undefined) return Settled.NONE;
    return this.settleAt(this.t4.insert(prefix), want);
  }

  /** `settle` for the held slot of an IPv4 prefix (from `take4`). */
  settleAt(i: number, want: OutRoute | undefined): Settled {
    const t = this.t4;
    const had = t.valueAt(i);
    const f = t.flagsAt(i);
    t.setFlags(i, f & ~OUT_FORCE);
    if (want === undefined) {
      if (had !== undefined) {
        t.setValue(i, undefined);
        this.advertised4--;
      }
      if ((f & OUT_PENDING) === 0) t.removeAt(i);
      return had === undefined ? Settled.NONE : Settled.WITHDRAW;
    }
    if ((f & OUT_FORCE) === 0 && had !== undefined && sameOutRoute(had, want)) return Settled.NONE;
    if (had === undefined) this.advertised4++;
    t.setValue(i, want);
    return Settled.ANNOUNCE;
  }

  /** The prefixes advertised in a family (a snapshot). */
  prefixes(family: number): Prefix[] {
    if (family !== AFISAFI_IPV4_UNICAST) return [...this.t6.entries()].map(([p]) => p);
    const ps: Prefix[] = [];
    const t = this.t4;
    t.forEachHeld((i) => {
      if (t.valueAt(i) !== undefined) ps.push(t.prefixAt(i) as Prefix4);
    });
    return ps;
  }

  /** Prefixes advertised in a family. */
  advertised(family: number): number {
    return family === AFISAFI_IPV4_UNICAST ? this.advertised4 : this.t6.size;
  }

  /** Forget everything, queue included (the session went down). */
  clear(): void {
    this.t4.clear();
    this.fifo4 = new Int32Array(64);
    this.head4 = 0;
    this.tail4 = 0;
    this.queued4 = 0;
    this.advertised4 = 0;
    this.t6.clear();
    this.q6.clear();
    this.force6.clear();
  }

  private growFifo(): void {
    // Reuse the space already taken from the front before growing.
    const live = this.tail4 - this.head4;
    if (live * 2 <= this.fifo4.length) {
      this.fifo4.copyWithin(0, this.head4, this.tail4);
    } else {
      const f = new Int32Array(this.fifo4.length * 2);
      f.set(this.fifo4.subarray(this.head4, this.tail4));
      this.fifo4 = f;
    }
    this.head4 = 0;
    this.tail4 = live;
  }
}
