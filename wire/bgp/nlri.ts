// NLRI prefix encoding for IPv4 and IPv6 (RFC 4271 §4.3 "Network Layer Reachability
// Information", RFC 4760 §5 for the MP attributes) with RFC 7911 §3 path identifiers.
//
// Decoders read straight from the bytes into `Prefix4` numbers and `Prefix6` objects: no
// subarrays, no intermediate buffers. They report a failure as a short reason string and leave
// the RFC 7606 §5.3 decision (session reset for the UPDATE's own fields, AFI/SAFI disable for the
// MP attributes) to the caller, which alone knows which field it was parsing.

import { mask6Word, Prefix6, isPrefix4, type Prefix, type Prefix4 } from '../ip/index.js';

//  +---------------------------+
//  |   Path Identifier (4)     |   only when ADD-PATH applies (RFC 7911 §3)
//  +---------------------------+
//  |   Length (1 octet, bits)  |
//  +---------------------------+
//  |   Prefix (variable)       |   ceil(Length / 8) octets, trailing bits irrelevant
//  +---------------------------+

// ===== Sizes =====

/** Bytes of one IPv4 prefix on the wire (length octet + minimal address bytes). */
export function prefix4WireLength(p: Prefix4): number {
  return 1 + (((p & 63) + 7) >> 3);
}

/** Bytes of one prefix of either family on the wire, without a path identifier. */
export function prefixWireLength(p: Prefix): number {
  return isPrefix4(p) ? 1 + (((p & 63) + 7) >> 3) : 1 + ((p.len + 7) >> 3);
}

/** Bytes of a list of prefixes, with 4 more per prefix when `addPath`. */
export function nlriLength(prefixes: readonly Prefix[], addPath: boolean): number {
  let n = addPath ? 4 * prefixes.length : 0;
  for (let i = 0; i < prefixes.length; i++) n += prefixWireLength(prefixes[i] as Prefix);
  return n;
}

// ===== Encoding =====

/** Write one IPv4 prefix at `off`; returns the offset after it. */
export function writePrefix4(p: Prefix4, buf: Uint8Array, off: number): number {
  const len = p & 63;
  // p / 64 is addr + len/64; the unsigned shift drops the fraction.
  const a = (p / 64) >>> 0;
  buf[off++] = len;
  if (len > 0) buf[off++] = a >>> 24;
  if (len > 8) buf[off++] = (a >>> 16) & 255;
  if (len > 16) buf[off++] = (a >>> 8) & 255;
  if (len > 24) buf[off++] = a & 255;
  return off;
}

/** Write one IPv6 prefix at `off`; returns the offset after it. */
export function writePrefix6(p: Prefix6, buf: Uint8Array, off: number): number {
  const len = p.len;
  buf[off++] = len;
  const n = (len + 7) >> 3;
  for (let i = 0; i < n; i++) {
    const w = i < 4 ? p.w0 : i < 8 ? p.w1 : i < 12 ? p.w2 : p.w3;
    buf[off++] = (w >>> (24 - 8 * (i & 3))) & 255;
  }
  return off;
}

/** Write a prefix list, each preceded by its path identifier when `addPath` (missing ids are 0). */
export function encodeNlri(
  prefixes: readonly Prefix[],
  pathIds: readonly number[] | undefined,
  addPath: boolean,
  buf: Uint8Array,
  off: number,
): number {
  for (let i = 0; i < prefixes.length; i++) {
    if (addPath) off = writeId(pathIds?.[i] ?? 0, buf, off);
    const p = prefixes[i] as Prefix;
    off = isPrefix4(p) ? writePrefix4(p, buf, off) : writePrefix6(p, buf, off);
  }
  return off;
}

function writeId(id: number, buf: Uint8Array, off: number): number {
  buf[off] = id >>> 24;
  buf[off + 1] = (id >>> 16) & 255;
  buf[off + 2] = (id >>> 8) & 255;
  buf[off + 3] = id & 255;
  return off + 4;
}

// ===== Decoding =====

function readId(buf: Uint8Array, o: number): number {
  return (
    (buf[o] as number) * 0x1000000 +
    (((buf[o + 1] as number) << 16) | ((buf[o + 2] as number) << 8) | (buf[o + 3] as number))
  );
}

/**
 * Decode IPv4 prefixes from `buf[off, end)` onto `out` (and their path identifiers onto `ids`
 * when `ids` is given). Returns undefined on success, or why the field cannot be parsed.
 *
 * Host bits set below the prefix length are accepted and cleared: RFC 4271 §4.3 says the value
 * of the trailing bits is irrelevant, so a sender that leaves garbage there is still correct.
 */
export function decodeNlri4(
  buf: Uint8Array,
  off: number,
  end: number,
  out: Prefix4[],
  ids: number[] | undefined,
): string | undefined {
  let o = off;
  while (o < end) {
    if (ids !== undefined) {
      if (end - o < 5) return `path identifier and length at byte ${o - off} truncated`;
      ids.push(readId(buf, o));
      o += 4;
    }
    const len = buf[o] as number;
    if (len > 32) return `IPv4 prefix length ${len} above 32 at byte ${o - off}`;
    const n = (len + 7) >> 3;
    if (o + 1 + n > end)
      return `IPv4 prefix /${len} at byte ${o - off} needs ${n} bytes, ${end - o - 1} left`;
    let a = 0;
    switch (n) {
      case 4:
        a =
          ((buf[o + 1] as number) << 24) |
          ((buf[o + 2] as number) << 16) |
          ((buf[o + 3] as number) << 8) |
          (buf[o + 4] as number);
        break;
      case 3:
        a = ((buf[o + 1] as number) << 24) | ((buf[o + 2] as number) << 16) | ((buf[o + 3] as number) << 8);
        break;
      case 2:
        a = ((buf[o + 1] as number) << 24) | ((buf[o + 2] as number) << 16);
        break;
      case 1:
        a = (buf[o + 1] as number) << 24;
        break;
      default:
        a = 0;
    }
    const mask = len === 0 ? 0 : -1 << (32 - len);
    out.push((((a & mask) >>> 0) * 64 + len) as Prefix4);
    o += 1 + n;
  }
  return undefined;
}

/** Decode IPv6 prefixes from `buf[off, end)` onto `out`; as `decodeNlri4`, host bits are cleared. */
export function decodeNlri6(
  buf: Uint8Array,
  off: number,
  end: number,
  out: Prefix[],
  ids: number[] | undefined,
): string | undefined {
  let o = off;
  while (o < end) {
    if (ids !== undefined) {
      if (end - o < 5) return `path identifier and length at byte ${o - off} truncated`;
      ids.push(readId(buf, o));
      o += 4;
    }
    const len = buf[o] as number;
    if (len > 128) return `IPv6 prefix length ${len} above 128 at byte ${o - off}`;
    const n = (len + 7) >> 3;
    if (o + 1 + n > end)
      return `IPv6 prefix /${len} at byte ${o - off} needs ${n} bytes, ${end - o - 1} left`;
    const s = o + 1;
    const w0 = word(buf, s, n, 0);
    const w1 = word(buf, s, n, 4);
    const w2 = word(buf, s, n, 8);
    const w3 = word(buf, s, n, 12);
    out.push(
      new Prefix6(
        (w0 & mask6Word(len, 0)) >>> 0,
        (w1 & mask6Word(len, 1)) >>> 0,
        (w2 & mask6Word(len, 2)) >>> 0,
        (w3 & mask6Word(len, 3)) >>> 0,
        len,
      ),
    );
    o = s + n;
  }
  return undefined;
}

/** Word starting at byte `at` of an `n`-byte prefix field; bytes past `n` read as zero. */
function word(buf: Uint8Array, s: number, n: number, at: number): number {
  if (at >= n) return 0;
  let w = 0;
  for (let i = 0; i < 4; i++) w = (w << 8) | (at + i < n ? (buf[s + at + i] as number) : 0);
  return w >>> 0;
}
