// AS_PATH helpers: path length for best-path selection (RFC 4271 §9.1.2.2, RFC 5065 §5.3),
// prepending, loop checks, and the 2-octet / 4-octet transition (RFC 6793 §4.2.2 sending to an
// OLD speaker, §4.2.3 merging AS_PATH with AS4_PATH and AGGREGATOR with AS4_AGGREGATOR).
//
// These work on decoded segment lists; the wire form lives in attributes.ts.

import { AS_TRANS, AsPathSegmentType } from './constants.js';
import type { Aggregator, AsPathSegment, PathAttributes } from './types.js';

/** Longest segment the wire format can carry (one length octet). */
export const MAX_SEGMENT_ASNS = 255;

// ===== Length and membership =====

/** Path length for best-path: each AS_SEQUENCE ASN counts 1, an AS_SET 1, confederation segments 0. */
export function asPathLength(path: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of path) {
    if (s.type === AsPathSegmentType.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AsPathSegmentType.AS_SET) n += 1;
  }
  return n;
}

/** True when `asn` appears anywhere in the path (any segment type: loop detection, RFC 4271 §9.1.2). */
export function asPathContains(path: readonly AsPathSegment[], asn: number): boolean {
  for (const s of path) if (s.asns.includes(asn)) return true;
  return false;
}

/** The first AS of the path (the neighbour AS for eBGP checks), or undefined for an empty path. */
export function firstAsn(path: readonly AsPathSegment[]): number | undefined {
  const s = path[0];
  return s !== undefined && s.type === AsPathSegmentType.AS_SEQUENCE ? s.asns[0] : undefined;
}

/**
 * The usual text form: sequences as space-separated ASNs, `{a,b}` for an AS_SET, `(a b)` for an
 * AS_CONFED_SEQUENCE and `[a,b]` for an AS_CONFED_SET.
 */
export function formatAsPath(path: readonly AsPathSegment[]): string {
  const parts: string[] = [];
  for (const s of path) {
    switch (s.type) {
      case AsPathSegmentType.AS_SEQUENCE:
        parts.push(s.asns.join(' '));
        break;
      case AsPathSegmentType.AS_SET:
        parts.push(`{${s.asns.join(',')}}`);
        break;
      case AsPathSegmentType.AS_CONFED_SEQUENCE:
        parts.push(`(${s.asns.join(' ')})`);
        break;
      case AsPathSegmentType.AS_CONFED_SET:
        parts.push(`[${s.asns.join(',')}]`);
        break;
    }
  }
  return parts.filter((p) => p !== '').join(' ');
}

// ===== Prepending =====

/**
 * Prepend `asn` `times` times (RFC 4271 §5.1.2): into the leading AS_SEQUENCE while it has room,
 * otherwise in a new leading AS_SEQUENCE. Never mutates its input.
 */
export function asPathPrepend(path: readonly AsPathSegment[], asn: number, times = 1): AsPathSegment[] {
  const out = path.slice();
  let left = times;
  while (left > 0) {
    const head = out[0];
    if (
      head !== undefined &&
      head.type === AsPathSegmentType.AS_SEQUENCE &&
      head.asns.length < MAX_SEGMENT_ASNS
    ) {
      const k = Math.min(left, MAX_SEGMENT_ASNS - head.asns.length);
      // concat allocates exactly (a spread would leave spare capacity in a path kept per set).
      out[0] = { type: head.type, asns: new Array<number>(k).fill(asn).concat(head.asns) };
      left -= k;
    } else {
      const k = Math.min(left, MAX_SEGMENT_ASNS);
      out.unshift({ type: AsPathSegmentType.AS_SEQUENCE, asns: new Array<number>(k).fill(asn) });
      left -= k;
    }
  }
  return out;
}

// ===== 2-octet / 4-octet transition (RFC 6793) =====

/** True when an ASN cannot be written in two octets. */
export function isFourOctetAsn(asn: number): boolean {
  return asn > 0xffff;
}

/** The path as an OLD speaker sees it: every ASN above 65535 replaced by AS_TRANS. */
export function toTwoOctetPath(path: readonly AsPathSegment[]): AsPathSegment[] {
  return path.map((s) => ({ type: s.type, asns: s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) }));
}

/** What to send to an OLD (2-octet-only) peer in place of a 4-octet AS_PATH and AGGREGATOR. */
export interface OldSpeakerPath {
  readonly asPath: AsPathSegment[];
  /** Present only when the path holds an ASN above 65535. */
  readonly as4Path?: AsPathSegment[];
  readonly aggregator?: Aggregator;
  readonly as4Aggregator?: Aggregator;
}

/**
 * Build AS_PATH + AS4_PATH (and AGGREGATOR + AS4_AGGREGATOR) for an OLD peer (RFC 6793 §4.2.2).
 * AS4_PATH is sent only when some ASN does not fit in two octets, and never carries
 * confederation segments (RFC 6793 §3).
 */
export function forOldSpeaker(path: readonly AsPathSegment[], aggregator?: Aggregator): OldSpeakerPath {
  const needs4 = path.some((s) => s.asns.some(isFourOctetAsn));
  const asPath = toTwoOctetPath(path);
  let as4Path: AsPathSegment[] | undefined;
  if (needs4) {
    as4Path = path
      .filter((s) => s.type === AsPathSegmentType.AS_SEQUENCE || s.type === AsPathSegmentType.AS_SET)
      .map((s) => ({ type: s.type, asns: s.asns.slice() }));
  }
  let agg: Aggregator | undefined;
  let as4Agg: Aggregator | undefined;
  if (aggregator !== undefined) {
    if (isFourOctetAsn(aggregator.asn)) {
      agg = { asn: AS_TRANS, addr: aggregator.addr };
      as4Agg = aggregator;
    } else {
      agg = aggregator;
    }
  }
  return {
    asPath,
    ...(as4Path !== undefined ? { as4Path } : {}),
    ...(agg !== undefined ? { aggregator: agg } : {}),
    ...(as4Agg !== undefined ? { as4Aggregator: as4Agg } : {}),
  };
}

/**
 * Merge AS_PATH with AS4_PATH as received from an OLD speaker (RFC 6793 §4.2.3): when AS4_PATH
 * is longer than AS_PATH it is ignored; otherwise the leading part of AS_PATH that AS4_PATH lacks
 * is kept and AS4_PATH appended, so the result has AS_PATH's length. Leading confederation
 * segments (length 0, never in AS4_PATH) are kept as they are.
 */
export function mergeAs4Path(
  asPath: readonly AsPathSegment[],
  as4Path: readonly AsPathSegment[],
): AsPathSegment[] {
  const extra = asPathLength(asPath) - asPathLength(as4Path);
  if (extra < 0) return asPath.map(copySegment);
  const out: AsPathSegment[] = [];
  let take = extra;
  for (const s of asPath) {
    const confed =
      s.type === AsPathSegmentType.AS_CONFED_SEQUENCE || s.type === AsPathSegmentType.AS_CONFED_SET;
    if (confed) {
      // Confederation segments count 0: keep them while still in the leading part.
      out.push(copySegment(s));
      continue;
    }
    if (take === 0) break;
    if (s.type === AsPathSegmentType.AS_SET) {
      out.push(copySegment(s));
      take -= 1;
    } else if (s.asns.length <= take) {
      out.push(copySegment(s));
      take -= s.asns.length;
    } else {
      out.push({ type: s.type, asns: s.asns.slice(0, take) });
      take = 0;
    }
  }
  // Join the kept AS_SEQUENCE and a leading AS4_PATH AS_SEQUENCE into one segment; the rest of
  // AS4_PATH is copied as it is.
  as4Path.forEach((s, i) => {
    const last = out[out.length - 1];
    if (i === 0 && last?.type === AsPathSegmentType.AS_SEQUENCE && s.type === AsPathSegmentType.AS_SEQUENCE) {
      out[out.length - 1] = { type: last.type, asns: [...last.asns, ...s.asns] };
    } else {
      out.push(copySegment(s));
    }
  });
  return out;
}

function copySegment(s: AsPathSegment): AsPathSegment {
  return { type: s.type, asns: s.asns.slice() };
}

/** The effective AS path and aggregator of a route learned from an OLD speaker. */
export interface EffectiveAs4 {
  readonly asPath: AsPathSegment[];
  readonly aggregator?: Aggregator;
}

/**
 * Apply RFC 6793 §4.2.3 to attributes received from an OLD speaker: when AGGREGATOR holds an ASN
 * other than AS_TRANS, AS4_AGGREGATOR and AS4_PATH are both ignored (the aggregating node was
 * OLD, so AS4_PATH cannot describe the path past it); otherwise AS4_AGGREGATOR replaces the
 * aggregator and AS4_PATH is merged into AS_PATH.
 */
export function reconcileAs4(attrs: PathAttributes): EffectiveAs4 {
  const asPath = attrs.asPath ?? [];
  const agg = attrs.aggregator;
  if (agg !== undefined && agg.asn !== AS_TRANS) {
    return { asPath: asPath.map(copySegment), aggregator: agg };
  }
  const aggregator = agg !== undefined ? (attrs.as4Aggregator ?? agg) : undefined;
  const merged = attrs.as4Path !== undefined ? mergeAs4Path(asPath, attrs.as4Path) : asPath.map(copySegment);
  return { asPath: merged, ...(aggregator !== undefined ? { aggregator } : {}) };
}
