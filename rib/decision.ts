// The decision process, written once: administrative distance between protocols, then the BGP
// decision process of RFC 4271 §9.1.2.2 with the common extensions (RFC 4456 §9 ORIGINATOR_ID and
// CLUSTER_LIST, IGP cost to the next hop, deterministic MED), then multipath.
//
// Order of the steps (`Step`): distance, protocol kind, LOCAL_PREF, AS_PATH length, ORIGIN, MED,
// eBGP over iBGP, IGP cost, ORIGINATOR_ID or router id, CLUSTER_LIST length, neighbour address,
// and finally (source id, path id) so that the order is total and independent of arrival order.
//
// MED is only comparable between paths from the same neighbouring AS, which makes a pairwise
// comparison intransitive. Selection therefore runs in two stages, as RFC 4271 §9.1.2.2 c does:
// first every path that loses on MED to a path tied with it through ORIGIN is removed
// (`medSurvivors`), then the survivors are ordered by `compareCandidates`, under which the MED step
// never fires between survivors, so that ordering is a total order.

import type { Attrs } from './intern.js';
import type { DecisionOptions, SourceKind } from './types.js';
import { compareAddr6, type Addr4, type Addr6 } from '../wire/ip/index.js';

// ===== Inputs =====

/** What the decision process needs to know about a path's source. */
export interface SourceView {
  readonly id: string;
  readonly kind: SourceKind;
  readonly ebgp: boolean;
  readonly routerId: number;
  readonly peerAddr: Addr4 | Addr6 | undefined;
  readonly distance: number | undefined;
}

/** What the decision process needs to know about one path. */
export interface Candidate {
  readonly source: SourceView;
  readonly pathId: number;
  readonly attrs: Attrs;
  /** Protocol metric (static/DDM); 0 for BGP. */
  readonly metric: number;
  /** Cost to reach the next hop (0 when directly connected). */
  readonly igpCost: number;
}

/** The steps, in order; `compareCandidates` reports the one that decided. */
export const Step = {
  DISTANCE: 0,
  KIND: 1,
  LOCAL_PREF: 2,
  AS_PATH: 3,
  ORIGIN: 4,
  MED: 5,
  EBGP: 6,
  IGP_COST: 7,
  ROUTER_ID: 8,
  CLUSTER_LIST: 9,
  PEER_ADDR: 10,
  TIE_BREAK: 11,
  EQUAL: 12,
} as const;
export type Step = (typeof Step)[keyof typeof Step];

// ===== Comparator =====

const MAX_MED = 0xffffffff;

function distanceOf(c: Candidate, o: DecisionOptions): number {
  return c.source.distance ?? o.distances[c.source.kind];
}

function medOf(c: Candidate, o: DecisionOptions): number {
  return c.attrs.med ?? (o.missingMedWorst ? MAX_MED : 0);
}

/** True when MED may be compared between the two paths. */
export function medComparable(a: Candidate, b: Candidate, o: DecisionOptions): boolean {
  return o.alwaysCompareMed || a.attrs.neighborAs === b.attrs.neighborAs;
}

function compareAddr(a: Addr4 | Addr6 | undefined, b: Addr4 | Addr6 | undefined): number {
  if (a === undefined || b === undefined) return (a === undefined ? 1 : 0) - (b === undefined ? 1 : 0);
  if (typeof a === 'number' || typeof b === 'number') {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return typeof a === 'number' ? -1 : 1;
  }
  return compareAddr6(a, b);
}

/**
 * Compare two paths without allocating: 0 when equal, otherwise `±(step + 1)`, negative when `a`
 * is preferred, where `step` is the deciding `Step`.
 */
export function decideCode(a: Candidate, b: Candidate, o: DecisionOptions): number {
  const as = a.source;
  const bs = b.source;
  let d = 0;
  // Two sources of one kind without their own distance (the usual case) tie on distance; the
  // table lookup by kind is skipped.
  if (as.kind !== bs.kind || as.distance !== undefined || bs.distance !== undefined) {
    d = distanceOf(a, o) - distanceOf(b, o);
    if (d !== 0) return code(d, Step.DISTANCE);
  }
  const aBgp = a.source.kind === 'bgp';
  const bBgp = b.source.kind === 'bgp';
  // At equal distance a non-BGP route beats a BGP one (it needs no recursive trust).
  if (aBgp !== bBgp) return code(aBgp ? 1 : -1, Step.KIND);
  if (aBgp) {
    const aa = a.attrs;
    const ba = b.attrs;
    d = (ba.localPref ?? o.defaultLocalPref) - (aa.localPref ?? o.defaultLocalPref);
    if (d !== 0) return code(d, Step.LOCAL_PREF);
    d = aa.asPathLen - ba.asPathLen;
    if (d !== 0) return code(d, Step.AS_PATH);
    d = aa.origin - ba.origin;
    if (d !== 0) return code(d, Step.ORIGIN);
    if (medComparable(a, b, o)) {
      d = medOf(a, o) - medOf(b, o);
      if (d !== 0) return code(d, Step.MED);
    }
    if (a.source.ebgp !== b.source.ebgp) return code(a.source.ebgp ? -1 : 1, Step.EBGP);
  } else {
    d = a.metric - b.metric;
    if (d !== 0) return code(d, Step.IGP_COST);
  }
  d = a.igpCost - b.igpCost;
  if (d !== 0) return code(d, Step.IGP_COST);
  if (aBgp) {
    // RFC 4456 §9: a reflected route is compared by its ORIGINATOR_ID instead of the router id.
    d = (a.attrs.originatorId ?? a.source.routerId) - (b.attrs.originatorId ?? b.source.routerId);
    if (d !== 0) return code(d, Step.ROUTER_ID);
    d = a.attrs.clusterLen - b.attrs.clusterLen;
    if (d !== 0) return code(d, Step.CLUSTER_LIST);
    d = compareAddr(a.source.peerAddr, b.source.peerAddr);
    if (d !== 0) return code(d, Step.PEER_ADDR);
  }
  d = a.source.id < b.source.id ? -1 : a.source.id > b.source.id ? 1 : a.pathId - b.pathId;
  if (d !== 0) return code(d, Step.TIE_BREAK);
  return 0;
}

function code(d: number, step: Step): number {
  return d < 0 ? -(step + 1) : step + 1;
}

/** Compare two paths; `cmp` negative when `a` is preferred, `step` the step that decided. */
export function decide(a: Candidate, b: Candidate, o: DecisionOptions): { cmp: number; step: Step } {
  const c = decideCode(a, b, o);
  if (c === 0) return { cmp: 0, step: Step.EQUAL };
  return { cmp: Math.sign(c), step: (Math.abs(c) - 1) as Step };
}

/** Comparator form of `decide` for sorting. */
export function compareCandidates(a: Candidate, b: Candidate, o: DecisionOptions): number {
  return decideCode(a, b, o);
}

/** True when `b` may share forwarding with the best path `a`: equal through the IGP-cost step. */
export function multipathEqual(a: Candidate, b: Candidate, o: DecisionOptions): boolean {
  const c = decideCode(a, b, o);
  return c === 0 || Math.abs(c) - 1 > Step.IGP_COST;
}

/** True when `q` removes `p` at the MED step: tied through ORIGIN, MED comparable, lower MED. */
export function medDominates(q: Candidate, p: Candidate, o: DecisionOptions): boolean {
  if (p.source.kind !== 'bgp' || q.source.kind !== 'bgp') return false;
  return decideCode(q, p, o) === -(Step.MED + 1);
}

// ===== Selection =====

/**
 * Select from eligible candidates: remove MED-dominated paths, order the rest, and return them
 * best first; the first `min(maxPaths, tied)` of the result form the multipath set.
 */
export function rank<C extends Candidate>(eligible: readonly C[], o: DecisionOptions): C[] {
  if (eligible.length <= 1) return eligible.slice();
  let survivors: C[] = eligible as C[];
  let anyMed = false;
  for (const c of eligible) {
    if (c.source.kind === 'bgp') {
      anyMed = true;
      break;
    }
  }
  if (anyMed) {
    survivors = [];
    for (const p of eligible) {
      let dominated = false;
      for (const q of eligible) {
        if (q !== p && medDominates(q, p, o)) {
          dominated = true;
          break;
        }
      }
      if (!dominated) survivors.push(p);
    }
  } else {
    survivors = eligible.slice();
  }
  survivors.sort((a, b) => compareCandidates(a, b, o));
  return survivors;
}

/** How many of the ranked paths (best first) form the multipath set, capped by `maxPaths`. */
export function multipathCount(ranked: readonly Candidate[], o: DecisionOptions): number {
  const best = ranked[0];
  if (best === undefined) return 0;
  let n = 1;
  while (n < ranked.length && n < o.maxPaths && multipathEqual(best, ranked[n]!, o)) n++;
  return n;
}
