// The JSON rendering: messageFromJson inverts messageToJson for every message type (through real
// JSON text), the readable forms are as documented, and bad input names the field at fault.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  keepaliveArb,
  notificationArb,
  openArb,
  routeRefreshArb,
  updateShapeArb,
} from '../../support/bgp-arbitraries.js';
import {
  BgpJsonError,
  contextFromJson,
  contextToJson,
  errorFromJson,
  errorToJson,
  messageFromJson,
  messageToJson,
} from '../../../wire/bgp/json.js';
import { BgpDecodeError } from '../../../wire/bgp/errors.js';
import { parseAddr6, parsePrefix, prefix4 } from '../../../wire/ip/index.js';
import type { BgpMessage, UpdateMessage } from '../../../wire/bgp/types.js';

function throughText(m: BgpMessage): BgpMessage {
  return messageFromJson(JSON.parse(JSON.stringify(messageToJson(m))));
}

describe('message JSON', () => {
  it('round-trips every message type through JSON text', () => {
    const any = fc.oneof(openArb, updateShapeArb, notificationArb, keepaliveArb, routeRefreshArb);
    fc.assert(
      fc.property(any, (m) => {
        const back = throughText(m);
        expect(messageToJson(back)).toEqual(messageToJson(m));
        expect(back).toEqual(m);
      }),
      { numRuns: 400 },
    );
  });

  it('renders UPDATE attributes in their readable forms', () => {
    const v6 = parsePrefix('2001:db8::/32');
    const nh = parseAddr6('2001:db8::1');
    const ll = parseAddr6('fe80::1');
    if (!v6.ok || !nh.ok || !ll.ok) throw new Error('bad test data');
    const m: UpdateMessage = {
      type: 2,
      withdrawn: [prefix4(0x0a000000, 8)],
      attrs: {
        origin: 0,
        asPath: [{ type: 2, asns: [65001, 65002] }],
        nextHop: 0xc0000201,
        communities: [0xfde80064, 0xffffff01],
        extCommunities: [0x0002fde8, 0x00000064],
        largeCommunities: [4200000000, 1, 2],
        mpReach: { afi: 2, safi: 1, nextHop: nh.value, nextHopLinkLocal: ll.value, nlri: [v6.value] },
        unknown: [{ flags: 0xc0, code: 99, data: Uint8Array.of(1, 2) }],
      },
      nlri: [],
    };
    expect(messageToJson(m)).toEqual({
      type: 'update',
      withdrawn: ['10.0.0.0/8'],
      attrs: {
        origin: 'igp',
        asPath: [{ type: 'sequence', asns: [65001, 65002] }],
        nextHop: '192.0.2.1',
        communities: ['65000:100', '65535:65281'],
        extCommunities: ['0002fde800000064'],
        largeCommunities: ['4200000000:1:2'],
        mpReach: {
          afi: 2,
          safi: 1,
          nextHop: '2001:db8::1',
          nextHopLinkLocal: 'fe80::1',
          nlri: ['2001:db8::/32'],
        },
        unknown: [{ flags: 192, code: 99, data: '0102' }],
      },
      nlri: [],
    });
  });

  it('names the notification error', () => {
    expect(messageToJson({ type: 3, code: 6, subcode: 2, data: new Uint8Array() })).toEqual({
      type: 'notification',
      code: 6,
      subcode: 2,
      error: 'CEASE/ADMINISTRATIVE_SHUTDOWN',
      data: '',
    });
  });

  it('names the first bad field', () => {
    const bad = (x: unknown) => () => messageFromJson(x);
    expect(
      bad({ type: 'open', version: 4, myAs: 70000, holdTime: 90, bgpId: '1.1.1.1', params: [] }),
    ).toThrow(/open\.myAs/);
    expect(bad({ type: 'update', withdrawn: ['10.0.0.1/8'], attrs: {}, nlri: [] })).toThrow(
      /update\.withdrawn\[0\]/,
    );
    expect(bad({ type: 'update', withdrawn: [], attrs: { communities: ['1:70000'] }, nlri: [] })).toThrow(
      /communities\[0\]/,
    );
    expect(bad({ type: 'update', withdrawn: [], attrs: {}, nlri: ['2001:db8::/32'] })).toThrow(/IPv4/);
    expect(bad({ type: 'hello' })).toThrow(BgpJsonError);
  });
});

describe('context and error JSON', () => {
  it('round-trips a context, defaulting absent fields', () => {
    const ctx = contextFromJson({
      fourOctetAs: true,
      addPath: [
        [1, 1],
        [2, 1],
      ],
    });
    expect(ctx.extendedMessage).toBe(false);
    expect([...ctx.addPath].sort()).toEqual([257, 513]);
    expect(contextToJson(ctx)).toEqual({
      fourOctetAs: true,
      extendedMessage: false,
      addPath: [
        [1, 1],
        [2, 1],
      ],
    });
    expect(contextFromJson(undefined)).toEqual({
      fourOctetAs: false,
      extendedMessage: false,
      addPath: new Set(),
    });
  });

  it('round-trips an error', () => {
    const e = new BgpDecodeError(3, 11, 'treat-as-withdraw', 'AS_PATH segment overruns', Uint8Array.of(9));
    const back = errorFromJson(JSON.parse(JSON.stringify(errorToJson(e))));
    expect([back.code, back.subcode, back.action, back.reason, [...back.data]]).toEqual([
      3,
      11,
      'treat-as-withdraw',
      'AS_PATH segment overruns',
      [9],
    ]);
    expect(() => errorFromJson({ code: 3, subcode: 1, action: 'shrug' })).toThrow(/action/);
  });
});
