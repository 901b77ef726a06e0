// Export and import rules as pure functions: what a neighbour may get (RFC 4271 §9.1.3, RFC 1997
// communities), the attributes it gets (§5.1: LOCAL_PREF, MED, unknown optional transitive with
// the Partial bit), next hops per family (self, kept, IPv4-mapped, link-local pairs), the 2-octet
// form (RFC 6793 §4.2.2), and on receive the RFC 2545 next-hop choice, RFC 7606 treat-as-withdraw
// and the loop / first-AS rules.
import { describe, expect, it } from 'vitest';
import {
  AttrFlag,
  AS_TRANS,
  AsPathSegmentType,
  Origin,
  WellKnownCommunity,
  AFISAFI_IPV4_UNICAST,
  AFISAFI_IPV6_UNICAST,
  ErrorCode,
} from '../../wire/bgp/constants.js';
import { BgpDecodeError } from '../../wire/bgp/errors.js';
import type { PathAttributes, UpdateMessage } from '../../wire/bgp/types.js';
import {
  formatAddr6,
  parseAddr4,
  parseAddr6,
  parsePrefix,
  type Addr6,
  type Prefix,
  type Prefix4,
} from '../../wire/ip/index.js';
import { exportRoute, type ExportTarget, type PathOrigin } from '../../mgd/bgp/export.js';
import { sameOutRoute } from '../../mgd/bgp/adj-rib.js';
import { mpNextHops, parseUpdate, ruleFailure, sanitise, type ImportSession } from '../../mgd/bgp/import.js';
import { compilePolicy, type CompiledPolicy } from '../../mgd/bgp/policy.js';
import { gracefulDown } from '../../mgd/bgp/speaker.js';

const A4 = (s: string) => (parseAddr4(s) as { ok: true; value: number }).value;
const A6 = (s: string): Addr6 => (parseAddr6(s) as { ok: true; value: Addr6 }).value;
const P = (s: string): Prefix => (parsePrefix(s) as { ok: true; value: Prefix }).value;
const ACCEPT = (compilePolicy({ statements: [], default: 'accept' }) as { ok: true; value: CompiledPolicy })
  .value;
const seq = (...asns: number[]) => [{ type: AsPathSegmentType.AS_SEQUENCE, asns }];

const ebgp: ExportTarget = {
  localAsn: 65002,
  ebgp: true,
  source: 'bgp:10.0.23.3',
  nextHopSelf: false,
  self4: A4('10.0.23.2'),
  fourOctetAs: true,
  extendedNextHop4: false,
  policy: ACCEPT,
};
const ibgp: ExportTarget = { ...ebgp, ebgp: false, source: 'bgp:10.0.2.2', self4: A4('10.0.2.1') };
const learnedE: PathOrigin = { kind: 'learned', ebgp: true, source: 'bgp:10.0.12.1' };
const learnedI: PathOrigin = { kind: 'learned', ebgp: false, source: 'bgp:10.0.9.9' };
const attrs: PathAttributes = { origin: Origin.IGP, asPath: seq(65001), med: 7, localPref: 300 };
const hop = { addr: A4('10.0.12.1') };
const p4 = P('198.51.100.0/24');

describe('export rules', () => {
  it('never sends back, never iBGP to iBGP, honours NO_ADVERTISE / NO_EXPORT / NO_EXPORT_SUBCONFED', () => {
    expect(exportRoute(p4, learnedE, attrs, hop, { ...ebgp, source: 'bgp:10.0.12.1' })).toBeUndefined();
    expect(exportRoute(p4, learnedI, attrs, hop, ibgp)).toBeUndefined();
    expect(exportRoute(p4, learnedI, attrs, hop, ebgp)).toBeDefined();
    const na = { ...attrs, communities: [WellKnownCommunity.NO_ADVERTISE] };
    expect(exportRoute(p4, learnedE, na, hop, ibgp)).toBeUndefined();
    for (const c of [WellKnownCommunity.NO_EXPORT, WellKnownCommunity.NO_EXPORT_SUBCONFED]) {
      const ne = { ...attrs, communities: [c] };
      expect(exportRoute(p4, learnedE, ne, hop, ebgp)).toBeUndefined();
      expect(exportRoute(p4, learnedE, ne, hop, ibgp)?.attrs.communities).toEqual([c]);
    }
  });

  it('towards eBGP: own AS first, next hop self, no LOCAL_PREF, MED only for our own routes', () => {
    const out = exportRoute(p4, learnedE, attrs, hop, ebgp)!.attrs;
    expect(out.asPath).toEqual(seq(65002, 65001));
    expect(out.nextHop).toBe(A4('10.0.23.2'));
    expect(out.localPref).toBeUndefined();
    expect(out.med).toBeUndefined();
    const own = exportRoute(p4, { kind: 'originated' }, { med: 5 }, undefined, ebgp)!.attrs;
    expect(own).toMatchObject({ origin: Origin.IGP, asPath: seq(65002), med: 5 });
    const st = exportRoute(p4, { kind: 'static' }, {}, { addr: A4('10.9.9.9') }, ebgp)!.attrs;
    expect(st).toMatchObject({ origin: Origin.INCOMPLETE, asPath: seq(65002), nextHop: A4('10.0.23.2') });
  });

  it('towards iBGP: next hop kept (unless next-hop-self), LOCAL_PREF kept or 100, AS path unchanged', () => {
    const out = exportRoute(p4, learnedE, attrs, hop, ibgp)!.attrs;
    expect(out).toMatchObject({ asPath: seq(65001), nextHop: A4('10.0.12.1'), localPref: 300, med: 7 });
    const { localPref: _l, ...noLp } = attrs;
    expect(exportRoute(p4, learnedE, noLp, hop, ibgp)!.attrs.localPref).toBe(100);
    expect(exportRoute(p4, learnedE, attrs, hop, { ...ibgp, nextHopSelf: true })!.attrs.nextHop).toBe(
      A4('10.0.2.1'),
    );
    const own = exportRoute(p4, { kind: 'originated' }, {}, undefined, ibgp)!.attrs;
    expect(own).toMatchObject({ asPath: [], localPref: 100, nextHop: A4('10.0.2.1') });
  });

  it('passes unknown optional transitive attributes with the Partial bit and drops the rest', () => {
    const unknown = [
      { flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, code: 99, data: new Uint8Array([1]) },
      { flags: AttrFlag.OPTIONAL, code: 98, data: new Uint8Array([2]) },
    ];
    const out = exportRoute(p4, learnedE, { ...attrs, unknown }, hop, ebgp)!.attrs;
    expect(out.unknown).toEqual([
      {
        flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE | AttrFlag.PARTIAL,
        code: 99,
        data: new Uint8Array([1]),
      },
    ]);
  });

  it('builds 2-octet AS_PATH with AS4_PATH for an old speaker', () => {
    const out = exportRoute(p4, learnedE, { ...attrs, asPath: seq(4200000001) }, hop, {
      ...ebgp,
      localAsn: 4200000002,
      fourOctetAs: false,
    })!.attrs;
    expect(out.asPath).toEqual(seq(AS_TRANS, AS_TRANS));
    expect(out.as4Path).toEqual(seq(4200000002, 4200000001));
  });

  it('chooses next hops per family: IPv4-mapped, link-local pairs, none without extended next hop', () => {
    const p6 = P('2001:db8:1::/48');
    const v6 = exportRoute(p6, learnedE, attrs, { addr: A6('2001:db8::1') }, ebgp)!.attrs.mpReach!;
    expect(formatAddr6(v6.nextHop as Addr6)).toBe('::ffff:10.0.23.2');
    const { self4: _s, ...no4 } = ebgp;
    const ll = exportRoute(p6, learnedE, attrs, undefined, { ...no4, selfLinkLocal: A6('fe80::2') })!.attrs
      .mpReach!;
    expect(formatAddr6(ll.nextHop as Addr6)).toBe('fe80::2');
    expect(ll.nextHopLinkLocal && formatAddr6(ll.nextHopLinkLocal)).toBe('fe80::2');
    const over6: ExportTarget = { ...no4, self6: A6('2001:db8:23::2') };
    expect(exportRoute(p4, learnedE, attrs, hop, over6)).toBeUndefined();
    const enh = exportRoute(p4, learnedE, attrs, hop, { ...over6, extendedNextHop4: true })!.attrs.mpReach!;
    expect(enh.afi).toBe(1);
    expect(formatAddr6(enh.nextHop as Addr6)).toBe('2001:db8:23::2');
    // Routes differ when the next hop differs, so prefixes are packed only with equal next hops.
    const r1 = exportRoute(p4, learnedE, attrs, hop, ibgp)!;
    const r2 = exportRoute(p4, learnedE, attrs, { addr: A4('10.0.12.9') }, ibgp)!;
    expect(sameOutRoute(r1, r2)).toBe(false);
    expect(sameOutRoute(r1, exportRoute(p4, learnedE, { ...attrs }, { ...hop }, ibgp)!)).toBe(true);
  });

  it('runs the export policy before our own AS is prepended', () => {
    const pol = (
      compilePolicy({
        statements: [
          { match: { prefixList: [{ prefix: '198.51.100.0/24' }] }, then: 'reject' },
          { actions: { prepend: { count: 2 } }, then: 'accept' },
        ],
        default: 'reject',
      }) as { ok: true; value: CompiledPolicy }
    ).value;
    expect(exportRoute(p4, learnedE, attrs, hop, { ...ebgp, policy: pol })).toBeUndefined();
    const other = exportRoute(P('198.51.101.0/24'), learnedE, attrs, hop, { ...ebgp, policy: pol })!.attrs;
    expect(other.asPath).toEqual(seq(65002, 65002, 65002, 65001));
  });
});

describe('receive rules', () => {
  const s: ImportSession = {
    localAsn: 65002,
    peerAsn: 65001,
    ebgp: true,
    fourOctetAs: true,
    families: new Set([AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST]),
  };

  it('drops AS-path loops beyond allowas-in and checks the first AS', () => {
    const rules = { allowAsIn: 0, enforceFirstAs: true };
    expect(ruleFailure({ asPath: seq(65001, 65002) }, s, rules)).toBe('as-path-loop');
    expect(ruleFailure({ asPath: seq(65001, 65002) }, s, { ...rules, allowAsIn: 1 })).toBeUndefined();
    expect(ruleFailure({ asPath: seq(65001, 65002, 65002) }, s, { ...rules, allowAsIn: 1 })).toBe(
      'as-path-loop',
    );
    expect(ruleFailure({ asPath: seq(65003) }, s, rules)).toBe('first-as-not-peer-as');
    expect(ruleFailure({ asPath: seq(65003) }, { ...s, ebgp: false, peerAsn: 65002 }, rules)).toBeUndefined();
  });

  it('sanitises: no next-hop attributes, eBGP-only drops, AS4 merge for old speakers', () => {
    const a = sanitise(
      { origin: 0, asPath: seq(65001, AS_TRANS), as4Path: seq(4200000009), localPref: 9, nextHop: 1 },
      { ...s, fourOctetAs: false },
    );
    expect(a).toEqual({ origin: 0, asPath: seq(65001, 4200000009) });
    const i = sanitise(
      { origin: 0, asPath: seq(65001), localPref: 9, as4Path: seq(1) },
      { ...s, ebgp: false },
    );
    expect(i).toEqual({ origin: 0, asPath: seq(65001), localPref: 9 });
  });

  it('picks the global IPv6 next hop, else the link-local one on the session interface', () => {
    const mp = { afi: 2, safi: 1, nlri: [] };
    expect(
      mpNextHops({ ...mp, nextHop: A6('2001:db8::1'), nextHopLinkLocal: A6('fe80::1') }, 'eth0'),
    ).toEqual([{ addr: A6('2001:db8::1') }]);
    expect(mpNextHops({ ...mp, nextHop: A6('::'), nextHopLinkLocal: A6('fe80::1') }, 'eth0')).toEqual([
      { addr: A6('fe80::1'), ifname: 'eth0' },
    ]);
    expect(mpNextHops({ ...mp, nextHop: A6('fe80::1') }, undefined)).toEqual([]);
  });

  it('turns a treat-as-withdraw UPDATE into withdrawals of all its NLRI, MP_REACH included', () => {
    const msg: UpdateMessage = {
      type: 2,
      withdrawn: [],
      nlri: [P('198.51.100.0/24') as Prefix4],
      attrs: {
        origin: 0,
        mpReach: { afi: 2, safi: 1, nextHop: A6('2001:db8::1'), nlri: [P('2001:db8:1::/48')] },
      },
      treatAsWithdraw: new BgpDecodeError(ErrorCode.UPDATE_MESSAGE, 6, 'treat-as-withdraw', 'bad ORIGIN'),
    };
    const u = parseUpdate(msg, s);
    expect(u.announced).toEqual([]);
    expect(u.withdrawn.flatMap((w) => w.prefixes)).toEqual([P('198.51.100.0/24'), P('2001:db8:1::/48')]);
    expect(u.treatAsWithdraw).toBeDefined();
  });

  it('keeps routes over a restart only for TCP loss, hold expiry, or an N-bit NOTIFICATION that is not a Hard Reset', () => {
    expect(gracefulDown({ kind: 'tcp-failed' }, false)).toBe(true);
    expect(gracefulDown({ kind: 'hold-timer-expired' }, false)).toBe(true);
    expect(gracefulDown({ kind: 'notification-received', code: 6, subcode: 4 }, true)).toBe(true);
    expect(gracefulDown({ kind: 'notification-received', code: 6, subcode: 4 }, false)).toBe(false);
    expect(gracefulDown({ kind: 'notification-received', code: 6, subcode: 9 }, true)).toBe(false);
    expect(gracefulDown({ kind: 'admin-stop' }, true)).toBe(false);
  });
});
