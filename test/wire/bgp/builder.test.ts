// UPDATE builder: every prefix appears exactly once across the messages, every message fits the
// size limit and decodes back to the attributes it was built from, /24 packing is minimal, and
// withdrawals and End-of-RIB markers have the RFC 4724 §2 form.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildAnnouncements,
  buildWithdrawals,
  endOfRib,
  endOfRibFamily,
  updateSizeLimit,
} from '../../../wire/bgp/builder.js';
import { decodeUpdateBody } from '../../../wire/bgp/update.js';
import { attributesLength } from '../../../wire/bgp/attributes.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST, afiSafiKey } from '../../../wire/bgp/constants.js';
import type { CodecContext, PathAttributes, UpdateMessage } from '../../../wire/bgp/types.js';
import { isPrefix4, prefix4, type Prefix } from '../../../wire/ip/index.js';
import { toHex } from '../../../wire/reader.js';
import { arbAddr6, arbNextHop4, arbPathAttributes, arbPrefix4, arbPrefix6, CONTEXTS } from './arb-update.js';

function decodeMessage(m: Uint8Array, ctx: CodecContext): UpdateMessage {
  expect(toHex(m.subarray(0, 16))).toBe('ff'.repeat(16));
  expect((m[16]! << 8) | m[17]!).toBe(m.length);
  expect(m[18]).toBe(2);
  expect(m.length).toBeLessThanOrEqual(updateSizeLimit(ctx));
  const u = decodeUpdateBody(m, 19, m.length, ctx);
  expect(u.treatAsWithdraw).toBeUndefined();
  expect(u.discarded).toBeUndefined();
  return u;
}

const arbPrefixes = fc.oneof(
  fc.array(fc.oneof(arbPrefix4 as fc.Arbitrary<Prefix>, arbPrefix6), { maxLength: 60 }),
  fc.array(fc.oneof(arbPrefix4 as fc.Arbitrary<Prefix>, arbPrefix6), { minLength: 500, maxLength: 3000 }),
);

function arbAnnounceAttrs(ctx: CodecContext): fc.Arbitrary<PathAttributes> {
  return fc
    .record({
      a: arbPathAttributes(ctx),
      nh: arbNextHop4,
      nh6: arbAddr6,
      ll: fc.option(arbAddr6, { nil: undefined }),
    })
    .map(({ a, nh, nh6, ll }) => {
      const { mpUnreach: _u, mpReach: _r, ...rest } = a;
      return {
        ...rest,
        origin: a.origin ?? 0,
        asPath: a.asPath ?? [],
        nextHop: nh,
        mpReach: {
          afi: 2,
          safi: 1,
          nextHop: nh6,
          ...(ll !== undefined ? { nextHopLinkLocal: ll } : {}),
          nlri: [],
        },
      };
    });
}

describe('buildAnnouncements', () => {
  for (const { name, ctx } of CONTEXTS) {
    it(`packs every prefix exactly once into messages that fit and decode to the attributes (${name})`, () => {
      fc.assert(
        fc.property(arbAnnounceAttrs(ctx), arbPrefixes, (attrs, prefixes) => {
          const ids = prefixes.map((_, i) => i * 7 + 1);
          const msgs = buildAnnouncements(attrs, prefixes, ctx, ids);
          const got4: Prefix[] = [];
          const got6: Prefix[] = [];
          const gotIds4: number[] = [];
          const gotIds6: number[] = [];
          const { mpReach, mpUnreach: _u, nextHop, ...common } = attrs;
          for (const m of msgs) {
            const u = decodeMessage(m, ctx);
            expect(u.withdrawn).toEqual([]);
            if (u.nlri.length > 0) {
              expect(u.attrs).toEqual({ ...common, nextHop });
              got4.push(...u.nlri);
              gotIds4.push(...(u.nlriPathIds ?? []));
            } else {
              const r = u.attrs.mpReach!;
              const { mpReach: _r, ...others } = u.attrs;
              expect(others).toEqual(common);
              expect(r.nextHop).toEqual(mpReach!.nextHop);
              expect(r.nextHopLinkLocal).toEqual(mpReach!.nextHopLinkLocal);
              expect(r.nlri.length).toBeGreaterThan(0);
              got6.push(...r.nlri);
              gotIds6.push(...(r.pathIds ?? []));
            }
          }
          expect(got4).toEqual(prefixes.filter(isPrefix4));
          expect(got6).toEqual(prefixes.filter((p) => !isPrefix4(p)));
          if (ctx.addPath.has(AFISAFI_IPV4_UNICAST))
            expect(gotIds4).toEqual(ids.filter((_, i) => isPrefix4(prefixes[i]!)));
          if (ctx.addPath.has(AFISAFI_IPV6_UNICAST))
            expect(gotIds6).toEqual(ids.filter((_, i) => !isPrefix4(prefixes[i]!)));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('uses the minimal number of messages for /24s', () => {
    const ctx = CONTEXTS[1]!.ctx;
    fc.assert(
      fc.property(arbAnnounceAttrs(ctx), fc.integer({ min: 1, max: 5000 }), (attrs, n) => {
        const prefixes = Array.from({ length: n }, (_, i) => prefix4(0x0a000000 + i * 256, 24));
        const msgs = buildAnnouncements(attrs, prefixes, ctx);
        const { mpReach: _r, mpUnreach: _u, ...v4attrs } = attrs;
        const perMessage = Math.floor((4096 - 23 - attributesLength(v4attrs, ctx)) / 4);
        expect(msgs.length).toBe(Math.ceil(n / perMessage));
      }),
      { numRuns: 40 },
    );
  });

  it('fills messages up to 65535 bytes with the extended message capability', () => {
    const ctx: CodecContext = { fourOctetAs: true, extendedMessage: true, addPath: new Set() };
    const prefixes = Array.from({ length: 40000 }, (_, i) => prefix4(0x0a000000 + i * 256, 24));
    const msgs = buildAnnouncements({ origin: 0, asPath: [], nextHop: 0x0a000001 }, prefixes, ctx);
    expect(msgs.length).toBe(Math.ceil(40000 / Math.floor((65535 - 23 - 14) / 4)));
    expect(Math.max(...msgs.map((m) => m.length))).toBeGreaterThan(60000);
  });

  it('puts IPv4 NLRI in MP_REACH when the attributes carry an RFC 8950 IPv6 next hop', () => {
    const ctx = CONTEXTS[1]!.ctx;
    const nh = { afi: 1, safi: 1, nextHop: fc.sample(arbAddr6, 1)[0]!, nlri: [] };
    const msgs = buildAnnouncements({ origin: 0, asPath: [], mpReach: nh }, [prefix4(0xc0000200, 24)], ctx);
    expect(msgs).toHaveLength(1);
    const u = decodeMessage(msgs[0]!, ctx);
    expect(u.nlri).toEqual([]);
    expect(u.attrs.mpReach).toEqual({ ...nh, nlri: [prefix4(0xc0000200, 24)] });
  });

  it('refuses prefixes it has no next hop for', () => {
    const ctx = CONTEXTS[1]!.ctx;
    expect(() => buildAnnouncements({ origin: 0, asPath: [] }, [prefix4(0, 0)], ctx)).toThrow(/nextHop/);
    expect(() =>
      buildAnnouncements({ origin: 0, asPath: [], nextHop: 1 << 24 }, fc.sample(arbPrefix6, 1), ctx),
    ).toThrow(/mpReach/);
  });
});

describe('buildWithdrawals', () => {
  for (const { name, ctx } of CONTEXTS) {
    it(`withdraws every prefix exactly once (${name})`, () => {
      fc.assert(
        fc.property(arbPrefixes, (prefixes) => {
          const ids = prefixes.map((_, i) => i + 100);
          const msgs = buildWithdrawals(prefixes, ctx, ids);
          const got4: Prefix[] = [];
          const got6: Prefix[] = [];
          for (const m of msgs) {
            const u = decodeMessage(m, ctx);
            expect(u.nlri).toEqual([]);
            if (u.withdrawn.length > 0) {
              expect(u.attrs).toEqual({});
              got4.push(...u.withdrawn);
            } else {
              expect(Object.keys(u.attrs)).toEqual(['mpUnreach']);
              got6.push(...u.attrs.mpUnreach!.withdrawn);
            }
          }
          expect(got4).toEqual(prefixes.filter(isPrefix4));
          expect(got6).toEqual(prefixes.filter((p) => !isPrefix4(p)));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('packs /24 withdrawals minimally', () => {
    const ctx = CONTEXTS[0]!.ctx;
    const prefixes = Array.from({ length: 5000 }, (_, i) => prefix4(0x0a000000 + i * 256, 24));
    expect(buildWithdrawals(prefixes, ctx)).toHaveLength(Math.ceil(5000 / Math.floor((4096 - 23) / 4)));
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  const ctx = CONTEXTS[1]!.ctx;
  it('is an empty UPDATE for IPv4 unicast', () => {
    const m = endOfRib(1, 1);
    expect(toHex(m)).toBe('ff'.repeat(16) + '001702' + '00000000');
    expect(endOfRibFamily(decodeMessage(m, ctx))).toBe(AFISAFI_IPV4_UNICAST);
  });

  it('is an UPDATE with only an empty MP_UNREACH_NLRI for other families', () => {
    const m = endOfRib(2, 1);
    expect(toHex(m)).toBe('ff'.repeat(16) + '001d02' + '0000' + '0006' + '800f03000201');
    expect(endOfRibFamily(decodeMessage(m, ctx))).toBe(AFISAFI_IPV6_UNICAST);
    expect(endOfRibFamily(decodeMessage(endOfRib(1, 128), ctx))).toBe(afiSafiKey(1, 128));
  });

  it('is not any other UPDATE', () => {
    expect(endOfRibFamily(decodeMessage(buildWithdrawals([prefix4(0, 8)], ctx)[0]!, ctx))).toBeUndefined();
    const ann = buildAnnouncements({ origin: 0, asPath: [], nextHop: 1 << 24 }, [prefix4(0, 8)], ctx)[0]!;
    expect(endOfRibFamily(decodeMessage(ann, ctx))).toBeUndefined();
  });
});
