// BFD authentication (RFC 5880 §6.7): building authenticated Control packets, verifying the
// password or digest of received ones, and the sequence-number window of the keyed modes.
//
// Pure: hashing uses node:crypto, nothing here does I/O or keeps state. The receive-side state
// (bfd.AuthSeqKnown, bfd.RcvAuthSeq) is passed in and the next state is returned, for the session
// to store only once the whole packet has been accepted.

import { createHash, timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../result.js';
import {
  BFD_AUTH_TYPE_NAMES,
  BFD_HEADER_LENGTH,
  BFD_KEYED_DIGEST_OFFSET,
  BFD_PASSWORD_MAX,
  BFD_PASSWORD_MIN,
  BfdAuthType,
} from './constants.js';
import {
  bfdDigestLength,
  encodeBfdControl,
  encodingLengthBfdControl,
  isMeticulous,
  type BfdAuth,
  type BfdControl,
  type BfdKeyedAuth,
} from './control.js';
import type { BfdAuthFailure } from './errors.js';

// ===== Configuration =====

/** One key of a session's key chain (RFC 5880 §6.7.1: several keys may be valid at once). */
export interface BfdAuthKey {
  /** Auth Key ID, 0–255. */
  readonly id: number;
  /** The password (simple password) or the secret key (keyed MD5 / SHA1). */
  readonly secret: Uint8Array;
}

/** A session's authentication: bfd.AuthType and the keys it accepts. */
export interface BfdAuthConfig {
  readonly type: BfdAuthType;
  readonly keys: readonly BfdAuthKey[];
}

/** Why a key cannot be used with an authentication type, or undefined when it can. */
export function checkBfdAuthKey(type: BfdAuthType, key: BfdAuthKey): string | undefined {
  if (!Number.isInteger(key.id) || key.id < 0 || key.id > 255) return `key id ${key.id} is not 0–255`;
  const max = type === BfdAuthType.SIMPLE_PASSWORD ? BFD_PASSWORD_MAX : bfdDigestLength(type);
  const n = key.secret.length;
  if (n < BFD_PASSWORD_MIN || n > max) {
    return `a ${BFD_AUTH_TYPE_NAMES[type]} key must be 1–${max} bytes, this one is ${n}`;
  }
  return undefined;
}

// ===== Digest =====

/**
 * The MD5 or SHA1 digest of the packet in `buf[off, off + length)` (RFC 5880 §6.7.3, §6.7.4):
 * computed over a copy in which the Auth Key/Digest field holds the key, zero-padded to 16 or 20
 * bytes.
 */
export function computeBfdDigest(
  type: BfdKeyedAuth['type'],
  buf: Uint8Array,
  off: number,
  length: number,
  secret: Uint8Array,
): Uint8Array {
  const dlen = bfdDigestLength(type);
  const at = BFD_HEADER_LENGTH + BFD_KEYED_DIGEST_OFFSET;
  const copy = new Uint8Array(length);
  copy.set(buf.subarray(off, off + length));
  copy.fill(0, at, at + dlen);
  copy.set(secret.subarray(0, dlen), at);
  const algorithm = dlen === 16 ? 'md5' : 'sha1';
  return new Uint8Array(createHash(algorithm).update(copy).digest());
}

// ===== Transmit =====

/** What to authenticate an outgoing packet with. */
export interface BfdSignSpec {
  readonly type: BfdAuthType;
  readonly key: BfdAuthKey;
  /** bfd.XmitAuthSeq; ignored for simple password. */
  readonly sequence: number;
}

/**
 * Add an authentication section to `p` (any section it has is replaced) and encode it
 * (RFC 5880 §6.7.2–§6.7.4). Throws RangeError on a key that `checkBfdAuthKey` rejects.
 */
export function signBfdControl(p: BfdControl, spec: BfdSignSpec): { packet: BfdControl; bytes: Uint8Array } {
  const problem = checkBfdAuthKey(spec.type, spec.key);
  if (problem !== undefined) throw new RangeError(problem);
  if (spec.type === BfdAuthType.SIMPLE_PASSWORD) {
    const packet: BfdControl = {
      ...p,
      auth: { type: spec.type, keyId: spec.key.id, password: spec.key.secret },
    };
    const bytes = new Uint8Array(encodingLengthBfdControl(packet));
    encodeBfdControl(packet, bytes, 0);
    return { packet, bytes };
  }
  const blank: BfdControl = {
    ...p,
    auth: {
      type: spec.type,
      keyId: spec.key.id,
      sequence: spec.sequence >>> 0,
      digest: new Uint8Array(bfdDigestLength(spec.type)),
    },
  };
  const bytes = new Uint8Array(encodingLengthBfdControl(blank));
  encodeBfdControl(blank, bytes, 0);
  const digest = computeBfdDigest(spec.type, bytes, 0, bytes.length, spec.key.secret);
  bytes.set(digest, BFD_HEADER_LENGTH + BFD_KEYED_DIGEST_OFFSET);
  const packet: BfdControl = { ...p, auth: { ...(blank.auth as BfdKeyedAuth), digest } };
  return { packet, bytes };
}

// ===== Receive =====

/** bfd.AuthSeqKnown and bfd.RcvAuthSeq (RFC 5880 §6.8.1). */
export interface BfdAuthSeqState {
  readonly known: boolean;
  readonly lastSeq: number;
}

/** The state of a session that has not yet received an authenticated packet. */
export const BFD_AUTH_SEQ_UNKNOWN: BfdAuthSeqState = { known: false, lastSeq: 0 };

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The configured key a packet names, after checking that both sides use the same type. */
export function findBfdAuthKey(
  p: BfdControl,
  config: BfdAuthConfig | undefined,
): Result<BfdAuthKey, BfdAuthFailure> {
  const a = p.auth;
  if (config === undefined) return err('auth-unexpected');
  if (a === undefined) return err('auth-missing');
  if (a.type !== config.type) return err('auth-type-mismatch');
  const key = config.keys.find((k) => k.id === a.keyId);
  return key === undefined ? err('auth-key-id') : ok(key);
}

/**
 * Check the authentication section of a decoded packet against the session's configuration
 * (RFC 5880 §6.7.2–§6.7.4). `buf[off]` is where the packet's bytes start; the digest is computed
 * over its Length bytes. Returns the key that matched. The sequence window is separate:
 * `checkBfdAuthSequence`.
 */
export function verifyBfdAuth(
  buf: Uint8Array,
  off: number,
  p: BfdControl,
  config: BfdAuthConfig | undefined,
): Result<BfdAuthKey, BfdAuthFailure> {
  const found = findBfdAuthKey(p, config);
  if (!found.ok) return found;
  const key = found.value;
  const a = p.auth as BfdAuth;
  if (a.type === BfdAuthType.SIMPLE_PASSWORD) {
    return equalBytes(a.password, key.secret) ? ok(key) : err('auth-password');
  }
  if (key.secret.length > a.digest.length) return err('auth-digest');
  const length = buf[off + 3] ?? 0;
  const want = computeBfdDigest(a.type, buf, off, length, key.secret);
  return equalBytes(want, a.digest) ? ok(key) : err('auth-digest');
}

/**
 * The sequence-number window of the keyed modes (RFC 5880 §6.7.3, §6.7.4). With a known
 * bfd.RcvAuthSeq, the received number must lie in [RcvAuthSeq, RcvAuthSeq + 3·Detect Mult]
 * (meticulous: [RcvAuthSeq + 1, …]) in 32-bit circular space; Detect Mult is the received
 * packet's. Returns the state to store once the digest has also verified. The RFC sets
 * AuthSeqKnown before the digest is checked; keeping the update until after means a forged
 * packet cannot move the window. Simple password packets leave the state unchanged.
 */
export function checkBfdAuthSequence(
  state: BfdAuthSeqState,
  p: BfdControl,
): Result<BfdAuthSeqState, 'auth-sequence'> {
  const a = p.auth;
  if (a === undefined || a.type === BfdAuthType.SIMPLE_PASSWORD) return ok(state);
  const seq = a.sequence >>> 0;
  if (state.known) {
    const ahead = (seq - state.lastSeq) >>> 0;
    const low = isMeticulous(a.type) ? 1 : 0;
    if (ahead < low || ahead > 3 * p.detectMult) return err('auth-sequence');
  }
  return ok({ known: true, lastSeq: seq });
}
