// Whole BGP messages: the 19-byte header plus the body of each message type.
//
// RFC 4271 §4 (messages) and §6.1 (header errors), RFC 4271 §4.4 (KEEPALIVE is a bare header),
// RFC 8654 §4 (maximum lengths). The bodies live in their own modules: `open.ts`, `update.ts`,
// `notification.ts`, `route-refresh.ts`. This is the one entry point the session uses:
// `decodeMessage` on each frame `nextFrame` finds, `encodeMessageBytes` for each message it sends.

import { err, ok, type Result } from '../result.js';
import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderSubcode,
  MessageType,
  RouteRefreshErrorSubcode,
  RouteRefreshSubtype,
} from './constants.js';
import { copyBytes } from './attributes.js';
import { BgpDecodeError, isBgpDecodeError } from './errors.js';
import { decodeHeader, encodeHeader, maxMessageLength, MIN_MESSAGE_LENGTH } from './header.js';
import { checkOpen, decodeOpen, encodeOpen, encodingLengthOpen } from './open.js';
import { decodeNotification, encodeNotification, encodingLengthNotification } from './notification.js';
import { decodeRouteRefresh, encodeRouteRefresh, encodingLengthRouteRefresh } from './route-refresh.js';
import { decodeUpdateBody, encodeUpdateBody, updateBodyLength } from './update.js';
import type { BgpMessage, CodecContext } from './types.js';

// ===== Encoding =====

function bodyLength(m: BgpMessage, ctx: CodecContext): number {
  switch (m.type) {
    case MessageType.OPEN:
      return encodingLengthOpen(m);
    case MessageType.UPDATE:
      return updateBodyLength(m, ctx);
    case MessageType.NOTIFICATION:
      return encodingLengthNotification(m);
    case MessageType.KEEPALIVE:
      return 0;
    case MessageType.ROUTE_REFRESH:
      return encodingLengthRouteRefresh(m);
  }
}

/** Bytes of the whole message, header included. */
export function encodingLengthMessage(m: BgpMessage, ctx: CodecContext): number {
  return HEADER_LENGTH + bodyLength(m, ctx);
}

/**
 * Write the whole message at `off`; returns the offset after it. Throws RangeError for a message
 * longer than the session allows: whoever builds it must split it first (RFC 4271 §4, RFC 8654).
 */
export function encodeMessage(m: BgpMessage, buf: Uint8Array, off: number, ctx: CodecContext): number {
  return encodeSized(m, encodingLengthMessage(m, ctx), buf, off, ctx);
}

/** The whole message in a buffer of its own (one allocation). */
export function encodeMessageBytes(m: BgpMessage, ctx: CodecContext): Uint8Array {
  const length = encodingLengthMessage(m, ctx);
  const buf = Buffer.allocUnsafe(length);
  encodeSized(m, length, buf, 0, ctx);
  return buf;
}

function encodeSized(m: BgpMessage, length: number, buf: Uint8Array, off: number, ctx: CodecContext): number {
  const max = maxMessageLength(m.type, ctx);
  if (length > max) throw new RangeError(`message type ${m.type} of ${length} bytes exceeds ${max}`);
  const body = encodeHeader(m.type, length, buf, off);
  switch (m.type) {
    case MessageType.OPEN:
      return encodeOpen(m, buf, body);
    case MessageType.UPDATE:
      return encodeUpdateBody(m, buf, body, ctx);
    case MessageType.NOTIFICATION:
      return encodeNotification(m, buf, body);
    case MessageType.KEEPALIVE:
      return body;
    case MessageType.ROUTE_REFRESH:
      return encodeRouteRefresh(m, buf, body);
  }
}

// ===== Decoding =====

/**
 * Decode exactly one message occupying `buf[off, end)`. Never throws: every failure is a
 * `BgpDecodeError`. An OPEN must also pass `checkOpen`. Byte fields of the result are copies, so
 * the caller may reuse `buf` at once.
 */
export function decodeMessage(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: CodecContext,
): Result<BgpMessage, BgpDecodeError> {
  const h = decodeHeader(buf, off, end, ctx);
  if (!h.ok) return h;
  const { length, type } = h.value;
  if (length !== end - off) {
    const data = copyBytes(buf, off + 16, off + 18);
    return err(
      new BgpDecodeError(
        ErrorCode.MESSAGE_HEADER,
        HeaderSubcode.BAD_MESSAGE_LENGTH,
        'session-reset',
        `length field says ${length}, the frame holds ${end - off} bytes`,
        data,
      ),
    );
  }
  const body = off + HEADER_LENGTH;
  switch (type) {
    case MessageType.OPEN: {
      const r = decodeOpen(buf, body, end);
      if (!r.ok) return r;
      const bad = checkOpen(r.value);
      return bad === undefined ? r : err(bad);
    }
    case MessageType.UPDATE:
      // The UPDATE decoder throws its session-ending errors; anything else escaping is a bug.
      try {
        return ok(decodeUpdateBody(buf, body, end, ctx));
      } catch (e) {
        if (isBgpDecodeError(e)) return err(e);
        throw e;
      }
    case MessageType.NOTIFICATION:
      return decodeNotification(buf, body, end);
    case MessageType.KEEPALIVE:
      return ok({ type: MessageType.KEEPALIVE });
    case MessageType.ROUTE_REFRESH: {
      const r = decodeRouteRefresh(buf, body, end);
      // RFC 7313 §5: a BoRR or EoRR must be exactly 23 bytes, and the NOTIFICATION carries the
      // whole message. A longer normal refresh carries RFC 5291 ORF entries, which we never
      // negotiate and so ignore.
      if (
        r.ok &&
        (r.value.subtype === RouteRefreshSubtype.BEGIN || r.value.subtype === RouteRefreshSubtype.END)
      ) {
        if (length !== MIN_MESSAGE_LENGTH[MessageType.ROUTE_REFRESH]) {
          return err(
            new BgpDecodeError(
              ErrorCode.ROUTE_REFRESH,
              RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH,
              'session-reset',
              `ROUTE-REFRESH subtype ${r.value.subtype} of ${length} bytes, must be 23`,
              copyBytes(buf, off, end),
            ),
          );
        }
      }
      return r;
    }
  }
}
