// Two and three BGP peers in one process over the in-memory transport with a fake clock:
// establishment, collisions, negotiation failures, shutdown communication, link loss and recovery.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/clock.js';
import {
  AFISAFI_IPV4_UNICAST,
  AFISAFI_IPV6_UNICAST,
  CeaseSubcode,
  ErrorCode,
  OpenSubcode,
} from '../../../wire/bgp/constants.js';
import { shutdownNotification } from '../../../wire/bgp/notification.js';
import { DEFAULT_CONTEXT, type UpdateMessage } from '../../../wire/bgp/types.js';
import { encodeMessageBytes } from '../../../wire/bgp/message.js';
import { prefix4 } from '../../../wire/ip/index.js';
import { DEFAULT_FSM_CONFIG, type FsmConfig, type TransitionReason } from '../../../mgd/bgp/fsm.js';
import type { LocalSessionSettings } from '../../../mgd/bgp/negotiate.js';
import { Peer, type PeerHandler } from '../../../mgd/bgp/peer.js';
import { MemoryNetwork, type BgpConnection } from '../../../mgd/bgp/transport.js';

const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

interface Log {
  established: number;
  down: TransitionReason[];
  updates: UpdateMessage[];
  /** UPDATEs handled per burst (one received chunk). */
  bursts: number[];
}

function settings(asn: number, id: number, peerAsn: number): LocalSessionSettings {
  return {
    asn,
    bgpId: id,
    holdTime: 9,
    families: [AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST],
    peerAsn,
    extendedMessage: true,
    enhancedRouteRefresh: true,
    extendedNextHop: [],
    addPath: new Map(),
  };
}

const fsm: FsmConfig = {
  ...DEFAULT_FSM_CONFIG,
  holdTime: 9,
  keepaliveTime: 3,
  connectRetryTime: 5,
  idleHoldTime: 1,
};

/**
 * A raw peer at 10.0.0.2 (AS 65002, hold time 9 s) that answers a connection with an OPEN and one
 * KEEPALIVE and then sends nothing by itself; `onConn` gets the connection first.
 */
async function rawPeer(net: MemoryNetwork, onConn: (c: BgpConnection) => void): Promise<void> {
  await net.transport('10.0.0.2').listen({ host: '10.0.0.2', port: 179 }, (c) => {
    onConn(c);
    const open = {
      type: 1 as const,
      version: 4,
      myAs: 65002,
      holdTime: 9,
      bgpId: 2,
      params: [
        { kind: 'capabilities' as const, capabilities: [{ kind: 'four-octet-as' as const, asn: 65002 }] },
      ],
      extendedParams: false,
    };
    c.write(encodeMessageBytes(open, DEFAULT_CONTEXT));
    c.write(encodeMessageBytes({ type: 4 }, DEFAULT_CONTEXT));
  });
}

const peers: Peer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.destroy();
});

/** A speaker at `addr` with one peer towards `peerAddr`, listening on port 179. */
async function speaker(
  net: MemoryNetwork,
  clock: FakeClock,
  addr: string,
  peerAddr: string,
  local: LocalSessionSettings,
  cfg = fsm,
) {
  const log: Log = { established: 0, down: [], updates: [], bursts: [] };
  const handler: PeerHandler = {
    established: () => log.established++,
    update: (_p, m) => log.updates.push(m),
    routeRefresh: () => undefined,
    down: (_p, r) => log.down.push(r),
    burst: (_p, fn) => {
      const before = log.updates.length;
      fn();
      log.bursts.push(log.updates.length - before);
    },
  };
  const t = net.transport(addr);
  const peer = new Peer(peerAddr, { address: peerAddr, port: 179 }, local, cfg, t, clock, handler, () => 0.5);
  peers.push(peer);
  await t.listen({ host: addr, port: 179 }, (c) =>
    c.remoteAddress === peerAddr ? peer.accept(c) : c.destroy(),
  );
  return { peer, log };
}

describe('BGP peers in memory', () => {
  it('both sides active: a collision resolves to exactly one session each', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const a = await speaker(net, clock, '10.0.0.1', '10.0.0.2', settings(65001, 0x0a000001, 65002));
    const b = await speaker(net, clock, '10.0.0.2', '10.0.0.1', settings(65002, 0x0a000002, 65001));
    a.peer.start();
    b.peer.start();
    await settle();
    expect(a.peer.state).toBe('Established');
    expect(b.peer.state).toBe('Established');
    expect(a.log.established).toBe(1);
    expect(b.log.established).toBe(1);
    expect(a.peer.session?.peerAsn).toBe(65002);
    expect(a.peer.session?.fourOctetAs).toBe(true);
    // Keepalives keep the session up well past the hold time.
    for (let i = 0; i < 10; i++) {
      clock.advance(2000);
      await settle(5);
    }
    expect(a.peer.state).toBe('Established');
    expect(a.peer.counters.keepalivesReceived).toBeGreaterThan(4);
  });

  it('a passive side and an active side establish, and UPDATEs reach the handler', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const a = await speaker(net, clock, '10.0.0.1', '10.0.0.2', settings(65001, 1, 65002), {
      ...fsm,
      passive: true,
    });
    const b = await speaker(net, clock, '10.0.0.2', '10.0.0.1', settings(65002, 2, 65001));
    a.peer.start();
    b.peer.start();
    await settle();
    expect(a.peer.state).toBe('Established');
    const upd: UpdateMessage = {
      type: 2,
      withdrawn: [],
      attrs: { origin: 0, asPath: [{ type: 2, asns: [65002] }], nextHop: 0x0a000002 },
      nlri: [prefix4(0xc0000200, 24)],
    };
    expect(b.peer.send(upd)).toBe(true);
    await settle();
    expect(a.log.updates).toHaveLength(1);
    expect(a.log.updates[0]?.nlri).toEqual([prefix4(0xc0000200, 24)]);
    // Messages written together arrive as one chunk and are handled in one burst.
    const more = [1, 2, 3].map((i) =>
      encodeMessageBytes({ ...upd, nlri: [prefix4(0xc0000200 + i * 256, 24)] }, DEFAULT_CONTEXT),
    );
    const joined = new Uint8Array(more.reduce((n, m) => n + m.length, 0));
    more.reduce((o, m) => (joined.set(m, o), o + m.length), 0);
    const bursts = a.log.bursts.length;
    expect(b.peer.sendRaw(joined, 3)).toBe(true);
    await settle();
    expect(a.log.updates).toHaveLength(4);
    expect(a.log.bursts.slice(bursts)).toEqual([3]);
  });

  it('a wrong peer AS is refused with OPEN / Bad Peer AS, and retried with back-off', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const a = await speaker(net, clock, '10.0.0.1', '10.0.0.2', settings(65001, 1, 65099));
    const b = await speaker(net, clock, '10.0.0.2', '10.0.0.1', settings(65002, 2, 65001), {
      ...fsm,
      passive: true,
    });
    // The passive side starts first: a stopped neighbour refuses connections.
    b.peer.start();
    a.peer.start();
    await settle();
    expect(a.peer.state).toBe('Idle');
    expect(a.peer.lastTransition?.reason).toMatchObject({
      kind: 'notification-sent',
      code: ErrorCode.OPEN_MESSAGE,
      subcode: OpenSubcode.BAD_PEER_AS,
    });
    expect(b.peer.lastTransition?.reason).toMatchObject({
      kind: 'notification-received',
      code: ErrorCode.OPEN_MESSAGE,
      subcode: OpenSubcode.BAD_PEER_AS,
    });
    expect(a.peer.fsmState.timers.idleHold).toBeDefined();
    const opens = a.peer.counters.opensSent;
    clock.advance(1000);
    await settle();
    expect(a.peer.counters.opensSent).toBe(opens + 1);
  });

  it('an administrative shutdown carries its message to the peer, which stays ready', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const a = await speaker(net, clock, '10.0.0.1', '10.0.0.2', settings(65001, 1, 65002));
    const b = await speaker(net, clock, '10.0.0.2', '10.0.0.1', settings(65002, 2, 65001));
    a.peer.start();
    b.peer.start();
    await settle();
    const n = shutdownNotification(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, 'maintenance until 18:00');
    a.peer.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, n.data);
    await settle();
    expect(a.peer.state).toBe('Idle');
    expect(a.log.down).toEqual([{ kind: 'admin-stop' }]);
    expect(b.log.down[0]).toEqual({
      kind: 'notification-received',
      code: ErrorCode.CEASE,
      subcode: 2,
      text: 'maintenance until 18:00',
    });
    clock.advance(60_000);
    await settle();
    expect(a.peer.state).toBe('Idle');
    a.peer.start();
    await settle();
    expect(a.peer.state).toBe('Established');
  });

  it('losing the link drops the session; restoring it brings the session back', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const a = await speaker(net, clock, '10.0.0.1', '10.0.0.2', settings(65001, 1, 65002));
    const b = await speaker(net, clock, '10.0.0.2', '10.0.0.1', settings(65002, 2, 65001));
    a.peer.start();
    b.peer.start();
    await settle();
    net.setLink('10.0.0.1', '10.0.0.2', false);
    await settle();
    expect(a.peer.state).not.toBe('Established');
    expect(a.log.down[0]?.kind).toBe('tcp-failed');
    for (let i = 0; i < 5; i++) {
      clock.advance(5000);
      await settle(5);
    }
    expect(a.peer.state).not.toBe('Established');
    net.setLink('10.0.0.1', '10.0.0.2', true);
    for (let i = 0; i < 40 && a.peer.state !== 'Established'; i++) {
      clock.advance(1000);
      await settle(5);
    }
    expect(a.peer.state).toBe('Established');
    expect(b.peer.state).toBe('Established');
    expect(a.log.established).toBe(2);
  });

  it('a silent peer is dropped by the hold timer with a NOTIFICATION', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const a = await speaker(net, clock, '10.0.0.1', '10.0.0.2', settings(65001, 1, 65002));
    // A raw peer that answers with an OPEN and one KEEPALIVE, then says nothing more.
    const got: Uint8Array[] = [];
    await rawPeer(net, (c) => c.onData((d) => got.push(d)));
    a.peer.start();
    await settle();
    expect(a.peer.state).toBe('Established');
    // Hold time 9 s; the IdleHold restart would follow 1 s after the drop, so look at 9.5 s.
    clock.advance(9_500);
    await settle();
    expect(a.peer.state).toBe('Idle');
    expect(a.peer.lastTransition?.reason).toEqual({ kind: 'hold-timer-expired' });
    const last = got[got.length - 1]!;
    expect(last[18]).toBe(3);
    expect(last[19]).toBe(ErrorCode.HOLD_TIMER_EXPIRED);
  });

  it('UPDATEs alone restart the hold timer, several in one chunk as one restart, counted from the last', async () => {
    const net = new MemoryNetwork();
    const clock = new FakeClock();
    const a = await speaker(net, clock, '10.0.0.1', '10.0.0.2', settings(65001, 1, 65002));
    // A raw peer: OPEN and one KEEPALIVE, then only UPDATEs (never another KEEPALIVE).
    let conn: BgpConnection | undefined;
    await rawPeer(net, (c) => (conn = c));
    a.peer.start();
    await settle();
    expect(a.peer.state).toBe('Established');
    const ctx = { ...DEFAULT_CONTEXT, fourOctetAs: true };
    const update = (i: number): Uint8Array =>
      encodeMessageBytes(
        {
          type: 2,
          withdrawn: [],
          attrs: { origin: 0, asPath: [{ type: 2, asns: [65002] }], nextHop: 0x0a000002 },
          nlri: [prefix4(0xc6336400 + i * 256, 24)],
        },
        ctx,
      );
    // Every 6 s (under the 9 s hold time) a chunk of three UPDATEs; the session stays up.
    for (let round = 0; round < 4; round++) {
      clock.advance(6_000);
      const three = [update(round * 3), update(round * 3 + 1), update(round * 3 + 2)];
      const chunk = new Uint8Array(three.reduce((n, m) => n + m.length, 0));
      let o = 0;
      for (const m of three) {
        chunk.set(m, o);
        o += m.length;
      }
      conn!.write(chunk);
      await settle();
      // Up all along: never down, never re-established.
      expect(a.log.down).toEqual([]);
      expect(a.log.established).toBe(1);
    }
    expect(a.log.updates).toHaveLength(12);
    // The hold timer runs from the last chunk: still up just before 9 s after it, down after.
    clock.advance(8_900);
    await settle();
    expect(a.log.down).toEqual([]);
    clock.advance(200);
    await settle();
    expect(a.peer.lastTransition?.reason).toEqual({ kind: 'hold-timer-expired' });
  });
});
