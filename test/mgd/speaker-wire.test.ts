// A speaker against a scripted peer that writes and reads raw BGP messages over the in-memory
// transport: what goes on the wire to a 2-octet-AS speaker (RFC 6793 AS_TRANS + AS4_PATH) and
// what is merged from one, eBGP attribute hygiene, first-AS enforcement, the maximum-prefix
// NOTIFICATION data (RFC 4486 §4), ROUTE-REFRESH and enhanced route refresh (RFC 7313), IPv6
// next hops, and the listener dropping unknown peers.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { MemoryConnectedRoutes } from '../../rib/connected.js';
import { Rib } from '../../rib/rib.js';
import { buildAnnouncements, endOfRib, endOfRibFamily } from '../../wire/bgp/builder.js';
import {
  AFISAFI_IPV4_UNICAST,
  AS_TRANS,
  AsPathSegmentType,
  CeaseSubcode,
  ErrorCode,
  Origin,
  RouteRefreshSubtype,
} from '../../wire/bgp/constants.js';
import { nextFrame } from '../../wire/bgp/header.js';
import { decodeMessage, encodeMessageBytes } from '../../wire/bgp/message.js';
import type {
  BgpMessage,
  Capability,
  CodecContext,
  PathAttributes,
  UpdateMessage,
} from '../../wire/bgp/types.js';
import {
  formatAddr6,
  formatPrefix,
  parseAddr4,
  parseAddr6,
  parsePrefix,
  prefix4,
  prefix6FromAddr,
  type Addr6,
  type Prefix,
  type Prefix4,
} from '../../wire/ip/index.js';
import { DEFAULT_FSM_CONFIG } from '../../mgd/bgp/fsm.js';
import { compilePolicy, type CompiledPolicy } from '../../mgd/bgp/policy.js';
import { NEIGHBOR_DEFAULTS, Speaker, type NeighborSettings } from '../../mgd/bgp/speaker.js';
import { MemoryNetwork, type BgpConnection } from '../../mgd/bgp/transport.js';
import { makeUntil } from '../support/fake-clock.js';

// ===== Harness =====

const A4 = (s: string) => (parseAddr4(s) as { ok: true; value: number }).value;
const A6 = (s: string): Addr6 => {
  const r = parseAddr6(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const P = (s: string): Prefix => {
  const r = parsePrefix(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const ACCEPT = (compilePolicy({ statements: [], default: 'accept' }) as { ok: true; value: CompiledPolicy })
  .value;

const turn = () => new Promise((r) => setImmediate(r));
const until = makeUntil(0, 500);

const speakers: Speaker[] = [];
afterEach(() => {
  for (const s of speakers.splice(0)) s.stop();
});

/** The speaker under test (AS `asn` at `addr`) with one neighbour, and its RIB. */
async function dut(
  net: MemoryNetwork,
  clock: FakeClock,
  asn: number,
  addr: string,
  nb: Partial<NeighborSettings> & { address: string; remoteAsn: number },
  originate: Prefix[] = [],
) {
  const conn = new MemoryConnectedRoutes();
  conn.set(
    [
      { afi: 4, prefix: prefix4(A4('10.0.12.0'), 24), ifname: 'eth0' },
      { afi: 6, prefix: prefix6FromAddr(A6('2001:db8:12::'), 64), ifname: 'eth0' },
    ],
    ['lo', 'eth0'],
  );
  const rib = new Rib({ connected: conn });
  const settings: NeighborSettings = {
    port: 179,
    fsm: { ...DEFAULT_FSM_CONFIG, holdTime: 90, keepaliveTime: 30, connectRetryTime: 30, passive: true },
    families: NEIGHBOR_DEFAULTS.families,
    nextHopSelf: false,
    allowAsIn: 0,
    enforceFirstAs: true,
    gracefulRestart: false,
    gracefulRestartTime: 120,
    addPath: new Map(),
    importPolicy: ACCEPT,
    exportPolicy: ACCEPT,
    ...nb,
  };
  const speaker = new Speaker({
    asn,
    routerId: A4('10.0.12.2'),
    listen: { host: addr, port: 179 },
    transport: net.transport(addr),
    clock,
    rib,
    neighbors: [settings],
    originate,
  });
  speakers.push(speaker);
  await speaker.start();
  return { speaker, rib };
}

/** A peer driven by hand: raw messages out, decoded messages in. */
class Scripted {
  readonly got: BgpMessage[] = [];
  private buf = new Uint8Array(0);
  closed = false;

  constructor(
    readonly conn: BgpConnection,
    public ctx: CodecContext,
  ) {
    conn.onData((c) => this.receive(c));
    conn.onClose(() => (this.closed = true));
  }

  static async connect(net: MemoryNetwork, from: string, to: string, ctx: CodecContext): Promise<Scripted> {
    const c = await net.transport(from).connect({ host: to, port: 179, timeoutMs: 1000 });
    return new Scripted(c, ctx);
  }

  send(m: BgpMessage): void {
    this.conn.write(encodeMessageBytes(m, this.ctx));
  }

  private receive(chunk: Uint8Array): void {
    const b = new Uint8Array(this.buf.length + chunk.length);
    b.set(this.buf);
    b.set(chunk, this.buf.length);
    let off = 0;
    for (;;) {
      const f = nextFrame(b, off, b.length, this.ctx);
      if (f.kind !== 'message') break;
      const r = decodeMessage(b, off, off + f.header.length, this.ctx);
      if (!r.ok) throw r.error;
      this.got.push(r.value);
      off += f.header.length;
    }
    this.buf = b.slice(off);
  }

  updates(): UpdateMessage[] {
    return this.got.filter((m): m is UpdateMessage => m.type === 2);
  }

  /** OPEN with the given capabilities, then KEEPALIVE once the other OPEN is in. */
  async establish(asn: number, caps: Capability[], clock: FakeClock): Promise<void> {
    this.send({
      type: 1,
      version: 4,
      myAs: asn > 0xffff ? AS_TRANS : asn,
      holdTime: 90,
      bgpId: A4('10.0.12.1'),
      params: [{ kind: 'capabilities', capabilities: caps }],
      extendedParams: false,
    });
    await until(() => this.got.some((m) => m.type === 1), clock);
    this.send({ type: 4 });
    await until(() => this.got.some((m) => m.type === 4), clock);
  }
}

const OLD_CTX: CodecContext = { fourOctetAs: false, extendedMessage: false, addPath: new Set() };
const NEW_CTX: CodecContext = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
const MP4: Capability = { kind: 'multiprotocol', afi: 1, safi: 1 };
const MP6: Capability = { kind: 'multiprotocol', afi: 2, safi: 1 };

function announce(s: Scripted, attrs: PathAttributes, prefixes: Prefix[]): void {
  for (const m of buildAnnouncements(attrs, prefixes, s.ctx)) s.conn.write(m);
}

const seq = (...asns: number[]) => [{ type: AsPathSegmentType.AS_SEQUENCE, asns }];

// ===== Tests =====

describe('a 2-octet-AS peer (RFC 6793)', () => {
  it('merges AS4_PATH from it and sends it AS_TRANS with AS4_PATH', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const mine = P('192.0.2.0/24');
    const B = await dut(net, clock, 4200000002, '10.0.12.2', { address: '10.0.12.1', remoteAsn: 65001 }, [
      mine,
    ]);
    const peer = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', OLD_CTX);
    await peer.establish(65001, [MP4, { kind: 'route-refresh' }], clock);
    expect(B.speaker.peerOf('10.0.12.1').session?.fourOctetAs).toBe(false);
    // Our OPEN said AS_TRANS in My AS.
    const open = peer.got.find((m) => m.type === 1);
    expect(open?.type === 1 && open.myAs).toBe(AS_TRANS);

    // What we send: AS_PATH [AS_TRANS], AS4_PATH [4200000002].
    await until(() => peer.updates().some((u) => u.nlri.length > 0), clock);
    const u = peer.updates().find((x) => x.nlri.length > 0)!;
    expect(u.nlri.map(formatPrefix)).toEqual(['192.0.2.0/24']);
    expect(u.attrs.asPath).toEqual(seq(AS_TRANS));
    expect(u.attrs.as4Path).toEqual(seq(4200000002));
    expect(u.attrs.nextHop).toBe(A4('10.0.12.2'));

    // What we receive: AS_PATH [65001, AS_TRANS] + AS4_PATH [4200000009] → [65001, 4200000009].
    const p = P('198.51.100.0/24');
    announce(
      peer,
      {
        origin: Origin.IGP,
        asPath: seq(65001, AS_TRANS),
        as4Path: seq(4200000009),
        nextHop: A4('10.0.12.1'),
      },
      [p],
    );
    await until(() => B.rib.selected(p) !== undefined, clock);
    const got = B.rib.selected(p)!.paths[0]!.attrs.attrs;
    expect(got.asPath).toEqual(seq(65001, 4200000009));
    expect(got.as4Path).toBeUndefined();
  });
});

describe('eBGP receive rules', () => {
  it('ignores LOCAL_PREF and ORIGINATOR_ID from eBGP and enforces the first AS', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, '10.0.12.2', { address: '10.0.12.1', remoteAsn: 65001 });
    const peer = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await peer.establish(65001, [MP4, { kind: 'four-octet-as', asn: 65001 }], clock);
    const good = P('198.51.100.0/24');
    const spoofed = P('198.51.101.0/24');
    const nh = A4('10.0.12.1');
    announce(
      peer,
      {
        origin: Origin.IGP,
        asPath: seq(65001),
        localPref: 500,
        originatorId: 7,
        clusterList: [1],
        nextHop: nh,
      },
      [good],
    );
    announce(peer, { origin: Origin.IGP, asPath: seq(65099), nextHop: nh }, [spoofed]);
    await until(() => B.rib.selected(good) !== undefined, clock);
    await until(() => B.speaker.status()[0]!.families['ipv4-unicast']!.received === 2, clock);
    const a = B.rib.selected(good)!.paths[0]!.attrs.attrs;
    expect(a.localPref).toBeUndefined();
    expect(a.originatorId).toBeUndefined();
    expect(a.clusterList).toBeUndefined();
    expect(B.rib.selected(spoofed)).toBeUndefined();
    expect(B.speaker.status()[0]!.counters.rejectedByRules).toBe(1);
    B.speaker.reconfigure('10.0.12.1', { enforceFirstAs: false });
    expect(B.rib.selected(spoofed)).toBeDefined();
  });

  it('sends Cease/1 with AFI, SAFI and the limit when maximum-prefix restarts', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    await dut(net, clock, 65002, '10.0.12.2', {
      address: '10.0.12.1',
      remoteAsn: 65001,
      maxPrefix: { limit: 2, action: 'restart', restartAfter: 60 },
    });
    const peer = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await peer.establish(65001, [MP4, { kind: 'four-octet-as', asn: 65001 }], clock);
    announce(peer, { origin: Origin.IGP, asPath: seq(65001), nextHop: A4('10.0.12.1') }, [
      P('198.51.100.0/24'),
      P('198.51.101.0/24'),
      P('198.51.102.0/24'),
    ]);
    await until(() => peer.got.some((m) => m.type === 3), clock);
    const n = peer.got.find((m) => m.type === 3);
    expect(n?.type === 3 && [n.code, n.subcode]).toEqual([
      ErrorCode.CEASE,
      CeaseSubcode.MAXIMUM_PREFIXES_REACHED,
    ]);
    expect(n?.type === 3 && [...n.data]).toEqual([0, 1, 1, 0, 0, 0, 2]);
    await until(() => peer.closed, clock);
  });
});

describe('ROUTE-REFRESH', () => {
  it('re-sends the family on a normal request, inside BoRR/EoRR when enhanced', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const mine = [P('192.0.2.0/24'), P('198.51.100.0/24')];
    await dut(net, clock, 65002, '10.0.12.2', { address: '10.0.12.1', remoteAsn: 65001 }, mine);
    const peer = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await peer.establish(
      65001,
      [
        MP4,
        { kind: 'four-octet-as', asn: 65001 },
        { kind: 'route-refresh' },
        { kind: 'enhanced-route-refresh' },
      ],
      clock,
    );
    await until(() => peer.updates().some((u) => endOfRibFamily(u) === AFISAFI_IPV4_UNICAST), clock);
    const before = peer.got.length;
    peer.send({ type: 5, afi: 1, safi: 1, subtype: RouteRefreshSubtype.NORMAL });
    await until(
      () => peer.got.slice(before).some((m) => m.type === 5 && m.subtype === RouteRefreshSubtype.END),
      clock,
    );
    const after = peer.got.slice(before).filter((m) => m.type !== 4);
    expect(after[0]).toMatchObject({ type: 5, subtype: RouteRefreshSubtype.BEGIN, afi: 1, safi: 1 });
    expect(after[after.length - 1]).toMatchObject({ type: 5, subtype: RouteRefreshSubtype.END });
    const resent = after
      .filter((m): m is UpdateMessage => m.type === 2)
      .flatMap((u) => u.nlri.map(formatPrefix));
    expect(resent.sort()).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
  });

  it('as a receiver of enhanced route refresh, drops what the peer did not re-send before EoRR', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, '10.0.12.2', { address: '10.0.12.1', remoteAsn: 65001 });
    const peer = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await peer.establish(
      65001,
      [MP4, { kind: 'four-octet-as', asn: 65001 }, { kind: 'enhanced-route-refresh' }],
      clock,
    );
    const a = P('198.51.100.0/24');
    const b = P('198.51.101.0/24');
    const attrs = { origin: Origin.IGP, asPath: seq(65001), nextHop: A4('10.0.12.1') };
    announce(peer, attrs, [a, b]);
    await until(() => B.rib.selected(a) !== undefined && B.rib.selected(b) !== undefined, clock);
    peer.send({ type: 5, afi: 1, safi: 1, subtype: RouteRefreshSubtype.BEGIN });
    announce(peer, attrs, [a]);
    peer.send({ type: 5, afi: 1, safi: 1, subtype: RouteRefreshSubtype.END });
    await until(() => B.rib.selected(b) === undefined, clock);
    expect(B.rib.selected(a)).toBeDefined();
    // A BoRR without its EoRR: the stale route goes when the stale-path timer runs out.
    peer.send({ type: 5, afi: 1, safi: 1, subtype: RouteRefreshSubtype.BEGIN });
    await until(() => B.speaker.status()[0]!.families['ipv4-unicast']!.stale === 1, clock);
    const t0 = clock.now();
    while (clock.now() - t0 < 355_000) {
      peer.send({ type: 4 });
      await turn();
      clock.advance(5_000);
    }
    expect(B.rib.selected(a)).toBeDefined();
    peer.send({ type: 4 });
    await turn();
    clock.advance(10_000);
    expect(B.rib.selected(a)).toBeUndefined();
    expect(B.speaker.peerOf('10.0.12.1').state).toBe('Established');
  });
});

describe('IPv6 next hops (RFC 2545)', () => {
  it('uses the global next hop, and the link-local one over the session interface only without a global', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, 'fe80::2', { address: 'fe80::1%eth0', remoteAsn: 65001 }, [
      P('2001:db8:99::/48'),
    ]);
    const peer = await Scripted.connect(net, 'fe80::1', 'fe80::2', NEW_CTX);
    await peer.establish(65001, [MP6, { kind: 'four-octet-as', asn: 65001 }], clock);
    const viaGlobal = P('2001:db8:1::/48');
    const viaLinkLocal = P('2001:db8:2::/48');
    const base = { origin: Origin.IGP, asPath: seq(65001) };
    announce(
      peer,
      {
        ...base,
        mpReach: {
          afi: 2,
          safi: 1,
          nextHop: A6('2001:db8:12::1'),
          nextHopLinkLocal: A6('fe80::1'),
          nlri: [],
        },
      },
      [viaGlobal],
    );
    announce(peer, { ...base, mpReach: { afi: 2, safi: 1, nextHop: A6('fe80::1'), nlri: [] } }, [
      viaLinkLocal,
    ]);
    await until(
      () => B.rib.selected(viaGlobal) !== undefined && B.rib.selected(viaLinkLocal) !== undefined,
      clock,
    );
    const g = B.rib.selected(viaGlobal)!.nexthops[0]!;
    expect(formatAddr6(g.addr as Addr6)).toBe('2001:db8:12::1');
    expect(g.ifname).toBeUndefined();
    const ll = B.rib.selected(viaLinkLocal)!.nexthops[0]!;
    expect(formatAddr6(ll.addr as Addr6)).toBe('fe80::1');
    expect(ll.ifname).toBe('eth0');
    // Our own IPv6 announcement over a link-local session carries our link-local next hop.
    await until(() => peer.updates().some((u) => u.attrs.mpReach?.nlri.length === 1), clock);
    const ours = peer.updates().find((u) => u.attrs.mpReach?.nlri.length === 1)!.attrs.mpReach!;
    expect(formatPrefix(ours.nlri[0]!)).toBe('2001:db8:99::/48');
    expect(formatAddr6(ours.nextHop as Addr6)).toBe('fe80::2');
    expect(ours.nextHopLinkLocal && formatAddr6(ours.nextHopLinkLocal)).toBe('fe80::2');
  });
});

describe('graceful restart, routes retained over a TCP loss (RFC 4724 §4.2)', () => {
  const a = P('198.51.100.0/24');
  const b = P('198.51.101.0/24');
  const attrs = { origin: Origin.IGP, asPath: seq(65001), nextHop: A4('10.0.12.1') };
  const caps = (forwarding: boolean): Capability[] => [
    MP4,
    { kind: 'four-octet-as', asn: 65001 },
    {
      kind: 'graceful-restart',
      restarting: false,
      notification: false,
      restartTime: 90,
      families: [{ afi: 1, safi: 1, forwardingPreserved: forwarding }],
    },
  ];

  async function lost() {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, '10.0.12.2', {
      address: '10.0.12.1',
      remoteAsn: 65001,
      gracefulRestart: true,
    });
    const first = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await first.establish(65001, caps(false), clock);
    announce(first, attrs, [a, b]);
    await until(() => B.rib.selected(a) !== undefined && B.rib.selected(b) !== undefined, clock);
    first.conn.destroy();
    await until(() => B.speaker.peerOf('10.0.12.1').state !== 'Established', clock);
    return { net, clock, B };
  }

  it('keeps the routes as stale, and drops them when the peer returns without preserved forwarding', async () => {
    const { net, clock, B } = await lost();
    expect(B.rib.selected(a)).toBeDefined();
    expect(B.rib.selected(b)).toBeDefined();
    expect(B.speaker.status()[0]!.families['ipv4-unicast']!.stale).toBe(2);
    expect(B.speaker.status()[0]!.gracefulRestartUntil).toBe(clock.now() + 90_000);
    const again = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await again.establish(65001, caps(false), clock);
    // F bit clear in the new OPEN: the stale routes go at once; what is re-sent comes back.
    expect(B.rib.selected(a)).toBeUndefined();
    expect(B.speaker.status()[0]!.counters.staleRemoved).toBe(2);
    announce(again, attrs, [a]);
    await until(() => B.rib.selected(a) !== undefined, clock);
    expect(B.rib.selected(b)).toBeUndefined();
  });

  it('removes the stale routes when the restart timer expires', async () => {
    const { clock, B } = await lost();
    clock.advance(89_000);
    expect(B.rib.selected(a)).toBeDefined();
    clock.advance(2_000);
    expect(B.rib.selected(a)).toBeUndefined();
    expect(B.rib.selected(b)).toBeUndefined();
  });
});

describe('graceful restart with preserved forwarding (RFC 4724 §4.2)', () => {
  it('keeps stale routes over the restart, refreshes re-sent ones and purges the rest at End-of-RIB', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, '10.0.12.2', {
      address: '10.0.12.1',
      remoteAsn: 65001,
      gracefulRestart: true,
    });
    const caps = (restarting: boolean): Capability[] => [
      MP4,
      { kind: 'four-octet-as', asn: 65001 },
      {
        kind: 'graceful-restart',
        restarting,
        notification: false,
        restartTime: 90,
        families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
      },
    ];
    const a = P('198.51.100.0/24');
    const b = P('198.51.101.0/24');
    const attrs = { origin: Origin.IGP, asPath: seq(65001), nextHop: A4('10.0.12.1') };
    const first = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await first.establish(65001, caps(false), clock);
    announce(first, attrs, [a, b]);
    await until(() => B.rib.selected(a) !== undefined && B.rib.selected(b) !== undefined, clock);
    // The peer restarts: its TCP connection dies without a NOTIFICATION.
    first.conn.destroy();
    await until(() => B.speaker.peerOf('10.0.12.1').state !== 'Established', clock);
    expect(B.speaker.status()[0]!.families['ipv4-unicast']!.stale).toBe(2);
    const again = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await again.establish(65001, caps(true), clock);
    // Stale routes stay until End-of-RIB; the re-sent one is fresh again.
    announce(again, { ...attrs, med: 5 }, [a]);
    await until(() => B.rib.selected(a)?.paths[0]?.attrs.attrs.med === 5, clock);
    expect(B.rib.selected(b)).toBeDefined();
    expect(B.speaker.status()[0]!.families['ipv4-unicast']!.stale).toBe(1);
    again.conn.write(endOfRib(1, 1));
    await until(() => B.rib.selected(b) === undefined, clock);
    expect(B.rib.selected(a)).toBeDefined();
    expect(B.speaker.status()[0]!.counters.staleRemoved).toBe(1);
  });
});

describe('graceful restart after a NOTIFICATION (RFC 8538)', () => {
  const grCap = (notification: boolean): Capability => ({
    kind: 'graceful-restart',
    restarting: false,
    notification,
    restartTime: 60,
    families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
  });

  async function session(nBit: boolean) {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, '10.0.12.2', {
      address: '10.0.12.1',
      remoteAsn: 65001,
      gracefulRestart: true,
    });
    const peer = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', NEW_CTX);
    await peer.establish(65001, [MP4, { kind: 'four-octet-as', asn: 65001 }, grCap(nBit)], clock);
    const p = P('198.51.100.0/24');
    announce(peer, { origin: Origin.IGP, asPath: seq(65001), nextHop: A4('10.0.12.1') }, [p]);
    await until(() => B.rib.selected(p) !== undefined, clock);
    return { B, peer, clock, p };
  }

  it('keeps the routes as stale when the peer set the N bit, but not for a Hard Reset', async () => {
    const kept = await session(true);
    kept.peer.send({
      type: 3,
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.ADMINISTRATIVE_RESET,
      data: new Uint8Array(0),
    });
    await until(() => kept.B.speaker.peerOf('10.0.12.1').state !== 'Established', kept.clock);
    expect(kept.B.rib.selected(kept.p)).toBeDefined();
    expect(kept.B.speaker.status()[0]!.families['ipv4-unicast']!.stale).toBe(1);

    const hard = await session(true);
    hard.peer.send({
      type: 3,
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.HARD_RESET,
      data: new Uint8Array(0),
    });
    await until(() => hard.B.speaker.peerOf('10.0.12.1').state !== 'Established', hard.clock);
    expect(hard.B.rib.selected(hard.p)).toBeUndefined();
  });

  it('without the N bit a NOTIFICATION removes the routes at once', async () => {
    const s = await session(false);
    s.peer.send({
      type: 3,
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.ADMINISTRATIVE_RESET,
      data: new Uint8Array(0),
    });
    await until(() => s.B.speaker.peerOf('10.0.12.1').state !== 'Established', s.clock);
    expect(s.B.rib.selected(s.p)).toBeUndefined();
  });
});

describe('ADD-PATH receive (RFC 7911)', () => {
  it('keeps each path identifier as its own RIB path and withdraws them one by one', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, '10.0.12.2', {
      address: '10.0.12.1',
      remoteAsn: 65001,
      addPath: new Map([[AFISAFI_IPV4_UNICAST, 'receive' as const]]),
    });
    const ctx: CodecContext = { ...NEW_CTX, addPath: new Set([AFISAFI_IPV4_UNICAST]) };
    const peer = await Scripted.connect(net, '10.0.12.1', '10.0.12.2', ctx);
    await peer.establish(
      65001,
      [
        MP4,
        { kind: 'four-octet-as', asn: 65001 },
        { kind: 'add-path', entries: [{ afi: 1, safi: 1, sendReceive: 2 }] },
      ],
      clock,
    );
    expect(B.speaker.peerOf('10.0.12.1').session?.addPathRx.has(AFISAFI_IPV4_UNICAST)).toBe(true);
    const p = P('198.51.100.0/24');
    const attrs = { origin: Origin.IGP, asPath: seq(65001), nextHop: A4('10.0.12.1') };
    for (const m of buildAnnouncements(attrs, [p], ctx, [1])) peer.conn.write(m);
    for (const m of buildAnnouncements({ ...attrs, med: 9, nextHop: A4('10.0.12.3') }, [p], ctx, [2]))
      peer.conn.write(m);
    await until(() => B.rib.paths(p).length === 2, clock);
    expect(
      B.rib
        .paths(p)
        .map((x) => x.pathId)
        .sort(),
    ).toEqual([1, 2]);
    expect(B.speaker.status()[0]!.families['ipv4-unicast']).toMatchObject({ received: 2, accepted: 2 });
    peer.send({ type: 2, withdrawn: [p as Prefix4], withdrawnPathIds: [1], attrs: {}, nlri: [] });
    await until(() => B.rib.paths(p).length === 1, clock);
    expect(B.rib.paths(p)[0]?.pathId).toBe(2);
  });
});

describe('extended next hop (RFC 8950) on an unnumbered session', () => {
  it('carries IPv4 routes over IPv6 link-local next hops both ways', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    // Both families from us over one link-local next hop: they must still go in separate UPDATEs.
    const mine = P('192.0.2.0/24');
    const mine6 = P('2001:db8:99::/48');
    const B = await dut(
      net,
      clock,
      65002,
      'fe80::2',
      { address: 'fe80::1%eth0', remoteAsn: 65001, extendedNextHop: true },
      [mine, mine6],
    );
    const peer = await Scripted.connect(net, 'fe80::1', 'fe80::2', NEW_CTX);
    await peer.establish(
      65001,
      [
        MP4,
        MP6,
        { kind: 'four-octet-as', asn: 65001 },
        { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      ],
      clock,
    );
    expect(B.speaker.peerOf('fe80::1%eth0').session?.extendedNextHop.has(AFISAFI_IPV4_UNICAST)).toBe(true);
    // Ours: IPv4 NLRI in MP_REACH AFI 1 with our link-local address.
    await until(
      () => peer.updates().some((u) => u.attrs.mpReach?.afi === 1 && u.attrs.mpReach.nlri.length > 0),
      clock,
    );
    const mp = peer.updates().find((u) => u.attrs.mpReach?.afi === 1)!.attrs.mpReach!;
    expect(mp.nlri.map(formatPrefix)).toEqual(['192.0.2.0/24']);
    expect(formatAddr6(mp.nextHop as Addr6)).toBe('fe80::2');
    await until(() => peer.updates().some((u) => u.attrs.mpReach?.afi === 2), clock);
    const mp6 = peer.updates().find((u) => u.attrs.mpReach?.afi === 2)!.attrs.mpReach!;
    expect(mp6.nlri.map(formatPrefix)).toEqual(['2001:db8:99::/48']);
    expect(peer.got.some((m) => m.type === 3)).toBe(false);
    // Theirs: an IPv4 route via their link-local address, used over the session's interface.
    const p = P('198.51.100.0/24');
    announce(
      peer,
      {
        origin: Origin.IGP,
        asPath: seq(65001),
        mpReach: { afi: 1, safi: 1, nextHop: A6('fe80::1'), nlri: [] },
      },
      [p],
    );
    await until(() => B.rib.selected(p) !== undefined, clock);
    const h = B.rib.selected(p)!.nexthops[0]!;
    expect(formatAddr6(h.addr as Addr6)).toBe('fe80::1');
    expect(h.ifname).toBe('eth0');
  });
});

describe('listener', () => {
  it('drops connections from addresses that are not configured neighbours', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const B = await dut(net, clock, 65002, '10.0.12.2', { address: '10.0.12.1', remoteAsn: 65001 });
    const stranger = await Scripted.connect(net, '10.0.12.9', '10.0.12.2', NEW_CTX);
    // The connection is gone (it may close before our callback is registered): writes fail.
    await until(() => !stranger.conn.write(new Uint8Array(0)), clock);
    expect(stranger.got).toEqual([]);
    expect(B.speaker.peerOf('10.0.12.1').state).not.toBe('Established');
  });
});
