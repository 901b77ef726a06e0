// fast-check arbitraries for BGP OPEN (with every capability), NOTIFICATION, KEEPALIVE and
// ROUTE-REFRESH messages, plus UPDATE values of every shape for the JSON rendering; shared by the
// codec property tests and the fuzz tests.

import fc from 'fast-check';
import { BgpDecodeError } from '../../wire/bgp/errors.js';
import { Addr6, prefix4, prefix6 } from '../../wire/ip/index.js';
import type {
  Capability,
  MpReach,
  MpUnreach,
  PathAttributes,
  UpdateMessage,
  KeepaliveMessage,
  NotificationMessage,
  OpenMessage,
  OptionalParameter,
  RouteRefreshMessage,
} from '../../wire/bgp/types.js';

const u8 = fc.nat(255);
const u16 = fc.nat(0xffff);
const u32 = fc.nat(0xffffffff);
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
const afiSafi = fc.record({ afi: u16, safi: u8 });

/** A short string whose UTF-8 form fits a 1-octet length. */
const shortText = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => Buffer.byteLength(s) <= 255);

/** Codes the capability table interprets; unknown capabilities must use other codes to round-trip. */
const KNOWN_CAPABILITY_CODES = new Set([1, 2, 5, 6, 9, 64, 65, 69, 70, 71, 73]);

/** Any capability, each kind equally likely. */
export const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  afiSafi.map((a) => ({ kind: 'multiprotocol' as const, ...a })),
  fc.constant({ kind: 'route-refresh' as const }),
  fc.constant({ kind: 'enhanced-route-refresh' as const }),
  fc.constant({ kind: 'extended-message' as const }),
  fc
    .array(fc.record({ afi: u16, safi: u16, nextHopAfi: u16 }), { maxLength: 5 })
    .map((entries) => ({ kind: 'extended-next-hop' as const, entries })),
  u8.map((role) => ({ kind: 'bgp-role' as const, role })),
  fc
    .record({
      restarting: fc.boolean(),
      notification: fc.boolean(),
      restartTime: fc.nat(0xfff),
      families: fc.array(fc.record({ afi: u16, safi: u8, forwardingPreserved: fc.boolean() }), {
        maxLength: 5,
      }),
    })
    .map((g) => ({ kind: 'graceful-restart' as const, ...g })),
  u32.map((asn) => ({ kind: 'four-octet-as' as const, asn })),
  fc
    .array(fc.record({ afi: u16, safi: u8, sendReceive: u8 }), { maxLength: 5 })
    .map((entries) => ({ kind: 'add-path' as const, entries })),
  fc
    .array(
      fc.record({ afi: u16, safi: u8, forwardingPreserved: fc.boolean(), staleTime: fc.nat(0xffffff) }),
      { maxLength: 5 },
    )
    .map((families) => ({ kind: 'long-lived-graceful-restart' as const, families })),
  fc.record({ hostname: shortText, domain: shortText }).map((f) => ({ kind: 'fqdn' as const, ...f })),
  fc
    .record({ code: u8.filter((c) => !KNOWN_CAPABILITY_CODES.has(c)), data: bytes(40) })
    .map((u) => ({ kind: 'unknown' as const, ...u })),
);

/** Optional parameters: mostly capabilities, sometimes an unknown type (never 2 or 255). */
const paramArb: fc.Arbitrary<OptionalParameter> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(capabilityArb, { maxLength: 6 })
      .map((capabilities) => ({ kind: 'capabilities' as const, capabilities })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ type: u8.filter((t) => t !== 2 && t !== 255), data: bytes(30) })
      .map((p) => ({ kind: 'unknown' as const, ...p })),
  },
);

function paramBytes(
  params: readonly OptionalParameter[],
  extended: boolean,
): { total: number; largest: number } {
  let total = 0;
  let largest = 0;
  for (const p of params) {
    let n = 0;
    if (p.kind === 'unknown') n = p.data.length;
    else for (const c of p.capabilities) n += 2 + capabilityValueBytes(c);
    largest = Math.max(largest, n);
    total += (extended ? 3 : 2) + n;
  }
  return { total, largest };
}

function capabilityValueBytes(c: Capability): number {
  switch (c.kind) {
    case 'multiprotocol':
    case 'four-octet-as':
      return 4;
    case 'route-refresh':
    case 'enhanced-route-refresh':
    case 'extended-message':
      return 0;
    case 'bgp-role':
      return 1;
    case 'extended-next-hop':
      return 6 * c.entries.length;
    case 'graceful-restart':
      return 2 + 4 * c.families.length;
    case 'add-path':
      return 4 * c.entries.length;
    case 'long-lived-graceful-restart':
      return 7 * c.families.length;
    case 'fqdn':
      return 2 + Buffer.byteLength(c.hostname) + Buffer.byteLength(c.domain);
    case 'unknown':
      return c.data.length;
  }
}

/**
 * Any OPEN that can be encoded: non-extended parameters fit 255 bytes; extended ones are used
 * whenever they are needed and sometimes when they are not. Every capability TLV fits 255 bytes.
 */
export const openArb: fc.Arbitrary<OpenMessage> = fc
  .record({
    version: u8,
    myAs: u16,
    holdTime: u16,
    bgpId: u32,
    params: fc.array(paramArb, { maxLength: 4 }),
    extendedParams: fc.boolean(),
  })
  .filter((m) =>
    m.params.every(
      (p) => p.kind === 'unknown' || p.capabilities.every((c) => capabilityValueBytes(c) <= 255),
    ),
  )
  .map((m) => {
    const plain = paramBytes(m.params, false);
    const needsExtended = plain.total > 255 || plain.largest > 255;
    return { type: 1 as const, ...m, extendedParams: m.extendedParams || needsExtended };
  })
  // An extended parameter block starts with a first parameter; with none it cannot be told apart.
  .filter((m) => !m.extendedParams || m.params.length > 0);

/** An OPEN that also passes the RFC 4271 §6.2 checks (`checkOpen`). */
export const validOpenArb: fc.Arbitrary<OpenMessage> = openArb
  .map((m) => ({ ...m, version: 4, params: m.params.filter((p) => p.kind === 'capabilities') }))
  .filter(
    (m) =>
      m.holdTime !== 1 && m.holdTime !== 2 && m.bgpId !== 0 && (!m.extendedParams || m.params.length > 0),
  );

export const notificationArb: fc.Arbitrary<NotificationMessage> = fc.record({
  type: fc.constant(3 as const),
  code: u8,
  subcode: u8,
  data: bytes(64),
});

export const keepaliveArb: fc.Arbitrary<KeepaliveMessage> = fc.constant({ type: 4 as const });

export const routeRefreshArb: fc.Arbitrary<RouteRefreshMessage> = fc.record({
  type: fc.constant(5 as const),
  afi: u16,
  subtype: u8,
  safi: u8,
});

// ===== UPDATE values (shape only) =====

const prefix4Arb = fc.tuple(u32, fc.nat(32)).map(([a, l]) => prefix4(a, l));
const prefix6Arb = fc.tuple(u32, u32, u32, u32, fc.nat(128)).map(([a, b, c, d, l]) => prefix6(a, b, c, d, l));
const addr6Arb = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => new Addr6(a, b, c, d));
const segmentArb = fc.record({
  type: fc.constantFrom(1, 2, 3, 4),
  asns: fc.array(u32, { minLength: 1, maxLength: 6 }),
});
const aggregatorArb = fc.record({ asn: u32, addr: u32 });
const pathIds = (n: number) => fc.array(u32, { minLength: n, maxLength: n });
const groups = (size: number) =>
  fc.array(fc.array(u32, { minLength: size, maxLength: size }), { maxLength: 4 }).map((g) => g.flat());

const mpReachArb: fc.Arbitrary<MpReach> = fc
  .oneof(
    fc.record(
      {
        afi: fc.constant(1),
        safi: fc.constant(1),
        nextHop: u32,
        nlri: fc.array(prefix4Arb, { maxLength: 4 }),
      },
      { requiredKeys: ['afi', 'safi', 'nextHop', 'nlri'] },
    ),
    fc.record(
      {
        afi: fc.constant(2),
        safi: fc.constant(1),
        nextHop: addr6Arb,
        nextHopLinkLocal: addr6Arb,
        nlri: fc.array(prefix6Arb, { maxLength: 4 }),
      },
      { requiredKeys: ['afi', 'safi', 'nextHop', 'nlri'] },
    ),
    fc.record({ afi: u16, safi: u8, nextHop: u32, nlri: fc.constant([]), raw: bytes(12) }),
  )
  .chain((m) =>
    (m.nlri.length > 0 ? fc.option(pathIds(m.nlri.length), { nil: undefined }) : fc.constant(undefined)).map(
      (ids) => (ids === undefined ? m : { ...m, pathIds: ids }),
    ),
  );

const mpUnreachArb: fc.Arbitrary<MpUnreach> = fc.oneof(
  fc.record({ afi: fc.constant(1), safi: fc.constant(1), withdrawn: fc.array(prefix4Arb, { maxLength: 4 }) }),
  fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: fc.array(prefix6Arb, { maxLength: 4 }) }),
);

const attrsArb: fc.Arbitrary<PathAttributes> = fc.record(
  {
    origin: fc.constantFrom(0, 1, 2),
    asPath: fc.array(segmentArb, { maxLength: 3 }),
    nextHop: u32,
    med: u32,
    localPref: u32,
    atomicAggregate: fc.constant(true),
    aggregator: aggregatorArb,
    communities: fc.array(u32, { maxLength: 4 }),
    originatorId: u32,
    clusterList: fc.array(u32, { maxLength: 3 }),
    mpReach: mpReachArb,
    mpUnreach: mpUnreachArb,
    extCommunities: groups(2),
    as4Path: fc.array(segmentArb, { maxLength: 3 }),
    as4Aggregator: aggregatorArb,
    largeCommunities: groups(3),
    otc: u32,
    unknown: fc.array(fc.record({ flags: u8, code: u8, data: bytes(8) }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const errorArb = fc
  .record({
    code: fc.constantFrom(1, 2, 3, 4, 5, 6, 7),
    subcode: u8,
    action: fc.constantFrom('session-reset', 'afisafi-disable', 'treat-as-withdraw', 'attribute-discard'),
    reason: fc.string({ maxLength: 20 }),
    data: bytes(4),
  })
  .map((e) => new BgpDecodeError(e.code, e.subcode, e.action, e.reason, e.data));

/**
 * UPDATE values of every shape the types allow, for the JSON rendering. Not all of them are
 * encodable (the UPDATE encoder's rules decide that).
 */
export const updateShapeArb: fc.Arbitrary<UpdateMessage> = fc
  .record({
    withdrawn: fc.array(prefix4Arb, { maxLength: 4 }),
    attrs: attrsArb,
    nlri: fc.array(prefix4Arb, { maxLength: 4 }),
    withIds: fc.boolean(),
    ids: fc.array(u32, { minLength: 8, maxLength: 8 }),
    treatAsWithdraw: fc.option(errorArb, { nil: undefined }),
    discarded: fc.option(fc.array(errorArb, { maxLength: 2 }), { nil: undefined }),
  })
  .map((u) => ({
    type: 2 as const,
    withdrawn: u.withdrawn,
    ...(u.withIds ? { withdrawnPathIds: u.ids.slice(0, u.withdrawn.length) } : {}),
    attrs: u.attrs,
    nlri: u.nlri,
    ...(u.withIds ? { nlriPathIds: u.ids.slice(4, 4 + u.nlri.length) } : {}),
    ...(u.treatAsWithdraw === undefined ? {} : { treatAsWithdraw: u.treatAsWithdraw }),
    ...(u.discarded === undefined ? {} : { discarded: u.discarded }),
  }));
