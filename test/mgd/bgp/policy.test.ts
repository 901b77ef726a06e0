// Declarative BGP policy (mgd/bgp/policy.ts): schema errors, each match, each action, statement order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsPathSegmentType, Origin, WellKnownCommunity } from '../../../wire/bgp/constants.js';
import { asPathPrepend } from '../../../wire/bgp/aspath.js';
import type { PathAttributes } from '../../../wire/bgp/types.js';
import { parseAddr4, parsePrefix, type Prefix } from '../../../wire/ip/index.js';
import {
  compilePolicy,
  evaluatePolicy,
  parseCommunity,
  parseLargeCommunity,
  type CompiledPolicy,
  type PolicyRoute,
} from '../../../mgd/bgp/policy.js';

const env = { localAsn: 65000 };
const pfx = (s: string): Prefix => {
  const r = parsePrefix(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const attrs: PathAttributes = {
  origin: Origin.IGP,
  asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001, 65002, 65003] }],
  nextHop: 0xc0000201,
  med: 50,
  communities: [65001 * 65536 + 100, WellKnownCommunity.NO_EXPORT],
  largeCommunities: [65001, 1, 2],
};
const route = (p: string, a: PathAttributes = attrs): PolicyRoute => ({
  prefix: pfx(p),
  attrs: a,
  nextHop: 0xc0000201,
});

function compile(input: unknown): CompiledPolicy {
  const r = compilePolicy(input);
  if (!r.ok) throw new Error(r.error.join('; '));
  return r.value;
}
const one = (match: unknown, then = 'accept') =>
  compile({ statements: [{ match, then }], default: 'reject' });
const accepts = (p: CompiledPolicy, r: PolicyRoute) => evaluatePolicy(p, r, env).accept;

describe('policy schema', () => {
  it('reports where a policy is wrong', () => {
    const r = compilePolicy({ statements: [{ then: 'maybe' }], default: 'reject' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.join()).toMatch(/statements\.0\.then/);
    const bad = compilePolicy({
      statements: [{ name: 'x', match: { prefixList: [{ prefix: '10.0.0.1/8' }] }, then: 'accept' }],
      default: 'reject',
    });
    expect(!bad.ok && bad.error[0]).toBe(
      "policy.statements[0] (x).match.prefixList[0]: '10.0.0.1/8' has host bits set; the network is 10.0.0.0/8",
    );
    const range = compilePolicy({
      statements: [{ match: { prefixList: [{ prefix: '10.0.0.0/16', ge: 8 }] }, then: 'accept' }],
      default: 'reject',
    });
    expect(!range.ok && range.error[0]).toContain('ge (8)');
    const extra = compilePolicy({ statements: [], default: 'reject', surprise: 1 });
    expect(extra.ok).toBe(false);
    const comm = compilePolicy({
      statements: [{ actions: { addCommunities: ['70000:1'] }, then: 'accept' }],
      default: 'reject',
    });
    expect(!comm.ok && comm.error[0]).toContain('0..65535');
  });
  it('parses communities', () => {
    expect(parseCommunity('65001:100')).toEqual({ ok: true, value: 65001 * 65536 + 100 });
    expect(parseCommunity('no-export')).toEqual({ ok: true, value: WellKnownCommunity.NO_EXPORT });
    expect(parseCommunity('x').ok).toBe(false);
    expect(parseLargeCommunity('4200000000:1:2')).toEqual({ ok: true, value: [4200000000, 1, 2] });
  });
});

describe('policy matches', () => {
  it('prefix lists: exact, ge/le, family', () => {
    const exact = one({ prefixList: [{ prefix: '10.0.0.0/8' }] });
    expect(accepts(exact, route('10.0.0.0/8'))).toBe(true);
    expect(accepts(exact, route('10.1.0.0/16'))).toBe(false);
    const range = one({ prefixList: [{ prefix: '10.0.0.0/8', ge: 16, le: 24 }] });
    expect(accepts(range, route('10.1.0.0/16'))).toBe(true);
    expect(accepts(range, route('10.1.1.0/24'))).toBe(true);
    expect(accepts(range, route('10.1.1.0/25'))).toBe(false);
    expect(accepts(range, route('11.1.0.0/16'))).toBe(false);
    const le = one({ prefixList: [{ prefix: '2001:db8::/32', le: 48 }] });
    expect(accepts(le, route('2001:db8:1::/48'))).toBe(true);
    expect(accepts(le, route('2001:db8::/32'))).toBe(true);
    expect(accepts(le, route('2001:db9::/48'))).toBe(false);
    expect(accepts(one({ family: 'ipv6' }), route('10.0.0.0/8'))).toBe(false);
  });
  it('AS path, origin, neighbour AS, length', () => {
    expect(accepts(one({ asPathContains: [65002] }), route('10.0.0.0/8'))).toBe(true);
    expect(accepts(one({ asPathContains: [65009] }), route('10.0.0.0/8'))).toBe(false);
    expect(accepts(one({ originAs: [65003] }), route('10.0.0.0/8'))).toBe(true);
    expect(accepts(one({ neighborAs: [65001] }), route('10.0.0.0/8'))).toBe(true);
    expect(accepts(one({ neighborAs: [65003] }), route('10.0.0.0/8'))).toBe(false);
    expect(accepts(one({ asPathLengthMax: 2 }), route('10.0.0.0/8'))).toBe(false);
    expect(accepts(one({ asPathLengthMin: 3, asPathLengthMax: 3 }), route('10.0.0.0/8'))).toBe(true);
  });
  it('communities, large communities, next hop, origin', () => {
    expect(accepts(one({ communitiesAny: ['no-export', '1:1'] }), route('10.0.0.0/8'))).toBe(true);
    expect(accepts(one({ communitiesAll: ['no-export', '1:1'] }), route('10.0.0.0/8'))).toBe(false);
    expect(accepts(one({ largeCommunitiesAny: ['65001:1:2'] }), route('10.0.0.0/8'))).toBe(true);
    expect(accepts(one({ largeCommunitiesAny: ['65001:1:3'] }), route('10.0.0.0/8'))).toBe(false);
    expect(accepts(one({ nextHop: ['192.0.2.0/24'] }), route('10.0.0.0/8'))).toBe(true);
    expect(accepts(one({ nextHop: ['198.51.100.0/24'] }), route('10.0.0.0/8'))).toBe(false);
    expect(accepts(one({ origin: ['incomplete'] }), route('10.0.0.0/8'))).toBe(false);
  });
});

describe('policy actions and order', () => {
  it('rewrites attributes and leaves the input alone', () => {
    const p = compile({
      statements: [
        {
          actions: {
            setLocalPref: 200,
            setMed: 'remove',
            addCommunities: ['65000:1', 'no-export'],
            removeCommunities: ['65001:100'],
            addLargeCommunities: ['65000:7:7'],
            removeLargeCommunities: ['65001:1:2'],
            prepend: { count: 2 },
            setNextHop: '198.51.100.1',
          },
          then: 'accept',
        },
      ],
      default: 'reject',
    });
    const out = evaluatePolicy(p, route('10.0.0.0/8'), env);
    expect(out.accept).toBe(true);
    expect(out.attrs.localPref).toBe(200);
    expect(out.attrs.med).toBeUndefined();
    expect(out.attrs.communities).toEqual([WellKnownCommunity.NO_EXPORT, 65000 * 65536 + 1]);
    expect(out.attrs.largeCommunities).toEqual([65000, 7, 7]);
    expect(out.attrs.asPath).toEqual([
      { type: AsPathSegmentType.AS_SEQUENCE, asns: [65000, 65000, 65001, 65002, 65003] },
    ]);
    const nh = parseAddr4('198.51.100.1');
    expect(nh.ok && out.nextHop).toBe(nh.ok && nh.value);
    expect(attrs.med).toBe(50);
  });
  it('first matching statement wins; next continues; default applies at the end', () => {
    const p = compile({
      statements: [
        {
          match: { prefixList: [{ prefix: '10.0.0.0/8', le: 32 }] },
          actions: { setLocalPref: 50 },
          then: 'next',
        },
        { match: { communitiesAny: ['no-export'] }, then: 'reject' },
        { match: { family: 'ipv4' }, then: 'accept' },
      ],
      default: 'reject',
    });
    expect(evaluatePolicy(p, route('10.0.0.0/8'), env).accept).toBe(false);
    const plain = { ...attrs, communities: [] };
    const out = evaluatePolicy(p, route('10.0.0.0/8', plain), env);
    expect(out.accept && out.attrs.localPref).toBe(50);
    expect(evaluatePolicy(p, route('2001:db8::/32', plain), env).accept).toBe(false);
    expect(evaluatePolicy(p, route('11.0.0.0/8', plain), env).attrs).toBe(plain);
  });
  it('next-hop self is reported for the session to fill in', () => {
    const p = compile({
      statements: [{ actions: { setNextHop: 'self' }, then: 'accept' }],
      default: 'reject',
    });
    expect(evaluatePolicy(p, route('10.0.0.0/8'), env).nextHopSelf).toBe(true);
  });
  it('prepend keeps segments within 255 ASNs and the path length grows by the count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 16 }),
        (asns, n) => {
          const path =
            asns.length === 0 ? [] : [{ type: AsPathSegmentType.AS_SEQUENCE, asns: asns.slice(0, 255) }];
          const out = asPathPrepend(path, 65000, n);
          expect(out.every((s) => s.asns.length <= 255)).toBe(true);
          expect(out.flatMap((s) => s.asns)).toEqual([
            ...new Array<number>(n).fill(65000),
            ...asns.slice(0, 255),
          ]);
        },
      ),
    );
  });
});
