// The BGP ROUTE-REFRESH message body (RFC 2918 §3), with the RFC 7313 §3.2 message subtype in the
// octet RFC 2918 reserved. The RFC 7313 §5 length check needs the subtype and the whole message,
// so `message.ts` makes it. A subtype other than 0, 1 or 2 decodes as is: RFC 7313 §5 has the
// session ignore the message.

import { ok, type Result } from '../result.js';
import { writeU16 } from '../reader.js';
import type { BgpDecodeError } from './errors.js';
import type { RouteRefreshMessage } from './types.js';

//  0       7      15      23      31
//  +-------+-------+-------+-------+
//  |      AFI      |Subtype| SAFI  |
//  +-------+-------+-------+-------+

/** Bytes of the ROUTE-REFRESH body. */
export const ROUTE_REFRESH_BODY_LENGTH = 4;

/** Bytes of the ROUTE-REFRESH body (always 4). */
export function encodingLengthRouteRefresh(_m: RouteRefreshMessage): number {
  return ROUTE_REFRESH_BODY_LENGTH;
}

/** Write the ROUTE-REFRESH body at `off`; returns the offset after it. */
export function encodeRouteRefresh(m: RouteRefreshMessage, buf: Uint8Array, off: number): number {
  off = writeU16(buf, off, m.afi);
  buf[off] = m.subtype;
  buf[off + 1] = m.safi;
  return off + 2;
}

/** Read the ROUTE-REFRESH body at `off`: its first 4 bytes (the header check guarantees them). */
export function decodeRouteRefresh(
  buf: Uint8Array,
  off: number,
  _end: number,
): Result<RouteRefreshMessage, BgpDecodeError> {
  return ok({
    type: 5,
    afi: ((buf[off] as number) << 8) | (buf[off + 1] as number),
    subtype: buf[off + 2] as number,
    safi: buf[off + 3] as number,
  });
}
