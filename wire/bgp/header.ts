// The BGP message header and stream framing (RFC 4271 §4.1 and §6.1, RFC 8654 §4).
//
// Every message starts with the same 19 bytes. This module checks them once, before any body
// decoder runs: the marker, the length against the negotiated maximum and the per-type minimum,
// and the type. It also finds message boundaries in a TCP byte stream for the transport driver.

import { err, ok, type Result } from '../result.js';
import { writeU16 } from '../reader.js';
import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from './constants.js';
import { BgpDecodeError } from './errors.js';
import type { CodecContext } from './types.js';

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                                                               +
// |                                                               |
// +                                                               +
// |                           Marker                              |
// +                                                               +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Length               |      Type     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// ===== Limits =====

/** Smallest whole message of each type (RFC 4271 §4.2–§4.5, RFC 2918 §3). */
export const MIN_MESSAGE_LENGTH: Readonly<Record<MessageType, number>> = {
  [MessageType.OPEN]: 29,
  [MessageType.UPDATE]: 23,
  [MessageType.NOTIFICATION]: 21,
  [MessageType.KEEPALIVE]: 19,
  [MessageType.ROUTE_REFRESH]: 23,
};

/** Largest message of a type the session allows (RFC 8654 §4: OPEN and KEEPALIVE stay at 4096). */
export function maxMessageLength(type: number, ctx: CodecContext): number {
  if (!ctx.extendedMessage || type === MessageType.OPEN || type === MessageType.KEEPALIVE) {
    return MAX_MESSAGE_LENGTH;
  }
  return MAX_EXTENDED_MESSAGE_LENGTH;
}

// ===== Header =====

/** The two header fields that follow the marker. */
export interface BgpHeader {
  /** Total message length, header included. */
  readonly length: number;
  readonly type: MessageType;
}

function headerError(subcode: number, reason: string, data?: Uint8Array): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.MESSAGE_HEADER, subcode, 'session-reset', reason, data);
}

function badLength(length: number, reason: string): BgpDecodeError {
  const data = new Uint8Array(2);
  writeU16(data, 0, length);
  return headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, reason, data);
}

function isMessageType(t: number): t is MessageType {
  return t >= MessageType.OPEN && t <= MessageType.ROUTE_REFRESH;
}

/**
 * Check the 19-byte header at `buf[off]` (RFC 4271 §6.1); `end` bounds the readable bytes. The
 * body need not have arrived yet.
 */
export function decodeHeader(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: CodecContext,
): Result<BgpHeader, BgpDecodeError> {
  if (end - off < HEADER_LENGTH) {
    // No length field to quote as data: the frame is shorter than the header.
    return err(
      headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, `header needs ${HEADER_LENGTH} bytes, have ${end - off}`),
    );
  }
  for (let i = 0; i < 16; i++) {
    if (buf[off + i] !== 0xff) {
      return err(headerError(HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, `marker byte ${i} is not 0xff`));
    }
  }
  const length = ((buf[off + 16] as number) << 8) | (buf[off + 17] as number);
  const type = buf[off + 18] as number;
  if (!isMessageType(type)) {
    return err(
      headerError(HeaderSubcode.BAD_MESSAGE_TYPE, `unknown message type ${type}`, Uint8Array.of(type)),
    );
  }
  const max = maxMessageLength(type, ctx);
  if (length > max) return err(badLength(length, `length ${length} above the maximum ${max}`));
  if (length < MIN_MESSAGE_LENGTH[type]) {
    return err(
      badLength(length, `length ${length} below the minimum ${MIN_MESSAGE_LENGTH[type]} for type ${type}`),
    );
  }
  if (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH) {
    return err(badLength(length, `KEEPALIVE length ${length}, must be 19`));
  }
  return ok({ length, type });
}

/** Write a header for a message of `length` bytes in total; returns the offset of the body. */
export function encodeHeader(type: MessageType, length: number, buf: Uint8Array, off: number): number {
  buf.fill(0xff, off, off + 16);
  writeU16(buf, off + 16, length);
  buf[off + 18] = type;
  return off + HEADER_LENGTH;
}

// ===== Stream framing =====

/** What the bytes at the head of a TCP stream amount to. */
export type Frame =
  | { readonly kind: 'partial' }
  | { readonly kind: 'message'; readonly header: BgpHeader }
  | { readonly kind: 'error'; readonly error: BgpDecodeError };

/**
 * Look at `buf[off, end)`, the unread part of a stream: a whole message is there (its header says
 * how long), more bytes are needed, or the header is bad and the session must be reset.
 */
export function nextFrame(buf: Uint8Array, off: number, end: number, ctx: CodecContext): Frame {
  if (end - off < HEADER_LENGTH) return { kind: 'partial' };
  const h = decodeHeader(buf, off, end, ctx);
  if (!h.ok) return { kind: 'error', error: h.error };
  return end - off < h.value.length ? { kind: 'partial' } : { kind: 'message', header: h.value };
}
