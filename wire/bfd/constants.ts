// BFD registries and fixed sizes (RFC 5880 §4.1–§4.4, RFC 5881 §4–§5, RFC 5883 §5).
//
// Each registry is an `as const` table with a derived union type and a name table for logs, the
// API and the JSON rendering of test vectors.

// ===== Protocol constants =====

/** The only protocol version (RFC 5880 §4.1). */
export const BFD_VERSION = 1;

/** Length of the mandatory section of a Control packet (RFC 5880 §4.1). */
export const BFD_HEADER_LENGTH = 24;

/** Smallest Length with the A bit set: header plus Auth Type and Auth Len (RFC 5880 §6.8.6). */
export const BFD_MIN_AUTH_LENGTH = BFD_HEADER_LENGTH + 2;

/** UDP destination port of single-hop Control packets (RFC 5881 §4). */
export const BFD_SINGLE_HOP_PORT = 3784;

/** UDP destination port of multihop Control packets (RFC 5883 §5). */
export const BFD_MULTIHOP_PORT = 4784;

/** TTL / hop limit every single-hop packet is sent with and must arrive with (RFC 5881 §5). */
export const BFD_SINGLE_HOP_TTL = 255;

// ===== Diagnostic codes (RFC 5880 §4.1) =====

/** The Diag field: why the sender's session last changed state. Values 9–31 are reserved. */
export const BfdDiag = {
  NO_DIAGNOSTIC: 0,
  CONTROL_DETECTION_TIME_EXPIRED: 1,
  ECHO_FUNCTION_FAILED: 2,
  NEIGHBOR_SIGNALED_SESSION_DOWN: 3,
  FORWARDING_PLANE_RESET: 4,
  PATH_DOWN: 5,
  CONCATENATED_PATH_DOWN: 6,
  ADMINISTRATIVELY_DOWN: 7,
  REVERSE_CONCATENATED_PATH_DOWN: 8,
} as const;
export type BfdDiag = (typeof BfdDiag)[keyof typeof BfdDiag];

/** Human names of the diagnostic codes, as RFC 5880 §4.1 spells them. */
export const BFD_DIAG_NAMES: Readonly<Record<BfdDiag, string>> = {
  [BfdDiag.NO_DIAGNOSTIC]: 'No Diagnostic',
  [BfdDiag.CONTROL_DETECTION_TIME_EXPIRED]: 'Control Detection Time Expired',
  [BfdDiag.ECHO_FUNCTION_FAILED]: 'Echo Function Failed',
  [BfdDiag.NEIGHBOR_SIGNALED_SESSION_DOWN]: 'Neighbor Signaled Session Down',
  [BfdDiag.FORWARDING_PLANE_RESET]: 'Forwarding Plane Reset',
  [BfdDiag.PATH_DOWN]: 'Path Down',
  [BfdDiag.CONCATENATED_PATH_DOWN]: 'Concatenated Path Down',
  [BfdDiag.ADMINISTRATIVELY_DOWN]: 'Administratively Down',
  [BfdDiag.REVERSE_CONCATENATED_PATH_DOWN]: 'Reverse Concatenated Path Down',
};

/** Name of a Diag value, or `reserved (N)` for values the RFC leaves unassigned. */
export function bfdDiagName(diag: number): string {
  return (BFD_DIAG_NAMES as Readonly<Record<number, string>>)[diag] ?? `reserved (${diag})`;
}

// ===== Session states (RFC 5880 §4.1) =====

/** The Sta field. All four 2-bit values are assigned. */
export const BfdState = {
  ADMIN_DOWN: 0,
  DOWN: 1,
  INIT: 2,
  UP: 3,
} as const;
export type BfdState = (typeof BfdState)[keyof typeof BfdState];

/** Names of the states as used in logs, the API and vectors. */
export const BFD_STATE_NAMES = {
  [BfdState.ADMIN_DOWN]: 'AdminDown',
  [BfdState.DOWN]: 'Down',
  [BfdState.INIT]: 'Init',
  [BfdState.UP]: 'Up',
} as const satisfies Record<BfdState, string>;
export type BfdStateName = (typeof BFD_STATE_NAMES)[BfdState];

// ===== Authentication types (RFC 5880 §4.1, §4.2–§4.4) =====

/** The Auth Type field. 0 and 6–255 are reserved. */
export const BfdAuthType = {
  SIMPLE_PASSWORD: 1,
  KEYED_MD5: 2,
  METICULOUS_KEYED_MD5: 3,
  KEYED_SHA1: 4,
  METICULOUS_KEYED_SHA1: 5,
} as const;
export type BfdAuthType = (typeof BfdAuthType)[keyof typeof BfdAuthType];

/** Names of the authentication types as used in the API and vectors. */
export const BFD_AUTH_TYPE_NAMES = {
  [BfdAuthType.SIMPLE_PASSWORD]: 'simple-password',
  [BfdAuthType.KEYED_MD5]: 'keyed-md5',
  [BfdAuthType.METICULOUS_KEYED_MD5]: 'meticulous-keyed-md5',
  [BfdAuthType.KEYED_SHA1]: 'keyed-sha1',
  [BfdAuthType.METICULOUS_KEYED_SHA1]: 'meticulous-keyed-sha1',
} as const satisfies Record<BfdAuthType, string>;
export type BfdAuthTypeName = (typeof BFD_AUTH_TYPE_NAMES)[BfdAuthType];

/** True for an assigned authentication type. */
export function isBfdAuthType(t: number): t is BfdAuthType {
  return t >= BfdAuthType.SIMPLE_PASSWORD && t <= BfdAuthType.METICULOUS_KEYED_SHA1;
}

/** Simple password length bounds (RFC 5880 §4.2.1). */
export const BFD_PASSWORD_MIN = 1;
export const BFD_PASSWORD_MAX = 16;

/** Auth Len of the keyed MD5 section and size of its digest (RFC 5880 §4.3). */
export const BFD_MD5_AUTH_LEN = 24;
export const BFD_MD5_DIGEST_LEN = 16;

/** Auth Len of the keyed SHA1 section and size of its hash (RFC 5880 §4.4). */
export const BFD_SHA1_AUTH_LEN = 28;
export const BFD_SHA1_DIGEST_LEN = 20;

/** Offset of the digest inside a keyed MD5/SHA1 section: type, len, key id, reserved, sequence. */
export const BFD_KEYED_DIGEST_OFFSET = 8;
