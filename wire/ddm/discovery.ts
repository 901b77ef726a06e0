// The DDM discovery packet, byte-compatible with Oxide's Maghemite (ddm/src/discovery/mod.rs and
// runtime.rs at b0c192ae; serialised there with the `ispf` crate, big-endian).
//
// Discovery runs over UDP port 3549 (0xddd). Solicitations go to the link-local multicast group
// ff02::dd; advertisements answer them by unicast to the solicitor's link-local address.
//
// What Maghemite does, and what we do:
// - Version: it sends 2. It answers a solicitation whatever its version byte, and uses an
//   advertisement only if the version is 2 or 3, dropping others. We decode any version (the
//   four header bytes mean the same in all of them), send 2, answer every solicitation, and use
//   advertisements of version 2 or 3 (`isUsableAdvertisement`): we always speak exchange v2, which
//   a v3 Maghemite also serves, while a future version may not.
// - Flags: bit 0 solicit, bit 1 advertise, the rest reserved. It reads only those two bits and
//   acts on each that is set (both may be). We do the same, ignore reserved bits on receipt, and
//   send them as zero. Neither bit set is legal and means nothing to do.
// - Router kind: a u8 enum; any value other than 0 or 1 fails its parse and the packet is dropped.
//   Same here ('unknown-kind').
// - Hostname: a u8 length, then that many bytes, which must be valid UTF-8 (a parse failure
//   otherwise). No terminator, no padding. Its encoder writes the length as `len as u8`, so a name
//   over 255 bytes would go out with a wrapped length; we refuse to encode one. An empty name
//   parses there; we drop it ('empty-hostname') because hostnames are the path-vector elements
//   that loop detection compares, and an empty one cannot name a router.
// - Trailing bytes after the hostname are ignored by its parser. Same here, which leaves room for
//   later fields.
// - Short datagrams: its parser indexes past the end (a panic in the ispf revision we read); we
//   return 'truncated'.
// - Its receive buffer is 1,024 bytes; our largest packet is 4 + 255.

import { err, ok, type Result } from '../result.js';
import { DdmDecodeError } from './errors.js';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   version     |S A r r r r r r|  router kind  | hostname len  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           hostname                            :
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// (S is the least significant bit of the flags byte, A the next.)

// ===== Constants =====

/** UDP port of discovery, both directions. */
export const DDM_DISCOVERY_PORT = 0xddd;

/** Link-local multicast group solicitations are sent to. */
export const DDM_DISCOVERY_GROUP = 'ff02::dd';

/** The version we send. */
export const DDM_DISCOVERY_VERSION = 2;

/** Advertisement versions we use (Maghemite's set: 2 and its never-negotiated 3). */
export const DDM_USABLE_VERSIONS: readonly number[] = [2, 3];

/** Longest hostname the u8 length can carry, in UTF-8 bytes. */
export const DDM_HOSTNAME_MAX = 255;

const FLAG_SOLICIT = 0x01;
const FLAG_ADVERTISE = 0x02;

/** The router kind byte. */
export const DdmRouterKind = {
  SERVER: 0,
  TRANSIT: 1,
} as const;
export type DdmRouterKind = (typeof DdmRouterKind)[keyof typeof DdmRouterKind];

/** Names of the router kinds, as Maghemite prints them. */
export const DDM_ROUTER_KIND_NAMES = {
  [DdmRouterKind.SERVER]: 'server',
  [DdmRouterKind.TRANSIT]: 'transit',
} as const satisfies Record<DdmRouterKind, string>;

// ===== Type =====

/** A discovery packet. */
export interface DdmDiscovery {
  /** The version byte as received; we send `DDM_DISCOVERY_VERSION`. */
  readonly version: number;
  readonly solicit: boolean;
  readonly advertise: boolean;
  readonly kind: DdmRouterKind;
  readonly hostname: string;
}

// ===== Hostnames =====

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;

/** Why a hostname cannot be sent in a discovery packet, or undefined when it can. */
export function checkDdmHostname(hostname: string): string | undefined {
  if (hostname.length === 0) return 'the hostname is empty';
  if (LONE_SURROGATE.test(hostname)) return 'the hostname has an unpaired UTF-16 surrogate';
  const n = Buffer.byteLength(hostname, 'utf8');
  if (n > DDM_HOSTNAME_MAX) return `the hostname is ${n} bytes of UTF-8; at most ${DDM_HOSTNAME_MAX} fit`;
  return undefined;
}

// ===== Codec =====

/** Bytes the encoded packet takes. Throws RangeError on a hostname `checkDdmHostname` rejects. */
export function encodingLengthDdmDiscovery(p: DdmDiscovery): number {
  const problem = checkDdmHostname(p.hostname);
  if (problem !== undefined) throw new RangeError(problem);
  return 4 + Buffer.byteLength(p.hostname, 'utf8');
}

/** Write `p` at `off`; returns the offset after it. */
export function encodeDdmDiscovery(p: DdmDiscovery, buf: Uint8Array, off: number): number {
  const len = encodingLengthDdmDiscovery(p) - 4;
  buf[off] = p.version & 0xff;
  buf[off + 1] = (p.solicit ? FLAG_SOLICIT : 0) | (p.advertise ? FLAG_ADVERTISE : 0);
  buf[off + 2] = p.kind;
  buf[off + 3] = len;
  utf8.encodeInto(p.hostname, buf.subarray(off + 4, off + 4 + len));
  return off + 4 + len;
}

/** Decode the discovery packet in `buf[off, end)`; bytes after the hostname are ignored. */
export function decodeDdmDiscovery(
  buf: Uint8Array,
  off: number,
  end: number,
): Result<DdmDiscovery, DdmDecodeError> {
  const have = end - off;
  if (have < 4) return err(new DdmDecodeError('truncated', `${have} bytes, the header needs 4`));
  const version = buf[off] as number;
  const flags = buf[off + 1] as number;
  const kind = buf[off + 2] as number;
  const len = buf[off + 3] as number;
  if (kind !== DdmRouterKind.SERVER && kind !== DdmRouterKind.TRANSIT) {
    return err(new DdmDecodeError('unknown-kind', `router kind ${kind}`));
  }
  if (len === 0) return err(new DdmDecodeError('empty-hostname', 'hostname length 0'));
  if (have < 4 + len) {
    return err(new DdmDecodeError('truncated', `hostname length ${len}, ${have - 4} bytes follow`));
  }
  let hostname: string;
  try {
    hostname = utf8Strict.decode(buf.subarray(off + 4, off + 4 + len));
  } catch {
    return err(new DdmDecodeError('bad-hostname', 'the hostname is not valid UTF-8'));
  }
  return ok({
    version,
    solicit: (flags & FLAG_SOLICIT) !== 0,
    advertise: (flags & FLAG_ADVERTISE) !== 0,
    kind,
    hostname,
  });
}

// ===== Policy =====

/** A solicitation we send. */
export function ddmSolicitation(hostname: string, kind: DdmRouterKind): DdmDiscovery {
  return { version: DDM_DISCOVERY_VERSION, solicit: true, advertise: false, kind, hostname };
}

/** An advertisement we send in answer to a solicitation. */
export function ddmAdvertisement(hostname: string, kind: DdmRouterKind): DdmDiscovery {
  return { version: DDM_DISCOVERY_VERSION, solicit: false, advertise: true, kind, hostname };
}

/** True when a received advertisement may start or refresh a neighbour (see the header). */
export function isUsableAdvertisement(p: DdmDiscovery): boolean {
  return p.advertise && DDM_USABLE_VERSIONS.includes(p.version);
}

// ===== JSON rendering =====

/** The JSON form used by test vectors and the admin API. */
export interface DdmDiscoveryJson {
  readonly version: number;
  readonly solicit: boolean;
  readonly advertise: boolean;
  readonly kind: 'server' | 'transit';
  readonly hostname: string;
}

/** Render a discovery packet as JSON. */
export function ddmDiscoveryToJson(p: DdmDiscovery): DdmDiscoveryJson {
  return { ...p, kind: DDM_ROUTER_KIND_NAMES[p.kind] };
}

/** Parse the JSON form back (the inverse of `ddmDiscoveryToJson`). */
export function ddmDiscoveryFromJson(j: DdmDiscoveryJson): DdmDiscovery {
  return { ...j, kind: j.kind === 'server' ? DdmRouterKind.SERVER : DdmRouterKind.TRANSIT };
}
