// NOTIFICATION and ROUTE-REFRESH bodies: round-trip laws, byte layout and RFC 9003 Shutdown
// Communication.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCodec, type Codec } from '../../support/codec-laws.js';
import { notificationArb, routeRefreshArb } from '../../support/bgp-arbitraries.js';
import {
  decodeNotification,
  encodeNotification,
  encodingLengthNotification,
  shutdownCommunication,
  shutdownNotification,
} from '../../../wire/bgp/notification.js';
import {
  decodeRouteRefresh,
  encodeRouteRefresh,
  encodingLengthRouteRefresh,
} from '../../../wire/bgp/route-refresh.js';
import { CeaseSubcode } from '../../../wire/bgp/constants.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import type { NotificationMessage, RouteRefreshMessage } from '../../../wire/bgp/types.js';

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw r.error;
  return r.value;
}

const notificationCodec: Codec<NotificationMessage> = {
  encodingLength: encodingLengthNotification,
  encode: (m, buf, off) => encodeNotification(m, buf, off),
  decode: (buf, off, end) => unwrap(decodeNotification(buf, off, end)),
};

const routeRefreshCodec: Codec<RouteRefreshMessage> = {
  encodingLength: encodingLengthRouteRefresh,
  encode: (m, buf, off) => encodeRouteRefresh(m, buf, off),
  decode: (buf, off, end) => unwrap(decodeRouteRefresh(buf, off, end)),
};

describe('NOTIFICATION', () => {
  it('satisfies the round-trip laws', () => {
    fc.assert(fc.property(notificationArb, (m) => void checkCodec(notificationCodec, m, undefined)));
  });

  it('copies its data out of the receive buffer', () => {
    const b = Buffer.from(fromHex('0602' + '03616263')); // a Buffer's slice() is a view
    const m = unwrap(decodeNotification(b, 0, b.length));
    b.fill(0);
    expect(toHex(m.data)).toBe('03616263');
  });
});

describe('Shutdown Communication (RFC 9003)', () => {
  it('round-trips a message', () => {
    const n = shutdownNotification(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, 'maintenance — back at 10:00');
    expect([n.code, n.subcode]).toEqual([6, 2]);
    expect(n.data[0]).toBe(n.data.length - 1);
    expect(shutdownCommunication(n)).toBe('maintenance — back at 10:00');
  });

  it('finds the message inside a Hard Reset (RFC 8538 §3.1)', () => {
    const inner = shutdownNotification(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, 'going down');
    const data = new Uint8Array(2 + inner.data.length);
    data.set([6, 2]);
    data.set(inner.data, 2);
    expect(shutdownCommunication({ type: 3, code: 6, subcode: 9, data })).toBe('going down');
    expect(
      shutdownCommunication({ type: 3, code: 6, subcode: 9, data: new Uint8Array([6, 9, 6, 9]) }),
    ).toBeUndefined();
  });

  it('cuts long text at a character boundary within 255 octets', () => {
    const n = shutdownNotification(CeaseSubcode.ADMINISTRATIVE_RESET, 'é'.repeat(200));
    expect(n.data[0]).toBe(254);
    expect(shutdownCommunication(n)).toBe('é'.repeat(127));
  });

  it('ignores absent, overlong, invalid or misplaced messages', () => {
    const bare = { type: 3 as const, code: 6, subcode: 2 };
    expect(shutdownCommunication({ ...bare, data: new Uint8Array() })).toBeUndefined();
    expect(shutdownCommunication({ ...bare, data: fromHex('056162') })).toBeUndefined();
    expect(shutdownCommunication({ ...bare, data: fromHex('02c328') })).toBeUndefined();
    expect(shutdownCommunication({ ...bare, subcode: 3, data: fromHex('026162') })).toBeUndefined();
    expect(shutdownCommunication({ ...bare, data: fromHex('026162') })).toBe('ab');
  });
});

describe('ROUTE-REFRESH', () => {
  it('satisfies the round-trip laws', () => {
    fc.assert(fc.property(routeRefreshArb, (m) => void checkCodec(routeRefreshCodec, m, undefined)));
  });

  it('puts the RFC 7313 subtype in the reserved octet', () => {
    const b = new Uint8Array(4);
    encodeRouteRefresh({ type: 5, afi: 2, subtype: 1, safi: 1 }, b, 0);
    expect(toHex(b)).toBe('00020101');
  });
});
