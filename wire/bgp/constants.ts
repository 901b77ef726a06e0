// IANA BGP registries as `as const` tables, with the union types derived from them.
//
// RFC 4271 §4 (message types, header), §4.5 and §6 (error codes and subcodes), RFC 4486 and
// RFC 8538 (Cease subcodes), RFC 6608 (FSM error subcodes), RFC 7313 (ROUTE-REFRESH error and
// subtypes), RFC 5492 (capabilities), IANA "BGP Path Attributes" and "Address Family Numbers".

// ===== Messages =====

export const HEADER_LENGTH = 19;
/** RFC 4271 §4: maximum message size without the extended-message capability. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654: maximum message size with the extended-message capability. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

export const MessageType = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

// ===== NOTIFICATION error codes and subcodes =====

export const ErrorCode = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const HeaderSubcode = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

export const OpenSubcode = {
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
  ROLE_MISMATCH: 11,
} as const;

export const UpdateSubcode = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

export const FsmSubcode = {
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPEN_SENT: 1,
  UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const;

export const CeaseSubcode = {
  MAXIMUM_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  BFD_DOWN: 10,
} as const;

export const RouteRefreshErrorSubcode = {
  INVALID_MESSAGE_LENGTH: 1,
} as const;

/** Subcode names per error code, for logs and the admin API. */
export const SUBCODE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  [ErrorCode.MESSAGE_HEADER]: invert(HeaderSubcode),
  [ErrorCode.OPEN_MESSAGE]: invert(OpenSubcode),
  [ErrorCode.UPDATE_MESSAGE]: invert(UpdateSubcode),
  [ErrorCode.HOLD_TIMER_EXPIRED]: {},
  [ErrorCode.FSM]: invert(FsmSubcode),
  [ErrorCode.CEASE]: invert(CeaseSubcode),
  [ErrorCode.ROUTE_REFRESH]: invert(RouteRefreshErrorSubcode),
};

export const ERROR_CODE_NAMES: Readonly<Record<number, string>> = invert(ErrorCode);

/** Human-readable "CODE/SUBCODE" text, e.g. `UPDATE_MESSAGE/MALFORMED_AS_PATH`. */
export function describeError(code: number, subcode: number): string {
  const c = ERROR_CODE_NAMES[code] ?? `code ${code}`;
  const s = SUBCODE_NAMES[code]?.[subcode] ?? (subcode === 0 ? 'UNSPECIFIC' : `subcode ${subcode}`);
  return `${c}/${s}`;
}

function invert(o: Readonly<Record<string, number>>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [k, v] of Object.entries(o)) out[v] = k;
  return out;
}

// ===== ROUTE-REFRESH subtypes (RFC 7313 §3.2) =====

export const RouteRefreshSubtype = {
  NORMAL: 0,
  BEGIN: 1,
  END: 2,
} as const;

// ===== OPEN optional parameters and capabilities =====

export const OptionalParameterType = {
  CAPABILITIES: 2,
  /** RFC 9072: the non-extended length octet carries this value when extended lengths follow. */
  EXTENDED_LENGTH: 255,
} as const;

export const CapabilityCode = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  BGP_ROLE: 9,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  LONG_LIVED_GRACEFUL_RESTART: 71,
  FQDN: 73,
} as const;
export type CapabilityCode = (typeof CapabilityCode)[keyof typeof CapabilityCode];

/** RFC 9234 role values. */
export const BgpRole = {
  PROVIDER: 0,
  RS: 1,
  RS_CLIENT: 2,
  CUSTOMER: 3,
  PEER: 4,
} as const;

// ===== Path attributes =====

export const AttrFlag = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

export const AttrType = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
  OTC: 35,
} as const;
export type AttrType = (typeof AttrType)[keyof typeof AttrType];

export const Origin = {
  IGP: 0,
  EGP: 1,
  INCOMPLETE: 2,
} as const;
export type Origin = (typeof Origin)[keyof typeof Origin];

/** AS_PATH segment types (RFC 4271 §4.3, RFC 5065 §3). */
export const AsPathSegmentType = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;
export type AsPathSegmentType = (typeof AsPathSegmentType)[keyof typeof AsPathSegmentType];

/** RFC 6793: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

/** Well-known communities (RFC 1997, RFC 7999, RFC 8326). */
export const WellKnownCommunity = {
  GRACEFUL_SHUTDOWN: 0xffff0000,
  BLACKHOLE: 0xffff029a,
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NOPEER: 0xffffff04,
} as const;

// ===== Address families =====

export const Afi = {
  IPV4: 1,
  IPV6: 2,
} as const;
export type Afi = (typeof Afi)[keyof typeof Afi];

export const Safi = {
  UNICAST: 1,
  MULTICAST: 2,
} as const;

/** A number naming one AFI/SAFI pair: `afi * 256 + safi`, for sets and maps. */
export function afiSafiKey(afi: number, safi: number): number {
  return afi * 256 + safi;
}

export const AFISAFI_IPV4_UNICAST = afiSafiKey(Afi.IPV4, Safi.UNICAST);
export const AFISAFI_IPV6_UNICAST = afiSafiKey(Afi.IPV6, Safi.UNICAST);
