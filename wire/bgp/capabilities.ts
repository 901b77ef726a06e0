// BGP capabilities carried in the OPEN message's Capabilities optional parameter.
//
// RFC 5492 §4 (TLV), RFC 4760 §8 (multiprotocol), RFC 2918 §2 (route refresh), RFC 8950 §3
// (extended next hop), RFC 8654 §3 (extended message), RFC 9234 §4.1 (BGP role), RFC 4724 §3 and
// RFC 8538 §2 (graceful restart), RFC 6793 §3 (4-octet AS), RFC 7911 §4 (ADD-PATH), RFC 7313 §4
// (enhanced route refresh), RFC 9494 §2 (long-lived graceful restart), draft-walton-bgp-hostname
// -capability (FQDN). One descriptor row per capability; unknown codes are kept as raw bytes.

import { writeU16, writeU32, type Reader } from '../reader.js';
import { CapabilityCode, ErrorCode } from './constants.js';
import { BgpDecodeError } from './errors.js';
import type { Capability } from './types.js';

//  +------------------------------+
//  | Capability Code (1 octet)    |
//  +------------------------------+
//  | Capability Length (1 octet)  |
//  +------------------------------+
//  | Capability Value (variable)  |
//  ~                              ~
//  +------------------------------+

// ===== Descriptor table =====

type KnownKind = Exclude<Capability['kind'], 'unknown'>;
type CapOf<K extends Capability['kind']> = Extract<Capability, { readonly kind: K }>;

interface Descriptor<K extends KnownKind> {
  readonly code: number;
  /** Bytes of the value (after code and length). */
  valueLength(c: CapOf<K>): number;
  /** Write the value at `off`; returns the offset after it. */
  encodeValue(c: CapOf<K>, buf: Uint8Array, off: number): number;
  /** Read the value from a reader over exactly its bytes; throws `BgpDecodeError` when malformed. */
  decodeValue(r: Reader): CapOf<K>;
}

/** A capability value that does not have the shape its code requires (RFC 5492 leaves the subcode open). */
function malformed(code: number, reason: string): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.OPEN_MESSAGE, 0, 'session-reset', `capability ${code}: ${reason}`);
}

/** Check that a list capability's value is a whole number of entries. */
function entries(r: Reader, code: number, size: number, header = 0): number {
  const body = r.left - header;
  if (body < 0 || body % size !== 0) {
    throw malformed(code, `value of ${r.left} bytes is not ${header} + n × ${size}`);
  }
  return body / size;
}

function fixed(r: Reader, code: number, n: number): void {
  if (r.left !== n) throw malformed(code, `value is ${r.left} bytes, must be ${n}`);
}

function empty<K extends 'route-refresh' | 'enhanced-route-refresh' | 'extended-message'>(
  code: number,
  kind: K,
): Descriptor<K> {
  const value = { kind } as CapOf<K>;
  return {
    code,
    valueLength: () => 0,
    encodeValue: (_c, _buf, off) => off,
    decodeValue: (r) => {
      fixed(r, code, 0);
      return value;
    },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function writeShortString(s: string, buf: Uint8Array, off: number): number {
  const n = utf8Length(s);
  if (n > 255) throw new RangeError(`string of ${n} bytes does not fit a 1-octet length`);
  buf[off] = n;
  utf8Encoder.encodeInto(s, buf.subarray(off + 1, off + 1 + n));
  return off + 1 + n;
}

/** One row per capability we interpret, keyed by kind. */
const DESCRIPTORS: { readonly [K in KnownKind]: Descriptor<K> } = {
  //  AFI (2) | Reserved (1) | SAFI (1)
  multiprotocol: {
    code: CapabilityCode.MULTIPROTOCOL,
    valueLength: () => 4,
    encodeValue: (c, buf, off) => {
      writeU16(buf, off, c.afi);
      buf[off + 2] = 0;
      buf[off + 3] = c.safi;
      return off + 4;
    },
    decodeValue: (r) => {
      fixed(r, CapabilityCode.MULTIPROTOCOL, 4);
      const afi = r.u16();
      r.skip(1);
      return { kind: 'multiprotocol', afi, safi: r.u8() };
    },
  },
  'route-refresh': empty(CapabilityCode.ROUTE_REFRESH, 'route-refresh'),
  'enhanced-route-refresh': empty(CapabilityCode.ENHANCED_ROUTE_REFRESH, 'enhanced-route-refresh'),
  'extended-message': empty(CapabilityCode.EXTENDED_MESSAGE, 'extended-message'),
  //  { NLRI AFI (2) | NLRI SAFI (2) | Nexthop AFI (2) } …
  'extended-next-hop': {
    code: CapabilityCode.EXTENDED_NEXT_HOP,
    valueLength: (c) => c.entries.length * 6,
    encodeValue: (c, buf, off) => {
      for (const e of c.entries) {
        off = writeU16(buf, off, e.afi);
        off = writeU16(buf, off, e.safi);
        off = writeU16(buf, off, e.nextHopAfi);
      }
      return off;
    },
    decodeValue: (r) => {
      const n = entries(r, CapabilityCode.EXTENDED_NEXT_HOP, 6);
      const list: { afi: number; safi: number; nextHopAfi: number }[] = [];
      for (let i = 0; i < n; i++) list.push({ afi: r.u16(), safi: r.u16(), nextHopAfi: r.u16() });
      return { kind: 'extended-next-hop', entries: list };
    },
  },
  //  Role (1)
  'bgp-role': {
    code: CapabilityCode.BGP_ROLE,
    valueLength: () => 1,
    encodeValue: (c, buf, off) => {
      buf[off] = c.role;
      return off + 1;
    },
    decodeValue: (r) => {
      fixed(r, CapabilityCode.BGP_ROLE, 1);
      return { kind: 'bgp-role', role: r.u8() };
    },
  },
  //  R | N | rsvd (2 bits) | Restart Time (12 bits), then { AFI (2) | SAFI (1) | F | rsvd (7 bits) } …
  'graceful-restart': {
    code: CapabilityCode.GRACEFUL_RESTART,
    valueLength: (c) => 2 + c.families.length * 4,
    encodeValue: (c, buf, off) => {
      off = writeU16(
        buf,
        off,
        (c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | (c.restartTime & 0x0fff),
      );
      for (const f of c.families) {
        off = writeU16(buf, off, f.afi);
        buf[off++] = f.safi;
        buf[off++] = f.forwardingPreserved ? 0x80 : 0;
      }
      return off;
    },
    decodeValue: (r) => {
      const n = entries(r, CapabilityCode.GRACEFUL_RESTART, 4, 2);
      const head = r.u16();
      const families: { afi: number; safi: number; forwardingPreserved: boolean }[] = [];
      for (let i = 0; i < n; i++) {
        const afi = r.u16();
        const safi = r.u8();
        families.push({ afi, safi, forwardingPreserved: (r.u8() & 0x80) !== 0 });
      }
      return {
        kind: 'graceful-restart',
        restarting: (head & 0x8000) !== 0,
        notification: (head & 0x4000) !== 0,
        restartTime: head & 0x0fff,
        families,
      };
    },
  },
  //  ASN (4)
  'four-octet-as': {
    code: CapabilityCode.FOUR_OCTET_AS,
    valueLength: () => 4,
    encodeValue: (c, buf, off) => writeU32(buf, off, c.asn),
    decodeValue: (r) => {
      fixed(r, CapabilityCode.FOUR_OCTET_AS, 4);
      return { kind: 'four-octet-as', asn: r.u32() };
    },
  },
  //  { AFI (2) | SAFI (1) | Send/Receive (1) } …
  'add-path': {
    code: CapabilityCode.ADD_PATH,
    valueLength: (c) => c.entries.length * 4,
    encodeValue: (c, buf, off) => {
      for (const e of c.entries) {
        off = writeU16(buf, off, e.afi);
        buf[off++] = e.safi;
        buf[off++] = e.sendReceive;
      }
      return off;
    },
    decodeValue: (r) => {
      const n = entries(r, CapabilityCode.ADD_PATH, 4);
      const list: { afi: number; safi: number; sendReceive: number }[] = [];
      for (let i = 0; i < n; i++) list.push({ afi: r.u16(), safi: r.u8(), sendReceive: r.u8() });
      return { kind: 'add-path', entries: list };
    },
  },
  //  { AFI (2) | SAFI (1) | F | rsvd (7 bits) | Long-lived Stale Time (3) } …
  'long-lived-graceful-restart': {
    code: CapabilityCode.LONG_LIVED_GRACEFUL_RESTART,
    valueLength: (c) => c.families.length * 7,
    encodeValue: (c, buf, off) => {
      for (const f of c.families) {
        off = writeU16(buf, off, f.afi);
        buf[off++] = f.safi;
        buf[off++] = f.forwardingPreserved ? 0x80 : 0;
        buf[off++] = (f.staleTime >>> 16) & 255;
        off = writeU16(buf, off, f.staleTime & 0xffff);
      }
      return off;
    },
    decodeValue: (r) => {
      const n = entries(r, CapabilityCode.LONG_LIVED_GRACEFUL_RESTART, 7);
      const families: { afi: number; safi: number; forwardingPreserved: boolean; staleTime: number }[] = [];
      for (let i = 0; i < n; i++) {
        const afi = r.u16();
        const safi = r.u8();
        const forwardingPreserved = (r.u8() & 0x80) !== 0;
        const staleTime = r.u8() * 65536 + r.u16();
        families.push({ afi, safi, forwardingPreserved, staleTime });
      }
      return { kind: 'long-lived-graceful-restart', families };
    },
  },
  //  Hostname Length (1) | Hostname | Domain Name Length (1) | Domain Name
  fqdn: {
    code: CapabilityCode.FQDN,
    valueLength: (c) => 2 + utf8Length(c.hostname) + utf8Length(c.domain),
    encodeValue: (c, buf, off) => writeShortString(c.domain, buf, writeShortString(c.hostname, buf, off)),
    decodeValue: (r) => {
      const hostname = utf8.decode(r.bytes(r.u8()));
      const domain = utf8.decode(r.bytes(r.u8()));
      if (r.left !== 0) throw malformed(CapabilityCode.FQDN, `${r.left} bytes after the domain name`);
      return { kind: 'fqdn', hostname, domain };
    },
  },
};

const KIND_BY_CODE = new Map<number, KnownKind>(
  (Object.keys(DESCRIPTORS) as KnownKind[]).map((k) => [DESCRIPTORS[k].code, k]),
);

function descriptor(kind: KnownKind): Descriptor<KnownKind> {
  return DESCRIPTORS[kind] as unknown as Descriptor<KnownKind>;
}

// ===== Codec =====

/** The capability code a capability is sent with. */
export function capabilityCode(c: Capability): number {
  return c.kind === 'unknown' ? c.code : descriptor(c.kind).code;
}

function valueLength(c: Capability): number {
  const n = c.kind === 'unknown' ? c.data.length : descriptor(c.kind).valueLength(c);
  if (n > 255) throw new RangeError(`capability ${capabilityCode(c)} value of ${n} bytes exceeds 255`);
  return n;
}

/** Bytes one capability takes, code and length octets included. */
export function encodingLengthCapability(c: Capability): number {
  return 2 + valueLength(c);
}

/** Write one capability TLV at `off`; returns the offset after it. */
export function encodeCapability(c: Capability, buf: Uint8Array, off: number): number {
  buf[off] = capabilityCode(c);
  buf[off + 1] = valueLength(c);
  if (c.kind === 'unknown') {
    buf.set(c.data, off + 2);
    return off + 2 + c.data.length;
  }
  return descriptor(c.kind).encodeValue(c, buf, off + 2);
}

/**
 * Read one capability TLV from the reader. Throws `BgpDecodeError` for a known capability of the
 * wrong shape, `ReadOutOfBounds` when the TLV overruns its parameter. An FQDN capability that
 * is not well-formed UTF-8 is kept as `unknown`: it is informational and peers vary.
 */
export function decodeCapability(r: Reader): Capability {
  const code = r.u8();
  const value = r.sub(r.u8());
  const kind = KIND_BY_CODE.get(code);
  if (kind === undefined) return { kind: 'unknown', code, data: value.bytes(value.left) };
  if (kind === 'fqdn') {
    const start = value.off;
    try {
      return descriptor(kind).decodeValue(value);
    } catch {
      return { kind: 'unknown', code, data: value.buf.subarray(start, value.end) };
    }
  }
  return descriptor(kind).decodeValue(value);
}
