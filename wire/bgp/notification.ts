// The BGP NOTIFICATION message body and the Shutdown Communication in its data field.
//
// RFC 4271 §4.5 (format), RFC 9003 §2 (Shutdown Communication for Cease / Administrative Shutdown
// and Administrative Reset; obsoletes RFC 8203, raising the limit to 255 octets), RFC 8538 §3
// (Hard Reset: the data carries the code and subcode of the cause).

import { ok, type Result } from '../result.js';
import { CeaseSubcode, ErrorCode } from './constants.js';
import { copyBytes } from './attributes.js';
import type { BgpDecodeError } from './errors.js';
import type { NotificationMessage } from './types.js';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Error code    | Error subcode |   Data (variable)             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// ===== Codec =====

/** Bytes of the NOTIFICATION body (the message minus its 19-byte header). */
export function encodingLengthNotification(m: NotificationMessage): number {
  return 2 + m.data.length;
}

/** Write the NOTIFICATION body at `off`; returns the offset after it. */
export function encodeNotification(m: NotificationMessage, buf: Uint8Array, off: number): number {
  buf[off] = m.code;
  buf[off + 1] = m.subcode;
  buf.set(m.data, off + 2);
  return off + 2 + m.data.length;
}

/**
 * Read the NOTIFICATION body `buf[off, end)`; the header check guarantees two bytes. Any code and
 * subcode is accepted: a NOTIFICATION is never answered with another (RFC 4271 §6.4).
 */
export function decodeNotification(
  buf: Uint8Array,
  off: number,
  end: number,
): Result<NotificationMessage, BgpDecodeError> {
  // Copied: the session keeps the last NOTIFICATION for the API after the buffer is reused.
  return ok({
    type: 3,
    code: buf[off] as number,
    subcode: buf[off + 1] as number,
    data: copyBytes(buf, off + 2, end),
  });
}

// ===== Shutdown Communication (RFC 9003) =====

//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Error code 6  |    Subcode    |     Length    |     ...       \
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+               /
//  \                 Shutdown Communication (UTF-8) ...            \
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/** Largest Shutdown Communication in octets (RFC 9003 §2). */
export const MAX_SHUTDOWN_COMMUNICATION = 255;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return (
    code === ErrorCode.CEASE &&
    (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN || subcode === CeaseSubcode.ADMINISTRATIVE_RESET)
  );
}

/**
 * A Cease NOTIFICATION carrying an operator's message. The text is cut at a character boundary to
 * fit 255 octets of UTF-8.
 */
export function shutdownNotification(
  subcode: typeof CeaseSubcode.ADMINISTRATIVE_SHUTDOWN | typeof CeaseSubcode.ADMINISTRATIVE_RESET,
  text: string,
): NotificationMessage {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION) {
    let cut = MAX_SHUTDOWN_COMMUNICATION;
    while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const data = new Uint8Array(1 + bytes.length);
  data[0] = bytes.length;
  data.set(bytes, 1);
  return { type: 3, code: ErrorCode.CEASE, subcode, data };
}

/**
 * The operator's message in a Cease / Administrative Shutdown or Reset NOTIFICATION, or undefined
 * when there is none or it is malformed (RFC 9003 §4: a bad one is logged and otherwise ignored).
 */
export function shutdownCommunication(m: NotificationMessage): string | undefined {
  // RFC 8538 §3.1: a Hard Reset carries the original code, subcode and data in its own data.
  if (m.code === ErrorCode.CEASE && m.subcode === CeaseSubcode.HARD_RESET && m.data.length >= 2) {
    const inner: NotificationMessage = {
      type: 3,
      code: m.data[0] as number,
      subcode: m.data[1] as number,
      data: m.data.subarray(2),
    };
    return inner.subcode === CeaseSubcode.HARD_RESET ? undefined : shutdownCommunication(inner);
  }
  if (!carriesShutdownCommunication(m.code, m.subcode) || m.data.length === 0) return undefined;
  const len = m.data[0] as number;
  if (len === 0 || len + 1 > m.data.length) return undefined;
  try {
    return utf8.decode(m.data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}
