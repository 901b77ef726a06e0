// The BFD Control packet codec (RFC 5880 §4.1) with its optional authentication section
// (RFC 5880 §4.2–§4.4), and the JSON rendering used by the test vectors and the admin API.
//
// The decoder checks structure only: the version, Length against the payload and the A bit, and
// the shape of the authentication section. Checks that need session state, and the field checks
// RFC 5880 §6.8.6 applies afterwards (Detect Mult, M bit, discriminators), are in reception.ts,
// so that a packet with, say, the M bit set still decodes and can be logged field by field.

import { err, ok, type Result } from '../result.js';
import { ReadOutOfBounds, Reader, fromHex, toHex, writeU32 } from '../reader.js';
import {
  BFD_AUTH_TYPE_NAMES,
  BFD_HEADER_LENGTH,
  BFD_MD5_AUTH_LEN,
  BFD_MD5_DIGEST_LEN,
  BFD_MIN_AUTH_LENGTH,
  BFD_PASSWORD_MAX,
  BFD_PASSWORD_MIN,
  BFD_SHA1_AUTH_LEN,
  BFD_SHA1_DIGEST_LEN,
  BFD_STATE_NAMES,
  BFD_VERSION,
  BfdAuthType,
  isBfdAuthType,
  type BfdAuthTypeName,
  type BfdState,
  type BfdStateName,
} from './constants.js';
import { BfdDecodeError } from './errors.js';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       My Discriminator                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      Your Discriminator                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Desired Min TX Interval                    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   Required Min RX Interval                    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Required Min Echo RX Interval                 |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   Auth Type   |   Auth Len    |    Authentication Data...     |   (only with the A bit)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// ===== Types =====

// Simple password (§4.2.1):
// |   Auth Type   |   Auth Len    |  Auth Key ID  |  Password...  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                              ...                              |

/** Simple password authentication (RFC 5880 §4.2): Auth Len is 3 plus 1–16 password bytes. */
export interface BfdPasswordAuth {
  readonly type: typeof BfdAuthType.SIMPLE_PASSWORD;
  readonly keyId: number;
  readonly password: Uint8Array;
}

// Keyed MD5 / SHA1 (§4.3.1, §4.4.1):
// |   Auth Type   |   Auth Len    |  Auth Key ID  |   Reserved    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |             Auth Key/Digest (16 bytes) / Auth Key/Hash (20)   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/** Keyed MD5 / SHA1 authentication, plain or meticulous (RFC 5880 §4.3, §4.4). */
export interface BfdKeyedAuth {
  readonly type:
    | typeof BfdAuthType.KEYED_MD5
    | typeof BfdAuthType.METICULOUS_KEYED_MD5
    | typeof BfdAuthType.KEYED_SHA1
    | typeof BfdAuthType.METICULOUS_KEYED_SHA1;
  readonly keyId: number;
  /** Unsigned 32-bit sequence number. */
  readonly sequence: number;
  /** 16 bytes for MD5, 20 for SHA1. The Reserved byte is not kept: zero on send, ignored on receipt. */
  readonly digest: Uint8Array;
}

/** The authentication section of a Control packet. */
export type BfdAuth = BfdPasswordAuth | BfdKeyedAuth;

/** A BFD Control packet. Version is always 1; the A bit is `auth !== undefined`; Length is derived. */
export interface BfdControl {
  /** Diagnostic code, 0–31 (see `BfdDiag`; 9–31 are reserved but carried). */
  readonly diag: number;
  readonly state: BfdState;
  /** P: the sender asks for verification of a parameter change. */
  readonly poll: boolean;
  /** F: the sender answers a Poll. */
  readonly final: boolean;
  /** C: Control Plane Independent. */
  readonly cpi: boolean;
  /** D: the sender wishes to run Demand mode. */
  readonly demand: boolean;
  /** M: reserved for multipoint; must be zero (a set bit is a discard reason, not a decode error). */
  readonly multipoint: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Microseconds. */
  readonly desiredMinTxInterval: number;
  /** Microseconds. */
  readonly requiredMinRxInterval: number;
  /** Microseconds; zero means the sender does not support echo. */
  readonly requiredMinEchoRxInterval: number;
  readonly auth?: BfdAuth;
}

// ===== Flag bits (byte 1) =====

const FLAG_POLL = 0x20;
const FLAG_FINAL = 0x10;
const FLAG_CPI = 0x08;
const FLAG_AUTH = 0x04;
const FLAG_DEMAND = 0x02;
const FLAG_MULTIPOINT = 0x01;

// ===== Lengths =====

/** Digest length of a keyed authentication type. */
export function bfdDigestLength(type: BfdKeyedAuth['type']): number {
  return type === BfdAuthType.KEYED_MD5 || type === BfdAuthType.METICULOUS_KEYED_MD5
    ? BFD_MD5_DIGEST_LEN
    : BFD_SHA1_DIGEST_LEN;
}

/** True for the meticulous keyed types (sequence number advances on every packet). */
export function isMeticulous(type: BfdAuthType): boolean {
  return type === BfdAuthType.METICULOUS_KEYED_MD5 || type === BfdAuthType.METICULOUS_KEYED_SHA1;
}

/** Auth Len of an authentication section (RFC 5880 §4.2–§4.4). */
export function bfdAuthLength(auth: BfdAuth): number {
  if (auth.type === BfdAuthType.SIMPLE_PASSWORD) {
    const n = auth.password.length;
    if (n < BFD_PASSWORD_MIN || n > BFD_PASSWORD_MAX) {
      throw new RangeError(`BFD simple password must be 1–16 bytes, not ${n}`);
    }
    return 3 + n;
  }
  const want = bfdDigestLength(auth.type);
  if (auth.digest.length !== want) {
    throw new RangeError(`BFD ${BFD_AUTH_TYPE_NAMES[auth.type]} digest must be ${want} bytes`);
  }
  return 8 + want;
}

/** Bytes the encoded packet takes (its Length field). */
export function encodingLengthBfdControl(p: BfdControl): number {
  return BFD_HEADER_LENGTH + (p.auth === undefined ? 0 : bfdAuthLength(p.auth));
}

// ===== Encode =====

/** Write `p` at `off`; returns the offset after it. */
export function encodeBfdControl(p: BfdControl, buf: Uint8Array, off: number): number {
  const length = encodingLengthBfdControl(p);
  buf[off] = (BFD_VERSION << 5) | (p.diag & 0x1f);
  buf[off + 1] =
    (p.state << 6) |
    (p.poll ? FLAG_POLL : 0) |
    (p.final ? FLAG_FINAL : 0) |
    (p.cpi ? FLAG_CPI : 0) |
    (p.auth !== undefined ? FLAG_AUTH : 0) |
    (p.demand ? FLAG_DEMAND : 0) |
    (p.multipoint ? FLAG_MULTIPOINT : 0);
  buf[off + 2] = p.detectMult & 0xff;
  buf[off + 3] = length;
  let o = writeU32(buf, off + 4, p.myDiscriminator);
  o = writeU32(buf, o, p.yourDiscriminator);
  o = writeU32(buf, o, p.desiredMinTxInterval);
  o = writeU32(buf, o, p.requiredMinRxInterval);
  o = writeU32(buf, o, p.requiredMinEchoRxInterval);
  const a = p.auth;
  if (a === undefined) return o;
  buf[o] = a.type;
  buf[o + 1] = length - BFD_HEADER_LENGTH;
  buf[o + 2] = a.keyId & 0xff;
  if (a.type === BfdAuthType.SIMPLE_PASSWORD) {
    buf.set(a.password, o + 3);
    return o + 3 + a.password.length;
  }
  buf[o + 3] = 0;
  o = writeU32(buf, o + 4, a.sequence);
  buf.set(a.digest, o);
  return o + a.digest.length;
}

/** A freshly allocated encoding of `p`. */
export function bfdControlToBytes(p: BfdControl): Uint8Array {
  const buf = new Uint8Array(encodingLengthBfdControl(p));
  encodeBfdControl(p, buf, 0);
  return buf;
}

// ===== Decode =====

/**
 * Decode the Control packet in `buf[off, end)`, where `end` is the end of the UDP payload.
 * Bytes after the packet's Length are ignored (RFC 5880 only bounds Length from below and by the
 * payload); so are bytes inside Length after the authentication section.
 */
export function decodeBfdControl(
  buf: Uint8Array,
  off: number,
  end: number,
): Result<BfdControl, BfdDecodeError> {
  try {
    return decodeChecked(buf, off, end);
  } catch (e) {
    // Every length is checked before it is read, so this is a guard, not a path we expect.
    if (e instanceof ReadOutOfBounds) return err(new BfdDecodeError('truncated', e.message));
    throw e;
  }
}

function decodeChecked(buf: Uint8Array, off: number, end: number): Result<BfdControl, BfdDecodeError> {
  const have = end - off;
  if (have < 1) return err(new BfdDecodeError('truncated', 'empty payload'));
  const b0 = buf[off] as number;
  const version = b0 >>> 5;
  // The version is checked first (RFC 5880 §6.8.6 lists it first): a different version may have
  // a different layout, so nothing else in the packet means anything.
  if (version !== BFD_VERSION) return err(new BfdDecodeError('bad-version', `version ${version}`));
  if (have < BFD_HEADER_LENGTH) {
    return err(new BfdDecodeError('truncated', `${have} bytes, the mandatory section needs 24`));
  }
  const r = new Reader(buf, off + 1, end);
  const b1 = r.u8();
  const detectMult = r.u8();
  const length = r.u8();
  const authBit = (b1 & FLAG_AUTH) !== 0;
  const min = authBit ? BFD_MIN_AUTH_LENGTH : BFD_HEADER_LENGTH;
  if (length < min) {
    return err(new BfdDecodeError('length-too-short', `Length ${length}, at least ${min} needed`));
  }
  if (length > have) {
    return err(new BfdDecodeError('length-exceeds-payload', `Length ${length}, payload ${have} bytes`));
  }
  const myDiscriminator = r.u32();
  const yourDiscriminator = r.u32();
  const desiredMinTxInterval = r.u32();
  const requiredMinRxInterval = r.u32();
  const requiredMinEchoRxInterval = r.u32();
  const head = {
    diag: b0 & 0x1f,
    state: (b1 >>> 6) as BfdState,
    poll: (b1 & FLAG_POLL) !== 0,
    final: (b1 & FLAG_FINAL) !== 0,
    cpi: (b1 & FLAG_CPI) !== 0,
    demand: (b1 & FLAG_DEMAND) !== 0,
    multipoint: (b1 & FLAG_MULTIPOINT) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxInterval,
    requiredMinRxInterval,
    requiredMinEchoRxInterval,
  };
  if (!authBit) return ok(head);
  const auth = decodeAuth(new Reader(buf, r.off, off + length));
  if (!auth.ok) return auth;
  return ok({ ...head, auth: auth.value });
}

function decodeAuth(r: Reader): Result<BfdAuth, BfdDecodeError> {
  const type = r.u8();
  const authLen = r.u8();
  if (!isBfdAuthType(type)) return err(new BfdDecodeError('bad-auth-type', `Auth Type ${type}`));
  // Auth Len counts the Type and Len bytes too, so 2 of it have been read already.
  if (authLen - 2 > r.left) {
    return err(new BfdDecodeError('bad-auth-length', `Auth Len ${authLen} runs past Length`));
  }
  if (type === BfdAuthType.SIMPLE_PASSWORD) {
    const n = authLen - 3;
    if (n < BFD_PASSWORD_MIN || n > BFD_PASSWORD_MAX) {
      return err(new BfdDecodeError('bad-auth-length', `simple password Auth Len ${authLen}, 4–19 allowed`));
    }
    const keyId = r.u8();
    return ok({ type, keyId, password: r.bytes(n) });
  }
  const want =
    type === BfdAuthType.KEYED_MD5 || type === BfdAuthType.METICULOUS_KEYED_MD5
      ? BFD_MD5_AUTH_LEN
      : BFD_SHA1_AUTH_LEN;
  if (authLen !== want) {
    return err(
      new BfdDecodeError(
        'bad-auth-length',
        `${BFD_AUTH_TYPE_NAMES[type]} Auth Len ${authLen}, ${want} required`,
      ),
    );
  }
  const keyId = r.u8();
  r.skip(1);
  const sequence = r.u32();
  return ok({ type, keyId, sequence, digest: r.bytes(want - 8) });
}

// ===== JSON rendering =====

/** The JSON form of an authentication section; binary fields as lower-case hex. */
export type BfdAuthJson =
  | { readonly type: 'simple-password'; readonly keyId: number; readonly password: string }
  | {
      readonly type: Exclude<BfdAuthTypeName, 'simple-password'>;
      readonly keyId: number;
      readonly sequence: number;
      readonly digest: string;
    };

/** The JSON form of a Control packet, as used by test vectors and the admin API. */
export interface BfdControlJson {
  readonly version: number;
  readonly diag: number;
  readonly state: BfdStateName;
  readonly poll: boolean;
  readonly final: boolean;
  readonly cpi: boolean;
  readonly demand: boolean;
  readonly multipoint: boolean;
  readonly detectMult: number;
  readonly length: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxInterval: number;
  readonly requiredMinRxInterval: number;
  readonly requiredMinEchoRxInterval: number;
  readonly auth?: BfdAuthJson;
}

/** Render a packet as JSON; `length` is the Length our encoder writes. */
export function bfdControlToJson(p: BfdControl): BfdControlJson {
  const json: BfdControlJson = {
    version: BFD_VERSION,
    diag: p.diag,
    state: BFD_STATE_NAMES[p.state],
    poll: p.poll,
    final: p.final,
    cpi: p.cpi,
    demand: p.demand,
    multipoint: p.multipoint,
    detectMult: p.detectMult,
    length: encodingLengthBfdControl(p),
    myDiscriminator: p.myDiscriminator,
    yourDiscriminator: p.yourDiscriminator,
    desiredMinTxInterval: p.desiredMinTxInterval,
    requiredMinRxInterval: p.requiredMinRxInterval,
    requiredMinEchoRxInterval: p.requiredMinEchoRxInterval,
  };
  const a = p.auth;
  if (a === undefined) return json;
  if (a.type === BfdAuthType.SIMPLE_PASSWORD) {
    return { ...json, auth: { type: 'simple-password', keyId: a.keyId, password: toHex(a.password) } };
  }
  return {
    ...json,
    auth: {
      type: BFD_AUTH_TYPE_NAMES[a.type],
      keyId: a.keyId,
      sequence: a.sequence,
      digest: toHex(a.digest),
    },
  };
}

const STATE_BY_NAME = new Map<string, BfdState>(
  Object.entries(BFD_STATE_NAMES).map(([k, v]) => [v, Number(k) as BfdState]),
);
const AUTH_TYPE_BY_NAME = new Map<string, BfdAuthType>(
  Object.entries(BFD_AUTH_TYPE_NAMES).map(([k, v]) => [v, Number(k) as BfdAuthType]),
);

/** Parse the JSON form back into a packet (the inverse of `bfdControlToJson`). */
export function bfdControlFromJson(j: BfdControlJson): Result<BfdControl, string> {
  const state = STATE_BY_NAME.get(j.state);
  if (state === undefined) return err(`unknown state '${j.state}'`);
  if (j.version !== BFD_VERSION) return err(`version ${j.version} cannot be encoded`);
  const head: BfdControl = {
    diag: j.diag,
    state,
    poll: j.poll,
    final: j.final,
    cpi: j.cpi,
    demand: j.demand,
    multipoint: j.multipoint,
    detectMult: j.detectMult,
    myDiscriminator: j.myDiscriminator,
    yourDiscriminator: j.yourDiscriminator,
    desiredMinTxInterval: j.desiredMinTxInterval,
    requiredMinRxInterval: j.requiredMinRxInterval,
    requiredMinEchoRxInterval: j.requiredMinEchoRxInterval,
  };
  const a = j.auth;
  if (a === undefined) return ok(head);
  const type = AUTH_TYPE_BY_NAME.get(a.type);
  if (type === undefined) return err(`unknown auth type '${a.type}'`);
  if (a.type === 'simple-password') {
    return ok({
      ...head,
      auth: { type: BfdAuthType.SIMPLE_PASSWORD, keyId: a.keyId, password: fromHex(a.password) },
    });
  }
  if (type === BfdAuthType.SIMPLE_PASSWORD) return err('simple password without a password');
  return ok({ ...head, auth: { type, keyId: a.keyId, sequence: a.sequence, digest: fromHex(a.digest) } });
}
