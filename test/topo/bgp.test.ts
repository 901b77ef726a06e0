// test/topo: reference speakers through the helpers. BIRD <-> GoBGP and FRR <-> BIRD eBGP sessions
// over IPv4 and IPv6, prefixes exchanged both ways, FRR <-> BIRD with BFD up; nothing left after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, pidAlive, requireRoot, waitFor } from './index.js';
import { startBird, startFrr, startGobgp, waitEstablished, waitRoutes } from './bgp.js';
import type { BgpSpeaker, BgpSpeakerConfig } from './bgp.js';
import type { Link } from './index.js';

const skip = requireRoot(
  'bird',
  'birdc',
  'gobgpd',
  'gobgp',
  'vtysh',
  '/usr/lib/frr/bgpd',
  '/usr/lib/frr/bfdd',
);
if (skip !== null) console.warn(`[topo] skipping BGP interop tests: ${skip}`);

/** The prefixes speaker number n originates. */
function prefixesOf(n: number): { v4: string[]; v6: string[] } {
  return {
    v4: [`10.${100 + n}.0.0/24`, `10.${100 + n}.1.0/24`],
    v6: [`2001:db8:${n}::/48`, `2001:db8:${n}:1::/64`],
  };
}

/** A speaker description: AS 6500n, sessions over the link's IPv4 and IPv6 addresses. */
function describeSpeaker(
  n: number,
  link: Link,
  side: 'a' | 'b',
  peerN: number,
  bfd = false,
): BgpSpeakerConfig {
  const peer = side === 'a' ? link.b : link.a;
  const me = side === 'a' ? link.a : link.b;
  const p = prefixesOf(n);
  return {
    asn: 65000 + n,
    routerId: me.node.loopback4,
    neighbors: [
      { address: peer.addr4, asn: 65000 + peerN, bfd, passive: side === 'b' },
      { address: peer.addr6, asn: 65000 + peerN },
    ],
    originate: [...p.v4, ...p.v6],
  };
}

/** Both speakers learn each other's prefixes, with the peer's AS as path and the peer as next hop. */
async function expectExchanged(
  x: BgpSpeaker,
  xn: number,
  y: BgpSpeaker,
  yn: number,
  link: Link,
): Promise<void> {
  for (const [me, peerN] of [
    [x, yn],
    [y, xn],
  ] as const) {
    const want = prefixesOf(peerN);
    const peerEnd = link.other(me.node);
    const v4 = await waitRoutes(me, 4, want.v4);
    const v6 = await waitRoutes(me, 6, want.v6);
    for (const p of want.v4) {
      expect(
        v4.find((r) => r.prefix === p && r.learned),
        `${me.kind} ${p}`,
      ).toMatchObject({
        nextHop: peerEnd.addr4,
        asPath: [65000 + peerN],
      });
    }
    for (const p of want.v6) {
      const r = v6.find((r) => r.prefix === p && r.learned);
      expect(r?.asPath, `${me.kind} ${p}`).toEqual([65000 + peerN]);
      expect([peerEnd.addr6, peerEnd.linkLocal6]).toContain(r?.nextHop);
    }
  }
}

describe.skipIf(skip !== null)('reference BGP speakers', () => {
  const t1 = new Topology('bird-gobgp');
  const l1 = t1.link(t1.node('bird'), t1.node('gobgp'));
  const t2 = new Topology('frr-bird');
  const l2 = t2.link(t2.node('frr'), t2.node('bird'));
  let bird1: BgpSpeaker;
  let gobgp: BgpSpeaker;
  let frr: BgpSpeaker;
  let bird2: BgpSpeaker;

  beforeAll(async () => {
    // Both topologies come up side by side.
    await Promise.all([
      (async () => {
        await t1.launch();
        [bird1, gobgp] = await Promise.all([
          startBird(l1.a.node, describeSpeaker(1, l1, 'a', 3)),
          startGobgp(l1.b.node, describeSpeaker(3, l1, 'b', 1)),
        ]);
      })(),
      (async () => {
        await t2.launch();
        [frr, bird2] = await Promise.all([
          startFrr(l2.a.node, describeSpeaker(2, l2, 'a', 1, true)),
          startBird(l2.b.node, describeSpeaker(1, l2, 'b', 2, true)),
        ]);
      })(),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([t1.destroy(), t2.destroy()]);
  });

  it('BIRD <-> GoBGP: sessions Established over IPv4 and IPv6', async () => {
    await Promise.all([waitEstablished(bird1), waitEstablished(gobgp)]);
    const s = await gobgp.sessions();
    expect(s.map((x) => x.peerAs)).toEqual([65001, 65001]);
  });

  it('BIRD <-> GoBGP: prefixes exchanged in both directions', async () => {
    await expectExchanged(bird1, 1, gobgp, 3, l1);
  });

  it('FRR <-> BIRD: sessions Established over IPv4 and IPv6', async () => {
    await Promise.all([waitEstablished(frr), waitEstablished(bird2)]);
    expect((await frr.sessions()).every((x) => x.peerAs === 65001)).toBe(true);
  });

  it('FRR <-> BIRD: prefixes exchanged in both directions', async () => {
    await expectExchanged(frr, 2, bird2, 1, l2);
  });

  it('FRR <-> BIRD: BFD session up on both sides', async () => {
    const up = async (s: BgpSpeaker, peer: string): Promise<boolean> =>
      (await s.bfdPeers()).some((p) => p.peer === peer && p.state === 'up');
    await waitFor(() => up(frr, l2.b.addr4), { what: 'FRR BFD peer up', timeoutMs: 10_000, intervalMs: 200 });
    await waitFor(() => up(bird2, l2.a.addr4), {
      what: 'BIRD BFD session up',
      timeoutMs: 10_000,
      intervalMs: 200,
    });
  });

  it('FRR <-> BIRD: dropping BFD packets takes the BFD-tied session down; undropping restores it', async () => {
    const bgpUp = async (s: BgpSpeaker, peer: string): Promise<boolean> =>
      (await s.sessions()).some((x) => x.peer === peer && x.state === 'established');
    const t0 = Date.now();
    await l2.drop({ udpPort: 3784 });
    await waitFor(async () => !(await bgpUp(frr, l2.b.addr4)), {
      what: 'FRR to drop the IPv4 session after BFD loss',
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    console.info(`[topo] FRR session down ${Date.now() - t0} ms after BFD packets were dropped (100 ms x 3)`);
    // The IPv6 session has no BFD and stays up.
    expect(await bgpUp(frr, l2.b.addr6)).toBe(true);
    await l2.undrop();
    await waitEstablished(frr, { peers: [l2.b.addr4], timeoutMs: 20_000 });
  });

  it('destroy stops every daemon and holder', async () => {
    const pids = [...t1.pids(), ...t2.pids(), ...[bird1, gobgp, frr, bird2].flatMap((s) => s.pids())];
    expect(pids.length).toBeGreaterThanOrEqual(4 + 5);
    await Promise.all([t1.destroy(), t2.destroy()]);
    for (const pid of pids) expect(pidAlive(pid), `PID ${pid}`).toBe(false);
  });
});
