// BGP speakers in one process over the in-memory transport with a fake clock: re-advertisement
// across three ASes, iBGP rules, RFC 8212 defaults and soft reconfiguration, RFC 7606
// treat-as-withdraw, maximum-prefix, graceful restart (receiving side) and packed full-table dumps.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { MemoryConnectedRoutes } from '../../rib/connected.js';
import { Rib } from '../../rib/rib.js';
import { buildAnnouncements } from '../../wire/bgp/builder.js';
import {
  AFISAFI_IPV4_UNICAST,
  AsPathSegmentType,
  CeaseSubcode,
  ErrorCode,
  Origin,
  WellKnownCommunity,
} from '../../wire/bgp/constants.js';
import {
  formatAddr4,
  parseAddr4,
  parsePrefix4,
  prefix4,
  prefix4Len,
  type Prefix,
  type Prefix4,
} from '../../wire/ip/index.js';
import { DEFAULT_FSM_CONFIG } from '../../mgd/bgp/fsm.js';
import { compilePolicy, type CompiledPolicy, type PolicyConfig } from '../../mgd/bgp/policy.js';
import { NEIGHBOR_DEFAULTS, Speaker, type NeighborSettings } from '../../mgd/bgp/speaker.js';
import { MemoryNetwork, type BgpTransport, type Listener } from '../../mgd/bgp/transport.js';
import { makeUntil } from '../support/fake-clock.js';

// ===== Harness =====

const settle = async (rounds = 50) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

/** Spin the event loop (advancing the fake clock by `stepMs` per turn) until `cond` holds. */
const until = makeUntil(0, 2000);

/** A transport with several local addresses: connects leave from `localAddress`. */
function multiTransport(net: MemoryNetwork, addrs: readonly string[]): BgpTransport {
  return {
    connect: (opts) => net.transport(opts.localAddress ?? addrs[0]!).connect(opts),
    listen: async (opts, onConnection) => {
      const ls: Listener[] = [];
      for (const a of addrs)
        ls.push(await net.transport(a).listen({ host: a, port: opts.port }, onConnection));
      return { port: opts.port, close: () => ls.forEach((l) => l.close()) };
    },
  };
}

const p4 = (s: string): Prefix4 => {
  const r = parsePrefix4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const a4 = (s: string): number => {
  const r = parseAddr4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

function policy(p: PolicyConfig): CompiledPolicy {
  const r = compilePolicy(p);
  if (!r.ok) throw new Error(r.error.join('; '));
  return r.value;
}
const ACCEPT = policy({ statements: [], default: 'accept' });

const FSM = { ...DEFAULT_FSM_CONFIG, holdTime: 9, keepaliveTime: 3, connectRetryTime: 5, idleHoldTime: 1 };

/** Neighbour overrides; a policy of `null` means none configured (the RFC 8212 default). */
type Extra = Partial<Omit<NeighborSettings, 'importPolicy' | 'exportPolicy'>> & {
  importPolicy?: CompiledPolicy | null;
  exportPolicy?: CompiledPolicy | null;
};

function nbr(address: string, remoteAsn: number, localAddress: string, extra: Extra = {}): NeighborSettings {
  const { importPolicy = ACCEPT, exportPolicy = ACCEPT, ...rest } = extra;
  return {
    address,
    port: 179,
    remoteAsn,
    localAddress,
    fsm: FSM,
    families: NEIGHBOR_DEFAULTS.families,
    nextHopSelf: false,
    allowAsIn: 0,
    enforceFirstAs: true,
    gracefulRestart: true,
    gracefulRestartTime: 120,
    addPath: new Map(),
    ...(importPolicy !== null ? { importPolicy } : {}),
    ...(exportPolicy !== null ? { exportPolicy } : {}),
    ...rest,
  };
}

interface Router {
  readonly speaker: Speaker;
  readonly rib: Rib;
}

const running: Speaker[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.stop();
});

/** A router: its own RIB with connected subnets (`addrs` as /24s), a speaker listening on them. */
async function router(
  net: MemoryNetwork,
  clock: FakeClock,
  asn: number,
  addrs: readonly string[],
  neighbors: NeighborSettings[],
  originate: Prefix[] = [],
  extraConnected: readonly string[] = [],
  sliceSize?: number,
): Promise<Router> {
  const conn = new MemoryConnectedRoutes();
  conn.set(
    [...addrs, ...extraConnected].map((a, i) => ({
      afi: 4 as const,
      prefix: prefix4(a4(a), 24),
      ifname: `eth${i}`,
    })),
    ['lo', ...[...addrs, ...extraConnected].map((_, i) => `eth${i}`)],
  );
  const rib = new Rib({ connected: conn });
  const speaker = new Speaker({
    asn,
    routerId: a4(addrs[0]!),
    listen: { host: '0.0.0.0', port: 179 },
    transport: multiTransport(net, addrs),
    clock,
    rib,
    neighbors,
    originate,
    random: () => 0.5,
    ...(sliceSize !== undefined ? { sliceSize } : {}),
  });
  running.push(speaker);
  await speaker.start();
  return { speaker, rib };
}

const established =
  (...pairs: [Router, string][]) =>
  () =>
    pairs.every(([r, a]) => r.speaker.peerOf(a).state === 'Established');

function bestAttrs(r: Router, p: Prefix) {
  return r.rib.selected(p)?.paths[0]?.attrs.attrs;
}

function statusOf(r: Router, addr: string) {
  const s = r.speaker.status().find((x) => x.address === addr);
  if (s === undefined) throw new Error(`no neighbour ${addr}`);
  return s;
}

// ===== Tests =====

describe('three ASes in a line: A (65001) — B (65002) — C (65003)', () => {
  it('re-advertises with the AS path grown and next hop self, withdraws, and never sends back', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pa = p4('198.51.100.0/24');
    const pb = p4('203.0.113.0/25');
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1')],
      [pa, pb],
    );
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2', '10.0.23.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2'), nbr('10.0.23.3', 65003, '10.0.23.2')],
    );
    const C = await router(net, clock, 65003, ['10.0.23.3'], [nbr('10.0.23.2', 65002, '10.0.23.3')]);
    await until(
      established([A, '10.0.12.2'], [B, '10.0.12.1'], [B, '10.0.23.3'], [C, '10.0.23.2']),
      clock,
      100,
    );
    await until(() => C.rib.selected(pa) !== undefined && C.rib.selected(pb) !== undefined, clock);

    const at = bestAttrs(C, pa);
    expect(at?.asPath).toEqual([{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65002, 65001] }]);
    expect(at?.origin).toBe(Origin.IGP);
    expect(at?.localPref).toBeUndefined();
    expect(C.rib.selected(pa)?.nexthops.map((h) => formatAddr4(h.addr as number))).toEqual(['10.0.23.2']);
    // B learned it from A with A's address as next hop and AS path [65001].
    expect(B.rib.selected(pa)?.nexthops.map((h) => formatAddr4(h.addr as number))).toEqual(['10.0.12.1']);
    expect(bestAttrs(B, pa)?.asPath).toEqual([{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001] }]);

    await settle();
    // B does not send A's routes back to A; C does not send them back to B.
    expect(statusOf(B, '10.0.12.1').families['ipv4-unicast']?.advertised).toBe(0);
    expect(statusOf(A, '10.0.12.2').families['ipv4-unicast']?.received).toBe(0);
    expect(statusOf(B, '10.0.23.3').families['ipv4-unicast']?.advertised).toBe(2);
    expect(statusOf(C, '10.0.23.2').families['ipv4-unicast']).toMatchObject({ received: 2, accepted: 2 });
    expect(statusOf(B, '10.0.23.3').families['ipv4-unicast']?.received).toBe(0);
    // End-of-RIB went out after the initial dump.
    expect(statusOf(C, '10.0.23.2').counters.endOfRibReceived).toBeGreaterThanOrEqual(1);

    A.speaker.setOriginated([pb]);
    await until(() => C.rib.selected(pa) === undefined, clock);
    expect(B.rib.selected(pa)).toBeUndefined();
    expect(C.rib.selected(pb)).toBeDefined();
    A.speaker.setOriginated([]);
    await until(() => C.rib.selected(pb) === undefined, clock);
    expect(statusOf(B, '10.0.23.3').families['ipv4-unicast']?.advertised).toBe(0);
  });

  it('a new best path with the same next hop is re-advertised with its new attributes', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pa = p4('198.51.100.0/24');
    const prepend = (n: number) =>
      policy({
        statements: [{ actions: { prepend: { count: n } }, then: 'accept' }],
        default: 'accept',
      });
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1', { exportPolicy: prepend(1) })],
      [pa],
    );
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2', '10.0.23.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2'), nbr('10.0.23.3', 65003, '10.0.23.2')],
    );
    const C = await router(net, clock, 65003, ['10.0.23.3'], [nbr('10.0.23.2', 65002, '10.0.23.3')]);
    await until(established([A, '10.0.12.2'], [B, '10.0.23.3']), clock, 100);
    await until(() => bestAttrs(C, pa) !== undefined, clock);
    expect(bestAttrs(C, pa)?.asPath?.[0]?.asns).toEqual([65002, 65001, 65001]);
    A.speaker.setPolicies('10.0.12.2', ACCEPT, prepend(3));
    await until(() => bestAttrs(C, pa)?.asPath?.[0]?.asns.length === 5, clock);
    expect(bestAttrs(C, pa)?.asPath?.[0]?.asns).toEqual([65002, 65001, 65001, 65001, 65001]);
  });
});

describe('iBGP', () => {
  it('passes eBGP routes to iBGP with next hop and LOCAL_PREF, never iBGP to iBGP; MED only inside', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pa = p4('198.51.100.0/24');
    const setMed = policy({ statements: [{ actions: { setMed: 50 }, then: 'accept' }], default: 'accept' });
    // A ─ B1 ─ B2 ─ B3 (B* in AS 65002), and B1 ─ C (AS 65003).
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.1.1'],
      [nbr('10.0.1.2', 65002, '10.0.1.1', { exportPolicy: setMed })],
      [pa],
    );
    const B1 = await router(
      net,
      clock,
      65002,
      ['10.0.1.2', '10.0.2.1', '10.0.5.1'],
      [
        nbr('10.0.1.1', 65001, '10.0.1.2'),
        nbr('10.0.2.2', 65002, '10.0.2.1', { importPolicy: null, exportPolicy: null }),
        nbr('10.0.5.2', 65003, '10.0.5.1'),
      ],
    );
    const B2 = await router(
      net,
      clock,
      65002,
      ['10.0.2.2', '10.0.3.1'],
      [
        nbr('10.0.2.1', 65002, '10.0.2.2', { importPolicy: null, exportPolicy: null }),
        nbr('10.0.3.2', 65002, '10.0.3.1', { importPolicy: null, exportPolicy: null }),
      ],
      [],
      ['10.0.1.0'],
    );
    const B3 = await router(
      net,
      clock,
      65002,
      ['10.0.3.2'],
      [nbr('10.0.3.1', 65002, '10.0.3.2', { importPolicy: null, exportPolicy: null })],
      [],
      ['10.0.1.0'],
    );
    const C = await router(net, clock, 65003, ['10.0.5.2'], [nbr('10.0.5.1', 65002, '10.0.5.2')]);
    await until(
      established([A, '10.0.1.2'], [B1, '10.0.2.2'], [B2, '10.0.3.2'], [B3, '10.0.3.1'], [C, '10.0.5.1']),
      clock,
      100,
    );
    await until(() => B2.rib.selected(pa) !== undefined && C.rib.selected(pa) !== undefined, clock);
    await settle();

    // B1 learned MED 50 from A (eBGP), keeps it inside the AS and sets LOCAL_PREF 100.
    expect(bestAttrs(B1, pa)?.med).toBe(50);
    const b2 = bestAttrs(B2, pa);
    expect(b2?.localPref).toBe(100);
    expect(b2?.med).toBe(50);
    expect(b2?.asPath).toEqual([{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001] }]);
    expect(B2.rib.selected(pa)?.nexthops.map((h) => formatAddr4(h.addr as number))).toEqual(['10.0.1.1']);
    // B2 does not pass an iBGP-learned route to another iBGP peer.
    expect(B3.rib.selected(pa)).toBeUndefined();
    expect(statusOf(B2, '10.0.3.2').families['ipv4-unicast']?.advertised).toBe(0);
    // Towards eBGP C: a learned MED is not passed on, LOCAL_PREF is not sent.
    const c = bestAttrs(C, pa);
    expect(c?.med).toBeUndefined();
    expect(c?.localPref).toBeUndefined();
    expect(c?.asPath).toEqual([{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65002, 65001] }]);
  });

  it('next-hop-self towards iBGP, NO_EXPORT stays inside the AS, NO_ADVERTISE goes nowhere', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pNoExport = p4('198.51.100.0/24');
    const pNoAdv = p4('198.51.101.0/24');
    const tag = policy({
      statements: [
        {
          match: { prefixList: [{ prefix: '198.51.100.0/24' }] },
          actions: { addCommunities: ['no-export'] },
          then: 'accept',
        },
        {
          match: { prefixList: [{ prefix: '198.51.101.0/24' }] },
          actions: { addCommunities: ['no-advertise'] },
          then: 'accept',
        },
      ],
      default: 'accept',
    });
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.1.1'],
      [nbr('10.0.1.2', 65002, '10.0.1.1', { exportPolicy: tag })],
      [pNoExport, pNoAdv],
    );
    const B1 = await router(
      net,
      clock,
      65002,
      ['10.0.1.2', '10.0.2.1', '10.0.5.1'],
      [
        nbr('10.0.1.1', 65001, '10.0.1.2'),
        nbr('10.0.2.2', 65002, '10.0.2.1', { nextHopSelf: true }),
        nbr('10.0.5.2', 65003, '10.0.5.1'),
      ],
    );
    const B2 = await router(net, clock, 65002, ['10.0.2.2'], [nbr('10.0.2.1', 65002, '10.0.2.2')]);
    const C = await router(net, clock, 65003, ['10.0.5.2'], [nbr('10.0.5.1', 65002, '10.0.5.2')]);
    await until(established([A, '10.0.1.2'], [B1, '10.0.2.2'], [C, '10.0.5.1']), clock, 100);
    await until(() => B2.rib.selected(pNoExport) !== undefined, clock);
    await settle();
    expect(bestAttrs(B1, pNoAdv)?.communities).toEqual([WellKnownCommunity.NO_ADVERTISE]);
    expect(B2.rib.selected(pNoExport)?.nexthops.map((h) => formatAddr4(h.addr as number))).toEqual([
      '10.0.2.1',
    ]);
    expect(B2.rib.selected(pNoAdv)).toBeUndefined();
    expect(C.rib.selected(pNoExport)).toBeUndefined();
    expect(C.rib.selected(pNoAdv)).toBeUndefined();
    expect(statusOf(B1, '10.0.5.2').families['ipv4-unicast']?.advertised).toBe(0);
  });
});

describe('RFC 8212 and soft reconfiguration', () => {
  it('an eBGP neighbour without policies gets nothing and gives nothing; a policy change applies in place', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pa = p4('198.51.100.0/24');
    const pb = p4('192.0.2.0/24');
    const none = { importPolicy: null, exportPolicy: null };
    // A exports with a policy; B has none in either direction; B originates pb.
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1', { importPolicy: null })],
      [pa],
    );
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2', none)],
      [pb],
    );
    await until(established([A, '10.0.12.2'], [B, '10.0.12.1']), clock, 100);
    await until(() => statusOf(B, '10.0.12.1').families['ipv4-unicast']?.received === 1, clock);
    await settle();
    expect(B.rib.selected(pa)).toBeUndefined();
    expect(statusOf(B, '10.0.12.1').families['ipv4-unicast']).toMatchObject({ received: 1, accepted: 0 });
    expect(statusOf(B, '10.0.12.1').counters.rejectedByPolicy).toBe(1);
    expect(statusOf(B, '10.0.12.1').families['ipv4-unicast']?.advertised).toBe(0);
    expect(A.rib.selected(pb)).toBeUndefined();

    const since = statusOf(B, '10.0.12.1').establishedAt;
    const transitions = B.speaker.peerOf('10.0.12.1').counters.establishedTransitions;
    const updatesIn = B.speaker.peerOf('10.0.12.1').counters.updatesReceived;
    B.speaker.setPolicies('10.0.12.1', ACCEPT, ACCEPT);
    // Import re-runs from Adj-RIB-In at once: A sends nothing new.
    expect(B.rib.selected(pa)).toBeDefined();
    expect(B.speaker.peerOf('10.0.12.1').counters.updatesReceived).toBe(updatesIn);
    // A still rejects on import (no import policy): pb reaches A's Adj-RIB-In only.
    await until(() => statusOf(A, '10.0.12.2').families['ipv4-unicast']?.received === 1, clock);
    expect(A.rib.selected(pb)).toBeUndefined();
    A.speaker.setPolicies('10.0.12.2', ACCEPT, ACCEPT);
    expect(A.rib.selected(pb)).toBeDefined();
    expect(statusOf(B, '10.0.12.1').establishedAt).toBe(since);
    expect(B.speaker.peerOf('10.0.12.1').counters.establishedTransitions).toBe(transitions);
    expect(B.speaker.peerOf('10.0.12.1').state).toBe('Established');

    // A stricter import policy withdraws from the RIB but keeps the route in Adj-RIB-In.
    B.speaker.setPolicies('10.0.12.1', policy({ statements: [], default: 'reject' }), ACCEPT);
    expect(B.rib.selected(pa)).toBeUndefined();
    expect(statusOf(B, '10.0.12.1').families['ipv4-unicast']).toMatchObject({ received: 1, accepted: 0 });
  });

  it('drops AS-path loops unless allowas-in permits, and enforces the first AS on eBGP', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pa = p4('198.51.100.0/24');
    const pb = p4('198.51.101.0/24');
    // A's export policy puts B's own AS into pa's path.
    const loop = policy({
      statements: [
        {
          match: { prefixList: [{ prefix: '198.51.100.0/24' }] },
          actions: { prepend: { asn: 65002, count: 1 } },
          then: 'accept',
        },
      ],
      default: 'accept',
    });
    await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1', { exportPolicy: loop })],
      [pa, pb],
    );
    const B = await router(net, clock, 65002, ['10.0.12.2'], [nbr('10.0.12.1', 65001, '10.0.12.2')]);
    await until(() => statusOf(B, '10.0.12.1').families['ipv4-unicast']?.received === 2, clock, 100);
    expect(B.rib.selected(pb)).toBeDefined();
    expect(B.rib.selected(pa)).toBeUndefined();
    expect(statusOf(B, '10.0.12.1').counters.rejectedByRules).toBe(1);
    // allowas-in 1 accepts one occurrence of our own AS.
    B.speaker.reconfigure('10.0.12.1', { allowAsIn: 1 });
    expect(B.rib.selected(pa)?.paths[0]?.attrs.attrs.asPath?.[0]?.asns).toEqual([65001, 65002]);
  });
});

describe('import policy next hops', () => {
  it('a policy next hop is used; a link-local one off an interface-less session is refused, not fatal', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pa = p4('198.51.100.0/24');
    const pb = p4('198.51.101.0/24');
    const setHop = policy({
      statements: [
        {
          match: { prefixList: [{ prefix: '198.51.100.0/24' }] },
          actions: { setNextHop: '10.0.12.77' },
          then: 'accept',
        },
        {
          match: { prefixList: [{ prefix: '198.51.101.0/24' }] },
          actions: { setNextHop: 'fe80::9' },
          then: 'accept',
        },
      ],
      default: 'accept',
    });
    await router(net, clock, 65001, ['10.0.12.1'], [nbr('10.0.12.2', 65002, '10.0.12.1')], [pa, pb]);
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2', { importPolicy: setHop })],
    );
    await until(() => statusOf(B, '10.0.12.1').families['ipv4-unicast']?.received === 2, clock, 100);
    expect(B.rib.selected(pa)?.nexthops.map((h) => formatAddr4(h.addr as number))).toEqual(['10.0.12.77']);
    expect(B.rib.selected(pb)).toBeUndefined();
    expect(statusOf(B, '10.0.12.1').counters.unusableNextHop).toBe(1);
    expect(B.speaker.peerOf('10.0.12.1').state).toBe('Established');
  });
});

describe('RFC 7606', () => {
  it('a treat-as-withdraw UPDATE (bad ORIGIN value) withdraws its prefixes and the session goes on', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const pa = p4('198.51.100.0/24');
    const pb = p4('198.51.101.0/24');
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1')],
      [pa, pb],
    );
    const B = await router(net, clock, 65002, ['10.0.12.2'], [nbr('10.0.12.1', 65001, '10.0.12.2')]);
    await until(() => B.rib.selected(pa) !== undefined && B.rib.selected(pb) !== undefined, clock, 100);
    const peer = A.speaker.peerOf('10.0.12.2');
    const [msg] = buildAnnouncements(
      {
        origin: Origin.IGP,
        asPath: [{ type: AsPathSegmentType.AS_SEQUENCE, asns: [65001] }],
        nextHop: a4('10.0.12.1'),
      },
      [pa],
      peer.txContext,
    );
    const bytes = Uint8Array.from(msg!);
    // ORIGIN is the first attribute: flags 0x40, type 1, length 1, value. 5 is not a valid ORIGIN.
    const at = 19 + 2 + 2;
    expect([bytes[at], bytes[at + 1], bytes[at + 2]]).toEqual([0x40, 1, 1]);
    bytes[at + 3] = 5;
    peer.sendRaw(bytes, 1);
    await until(() => B.rib.selected(pa) === undefined, clock);
    expect(B.rib.selected(pb)).toBeDefined();
    expect(statusOf(B, '10.0.12.1').counters.treatAsWithdraw).toBe(1);
    await settle();
    expect(B.speaker.peerOf('10.0.12.1').state).toBe('Established');
    expect(peer.state).toBe('Established');
  });
});

describe('maximum-prefix (RFC 4486)', () => {
  const prefixes = (n: number) =>
    Array.from({ length: n }, (_, i) => prefix4(a4('198.51.0.0') + i * 256, 24));

  it('warn mode logs, counts and keeps the session', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1')],
      prefixes(3),
    );
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2', { maxPrefix: { limit: 2, action: 'warn', restartAfter: 30 } })],
    );
    await until(() => statusOf(B, '10.0.12.1').families['ipv4-unicast']?.accepted === 3, clock, 100);
    await settle();
    expect(statusOf(B, '10.0.12.1').counters.maxPrefixExceeded).toBe(1);
    expect(B.speaker.peerOf('10.0.12.1').state).toBe('Established');
    expect(A.speaker.peerOf('10.0.12.2').state).toBe('Established');
    // A per-family limit overrides the general one: 3 is fine under 5, 6 is not.
    B.speaker.reconfigure('10.0.12.1', {
      maxPrefix: {
        limit: 2,
        action: 'warn',
        restartAfter: 30,
        families: new Map([[AFISAFI_IPV4_UNICAST, 5]]),
      },
    });
    A.speaker.setOriginated(prefixes(6));
    await until(() => statusOf(B, '10.0.12.1').families['ipv4-unicast']?.accepted === 6, clock, 100);
    expect(statusOf(B, '10.0.12.1').counters.maxPrefixExceeded).toBe(2);
  });

  it('restart mode sends Cease/1 and comes back after restartAfter', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1')],
      prefixes(3),
    );
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2'],
      [
        nbr('10.0.12.1', 65001, '10.0.12.2', {
          maxPrefix: { limit: 2, action: 'restart', restartAfter: 30 },
        }),
      ],
    );
    const pa = A.speaker.peerOf('10.0.12.2');
    const pb = B.speaker.peerOf('10.0.12.1');
    await until(() => pb.counters.notificationsSent === 1, clock, 100);
    await settle();
    expect(pb.state).toBe('Idle');
    expect(pa.lastTransition?.reason).toMatchObject({
      kind: 'notification-received',
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.MAXIMUM_PREFIXES_REACHED,
    });
    // The routes left B's RIB; the restart is scheduled.
    expect(B.rib.stats().selected).toBe(0);
    const at = statusOf(B, '10.0.12.1').maxPrefixRestartAt;
    expect(at).toBeGreaterThan(clock.now());
    // A shrinks its table meanwhile; nothing reconnects before restartAfter.
    A.speaker.setOriginated(prefixes(2));
    for (let i = 0; i < 25; i++) {
      clock.advance(1000);
      await settle(5);
    }
    expect(pb.state).toBe('Idle');
    await until(() => pb.state === 'Established', clock, 500);
    await until(() => statusOf(B, '10.0.12.1').families['ipv4-unicast']?.accepted === 2, clock, 100);
    expect(pb.counters.establishedTransitions).toBe(2);
  });
});

describe('graceful restart, receiving speaker (RFC 4724 §4.2)', () => {
  const pa = p4('198.51.100.0/24');
  const pb = p4('198.51.101.0/24');

  async function pair(grOnB: boolean) {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1')],
      [pa, pb],
    );
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2', { gracefulRestart: grOnB })],
    );
    await until(() => B.rib.selected(pa) !== undefined && B.rib.selected(pb) !== undefined, clock, 100);
    await settle();
    return { net, clock, A, B };
  }

  it('retains nothing for a peer whose capability lists no families (a receiving speaker, like ours)', async () => {
    // Retention, stale marking and the End-of-RIB purge against peers that list families are in
    // speaker-wire.test.ts; our own speakers announce graceful restart as receivers only.
    const { net, clock, B } = await pair(true);
    expect(B.speaker.peerOf('10.0.12.1').session?.gracefulRestart?.families.size).toBe(0);
    net.setLink('10.0.12.1', '10.0.12.2', false);
    await until(() => B.speaker.peerOf('10.0.12.1').state !== 'Established', clock);
    expect(B.rib.selected(pa)).toBeUndefined();
    expect(B.rib.selected(pb)).toBeUndefined();
    expect(statusOf(B, '10.0.12.1').gracefulRestartUntil).toBeUndefined();
  });

  it('without graceful restart the routes go at once', async () => {
    const { net, clock, B } = await pair(false);
    net.setLink('10.0.12.1', '10.0.12.2', false);
    await until(() => B.speaker.peerOf('10.0.12.1').state !== 'Established', clock);
    expect(B.rib.selected(pa)).toBeUndefined();
    expect(B.rib.selected(pb)).toBeUndefined();
  });
});

describe('full-table dump', () => {
  it('50,000 prefixes from A reach C in packed UPDATEs while keepalives keep flowing', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const N = 50_000;
    const base = a4('100.0.0.0');
    const table = Array.from({ length: N }, (_, i) => prefix4(base + i * 256, 24));
    // Slices of 2000 prefixes (smaller than the default), so this table's dump takes enough
    // event-loop turns to span several hold times of fake clock.
    const SLICE = 2000;
    const A = await router(
      net,
      clock,
      65001,
      ['10.0.12.1'],
      [nbr('10.0.12.2', 65002, '10.0.12.1')],
      [],
      [],
      SLICE,
    );
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2', '10.0.23.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2'), nbr('10.0.23.3', 65003, '10.0.23.2')],
      [],
      [],
      SLICE,
    );
    const C = await router(
      net,
      clock,
      65003,
      ['10.0.23.3'],
      [nbr('10.0.23.2', 65002, '10.0.23.3')],
      [],
      [],
      SLICE,
    );
    await until(
      established([A, '10.0.12.2'], [B, '10.0.12.1'], [B, '10.0.23.3'], [C, '10.0.23.2']),
      clock,
      100,
    );
    await settle();
    const bc = B.speaker.peerOf('10.0.23.3');
    const cb = C.speaker.peerOf('10.0.23.2');
    const updatesBefore = bc.counters.updatesSent;
    // B sends A nothing but KEEPALIVEs (it never sends A's routes back); B→C carries UPDATEs,
    // which restart the keepalive timer themselves.
    const ab = A.speaker.peerOf('10.0.12.2');
    const kaBefore = ab.counters.keepalivesReceived;
    const t0 = clock.now();
    A.speaker.setOriginated(table);
    // One fake second per event-loop turn: the dump spans several hold times (9 s), so it must
    // yield to the loop (where timers run) many times.
    await until(() => C.rib.stats().selected === N, clock, 1000, 20_000);
    const fakeSeconds = (clock.now() - t0) / 1000;
    expect(fakeSeconds).toBeGreaterThan(18);
    expect(cb.state).toBe('Established');
    expect(bc.state).toBe('Established');
    expect(cb.counters.establishedTransitions).toBe(1);
    expect(ab.counters.keepalivesReceived).toBeGreaterThan(kaBefore + 3);
    expect(ab.counters.establishedTransitions).toBe(1);
    expect(ab.state).toBe('Established');
    const sent = bc.counters.updatesSent - updatesBefore;
    expect(sent).toBeLessThan(N / 100);
    expect(statusOf(B, '10.0.23.3').families['ipv4-unicast']?.advertised).toBe(N);
    const some = table[12345]!;
    expect(prefix4Len(some)).toBe(24);
    expect(bestAttrs(C, some)?.asPath?.[0]?.asns).toEqual([65002, 65001]);
    console.log(`dump: ${N} prefixes, ${sent} UPDATEs B→C, ${fakeSeconds} fake s`);
  }, 60_000);
});

describe('backpressure', () => {
  it('stops writing when the socket buffer is full and resumes on drain', async () => {
    const net = new MemoryNetwork(4096);
    const clock = new FakeClock();
    const N = 5000;
    const table = Array.from({ length: N }, (_, i) => prefix4(a4('100.0.0.0') + i * 256, 24));
    const A = await router(net, clock, 65001, ['10.0.12.1'], [nbr('10.0.12.2', 65002, '10.0.12.1')], table);
    const B = await router(net, clock, 65002, ['10.0.12.2'], [nbr('10.0.12.1', 65001, '10.0.12.2')]);
    await until(() => B.rib.stats().selected === N, clock, 100);
    expect(statusOf(A, '10.0.12.2').counters.backpressureWaits).toBeGreaterThan(0);
    expect(statusOf(A, '10.0.12.2').families['ipv4-unicast']?.advertised).toBe(N);
  });
});

describe('large tables going away', () => {
  it('leave the RIB in slices when their session drops, so timers run in between', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const N = 25_000;
    const table = Array.from({ length: N }, (_, i) => prefix4(a4('100.0.0.0') + i * 256, 24));
    await router(net, clock, 65001, ['10.0.12.1'], [nbr('10.0.12.2', 65002, '10.0.12.1')], table);
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2', { gracefulRestart: false })],
    );
    await until(() => B.rib.stats().selected === N, clock, 100);
    net.setLink('10.0.12.1', '10.0.12.2', false);
    expect(B.speaker.peerOf('10.0.12.1').state).not.toBe('Established');
    const left = B.rib.stats().selected;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(N);
    await until(() => B.rib.stats().selected === 0, clock);
    expect(statusOf(B, '10.0.12.1').families['ipv4-unicast']).toMatchObject({ received: 0, accepted: 0 });
  });
});

describe('large tables re-imported', () => {
  it('a policy change re-runs import from Adj-RIB-In in slices', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const N = 25_000;
    const table = Array.from({ length: N }, (_, i) => prefix4(a4('100.0.0.0') + i * 256, 24));
    await router(net, clock, 65001, ['10.0.12.1'], [nbr('10.0.12.2', 65002, '10.0.12.1')], table);
    const B = await router(
      net,
      clock,
      65002,
      ['10.0.12.2'],
      [nbr('10.0.12.1', 65001, '10.0.12.2', { importPolicy: null })],
    );
    await until(() => statusOf(B, '10.0.12.1').families['ipv4-unicast']?.received === N, clock, 100);
    expect(B.rib.stats().selected).toBe(0);
    B.speaker.setPolicies('10.0.12.1', ACCEPT, ACCEPT);
    const first = B.rib.stats().selected;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(N);
    await until(() => B.rib.stats().selected === N, clock);
    expect(statusOf(B, '10.0.12.1').families['ipv4-unicast']?.accepted).toBe(N);
  });
});

describe('several speakers on one RIB', () => {
  it('each AS exports only its own neighbours and originations', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const conn = new MemoryConnectedRoutes();
    conn.set(
      [
        { afi: 4, prefix: prefix4(a4('10.0.1.0'), 24), ifname: 'eth0' },
        { afi: 4, prefix: prefix4(a4('10.0.2.0'), 24), ifname: 'eth1' },
      ],
      ['lo', 'eth0', 'eth1'],
    );
    const rib = new Rib({ connected: conn });
    const mk = (asn: number, addr: string, n: NeighborSettings, orig: Prefix[]) => {
      const s = new Speaker({
        asn,
        routerId: a4(addr),
        listen: { host: addr, port: 179 },
        transport: multiTransport(net, [addr]),
        clock,
        rib,
        neighbors: [n],
        originate: orig,
      });
      running.push(s);
      return s;
    };
    const x1 = mk(65010, '10.0.1.1', nbr('10.0.1.2', 65001, '10.0.1.1'), [p4('192.0.2.0/24')]);
    const x2 = mk(65020, '10.0.2.1', nbr('10.0.2.2', 65002, '10.0.2.1'), [p4('192.0.3.0/24')]);
    await x1.start();
    await x2.start();
    const fromP1 = p4('198.51.100.0/24');
    const P1 = await router(net, clock, 65001, ['10.0.1.2'], [nbr('10.0.1.1', 65010, '10.0.1.2')], [fromP1]);
    const P2 = await router(net, clock, 65002, ['10.0.2.2'], [nbr('10.0.2.1', 65020, '10.0.2.2')]);
    await until(
      () => rib.selected(fromP1) !== undefined && P2.rib.selected(p4('192.0.3.0/24')) !== undefined,
      clock,
      100,
    );
    await until(() => P1.rib.selected(p4('192.0.2.0/24')) !== undefined, clock);
    await settle();
    // The shared RIB holds P1's route, but AS 65020 does not pass AS 65010's routes on.
    expect(P2.rib.selected(fromP1)).toBeUndefined();
    expect(P2.rib.selected(p4('192.0.2.0/24'))).toBeUndefined();
    expect(P1.rib.selected(p4('192.0.3.0/24'))).toBeUndefined();
    expect(bestAttrs(P2, p4('192.0.3.0/24'))?.asPath).toEqual([
      { type: AsPathSegmentType.AS_SEQUENCE, asns: [65020] },
    ]);
    // Stopping one speaker takes its originations out of the shared RIB only.
    x2.stop();
    expect(rib.selected(p4('192.0.3.0/24'))).toBeUndefined();
    expect(rib.selected(p4('192.0.2.0/24'))).toBeDefined();
  });
});
