// UPDATE body codec: round-trip laws over every attribute type, both AS sizes and ADD-PATH,
// encoding order and flags, and hand-checked bytes for a typical UPDATE.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkCodec, type Codec } from '../../support/codec-laws.js';
import {
  decodeUpdateBody,
  encodeUpdateBody,
  errorAfiSafi,
  updateBodyLength,
} from '../../../wire/bgp/update.js';
import type { CodecContext, UpdateMessage } from '../../../wire/bgp/types.js';
import { DEFAULT_CONTEXT } from '../../../wire/bgp/types.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { parsePrefix4, parsePrefix6, parseAddr4, parseAddr6, type Prefix4 } from '../../../wire/ip/index.js';
import { arbUpdate, CONTEXTS } from './arb-update.js';
import { BgpDecodeError } from '../../../wire/bgp/errors.js';

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const codec: Codec<UpdateMessage, CodecContext> = {
  encodingLength: updateBodyLength,
  encode: encodeUpdateBody,
  decode: decodeUpdateBody,
};

const p4 = (s: string): Prefix4 => {
  const r = parsePrefix4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const a4 = (s: string): number => {
  const r = parseAddr4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

function encode(msg: UpdateMessage, ctx: CodecContext): Uint8Array {
  const b = new Uint8Array(updateBodyLength(msg, ctx));
  encodeUpdateBody(msg, b, 0, ctx);
  return b;
}

describe('UPDATE round-trip laws', () => {
  for (const { name, ctx } of CONTEXTS) {
    it(`holds for arbitrary UPDATEs (${name})`, () => {
      fc.assert(
        fc.property(arbUpdate(ctx), (msg) => {
          checkCodec(codec, msg, ctx);
          const back = decodeUpdateBody(encode(msg, ctx), 0, updateBodyLength(msg, ctx), ctx);
          expect(back.treatAsWithdraw).toBeUndefined();
          expect(back.discarded).toBeUndefined();
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('UPDATE encoding', () => {
  const ctx: CodecContext = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };

  it('writes a typical IPv4 UPDATE byte for byte', () => {
    const msg: UpdateMessage = {
      type: 2,
      withdrawn: [p4('10.1.0.0/16')],
      attrs: {
        origin: 0,
        asPath: [{ type: 2, asns: [65001, 4200000000] }],
        nextHop: a4('192.0.2.1'),
        med: 100,
        communities: [0xfde80064],
      },
      nlri: [p4('198.51.100.0/24'), p4('203.0.113.128/25')],
    };
    const hex = toHex(encode(msg, ctx));
    expect(hex).toBe(
      [
        '0003',
        '100a01', // withdrawn: 10.1/16
        '0026', // total attribute length 38
        '40010100', // ORIGIN IGP
        '4002 0a 02 02 0000fde9 fa56ea00'.replace(/ /g, ''), // AS_PATH seq [65001, 4200000000]
        '400304c0000201', // NEXT_HOP
        '80040400000064', // MED 100
        'c00804fde80064', // COMMUNITIES 65000:100
        '18c63364', // 198.51.100/24
        '19cb007180', // 203.0.113.128/25
      ].join(''),
    );
  });

  it('puts MP_REACH and MP_UNREACH first and unknown attributes in code order with Partial set', () => {
    const msg: UpdateMessage = {
      type: 2,
      withdrawn: [],
      attrs: {
        origin: 2,
        asPath: [],
        unknown: [
          { flags: 0xc0, code: 99, data: Uint8Array.of(1, 2) },
          { flags: 0xc0, code: 12, data: Uint8Array.of(3) },
        ],
        mpUnreach: { afi: 2, safi: 1, withdrawn: [] },
        mpReach: {
          afi: 2,
          safi: 1,
          nextHop: ok(parseAddr6('2001:db8::1')),
          nlri: [ok(parsePrefix6('2001:db8:1::/48'))],
        },
      },
      nlri: [],
    };
    const b = encode(msg, ctx);
    const codes: number[] = [];
    const flags: number[] = [];
    let o = 4;
    while (o < b.length) {
      flags.push(b[o]!);
      codes.push(b[o + 1]!);
      o += b[o]! & 0x10 ? 4 + ((b[o + 2]! << 8) | b[o + 3]!) : 3 + b[o + 2]!;
    }
    expect(codes).toEqual([14, 15, 1, 2, 12, 99]);
    expect(flags[4]).toBe(0xe0);
    expect(flags[5]).toBe(0xe0);
  });

  it('uses the extended-length bit exactly when a value exceeds 255 bytes', () => {
    for (const n of [63, 64]) {
      const msg: UpdateMessage = {
        type: 2,
        withdrawn: [],
        attrs: { communities: Array.from({ length: n }, (_, i) => i) },
        nlri: [],
      };
      const b = encode(msg, ctx);
      expect(b[4]! & 0x10, `${n * 4}-byte COMMUNITIES`).toBe(n * 4 > 255 ? 0x10 : 0);
      expect(decodeUpdateBody(b, 0, b.length, ctx).attrs.communities).toEqual(msg.attrs.communities);
    }
  });

  it('accepts the extended-length bit on short values when decoding', () => {
    const b = fromHex('0000 0005 5001 0001 02');
    expect(decodeUpdateBody(b, 0, b.length, ctx).attrs.origin).toBe(2);
  });

  it('writes ASNs above 65535 as AS_TRANS on a 2-octet session', () => {
    const msg: UpdateMessage = {
      type: 2,
      withdrawn: [],
      attrs: { asPath: [{ type: 2, asns: [70000, 65001] }], aggregator: { asn: 70000, addr: 1 } },
      nlri: [],
    };
    const back = decodeUpdateBody(
      encode(msg, DEFAULT_CONTEXT),
      0,
      updateBodyLength(msg, DEFAULT_CONTEXT),
      DEFAULT_CONTEXT,
    );
    expect(back.attrs.asPath).toEqual([{ type: 2, asns: [23456, 65001] }]);
    expect(back.attrs.aggregator).toEqual({ asn: 23456, addr: 1 });
  });
});

describe('UPDATE decoding details', () => {
  const ctx: CodecContext = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };

  it('clears host bits in NLRI (RFC 4271 §4.3: trailing bits are irrelevant)', () => {
    const body = fromHex('0000 0014 40010100 40020602010000fde9 400304c0000201 17c63365 100aff');
    const m = decodeUpdateBody(body, 0, body.length, ctx);
    expect(m.nlri).toEqual([p4('198.51.100.0/23'), p4('10.255.0.0/16')]);
  });

  it('keeps unknown optional transitive attributes and drops unknown optional non-transitive ones', () => {
    const body = fromHex('0000 000d c06302abcd 806401ee 40010100');
    const m = decodeUpdateBody(body, 0, body.length, ctx);
    expect(m.attrs.unknown).toEqual([{ flags: 0xe0, code: 0x63, data: Uint8Array.of(0xab, 0xcd) }]);
    expect(m.attrs.origin).toBe(0);
  });

  it('reports the AFI/SAFI of an AFI/SAFI-disable error', () => {
    // MP_REACH for IPv6 unicast with a next-hop length of 5
    const body = fromHex('0000 000d 800e0a 0002 01 05 0000000000 00');
    let caught: unknown;
    try {
      decodeUpdateBody(body, 0, body.length, ctx);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BgpDecodeError);
    const e = caught as BgpDecodeError;
    expect(e.action).toBe('afisafi-disable');
    expect(errorAfiSafi(e)).toEqual({ afi: 2, safi: 1 });
  });
});
