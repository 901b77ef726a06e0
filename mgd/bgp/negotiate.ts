// OPEN checks and capability negotiation for one BGP session (RFC 4271 §6.2, RFC 5492 §3,
// RFC 4760 §8, RFC 6793 §4, RFC 6286 §2.2, RFC 7911 §4, RFC 8654 §3, RFC 8950 §4, RFC 9234 §4.2,
// RFC 4724 §3, RFC 2918 / 7313).
//
// Pure: from our settings and the peer's decoded OPEN, either the negotiated session parameters
// (including the codec contexts for each direction) or the NOTIFICATION that refuses the peer.

import {
  AFISAFI_IPV4_UNICAST,
  afiSafiKey,
  AS_TRANS,
  BgpRole,
  CapabilityCode,
  ErrorCode,
  OpenSubcode,
} from '../../wire/bgp/constants.js';
import type { Capability, CodecContext, OpenMessage } from '../../wire/bgp/types.js';
import { err, ok, type Result } from '../../wire/result.js';

// ===== Inputs =====

/** ADD-PATH wishes per family (RFC 7911): send paths, receive paths, or both. */
export type AddPathMode = 'send' | 'receive' | 'both';

/** What we offer on a session. */
export interface LocalSessionSettings {
  readonly asn: number;
  readonly bgpId: number;
  readonly holdTime: number;
  /** AFI/SAFI keys (afiSafiKey) we want to exchange. */
  readonly families: readonly number[];
  /** The peer's ASN as configured; undefined accepts any (e.g. dynamic neighbours). */
  readonly peerAsn?: number;
  readonly extendedMessage: boolean;
  readonly enhancedRouteRefresh: boolean;
  /** AFI/SAFI keys of IPv4 families we carry over IPv6 next hops (RFC 8950). */
  readonly extendedNextHop: readonly number[];
  readonly addPath: ReadonlyMap<number, AddPathMode>;
  /** Advertise graceful restart (receiving-speaker support) with this restart time; undefined = off. */
  readonly gracefulRestartTime?: number;
  /** RFC 9234 role; `strictRole` refuses peers that announce none. */
  readonly role?: number;
  readonly strictRole?: boolean;
  /** Advertised in the FQDN capability, for operators reading the peer's side. */
  readonly hostname?: string;
}

// ===== Outputs =====

export interface PeerGracefulRestart {
  readonly restartTime: number;
  readonly restarting: boolean;
  readonly notification: boolean;
  /** AFI/SAFI keys with their forwarding-preserved bit. */
  readonly families: ReadonlyMap<number, boolean>;
}

export interface NegotiatedSession {
  readonly peerAsn: number;
  readonly peerBgpId: number;
  readonly ibgp: boolean;
  readonly peerHoldTime: number;
  /** Families both sides carry. */
  readonly families: ReadonlySet<number>;
  readonly fourOctetAs: boolean;
  readonly extendedMessage: boolean;
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  readonly extendedNextHop: ReadonlySet<number>;
  /** Families whose NLRI we receive with path identifiers. */
  readonly addPathRx: ReadonlySet<number>;
  /** Families whose NLRI we send with path identifiers. */
  readonly addPathTx: ReadonlySet<number>;
  readonly gracefulRestart?: PeerGracefulRestart;
  readonly peerRole?: number;
  readonly peerHostname?: string;
  /** Codec context for decoding what the peer sends. */
  readonly rx: CodecContext;
  /** Codec context for encoding what we send. */
  readonly tx: CodecContext;
}

/** A refusal: the NOTIFICATION to send and why. */
export interface OpenRefusal {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly why: string;
}

// ===== Our OPEN =====

/** The capabilities we advertise for these settings. */
export function localCapabilities(l: LocalSessionSettings): Capability[] {
  const caps: Capability[] = [];
  for (const key of l.families) caps.push({ kind: 'multiprotocol', afi: key >> 8, safi: key & 255 });
  caps.push({ kind: 'route-refresh' });
  if (l.enhancedRouteRefresh) caps.push({ kind: 'enhanced-route-refresh' });
  caps.push({ kind: 'four-octet-as', asn: l.asn });
  if (l.extendedMessage) caps.push({ kind: 'extended-message' });
  if (l.extendedNextHop.length > 0) {
    caps.push({
      kind: 'extended-next-hop',
      entries: l.extendedNextHop.map((k) => ({ afi: k >> 8, safi: k & 255, nextHopAfi: 2 })),
    });
  }
  if (l.addPath.size > 0) {
    caps.push({
      kind: 'add-path',
      entries: [...l.addPath].map(([k, mode]) => ({
        afi: k >> 8,
        safi: k & 255,
        sendReceive: mode === 'receive' ? 1 : mode === 'send' ? 2 : 3,
      })),
    });
  }
  if (l.gracefulRestartTime !== undefined) {
    caps.push({
      kind: 'graceful-restart',
      restarting: false,
      notification: true,
      restartTime: l.gracefulRestartTime,
      // We are a receiving speaker only: no family claims preserved forwarding (RFC 4724 §3).
      families: [],
    });
  }
  if (l.role !== undefined) caps.push({ kind: 'bgp-role', role: l.role });
  if (l.hostname !== undefined) caps.push({ kind: 'fqdn', hostname: l.hostname, domain: '' });
  return caps;
}

/** The 2-octet My AS field for an ASN (RFC 6793 §4.1: AS_TRANS when it does not fit). */
export function myAsField(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

// ===== Negotiation =====

const NONE = new Uint8Array(0);

function refuse(subcode: number, why: string, data: Uint8Array = NONE): Result<never, OpenRefusal> {
  return err({ code: ErrorCode.OPEN_MESSAGE, subcode, data, why });
}

/** RFC 9234 §4.2: the role pairs that may peer. */
function rolesMatch(local: number, peer: number): boolean {
  switch (local) {
    case BgpRole.PROVIDER:
      return peer === BgpRole.CUSTOMER;
    case BgpRole.CUSTOMER:
      return peer === BgpRole.PROVIDER;
    case BgpRole.RS:
      return peer === BgpRole.RS_CLIENT;
    case BgpRole.RS_CLIENT:
      return peer === BgpRole.RS;
    case BgpRole.PEER:
      return peer === BgpRole.PEER;
    default:
      return false;
  }
}

/** Check the peer's OPEN against our settings and work out what the session carries. */
export function negotiate(
  local: LocalSessionSettings,
  open: OpenMessage,
): Result<NegotiatedSession, OpenRefusal> {
  const caps: Capability[] = [];
  for (const p of open.params) if (p.kind === 'capabilities') caps.push(...p.capabilities);
  const has = (kind: Capability['kind']) => caps.some((c) => c.kind === kind);

  // RFC 6793 §4.1: the real ASN comes from the capability; My AS must then be it or AS_TRANS.
  const as4 = caps.find(
    (c): c is Extract<Capability, { kind: 'four-octet-as' }> => c.kind === 'four-octet-as',
  );
  const peerAsn = as4 !== undefined ? as4.asn : open.myAs;
  if (as4 !== undefined && open.myAs !== AS_TRANS && open.myAs !== as4.asn) {
    return refuse(
      OpenSubcode.BAD_PEER_AS,
      `My AS ${open.myAs} disagrees with the 4-octet AS capability ${as4.asn}`,
    );
  }
  if (peerAsn === 0 || (as4 === undefined && open.myAs === AS_TRANS)) {
    return refuse(OpenSubcode.BAD_PEER_AS, `peer AS ${peerAsn} is not a usable AS number`);
  }
  if (local.peerAsn !== undefined && peerAsn !== local.peerAsn) {
    return refuse(OpenSubcode.BAD_PEER_AS, `peer says AS ${peerAsn}, configured AS ${local.peerAsn}`);
  }
  const ibgp = peerAsn === local.asn;

  // RFC 4271 §6.2 / RFC 6286 §2.2.
  if (open.holdTime === 1 || open.holdTime === 2) {
    return refuse(OpenSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${open.holdTime} s is below 3 s`);
  }
  if (open.bgpId === 0 || (ibgp && open.bgpId === local.bgpId)) {
    return refuse(
      OpenSubcode.BAD_BGP_IDENTIFIER,
      open.bgpId === 0 ? 'BGP identifier 0' : 'BGP identifier equals ours on an iBGP session',
    );
  }

  // RFC 4760 §8: no multiprotocol capability at all means IPv4 unicast only.
  const peerFamilies = new Set<number>();
  for (const c of caps) if (c.kind === 'multiprotocol') peerFamilies.add(afiSafiKey(c.afi, c.safi));
  if (peerFamilies.size === 0) peerFamilies.add(AFISAFI_IPV4_UNICAST);
  const families = new Set(local.families.filter((k) => peerFamilies.has(k)));
  if (families.size === 0) {
    return refuse(
      OpenSubcode.UNSUPPORTED_CAPABILITY,
      'no address family in common',
      mpCapabilityData(local.families),
    );
  }

  // RFC 9234 §4.2.
  const roleCap = caps.find((c): c is Extract<Capability, { kind: 'bgp-role' }> => c.kind === 'bgp-role');
  if (local.role !== undefined) {
    if (roleCap !== undefined && !rolesMatch(local.role, roleCap.role)) {
      return refuse(
        OpenSubcode.ROLE_MISMATCH,
        `our role ${local.role} cannot peer with role ${roleCap.role}`,
      );
    }
    if (roleCap === undefined && local.strictRole === true) {
      return refuse(OpenSubcode.ROLE_MISMATCH, 'strict role mode and the peer announced no role');
    }
  }

  // RFC 7911 §4: we send path ids where we may send and the peer may receive, and vice versa.
  const addPathRx = new Set<number>();
  const addPathTx = new Set<number>();
  for (const c of caps) {
    if (c.kind !== 'add-path') continue;
    for (const e of c.entries) {
      const k = afiSafiKey(e.afi, e.safi);
      const mine = local.addPath.get(k);
      if (mine === undefined || !families.has(k)) continue;
      if ((e.sendReceive & 2) !== 0 && (mine === 'receive' || mine === 'both')) addPathRx.add(k);
      if ((e.sendReceive & 1) !== 0 && (mine === 'send' || mine === 'both')) addPathTx.add(k);
    }
  }

  // RFC 8950 §4: IPv4 over IPv6 next hops where both sides said so.
  const extendedNextHop = new Set<number>();
  for (const c of caps) {
    if (c.kind !== 'extended-next-hop') continue;
    for (const e of c.entries) {
      const k = afiSafiKey(e.afi, e.safi);
      if (e.nextHopAfi === 2 && local.extendedNextHop.includes(k)) extendedNextHop.add(k);
    }
  }

  const gr = caps.find(
    (c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart',
  );
  const fqdn = caps.find((c): c is Extract<Capability, { kind: 'fqdn' }> => c.kind === 'fqdn');
  const fourOctetAs = as4 !== undefined;
  const extendedMessage = local.extendedMessage && has('extended-message');

  const result: NegotiatedSession = {
    peerAsn,
    peerBgpId: open.bgpId,
    ibgp,
    peerHoldTime: open.holdTime,
    families,
    fourOctetAs,
    extendedMessage,
    routeRefresh: has('route-refresh') || has('enhanced-route-refresh'),
    enhancedRouteRefresh: local.enhancedRouteRefresh && has('enhanced-route-refresh'),
    extendedNextHop,
    addPathRx,
    addPathTx,
    ...(gr !== undefined
      ? {
          gracefulRestart: {
            restartTime: gr.restartTime,
            restarting: gr.restarting,
            notification: gr.notification,
            families: new Map(gr.families.map((f) => [afiSafiKey(f.afi, f.safi), f.forwardingPreserved])),
          },
        }
      : {}),
    ...(roleCap !== undefined ? { peerRole: roleCap.role } : {}),
    ...(fqdn !== undefined
      ? { peerHostname: fqdn.domain === '' ? fqdn.hostname : `${fqdn.hostname}.${fqdn.domain}` }
      : {}),
    rx: { fourOctetAs, extendedMessage, addPath: addPathRx },
    tx: { fourOctetAs, extendedMessage, addPath: addPathTx },
  };
  return ok(result);
}

/** NOTIFICATION data for Unsupported Capability: our multiprotocol capabilities (RFC 5492 §3). */
function mpCapabilityData(families: readonly number[]): Uint8Array {
  const out = new Uint8Array(families.length * 6);
  families.forEach((k, i) => {
    const o = i * 6;
    out[o] = CapabilityCode.MULTIPROTOCOL;
    out[o + 1] = 4;
    out[o + 2] = (k >> 8) >> 8;
    out[o + 3] = (k >> 8) & 255;
    out[o + 4] = 0;
    out[o + 5] = k & 255;
  });
  return out;
}
