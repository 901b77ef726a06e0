// OPEN body and capabilities: round-trip laws over every capability, RFC 9072 extended lengths,
// hand-built byte layouts and the RFC 4271 §6.2 checks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCodec, type Codec } from '../../support/codec-laws.js';
import { openArb } from '../../support/bgp-arbitraries.js';
import {
  checkOpen,
  decodeOpen,
  encodeOpen,
  encodingLengthOpen,
  capabilitiesOf,
  speakerAsn,
} from '../../../wire/bgp/open.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { ErrorCode, OpenSubcode } from '../../../wire/bgp/constants.js';
import type { OpenMessage } from '../../../wire/bgp/types.js';

const openCodec: Codec<OpenMessage> = {
  encodingLength: (m) => encodingLengthOpen(m),
  encode: (m, buf, off) => encodeOpen(m, buf, off),
  decode: (buf, off, end) => {
    const r = decodeOpen(buf, off, end);
    if (!r.ok) throw r.error;
    return r.value;
  },
};

function encode(m: OpenMessage): string {
  const buf = new Uint8Array(encodingLengthOpen(m));
  encodeOpen(m, buf, 0);
  return toHex(buf);
}

function decode(hex: string) {
  const b = fromHex(hex);
  return decodeOpen(b, 0, b.length);
}

const base: OpenMessage = {
  type: 1,
  version: 4,
  myAs: 65001,
  holdTime: 90,
  bgpId: 0x0a000001,
  params: [],
  extendedParams: false,
};

describe('OPEN codec', () => {
  it('satisfies the round-trip laws for any OPEN', () => {
    fc.assert(
      fc.property(openArb, (m) => void checkCodec(openCodec, m, undefined)),
      { numRuns: 300 },
    );
  });

  it('lays out the fixed fields and a capabilities parameter', () => {
    const m: OpenMessage = {
      ...base,
      params: [
        {
          kind: 'capabilities',
          capabilities: [
            { kind: 'multiprotocol', afi: 1, safi: 1 },
            { kind: 'four-octet-as', asn: 4200000001 },
            { kind: 'route-refresh' },
          ],
        },
      ],
    };
    // 04 | fde9 | 005a | 0a000001 | len 16 | type 2 len 14 | 01 04 0001 00 01 | 41 04 fa56ea01 | 02 00
    expect(encode(m)).toBe('04fde9005a0a00000110020e0104000100014104fa56ea010200');
    expect(speakerAsn(m)).toBe(4200000001);
    expect(capabilitiesOf(m)).toHaveLength(3);
  });

  it('encodes each capability as its RFC lays it out', () => {
    const one = (c: OpenMessage['params'][number]) => encode({ ...base, params: [c] }).slice(20);
    expect(
      one({
        kind: 'capabilities',
        capabilities: [
          {
            kind: 'graceful-restart',
            restarting: true,
            notification: true,
            restartTime: 120,
            families: [{ afi: 2, safi: 1, forwardingPreserved: true }],
          },
        ],
      }),
    ).toBe('0208' + '4006' + 'c078' + '0002' + '01' + '80');
    expect(
      one({
        kind: 'capabilities',
        capabilities: [{ kind: 'add-path', entries: [{ afi: 1, safi: 1, sendReceive: 3 }] }],
      }),
    ).toBe('0206' + '4504' + '0001' + '01' + '03');
    expect(
      one({
        kind: 'capabilities',
        capabilities: [
          {
            kind: 'long-lived-graceful-restart',
            families: [{ afi: 1, safi: 1, forwardingPreserved: false, staleTime: 0x123456 }],
          },
        ],
      }),
    ).toBe('0209' + '4707' + '0001' + '01' + '00' + '123456');
    expect(
      one({
        kind: 'capabilities',
        capabilities: [{ kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }],
      }),
    ).toBe('0208' + '0506' + '0001' + '0001' + '0002');
    expect(one({ kind: 'capabilities', capabilities: [{ kind: 'fqdn', hostname: 'r1', domain: '' }] })).toBe(
      '0206' + '4904' + '02' + '7231' + '00',
    );
    expect(one({ kind: 'capabilities', capabilities: [{ kind: 'bgp-role', role: 3 }] })).toBe(
      '0203' + '090103',
    );
  });

  it('uses RFC 9072 extended parameter lengths when asked', () => {
    const m: OpenMessage = {
      ...base,
      extendedParams: true,
      params: [{ kind: 'capabilities', capabilities: [{ kind: 'route-refresh' }] }],
    };
    // len 255 | type 255 | ext len 0005 | type 2 len 0002 | 02 00
    expect(encode(m).slice(18)).toBe('ffff0005020002' + '0200');
    const d = decode(encode(m));
    expect(d.ok && d.value).toEqual(m);
  });

  it('refuses to encode more than 255 bytes of parameters without extended lengths', () => {
    const big: OpenMessage = {
      ...base,
      params: [{ kind: 'unknown', type: 9, data: new Uint8Array(300) }],
    };
    expect(() => encode(big)).toThrow(RangeError);
    expect(() => encode({ ...big, extendedParams: true })).not.toThrow();
  });

  it('keeps unknown capabilities and a malformed FQDN capability as raw bytes', () => {
    const d = decode('04fde9005a0a000001' + '0a' + '0208' + 'f00201ff' + '4902' + '05' + '61');
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(capabilitiesOf(d.value)).toEqual([
      { kind: 'unknown', code: 0xf0, data: fromHex('01ff') },
      { kind: 'unknown', code: 73, data: fromHex('0561') },
    ]);
  });

  it('copies unknown parameters and capabilities out of the receive buffer', () => {
    const b = Buffer.from(fromHex('04fde9005a0a000001' + '0a' + '0204' + 'f00201ff' + '09020102'));
    const d = decodeOpen(b, 0, b.length);
    b.fill(0);
    expect(d.ok && d.value.params).toEqual([
      { kind: 'capabilities', capabilities: [{ kind: 'unknown', code: 0xf0, data: fromHex('01ff') }] },
      { kind: 'unknown', type: 9, data: fromHex('0102') },
    ]);
  });
});

describe('OPEN decode errors', () => {
  const expectOpenError = (hex: string, subcode: number) => {
    const d = decode(hex);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect([d.error.code, d.error.subcode, d.error.action]).toEqual([
      ErrorCode.OPEN_MESSAGE,
      subcode,
      'session-reset',
    ]);
  };

  it('rejects a parameter length that disagrees with the message', () => {
    expectOpenError('04fde9005a0a000001' + '05' + '0202' + '0200', 0);
    expectOpenError('04fde9005a0a000001' + '03' + '0202' + '0200', 0);
  });

  it('rejects a capability that overruns its parameter', () => {
    expectOpenError('04fde9005a0a000001' + '04' + '0202' + '0104', 0);
  });

  it('rejects known capabilities of the wrong length', () => {
    expectOpenError('04fde9005a0a000001' + '05' + '0203' + '020100', 0); // route refresh with a value
    expectOpenError('04fde9005a0a000001' + '07' + '0205' + '4103' + '000001', 0); // 3-byte ASN
    expectOpenError('04fde9005a0a000001' + '07' + '0205' + '4503' + '000101', 0); // ADD-PATH not 4n
    expectOpenError('04fde9005a0a000001' + '05' + '0203' + '4001' + '00', 0); // GR without its 2-byte head
  });
});

describe('checkOpen (RFC 4271 §6.2)', () => {
  it('accepts a plain OPEN', () => {
    expect(checkOpen(base)).toBeUndefined();
    expect(checkOpen({ ...base, holdTime: 0 })).toBeUndefined();
    expect(checkOpen({ ...base, holdTime: 3 })).toBeUndefined();
  });

  it('names the version we support in the data field', () => {
    const e = checkOpen({ ...base, version: 3 });
    expect([e?.code, e?.subcode, toHex(e?.data ?? new Uint8Array())]).toEqual([
      2,
      OpenSubcode.UNSUPPORTED_VERSION_NUMBER,
      '0004',
    ]);
  });

  it('rejects hold times 1 and 2, identifier zero and unknown parameters', () => {
    expect(checkOpen({ ...base, holdTime: 1 })?.subcode).toBe(OpenSubcode.UNACCEPTABLE_HOLD_TIME);
    expect(checkOpen({ ...base, holdTime: 2 })?.subcode).toBe(OpenSubcode.UNACCEPTABLE_HOLD_TIME);
    expect(checkOpen({ ...base, bgpId: 0 })?.subcode).toBe(OpenSubcode.BAD_BGP_IDENTIFIER);
    const e = checkOpen({ ...base, params: [{ kind: 'unknown', type: 9, data: Uint8Array.of(1, 2) }] });
    expect([e?.subcode, toHex(e?.data ?? new Uint8Array())]).toEqual([
      OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER,
      '09020102',
    ]);
  });
});
