// The JSON rendering of BGP messages, codec contexts and decode errors, in both directions.
//
// One rendering serves the shared test vectors (test/vectors/bgp/*.json), logs and the admin API.
// It is meant to be read and written by hand: addresses and prefixes as text (RFC 5952 for IPv6),
// bytes as lower-case hex, communities as "asn:value", enumerations by name. `messageFromJson`
// inverts `messageToJson` exactly, so a vector's `decoded` value also drives the encoder tests.

import {
  formatAddr4,
  formatAddr6,
  formatPrefix,
  parseAddr4,
  parseAddr6,
  parsePrefix,
  type Addr4,
  type Addr6,
  type Prefix,
  type Prefix4,
} from '../ip/index.js';
import { fromHex, toHex } from '../reader.js';
import { AsPathSegmentType, afiSafiKey, describeError, Origin } from './constants.js';
import { BgpDecodeError, type ErrorAction } from './errors.js';
import type {
  Aggregator,
  AsPathSegment,
  BgpMessage,
  Capability,
  CodecContext,
  MpReach,
  MpUnreach,
  OptionalParameter,
  PathAttributes,
  RawAttribute,
} from './types.js';

// ===== JSON values =====

/** A JSON value. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** A JSON rendering that does not describe a valid value. */
export class BgpJsonError extends Error {
  override readonly name = 'BgpJsonError';
}

function fail(where: string, what: string): never {
  throw new BgpJsonError(`${where}: ${what}`);
}

function asObject(x: unknown, where: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(where, 'expected an object');
  return x as Record<string, unknown>;
}

function asArray(x: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(x)) fail(where, 'expected an array');
  return x;
}

function asInt(x: unknown, where: string, max = 0xffffffff): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) {
    fail(where, `expected an integer 0..${max}, got ${JSON.stringify(x)}`);
  }
  return x;
}

function asString(x: unknown, where: string): string {
  if (typeof x !== 'string') fail(where, 'expected a string');
  return x;
}

function asBool(x: unknown, where: string): boolean {
  if (typeof x !== 'boolean') fail(where, 'expected true or false');
  return x;
}

function asHex(x: unknown, where: string): Uint8Array {
  const s = asString(x, where);
  if (!/^([0-9a-f]{2})*$/i.test(s.replace(/\s+/g, ''))) fail(where, 'expected hex bytes');
  return fromHex(s);
}

function ints(x: unknown, where: string, max?: number): number[] {
  return asArray(x, where).map((v, i) => asInt(v, `${where}[${i}]`, max));
}

// ===== Addresses and prefixes =====

function addr4FromJson(x: unknown, where: string): Addr4 {
  const r = parseAddr4(asString(x, where));
  return r.ok ? r.value : fail(where, r.error);
}

function addr6FromJson(x: unknown, where: string): Addr6 {
  const r = parseAddr6(asString(x, where));
  return r.ok ? r.value : fail(where, r.error);
}

function addrToJson(a: Addr4 | Addr6): string {
  return typeof a === 'number' ? formatAddr4(a) : formatAddr6(a);
}

function addrFromJson(x: unknown, where: string): Addr4 | Addr6 {
  return asString(x, where).includes(':') ? addr6FromJson(x, where) : addr4FromJson(x, where);
}

function prefixesToJson(ps: readonly Prefix[]): string[] {
  return ps.map(formatPrefix);
}

function prefixesFromJson(x: unknown, where: string): Prefix[] {
  return asArray(x, where).map((v, i) => {
    const r = parsePrefix(asString(v, `${where}[${i}]`));
    return r.ok ? r.value : fail(`${where}[${i}]`, r.error);
  });
}

function prefixes4FromJson(x: unknown, where: string): Prefix4[] {
  return prefixesFromJson(x, where).map((p, i) =>
    typeof p === 'number' ? p : fail(`${where}[${i}]`, 'expected an IPv4 prefix'),
  );
}

// ===== Context and errors =====

/** JSON for a codec context; `addPath` lists [afi, safi] pairs. */
export function contextToJson(ctx: CodecContext): Json {
  return {
    fourOctetAs: ctx.fourOctetAs,
    extendedMessage: ctx.extendedMessage,
    addPath: [...ctx.addPath].sort((a, b) => a - b).map((k) => [Math.floor(k / 256), k % 256]),
  };
}

/** A codec context from JSON; absent fields take the pre-OPEN defaults. */
export function contextFromJson(x: unknown): CodecContext {
  const o = asObject(x ?? {}, 'ctx');
  const addPath = new Set<number>();
  if (o.addPath !== undefined) {
    asArray(o.addPath, 'ctx.addPath').forEach((pair, i) => {
      const [afi, safi] = ints(pair, `ctx.addPath[${i}]`, 0xffff);
      if (afi === undefined || safi === undefined) fail(`ctx.addPath[${i}]`, 'expected [afi, safi]');
      addPath.add(afiSafiKey(afi, safi));
    });
  }
  return {
    fourOctetAs: o.fourOctetAs === undefined ? false : asBool(o.fourOctetAs, 'ctx.fourOctetAs'),
    extendedMessage:
      o.extendedMessage === undefined ? false : asBool(o.extendedMessage, 'ctx.extendedMessage'),
    addPath,
  };
}

const ACTIONS: readonly ErrorAction[] = [
  'session-reset',
  'afisafi-disable',
  'treat-as-withdraw',
  'attribute-discard',
];

/** JSON for a decode error: code, subcode, action, reason and (when present) data. */
export function errorToJson(e: BgpDecodeError): JsonObject {
  const o: JsonObject = { code: e.code, subcode: e.subcode, action: e.action, reason: e.reason };
  if (e.data.length > 0) o.data = toHex(e.data);
  return o;
}

/** A decode error from JSON. */
export function errorFromJson(x: unknown, where = 'error'): BgpDecodeError {
  const o = asObject(x, where);
  const code = asInt(o.code, `${where}.code`, 255);
  const action = asString(o.action, `${where}.action`) as ErrorAction;
  if (!ACTIONS.includes(action)) fail(`${where}.action`, `unknown action '${action}'`);
  return new BgpDecodeError(
    code as BgpDecodeError['code'],
    asInt(o.subcode, `${where}.subcode`, 255),
    action,
    o.reason === undefined ? '' : asString(o.reason, `${where}.reason`),
    o.data === undefined ? undefined : asHex(o.data, `${where}.data`),
  );
}

// ===== OPEN =====

function capabilityToJson(c: Capability): JsonObject {
  switch (c.kind) {
    case 'multiprotocol':
      return { kind: c.kind, afi: c.afi, safi: c.safi };
    case 'route-refresh':
    case 'enhanced-route-refresh':
    case 'extended-message':
      return { kind: c.kind };
    case 'extended-next-hop':
      return {
        kind: c.kind,
        entries: c.entries.map((e) => ({ afi: e.afi, safi: e.safi, nextHopAfi: e.nextHopAfi })),
      };
    case 'bgp-role':
      return { kind: c.kind, role: c.role };
    case 'graceful-restart':
      return {
        kind: c.kind,
        restarting: c.restarting,
        notification: c.notification,
        restartTime: c.restartTime,
        families: c.families.map((f) => ({
          afi: f.afi,
          safi: f.safi,
          forwardingPreserved: f.forwardingPreserved,
        })),
      };
    case 'four-octet-as':
      return { kind: c.kind, asn: c.asn };
    case 'add-path':
      return {
        kind: c.kind,
        entries: c.entries.map((e) => ({ afi: e.afi, safi: e.safi, sendReceive: e.sendReceive })),
      };
    case 'long-lived-graceful-restart':
      return {
        kind: c.kind,
        families: c.families.map((f) => ({
          afi: f.afi,
          safi: f.safi,
          forwardingPreserved: f.forwardingPreserved,
          staleTime: f.staleTime,
        })),
      };
    case 'fqdn':
      return { kind: c.kind, hostname: c.hostname, domain: c.domain };
    case 'unknown':
      return { kind: c.kind, code: c.code, data: toHex(c.data) };
  }
}

function capabilityFromJson(x: unknown, where: string): Capability {
  const o = asObject(x, where);
  const kind = asString(o.kind, `${where}.kind`) as Capability['kind'];
  const afiSafi = (e: Record<string, unknown>, w: string) => ({
    afi: asInt(e.afi, `${w}.afi`, 0xffff),
    safi: asInt(e.safi, `${w}.safi`, 255),
  });
  const list = (key: string) =>
    asArray(o[key], `${where}.${key}`).map(
      (e, i) => [asObject(e, `${where}.${key}[${i}]`), `${where}.${key}[${i}]`] as const,
    );
  switch (kind) {
    case 'multiprotocol':
      return { kind, ...afiSafi(o, where) };
    case 'route-refresh':
    case 'enhanced-route-refresh':
    case 'extended-message':
      return { kind };
    case 'extended-next-hop':
      return {
        kind,
        entries: list('entries').map(([e, w]) => ({
          afi: asInt(e.afi, `${w}.afi`, 0xffff),
          safi: asInt(e.safi, `${w}.safi`, 0xffff),
          nextHopAfi: asInt(e.nextHopAfi, `${w}.nextHopAfi`, 0xffff),
        })),
      };
    case 'bgp-role':
      return { kind, role: asInt(o.role, `${where}.role`, 255) };
    case 'graceful-restart':
      return {
        kind,
        restarting: asBool(o.restarting, `${where}.restarting`),
        notification: asBool(o.notification, `${where}.notification`),
        restartTime: asInt(o.restartTime, `${where}.restartTime`, 0xfff),
        families: list('families').map(([e, w]) => ({
          ...afiSafi(e, w),
          forwardingPreserved: asBool(e.forwardingPreserved, `${w}.forwardingPreserved`),
        })),
      };
    case 'four-octet-as':
      return { kind, asn: asInt(o.asn, `${where}.asn`) };
    case 'add-path':
      return {
        kind,
        entries: list('entries').map(([e, w]) => ({
          ...afiSafi(e, w),
          sendReceive: asInt(e.sendReceive, `${w}.sendReceive`, 255),
        })),
      };
    case 'long-lived-graceful-restart':
      return {
        kind,
        families: list('families').map(([e, w]) => ({
          ...afiSafi(e, w),
          forwardingPreserved: asBool(e.forwardingPreserved, `${w}.forwardingPreserved`),
          staleTime: asInt(e.staleTime, `${w}.staleTime`, 0xffffff),
        })),
      };
    case 'fqdn':
      return {
        kind,
        hostname: asString(o.hostname, `${where}.hostname`),
        domain: asString(o.domain, `${where}.domain`),
      };
    case 'unknown':
      return { kind, code: asInt(o.code, `${where}.code`, 255), data: asHex(o.data, `${where}.data`) };
    default:
      return fail(`${where}.kind`, `unknown capability kind '${String(kind)}'`);
  }
}

function paramToJson(p: OptionalParameter): JsonObject {
  return p.kind === 'capabilities'
    ? { kind: p.kind, capabilities: p.capabilities.map(capabilityToJson) }
    : { kind: p.kind, type: p.type, data: toHex(p.data) };
}

function paramFromJson(x: unknown, where: string): OptionalParameter {
  const o = asObject(x, where);
  const kind = asString(o.kind, `${where}.kind`);
  if (kind === 'capabilities') {
    return {
      kind,
      capabilities: asArray(o.capabilities, `${where}.capabilities`).map((c, i) =>
        capabilityFromJson(c, `${where}.capabilities[${i}]`),
      ),
    };
  }
  if (kind === 'unknown') {
    return { kind, type: asInt(o.type, `${where}.type`, 255), data: asHex(o.data, `${where}.data`) };
  }
  return fail(`${where}.kind`, `unknown optional parameter kind '${kind}'`);
}

// ===== UPDATE attributes =====

const ORIGIN_NAMES: Readonly<Record<Origin, string>> = {
  [Origin.IGP]: 'igp',
  [Origin.EGP]: 'egp',
  [Origin.INCOMPLETE]: 'incomplete',
};

const SEGMENT_NAMES: Readonly<Record<AsPathSegmentType, string>> = {
  [AsPathSegmentType.AS_SET]: 'set',
  [AsPathSegmentType.AS_SEQUENCE]: 'sequence',
  [AsPathSegmentType.AS_CONFED_SEQUENCE]: 'confed-sequence',
  [AsPathSegmentType.AS_CONFED_SET]: 'confed-set',
};

function byName<T extends number>(names: Readonly<Record<T, string>>, x: unknown, where: string): T {
  const s = asString(x, where);
  for (const [k, v] of Object.entries(names)) if (v === s) return Number(k) as T;
  return fail(where, `unknown name '${s}'`);
}

function asPathToJson(p: readonly AsPathSegment[]): JsonObject[] {
  return p.map((s) => ({ type: SEGMENT_NAMES[s.type], asns: [...s.asns] }));
}

function asPathFromJson(x: unknown, where: string): AsPathSegment[] {
  return asArray(x, where).map((s, i) => {
    const o = asObject(s, `${where}[${i}]`);
    return {
      type: byName(SEGMENT_NAMES, o.type, `${where}[${i}].type`),
      asns: ints(o.asns, `${where}[${i}].asns`),
    };
  });
}

function aggregatorToJson(a: Aggregator): JsonObject {
  return { asn: a.asn, addr: formatAddr4(a.addr) };
}

function aggregatorFromJson(x: unknown, where: string): Aggregator {
  const o = asObject(x, where);
  return { asn: asInt(o.asn, `${where}.asn`), addr: addr4FromJson(o.addr, `${where}.addr`) };
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Flattened word lists rendered in groups of `size`: communities "a:b", large "a:b:c", extended hex. */
function groupsToJson(words: readonly number[], size: number, render: (g: number[]) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= words.length; i += size) out.push(render(words.slice(i, i + size)));
  return out;
}

function communityFromJson(x: unknown, where: string): number {
  const m = /^(\d+):(\d+)$/.exec(asString(x, where));
  const hi = Number(m?.[1]);
  const lo = Number(m?.[2]);
  if (!m || hi > 0xffff || lo > 0xffff) fail(where, "expected 'asn:value' with 16-bit halves");
  return hi * 65536 + lo;
}

function largeCommunityFromJson(x: unknown, where: string): number[] {
  const m = /^(\d+):(\d+):(\d+)$/.exec(asString(x, where));
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (parts.length !== 3 || parts.some((p) => p > 0xffffffff)) fail(where, "expected 'global:local1:local2'");
  return parts;
}

function extCommunityFromJson(x: unknown, where: string): number[] {
  const s = asString(x, where);
  if (!/^[0-9a-f]{16}$/i.test(s)) fail(where, 'expected 16 hex digits');
  return [parseInt(s.slice(0, 8), 16), parseInt(s.slice(8), 16)];
}

function mpReachToJson(m: MpReach): JsonObject {
  const o: JsonObject = { afi: m.afi, safi: m.safi, nextHop: addrToJson(m.nextHop) };
  if (m.nextHopLinkLocal !== undefined) o.nextHopLinkLocal = formatAddr6(m.nextHopLinkLocal);
  o.nlri = prefixesToJson(m.nlri);
  if (m.pathIds !== undefined) o.pathIds = [...m.pathIds];
  if (m.raw !== undefined) o.raw = toHex(m.raw);
  return o;
}

function mpReachFromJson(x: unknown, where: string): MpReach {
  const o = asObject(x, where);
  return {
    afi: asInt(o.afi, `${where}.afi`, 0xffff),
    safi: asInt(o.safi, `${where}.safi`, 255),
    nextHop: addrFromJson(o.nextHop, `${where}.nextHop`),
    ...(o.nextHopLinkLocal === undefined
      ? {}
      : { nextHopLinkLocal: addr6FromJson(o.nextHopLinkLocal, `${where}.nextHopLinkLocal`) }),
    nlri: prefixesFromJson(o.nlri, `${where}.nlri`),
    ...(o.pathIds === undefined ? {} : { pathIds: ints(o.pathIds, `${where}.pathIds`) }),
    ...(o.raw === undefined ? {} : { raw: asHex(o.raw, `${where}.raw`) }),
  };
}

function mpUnreachToJson(m: MpUnreach): JsonObject {
  const o: JsonObject = { afi: m.afi, safi: m.safi, withdrawn: prefixesToJson(m.withdrawn) };
  if (m.pathIds !== undefined) o.pathIds = [...m.pathIds];
  if (m.raw !== undefined) o.raw = toHex(m.raw);
  return o;
}

function mpUnreachFromJson(x: unknown, where: string): MpUnreach {
  const o = asObject(x, where);
  return {
    afi: asInt(o.afi, `${where}.afi`, 0xffff),
    safi: asInt(o.safi, `${where}.safi`, 255),
    withdrawn: prefixesFromJson(o.withdrawn, `${where}.withdrawn`),
    ...(o.pathIds === undefined ? {} : { pathIds: ints(o.pathIds, `${where}.pathIds`) }),
    ...(o.raw === undefined ? {} : { raw: asHex(o.raw, `${where}.raw`) }),
  };
}

function rawAttrToJson(a: RawAttribute): JsonObject {
  return { flags: a.flags, code: a.code, data: toHex(a.data) };
}

function rawAttrFromJson(x: unknown, where: string): RawAttribute {
  const o = asObject(x, where);
  return {
    flags: asInt(o.flags, `${where}.flags`, 255),
    code: asInt(o.code, `${where}.code`, 255),
    data: asHex(o.data, `${where}.data`),
  };
}

/** JSON for a set of path attributes; absent attributes are absent keys, in type-code order. */
export function attributesToJson(a: PathAttributes): JsonObject {
  const o: JsonObject = {};
  if (a.origin !== undefined) o.origin = ORIGIN_NAMES[a.origin];
  if (a.asPath !== undefined) o.asPath = asPathToJson(a.asPath);
  if (a.nextHop !== undefined) o.nextHop = formatAddr4(a.nextHop);
  if (a.med !== undefined) o.med = a.med;
  if (a.localPref !== undefined) o.localPref = a.localPref;
  if (a.atomicAggregate !== undefined) o.atomicAggregate = a.atomicAggregate;
  if (a.aggregator !== undefined) o.aggregator = aggregatorToJson(a.aggregator);
  if (a.communities !== undefined) o.communities = a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`);
  if (a.originatorId !== undefined) o.originatorId = formatAddr4(a.originatorId);
  if (a.clusterList !== undefined) o.clusterList = a.clusterList.map(formatAddr4);
  if (a.mpReach !== undefined) o.mpReach = mpReachToJson(a.mpReach);
  if (a.mpUnreach !== undefined) o.mpUnreach = mpUnreachToJson(a.mpUnreach);
  if (a.extCommunities !== undefined) {
    o.extCommunities = groupsToJson(a.extCommunities, 2, ([hi, lo]) => hex32(hi ?? 0) + hex32(lo ?? 0));
  }
  if (a.as4Path !== undefined) o.as4Path = asPathToJson(a.as4Path);
  if (a.as4Aggregator !== undefined) o.as4Aggregator = aggregatorToJson(a.as4Aggregator);
  if (a.largeCommunities !== undefined)
    o.largeCommunities = groupsToJson(a.largeCommunities, 3, (g) => g.join(':'));
  if (a.otc !== undefined) o.otc = a.otc;
  if (a.unknown !== undefined) o.unknown = a.unknown.map(rawAttrToJson);
  return o;
}

/** Path attributes from JSON. */
export function attributesFromJson(x: unknown, where = 'attrs'): PathAttributes {
  const o = asObject(x, where);
  const w = (k: string) => `${where}.${k}`;
  const strings = (k: string) => asArray(o[k], w(k)).map((v, i) => [v, `${w(k)}[${i}]`] as const);
  return {
    ...(o.origin === undefined ? {} : { origin: byName(ORIGIN_NAMES, o.origin, w('origin')) }),
    ...(o.asPath === undefined ? {} : { asPath: asPathFromJson(o.asPath, w('asPath')) }),
    ...(o.nextHop === undefined ? {} : { nextHop: addr4FromJson(o.nextHop, w('nextHop')) }),
    ...(o.med === undefined ? {} : { med: asInt(o.med, w('med')) }),
    ...(o.localPref === undefined ? {} : { localPref: asInt(o.localPref, w('localPref')) }),
    ...(o.atomicAggregate === undefined
      ? {}
      : { atomicAggregate: asBool(o.atomicAggregate, w('atomicAggregate')) }),
    ...(o.aggregator === undefined ? {} : { aggregator: aggregatorFromJson(o.aggregator, w('aggregator')) }),
    ...(o.communities === undefined
      ? {}
      : { communities: strings('communities').map(([v, at]) => communityFromJson(v, at)) }),
    ...(o.originatorId === undefined
      ? {}
      : { originatorId: addr4FromJson(o.originatorId, w('originatorId')) }),
    ...(o.clusterList === undefined
      ? {}
      : { clusterList: strings('clusterList').map(([v, at]) => addr4FromJson(v, at)) }),
    ...(o.mpReach === undefined ? {} : { mpReach: mpReachFromJson(o.mpReach, w('mpReach')) }),
    ...(o.mpUnreach === undefined ? {} : { mpUnreach: mpUnreachFromJson(o.mpUnreach, w('mpUnreach')) }),
    ...(o.extCommunities === undefined
      ? {}
      : { extCommunities: strings('extCommunities').flatMap(([v, at]) => extCommunityFromJson(v, at)) }),
    ...(o.as4Path === undefined ? {} : { as4Path: asPathFromJson(o.as4Path, w('as4Path')) }),
    ...(o.as4Aggregator === undefined
      ? {}
      : { as4Aggregator: aggregatorFromJson(o.as4Aggregator, w('as4Aggregator')) }),
    ...(o.largeCommunities === undefined
      ? {}
      : {
          largeCommunities: strings('largeCommunities').flatMap(([v, at]) => largeCommunityFromJson(v, at)),
        }),
    ...(o.otc === undefined ? {} : { otc: asInt(o.otc, w('otc')) }),
    ...(o.unknown === undefined
      ? {}
      : {
          unknown: asArray(o.unknown, w('unknown')).map((v, i) =>
            rawAttrFromJson(v, `${w('unknown')}[${i}]`),
          ),
        }),
  };
}

// ===== Messages =====

const TYPE_NAMES = {
  1: 'open',
  2: 'update',
  3: 'notification',
  4: 'keepalive',
  5: 'route-refresh',
} as const satisfies Record<BgpMessage['type'], string>;

/** JSON for one message; `type` is the message type's name. */
export function messageToJson(m: BgpMessage): JsonObject {
  switch (m.type) {
    case 1: {
      const o: JsonObject = {
        type: TYPE_NAMES[1],
        version: m.version,
        myAs: m.myAs,
        holdTime: m.holdTime,
        bgpId: formatAddr4(m.bgpId),
        params: m.params.map(paramToJson),
      };
      if (m.extendedParams) o.extendedParams = true;
      return o;
    }
    case 2: {
      const o: JsonObject = { type: TYPE_NAMES[2], withdrawn: prefixesToJson(m.withdrawn) };
      if (m.withdrawnPathIds !== undefined) o.withdrawnPathIds = [...m.withdrawnPathIds];
      o.attrs = attributesToJson(m.attrs);
      o.nlri = prefixesToJson(m.nlri);
      if (m.nlriPathIds !== undefined) o.nlriPathIds = [...m.nlriPathIds];
      if (m.treatAsWithdraw !== undefined) o.treatAsWithdraw = errorToJson(m.treatAsWithdraw);
      if (m.discarded !== undefined) o.discarded = m.discarded.map(errorToJson);
      return o;
    }
    case 3:
      return {
        type: TYPE_NAMES[3],
        code: m.code,
        subcode: m.subcode,
        error: describeError(m.code, m.subcode),
        data: toHex(m.data),
      };
    case 4:
      return { type: TYPE_NAMES[4] };
    case 5:
      return { type: TYPE_NAMES[5], afi: m.afi, subtype: m.subtype, safi: m.safi };
  }
}

/** One message from its JSON rendering; throws `BgpJsonError` naming the first bad field. */
export function messageFromJson(x: unknown): BgpMessage {
  const o = asObject(x, 'message');
  const type = asString(o.type, 'message.type');
  switch (type) {
    case 'open':
      return {
        type: 1,
        version: asInt(o.version, 'open.version', 255),
        myAs: asInt(o.myAs, 'open.myAs', 0xffff),
        holdTime: asInt(o.holdTime, 'open.holdTime', 0xffff),
        bgpId: addr4FromJson(o.bgpId, 'open.bgpId'),
        params: asArray(o.params, 'open.params').map((p, i) => paramFromJson(p, `open.params[${i}]`)),
        extendedParams:
          o.extendedParams === undefined ? false : asBool(o.extendedParams, 'open.extendedParams'),
      };
    case 'update':
      return {
        type: 2,
        withdrawn: prefixes4FromJson(o.withdrawn, 'update.withdrawn'),
        ...(o.withdrawnPathIds === undefined
          ? {}
          : { withdrawnPathIds: ints(o.withdrawnPathIds, 'update.withdrawnPathIds') }),
        attrs: attributesFromJson(o.attrs, 'update.attrs'),
        nlri: prefixes4FromJson(o.nlri, 'update.nlri'),
        ...(o.nlriPathIds === undefined ? {} : { nlriPathIds: ints(o.nlriPathIds, 'update.nlriPathIds') }),
        ...(o.treatAsWithdraw === undefined
          ? {}
          : { treatAsWithdraw: errorFromJson(o.treatAsWithdraw, 'update.treatAsWithdraw') }),
        ...(o.discarded === undefined
          ? {}
          : {
              discarded: asArray(o.discarded, 'update.discarded').map((e, i) =>
                errorFromJson(e, `update.discarded[${i}]`),
              ),
            }),
      };
    case 'notification':
      return {
        type: 3,
        code: asInt(o.code, 'notification.code', 255),
        subcode: asInt(o.subcode, 'notification.subcode', 255),
        data: asHex(o.data ?? '', 'notification.data'),
      };
    case 'keepalive':
      return { type: 4 };
    case 'route-refresh':
      return {
        type: 5,
        afi: asInt(o.afi, 'route-refresh.afi', 0xffff),
        subtype: asInt(o.subtype, 'route-refresh.subtype', 255),
        safi: asInt(o.safi, 'route-refresh.safi', 255),
      };
    default:
      return fail('message.type', `unknown message type '${type}'`);
  }
}
