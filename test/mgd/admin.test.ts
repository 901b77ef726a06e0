// The mgd admin API through fastify's inject, against two daemons in one process (in-memory TCP,
// fake clock, memory FIB): neighbours, selected routes with their attributes, paging through a
// table of a few thousand routes, the lower half, metrics, errors, the token, and the flags.
import { afterEach, describe, expect, it } from 'vitest';
import { AdminConfigError, type AdminServer } from '../../lib/admin.js';
import { FakeClock } from '../../lib/clock.js';
import { METRICS_CONTENT_TYPE } from '../../lib/metrics.js';
import { MemoryConnectedRoutes } from '../../rib/connected.js';
import { prefixOf, type Entry } from '../../rib/entry.js';
import { MemoryFib } from '../../rib/fib/memory.js';
import { createMgdAdmin, reasonBody, RIB_PAGE_DEFAULT, selectPage } from '../../mgd/admin.js';
import { MemoryNetwork } from '../../mgd/bgp/transport.js';
import { formatConfigErrors, parseConfigText } from '../../mgd/config/load.js';
import type { ConfigFile } from '../../mgd/config/schema.js';
import { MgdDaemon } from '../../mgd/daemon.js';
import { parseMgdArgs } from '../../mgd/main.js';
import { NEIGHBOR_COUNTERS } from '../../mgd/metrics.js';
import { Rib } from '../../rib/rib.js';
import { parseAddr4, parseAddr6, parsePrefix, prefix4, prefix6FromAddr } from '../../wire/ip/index.js';
import { parsePrometheus, type ParsedFamily } from '../lib/prom-parse.js';
import { makeUntil } from '../support/fake-clock.js';

type Json = ReturnType<typeof JSON.parse>;

const A4 = (s: string) => (parseAddr4(s) as { ok: true; value: number }).value;
const A6 = (s: string) => {
  const r = parseAddr6(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

const until = makeUntil(100, 3000);

const daemons: MgdDaemon[] = [];
const servers: AdminServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of daemons.splice(0)) await d.stop();
});

const FAST = { holdTime: 9, keepaliveTime: 3, connectRetryTime: 5, idleHoldTime: 1 };

/** Prefixes A originates beyond its fixed ones: 100.64.0.0/24 upwards, `n` of them. */
function many(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `100.${64 + (i >> 8)}.${i & 255}.0/24`);
}

function configA(extraPrefixes = 0, fib: 'memory' | 'none' = 'memory'): ConfigFile {
  return {
    routers: [{ asn: 65001, routerId: '10.0.0.1', listen: { host: '10.0.0.1', port: 179 } }],
    neighbors: [
      {
        router: 65001,
        address: '10.0.0.2',
        remoteAsn: 65002,
        description: 'router B',
        importPolicy: 'all',
        exportPolicy: 'tag',
        ...FAST,
      },
    ],
    policies: {
      all: { statements: [], default: 'accept' },
      tag: {
        statements: [
          {
            actions: {
              setMed: 50,
              addCommunities: ['65001:100'],
              addLargeCommunities: ['65001:1:2'],
              prepend: { count: 1 },
            },
            then: 'accept',
          },
        ],
        default: 'reject',
      },
    },
    originate: { ipv4: ['198.51.100.0/24', ...many(extraPrefixes)] },
    staticRoutes: [
      { prefix: '203.0.113.0/24', nexthops: [{ address: '10.0.0.254' }] },
      { prefix: '2001:db8:aa::/48', nexthops: [{ address: '2001:db8:ff::254' }] },
      { prefix: '2001:db8:bb::/48', nexthops: [{ address: '2001:db8:ff::254' }] },
    ],
    redistributeStatic: true,
    fib: { backend: fib },
  };
}

const configB: ConfigFile = {
  routers: [{ asn: 65002, routerId: '10.0.0.2', listen: { host: '10.0.0.2', port: 179 } }],
  neighbors: [
    {
      router: 65002,
      address: '10.0.0.1',
      remoteAsn: 65001,
      importPolicy: 'in',
      exportPolicy: 'all',
      ...FAST,
    },
  ],
  policies: {
    all: { statements: [], default: 'accept' },
    in: { statements: [{ actions: { setLocalPref: 200 }, then: 'accept' }], default: 'reject' },
  },
  fib: { backend: 'memory' },
};

async function daemon(net: MemoryNetwork, clock: FakeClock, addr: string, cfg: ConfigFile) {
  const parsed = parseConfigText(JSON.stringify(cfg));
  if (!parsed.ok) throw new Error(formatConfigErrors(parsed.error));
  const connected = new MemoryConnectedRoutes();
  connected.set(
    [
      { afi: 4, prefix: prefix4(A4('10.0.0.0'), 24), ifname: 'eth0' },
      { afi: 6, prefix: prefix6FromAddr(A6('2001:db8:ff::'), 64), ifname: 'eth0' },
    ],
    ['lo', 'eth0'],
  );
  const fib = new MemoryFib();
  const d = new MgdDaemon({
    config: parsed.value,
    transport: net.transport(addr),
    clock,
    ...(cfg.fib?.backend === 'none' ? {} : { fib }),
    connected,
  });
  daemons.push(d);
  await d.start();
  return { d, fib };
}

/** A and B peered, B holding A's originated and redistributed routes. */
async function pair(extraPrefixes = 0, fibA: 'memory' | 'none' = 'memory') {
  const net = new MemoryNetwork();
  const clock = new FakeClock();
  const A = await daemon(net, clock, '10.0.0.1', configA(extraPrefixes, fibA));
  const B = await daemon(net, clock, '10.0.0.2', configB);
  const want = 2 + extraPrefixes;
  await until(() => {
    const n = B.d.neighbors()[0];
    return (
      n?.state === 'Established' &&
      n.families['ipv4-unicast']?.accepted === want &&
      n.families['ipv6-unicast']?.accepted === 2
    );
  }, clock);
  return { net, clock, A, B };
}

function admin(d: MgdDaemon, clock: FakeClock, opts: { host?: string; token?: string } = {}): AdminServer {
  const s = createMgdAdmin(d, {
    host: opts.host ?? '127.0.0.1',
    port: 0,
    clock,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
  });
  servers.push(s);
  return s;
}

async function get(s: AdminServer, url: string): Promise<{ status: number; json: Json }> {
  const r = await s.app.inject({ method: 'GET', url });
  return { status: r.statusCode, json: r.body === '' ? undefined : JSON.parse(r.body) };
}

describe('mgd admin API: neighbours', () => {
  it('GET /neighbors shows state, last transition and reason, capabilities, counters and prefix counts', async () => {
    const { clock, A, B } = await pair();
    clock.advance(5000);
    const r = await get(admin(A.d, clock), '/neighbors');
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(1);
    const n = r.json[0];
    expect(n).toMatchObject({
      router: 65001,
      address: '10.0.0.2',
      remote_asn: 65002,
      description: 'router B',
      state: 'Established',
      last_transition: { from: 'OpenConfirm', to: 'Established', reason: { kind: 'keepalive-received' } },
      session: {
        peer_bgp_id: '10.0.0.2',
        ibgp: false,
        four_octet_as: true,
        families: ['ipv4-unicast', 'ipv6-unicast'],
        route_refresh: true,
      },
    });
    expect(n.last_transition.reason.text).toBe('KEEPALIVE received');
    expect(n.last_transition.ago_ms).toBeGreaterThanOrEqual(5000);
    expect(n.uptime_ms).toBe(n.last_transition.ago_ms);
    expect(n.established_at_ms).toBe(n.last_transition.at_ms);
    expect(n.counters.opens_sent).toBe(1);
    expect(n.counters.opens_received).toBe(1);
    expect(n.counters.updates_sent).toBeGreaterThan(0);
    expect(n.counters.keepalives_received).toBeGreaterThan(0);
    expect(n.counters.established_transitions).toBe(1);
    // B gets the originated prefix and the redistributed static routes of both families.
    expect(n.families).toEqual([
      { family: 'ipv4-unicast', received: 0, accepted: 0, advertised: 2, stale: 0 },
      { family: 'ipv6-unicast', received: 0, accepted: 0, advertised: 2, stale: 0 },
    ]);
    const onB = (await get(admin(B.d, clock), '/neighbors')).json[0];
    expect(onB.families[0]).toMatchObject({ family: 'ipv4-unicast', received: 2, accepted: 2 });
    expect(onB.counters.updates_received).toBeGreaterThan(0);
  });

  it('reports every counter the speaker keeps', async () => {
    const { A } = await pair();
    const keys = Object.keys(A.d.neighbors()[0]!.counters).sort();
    expect(NEIGHBOR_COUNTERS.map(([k]) => k).sort()).toEqual(keys);
  });

  it('shows why a session went down: a NOTIFICATION by code and subcode name', async () => {
    const { clock, A, B } = await pair();
    await B.d.stop();
    daemons.splice(daemons.indexOf(B.d), 1);
    await until(() => A.d.neighbors()[0]?.state !== 'Established', clock, 0, 200);
    const n = (await get(admin(A.d, clock), '/neighbors')).json[0];
    expect(n.state).not.toBe('Established');
    expect(n.uptime_ms).toBeUndefined();
    const reason = n.last_transition.reason;
    expect(n.last_transition.from).toBe('Established');
    expect(reason).toMatchObject({ kind: 'notification-received', code: 6 });
    expect(reason.error).toMatch(/^CEASE\//);
    expect(reason.text).toMatch(/^NOTIFICATION received: CEASE\//);
    expect(n.last_error).toMatch(/NOTIFICATION received/);
  });

  it('shows a broken connection as a TCP failure with its error', async () => {
    const { net, clock, A } = await pair();
    net.setLink('10.0.0.1', '10.0.0.2', false);
    await until(() => A.d.neighbors()[0]?.lastTransition?.from === 'Established', clock, 500, 200);
    const n = (await get(admin(A.d, clock), '/neighbors')).json[0];
    expect(n.last_transition).toMatchObject({
      from: 'Established',
      to: 'Idle',
      reason: { kind: 'tcp-failed', text: 'TCP connection failed: link down', error: 'link down' },
    });
    expect(n.session).toBeUndefined();
  });

  it('puts every transition reason into words, NOTIFICATIONs by code and subcode name', () => {
    expect(reasonBody({ kind: 'hold-timer-expired' })).toEqual({
      kind: 'hold-timer-expired',
      text: 'hold timer expired',
    });
    expect(reasonBody({ kind: 'notification-sent', code: 4, subcode: 0, why: 'hold timer expired' })).toEqual(
      {
        kind: 'notification-sent',
        text: 'NOTIFICATION sent: HOLD_TIMER_EXPIRED/UNSPECIFIC (hold timer expired)',
        code: 4,
        subcode: 0,
        error: 'HOLD_TIMER_EXPIRED/UNSPECIFIC',
        detail: 'hold timer expired',
      },
    );
    expect(reasonBody({ kind: 'notification-received', code: 6, subcode: 2, text: 'maintenance' }).text).toBe(
      'NOTIFICATION received: CEASE/ADMINISTRATIVE_SHUTDOWN "maintenance"',
    );
    expect(reasonBody({ kind: 'admin-stop' }).text).toBe('stopped by the administrator');
    expect(reasonBody({ kind: 'fsm-error', event: 'open' })).toMatchObject({
      text: 'FSM error: unexpected open',
    });
  });
});

describe('mgd admin API: RIB', () => {
  it("GET /rib/ipv4?prefix= shows next hops and the best path's attributes", async () => {
    const { clock, B } = await pair();
    const r = await get(admin(B.d, clock), '/rib/ipv4?prefix=198.51.100.0/24');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      family: 'ipv4',
      routes: [
        {
          prefix: '198.51.100.0/24',
          next_hops: [{ address: '10.0.0.1' }],
          selected_paths: 1,
          paths: 1,
          best: {
            source: 'bgp:10.0.0.1',
            protocol: 'bgp',
            ebgp: true,
            next_hops: [{ address: '10.0.0.1' }],
            as_path: '65001 65001',
            origin: 'igp',
            local_pref: 200,
            med: 50,
            communities: ['65001:100'],
            large_communities: ['65001:1:2'],
          },
        },
      ],
    });
    // The redistributed static route arrives as INCOMPLETE.
    const st = await get(admin(B.d, clock), '/rib/ipv4?prefix=203.0.113.0/24');
    expect(st.json.routes[0].best).toMatchObject({ as_path: '65001 65001', origin: 'incomplete' });
    // A prefix without a route: an empty list.
    expect((await get(admin(B.d, clock), '/rib/ipv4?prefix=192.0.2.0/24')).json).toEqual({
      family: 'ipv4',
      routes: [],
    });
  });

  it('GET /rib/ipv4 lists static and originated routes on the router that has them', async () => {
    const { clock, A } = await pair();
    const r = await get(admin(A.d, clock), '/rib/ipv4');
    expect(r.json.selected_total).toBe(2);
    expect(r.json.next_after).toBeUndefined();
    expect(r.json.routes.map((x: Json) => x.prefix)).toEqual(['198.51.100.0/24', '203.0.113.0/24']);
    expect(r.json.routes[1]).toMatchObject({
      next_hops: [{ address: '10.0.0.254' }],
      best: { source: 'static', protocol: 'static', as_path: '', communities: [] },
    });
    expect(r.json.routes[1].best.ebgp).toBeUndefined();
  });

  it('GET /rib/ipv6 lists the IPv6 routes in order', async () => {
    const { clock, A, B } = await pair();
    const r = await get(admin(A.d, clock), '/rib/ipv6');
    expect(r.status).toBe(200);
    expect(r.json.family).toBe('ipv6');
    expect(r.json.routes.map((x: Json) => [x.prefix, x.next_hops])).toEqual([
      ['2001:db8:aa::/48', [{ address: '2001:db8:ff::254' }]],
      ['2001:db8:bb::/48', [{ address: '2001:db8:ff::254' }]],
    ]);
    const one = await get(admin(A.d, clock), '/rib/ipv6?prefix=2001:db8:bb::/48');
    expect(one.json.routes.map((x: Json) => x.prefix)).toEqual(['2001:db8:bb::/48']);
    const page = await get(admin(A.d, clock), '/rib/ipv6?limit=1');
    expect(page.json.routes.map((x: Json) => x.prefix)).toEqual(['2001:db8:aa::/48']);
    expect(page.json.next_after).toBe('2001:db8:aa::/48');
    const rest = await get(admin(A.d, clock), `/rib/ipv6?limit=1&after=${page.json.next_after}`);
    expect(rest.json.routes.map((x: Json) => x.prefix)).toEqual(['2001:db8:bb::/48']);
    expect(rest.json.next_after).toBeUndefined();
    // B holds A's IPv6 paths, but their IPv4-mapped next hop does not resolve there: nothing is
    // selected, so nothing is listed.
    expect(B.d.rib.stats().prefixes6).toBe(2);
    expect((await get(admin(B.d, clock), '/rib/ipv6')).json).toEqual({
      family: 'ipv6',
      routes: [],
      selected_total: 0,
    });
  });

  it('pages through a table of a few thousand routes, each route exactly once, in order', async () => {
    const N = 3000;
    const { clock, B } = await pair(N);
    const s = admin(B.d, clock);
    const first = await get(s, '/rib/ipv4');
    expect(first.json.routes).toHaveLength(RIB_PAGE_DEFAULT);
    expect(first.json.selected_total).toBe(N + 2);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const r = await get(s, `/rib/ipv4?limit=700${after !== undefined ? `&after=${after}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.json.routes.length).toBeLessThanOrEqual(700);
      for (const x of r.json.routes) seen.push(x.prefix);
      after = r.json.next_after;
      pages++;
    } while (after !== undefined);
    expect(pages).toBe(Math.ceil((N + 2) / 700));
    expect(new Set(seen).size).toBe(seen.length);
    const want = [...many(N), '198.51.100.0/24', '203.0.113.0/24'];
    expect([...seen].sort()).toEqual([...want].sort());
    // In (address, length) order.
    const nums = seen.map((p) => parsePrefix(p) as { ok: true; value: number }).map((p) => p.value);
    for (let i = 1; i < nums.length; i++) expect(nums[i]!).toBeGreaterThan(nums[i - 1]!);
    // `after` need not be in the table: the page starts at the next prefix.
    const mid = await get(s, '/rib/ipv4?limit=2&after=100.65.0.128/25');
    expect(mid.json.routes.map((x: Json) => x.prefix)).toEqual(['100.65.1.0/24', '100.65.2.0/24']);
    // A page of the maximum size.
    const big = await get(s, '/rib/ipv4?limit=10000');
    expect(big.json.routes).toHaveLength(N + 2);
    expect(big.json.next_after).toBeUndefined();
  });

  it('selectPage returns the smallest keys above the cursor whatever the table order', () => {
    const connected = new MemoryConnectedRoutes();
    connected.set([{ afi: 4, prefix: prefix4(A4('10.0.0.0'), 24), ifname: 'eth0' }], ['eth0']);
    const rib = new Rib({ connected });
    rib.addSource({ id: 'static', kind: 'static' });
    // 500 distinct /16s inserted in a scrambled order.
    const prefixes = Array.from({ length: 500 }, (_, i) => prefix4(((i * 7919) % 65536) * 65536, 16));
    rib.batch(() => {
      for (const p of prefixes) rib.addPath(p, { source: 'static', nexthops: [{ addr: A4('10.0.0.1') }] });
    });
    const sorted = [...prefixes].sort((a, b) => a - b);
    const key = (e: Entry) => prefixOf(e) as number;
    const byNumber = (a: number, b: number) => a - b;
    const r = selectPage((fn) => rib.forEachEntryOf(4, fn), key, byNumber, sorted[9], 25);
    expect(r.page.map((x) => x.key)).toEqual(sorted.slice(10, 35));
    expect(r.total).toBe(500);
    expect(r.more).toBe(true);
    const last = selectPage((fn) => rib.forEachEntryOf(4, fn), key, byNumber, sorted[489], 25);
    expect(last.page.map((x) => x.key)).toEqual(sorted.slice(490));
    expect(last.more).toBe(false);
    rib.close();
  });

  it('refuses bad query values with a message naming the field', async () => {
    const { clock, B } = await pair();
    const s = admin(B.d, clock);
    const cases: [string, string, RegExp][] = [
      [
        '/rib/ipv4?limit=0',
        'ADMIN_ERR_VALIDATION',
        /^query\.limit: must be a whole number from 1 to 10000, not "0"$/,
      ],
      [
        '/rib/ipv4?limit=10001',
        'ADMIN_ERR_VALIDATION',
        /^query\.limit: must be a whole number from 1 to 10000/,
      ],
      ['/rib/ipv4?limit=ten', 'ADMIN_ERR_VALIDATION', /^query\.limit: .*"ten"/],
      ['/rib/ipv4?limit=-5', 'ADMIN_ERR_VALIDATION', /^query\.limit: /],
      ['/rib/ipv4?after=10.0.0.0', 'MGD_ERR_BAD_PREFIX', /^query\.after: .*missing '\/length'/],
      [
        '/rib/ipv4?prefix=10.0.0.1/8',
        'MGD_ERR_BAD_PREFIX',
        /^query\.prefix: .*host bits set; the network is 10\.0\.0\.0\/8/,
      ],
      [
        '/rib/ipv4?prefix=2001:db8::/32',
        'MGD_ERR_BAD_PREFIX',
        /^query\.prefix: .*IPv6 prefix; IPv6 routes are at \/rib\/ipv6/,
      ],
      [
        '/rib/ipv6?prefix=192.0.2.0/24',
        'MGD_ERR_BAD_PREFIX',
        /^query\.prefix: .*IPv4 prefix; IPv4 routes are at \/rib\/ipv4/,
      ],
      ['/rib/ipv6?after=zz::/64', 'MGD_ERR_BAD_PREFIX', /^query\.after: /],
      [
        '/rib/ipv4?prefix=192.0.2.0/24&after=10.0.0.0/8',
        'ADMIN_ERR_VALIDATION',
        /^query\.after: cannot be combined with query\.prefix/,
      ],
      ['/rib/ipv4?prefix=192.0.2.0/24&limit=5', 'ADMIN_ERR_VALIDATION', /^query\.limit: cannot be combined/],
      [
        '/rib/ipv4?cursor=abc',
        'ADMIN_ERR_VALIDATION',
        /^query has an unknown key "cursor"; allowed: limit, after, prefix$/,
      ],
      ['/rib/ipv4?limit=1&limit=2', 'ADMIN_ERR_VALIDATION', /^query\.limit: /],
    ];
    for (const [url, code, message] of cases) {
      const r = await get(s, url);
      expect(r.status, url).toBe(400);
      expect(r.json.code, url).toBe(code);
      expect(r.json.message, url).toMatch(message);
    }
    expect((await get(s, '/rib/ipv5')).json.code).toBe('ADMIN_ERR_NOT_FOUND');
  });
});

describe('mgd admin API: lower half', () => {
  it('GET /fib shows the backend, counters and the routes the table refuses', async () => {
    const { clock, A } = await pair();
    const s = admin(A.d, clock);
    const r = await get(s, '/fib');
    expect(r.status).toBe(200);
    // With a BGP neighbour, routes a previous run left stay for the start-up grace period.
    expect(r.json).toMatchObject({ backend: 'memory', grace_period: true, held_routes: 1, errors: [] });
    // The three static routes are installed; the originated prefix counts too, held back.
    expect(r.json.counters.installed).toBe(4);
    expect(r.json.counters.refused).toBe(0);

    A.fib.refuse = (route) => (route.afi === 4 ? 'Network is unreachable' : undefined);
    await A.d.reload(
      (() => {
        const c = parseConfigText(
          JSON.stringify({
            ...configA(),
            staticRoutes: [
              ...configA().staticRoutes!,
              { prefix: '192.0.2.0/24', nexthops: [{ address: '10.0.0.253' }] },
            ],
          }),
        );
        if (!c.ok) throw new Error(formatConfigErrors(c.error));
        return c.value;
      })(),
    );
    await A.d.fibSync!.settled();
    const after = await get(s, '/fib');
    expect(after.json.counters.refused).toBeGreaterThanOrEqual(1);
    expect(after.json.errors).toHaveLength(1);
    const e = after.json.errors[0];
    expect(e).toMatchObject({ prefix: '192.0.2.0/24', error: 'Network is unreachable' });
    expect(e.attempts).toBeGreaterThanOrEqual(1);
    expect(Date.parse(e.next_retry)).toBeGreaterThanOrEqual(Date.parse(e.since));
  });

  it("GET /fib says 'none' when there is no lower half", async () => {
    const { clock, A } = await pair(0, 'none');
    expect((await get(admin(A.d, clock), '/fib')).json).toEqual({ backend: 'none' });
    const m = parsePrometheus((await admin(A.d, clock).app.inject({ url: '/metrics' })).body);
    expect(m.get('mgd_fib_info')!.samples).toEqual([
      { name: 'mgd_fib_info', labels: { backend: 'none' }, value: 1 },
    ]);
    expect(m.get('mgd_fib_errors')?.samples ?? []).toEqual([]);
  });
});

function sample(f: ParsedFamily | undefined, labels: Record<string, string> = {}): number | undefined {
  return f?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('mgd admin API: metrics', () => {
  it('GET /metrics serves neighbour, RIB and FIB families in the Prometheus text format', async () => {
    const { clock, B } = await pair(40);
    const r = await admin(B.d, clock).app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe(METRICS_CONTENT_TYPE);
    const m = parsePrometheus(r.body);
    const nb = { router: '65002', neighbor: '10.0.0.1' };
    expect(sample(m.get('mgd_neighbor_state'), { ...nb, state: 'Established' })).toBe(1);
    expect(sample(m.get('mgd_neighbor_state'), { ...nb, state: 'Idle' })).toBe(0);
    expect(m.get('mgd_neighbor_state')!.samples).toHaveLength(6);
    expect(sample(m.get('mgd_neighbor_up'), nb)).toBe(1);
    expect(m.get('mgd_neighbor_updates_received_total')?.type).toBe('counter');
    expect(sample(m.get('mgd_neighbor_updates_received_total'), nb)).toBeGreaterThan(0);
    expect(sample(m.get('mgd_neighbor_established_transitions_total'), nb)).toBe(1);
    const fam = { ...nb, family: 'ipv4-unicast' };
    expect(sample(m.get('mgd_neighbor_prefixes_received'), fam)).toBe(42);
    expect(sample(m.get('mgd_neighbor_prefixes_accepted'), fam)).toBe(42);
    expect(sample(m.get('mgd_neighbor_prefixes_advertised'), fam)).toBe(0);
    expect(sample(m.get('mgd_rib_prefixes'), { family: 'ipv4' })).toBe(42);
    expect(sample(m.get('mgd_rib_prefixes'), { family: 'ipv6' })).toBe(2);
    // The IPv6 paths are there but not selected (their IPv4-mapped next hop does not resolve).
    expect(sample(m.get('mgd_rib_selected_routes'))).toBe(42);
    expect(sample(m.get('mgd_rib_paths'))).toBe(44);
    expect(sample(m.get('mgd_neighbor_prefixes_accepted'), { ...nb, family: 'ipv6-unicast' })).toBe(2);
    expect(sample(m.get('mgd_fib_info'), { backend: 'memory' })).toBe(1);
    expect(sample(m.get('mgd_fib_errors'))).toBe(0);
    expect(sample(m.get('mgd_fib_routes_installed_total'))).toBe(42);
    expect(m.get('process_resident_memory_bytes')?.type).toBe('gauge');
    for (const [key] of NEIGHBOR_COUNTERS) {
      const name = `mgd_neighbor_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
      expect(m.get(name)?.type, name).toBe('counter');
    }
  });
});

describe('mgd admin API: token', () => {
  it('refuses to bind a non-loopback address without a token', async () => {
    const { clock, A } = await pair();
    expect(() => createMgdAdmin(A.d, { host: '0.0.0.0', port: 0, clock })).toThrow(AdminConfigError);
  });

  it('with a token every request must carry it', async () => {
    const { clock, A } = await pair();
    const s = admin(A.d, clock, { host: '0.0.0.0', token: 's3cret' });
    for (const url of ['/neighbors', '/rib/ipv4', '/fib', '/metrics', '/nope']) {
      const none = await s.app.inject({ url });
      expect(none.statusCode, url).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="admin"');
      expect(none.json().code).toBe('ADMIN_ERR_UNAUTHORIZED');
    }
    const wrong = await s.app.inject({ url: '/neighbors', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toBe('the bearer token is wrong');
    const good = await s.app.inject({ url: '/neighbors', headers: { authorization: 'Bearer s3cret' } });
    expect(good.statusCode).toBe(200);
    expect(good.json()[0].address).toBe('10.0.0.2');
  });
});

describe('mgd command line: admin API flags', () => {
  it('--admin-port serves the API on loopback; --admin-host and --token change where and how', () => {
    expect(parseMgdArgs(['--admin-port', '4676'], {})).toEqual({
      kind: 'run',
      args: { logLevel: 'info', flushOnExit: false, admin: { host: '127.0.0.1', port: 4676 } },
    });
    expect(parseMgdArgs(['--admin-port', '4676', '--admin-host', '::1'], {})).toMatchObject({
      kind: 'run',
      args: { admin: { host: '::1', port: 4676 } },
    });
    expect(parseMgdArgs(['--admin-port', '0', '--admin-host', '[::1]'], {})).toMatchObject({
      kind: 'run',
      args: { admin: { host: '::1', port: 0 } },
    });
    expect(
      parseMgdArgs(['--admin-port', '4676', '--admin-host', '0.0.0.0', '--token', 't0k'], {}),
    ).toMatchObject({ kind: 'run', args: { admin: { host: '0.0.0.0', port: 4676, token: 't0k' } } });
    expect(
      parseMgdArgs(['--admin-port', '4676', '--admin-host', '192.0.2.1'], { MGD_TOKEN: 'from-env' }),
    ).toMatchObject({ kind: 'run', args: { admin: { host: '192.0.2.1', token: 'from-env' } } });
    // Without --admin-port there is no admin API, and $MGD_TOKEN alone changes nothing.
    const none = parseMgdArgs([], { MGD_TOKEN: 'x' });
    expect(none).toEqual({ kind: 'run', args: { logLevel: 'info', flushOnExit: false } });
    expect(parseMgdArgs(['--write-openapi', '/tmp/x.json'], {})).toEqual({
      kind: 'openapi',
      out: '/tmp/x.json',
    });
  });

  it('refuses bad values with a message saying what to give', () => {
    const cases: [string[], RegExp][] = [
      [
        ['--admin-port', 'http'],
        /--admin-port: 'http' is not a TCP port; give a whole number from 0 to 65535/,
      ],
      [['--admin-port', '65536'], /--admin-port: '65536' is not a TCP port/],
      [['--admin-port', '-1'], /--admin-port: '-1' is not a TCP port/],
      [['--admin-port', ''], /--admin-port: '' is not a TCP port/],
      [
        ['--admin-port', '4676', '--admin-host', 'admin.example'],
        /--admin-host: 'admin.example' is not an IP address/,
      ],
      [
        ['--admin-port', '4676', '--admin-host', '10.0.0.1:80'],
        /--admin-host: '10.0.0.1:80' is not an IP address/,
      ],
      [
        ['--admin-port', '4676', '--admin-host', '0.0.0.0'],
        /not a loopback address; give --token \(or \$MGD_TOKEN\)/,
      ],
      [['--admin-port', '4676', '--admin-host', '::'], /not a loopback address/],
      [['--admin-port', '4676', '--token', ''], /--token: the token is empty/],
      [['--admin-host', '127.0.0.1'], /--admin-host needs --admin-port/],
      [['--token', 'x'], /--token needs --admin-port/],
    ];
    for (const [argv, message] of cases) {
      const r = parseMgdArgs(argv, {});
      expect(r.kind, argv.join(' ')).toBe('exit');
      if (r.kind !== 'exit') continue;
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.text, argv.join(' ')).toMatch(/^mgd: /);
      expect(r.text, argv.join(' ')).toMatch(message);
    }
    // A missing value is commander's usage error.
    expect(parseMgdArgs(['--admin-port'], {})).toMatchObject({ kind: 'exit', code: 1 });
  });
});
