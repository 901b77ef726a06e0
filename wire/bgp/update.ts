// The UPDATE message body codec (RFC 4271 §4.3) with revised error handling (RFC 7606), MP
// attributes (RFC 4760), 4-octet ASNs (RFC 6793) and ADD-PATH (RFC 7911).
//
// "Body" is everything after the 19-byte header. Decoding walks the bytes once with plain offset
// arithmetic and writes IPv4 NLRI straight into number arrays. Errors that end the session or the
// AFI/SAFI are thrown as `BgpDecodeError`; the softer RFC 7606 outcomes come back on the message
// (`treatAsWithdraw`, `discarded`) with everything that could be parsed, so the session can
// withdraw the NLRI.

import type { Prefix4 } from '../ip/index.js';
import { AFISAFI_IPV4_UNICAST, AttrFlag, AttrType, UpdateSubcode } from './constants.js';
import type { BgpDecodeError } from './errors.js';
import { malformedAttributeList, strongerAction, updateError, type ErrorAction } from './errors.js';
import {
  ATTRIBUTE_BY_CODE,
  AttrFault,
  attributesLength,
  copyBytes,
  isInvalidNextHop4,
  encodeAttributes,
  type MutablePathAttributes,
} from './attributes.js';
import { decodeNlri4, encodeNlri, nlriLength } from './nlri.js';
import type { AfiSafi, CodecContext, RawAttribute, UpdateMessage } from './types.js';

//  +-----------------------------------------------------+
//  |   Withdrawn Routes Length (2 octets)                |
//  +-----------------------------------------------------+
//  |   Withdrawn Routes (variable)                       |
//  +-----------------------------------------------------+
//  |   Total Path Attribute Length (2 octets)            |
//  +-----------------------------------------------------+
//  |   Path Attributes (variable)                        |
//  +-----------------------------------------------------+
//  |   Network Layer Reachability Information (variable) |
//  +-----------------------------------------------------+

// ===== Encoding =====

/** Bytes of the UPDATE body (everything after the header). */
export function updateBodyLength(msg: UpdateMessage, ctx: CodecContext): number {
  const addPath = ctx.addPath.has(AFISAFI_IPV4_UNICAST);
  return (
    4 + nlriLength(msg.withdrawn, addPath) + attributesLength(msg.attrs, ctx) + nlriLength(msg.nlri, addPath)
  );
}

/** Write the UPDATE body at `off`; returns the offset after it. MP attributes go first (RFC 7606 §5.1). */
export function encodeUpdateBody(
  msg: UpdateMessage,
  buf: Uint8Array,
  off: number,
  ctx: CodecContext,
): number {
  const addPath = ctx.addPath.has(AFISAFI_IPV4_UNICAST);
  const wStart = off + 2;
  const wEnd = encodeNlri(msg.withdrawn, msg.withdrawnPathIds, addPath, buf, wStart);
  writeLength(buf, off, wEnd - wStart);
  const aStart = wEnd + 2;
  const aEnd = encodeAttributes(msg.attrs, buf, aStart, ctx);
  writeLength(buf, wEnd, aEnd - aStart);
  return encodeNlri(msg.nlri, msg.nlriPathIds, addPath, buf, aEnd);
}

function writeLength(buf: Uint8Array, off: number, len: number): void {
  if (len > 0xffff) throw new RangeError(`UPDATE field of ${len} bytes does not fit a 2-octet length`);
  buf[off] = len >>> 8;
  buf[off + 1] = len & 255;
}

// ===== Decoding =====

/** The erroneous attribute as it appeared on the wire: the NOTIFICATION data (RFC 4271 §6.3). */
function attrData(buf: Uint8Array, start: number, end: number): Uint8Array {
  return copyBytes(buf, start, end);
}

/** Per-message state of the attribute walk. */
interface Outcome {
  withdraw: BgpDecodeError | undefined;
  discarded: BgpDecodeError[] | undefined;
  /** Where the NEXT_HOP attribute sits, for the data of a late NEXT_HOP value error. */
  nextHopStart: number;
  nextHopEnd: number;
}

/** Record a soft error, or throw a hard one (RFC 7606 §3: the strongest action wins). */
function record(st: Outcome, e: BgpDecodeError): void {
  switch (e.action) {
    case 'session-reset':
    case 'afisafi-disable':
      throw e;
    case 'treat-as-withdraw':
      st.withdraw ??= e;
      return;
    case 'attribute-discard':
      (st.discarded ??= []).push(e);
      return;
  }
}

// Attribute types seen in the message being decoded, by generation, so the duplicate check
// (RFC 7606 §3(g)) allocates nothing per message.
const seen = new Uint32Array(256);
let generation = 0;

/**
 * Decode the UPDATE body in `buf[off, end)`. Throws `BgpDecodeError` for session-reset and
 * AFI/SAFI-disable errors; returns the message with `treatAsWithdraw` / `discarded` set for the
 * softer RFC 7606 outcomes.
 */
export function decodeUpdateBody(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: CodecContext,
): UpdateMessage {
  if (end - off < 4)
    throw malformedAttributeList(`UPDATE body of ${end - off} bytes has no room for its two length fields`);
  const addPath = ctx.addPath.has(AFISAFI_IPV4_UNICAST);

  // RFC 4271 §6.3: Withdrawn Routes Length or Total Attribute Length too large for the message
  // is a Malformed Attribute List; nothing after them can be located, so the session is reset.
  const wLen = ((buf[off] as number) << 8) | (buf[off + 1] as number);
  const wStart = off + 2;
  const wEnd = wStart + wLen;
  if (wEnd + 2 > end) {
    throw malformedAttributeList(`Withdrawn Routes Length ${wLen} overruns the ${end - off}-byte body`);
  }
  const withdrawn: Prefix4[] = [];
  const withdrawnPathIds: number[] | undefined = addPath ? [] : undefined;
  const wWhy = decodeNlri4(buf, wStart, wEnd, withdrawn, withdrawnPathIds);
  if (wWhy !== undefined) {
    // RFC 7606 §5.3: a withdrawn-routes field that cannot be parsed means session reset.
    throw updateError(UpdateSubcode.INVALID_NETWORK_FIELD, 'session-reset', `withdrawn routes: ${wWhy}`);
  }

  const aLen = ((buf[wEnd] as number) << 8) | (buf[wEnd + 1] as number);
  const aStart = wEnd + 2;
  const aEnd = aStart + aLen;
  if (aEnd > end) {
    throw malformedAttributeList(
      `Total Path Attribute Length ${aLen} overruns the message (${end - aStart} bytes left)`,
    );
  }

  const attrs: MutablePathAttributes = {};
  const st: Outcome = { withdraw: undefined, discarded: undefined, nextHopStart: 0, nextHopEnd: 0 };
  decodeAttributes(buf, aStart, aEnd, ctx, attrs, st);

  const nlri: Prefix4[] = [];
  const nlriPathIds: number[] | undefined = addPath ? [] : undefined;
  const nWhy = decodeNlri4(buf, aEnd, end, nlri, nlriPathIds);
  if (nWhy !== undefined) {
    // RFC 7606 §5.3 and §3(j): the NLRI field cannot be parsed, so neither withdrawn nor
    // announced; session reset with RFC 4271's Invalid Network Field.
    throw updateError(UpdateSubcode.INVALID_NETWORK_FIELD, 'session-reset', `NLRI: ${nWhy}`);
  }

  // RFC 7606 §3(d): mandatory attributes missing while there is NLRI → treat-as-withdraw. An
  // UPDATE with MP_REACH only needs no NEXT_HOP (RFC 4760 §3).
  const hasMpNlri =
    attrs.mpReach !== undefined && attrs.mpReach.raw === undefined && attrs.mpReach.nlri.length > 0;
  if (nlri.length > 0 || hasMpNlri) {
    if (attrs.origin === undefined) missing(st, AttrType.ORIGIN, 'ORIGIN');
    if (attrs.asPath === undefined) missing(st, AttrType.AS_PATH, 'AS_PATH');
    if (nlri.length > 0 && attrs.nextHop === undefined) missing(st, AttrType.NEXT_HOP, 'NEXT_HOP');
  }
  if (nlri.length > 0 && attrs.nextHop !== undefined && isInvalidNextHop4(attrs.nextHop)) {
    // RFC 4271 §6.3 / RFC 7606 §7.3: a NEXT_HOP that cannot be a host address; the routes are
    // ignored (treat-as-withdraw) rather than the session reset.
    record(
      st,
      updateError(
        UpdateSubcode.INVALID_NEXT_HOP_ATTRIBUTE,
        'treat-as-withdraw',
        `NEXT_HOP ${attrs.nextHop >>> 24}.x.x.x is not a host address`,
        attrData(buf, st.nextHopStart, st.nextHopEnd),
      ),
    );
  }

  const mpRaw = attrs.mpReach?.raw;
  if (
    st.withdraw !== undefined &&
    nlri.length === 0 &&
    !hasMpNlri &&
    (mpRaw === undefined || mpRaw.length === 0)
  ) {
    // RFC 7606 §5.2: attributes with errors but no reachable NLRI suggest the NLRI were
    // mis-framed into the attribute section; anything beyond attribute-discard is a session reset.
    const e = st.withdraw;
    throw updateError(e.subcode, 'session-reset', `${e.reason} (no reachable NLRI: RFC 7606 §5.2)`, e.data);
  }

  const msg: { -readonly [K in keyof UpdateMessage]: UpdateMessage[K] } = { type: 2, withdrawn, attrs, nlri };
  if (withdrawnPathIds !== undefined) msg.withdrawnPathIds = withdrawnPathIds;
  if (nlriPathIds !== undefined) msg.nlriPathIds = nlriPathIds;
  if (st.withdraw !== undefined) msg.treatAsWithdraw = st.withdraw;
  if (st.discarded !== undefined) msg.discarded = st.discarded;
  return msg;
}

function missing(st: Outcome, code: number, name: string): void {
  record(
    st,
    updateError(
      UpdateSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
      'treat-as-withdraw',
      `${name} missing`,
      Uint8Array.of(code),
    ),
  );
}

/** Walk the attribute section `buf[off, end)` into `out`, recording soft errors in `st`. */
function decodeAttributes(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: CodecContext,
  out: MutablePathAttributes,
  st: Outcome,
): void {
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    seen.fill(0);
    generation = 1;
  }
  const gen = generation;
  let unknown: RawAttribute[] | undefined;
  let o = off;
  while (o < end) {
    const flags = buf[o] as number;
    const hLen = flags & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
    if (end - o < hLen) {
      // RFC 7606 §4: too few bytes left for an attribute header; the Total Attribute Length
      // still locates the NLRI, so treat-as-withdraw.
      record(
        st,
        updateError(
          UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
          'treat-as-withdraw',
          `${end - o} byte(s) left in the attribute section, too few for an attribute header`,
          attrData(buf, o, end),
        ),
      );
      break;
    }
    const code = buf[o + 1] as number;
    const vLen = hLen === 4 ? ((buf[o + 2] as number) << 8) | (buf[o + 3] as number) : (buf[o + 2] as number);
    const vStart = o + hLen;
    const vEnd = vStart + vLen;
    if (vEnd > end) {
      // RFC 7606 §4: the last attribute overruns the section: treat-as-withdraw, unless it is an
      // MP attribute, whose NLRI could then not be located (RFC 7606 §5.3).
      const mp = code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI;
      record(
        st,
        updateError(
          UpdateSubcode.ATTRIBUTE_LENGTH_ERROR,
          mp ? 'session-reset' : 'treat-as-withdraw',
          `attribute ${code} of length ${vLen} overruns the attribute section by ${vEnd - end} bytes`,
          attrData(buf, o, end),
        ),
      );
      break;
    }
    const start = o;
    o = vEnd;

    if (seen[code] === gen) {
      // RFC 7606 §3(g): a repeated MP attribute is a Malformed Attribute List; any other repeat
      // is dropped and the first occurrence stands.
      if (code === AttrType.MP_REACH_NLRI || code === AttrType.MP_UNREACH_NLRI) {
        throw updateError(
          UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
          'session-reset',
          `attribute ${code} appears more than once`,
        );
      }
      record(
        st,
        updateError(
          UpdateSubcode.MALFORMED_ATTRIBUTE_LIST,
          'attribute-discard',
          `attribute ${code} appears more than once; the repeat was dropped`,
          attrData(buf, start, vEnd),
        ),
      );
      continue;
    }
    seen[code] = gen;

    const d = ATTRIBUTE_BY_CODE[code];
    if (d === undefined) {
      if ((flags & AttrFlag.OPTIONAL) === 0) {
        // RFC 4271 §6.3: an unrecognized well-known attribute resets the session.
        throw updateError(
          UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          'session-reset',
          `well-known attribute ${code} is not recognized`,
          attrData(buf, start, vEnd),
        );
      }
      // RFC 4271 §5: unrecognized optional transitive attributes are passed on with the Partial
      // bit set; unrecognized optional non-transitive ones are quietly ignored.
      if (flags & AttrFlag.TRANSITIVE) {
        (unknown ??= []).push({
          flags: (flags & ~AttrFlag.EXTENDED_LENGTH) | AttrFlag.PARTIAL,
          code,
          data: copyBytes(buf, vStart, vEnd),
        });
      }
      continue;
    }

    let flagsBad = false;
    if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) !== d.flags) {
      // RFC 7606 §3(c): conflicting Optional/Transitive bits → treat-as-withdraw. The MP
      // attributes are still parsed below so their NLRI can be withdrawn.
      record(
        st,
        updateError(
          UpdateSubcode.ATTRIBUTE_FLAGS_ERROR,
          'treat-as-withdraw',
          `${d.name} flags 0x${flags.toString(16)} conflict with the attribute type`,
          attrData(buf, start, vEnd),
        ),
      );
      flagsBad = true;
      if (code !== AttrType.MP_REACH_NLRI && code !== AttrType.MP_UNREACH_NLRI) continue;
    }

    if ((code === AttrType.AS4_PATH || code === AttrType.AS4_AGGREGATOR) && ctx.fourOctetAs) {
      // RFC 6793 §6: between NEW speakers these attributes must not appear; drop and log.
      record(
        st,
        updateError(
          UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR,
          'attribute-discard',
          `${d.name} received over a 4-octet AS session; ignored`,
          attrData(buf, start, vEnd),
        ),
      );
      continue;
    }

    if (code === AttrType.NEXT_HOP) {
      st.nextHopStart = start;
      st.nextHopEnd = vEnd;
    }
    try {
      d.decode(buf, vStart, vEnd, ctx, out);
    } catch (e) {
      if (!(e instanceof AttrFault)) throw e;
      const action: ErrorAction = e.action ?? d.action;
      record(
        st,
        updateError(
          e.subcode,
          flagsBad ? strongerAction(action, 'treat-as-withdraw') : action,
          e.reason,
          attrData(buf, start, vEnd),
        ),
      );
      continue;
    }

    if (code === AttrType.AS4_PATH && out.as4Path !== undefined) stripConfed(out, st, buf, start, vEnd);
  }
  if (unknown !== undefined) out.unknown = unknown;
}

/**
 * RFC 6793 §6: confederation segments in AS4_PATH are dropped (the rest of the attribute stands)
 * and the event logged.
 */
function stripConfed(
  out: MutablePathAttributes,
  st: Outcome,
  buf: Uint8Array,
  start: number,
  end: number,
): void {
  const path = out.as4Path ?? [];
  if (!path.some((s) => s.type === 3 || s.type === 4)) return;
  out.as4Path = path.filter((s) => s.type === 1 || s.type === 2);
  record(
    st,
    updateError(
      UpdateSubcode.MALFORMED_AS_PATH,
      'attribute-discard',
      'AS4_PATH carried confederation segments; they were dropped',
      attrData(buf, start, end),
    ),
  );
}

// ===== Error helpers for the session =====

/**
 * The AFI/SAFI an AFI/SAFI-disable error is about, read from its data (the MP attribute as
 * received); undefined when the error is not about an MP attribute.
 */
export function errorAfiSafi(e: BgpDecodeError): AfiSafi | undefined {
  const d = e.data;
  if (d.length < 3) return undefined;
  const code = d[1] as number;
  if (code !== AttrType.MP_REACH_NLRI && code !== AttrType.MP_UNREACH_NLRI) return undefined;
  const h = (d[0] as number) & AttrFlag.EXTENDED_LENGTH ? 4 : 3;
  if (d.length < h + 3) return undefined;
  return { afi: ((d[h] as number) << 8) | (d[h + 1] as number), safi: d[h + 2] as number };
}
