// mgd between real peers, three topologies side by side:
//   transit   BIRD (AS 65011) ── mgd (AS 65000) ── FRR (AS 65012): each peer's prefixes reach the
//             other with AS_PATH [65000, origin AS] and mgd's address on that link as next hop.
//   iBGP      BIRD (AS 65021, eBGP) ── mgd (AS 65000) ── FRR (AS 65000, iBGP): routes flow both
//             ways, LOCAL_PREF is present on the iBGP session, and BIRD's routes reach FRR with
//             BIRD's next hop unchanged (RFC 4271 §5.1.3).
//   iBGP      BIRD (AS 65041, eBGP) ── mgd (AS 65000) ── BIRD (AS 65000, iBGP)
//   BIRD and               └─ GoBGP (AS 65000, iBGP): over IPv4 and IPv6 (one session per family),
//   GoBGP     mgd's and the eBGP peer's routes reach both iBGP peers with LOCAL_PREF 100 and the eBGP
//             peer's next hop unchanged; the iBGP peers' routes reach mgd's kernel and the eBGP peer,
//             but never the other iBGP peer (RFC 4271 §9.1.1, §9.2).
//   graceful  mgd ── FRR (AS 65031), graceful restart on both sides (RFC 4724): FRR's bgpd is
//   restart   SIGKILLed (no NOTIFICATION); mgd keeps FRR's routes in the kernel while it is away, and
//             after FRR comes back without one prefix, End-of-RIB purges that one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology, requireRoot, sleep, waitFor } from '../topo/index.js';
import type { Link } from '../topo/index.js';
import { startBird, startFrr, startGobgp, waitEstablished, waitRoutes } from '../topo/bgp.js';
import type { BgpRoute, BgpSpeaker, BgpSpeakerConfig } from '../topo/bgp.js';
import { requireBuiltMgd, startMgd } from './interop-support.js';
import type { MgdProcess } from './interop-support.js';

const skip =
  requireRoot('bird', 'birdc', 'vtysh', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra') ?? requireBuiltMgd();
if (skip !== null) console.warn(`[interop] skipping mgd scenario tests: ${skip}`);
const skipGobgp = skip ?? requireRoot('gobgpd', 'gobgp');
if (skipGobgp !== null && skip === null)
  console.warn(`[interop] skipping the GoBGP iBGP scenario: ${skipGobgp}`);

const MGD_AS = 65000;
const keepDir = process.env['INTEROP_KEEP'] === '1';

/** A speaker description for one end of a link, peering with mgd over IPv4 and IPv6. */
function peerOf(link: Link, asn: number, originate: string[], extra: Partial<BgpSpeakerConfig> = {}) {
  const me = link.b.node.name === 'mgd' ? link.a : link.b;
  const mgd = link.other(me.node);
  return {
    asn,
    routerId: me.node.loopback4,
    neighbors: [
      { address: mgd.addr4, asn: MGD_AS },
      { address: mgd.addr6, asn: MGD_AS },
    ],
    originate,
    ...extra,
  } satisfies BgpSpeakerConfig;
}

function learned(routes: readonly BgpRoute[], prefix: string): BgpRoute | undefined {
  return routes.find((r) => r.prefix === prefix && r.learned);
}

describe.skipIf(skip !== null)('mgd between real peers', () => {
  // ===== Transit =====
  describe.concurrent('transit: BIRD - mgd - FRR', () => {
    const topo = new Topology('mgd-transit', { keepDir });
    const bird = topo.node('bird');
    const mgdNode = topo.node('mgd');
    const frrNode = topo.node('frr');
    const lb = topo.link(bird, mgdNode);
    const lf = topo.link(mgdNode, frrNode);
    const A = { v4: '10.111.0.0/24', v6: '2001:db8:111::/48' };
    const B = { v4: '10.112.0.0/24', v6: '2001:db8:112::/48' };
    let mgd: MgdProcess;
    let a: BgpSpeaker;
    let b: BgpSpeaker;

    beforeAll(async () => {
      await topo.launch();
      [mgd, a, b] = await Promise.all([
        startMgd(mgdNode, {
          asn: MGD_AS,
          routerId: mgdNode.loopback4,
          neighbors: [
            { address: lb.a.addr4, remoteAsn: 65011 },
            { address: lb.a.addr6, remoteAsn: 65011 },
            { address: lf.b.addr4, remoteAsn: 65012 },
            { address: lf.b.addr6, remoteAsn: 65012 },
          ],
        }),
        startBird(bird, peerOf(lb, 65011, [A.v4, A.v6])),
        startFrr(frrNode, peerOf(lf, 65012, [B.v4, B.v6])),
      ]);
    });
    afterAll(() => topo.destroy());

    it.sequential('all four sessions Established', async () => {
      await Promise.all([mgd.waitEstablished(), waitEstablished(a), waitEstablished(b)]);
    });

    it.sequential(
      "BIRD's prefixes reach FRR via mgd: AS_PATH [mgd, BIRD], next hop mgd on the FRR link",
      async () => {
        const r4 = learned(await waitRoutes(b, 4, [A.v4]), A.v4);
        expect(r4).toMatchObject({ asPath: [MGD_AS, 65011], nextHop: lf.a.addr4 });
        // No LOCAL_PREF towards an eBGP peer (RFC 4271 §5.1.5); FRR shows one only when it came on the
        // wire (BIRD would show its own import default, so it cannot tell).
        expect(r4?.localPref).toBeUndefined();
        const r6 = learned(await waitRoutes(b, 6, [A.v6]), A.v6);
        expect(r6?.asPath).toEqual([MGD_AS, 65011]);
        expect([lf.a.addr6, lf.a.linkLocal6]).toContain(r6?.nextHop);
      },
    );

    it.sequential(
      "FRR's prefixes reach BIRD via mgd: AS_PATH [mgd, FRR], next hop mgd on the BIRD link",
      async () => {
        const r4 = learned(await waitRoutes(a, 4, [B.v4]), B.v4);
        expect(r4).toMatchObject({ asPath: [MGD_AS, 65012], nextHop: lb.b.addr4 });
        const r6 = learned(await waitRoutes(a, 6, [B.v6]), B.v6);
        expect(r6?.asPath).toEqual([MGD_AS, 65012]);
        expect([lb.b.addr6, lb.b.linkLocal6]).toContain(r6?.nextHop);
        // mgd itself forwards both ways.
        await mgd.waitKernel(4, [A.v4, B.v4]);
        await mgd.waitKernel(6, [A.v6, B.v6]);
      },
    );
  });

  // ===== iBGP =====
  describe.concurrent('iBGP: BIRD (eBGP) - mgd - FRR (iBGP)', () => {
    const topo = new Topology('mgd-ibgp', { keepDir });
    const bird = topo.node('bird');
    const mgdNode = topo.node('mgd');
    const frrNode = topo.node('frr');
    const lb = topo.link(bird, mgdNode);
    const lf = topo.link(mgdNode, frrNode);
    const E = { v4: '10.121.0.0/24', v6: '2001:db8:121::/48' };
    const I = { v4: '10.122.0.0/24', v6: '2001:db8:122::/48' };
    const M = { v4: '10.220.0.0/24', v6: '2001:db8:220::/48' };
    let mgd: MgdProcess;
    let ext: BgpSpeaker;
    let ibgp: BgpSpeaker;

    beforeAll(async () => {
      await topo.launch();
      [mgd, ext, ibgp] = await Promise.all([
        startMgd(mgdNode, {
          asn: MGD_AS,
          routerId: mgdNode.loopback4,
          neighbors: [
            { address: lb.a.addr4, remoteAsn: 65021 },
            { address: lb.a.addr6, remoteAsn: 65021 },
            { address: lf.b.addr4, remoteAsn: MGD_AS },
            { address: lf.b.addr6, remoteAsn: MGD_AS },
          ],
          originate: { ipv4: [M.v4], ipv6: [M.v6] },
        }),
        startBird(bird, peerOf(lb, 65021, [E.v4, E.v6])),
        startFrr(frrNode, peerOf(lf, MGD_AS, [I.v4, I.v6])),
      ]);
    });
    afterAll(() => topo.destroy());

    it.sequential('eBGP and iBGP sessions Established', async () => {
      await Promise.all([mgd.waitEstablished(), waitEstablished(ext), waitEstablished(ibgp)]);
    });

    it.sequential("mgd's own prefixes reach the iBGP peer with LOCAL_PREF and an empty AS_PATH", async () => {
      const r4 = learned(await waitRoutes(ibgp, 4, [M.v4]), M.v4);
      expect(r4).toMatchObject({ asPath: [], nextHop: lf.a.addr4, localPref: 100 });
      const r6 = learned(await waitRoutes(ibgp, 6, [M.v6]), M.v6);
      expect(r6).toMatchObject({ asPath: [], localPref: 100 });
    });

    it.sequential('eBGP routes reach the iBGP peer with the next hop unchanged and LOCAL_PREF', async () => {
      const r4 = learned(await waitRoutes(ibgp, 4, [E.v4]), E.v4);
      expect(r4).toMatchObject({ asPath: [65021], nextHop: lb.a.addr4, localPref: 100 });
      const r6 = learned(await waitRoutes(ibgp, 6, [E.v6]), E.v6);
      expect(r6?.asPath).toEqual([65021]);
      expect(r6?.localPref).toBe(100);
      expect([lb.a.addr6, lb.a.linkLocal6]).toContain(r6?.nextHop);
    });

    it.sequential("the iBGP peer's routes reach mgd's kernel and the eBGP peer", async () => {
      const k4 = await mgd.waitKernel(4, [I.v4]);
      expect(k4.find((r) => r.dst === I.v4)?.nexthops.map((h) => h.gateway)).toEqual([lf.b.addr4]);
      await mgd.waitKernel(6, [I.v6]);
      const r4 = learned(await waitRoutes(ext, 4, [I.v4]), I.v4);
      expect(r4).toMatchObject({ asPath: [MGD_AS], nextHop: lb.b.addr4 });
      await waitRoutes(ext, 6, [I.v6]);
    });
  });

  // ===== iBGP with BIRD and GoBGP =====
  describe.skipIf(skipGobgp !== null).concurrent('iBGP: BIRD (eBGP) - mgd - BIRD and GoBGP (iBGP)', () => {
    const topo = new Topology('mgd-ibgp-bg', { keepDir });
    const extNode = topo.node('ext');
    const mgdNode = topo.node('mgd');
    const birdNode = topo.node('bird');
    const gobgpNode = topo.node('gobgp');
    const le = topo.link(extNode, mgdNode);
    const lb = topo.link(mgdNode, birdNode);
    const lg = topo.link(mgdNode, gobgpNode);
    const EXT_AS = 65041;
    const E = { v4: '10.141.0.0/24', v6: '2001:db8:141::/48' };
    const B = { v4: '10.142.0.0/24', v6: '2001:db8:142::/48' };
    const G = { v4: '10.143.0.0/24', v6: '2001:db8:143::/48' };
    const M = { v4: '10.240.0.0/24', v6: '2001:db8:240::/48' };
    const MARK = { v4: '10.241.0.0/24', v6: '2001:db8:241::/48' };
    let mgd: MgdProcess;
    let ext: BgpSpeaker;
    let bird: BgpSpeaker;
    let gobgp: BgpSpeaker;
    /** Each iBGP peer with the link it shares with mgd and the prefixes of the other one. */
    const peers = (): { name: string; s: BgpSpeaker; link: Link; others: typeof B }[] => [
      { name: 'BIRD', s: bird, link: lb, others: G },
      { name: 'GoBGP', s: gobgp, link: lg, others: B },
    ];

    beforeAll(async () => {
      await topo.launch();
      [mgd, ext, bird, gobgp] = await Promise.all([
        startMgd(mgdNode, {
          asn: MGD_AS,
          routerId: mgdNode.loopback4,
          neighbors: [
            { address: le.a.addr4, remoteAsn: EXT_AS },
            { address: le.a.addr6, remoteAsn: EXT_AS },
            { address: lb.b.addr4, remoteAsn: MGD_AS },
            { address: lb.b.addr6, remoteAsn: MGD_AS },
            { address: lg.b.addr4, remoteAsn: MGD_AS },
            { address: lg.b.addr6, remoteAsn: MGD_AS },
          ],
          originate: { ipv4: [M.v4], ipv6: [M.v6] },
        }),
        startBird(extNode, peerOf(le, EXT_AS, [E.v4, E.v6])),
        startBird(birdNode, peerOf(lb, MGD_AS, [B.v4, B.v6])),
        startGobgp(gobgpNode, peerOf(lg, MGD_AS, [G.v4, G.v6])),
      ]);
    });
    afterAll(() => topo.destroy());

    it.sequential('eBGP and both iBGP peers Established over IPv4 and IPv6', async () => {
      await Promise.all([
        mgd.waitEstablished(),
        waitEstablished(ext),
        waitEstablished(bird),
        waitEstablished(gobgp),
      ]);
    });

    it.sequential(
      "mgd's own prefixes reach both iBGP peers with LOCAL_PREF 100 and an empty AS_PATH",
      async () => {
        for (const { name, s, link } of peers()) {
          const r4 = learned(await waitRoutes(s, 4, [M.v4]), M.v4);
          expect(r4, name).toMatchObject({ asPath: [], nextHop: link.a.addr4, localPref: 100 });
          const r6 = learned(await waitRoutes(s, 6, [M.v6]), M.v6);
          expect(r6, name).toMatchObject({ asPath: [], localPref: 100 });
          expect([link.a.addr6, link.a.linkLocal6], name).toContain(r6?.nextHop);
        }
      },
    );

    it.sequential(
      'eBGP routes reach both iBGP peers with the eBGP next hop unchanged and LOCAL_PREF 100',
      async () => {
        for (const { name, s } of peers()) {
          const r4 = learned(await waitRoutes(s, 4, [E.v4]), E.v4);
          expect(r4, name).toMatchObject({ asPath: [EXT_AS], nextHop: le.a.addr4, localPref: 100 });
          const r6 = learned(await waitRoutes(s, 6, [E.v6]), E.v6);
          expect(r6, name).toMatchObject({ asPath: [EXT_AS], localPref: 100 });
          expect([le.a.addr6, le.a.linkLocal6], name).toContain(r6?.nextHop);
        }
      },
    );

    it.sequential("the iBGP peers' routes reach mgd's kernel and the eBGP peer", async () => {
      const k4 = await mgd.waitKernel(4, [B.v4, G.v4]);
      expect(k4.find((r) => r.dst === B.v4)?.nexthops.map((h) => h.gateway)).toEqual([lb.b.addr4]);
      expect(k4.find((r) => r.dst === G.v4)?.nexthops.map((h) => h.gateway)).toEqual([lg.b.addr4]);
      const k6 = await mgd.waitKernel(6, [B.v6, G.v6]);
      expect([lb.b.addr6, lb.b.linkLocal6]).toContain(k6.find((r) => r.dst === B.v6)?.nexthops[0]?.gateway);
      expect([lg.b.addr6, lg.b.linkLocal6]).toContain(k6.find((r) => r.dst === G.v6)?.nexthops[0]?.gateway);
      const e4 = await waitRoutes(ext, 4, [B.v4, G.v4]);
      for (const p of [B.v4, G.v4])
        expect(learned(e4, p), p).toMatchObject({ asPath: [MGD_AS], nextHop: le.b.addr4 });
      const e6 = await waitRoutes(ext, 6, [B.v6, G.v6]);
      for (const p of [B.v6, G.v6]) expect(learned(e6, p)?.asPath, p).toEqual([MGD_AS]);
    });

    it.sequential('a route learned from one iBGP peer is not passed to the other', async () => {
      // mgd had both iBGP peers' routes before this (previous case); a prefix originated now goes out
      // after any UPDATE that could have carried them, so once it has arrived their absence counts.
      await mgd.setOriginate({ ipv4: [M.v4, MARK.v4], ipv6: [M.v6, MARK.v6] });
      for (const { name, s, others } of peers()) {
        const r4 = await waitRoutes(s, 4, [MARK.v4]);
        const r6 = await waitRoutes(s, 6, [MARK.v6]);
        expect(
          r4.map((r) => r.prefix),
          name,
        ).not.toContain(others.v4);
        expect(
          r6.map((r) => r.prefix),
          name,
        ).not.toContain(others.v6);
      }
    });
  });

  // ===== Graceful restart =====
  describe.concurrent('graceful restart: FRR restarts under mgd', () => {
    const topo = new Topology('mgd-gr', { keepDir });
    const mgdNode = topo.node('mgd');
    const frrNode = topo.node('frr');
    const link = topo.link(mgdNode, frrNode);
    const keep = { v4: '10.131.0.0/24', v6: '2001:db8:131::/48' };
    const drop = { v4: '10.131.1.0/24', v6: '2001:db8:131:1::/64' };
    const frrConfig = (originate: string[]) => peerOf(link, 65031, originate, { gracefulRestart: true });
    let mgd: MgdProcess;
    let frr: BgpSpeaker;

    beforeAll(async () => {
      await topo.launch();
      [mgd, frr] = await Promise.all([
        startMgd(mgdNode, {
          asn: MGD_AS,
          routerId: mgdNode.loopback4,
          neighbors: [
            { address: link.b.addr4, remoteAsn: 65031, gracefulRestart: true },
            { address: link.b.addr6, remoteAsn: 65031, gracefulRestart: true },
          ],
          originate: { ipv4: ['10.230.0.0/24'] },
        }),
        startFrr(frrNode, frrConfig([keep.v4, drop.v4, keep.v6, drop.v6])),
      ]);
    });
    afterAll(() => topo.destroy());

    it.sequential('sessions up with graceful restart negotiated; routes installed', async () => {
      await Promise.all([mgd.waitEstablished(), waitEstablished(frr)]);
      await mgd.waitKernel(4, [keep.v4, drop.v4]);
      await mgd.waitKernel(6, [keep.v6, drop.v6]);
      await waitFor(() => mgd.status().every((n) => n.state === 'Established'), {
        what: 'status written',
        timeoutMs: 2_000,
      });
    });

    it.sequential(
      "FRR's bgpd killed: mgd keeps the routes; after End-of-RIB the unannounced one goes",
      async () => {
        const mark = mgd.logs().length;
        const t0 = Date.now();
        await frr.stopDaemon({ kill: true });
        const left = await mgd.waitLog(
          (l) =>
            l.msg === 'session left Established' &&
            l['peer'] === link.b.addr4 &&
            l['gracefulRestart'] === true,
          'a session left Established with graceful restart',
          15_000,
          mark,
        );
        expect(left['reason']).toMatchObject({ kind: 'tcp-failed' });
        // The gap: FRR is away for 3 s; mgd's kernel keeps every route all along.
        const gapEnd = Date.now() + 3_000;
        let samples = 0;
        while (Date.now() < gapEnd) {
          const k4 = (await mgd.kernelRoutes(4)).map((r) => r.dst);
          const k6 = (await mgd.kernelRoutes(6)).map((r) => r.dst);
          expect(k4, 'IPv4 routes during the restart').toEqual(expect.arrayContaining([keep.v4, drop.v4]));
          expect(k6, 'IPv6 routes during the restart').toEqual(expect.arrayContaining([keep.v6, drop.v6]));
          samples++;
          await sleep(250);
        }
        expect(samples).toBeGreaterThan(3);
        expect(mgd.status().some((n) => n.state !== 'Established')).toBe(true);
        await frr.startDaemon(frrConfig([keep.v4, keep.v6]));
        await Promise.all([mgd.waitEstablished(), waitEstablished(frr)]);
        await mgd.waitKernel(4, [drop.v4], false);
        await mgd.waitKernel(6, [drop.v6], false);
        await mgd.waitKernel(4, [keep.v4]);
        await mgd.waitKernel(6, [keep.v6]);
        console.info(`[interop] graceful restart: kill to stale purge in ${Date.now() - t0} ms`);
        // The purge came with FRR's End-of-RIB, long before FRR's restart time (120 s) ran out.
        expect(
          mgd
            .logs()
            .slice(mark)
            .some((l) => l.msg === 'graceful restart timer expired: stale routes removed'),
        ).toBe(false);
        // mgd's own prefix is back at FRR.
        await waitRoutes(frr, 4, ['10.230.0.0/24']);
      },
    );
  });
});
