// Reception checks for BFD Control packets (RFC 5880 §6.8.6, RFC 5881 §5, RFC 5883 §2).
//
// One pure function decides whether a received packet is processed or discarded, in the order
// RFC 5880 §6.8.6 lists the checks, and says why. It stops before the state-machine part of
// §6.8.6 (updating bfd.RemoteDiscr, timers, state): that belongs to the session FSM, which gets
// the accepted packet together with the session it belongs to.
//
//   bytes ─▶ decode (version, Length, auth shape) ─▶ field checks (Detect Mult, M, My Discr,
//   Your Discr vs State) ─▶ session lookup ─▶ TTL (single-hop) ─▶ A bit vs session ─▶ auth
//   (sequence window, password / digest) ─▶ accept

import { BFD_DISCARD_REASONS, type BfdDiscardReason } from './errors.js';
import { BFD_SINGLE_HOP_TTL, BfdState } from './constants.js';
import { decodeBfdControl, type BfdControl } from './control.js';
import {
  checkBfdAuthSequence,
  findBfdAuthKey,
  verifyBfdAuth,
  type BfdAuthConfig,
  type BfdAuthKey,
  type BfdAuthSeqState,
  BFD_AUTH_SEQ_UNKNOWN,
} from './auth.js';

// ===== Inputs =====

/** What reception needs to know about the session a packet belongs to. */
export interface BfdSessionView {
  /** bfd.AuthType and keys; undefined when the session uses no authentication. */
  readonly auth?: BfdAuthConfig | undefined;
  /** bfd.AuthSeqKnown / bfd.RcvAuthSeq; undefined is the same as not known. */
  readonly authSeq?: BfdAuthSeqState | undefined;
}

/** How the packet arrived (RFC 5881 §5 for single-hop; RFC 5883 §2 for multihop). */
export type BfdHopInfo =
  | {
      readonly kind: 'single-hop';
      /** The received TTL or hop limit. */
      readonly ttl: number;
    }
  | {
      readonly kind: 'multihop';
      readonly ttl?: number;
      /** Discard packets whose TTL is below this (RFC 5883 §2 leaves the check to configuration). */
      readonly minTtl?: number;
    };

/** The input of one reception decision. */
export interface BfdReceiveInput<S extends BfdSessionView> {
  /** The UDP payload. */
  readonly buf: Uint8Array;
  readonly off?: number;
  readonly end?: number;
  readonly hop: BfdHopInfo;
  /**
   * The local session lookup: by Your Discriminator when it is nonzero; when it is zero the
   * caller picks the session from the source address, interface and ports (RFC 5881 §3).
   * Returns undefined when no session matches.
   */
  readonly lookup: (yourDiscriminator: number) => S | undefined;
}

// ===== Outcome =====

/** The packet is to be processed by the session's state machine. */
export interface BfdAccept<S> {
  readonly verdict: 'accept';
  readonly packet: BfdControl;
  readonly session: S;
  /** For keyed authentication: the new bfd.AuthSeqKnown / bfd.RcvAuthSeq to store. */
  readonly authSeq?: BfdAuthSeqState;
  /** The key the packet was authenticated with. */
  readonly key?: BfdAuthKey;
}

/** The packet is to be dropped, and why. */
export interface BfdDiscard {
  readonly verdict: 'discard';
  readonly reason: BfdDiscardReason;
  /** What was seen, for logs. */
  readonly detail: string;
  /** The decoded packet when decoding got that far. */
  readonly packet?: BfdControl;
}

function discard(reason: BfdDiscardReason, detail: string, packet?: BfdControl): BfdDiscard {
  return packet === undefined
    ? { verdict: 'discard', reason, detail }
    : { verdict: 'discard', reason, detail, packet };
}

// ===== Checks =====

/** Decide whether a received Control packet is accepted or discarded (RFC 5880 §6.8.6). */
export function receiveBfdControl<S extends BfdSessionView>(
  input: BfdReceiveInput<S>,
): BfdAccept<S> | BfdDiscard {
  const off = input.off ?? 0;
  const end = input.end ?? input.buf.length;
  const decoded = decodeBfdControl(input.buf, off, end);
  if (!decoded.ok) return discard(decoded.error.reason, decoded.error.message);
  const p = decoded.value;

  if (p.detectMult === 0) return discard('detect-mult-zero', BFD_DISCARD_REASONS['detect-mult-zero'], p);
  if (p.multipoint) return discard('multipoint', BFD_DISCARD_REASONS.multipoint, p);
  if (p.myDiscriminator === 0)
    return discard('my-discriminator-zero', BFD_DISCARD_REASONS['my-discriminator-zero'], p);
  if (p.yourDiscriminator === 0 && p.state !== BfdState.DOWN && p.state !== BfdState.ADMIN_DOWN) {
    return discard('your-discriminator-zero', `Your Discriminator 0 with state ${p.state}`, p);
  }

  const session = input.lookup(p.yourDiscriminator);
  if (session === undefined) {
    return discard('no-session', `no session for Your Discriminator ${p.yourDiscriminator}`, p);
  }

  const hop = input.hop;
  if (hop.kind === 'single-hop') {
    // RFC 5881 §5 makes the check a MUST without authentication and a MAY with it; we always
    // apply it, since our own packets always leave with 255.
    if (hop.ttl !== BFD_SINGLE_HOP_TTL) return discard('bad-ttl', `TTL ${hop.ttl}`, p);
  } else if (hop.minTtl !== undefined && hop.ttl !== undefined && hop.ttl < hop.minTtl) {
    return discard('bad-ttl', `TTL ${hop.ttl} below ${hop.minTtl}`, p);
  }

  const config = session.auth;
  if (p.auth !== undefined && config === undefined) {
    return discard('auth-unexpected', BFD_DISCARD_REASONS['auth-unexpected'], p);
  }
  if (p.auth === undefined && config !== undefined) {
    return discard('auth-missing', BFD_DISCARD_REASONS['auth-missing'], p);
  }
  if (p.auth === undefined || config === undefined) return { verdict: 'accept', packet: p, session };

  // §6.7.3/§6.7.4 order: Auth Type and Key ID, then the sequence window, then the digest. The
  // sequence state moves only when all of them pass.
  const named = findBfdAuthKey(p, config);
  if (!named.ok) return discard(named.error, BFD_DISCARD_REASONS[named.error], p);
  const seq = checkBfdAuthSequence(session.authSeq ?? BFD_AUTH_SEQ_UNKNOWN, p);
  if (!seq.ok) return discard('auth-sequence', BFD_DISCARD_REASONS['auth-sequence'], p);
  const verified = verifyBfdAuth(input.buf, off, p, config);
  if (!verified.ok) return discard(verified.error, BFD_DISCARD_REASONS[verified.error], p);
  return { verdict: 'accept', packet: p, session, authSeq: seq.value, key: verified.value };
}
