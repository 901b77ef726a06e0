// Typed BFD decode errors and discard reasons (RFC 5880 §6.7, §6.8.6; RFC 5881 §5).
//
// BFD has no error messages on the wire: a bad packet is silently discarded (RFC 5880 §6.8.6).
// What we keep is *why*, as a stable reason string that the session counters, the logs and the
// test vectors all use. The reasons that a decoder can produce are a subset of the reasons the
// reception checks can produce.

// ===== Reasons =====

/** Every reason a received Control packet can be discarded, with the RFC text it comes from. */
export const BFD_DISCARD_REASONS = {
  /** Fewer bytes than the 24-byte mandatory section. */
  truncated: 'RFC 5880 §6.8.6: the payload is shorter than the mandatory section',
  'bad-version': 'RFC 5880 §6.8.6: the version number is not 1',
  'length-too-short': 'RFC 5880 §6.8.6: Length is less than 24, or less than 26 with the A bit set',
  'length-exceeds-payload': 'RFC 5880 §6.8.6: Length is greater than the payload',
  'bad-auth-type': 'RFC 5880 §4.1: the Auth Type is reserved',
  'bad-auth-length': 'RFC 5880 §4.2–§4.4, §6.7: Auth Len does not fit its type or the packet',
  'detect-mult-zero': 'RFC 5880 §6.8.6: Detect Mult is zero',
  multipoint: 'RFC 5880 §6.8.6: the Multipoint (M) bit is set',
  'my-discriminator-zero': 'RFC 5880 §6.8.6: My Discriminator is zero',
  'your-discriminator-zero':
    'RFC 5880 §6.8.6: Your Discriminator is zero while State is neither Down nor AdminDown',
  'no-session': 'RFC 5880 §6.8.6: no session matches the packet',
  'bad-ttl': 'RFC 5881 §5: a single-hop packet arrived with a TTL or hop limit other than 255',
  'auth-unexpected': 'RFC 5880 §6.8.6: the A bit is set but the session uses no authentication',
  'auth-missing': 'RFC 5880 §6.8.6: the A bit is clear but the session requires authentication',
  'auth-type-mismatch': 'RFC 5880 §6.7: the Auth Type differs from the session’s',
  'auth-key-id': 'RFC 5880 §6.7.2–§6.7.4: no configured key has this Auth Key ID',
  'auth-password': 'RFC 5880 §6.7.2: the password does not match',
  'auth-digest': 'RFC 5880 §6.7.3–§6.7.4: the digest does not match',
  'auth-sequence': 'RFC 5880 §6.7.3–§6.7.4: the sequence number is outside the accepted window',
} as const;

/** A discard reason. */
export type BfdDiscardReason = keyof typeof BFD_DISCARD_REASONS;

/** The reasons a decoder can produce (structure, not session state). */
export type BfdDecodeReason = Extract<
  BfdDiscardReason,
  | 'truncated'
  | 'bad-version'
  | 'length-too-short'
  | 'length-exceeds-payload'
  | 'bad-auth-type'
  | 'bad-auth-length'
>;

/** The reasons authentication can fail for. */
export type BfdAuthFailure = Extract<
  BfdDiscardReason,
  | 'auth-unexpected'
  | 'auth-missing'
  | 'auth-type-mismatch'
  | 'auth-key-id'
  | 'auth-password'
  | 'auth-digest'
  | 'auth-sequence'
>;

// ===== Error =====

/** A Control packet that cannot be decoded; `reason` is stable, `message` says what was seen. */
export class BfdDecodeError extends Error {
  override readonly name = 'BfdDecodeError';

  constructor(
    readonly reason: BfdDecodeReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}
