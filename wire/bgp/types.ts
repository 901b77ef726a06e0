// BGP message and attribute value types: what the decoders produce and the encoders take.
//
// RFC 4271 §4 (messages), RFC 4760 (MP_REACH/MP_UNREACH), RFC 6793 (AS4), RFC 7911 (path
// identifiers), RFC 5492 / 9072 (capabilities and extended optional parameters), RFC 7606
// (outcome of revised error handling). Prefixes are `wire/ip` integers and word objects.

import type { Addr4, Addr6, Prefix, Prefix4 } from '../ip/index.js';
import type { AsPathSegmentType, Origin } from './constants.js';
import type { BgpDecodeError } from './errors.js';

// ===== Session context =====

/**
 * What the session negotiated that changes how bytes are read and written. Codecs are told; they
 * never guess. `addPath` names the AFI/SAFI pairs (`afiSafiKey`) whose NLRI in *this direction*
 * carry 4-byte path identifiers (RFC 7911 §3).
 */
export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability: AS_PATH and AGGREGATOR carry 4-byte ASNs. */
  readonly fourOctetAs: boolean;
  /** Both sides advertised extended message (RFC 8654): messages up to 65535 bytes. */
  readonly extendedMessage: boolean;
  /** AFI/SAFI keys whose NLRI carry path identifiers in this direction. */
  readonly addPath: ReadonlySet<number>;
}

/** The context before OPENs are exchanged, and for a peer that supports nothing optional. */
export const DEFAULT_CONTEXT: CodecContext = {
  fourOctetAs: false,
  extendedMessage: false,
  addPath: new Set<number>(),
};

// ===== OPEN (RFC 4271 §4.2, RFC 5492, RFC 9072) =====

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

export type Capability =
  | ({ readonly kind: 'multiprotocol' } & AfiSafi)
  | { readonly kind: 'route-refresh' }
  | { readonly kind: 'enhanced-route-refresh' }
  | {
      readonly kind: 'extended-next-hop';
      readonly entries: readonly {
        readonly afi: number;
        readonly safi: number;
        readonly nextHopAfi: number;
      }[];
    }
  | { readonly kind: 'extended-message' }
  | { readonly kind: 'bgp-role'; readonly role: number }
  | {
      readonly kind: 'graceful-restart';
      /** R bit: the sender has restarted. */
      readonly restarting: boolean;
      /** N bit (RFC 8538): the sender supports graceful restart for NOTIFICATION. */
      readonly notification: boolean;
      /** Restart time in seconds (12 bits). */
      readonly restartTime: number;
      readonly families: readonly (AfiSafi & { readonly forwardingPreserved: boolean })[];
    }
  | { readonly kind: 'four-octet-as'; readonly asn: number }
  | {
      readonly kind: 'add-path';
      /** sendReceive: 1 receive, 2 send, 3 both (RFC 7911 §4). */
      readonly entries: readonly (AfiSafi & { readonly sendReceive: number })[];
    }
  | {
      readonly kind: 'long-lived-graceful-restart';
      readonly families: readonly (AfiSafi & {
        readonly forwardingPreserved: boolean;
        readonly staleTime: number;
      })[];
    }
  | { readonly kind: 'fqdn'; readonly hostname: string; readonly domain: string }
  | { readonly kind: 'unknown'; readonly code: number; readonly data: Uint8Array };

/** One optional parameter; capabilities keep their grouping so bytes re-encode as received. */
export type OptionalParameter =
  | { readonly kind: 'capabilities'; readonly capabilities: readonly Capability[] }
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

export interface OpenMessage {
  readonly type: 1;
  readonly version: number;
  /** My Autonomous System: the 2-octet field (AS_TRANS when the real ASN is above 65535). */
  readonly myAs: number;
  readonly holdTime: number;
  /** BGP Identifier as an unsigned 32-bit integer. */
  readonly bgpId: Addr4;
  readonly params: readonly OptionalParameter[];
  /** Encode the parameters with RFC 9072 extended lengths (decoders set it from the bytes). */
  readonly extendedParams: boolean;
}

// ===== UPDATE (RFC 4271 §4.3) =====

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

export interface Aggregator {
  readonly asn: number;
  readonly addr: Addr4;
}

/** MP_REACH_NLRI (RFC 4760 §3). IPv6 next hop is global, or global + link-local (RFC 2545 §3). */
export interface MpReach {
  readonly afi: number;
  readonly safi: number;
  /** IPv4 next hop (AFI 1 with a 4-byte next hop) or IPv6 global next hop (also RFC 8950). */
  readonly nextHop: Addr4 | Addr6;
  readonly nextHopLinkLocal?: Addr6;
  readonly nlri: readonly Prefix[];
  /** Path identifiers parallel to `nlri` when ADD-PATH applies. */
  readonly pathIds?: readonly number[];
  /** For AFI/SAFI pairs we do not parse: the raw bytes after the AFI/SAFI fields. */
  readonly raw?: Uint8Array;
}

/** MP_UNREACH_NLRI (RFC 4760 §4). */
export interface MpUnreach {
  readonly afi: number;
  readonly safi: number;
  readonly withdrawn: readonly Prefix[];
  readonly pathIds?: readonly number[];
  readonly raw?: Uint8Array;
}

/** An attribute we do not interpret, kept to pass on (optional transitive) or to report. */
export interface RawAttribute {
  readonly flags: number;
  readonly code: number;
  readonly data: Uint8Array;
}

/**
 * The path attributes of one UPDATE. Absent fields were not present. Communities are 32-bit
 * numbers; extended communities are 8-byte values as two 32-bit words (hi, lo) flattened;
 * large communities are (global, local1, local2) triples flattened.
 */
export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: readonly AsPathSegment[];
  readonly nextHop?: Addr4;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  readonly communities?: readonly number[];
  readonly originatorId?: Addr4;
  readonly clusterList?: readonly Addr4[];
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  readonly extCommunities?: readonly number[];
  readonly as4Path?: readonly AsPathSegment[];
  readonly as4Aggregator?: Aggregator;
  readonly largeCommunities?: readonly number[];
  readonly otc?: number;
  readonly unknown?: readonly RawAttribute[];
}

export interface UpdateMessage {
  readonly type: 2;
  readonly withdrawn: readonly Prefix4[];
  readonly withdrawnPathIds?: readonly number[];
  readonly attrs: PathAttributes;
  readonly nlri: readonly Prefix4[];
  readonly nlriPathIds?: readonly number[];
  /**
   * RFC 7606 outcome, set by the decoder only: when present, every NLRI of this UPDATE
   * (traditional and MP_REACH) must be treated as withdrawn.
   */
  readonly treatAsWithdraw?: BgpDecodeError;
  /** RFC 7606 attribute-discard errors: those attributes were dropped and the rest stands. */
  readonly discarded?: readonly BgpDecodeError[];
}

// ===== NOTIFICATION (RFC 4271 §4.5, RFC 8203 / 9003), KEEPALIVE, ROUTE-REFRESH =====

export interface NotificationMessage {
  readonly type: 3;
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
}

export interface KeepaliveMessage {
  readonly type: 4;
}

/** ROUTE-REFRESH (RFC 2918 §3), with the RFC 7313 subtype in the reserved octet. */
export interface RouteRefreshMessage {
  readonly type: 5;
  readonly afi: number;
  readonly subtype: number;
  readonly safi: number;
}

export type BgpMessage =
  OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;
