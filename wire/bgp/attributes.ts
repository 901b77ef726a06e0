// BGP path attributes: one descriptor row per attribute type (RFC 4271 §4.3 and §5, RFC 7606 §7).
//
// Each row names the type code, the Optional/Transitive flags the attribute must carry, the RFC
// 7606 action when its value is malformed, and the functions that size, write and read its value.
// The UPDATE decoder (update.ts) walks the attribute section, checks flags and lengths against
// the row, and turns a decoder's `AttrFault` into a `BgpDecodeError` with the row's action and
// the erroneous attribute as NOTIFICATION data (RFC 4271 §6.3).
//
// Covered: ORIGIN, AS_PATH (with RFC 5065 confederation segments), NEXT_HOP, MULTI_EXIT_DISC,
// LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR (2 or 4 octets, RFC 6793), COMMUNITIES (RFC 1997),
// ORIGINATOR_ID and CLUSTER_LIST (RFC 4456), MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760; IPv6 next
// hops per RFC 2545 §3, IPv4 NLRI with an IPv6 next hop per RFC 8950), EXTENDED_COMMUNITIES (RFC
// 4360), AS4_PATH / AS4_AGGREGATOR (RFC 6793), LARGE_COMMUNITY (RFC 8092), OTC (RFC 9234).

import { readAddr6, writeAddr6, type Prefix, type Prefix4 } from '../ip/index.js';
import {
  AS_TRANS,
  Afi,
  AttrFlag,
  AttrType,
  Safi,
  UpdateSubcode,
  afiSafiKey,
  type Origin,
} from './constants.js';
import type { ErrorAction } from './errors.js';
import { decodeNlri4, decodeNlri6, encodeNlri, nlriLength } from './nlri.js';
import type { AsPathSegment, CodecContext, MpReach, MpUnreach, PathAttributes } from './types.js';

//  Each attribute (RFC 4271 §4.3):
//
//   0                   1
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |O|T|P|E|  0    |  Type Code    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Length (1 octet, 2 if E set)  |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |  Value ...                    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// ===== Descriptor table types =====

/** The decoders' working copy of the attributes of one UPDATE. */
export type MutablePathAttributes = { -readonly [K in keyof PathAttributes]: PathAttributes[K] };

/** A malformed attribute value, raised by a row's decoder; update.ts adds action and data. */
export class AttrFault extends Error {
  constructor(
    readonly subcode: number,
    readonly reason: string,
    /** Overrides the row's action (e.g. an MP attribute too short to name its AFI/SAFI). */
    readonly action?: ErrorAction,
  ) {
    super(reason);
  }
}

/** One row of the attribute table (after BIRD's `bgp_attr_table[]`). */
export interface AttrDescriptor {
  readonly code: number;
  readonly name: string;
  /** The Optional and Transitive bits the attribute must carry (RFC 7606 §3(c)). */
  readonly flags: number;
  /** What a malformed value calls for (RFC 7606 §7 and the attribute's own RFC). */
  readonly action: ErrorAction;
  /** Value length to encode, or -1 when the attribute is absent from `a`. */
  length(a: PathAttributes, ctx: CodecContext): number;
  /** Write the value at `off`; returns the offset after it. */
  encode(a: PathAttributes, buf: Uint8Array, off: number, ctx: CodecContext): number;
  /** Read the value in `buf[off, end)` into `out`, or throw `AttrFault`. */
  decode(buf: Uint8Array, off: number, end: number, ctx: CodecContext, out: MutablePathAttributes): void;
}

const WELL_KNOWN = AttrFlag.TRANSITIVE;
const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;
const OPT_NON_TRANS = AttrFlag.OPTIONAL;

// ===== Byte helpers =====

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

function u32(b: Uint8Array, o: number): number {
  return (
    (b[o] as number) * 0x1000000 +
    (((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number))
  );
}

function w16(b: Uint8Array, o: number, v: number): number {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
  return o + 2;
}

function w32(b: Uint8Array, o: number, v: number): number {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
  return o + 4;
}

/**
 * A copy of `buf[start, end)` as a plain Uint8Array. Not `buf.slice`: on a Node Buffer that is a
 * view into the receive buffer, which the transport reuses.
 */
export function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
}

function lengthError(name: string, len: number, want: string): AttrFault {
  return new AttrFault(UpdateSubcode.ATTRIBUTE_LENGTH_ERROR, `${name} length ${len}, must be ${want}`);
}

// ===== AS_PATH segments (RFC 4271 §4.3 b, RFC 5065 §3, RFC 6793 §3) =====
//
//  +-----------------+-----------------+-------------------------------+
//  | Segment Type 1  | Segment Len 1   | ASNs: Len * (2 or 4) octets   |  repeated
//  +-----------------+-----------------+-------------------------------+

/** Wire length of a path; segments over 255 ASNs are split, empty ones dropped. */
export function asPathWireLength(path: readonly AsPathSegment[], asnSize: number): number {
  let n = 0;
  for (const s of path) {
    const k = s.asns.length;
    if (k === 0) continue;
    n += 2 * Math.ceil(k / 255) + k * asnSize;
  }
  return n;
}

/**
 * Write a path. With 2-octet ASNs an ASN above 65535 is written as AS_TRANS (RFC 6793 §4.2.2);
 * callers building for an OLD peer should use `forOldSpeaker` to also send AS4_PATH.
 */
export function encodeAsPath(
  path: readonly AsPathSegment[],
  asnSize: number,
  buf: Uint8Array,
  off: number,
): number {
  for (const s of path) {
    const k = s.asns.length;
    for (let start = 0; start < k; start += 255) {
      const n = Math.min(255, k - start);
      buf[off++] = s.type;
      buf[off++] = n;
      for (let i = start; i < start + n; i++) {
        const a = s.asns[i] as number;
        off = asnSize === 4 ? w32(buf, off, a) : w16(buf, off, a > 0xffff ? AS_TRANS : a);
      }
    }
  }
  return off;
}

/**
 * Read a path from `buf[off, end)` (RFC 7606 §7.2: an unknown segment type, a zero segment
 * length, an overrun or a trailing fragment make it malformed).
 */
export function decodeAsPath(
  buf: Uint8Array,
  off: number,
  end: number,
  asnSize: number,
  name: string,
): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  let o = off;
  while (o < end) {
    if (end - o < 2)
      throw new AttrFault(
        UpdateSubcode.MALFORMED_AS_PATH,
        `${name}: ${end - o} byte(s) left, too few for a segment header`,
      );
    const type = buf[o] as number;
    const n = buf[o + 1] as number;
    if (type < 1 || type > 4)
      throw new AttrFault(UpdateSubcode.MALFORMED_AS_PATH, `${name}: unknown segment type ${type}`);
    if (n === 0) throw new AttrFault(UpdateSubcode.MALFORMED_AS_PATH, `${name}: segment of length 0`);
    o += 2;
    if (o + n * asnSize > end) {
      throw new AttrFault(
        UpdateSubcode.MALFORMED_AS_PATH,
        `${name}: segment of ${n} ASNs overruns the attribute`,
      );
    }
    const asns = new Array<number>(n);
    if (asnSize === 4) {
      for (let i = 0; i < n; i++, o += 4) asns[i] = u32(buf, o);
    } else {
      for (let i = 0; i < n; i++, o += 2) asns[i] = u16(buf, o);
    }
    out.push({ type: type as AsPathSegment['type'], asns });
  }
  return out;
}

// ===== Rows: RFC 4271 well-known and optional attributes =====

const ORIGIN: AttrDescriptor = {
  code: AttrType.ORIGIN,
  name: 'ORIGIN',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.1
  length: (a) => (a.origin === undefined ? -1 : 1),
  encode: (a, buf, off) => {
    buf[off] = a.origin ?? 0;
    return off + 1;
  },
  decode: (buf, off, end, _ctx, out) => {
    if (end - off !== 1) throw lengthError('ORIGIN', end - off, '1');
    const v = buf[off] as number;
    if (v > 2) throw new AttrFault(UpdateSubcode.INVALID_ORIGIN_ATTRIBUTE, `ORIGIN value ${v} is undefined`);
    out.origin = v as Origin;
  },
};

const AS_PATH: AttrDescriptor = {
  code: AttrType.AS_PATH,
  name: 'AS_PATH',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.2
  length: (a, ctx) => (a.asPath === undefined ? -1 : asPathWireLength(a.asPath, ctx.fourOctetAs ? 4 : 2)),
  encode: (a, buf, off, ctx) => encodeAsPath(a.asPath ?? [], ctx.fourOctetAs ? 4 : 2, buf, off),
  decode: (buf, off, end, ctx, out) => {
    out.asPath = decodeAsPath(buf, off, end, ctx.fourOctetAs ? 4 : 2, 'AS_PATH');
  },
};

/**
 * A NEXT_HOP that cannot be a host address anywhere: 0.0.0.0/8, multicast and the reserved
 * class E block with the limited broadcast (RFC 4271 §6.3 "syntactically incorrect"). Loopback
 * is allowed: in-process test topologies peer over 127.0.0.0/8. Whether the next hop is our own
 * address or shares the peer's subnet is the session's check, not the codec's.
 */
export function isInvalidNextHop4(a: number): boolean {
  const top = a >>> 24;
  return top === 0 || top >= 224;
}

const NEXT_HOP: AttrDescriptor = {
  code: AttrType.NEXT_HOP,
  name: 'NEXT_HOP',
  flags: WELL_KNOWN,
  action: 'treat-as-withdraw', // RFC 7606 §7.3
  length: (a) => (a.nextHop === undefined ? -1 : 4),
  encode: (a, buf, off) => w32(buf, off, a.nextHop ?? 0),
  // The value check (`isInvalidNextHop4`) is made by the UPDATE decoder, and only when there is
  // traditional NLRI: with MP_REACH alone a receiver ignores NEXT_HOP (RFC 4760 §3).
  decode: (buf, off, end, _ctx, out) => {
    if (end - off !== 4) throw lengthError('NEXT_HOP', end - off, '4');
    out.nextHop = u32(buf, off);
  },
};

/** A row for a 4-byte number attribute. */
function u32Row(
  code: number,
  name: string,
  flags: number,
  get: (a: PathAttributes) => number | undefined,
  set: (out: MutablePathAttributes, v: number) => void,
): AttrDescriptor {
  return {
    code,
    name,
    flags,
    action: 'treat-as-withdraw', // RFC 7606 §7.4 (MED), §7.5 (LOCAL_PREF), §7.9 (ORIGINATOR_ID); RFC 9234 §5 (OTC)
    length: (a) => (get(a) === undefined ? -1 : 4),
    encode: (a, buf, off) => w32(buf, off, get(a) ?? 0),
    decode: (buf, off, end, _ctx, out) => {
      if (end - off !== 4) throw lengthError(name, end - off, '4');
      set(out, u32(buf, off));
    },
  };
}

const MED = u32Row(
  AttrType.MULTI_EXIT_DISC,
  'MULTI_EXIT_DISC',
  OPT_NON_TRANS,
  (a) => a.med,
  (o, v) => (o.med = v),
);
// LOCAL_PREF received from an eBGP peer is to be ignored (RFC 7606 §7.5): the session knows the
// peer type and drops it; the codec only checks the form.
const LOCAL_PREF = u32Row(
  AttrType.LOCAL_PREF,
  'LOCAL_PREF',
  WELL_KNOWN,
  (a) => a.localPref,
  (o, v) => (o.localPref = v),
);
const ORIGINATOR_ID = u32Row(
  AttrType.ORIGINATOR_ID,
  'ORIGINATOR_ID',
  OPT_NON_TRANS,
  (a) => a.originatorId,
  (o, v) => (o.originatorId = v),
);
const OTC = u32Row(
  AttrType.OTC,
  'OTC',
  OPT_TRANS,
  (a) => a.otc,
  (o, v) => (o.otc = v),
);

const ATOMIC_AGGREGATE: AttrDescriptor = {
  code: AttrType.ATOMIC_AGGREGATE,
  name: 'ATOMIC_AGGREGATE',
  flags: WELL_KNOWN,
  action: 'attribute-discard', // RFC 7606 §7.6
  length: (a) => (a.atomicAggregate === true ? 0 : -1),
  encode: (_a, _buf, off) => off,
  decode: (_buf, off, end, _ctx, out) => {
    if (end !== off) throw lengthError('ATOMIC_AGGREGATE', end - off, '0');
    out.atomicAggregate = true;
  },
};

const AGGREGATOR: AttrDescriptor = {
  code: AttrType.AGGREGATOR,
  name: 'AGGREGATOR',
  flags: OPT_TRANS,
  action: 'attribute-discard', // RFC 7606 §7.7
  length: (a, ctx) => (a.aggregator === undefined ? -1 : ctx.fourOctetAs ? 8 : 6),
  encode: (a, buf, off, ctx) => {
    const g = a.aggregator ?? { asn: 0, addr: 0 };
    off = ctx.fourOctetAs ? w32(buf, off, g.asn) : w16(buf, off, g.asn > 0xffff ? AS_TRANS : g.asn);
    return w32(buf, off, g.addr);
  },
  decode: (buf, off, end, ctx, out) => {
    const want = ctx.fourOctetAs ? 8 : 6;
    if (end - off !== want) throw lengthError('AGGREGATOR', end - off, String(want));
    out.aggregator = ctx.fourOctetAs
      ? { asn: u32(buf, off), addr: u32(buf, off + 4) }
      : { asn: u16(buf, off), addr: u32(buf, off + 2) };
  },
};

/** A row for a list of 32-bit words whose length must be a non-zero multiple of `unit` bytes. */
function wordListRow(
  code: number,
  name: string,
  flags: number,
  unit: number,
  get: (a: PathAttributes) => readonly number[] | undefined,
  set: (out: MutablePathAttributes, v: number[]) => void,
): AttrDescriptor {
  const per = unit / 4;
  return {
    code,
    name,
    flags,
    // RFC 7606 §7.8 (COMMUNITIES), §7.10 (CLUSTER_LIST), §7.14 (EXTENDED_COMMUNITIES); RFC 8092 §6.
    action: 'treat-as-withdraw',
    length: (a) => {
      const v = get(a);
      return v === undefined || v.length === 0 ? -1 : Math.floor(v.length / per) * unit;
    },
    encode: (a, buf, off) => {
      const v = get(a) ?? [];
      const n = Math.floor(v.length / per) * per;
      for (let i = 0; i < n; i++) off = w32(buf, off, v[i] as number);
      return off;
    },
    decode: (buf, off, end, _ctx, out) => {
      const len = end - off;
      if (len === 0 || len % unit !== 0) throw lengthError(name, len, `a non-zero multiple of ${unit}`);
      const v = new Array<number>(len / 4);
      for (let i = 0, o = off; o < end; i++, o += 4) v[i] = u32(buf, o);
      set(out, v);
    },
  };
}

const COMMUNITIES = wordListRow(
  AttrType.COMMUNITIES,
  'COMMUNITIES',
  OPT_TRANS,
  4,
  (a) => a.communities,
  (o, v) => (o.communities = v),
);
const CLUSTER_LIST = wordListRow(
  AttrType.CLUSTER_LIST,
  'CLUSTER_LIST',
  OPT_NON_TRANS,
  4,
  (a) => a.clusterList,
  (o, v) => (o.clusterList = v),
);
const EXTENDED_COMMUNITIES = wordListRow(
  AttrType.EXTENDED_COMMUNITIES,
  'EXTENDED_COMMUNITIES',
  OPT_TRANS,
  8,
  (a) => a.extCommunities,
  (o, v) => (o.extCommunities = v),
);
const LARGE_COMMUNITY = wordListRow(
  AttrType.LARGE_COMMUNITY,
  'LARGE_COMMUNITY',
  OPT_TRANS,
  12,
  (a) => a.largeCommunities,
  (o, v) => (o.largeCommunities = v),
);

// ===== Rows: RFC 6793 AS4_PATH and AS4_AGGREGATOR =====

const AS4_PATH: AttrDescriptor = {
  code: AttrType.AS4_PATH,
  name: 'AS4_PATH',
  flags: OPT_TRANS,
  action: 'attribute-discard', // RFC 6793 §6
  length: (a) => (a.as4Path === undefined ? -1 : asPathWireLength(a.as4Path, 4)),
  encode: (a, buf, off) => encodeAsPath(a.as4Path ?? [], 4, buf, off),
  decode: (buf, off, end, _ctx, out) => {
    if (end - off < 6)
      throw new AttrFault(UpdateSubcode.MALFORMED_AS_PATH, `AS4_PATH length ${end - off}, below 6`);
    out.as4Path = decodeAsPath(buf, off, end, 4, 'AS4_PATH');
  },
};

const AS4_AGGREGATOR: AttrDescriptor = {
  code: AttrType.AS4_AGGREGATOR,
  name: 'AS4_AGGREGATOR',
  flags: OPT_TRANS,
  action: 'attribute-discard', // RFC 6793 §6
  length: (a) => (a.as4Aggregator === undefined ? -1 : 8),
  encode: (a, buf, off) => {
    const g = a.as4Aggregator ?? { asn: 0, addr: 0 };
    return w32(buf, w32(buf, off, g.asn), g.addr);
  },
  decode: (buf, off, end, _ctx, out) => {
    if (end - off !== 8) throw lengthError('AS4_AGGREGATOR', end - off, '8');
    out.as4Aggregator = { asn: u32(buf, off), addr: u32(buf, off + 4) };
  },
};

// ===== Rows: RFC 4760 MP_REACH_NLRI and MP_UNREACH_NLRI =====
//
//  MP_REACH_NLRI:                          MP_UNREACH_NLRI:
//  +---------------------------------+     +---------------------------------+
//  | AFI (2) | SAFI (1)              |     | AFI (2) | SAFI (1)              |
//  +---------------------------------+     +---------------------------------+
//  | Length of Next Hop (1)          |     | Withdrawn Routes (variable)     |
//  +---------------------------------+     +---------------------------------+
//  | Next Hop (variable)             |
//  +---------------------------------+
//  | Reserved (1)                    |
//  +---------------------------------+
//  | NLRI (variable)                 |
//  +---------------------------------+

/** The AFI/SAFI pairs whose NLRI we parse; others are kept raw. */
export function isParsedFamily(afi: number, safi: number): boolean {
  return (afi === Afi.IPV4 || afi === Afi.IPV6) && safi === Safi.UNICAST;
}

/** Next-hop field length of an MP_REACH value. */
export function mpNextHopLength(m: MpReach): number {
  if (typeof m.nextHop === 'number') return 4;
  return m.nextHopLinkLocal !== undefined ? 32 : 16;
}

function mpFault(reason: string, action: ErrorAction = 'afisafi-disable'): AttrFault {
  // RFC 4760 §7: an MP attribute that cannot be parsed is an Optional Attribute Error.
  return new AttrFault(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, reason, action);
}

const MP_REACH_NLRI: AttrDescriptor = {
  code: AttrType.MP_REACH_NLRI,
  name: 'MP_REACH_NLRI',
  flags: OPT_NON_TRANS,
  // RFC 7606 §7.11 / §5.3: once the next hop or the NLRI cannot be parsed, the NLRI cannot be
  // found, so treat-as-withdraw is impossible; AFI/SAFI disable is the lighter of the two choices.
  action: 'afisafi-disable',
  length: (a, ctx) => {
    const m = a.mpReach;
    if (m === undefined) return -1;
    if (m.raw !== undefined) return 3 + m.raw.length;
    return 5 + mpNextHopLength(m) + nlriLength(m.nlri, ctx.addPath.has(afiSafiKey(m.afi, m.safi)));
  },
  encode: (a, buf, off, ctx) => {
    const m = a.mpReach as MpReach;
    off = w16(buf, off, m.afi);
    buf[off++] = m.safi;
    if (m.raw !== undefined) {
      buf.set(m.raw, off);
      return off + m.raw.length;
    }
    const nh = m.nextHop;
    if (typeof nh === 'number') {
      buf[off++] = 4;
      off = w32(buf, off, nh);
    } else {
      buf[off++] = m.nextHopLinkLocal !== undefined ? 32 : 16;
      off = writeAddr6(nh, buf, off);
      if (m.nextHopLinkLocal !== undefined) off = writeAddr6(m.nextHopLinkLocal, buf, off);
    }
    buf[off++] = 0; // Reserved (RFC 4760 §3)
    return encodeNlri(m.nlri, m.pathIds, ctx.addPath.has(afiSafiKey(m.afi, m.safi)), buf, off);
  },
  decode: (buf, off, end, ctx, out) => {
    if (end - off < 3) throw mpFault(`MP_REACH_NLRI length ${end - off}: no AFI/SAFI`, 'session-reset');
    const afi = u16(buf, off);
    const safi = buf[off + 2] as number;
    if (!isParsedFamily(afi, safi)) {
      out.mpReach = { afi, safi, nextHop: 0, nlri: [], raw: copyBytes(buf, off + 3, end) };
      return;
    }
    if (end - off < 5) throw mpFault(`MP_REACH_NLRI length ${end - off}: no next hop`);
    const nhLen = buf[off + 3] as number;
    const okLen =
      afi === Afi.IPV4 ? nhLen === 4 || nhLen === 16 || nhLen === 32 : nhLen === 16 || nhLen === 32;
    if (!okLen) throw mpFault(`MP_REACH_NLRI next hop length ${nhLen} for AFI ${afi}`);
    const nh = off + 4;
    const reserved = nh + nhLen;
    if (reserved + 1 > end) throw mpFault(`MP_REACH_NLRI next hop of ${nhLen} bytes overruns the attribute`);
    const nextHop = nhLen === 4 ? u32(buf, nh) : readAddr6(buf, nh);
    const nlri: Prefix[] = [];
    const addPath = ctx.addPath.has(afiSafiKey(afi, safi));
    const ids = addPath ? [] : undefined;
    // The Reserved octet is ignored on receipt (RFC 4760 §3).
    const why =
      afi === Afi.IPV4
        ? decodeNlri4(buf, reserved + 1, end, nlri as Prefix4[], ids)
        : decodeNlri6(buf, reserved + 1, end, nlri, ids);
    if (why !== undefined) throw mpFault(`MP_REACH_NLRI: ${why}`);
    const m: { -readonly [K in keyof MpReach]: MpReach[K] } = { afi, safi, nextHop, nlri };
    if (nhLen === 32) m.nextHopLinkLocal = readAddr6(buf, nh + 16);
    if (ids !== undefined) m.pathIds = ids;
    out.mpReach = m;
  },
};

const MP_UNREACH_NLRI: AttrDescriptor = {
  code: AttrType.MP_UNREACH_NLRI,
  name: 'MP_UNREACH_NLRI',
  flags: OPT_NON_TRANS,
  action: 'afisafi-disable', // RFC 7606 §7.12 / §5.3
  length: (a, ctx) => {
    const m = a.mpUnreach;
    if (m === undefined) return -1;
    if (m.raw !== undefined) return 3 + m.raw.length;
    return 3 + nlriLength(m.withdrawn, ctx.addPath.has(afiSafiKey(m.afi, m.safi)));
  },
  encode: (a, buf, off, ctx) => {
    const m = a.mpUnreach as MpUnreach;
    off = w16(buf, off, m.afi);
    buf[off++] = m.safi;
    if (m.raw !== undefined) {
      buf.set(m.raw, off);
      return off + m.raw.length;
    }
    return encodeNlri(m.withdrawn, m.pathIds, ctx.addPath.has(afiSafiKey(m.afi, m.safi)), buf, off);
  },
  decode: (buf, off, end, ctx, out) => {
    if (end - off < 3) throw mpFault(`MP_UNREACH_NLRI length ${end - off}: no AFI/SAFI`, 'session-reset');
    const afi = u16(buf, off);
    const safi = buf[off + 2] as number;
    if (!isParsedFamily(afi, safi)) {
      out.mpUnreach = { afi, safi, withdrawn: [], raw: copyBytes(buf, off + 3, end) };
      return;
    }
    const withdrawn: Prefix[] = [];
    const ids = ctx.addPath.has(afiSafiKey(afi, safi)) ? [] : undefined;
    const why =
      afi === Afi.IPV4
        ? decodeNlri4(buf, off + 3, end, withdrawn as Prefix4[], ids)
        : decodeNlri6(buf, off + 3, end, withdrawn, ids);
    if (why !== undefined) throw mpFault(`MP_UNREACH_NLRI: ${why}`);
    out.mpUnreach = ids !== undefined ? { afi, safi, withdrawn, pathIds: ids } : { afi, safi, withdrawn };
  },
};

// ===== The table =====

/** Every attribute we interpret, in ascending type code. */
export const ATTRIBUTES: readonly AttrDescriptor[] = [
  ORIGIN,
  AS_PATH,
  NEXT_HOP,
  MED,
  LOCAL_PREF,
  ATOMIC_AGGREGATE,
  AGGREGATOR,
  COMMUNITIES,
  ORIGINATOR_ID,
  CLUSTER_LIST,
  MP_REACH_NLRI,
  MP_UNREACH_NLRI,
  EXTENDED_COMMUNITIES,
  AS4_PATH,
  AS4_AGGREGATOR,
  LARGE_COMMUNITY,
  OTC,
];

/** Descriptor by type code (undefined for attributes we do not interpret). */
export const ATTRIBUTE_BY_CODE: readonly (AttrDescriptor | undefined)[] = (() => {
  const t = new Array<AttrDescriptor | undefined>(256).fill(undefined);
  for (const d of ATTRIBUTES) t[d.code] = d;
  return t;
})();

/**
 * Encoding order: MP_REACH_NLRI and MP_UNREACH_NLRI first, so a receiver can find the NLRI even
 * when a later attribute is malformed (RFC 7606 §5.1), then ascending type code (RFC 4271 §5).
 */
const ENCODE_ORDER: readonly AttrDescriptor[] = [
  MP_REACH_NLRI,
  MP_UNREACH_NLRI,
  ...ATTRIBUTES.filter((d) => d !== MP_REACH_NLRI && d !== MP_UNREACH_NLRI),
];

// ===== Attribute section codec =====

function headerLength(valueLength: number): number {
  return valueLength > 255 ? 4 : 3;
}

/** Bits of `omit` for the attribute section codec: leave out attributes the caller writes itself. */
export const OmitAttr = {
  /** MP_REACH_NLRI and MP_UNREACH_NLRI. */
  MP: 1,
  NEXT_HOP: 2,
} as const;

function omitted(d: AttrDescriptor, omit: number): boolean {
  if (omit === 0) return false;
  if (omit & OmitAttr.MP && (d.code === AttrType.MP_REACH_NLRI || d.code === AttrType.MP_UNREACH_NLRI))
    return true;
  return (omit & OmitAttr.NEXT_HOP) !== 0 && d.code === AttrType.NEXT_HOP;
}

/** Bytes of the whole path attribute section for `a`, less the `omit` (OmitAttr bits) ones. */
export function attributesLength(a: PathAttributes, ctx: CodecContext, omit = 0): number {
  let n = 0;
  for (let i = 0; i < ENCODE_ORDER.length; i++) {
    const d = ENCODE_ORDER[i] as AttrDescriptor;
    if (omitted(d, omit)) continue;
    const v = d.length(a, ctx);
    if (v >= 0) n += headerLength(v) + v;
  }
  const u = a.unknown;
  if (u !== undefined) for (const r of u) n += headerLength(r.data.length) + r.data.length;
  return n;
}

function writeHeader(flags: number, code: number, len: number, buf: Uint8Array, off: number): number {
  if (len > 255) {
    buf[off] = flags | AttrFlag.EXTENDED_LENGTH;
    buf[off + 1] = code;
    return w16(buf, off + 2, len);
  }
  buf[off] = flags & ~AttrFlag.EXTENDED_LENGTH;
  buf[off + 1] = code;
  buf[off + 2] = len;
  return off + 3;
}

/**
 * Write the path attribute section; returns the offset after it. Unknown attributes we pass on
 * go out in type-code order among the known ones, with the Partial bit set when they are
 * optional transitive (RFC 4271 §5: we did not interpret them).
 */
export function encodeAttributes(
  a: PathAttributes,
  buf: Uint8Array,
  off: number,
  ctx: CodecContext,
  omit = 0,
): number {
  const unknown =
    a.unknown !== undefined && a.unknown.length > 0 ? [...a.unknown].sort((x, y) => x.code - y.code) : [];
  let ui = 0;
  for (let i = 0; i < ENCODE_ORDER.length; i++) {
    const d = ENCODE_ORDER[i] as AttrDescriptor;
    // Rows 0 and 1 are the MP attributes, written ahead of the ascending run.
    if (i >= 2) {
      while (ui < unknown.length && (unknown[ui]?.code ?? 256) < d.code)
        off = writeRaw(unknown[ui++], buf, off);
    }
    if (omitted(d, omit)) continue;
    const v = d.length(a, ctx);
    if (v < 0) continue;
    off = writeHeader(d.flags, d.code, v, buf, off);
    const end = d.encode(a, buf, off, ctx);
    if (end !== off + v) throw new Error(`${d.name}: encoder wrote ${end - off} bytes, length said ${v}`);
    off = end;
  }
  while (ui < unknown.length) off = writeRaw(unknown[ui++], buf, off);
  return off;
}

function writeRaw(
  r: { flags: number; code: number; data: Uint8Array } | undefined,
  buf: Uint8Array,
  off: number,
): number {
  if (r === undefined) return off;
  const optTrans = OPT_TRANS;
  const flags = (r.flags & optTrans) === optTrans ? r.flags | AttrFlag.PARTIAL : r.flags;
  off = writeHeader(flags, r.code, r.data.length, buf, off);
  buf.set(r.data, off);
  return off + r.data.length;
}
