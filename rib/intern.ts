// Attribute interning for the RIB: one shared, frozen PathAttributes object per distinct attribute
// set, keyed by a canonical text of its contents and reference-counted so unused sets are freed.
// The values the decision process reads (RFC 4271 §9.1.2.2: LOCAL_PREF, AS_PATH length, ORIGIN,
// MED, neighbouring AS; RFC 4456 §9: ORIGINATOR_ID, CLUSTER_LIST length) are computed once per set.
//
// NEXT_HOP, MP_REACH_NLRI and MP_UNREACH_NLRI are not part of an interned set: next hops live on
// the path (they differ per neighbour and would defeat sharing) and NLRI belong to no path.

import { asPathLength as wireAsPathLength } from '../wire/bgp/aspath.js';
import { AsPathSegmentType, Origin } from '../wire/bgp/constants.js';
import type { AsPathSegment, PathAttributes } from '../wire/bgp/types.js';
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

  constructor(
    readonly key: string,
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

function freezeSegs(p: readonly AsPathSegment[]): readonly AsPathSegment[] {
  return Object.freeze(p.map((s) => Object.freeze({ type: s.type, asns: Object.freeze([...s.asns]) })));
}

/** A deep-frozen copy without NEXT_HOP / MP_REACH / MP_UNREACH. */
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
  if (a.communities !== undefined) c.communities = Object.freeze([...a.communities]);
  if (a.originatorId !== undefined) c.originatorId = a.originatorId;
  if (a.clusterList !== undefined) c.clusterList = Object.freeze([...a.clusterList]);
  if (a.extCommunities !== undefined) c.extCommunities = Object.freeze([...a.extCommunities]);
  if (a.as4Path !== undefined) c.as4Path = freezeSegs(a.as4Path);
  if (a.as4Aggregator !== undefined) c.as4Aggregator = Object.freeze({ ...a.as4Aggregator });
  if (a.largeCommunities !== undefined) c.largeCommunities = Object.freeze([...a.largeCommunities]);
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
  private readonly byKey = new Map<string, Attrs>();
  // Callers usually pass the same decoded object for every NLRI of one UPDATE: remember which
  // set each such object interned to (weakly), so the canonical key is built once per UPDATE.
  private readonly seen = new WeakMap<PathAttributes, Attrs>();
  // The last object asked for and its set: consecutive calls for one UPDATE's prefixes skip even
  // the WeakMap lookup.
  private lastIn: PathAttributes | undefined;
  private lastOut: Attrs | undefined;

  /** Number of distinct sets held. */
  get size(): number {
    return this.byKey.size;
  }

  /** The interned set equal to `a` (created with refcount 0 if new; `retain` takes a reference). */
  intern(a: PathAttributes): Attrs {
    const last = this.lastOut;
    if (a === this.lastIn && last !== undefined && !last.freed) return last;
    const hit = this.seen.get(a);
    if (hit !== undefined && !hit.freed) {
      this.lastIn = a;
      this.lastOut = hit;
      return hit;
    }
    const key = attrsKey(a);
    let e = this.byKey.get(key);
    if (e === undefined) {
      e = new Attrs(key, canonicalCopy(a));
      this.byKey.set(key, e);
    }
    this.seen.set(a, e);
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
    if (--e.refs <= 0 && this.byKey.get(e.key) === e) {
      this.byKey.delete(e.key);
      e.freed = true;
    }
  }

  /** Forget sets interned but never retained (after a failed or abandoned add). */
  sweep(): void {
    for (const [k, e] of this.byKey) {
      if (e.refs <= 0) {
        this.byKey.delete(k);
        e.freed = true;
      }
    }
  }
}
