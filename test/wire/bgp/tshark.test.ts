// Cross-check with an independent decoder: Wireshark's BGP dissector.
//
// Every valid shared vector, plus a seeded sample of messages our encoder writes from the
// arbitraries, is wrapped into a pcap (text2pcap, one TCP segment per message, port 179) and read
// back with `tshark -T json`. Each frame must be BGP, carry no malformed mark and no expert item
// of warning severity or worse, and agree with our decoding on the fields both sides name: type
// and length, OPEN fixed fields and capability codes, NOTIFICATION code and subcode, ROUTE-REFRESH
// AFI/subtype/SAFI, UPDATE prefixes and attribute type codes. TCP reassembly is off so a wrong
// length field shows up on its own frame instead of swallowing the next message.
//
// Left out: vectors with ADD-PATH contexts (tshark cannot know what the session negotiated) and
// vectors marked `tshark: false` (e.g. RFC 9072 extended parameters, which tshark 4.0 predates).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../../support/vectors.js';
import {
  dissect as dissectFrames,
  frameProblems,
  keysWhere,
  one,
  tsharkAvailable,
  valuesOf,
  type Tree,
} from '../../support/tshark.js';
import { notificationArb, routeRefreshArb, validOpenArb } from '../../support/bgp-arbitraries.js';
import { arbUpdate, CONTEXTS } from './arb-update.js';
import { decodeMessage, encodeMessageBytes, encodingLengthMessage } from '../../../wire/bgp/message.js';
import { contextFromJson } from '../../../wire/bgp/json.js';
import { capabilitiesOf } from '../../../wire/bgp/open.js';
import { capabilityCode } from '../../../wire/bgp/capabilities.js';
import type { MutablePathAttributes } from '../../../wire/bgp/attributes.js';
import { AttrType } from '../../../wire/bgp/constants.js';
import { maxMessageLength } from '../../../wire/bgp/header.js';
import { Addr6, formatAddr4, formatPrefix, parsePrefix, type Prefix } from '../../../wire/ip/index.js';
import { fromHex } from '../../../wire/reader.js';
import type { BgpMessage, CodecContext, PathAttributes, UpdateMessage } from '../../../wire/bgp/types.js';

const TOOLS = tsharkAvailable();

interface Case {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly msg: BgpMessage;
  /** Tells tshark the AS number size, which it otherwise guesses (and sometimes cannot). */
  readonly fourOctetAs: boolean;
}

/** Dissect each message as its own TCP segment to port 179, without TCP reassembly. */
function dissect(messages: readonly Uint8Array[], fourOctetAs: boolean): Tree[] {
  return dissectFrames(messages, {
    transport: 'tcp',
    port: 179,
    prefs: ['tcp.desegment_tcp_streams:FALSE', `bgp.asn_len:${fourOctetAs ? 4 : 2} octet`],
  });
}

// ===== What we expect tshark to see =====

const ATTR_KEYS: readonly (readonly [keyof PathAttributes, number])[] = [
  ['origin', AttrType.ORIGIN],
  ['asPath', AttrType.AS_PATH],
  ['nextHop', AttrType.NEXT_HOP],
  ['med', AttrType.MULTI_EXIT_DISC],
  ['localPref', AttrType.LOCAL_PREF],
  ['atomicAggregate', AttrType.ATOMIC_AGGREGATE],
  ['aggregator', AttrType.AGGREGATOR],
  ['communities', AttrType.COMMUNITIES],
  ['originatorId', AttrType.ORIGINATOR_ID],
  ['clusterList', AttrType.CLUSTER_LIST],
  ['mpReach', AttrType.MP_REACH_NLRI],
  ['mpUnreach', AttrType.MP_UNREACH_NLRI],
  ['extCommunities', AttrType.EXTENDED_COMMUNITIES],
  ['as4Path', AttrType.AS4_PATH],
  ['as4Aggregator', AttrType.AS4_AGGREGATOR],
  ['largeCommunities', AttrType.LARGE_COMMUNITY],
  ['otc', AttrType.OTC],
];

function attributeCodes(a: PathAttributes): number[] {
  const codes = ATTR_KEYS.filter(([k]) => a[k] !== undefined).map(([, c]) => c);
  for (const u of a.unknown ?? []) codes.push(u.code);
  return codes.sort((x, y) => x - y);
}

function normalisePrefix(s: string): string {
  const p = parsePrefix(s, 'clear');
  return p.ok ? formatPrefix(p.value) : `unparsable ${s}`;
}

function prefixes(m: BgpMessage & { type: 2 }): string[] {
  const all: Prefix[] = [...m.withdrawn, ...m.nlri];
  if (m.attrs.mpReach?.raw === undefined) all.push(...(m.attrs.mpReach?.nlri ?? []));
  if (m.attrs.mpUnreach?.raw === undefined) all.push(...(m.attrs.mpUnreach?.withdrawn ?? []));
  return [...new Set(all.map(formatPrefix))].sort();
}

const CIDR = /^([0-9.]+|[0-9a-f:.]*:[0-9a-f:.]*)\/\d+$/i;

/** The differences between one frame and our reading of the same bytes; empty when they agree. */
function compare(c: Case, layers: Tree): string[] {
  const problems: string[] = [];
  const bgp = layers.bgp;
  if (bgp === undefined) return ['tshark found no BGP layer'];
  problems.push(...frameProblems(layers));
  const m = c.msg;
  const check = (what: string, theirs: unknown, ours: unknown) => {
    if (JSON.stringify(theirs) !== JSON.stringify(ours)) {
      problems.push(`${what}: tshark ${JSON.stringify(theirs)}, we ${JSON.stringify(ours)}`);
    }
  };
  check('type', one(bgp, 'bgp.type'), String(m.type));
  check('length', one(bgp, 'bgp.length'), String(c.bytes.length));
  switch (m.type) {
    case 1:
      check('version', one(bgp, 'bgp.open.version'), String(m.version));
      check('my AS', one(bgp, 'bgp.open.myas'), String(m.myAs));
      check('hold time', one(bgp, 'bgp.open.holdtime'), String(m.holdTime));
      check('identifier', one(bgp, 'bgp.open.identifier'), formatAddr4(m.bgpId));
      check(
        'capability codes',
        valuesOf(bgp, 'bgp.cap.type').map(Number),
        capabilitiesOf(m).map(capabilityCode),
      );
      break;
    case 2:
      check(
        'attribute codes',
        valuesOf(bgp, 'bgp.update.path_attribute.type_code')
          .map(Number)
          .sort((x, y) => x - y),
        attributeCodes(m.attrs),
      );
      check(
        'prefixes',
        // A set: tshark renders each prefix as a JSON key, so repeats within a field collapse.
        [...new Set(keysWhere(bgp, (k) => CIDR.test(k)).map(normalisePrefix))].sort(),
        prefixes(m),
      );
      break;
    case 3: {
      check('code', one(bgp, 'bgp.notify.major_error'), String(m.code));
      const minor = keysWhere(
        bgp,
        (k) => k.startsWith('bgp.notify.minor_error') && k !== 'bgp.notify.minor_error_data',
      );
      if (minor.length > 0) check('subcode', one(bgp, minor[0]!), String(m.subcode));
      break;
    }
    case 4:
      break;
    case 5:
      check('afi', one(bgp, 'bgp.route_refresh.afi'), String(m.afi));
      check('subtype', one(bgp, 'bgp.route_refresh.subtype'), String(m.subtype));
      check('safi', one(bgp, 'bgp.route_refresh.safi'), String(m.safi));
      break;
  }
  return problems;
}

function runCases(cases: readonly Case[]): void {
  const failures: string[] = [];
  for (const fourOctetAs of [false, true]) {
    const group = cases.filter((c) => c.fourOctetAs === fourOctetAs);
    if (group.length === 0) continue;
    const frames = dissect(
      group.map((c) => c.bytes),
      fourOctetAs,
    );
    expect(frames.length, 'one frame per message').toBe(group.length);
    group.forEach((c, i) => {
      const p = compare(c, frames[i]!);
      if (p.length > 0) failures.push(`${c.name}: ${p.join('; ')}`);
    });
  }
  expect(failures).toEqual([]);
}

// ===== Cases =====

function vectorCases(): Case[] {
  const out: Case[] = [];
  for (const v of loadVectors('bgp')) {
    if (v.error !== undefined || v.tshark === false) continue;
    const ctx = contextFromJson(v.ctx);
    if (ctx.addPath.size > 0) continue;
    const bytes = fromHex(v.hex);
    const r = decodeMessage(bytes, 0, bytes.length, ctx);
    if (!r.ok) throw new Error(`vector ${v.name} does not decode: ${r.error.message}`);
    out.push({ name: `${v.file}: ${v.name}`, bytes, msg: r.value, fourOctetAs: ctx.fourOctetAs });
  }
  return out;
}

/** Prefixes without 0/0, which tips Wireshark's ADD-PATH guess (`detect_add_path_prefix46`). */
function unambiguous<P extends Prefix>(ps: readonly P[]): P[] {
  return ps.filter((p) => (typeof p === 'number' ? p % 64 : p.len) !== 0);
}

/**
 * An UPDATE narrowed to what tshark can judge: no unknown attributes (random bytes under a code
 * Wireshark interprets, such as AIGP or BGP-LS, are rightly malformed), no raw MP families, no
 * 0/0 prefixes, and the second IPv6 next hop link-local as RFC 2545 §3 requires.
 */
function dissectable(m: UpdateMessage): UpdateMessage {
  const { unknown: _unknown, mpReach, mpUnreach, ...rest } = m.attrs;
  const attrs: MutablePathAttributes = { ...rest };
  if (mpReach !== undefined && mpReach.raw === undefined) {
    const ll = mpReach.nextHopLinkLocal;
    attrs.mpReach = {
      ...mpReach,
      nlri: unambiguous(mpReach.nlri),
      ...(ll === undefined ? {} : { nextHopLinkLocal: new Addr6(0xfe800000, 0, ll.w2, ll.w3) }),
    };
  }
  if (mpUnreach !== undefined && mpUnreach.raw === undefined) {
    attrs.mpUnreach = { ...mpUnreach, withdrawn: unambiguous(mpUnreach.withdrawn) };
  }
  return { ...m, withdrawn: unambiguous(m.withdrawn), nlri: unambiguous(m.nlri), attrs };
}

/** Messages our encoder writes, sampled with a fixed seed so a failure reproduces. */
function encoderCases(perKind: number): Case[] {
  const out: Case[] = [];
  const add = (kind: string, ctx: CodecContext, arb: fc.Arbitrary<BgpMessage>) => {
    fc.sample(arb, { seed: 4271, numRuns: perKind }).forEach((msg, i) => {
      if (encodingLengthMessage(msg, ctx) > maxMessageLength(msg.type, ctx)) return;
      out.push({
        name: `${kind} #${i}`,
        bytes: encodeMessageBytes(msg, ctx),
        msg,
        fourOctetAs: ctx.fourOctetAs,
      });
    });
  };
  const plain = CONTEXTS.filter((c) => c.ctx.addPath.size === 0);
  for (const { name, ctx } of plain) add(`UPDATE (${name})`, ctx, arbUpdate(ctx).map(dissectable));
  const ctx = plain[0]!.ctx;
  // Plain parameter lengths only: tshark 4.0 predates RFC 9072.
  add(
    'OPEN',
    ctx,
    validOpenArb.filter((m) => !m.extendedParams),
  );
  // Registered error codes only: tshark rightly warns about the others.
  add(
    'NOTIFICATION',
    ctx,
    notificationArb.map((m) => ({ ...m, code: 1 + (m.code % 7) })),
  );
  add(
    'ROUTE-REFRESH',
    ctx,
    routeRefreshArb.map((m) => ({ ...m, subtype: m.subtype % 3 })),
  );
  return out;
}

describe.skipIf(!TOOLS)('tshark reads our bytes as we do (needs tshark and text2pcap)', () => {
  it('agrees on every valid shared vector', () => {
    const cases = vectorCases();
    expect(cases.length).toBeGreaterThan(20);
    runCases(cases);
  });

  it('agrees on a seeded sample of encoder output for every message type', () => {
    runCases(encoderCases(60));
  });
});
