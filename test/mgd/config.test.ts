// The mgd configuration file: good files load and resolve; each class of error is reported with
// the path of the field and what to fix; the embedded default is valid.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST } from '../../wire/bgp/constants.js';
import { formatPrefix, parseAddr4 } from '../../wire/ip/index.js';
import {
  formatConfigErrors,
  loadConfigFile,
  parseConfigText,
  validateConfig,
  type ConfigError,
} from '../../mgd/config/load.js';
import { EMBEDDED_DEFAULT_CONFIG, type ConfigFile } from '../../mgd/config/schema.js';

const good: ConfigFile = {
  routers: [
    { asn: 65001, routerId: '10.0.0.1', listen: { host: '0.0.0.0', port: 1179 } },
    {
      asn: 4200000000,
      routerId: '10.0.0.2',
      listen: { host: '0.0.0.0', port: 1180 },
      originate: { ipv6: ['2001:db8::/32'] },
    },
  ],
  neighbors: [
    {
      router: 65001,
      address: '10.1.0.2',
      remoteAsn: 65002,
      holdTime: 9,
      importPolicy: 'in',
      exportPolicy: 'out',
      maxPrefix: { limit: 1000, action: 'restart', restartAfter: 30, families: { 'ipv6-unicast': 50 } },
      gracefulRestart: { enabled: true, restartTime: 90 },
      families: ['ipv4-unicast'],
      description: 'upstream',
    },
    { router: 65001, address: '10.1.0.3', remoteAsn: 65001, nextHopSelf: true },
    { router: 4200000000, address: 'fe80::1%eth0', remoteAsn: 65010, addPath: { 'ipv6-unicast': 'both' } },
  ],
  policies: {
    in: {
      statements: [{ match: { prefixList: [{ prefix: '10.0.0.0/8', le: 24 }] }, then: 'accept' }],
      default: 'reject',
    },
    out: { statements: [], default: 'accept' },
  },
  originate: { ipv4: ['192.0.2.0/24', '198.51.100.0/24'] },
  staticRoutes: [
    { prefix: '203.0.113.0/24', nexthops: [{ address: '10.1.0.2' }], distance: 5 },
    { prefix: '2001:db8:1::/48', nexthops: [{ address: 'fe80::2', interface: 'eth1', weight: 2 }] },
  ],
  redistributeStatic: true,
  bestpath: { multipath: 4, alwaysCompareMed: true, distances: { static: 3 } },
  fib: { backend: 'memory' },
};

function errorsOf(cfg: unknown): ConfigError[] {
  const r = validateConfig(cfg);
  if (r.ok) throw new Error('expected the configuration to be refused');
  return r.error;
}

/** A copy of the good file with one change applied. */
function withChange(change: (c: ConfigFile & Record<string, unknown>) => void): unknown {
  const c = JSON.parse(JSON.stringify(good)) as ConfigFile & Record<string, unknown>;
  change(c);
  return c;
}

describe('mgd configuration', () => {
  it('loads a good file and resolves it', () => {
    const r = validateConfig(good);
    if (!r.ok) throw new Error(formatConfigErrors(r.error));
    const c = r.value;
    expect(c.routers.map((x) => x.asn)).toEqual([65001, 4200000000]);
    const [r1, r2] = c.routers;
    expect(r1?.routerId).toBe((parseAddr4('10.0.0.1') as { value: number }).value);
    expect(r1?.originate.map(formatPrefix)).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
    expect(r2?.originate.map(formatPrefix)).toEqual(['2001:db8::/32']);
    expect(r1?.neighbors).toHaveLength(2);
    const n = r1!.neighbors[0]!;
    expect(n.fsm.holdTime).toBe(9);
    expect(n.fsm.keepaliveTime).toBe(3);
    expect(n.families).toEqual([AFISAFI_IPV4_UNICAST]);
    expect(n.importPolicy?.source).toEqual(good.policies?.['in']);
    expect(n.maxPrefix).toEqual({
      limit: 1000,
      action: 'restart',
      restartAfter: 30,
      families: new Map([[AFISAFI_IPV6_UNICAST, 50]]),
    });
    expect(n.gracefulRestartTime).toBe(90);
    expect(r1!.neighbors[1]!.exportPolicy).toBeUndefined();
    expect(r2?.neighbors[0]?.address).toBe('fe80::1%eth0');
    expect(r2?.neighbors[0]?.addPath.get(AFISAFI_IPV6_UNICAST)).toBe('both');
    // Unnumbered (link-local) neighbours carry IPv4 over IPv6 next hops unless told otherwise.
    expect(r2?.neighbors[0]?.extendedNextHop).toBe(true);
    expect(n.extendedNextHop).toBe(false);
    expect(c.staticRoutes).toHaveLength(2);
    expect(c.staticRoutes[0]?.distance).toBe(5);
    expect(c.staticRoutes[1]?.nexthops[0]).toMatchObject({ ifname: 'eth1', weight: 2 });
    expect(c.redistributeStatic).toBe(true);
    expect(c.decision.maxPaths).toBe(4);
    expect(c.decision.distances?.static).toBe(3);
    expect(c.fib.backend).toBe('memory');
  });

  it('accepts the example file shipped with mgd', async () => {
    const r = await loadConfigFile(new URL('../../mgd/config/example.json', import.meta.url).pathname);
    if (!r.ok) throw new Error(formatConfigErrors(r.error));
    expect(r.value.routers[0]?.neighbors.map((n) => n.address)).toEqual(['10.0.12.2', 'fe80::2%eth1']);
  });

  it('accepts the embedded default and a minimal file', () => {
    expect(validateConfig(EMBEDDED_DEFAULT_CONFIG).ok).toBe(true);
    const r = validateConfig({ routers: [{ asn: 65000, routerId: '192.0.2.1' }] });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.routers[0]?.listen).toEqual({ host: '::', port: 179 });
      expect(r.value.fib.backend).toBe('linux');
    }
  });

  it('reads files and reports unreadable or non-JSON ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mgd-config-'));
    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify(good));
    expect((await loadConfigFile(ok)).ok).toBe(true);
    const missing = await loadConfigFile(join(dir, 'missing.json'));
    expect(!missing.ok && missing.error[0]?.message).toMatch(/cannot read/);
    const bad = parseConfigText('{ "routers": [ }');
    expect(!bad.ok && bad.error[0]?.message).toMatch(/not valid JSON/);
  });

  const cases: [string, (c: ConfigFile & Record<string, unknown>) => void, string, RegExp][] = [
    [
      'unknown policy name',
      (c) => (c.neighbors![0]!.importPolicy = 'nope'),
      'neighbors[0].importPolicy',
      /unknown policy 'nope'.*known: in, out/,
    ],
    [
      'duplicate neighbour',
      (c) => c.neighbors!.push({ router: 65001, address: '10.1.0.2', remoteAsn: 65009 }),
      'neighbors[3].address',
      /already configured at neighbors\[0\]/,
    ],
    [
      'duplicate neighbour written differently (IPv6)',
      (c) => c.neighbors!.push({ router: 4200000000, address: 'FE80:0::1%eth0', remoteAsn: 65009 }),
      'neighbors[3].address',
      /already configured at neighbors\[2\]/,
    ],
    [
      'prefix with host bits',
      (c) => (c.originate!.ipv4 = ['192.0.2.1/24']),
      'originate.ipv4[0]',
      /e\.g\. 192\.0\.2\.0\/24/,
    ],
    [
      'IPv6 prefix in the IPv4 list',
      (c) => (c.originate!.ipv4 = ['2001:db8::/32']),
      'originate.ipv4[0]',
      /not an IPv4 prefix/,
    ],
    [
      'static route with host bits',
      (c) => (c.staticRoutes![0]!.prefix = '203.0.113.7/24'),
      'staticRoutes[0].prefix',
      /203\.0\.113\.0\/24/,
    ],
    [
      'duplicate static route',
      (c) => c.staticRoutes!.push({ prefix: '203.0.113.0/24', nexthops: [{ address: '10.1.0.3' }] }),
      'staticRoutes[2].prefix',
      /already configured at staticRoutes\[0\]/,
    ],
    [
      'link-local static next hop without interface',
      (c) => delete c.staticRoutes![1]!.nexthops[0]!.interface,
      'staticRoutes[1].nexthops[0].interface',
      /needs an interface/,
    ],
    [
      'IPv4 next hop for an IPv6 route',
      (c) => (c.staticRoutes![1]!.nexthops = [{ address: '10.0.0.1' }]),
      'staticRoutes[1].nexthops[0].address',
      /IPv6 route cannot use the IPv4 next hop/,
    ],
    [
      'neighbour of an unknown router',
      (c) => (c.neighbors![1]!.router = 65099),
      'neighbors[1].router',
      /no router with AS 65099/,
    ],
    [
      'bad neighbour address',
      (c) => (c.neighbors![1]!.address = '10.1.0.300'),
      'neighbors[1].address',
      /not an IPv4 or IPv6 address/,
    ],
    [
      'link-local neighbour without interface',
      (c) => (c.neighbors![2]!.address = 'fe80::1'),
      'neighbors[2].address',
      /needs its interface/,
    ],
    ['hold time 2', (c) => (c.neighbors![1]!.holdTime = 2), 'neighbors[1].holdTime', /at least 3/],
    [
      'keepalive not below hold time',
      (c) => Object.assign(c.neighbors![1]!, { holdTime: 9, keepaliveTime: 9 }),
      'neighbors[1].keepaliveTime',
      /below holdTime \(9\)/,
    ],
    [
      'router id 0.0.0.0',
      (c) => (c.routers[0]!.routerId = '0.0.0.0'),
      'routers[0].routerId',
      /non-zero IPv4/,
    ],
    ['duplicate router ASN', (c) => (c.routers[1]!.asn = 65001), 'routers[1].asn', /configured twice/],
    [
      'two routers on one listener',
      (c) => (c.routers[1]!.listen = { host: '0.0.0.0', port: 1179 }),
      'routers[1].listen',
      /already used by routers\[0\]/,
    ],
    [
      'bad policy content',
      (c) => (c.policies!['in']!.statements[0]!.match = { prefixList: [{ prefix: '10.0.0.1/8' }] }),
      'policies.in',
      /statements\[0\]\.match\.prefixList\[0\]/,
    ],
    ['unknown field', (c) => (c['neighbours'] = []), 'neighbours', /unknown field/],
    [
      'ASN out of range',
      (c) => (c.neighbors![0]!.remoteAsn = 0),
      'neighbors[0].remoteAsn',
      /greater or equal to 1/,
    ],
    [
      'bad max-prefix action',
      (c) => (c.neighbors![0]!.maxPrefix = { limit: 5, action: 'drop' as 'warn' }),
      'neighbors[0].maxPrefix.action',
      /must be one of "warn", "restart" \(got "drop"\)/,
    ],
    ['no routers', (c) => (c.routers = []), 'routers', /minimum|at least|1/],
  ];

  for (const [name, change, path, message] of cases) {
    it(`reports ${name} at ${path}`, () => {
      const errors = errorsOf(withChange(change));
      const e = errors.find((x) => x.path === path);
      expect(e, formatConfigErrors(errors)).toBeDefined();
      expect(e?.message).toMatch(message);
    });
  }

  it('reports every problem of a file at once, one line each', () => {
    const errors = errorsOf(
      withChange((c) => {
        c.neighbors![0]!.importPolicy = 'nope';
        c.originate!.ipv4 = ['192.0.2.1/24'];
        c.neighbors![1]!.holdTime = 1;
      }),
    );
    expect(errors.map((e) => e.path).sort()).toEqual(
      ['neighbors[0].importPolicy', 'neighbors[1].holdTime', 'originate.ipv4[0]'].sort(),
    );
    expect(formatConfigErrors(errors).split('\n')).toHaveLength(3);
  });
});
