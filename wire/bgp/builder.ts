// The UPDATE builder: packs many prefixes that share one attribute set into as few whole BGP
// messages as the size limit allows (RFC 4271 §4: 4096 bytes; RFC 8654: 65535 with the extended
// message capability), and builds withdrawals and End-of-RIB markers (RFC 4724 §2).
//
// IPv4 prefixes go in the traditional NLRI and Withdrawn Routes fields (or in MP_REACH when the
// attributes carry an AFI 1 MP_REACH, i.e. an IPv6 next hop per RFC 8950); IPv6 prefixes go in
// MP_REACH_NLRI / MP_UNREACH_NLRI, written first in the attribute section (RFC 7606 §5.1). The
// attribute bytes are encoded once per call and copied into each message; every message is one
// exactly-sized buffer, and prefixes are written straight into it.

import { isPrefix4, writeAddr6, type Prefix, type Prefix4 } from '../ip/index.js';
import {
  AFISAFI_IPV4_UNICAST,
  Afi,
  AttrFlag,
  AttrType,
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  Safi,
  afiSafiKey,
} from './constants.js';
import { OmitAttr, attributesLength, encodeAttributes, mpNextHopLength } from './attributes.js';
import { writePrefix4, writePrefix6 } from './nlri.js';
import type { CodecContext, MpReach, PathAttributes } from './types.js';

// ===== Message frame =====

/** Largest UPDATE the session allows. */
export function updateSizeLimit(ctx: CodecContext): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/**
 * A message buffer with its header written. `Buffer.allocUnsafe` draws small messages from
 * Node's slab pool, which is several times cheaper than a fresh zeroed buffer per message; every
 * caller writes each remaining byte. The result is a view into a shared slab: use it as a view
 * (write it, copy it), never its `.buffer`.
 */
function newMessage(length: number): Uint8Array {
  const m: Uint8Array = Buffer.allocUnsafe(length);
  m.fill(0xff, 0, 16);
  m[16] = length >>> 8;
  m[17] = length & 255;
  m[18] = MessageType.UPDATE;
  return m;
}

function w16(b: Uint8Array, o: number, v: number): number {
  b[o] = v >>> 8;
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

/** Bytes of one prefix on the wire, path identifier included. */
function size(p: Prefix, idLen: number): number {
  return idLen + 1 + (((isPrefix4(p) ? p & 63 : p.len) + 7) >> 3);
}

function writePrefix(p: Prefix, id: number, idLen: number, buf: Uint8Array, off: number): number {
  if (idLen !== 0) off = w32(buf, off, id);
  return isPrefix4(p) ? writePrefix4(p, buf, off) : writePrefix6(p, buf, off);
}

function familyOf(p: Prefix): number {
  return isPrefix4(p) ? Afi.IPV4 : Afi.IPV6;
}

/**
 * Index range `[from, to)` of `prefixes` holding the next run of family `afi` whose encoded size
 * fits (`fits(bytes)`); `to` stops at the first prefix that would not fit, so order is kept.
 */
function take(
  prefixes: readonly Prefix[],
  from: number,
  afi: number,
  idLen: number,
  fits: (bytes: number) => boolean,
): { to: number; bytes: number; count: number } {
  let bytes = 0;
  let count = 0;
  let i = from;
  for (; i < prefixes.length; i++) {
    const p = prefixes[i] as Prefix;
    if (familyOf(p) !== afi) continue;
    const s = size(p, idLen);
    if (!fits(bytes + s)) break;
    bytes += s;
    count++;
  }
  return { to: i, bytes, count };
}

function writeRun(
  prefixes: readonly Prefix[],
  pathIds: readonly number[] | undefined,
  from: number,
  to: number,
  afi: number,
  idLen: number,
  buf: Uint8Array,
  off: number,
): number {
  for (let i = from; i < to; i++) {
    const p = prefixes[i] as Prefix;
    if (familyOf(p) !== afi) continue;
    off = writePrefix(p, pathIds?.[i] ?? 0, idLen, buf, off);
  }
  return off;
}

function firstOf(prefixes: readonly Prefix[], from: number, afi: number): number {
  let i = from;
  while (i < prefixes.length && familyOf(prefixes[i] as Prefix) !== afi) i++;
  return i;
}

function tooLarge(what: string): Error {
  return new RangeError(`${what} leaves no room for a single prefix within the message size limit`);
}

// ===== Announcements =====

/**
 * The attribute section shared by the messages of one call: written in full into the first
 * message, then copied from there into the next ones.
 */
class SharedAttributes {
  private from: Uint8Array | undefined;
  private at = 0;
  readonly length: number;

  constructor(
    private readonly attrs: PathAttributes,
    private readonly ctx: CodecContext,
    private readonly omit: number,
  ) {
    this.length = attributesLength(attrs, ctx, omit);
  }

  /** Write the section at `off`; returns the offset after it. */
  write(buf: Uint8Array, off: number): number {
    if (this.from === undefined) {
      encodeAttributes(this.attrs, buf, off, this.ctx, this.omit);
      this.from = buf;
      this.at = off;
    } else {
      buf.set(this.from.subarray(this.at, this.at + this.length), off);
    }
    return off + this.length;
  }
}

/**
 * UPDATE messages (header included) announcing `prefixes` with `attrs`. IPv4 prefixes need
 * `attrs.nextHop` (or an AFI 1 `attrs.mpReach` for an IPv6 next hop); IPv6 prefixes need an AFI 2
 * `attrs.mpReach`, whose next hop is used and whose NLRI are ignored. `pathIds`, parallel to
 * `prefixes`, are written when the context has ADD-PATH for the family.
 */
export function buildAnnouncements(
  attrs: PathAttributes,
  prefixes: readonly Prefix[],
  ctx: CodecContext,
  pathIds?: readonly number[],
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const limit = updateSizeLimit(ctx);
  const mp = attrs.mpReach;
  if (firstOf(prefixes, 0, Afi.IPV4) < prefixes.length) {
    if (mp !== undefined && mp.afi === Afi.IPV4) {
      const shared = new SharedAttributes(attrs, ctx, OmitAttr.MP | OmitAttr.NEXT_HOP);
      packMpReach(mp, shared, prefixes, Afi.IPV4, ctx, limit, pathIds, out);
    } else {
      if (attrs.nextHop === undefined) throw new TypeError('announcing IPv4 prefixes needs attrs.nextHop');
      packTraditional(new SharedAttributes(attrs, ctx, OmitAttr.MP), prefixes, ctx, limit, pathIds, out);
    }
  }
  if (firstOf(prefixes, 0, Afi.IPV6) < prefixes.length) {
    if (mp === undefined || mp.afi !== Afi.IPV6) {
      throw new TypeError('announcing IPv6 prefixes needs an AFI 2 attrs.mpReach for the next hop');
    }
    const shared = new SharedAttributes(attrs, ctx, OmitAttr.MP | OmitAttr.NEXT_HOP);
    packMpReach(mp, shared, prefixes, Afi.IPV6, ctx, limit, pathIds, out);
  }
  return out;
}

function packTraditional(
  tmpl: SharedAttributes,
  prefixes: readonly Prefix[],
  ctx: CodecContext,
  limit: number,
  pathIds: readonly number[] | undefined,
  out: Uint8Array[],
): void {
  const idLen = ctx.addPath.has(AFISAFI_IPV4_UNICAST) ? 4 : 0;
  const fixed = HEADER_LENGTH + 4 + tmpl.length;
  const fits = (bytes: number): boolean => fixed + bytes <= limit;
  let i = firstOf(prefixes, 0, Afi.IPV4);
  while (i < prefixes.length) {
    const run = take(prefixes, i, Afi.IPV4, idLen, fits);
    if (run.count === 0) throw tooLarge('the attribute set');
    const m = newMessage(fixed + run.bytes);
    let o = w16(m, HEADER_LENGTH, 0);
    o = w16(m, o, tmpl.length);
    o = tmpl.write(m, o);
    writeRun(prefixes, pathIds, i, run.to, Afi.IPV4, idLen, m, o);
    out.push(m);
    i = firstOf(prefixes, run.to, Afi.IPV4);
  }
}

function mpHeaderLength(valueLength: number): number {
  return valueLength > 255 ? 4 : 3;
}

function writeAttrHeader(flags: number, code: number, len: number, buf: Uint8Array, off: number): number {
  if (len > 255) {
    buf[off] = flags | AttrFlag.EXTENDED_LENGTH;
    buf[off + 1] = code;
    return w16(buf, off + 2, len);
  }
  buf[off] = flags;
  buf[off + 1] = code;
  buf[off + 2] = len;
  return off + 3;
}

function packMpReach(
  mp: MpReach,
  tmpl: SharedAttributes,
  prefixes: readonly Prefix[],
  afi: number,
  ctx: CodecContext,
  limit: number,
  pathIds: readonly number[] | undefined,
  out: Uint8Array[],
): void {
  const safi = mp.safi;
  const idLen = ctx.addPath.has(afiSafiKey(afi, safi)) ? 4 : 0;
  const nhLen = mpNextHopLength(mp);
  const mpFixed = 5 + nhLen; // AFI, SAFI, next-hop length, next hop, reserved
  const fixed = HEADER_LENGTH + 4 + mpFixed + tmpl.length;
  const fits = (bytes: number): boolean => fixed + mpHeaderLength(mpFixed + bytes) + bytes <= limit;
  let i = firstOf(prefixes, 0, afi);
  while (i < prefixes.length) {
    const run = take(prefixes, i, afi, idLen, fits);
    if (run.count === 0) throw tooLarge('the attribute set');
    const vLen = mpFixed + run.bytes;
    const aLen = mpHeaderLength(vLen) + vLen + tmpl.length;
    const m = newMessage(HEADER_LENGTH + 4 + aLen);
    let o = w16(m, HEADER_LENGTH, 0);
    o = w16(m, o, aLen);
    o = writeAttrHeader(AttrFlag.OPTIONAL, AttrType.MP_REACH_NLRI, vLen, m, o);
    o = w16(m, o, afi);
    m[o++] = safi;
    m[o++] = nhLen;
    const nh = mp.nextHop;
    if (typeof nh === 'number') o = w32(m, o, nh);
    else {
      o = writeAddr6(nh, m, o);
      if (mp.nextHopLinkLocal !== undefined) o = writeAddr6(mp.nextHopLinkLocal, m, o);
    }
    m[o++] = 0;
    o = writeRun(prefixes, pathIds, i, run.to, afi, idLen, m, o);
    tmpl.write(m, o);
    out.push(m);
    i = firstOf(prefixes, run.to, afi);
  }
}

// ===== Withdrawals =====

/**
 * UPDATE messages (header included) withdrawing `prefixes`: IPv4 in Withdrawn Routes, IPv6 in
 * MP_UNREACH_NLRI (unicast). `pathIds` as for `buildAnnouncements`.
 */
export function buildWithdrawals(
  prefixes: readonly Prefix[],
  ctx: CodecContext,
  pathIds?: readonly number[],
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const limit = updateSizeLimit(ctx);
  const id4 = ctx.addPath.has(AFISAFI_IPV4_UNICAST) ? 4 : 0;
  const fixed4 = HEADER_LENGTH + 4;
  let i = firstOf(prefixes, 0, Afi.IPV4);
  while (i < prefixes.length) {
    const run = take(prefixes, i, Afi.IPV4, id4, (b) => fixed4 + b <= limit);
    if (run.count === 0) throw tooLarge('an empty UPDATE');
    const m = newMessage(fixed4 + run.bytes);
    const o = w16(m, HEADER_LENGTH, run.bytes);
    w16(m, writeRun(prefixes, pathIds, i, run.to, Afi.IPV4, id4, m, o), 0);
    out.push(m);
    i = firstOf(prefixes, run.to, Afi.IPV4);
  }
  const id6 = ctx.addPath.has(afiSafiKey(Afi.IPV6, Safi.UNICAST)) ? 4 : 0;
  const fixed6 = HEADER_LENGTH + 4 + 3;
  i = firstOf(prefixes, 0, Afi.IPV6);
  while (i < prefixes.length) {
    const run = take(prefixes, i, Afi.IPV6, id6, (b) => fixed6 + mpHeaderLength(3 + b) + b <= limit);
    if (run.count === 0) throw tooLarge('an empty UPDATE');
    const vLen = 3 + run.bytes;
    const aLen = mpHeaderLength(vLen) + vLen;
    const m = newMessage(HEADER_LENGTH + 4 + aLen);
    let o = w16(m, HEADER_LENGTH, 0);
    o = w16(m, o, aLen);
    o = writeAttrHeader(AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, vLen, m, o);
    o = w16(m, o, Afi.IPV6);
    m[o++] = Safi.UNICAST;
    writeRun(prefixes, pathIds, i, run.to, Afi.IPV6, id6, m, o);
    out.push(m);
    i = firstOf(prefixes, run.to, Afi.IPV6);
  }
  return out;
}

// ===== End-of-RIB (RFC 4724 §2) =====

/**
 * The End-of-RIB marker for a family: an empty UPDATE for IPv4 unicast, otherwise an UPDATE
 * holding only an empty MP_UNREACH_NLRI for the AFI/SAFI.
 */
export function endOfRib(afi: number, safi: number): Uint8Array {
  if (afi === Afi.IPV4 && safi === Safi.UNICAST) {
    const m = newMessage(HEADER_LENGTH + 4);
    m.fill(0, HEADER_LENGTH);
    return m;
  }
  const m = newMessage(HEADER_LENGTH + 4 + 6);
  let o = w16(m, HEADER_LENGTH, 0);
  o = w16(m, o, 6);
  o = writeAttrHeader(AttrFlag.OPTIONAL, AttrType.MP_UNREACH_NLRI, 3, m, o);
  o = w16(m, o, afi);
  m[o] = safi;
  return m;
}

/** True when an UPDATE body is an End-of-RIB marker; returns its AFI/SAFI key, or undefined. */
export function endOfRibFamily(msg: {
  readonly withdrawn: readonly Prefix4[];
  readonly nlri: readonly Prefix4[];
  readonly attrs: PathAttributes;
}): number | undefined {
  if (msg.withdrawn.length !== 0 || msg.nlri.length !== 0) return undefined;
  const a = msg.attrs;
  const keys = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  if (keys.length === 0) return AFISAFI_IPV4_UNICAST;
  const u = a.mpUnreach;
  if (
    keys.length === 1 &&
    u !== undefined &&
    (u.raw === undefined ? u.withdrawn.length === 0 : u.raw.length === 0)
  ) {
    return afiSafiKey(u.afi, u.safi);
  }
  return undefined;
}
