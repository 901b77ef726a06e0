// The BGP OPEN message body: fixed fields and optional parameters.
//
// RFC 4271 §4.2 (format) and §6.2 (OPEN message error handling), RFC 5492 §4 (the Capabilities
// optional parameter), RFC 9072 §2 (extended optional parameter lengths), RFC 6286 §2.2 (the BGP
// Identifier is any non-zero 32-bit value). Capabilities themselves are in `capabilities.ts`.
//
// `decodeOpen` is structural: it keeps unknown optional parameters as raw bytes. `checkOpen` adds
// the §6.2 checks that need no configuration (version, hold time, identifier, unknown parameter);
// the message-level decoder applies both. Checks that need configuration (peer AS, role) belong
// to the session.

import { err, ok, type Result } from '../result.js';
import { Reader, ReadOutOfBounds, writeU16, writeU32 } from '../reader.js';
import { ErrorCode, OpenSubcode, OptionalParameterType } from './constants.js';
import { copyBytes } from './attributes.js';
import { BgpDecodeError } from './errors.js';
import { decodeCapability, encodeCapability, encodingLengthCapability } from './capabilities.js';
import type { Capability, OpenMessage, OptionalParameter } from './types.js';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+
// |    Version    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     My Autonomous System      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Hold Time           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         BGP Identifier                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Opt Parm Len  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |             Optional Parameters (variable)                    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 9072 extended form: Opt Parm Len = 255, then a Non-Ext OP Type octet of 255, then a
// 2-octet Extended Opt. Parm. Length; each parameter is then Type (1) | Length (2) | Value.

// ===== Constants =====

/** The BGP version we speak. */
export const BGP_VERSION = 4;

/** Bytes of the fixed OPEN body before the optional parameters length. */
const FIXED_BODY = 9;

function openError(subcode: number, reason: string, data?: Uint8Array): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.OPEN_MESSAGE, subcode, 'session-reset', reason, data);
}

// ===== Optional parameters =====

function paramValueLength(p: OptionalParameter): number {
  if (p.kind === 'unknown') return p.data.length;
  let n = 0;
  for (const c of p.capabilities) n += encodingLengthCapability(c);
  return n;
}

function encodingLengthParam(p: OptionalParameter, extended: boolean): number {
  return (extended ? 3 : 2) + paramValueLength(p);
}

function paramsLength(params: readonly OptionalParameter[], extended: boolean): number {
  let n = 0;
  for (const p of params) n += encodingLengthParam(p, extended);
  return n;
}

function encodeParam(p: OptionalParameter, buf: Uint8Array, off: number, extended: boolean): number {
  const len = paramValueLength(p);
  if (!extended && len > 255) {
    throw new RangeError(`optional parameter of ${len} bytes needs RFC 9072 extended lengths`);
  }
  buf[off++] = p.kind === 'unknown' ? p.type : OptionalParameterType.CAPABILITIES;
  if (extended) off = writeU16(buf, off, len);
  else buf[off++] = len;
  if (p.kind === 'unknown') {
    buf.set(p.data, off);
    return off + len;
  }
  for (const c of p.capabilities) off = encodeCapability(c, buf, off);
  return off;
}

function decodeParam(r: Reader, extended: boolean): OptionalParameter {
  const type = r.u8();
  const value = r.sub(extended ? r.u16() : r.u8());
  if (type !== OptionalParameterType.CAPABILITIES) {
    // Copied: an OPEN lives as long as its session, the receive buffer does not.
    return { kind: 'unknown', type, data: copyBytes(value.buf, value.off, value.end) };
  }
  const capabilities: Capability[] = [];
  while (value.left > 0) {
    const c = decodeCapability(value);
    capabilities.push(c.kind === 'unknown' ? { ...c, data: copyBytes(c.data, 0, c.data.length) } : c);
  }
  return { kind: 'capabilities', capabilities };
}

// ===== OPEN body =====

/** Bytes of the OPEN body (the message minus its 19-byte header). */
export function encodingLengthOpen(m: OpenMessage): number {
  const params = paramsLength(m.params, m.extendedParams);
  return FIXED_BODY + 1 + (m.extendedParams ? 3 : 0) + params;
}

/** Write the OPEN body at `off`; returns the offset after it. Throws RangeError if it cannot fit. */
export function encodeOpen(m: OpenMessage, buf: Uint8Array, off: number): number {
  buf[off++] = m.version;
  off = writeU16(buf, off, m.myAs);
  off = writeU16(buf, off, m.holdTime);
  off = writeU32(buf, off, m.bgpId);
  const len = paramsLength(m.params, m.extendedParams);
  if (m.extendedParams) {
    if (len > 0xffff) throw new RangeError(`optional parameters of ${len} bytes exceed 65535`);
    buf[off++] = 255;
    buf[off++] = OptionalParameterType.EXTENDED_LENGTH;
    off = writeU16(buf, off, len);
  } else {
    if (len > 255) throw new RangeError(`optional parameters of ${len} bytes need RFC 9072 extended lengths`);
    buf[off++] = len;
  }
  for (const p of m.params) off = encodeParam(p, buf, off, m.extendedParams);
  return off;
}

/**
 * Read the OPEN body `buf[off, end)`. Malformed parameters or capabilities are an OPEN message
 * error with subcode 0 (unspecific), as BIRD and FRR send.
 */
export function decodeOpen(buf: Uint8Array, off: number, end: number): Result<OpenMessage, BgpDecodeError> {
  const r = new Reader(buf, off, end);
  try {
    const version = r.u8();
    const myAs = r.u16();
    const holdTime = r.u16();
    const bgpId = r.u32();
    let paramLen = r.u8();
    // RFC 9072 §2: a first parameter type of 255 announces the extended encoding.
    const extendedParams = paramLen > 0 && r.left > 0 && buf[r.off] === OptionalParameterType.EXTENDED_LENGTH;
    if (extendedParams) {
      r.skip(1);
      paramLen = r.u16();
    }
    if (paramLen !== r.left) {
      return err(openError(0, `optional parameters length ${paramLen}, but ${r.left} bytes follow`));
    }
    const params: OptionalParameter[] = [];
    while (r.left > 0) params.push(decodeParam(r, extendedParams));
    return ok({ type: 1, version, myAs, holdTime, bgpId, params, extendedParams });
  } catch (e) {
    if (e instanceof BgpDecodeError) return err(e);
    if (e instanceof ReadOutOfBounds)
      return err(openError(0, `optional parameter overruns the message (${e.message})`));
    throw e;
  }
}

/** RFC 4271 §6.2 checks that need no configuration; the first failure, or undefined. */
export function checkOpen(m: OpenMessage): BgpDecodeError | undefined {
  if (m.version !== BGP_VERSION) {
    const data = new Uint8Array(2);
    writeU16(data, 0, BGP_VERSION);
    return openError(OpenSubcode.UNSUPPORTED_VERSION_NUMBER, `version ${m.version}, we speak 4`, data);
  }
  if (m.holdTime === 1 || m.holdTime === 2) {
    return openError(
      OpenSubcode.UNACCEPTABLE_HOLD_TIME,
      `hold time ${m.holdTime} s (must be 0 or at least 3)`,
    );
  }
  if (m.bgpId === 0) return openError(OpenSubcode.BAD_BGP_IDENTIFIER, 'BGP Identifier is zero');
  for (const p of m.params) {
    if (p.kind === 'unknown') {
      // The parameter itself as data, as BIRD sends it (RFC 4271 leaves the data unspecified).
      const data = new Uint8Array(encodingLengthParam(p, m.extendedParams));
      encodeParam(p, data, 0, m.extendedParams);
      return openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter type ${p.type}`, data);
    }
  }
  return undefined;
}

// ===== Helpers for the session =====

/** Every capability of an OPEN, in order, across all its Capabilities parameters. */
export function capabilitiesOf(m: OpenMessage): Capability[] {
  const out: Capability[] = [];
  for (const p of m.params) if (p.kind === 'capabilities') out.push(...p.capabilities);
  return out;
}

/** The sender's real ASN: the 4-octet AS capability when present, else My Autonomous System. */
export function speakerAsn(m: OpenMessage): number {
  for (const c of capabilitiesOf(m)) if (c.kind === 'four-octet-as') return c.asn;
  return m.myAs;
}
