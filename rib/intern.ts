// Attribute interning for the RIB: one shared, frozen PathAttributes object per distinct attribute
// set, found by a numeric hash of its contents and compared field by field (the same equality as
// the canonical text `attrsKey`, without building that text per set), reference-counted so unused
// sets are freed.
// The values the decision process reads (RFC 4271 §9.1.2.2: LOCAL_PREF, AS_PATH length, ORIGIN,
// MED, neighbouring AS; RFC 4456 §9: ORIGINATOR_ID, CLUSTER_LIST length) are computed once per set.
//
// NEXT_HOP, MP_REACH_NLRI and MP_UNREACH_NLRI are not part of an interned set: next hops live on
// the path (they differ per neighbour and would defeat sharing) and NLRI belong to no path.

import { asPathLength as wireAsPathLength } from '../wire/bgp/aspath.js';
import { AsPathSegmentType, Origin } from '../wire/bgp/constants.js';
import type { Aggregator, AsPathSegment, PathAttributes, RawAttribute } from '../wire/bgp/types.js';
import { toHex } from '../wire/reader.js';

// ===== Decision values =====

/** AS_PATH length for the decision process (wire/bgp/aspath.ts); an absent AS_PATH counts 0. */
export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  return path === undefined ? 0 : wireAsPathLength(path);
}

/** The neighbouring AS of a path: the first AS of a leading AS_SEQUENCE, or 0 (local / empty path). */
export function neighborAs(path: readonly AsPathSegment[] | undefined): number {
  if (path === undefined) return 0;
  for (const seg of path) {
    // Confederation segments are skipped: the MED group is the first AS outside our confederation.
    if (seg.type === AsPathSegmentType.AS_CONFED_SEQUENCE || seg.type === AsPathSegmentType.AS_CONFED_SET)
      continue;
    return seg.type === AsPathSegmentType.AS_SEQUENCE ? (seg.asns[0] ?? 0) : 0;
  }
  return 0;
}

// ===== Interned sets =====

/** One interned attribute set with its precomputed decision values. */
export class Attrs {
  /** Paths currently referring to this set. */
  refs = 0;
  /** Dropped from the table (a later equal set gets a new object). */
  freed = false;
  readonly localPref: number | undefined;
  readonly asPathLen: number;
  readonly origin: number;
  readonly med: number | undefined;
  readonly neighborAs: number;
  readonly originatorId: number | undefined;
  readonly clusterLen: number;
  /** The next set in the same hash chain of the interning table. */
  chain: Attrs | undefined = undefined;
  /**
   * Scratch for consumers that compute something per set (BGP export keeps its outcomes here, so
   * it needs no map from sets to outcomes); the RIB neither reads nor writes it.
   */
  memo: object | undefined = undefined;

  constructor(
    /** `attrsHash` of the attributes. */
    readonly hash: number,
    /** The shared frozen attributes; equal sets give the same object. */
    readonly attrs: PathAttributes,
  ) {
    this.localPref = attrs.localPref;
    this.asPathLen = asPathLength(attrs.asPath);
    // ORIGIN is well-known mandatory; a set without it (static, DDM) ranks as INCOMPLETE.
    this.origin = attrs.origin ?? Origin.INCOMPLETE;
    this.med = attrs.med;
    this.neighborAs = neighborAs(attrs.asPath);
    this.originatorId = attrs.originatorId;
    this.clusterLen = attrs.clusterList?.length ?? 0;
  }

  /** The canonical text of the set (`attrsKey`; built on each call, for dumps and tests). */
  get key(): string {
    return attrsKey(this.attrs);
  }
}

function segText(path: readonly AsPathSegment[] | undefined): string {
  if (path === undefined) return '-';
  let s = '';
  for (const seg of path) s += `${seg.type}(${seg.asns.join(' ')})`;
  return s;
}

function nums(a: readonly number[] | undefined): string {
  return a === undefined ? '-' : a.join(',');
}

/**
 * The canonical text of an attribute set (field order fixed; list order kept as received).
 * Built with `join`, which yields one flat string: `+` chains would be kept by V8 as a tree of
 * rope nodes (about 0.5 KB per key here), and the keys live as long as their sets.
 */
export function attrsKey(a: PathAttributes): string {
  const parts = [
    a.origin ?? '-',
    segText(a.asPath),
    a.med ?? '-',
    a.localPref ?? '-',
    a.atomicAggregate === true ? 1 : 0,
    a.aggregator ? `${a.aggregator.asn}@${a.aggregator.addr}` : '-',
    nums(a.communities),
    a.originatorId ?? '-',
    nums(a.clusterList),
    nums(a.extCommunities),
    segText(a.as4Path),
    a.as4Aggregator ? `${a.as4Aggregator.asn}@${a.as4Aggregator.addr}` : '-',
    nums(a.largeCommunities),
    a.otc ?? '-',
  ];
  if (a.unknown !== undefined) for (const u of a.unknown) parts.push(`${u.flags}:${u.code}:${toHex(u.data)}`);
  return parts.join('|');
}

// ===== Hash and equality =====
//
// Both follow `attrsKey` exactly: two sets are equal when their keys are (an absent list differs
// from an empty one, except for unknown attributes; ATOMIC_AGGREGATE counts only when true).

function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x | 0), 0x01000193);
  // Values above 32 bits (never produced by the decoder) still spread.
  if (x > 0xffffffff || x < -0x80000000) h = Math.imul(h ^ Math.floor(x / 4294967296), 0x01000193);
  return h;
}

function mixOpt(h: number, x: number | undefined): number {
  return x === undefined ? Math.imul(h ^ 0x2d, 0x01000193) : mix(h, x);
}

function mixNums(h: number, a: readonly number[] | undefined): number {
  if (a === undefined) return Math.imul(h ^ 0x2d2d, 0x01000193);
  h = mix(h, a.length);
  for (let i = 0; i < a.length; i++) h = mix(h, a[i]!);
  return h;
}

function mixSegs(h: number, p: readonly AsPathSegment[] | undefined): number {
  if (p === undefined) return Math.imul(h ^ 0x2d2d2d, 0x01000193);
  h = mix(h, p.length);
  for (const seg of p) h = mixNums(mix(h, seg.type), seg.asns);
  return h;
}

/** A 32-bit hash of an attribute set, consistent with `attrsEqual`. */
export function attrsHash(a: PathAttributes): number {
  let h = 0x811c9dc5 | 0;
  h = mixOpt(h, a.origin);
  h = mixSegs(h, a.asPath);
  h = mixOpt(h, a.med);
  h = mixOpt(h, a.localPref);
  h = mix(h, a.atomicAggregate === true ? 1 : 0);
  h = a.aggregator ? mix(mix(h, a.aggregator.asn), a.aggregator.addr) : mix(h, -1);
  h = mixNums(h, a.communities);
  h = mixOpt(h, a.originatorId);
  h = mixNums(h, a.clusterList);
  h = mixNums(h, a.extCommunities);
  h = mixSegs(h, a.as4Path);
  h = a.as4Aggregator ? mix(mix(h, a.as4Aggregator.asn), a.as4Aggregator.addr) : mix(h, -1);
  h = mixNums(h, a.largeCommunities);
  h = mixOpt(h, a.otc);
  if (a.unknown !== undefined) {
    for (const u of a.unknown) {
      h = mix(mix(mix(h, u.flags), u.code), u.data.length);
      for (let i = 0; i < u.data.length; i++) h = mix(h, u.data[i]!);
    }
  }
  return h ^ (h >>> 15);
}

// Numbers compare as their text does in `attrsKey` (NaN equals NaN).
function same(x: number | undefined, y: number | undefined): boolean {
  return x === y || (x !== x && y !== y);
}

function sameNums(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
  return true;
}

function sameSegs(a: readonly AsPathSegment[] | undefined, b: readonly AsPathSegment[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!same(x.type, y.type) || !sameNums(x.asns, y.asns)) return false;
  }
  return true;
}

function sameAggregator(a: Aggregator | undefined, b: Aggregator | undefined): boolean {
  if (!a || !b) return !a && !b;
  return same(a.asn, b.asn) && same(a.addr, b.addr);
}

function sameUnknown(
  a: readonly RawAttribute[] | undefined,
  b: readonly RawAttribute[] | undefined,
): boolean {
  const n = a?.length ?? 0;
  if ((b?.length ?? 0) !== n) return false;
  for (let i = 0; i < n; i++) {
    const x = a![i]!;
    const y = b![i]!;
    if (!same(x.flags, y.flags) || !same(x.code, y.code) || x.data.length !== y.data.length) return false;
    for (let j = 0; j < x.data.length; j++) if (x.data[j] !== y.data[j]) return false;
  }
  return true;
}

/** True when two attribute sets are the same set (equal `attrsKey`s). */
export function attrsEqual(a: PathAttributes, b: PathAttributes): boolean {
  return (
    same(a.origin, b.origin) &&
    sameSegs(a.asPath, b.asPath) &&
    same(a.med, b.med) &&
    same(a.localPref, b.localPref) &&
    (a.atomicAggregate === true) === (b.atomicAggregate === true) &&
    sameAggregator(a.aggregator, b.aggregator) &&
    sameNums(a.communities, b.communities) &&
    same(a.originatorId, b.originatorId) &&
    sameNums(a.clusterList, b.clusterList) &&
    sameNums(a.extCommunities, b.extCommunities) &&
    sameSegs(a.as4Path, b.as4Path) &&
    sameAggregator(a.as4Aggregator, b.as4Aggregator) &&
    sameNums(a.largeCommunities, b.largeCommunities) &&
    same(a.otc, b.otc) &&
    sameUnknown(a.unknown, b.unknown)
  );
}

// ===== Interning =====

function freezeSegs(p: readonly AsPathSegment[]): readonly AsPathSegment[] {
  return Object.freeze(p.map((s) => Object.freeze({ type: s.type, asns: Object.freeze(s.asns.slice()) })));
}

/** A deep-frozen copy without NEXT_HOP / MP_REACH / MP_UNREACH (arrays by `slice`: exact size). */
function canonicalCopy(a: PathAttributes): PathAttributes {
  const c: {
    -readonly [K in keyof PathAttributes]: PathAttributes[K];
  } = {};
  if (a.origin !== undefined) c.origin = a.origin;
  if (a.asPath !== undefined) c.asPath = freezeSegs(a.asPath);
  if (a.med !== undefined) c.med = a.med;
  if (a.localPref !== undefined) c.localPref = a.localPref;
  if (a.atomicAggregate !== undefined) c.atomicAggregate = a.atomicAggregate;
  if (a.aggregator !== undefined) c.aggregator = Object.freeze({ ...a.aggregator });
  if (a.communities !== undefined) c.communities = Object.freeze(a.communities.slice());
  if (a.originatorId !== undefined) c.originatorId = a.originatorId;
  if (a.clusterList !== undefined) c.clusterList = Object.freeze(a.clusterList.slice());
  if (a.extCommunities !== undefined) c.extCommunities = Object.freeze(a.extCommunities.slice());
  if (a.as4Path !== undefined) c.as4Path = freezeSegs(a.as4Path);
  if (a.as4Aggregator !== undefined) c.as4Aggregator = Object.freeze({ ...a.as4Aggregator });
  if (a.largeCommunities !== undefined) c.largeCommunities = Object.freeze(a.largeCommunities.slice());
  if (a.otc !== undefined) c.otc = a.otc;
  if (a.unknown !== undefined) {
    c.unknown = Object.freeze(
      a.unknown.map((u) => Object.freeze({ flags: u.flags, code: u.code, data: u.data.slice() })),
    );
  }
  return Object.freeze(c);
}

/** The table of interned attribute sets. */
export class AttrInterner {
  /** Hash to the first set of its chain (`Attrs.chain`). */
  private readonly byHash = new Map<number, Attrs>();
  private count = 0;
  // Callers pass the same object for every NLRI of one UPDATE, or the canonical object of the set
  // they were just given (Adj-RIB-In hands the RIB what it interned): the last object asked for
  // and its set answer both without hashing. Anything else is hashed and compared.
  private lastIn: PathAttributes | undefined;
  private lastOut: Attrs | undefined;

  /** Number of distinct sets held. */
  get size(): number {
    return this.count;
  }

  /** The interned set equal to `a` (created with refcount 0 if new; `retain` takes a reference). */
  intern(a: PathAttributes): Attrs {
    const last = this.lastOut;
    if (last !== undefined && !last.freed && (a === this.lastIn || a === last.attrs)) return last;
    const hash = attrsHash(a);
    const head = this.byHash.get(hash);
    let e = head;
    while (e !== undefined && !attrsEqual(e.attrs, a)) e = e.chain;
    if (e === undefined) {
      e = new Attrs(hash, canonicalCopy(a));
      e.chain = head;
      this.byHash.set(hash, e);
      this.count++;
    }
    this.lastIn = a;
    this.lastOut = e;
    return e;
  }

  /** Take a reference. */
  retain(e: Attrs): void {
    e.refs++;
  }

  /** Drop a reference; the set is forgotten when none remain. */
  release(e: Attrs): void {
    if (--e.refs <= 0 && !e.freed) this.forget(e);
  }

  /** Forget sets interned but never retained (after a failed or abandoned add). */
  sweep(): void {
    const dead: Attrs[] = [];
    for (const head of this.byHash.values()) {
      for (let e: Attrs | undefined = head; e !== undefined; e = e.chain) if (e.refs <= 0) dead.push(e);
    }
    for (const e of dead) this.forget(e);
  }

  private forget(e: Attrs): void {
    let prev: Attrs | undefined;
    let x = this.byHash.get(e.hash);
    while (x !== undefined && x !== e) {
      prev = x;
      x = x.chain;
    }
    if (x === undefined) return;
    if (prev !== undefined) prev.chain = e.chain;
    else if (e.chain !== undefined) this.byHash.set(e.hash, e.chain);
    else this.byHash.delete(e.hash);
    e.chain = undefined;
    e.freed = true;
    this.count--;
  }
}
