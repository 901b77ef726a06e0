// The iproute2 text the linux backend writes and the JSON it reads, checked without a kernel.

import { describe, expect, it } from 'vitest';
import {
  formatAfPrefix,
  formatNextHop,
  opLine,
  parseIpAddr,
  parseIpRoutes,
  type FibRoute,
} from '../../rib/index.js';
import { parseAddr6, parsePrefix4, parsePrefix6 } from '../../wire/ip/index.js';
import { a4 } from './gen.js';

function ll(s: string): ReturnType<typeof parseAddr6> extends { ok: true; value: infer V } ? V : never {
  const r = parseAddr6(s);
  if (!r.ok) throw new Error(r.error);
  return r.value as never;
}

describe('linux backend text', () => {
  it('writes add/replace/delete lines with proto, weights, interfaces and RFC 8950 next hops', () => {
    const p = parsePrefix4('203.0.113.0/24');
    const p6 = parsePrefix6('2001:db8::/64');
    if (!p.ok || !p6.ok) throw new Error('bad prefix');
    const r1: FibRoute = { afi: 4, prefix: p.value, nexthops: [{ addr: a4('10.0.0.1') }] };
    expect(opLine({ op: 'replace', route: r1, existing: false }, 199)).toBe(
      'route add 203.0.113.0/24 proto 199 via 10.0.0.1',
    );
    const r2: FibRoute = {
      afi: 4,
      prefix: p.value,
      nexthops: [
        { addr: a4('10.0.0.1'), weight: 3 },
        { addr: ll('fe80::1'), ifname: 'eth1' },
      ],
    };
    expect(opLine({ op: 'replace', route: r2, existing: true }, 199, 20)).toBe(
      'route replace 203.0.113.0/24 proto 199 metric 20 nexthop via 10.0.0.1 weight 3 nexthop via inet6 fe80::1 dev eth1',
    );
    expect(opLine({ op: 'delete', route: { afi: 6, prefix: p6.value } }, 199, undefined, 100)).toBe(
      'route del 2001:db8::/64 proto 199 table 100',
    );
  });

  it('reads ip -j route output: default, host routes, multipath with weights, link-local', () => {
    const v4 = JSON.stringify([
      { dst: 'default', gateway: '10.9.0.5', dev: 'v0', flags: [] },
      { dst: '10.5.5.5', gateway: '10.9.0.5', dev: 'v0', flags: [] },
      {
        dst: '10.3.0.0/24',
        flags: [],
        nexthops: [
          { gateway: '10.9.0.2', dev: 'v0', weight: 3, flags: [] },
          { gateway: '10.9.0.3', dev: 'v0', weight: 1, flags: [] },
        ],
      },
      { dst: '10.6.0.0/24', via: { family: 'inet6', host: 'fe80::1' }, dev: 'v0', flags: [] },
    ]);
    const text = parseIpRoutes(v4, 4).map(
      (r) => `${formatAfPrefix(r)} ${r.nexthops.map(formatNextHop).join(',')}`,
    );
    expect(text).toEqual([
      '0.0.0.0/0 10.9.0.5%v0',
      '10.5.5.5/32 10.9.0.5%v0',
      '10.3.0.0/24 10.9.0.2%v0 weight 3,10.9.0.3%v0',
      '10.6.0.0/24 fe80::1%v0',
    ]);
    const v6 =
      '[{"dst":"2001:db8::/64","gateway":"fe80::1","dev":"v0","metric":1024,"flags":[],"pref":"medium"}]';
    expect(parseIpRoutes(v6, 6).map((r) => formatAfPrefix(r))).toEqual(['2001:db8::/64']);
    expect(parseIpRoutes('', 4)).toEqual([]);
  });

  it('reads ip -j addr output: subnets of up interfaces only', () => {
    const json = JSON.stringify([
      {
        ifname: 'lo',
        flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
        operstate: 'UNKNOWN',
        addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }],
      },
      {
        ifname: 'eth0',
        flags: ['BROADCAST', 'UP', 'LOWER_UP'],
        operstate: 'UP',
        addr_info: [
          { family: 'inet', local: '10.0.1.1', prefixlen: 30 },
          { family: 'inet6', local: 'fd00:0:1::1', prefixlen: 64 },
        ],
      },
      {
        ifname: 'eth1',
        flags: ['BROADCAST', 'UP'],
        operstate: 'DOWN',
        addr_info: [{ family: 'inet', local: '10.0.2.1', prefixlen: 30 }],
      },
    ]);
    const { routes, interfaces } = parseIpAddr(json);
    expect([...interfaces]).toEqual(['lo', 'eth0']);
    expect(routes.map((r) => `${formatAfPrefix(r)} ${r.ifname}`)).toEqual([
      '127.0.0.0/8 lo',
      '10.0.1.0/30 eth0',
      'fd00:0:1::/64 eth0',
    ]);
  });
});
