// fast-check arbitraries for UPDATE messages and path attributes that the UPDATE codec must
// round-trip exactly: every attribute type, NLRI of both families, every MP next-hop form, raw
// MP families, unknown optional transitive attributes, and path identifiers when the context
// has ADD-PATH for a family.

import fc from 'fast-check';
import { prefix4, prefix6, type Prefix, type Prefix4, type Prefix6, Addr6 } from '../../../wire/ip/index.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST, AttrType } from '../../../wire/bgp/constants.js';
import type {
  AsPathSegment,
  CodecContext,
  MpReach,
  MpUnreach,
  PathAttributes,
  RawAttribute,
  UpdateMessage,
} from '../../../wire/bgp/types.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** IPv4 prefixes of every length, host bits clear. */
export const arbPrefix4: fc.Arbitrary<Prefix4> = fc
  .tuple(u32, fc.integer({ min: 0, max: 32 }))
  .map(([a, l]) => prefix4(a, l));

/** IPv6 prefixes of every length, host bits clear. */
export const arbPrefix6: fc.Arbitrary<Prefix6> = fc
  .tuple(u32, u32, u32, u32, fc.integer({ min: 0, max: 128 }))
  .map(([a, b, c, d, l]) => prefix6(a, b, c, d, l));

/** IPv6 addresses. */
export const arbAddr6: fc.Arbitrary<Addr6> = fc
  .tuple(u32, u32, u32, u32)
  .map(([a, b, c, d]) => new Addr6(a, b, c, d));

/** An IPv4 NEXT_HOP the decoder accepts (not 0/8, multicast or class E). */
export const arbNextHop4 = fc.integer({ min: 0x01000000, max: 0xdfffffff });

function arbAsn(ctx: CodecContext): fc.Arbitrary<number> {
  return ctx.fourOctetAs ? u32 : fc.integer({ min: 0, max: 0xffff });
}

/** AS_PATH segments of all four types. */
export function arbAsPath(
  ctx: CodecContext,
  types: readonly number[] = [1, 2, 3, 4],
): fc.Arbitrary<AsPathSegment[]> {
  return fc.array(
    fc.record({
      type: fc.constantFrom(...types) as fc.Arbitrary<AsPathSegment['type']>,
      asns: fc.array(arbAsn(ctx), { minLength: 1, maxLength: 12 }),
    }),
    { maxLength: 4 },
  );
}

function ids(ctx: CodecContext, key: number, n: number): fc.Arbitrary<number[] | undefined> {
  return ctx.addPath.has(key) ? fc.array(u32, { minLength: n, maxLength: n }) : fc.constant(undefined);
}

function withIds<T extends object>(base: T, pathIds: number[] | undefined): T & { pathIds?: number[] } {
  return pathIds === undefined ? base : { ...base, pathIds };
}

/** MP_REACH_NLRI in every form: IPv4 or IPv6 next hop, link-local, RFC 8950, raw families. */
export function arbMpReach(ctx: CodecContext): fc.Arbitrary<MpReach> {
  const v6 = fc
    .record({
      nh: arbAddr6,
      ll: fc.option(arbAddr6, { nil: undefined }),
      nlri: fc.array(arbPrefix6, { maxLength: 6 }),
    })
    .chain((r) =>
      ids(ctx, AFISAFI_IPV6_UNICAST, r.nlri.length).map((p) =>
        withIds<MpReach>(
          {
            afi: 2,
            safi: 1,
            nextHop: r.nh,
            ...(r.ll !== undefined ? { nextHopLinkLocal: r.ll } : {}),
            nlri: r.nlri,
          },
          p,
        ),
      ),
    );
  const v4 = fc
    .record({
      nh: fc.oneof(
        arbNextHop4.map((n) => ({ nh: n })),
        arbAddr6.map((a) => ({ nh: a })),
        fc.tuple(arbAddr6, arbAddr6).map(([g, l]) => ({ nh: g, ll: l })),
      ),
      nlri: fc.array(arbPrefix4, { maxLength: 6 }),
    })
    .chain((r) =>
      ids(ctx, AFISAFI_IPV4_UNICAST, r.nlri.length).map((p) =>
        withIds<MpReach>(
          {
            afi: 1,
            safi: 1,
            nextHop: r.nh.nh,
            ...('ll' in r.nh && r.nh.ll !== undefined ? { nextHopLinkLocal: r.nh.ll } : {}),
            nlri: r.nlri,
          },
          p,
        ),
      ),
    );
  const raw = fc
    .record({
      afi: fc.constantFrom(1, 2, 25, 16388),
      safi: fc.constantFrom(2, 4, 70, 128, 133),
      raw: fc.uint8Array({ maxLength: 40 }),
    })
    .map((r): MpReach => ({ afi: r.afi, safi: r.safi, nextHop: 0, nlri: [], raw: r.raw }));
  return fc.oneof(v6, v4, raw);
}

/** MP_UNREACH_NLRI for both unicast families and raw families. */
export function arbMpUnreach(ctx: CodecContext): fc.Arbitrary<MpUnreach> {
  const fam = (afi: number, key: number, p: fc.Arbitrary<Prefix>): fc.Arbitrary<MpUnreach> =>
    fc
      .array(p, { maxLength: 6 })
      .chain((w) =>
        ids(ctx, key, w.length).map((i) => withIds<MpUnreach>({ afi, safi: 1, withdrawn: w }, i)),
      );
  const raw = fc
    .record({
      afi: fc.constantFrom(1, 2, 25),
      safi: fc.constantFrom(2, 128),
      raw: fc.uint8Array({ maxLength: 30 }),
    })
    .map((r): MpUnreach => ({ afi: r.afi, safi: r.safi, withdrawn: [], raw: r.raw }));
  return fc.oneof(
    fam(1, AFISAFI_IPV4_UNICAST, arbPrefix4 as fc.Arbitrary<Prefix>),
    fam(2, AFISAFI_IPV6_UNICAST, arbPrefix6),
    raw,
  );
}

const KNOWN_CODES = new Set<number>(Object.values(AttrType));

/** Unknown optional transitive attributes, as the decoder keeps them (Partial set), in code order. */
export const arbUnknownAttributes: fc.Arbitrary<RawAttribute[]> = fc
  .uniqueArray(
    fc.record({
      code: fc.integer({ min: 11, max: 255 }).filter((c) => !KNOWN_CODES.has(c)),
      data: fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 250, maxLength: 300 })),
    }),
    { selector: (r) => r.code, maxLength: 3 },
  )
  .map((list) =>
    list.sort((a, b) => a.code - b.code).map((r) => ({ flags: 0xe0, code: r.code, data: r.data })),
  );

function flatGroups(width: number, max: number): fc.Arbitrary<number[]> {
  return fc
    .array(fc.array(u32, { minLength: width, maxLength: width }), { minLength: 1, maxLength: max })
    .map((g) => g.flat());
}

/** Path attributes with every attribute type optional; AS4_* only towards an OLD (2-octet) context. */
export function arbPathAttributes(ctx: CodecContext): fc.Arbitrary<PathAttributes> {
  const four = ctx.fourOctetAs;
  const aggregator = fc.record({ asn: arbAsn(ctx), addr: u32 });
  return fc.record(
    {
      origin: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      asPath: arbAsPath(ctx),
      nextHop: arbNextHop4,
      med: u32,
      localPref: u32,
      atomicAggregate: fc.constant(true),
      aggregator,
      communities: fc.array(u32, { minLength: 1, maxLength: 8 }),
      originatorId: u32,
      clusterList: fc.array(u32, { minLength: 1, maxLength: 4 }),
      mpReach: arbMpReach(ctx),
      mpUnreach: arbMpUnreach(ctx),
      extCommunities: flatGroups(2, 4),
      ...(four
        ? {}
        : {
            as4Path: arbAsPath({ ...ctx, fourOctetAs: true }, [1, 2]).filter((p) => p.length > 0),
            as4Aggregator: fc.record({ asn: u32, addr: u32 }),
          }),
      largeCommunities: flatGroups(3, 3),
      otc: u32,
      unknown: arbUnknownAttributes.filter((u) => u.length > 0),
    },
    { requiredKeys: [] },
  );
}

/**
 * UPDATE messages that decode without any RFC 7606 outcome: when there is NLRI (traditional or
 * in MP_REACH) the mandatory attributes are present.
 */
export function arbUpdate(ctx: CodecContext): fc.Arbitrary<UpdateMessage> {
  const addPath4 = ctx.addPath.has(AFISAFI_IPV4_UNICAST);
  return fc
    .record({
      withdrawn: fc.array(arbPrefix4, { maxLength: 8 }),
      attrs: arbPathAttributes(ctx),
      nlri: fc.array(arbPrefix4, { maxLength: 8 }),
      origin: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      asPath: arbAsPath(ctx),
      nextHop: arbNextHop4,
      idPool: fc.array(u32, { minLength: 16, maxLength: 16 }),
    })
    .map((r): UpdateMessage => {
      const hasMpNlri = r.attrs.mpReach !== undefined && r.attrs.mpReach.nlri.length > 0;
      let attrs = r.attrs;
      if (r.nlri.length > 0 || hasMpNlri) {
        attrs = { origin: r.origin, asPath: r.asPath, ...attrs };
      }
      if (r.nlri.length > 0) attrs = { nextHop: r.nextHop, ...attrs };
      return {
        type: 2,
        withdrawn: r.withdrawn,
        ...(addPath4 ? { withdrawnPathIds: r.idPool.slice(0, r.withdrawn.length) } : {}),
        attrs,
        nlri: r.nlri,
        ...(addPath4 ? { nlriPathIds: r.idPool.slice(8, 8 + r.nlri.length) } : {}),
      };
    });
}

/** The contexts the round-trip tests run under: both AS sizes, with and without ADD-PATH. */
export const CONTEXTS: readonly { readonly name: string; readonly ctx: CodecContext }[] = [
  { name: '2-octet AS', ctx: { fourOctetAs: false, extendedMessage: false, addPath: new Set() } },
  { name: '4-octet AS', ctx: { fourOctetAs: true, extendedMessage: false, addPath: new Set() } },
  {
    name: '4-octet AS + ADD-PATH both families',
    ctx: {
      fourOctetAs: true,
      extendedMessage: true,
      addPath: new Set([AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST]),
    },
  },
  {
    name: '2-octet AS + ADD-PATH IPv6 only',
    ctx: { fourOctetAs: false, extendedMessage: false, addPath: new Set([AFISAFI_IPV6_UNICAST]) },
  },
];
