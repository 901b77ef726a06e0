// The DDM router core (ddmd/router.ts) in an in-process rack: two transit switches, sleds,
// exchange by passing each router's outbox to its neighbours, link delays set by hand.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DdmRouter, type DdmRole } from '../../ddmd/router.js';
import { formatPrefix6, parsePrefix6, type Prefix6 } from '../../wire/ip/index.js';

const p6 = (s: string): Prefix6 => {
  const r = parsePrefix6(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

interface Link {
  a: string;
  b: string;
  up: boolean;
}

/** A rack: routers by hostname, links, and a clock. Interface ids are the neighbour's name. */
class Rack {
  routers = new Map<string, DdmRouter>();
  links: Link[] = [];
  now = 0;
  add(name: string, role: DdmRole): DdmRouter {
    const r = new DdmRouter(name, role, undefined, 1000);
    this.routers.set(name, r);
    return r;
  }
  get(name: string): DdmRouter {
    return this.routers.get(name)!;
  }
  link(a: string, b: string, delayUs = 50): void {
    this.links.push({ a, b, up: true });
    const ra = this.get(a);
    const rb = this.get(b);
    ra.peerUp({ id: b, hostname: b, kind: rb.role, addr: `fe80::${b}` });
    rb.peerUp({ id: a, hostname: a, kind: ra.role, addr: `fe80::${a}` });
    ra.setLinkDelay(b, delayUs);
    rb.setLinkDelay(a, delayUs);
    // A new session starts with a full pull in each direction.
    ra.learn(
      b,
      { underlay: { announce: rb.pull(a, this.now).underlay ?? [], withdraw: [] } },
      ra.beginPull(b),
    );
    rb.learn(
      a,
      { underlay: { announce: ra.pull(b, this.now).underlay ?? [], withdraw: [] } },
      rb.beginPull(a),
    );
  }
  cut(a: string, b: string): void {
    this.get(a).peerDown(b);
    this.get(b).peerDown(a);
  }
  delay(a: string, b: string, us: number): void {
    this.get(a).setLinkDelay(b, us);
    this.get(b).setLinkDelay(a, us);
  }
  /** Exchange until quiet; returns the number of updates sent. */
  converge(maxRounds = 50): number {
    let sent = 0;
    for (let round = 0; round < maxRounds; round++) {
      let any = false;
      for (const [name, r] of this.routers) {
        for (const [peer, update] of r.outbox(this.now)) {
          this.get(peer).learn(name, update);
          sent++;
          any = true;
        }
      }
      if (!any) return sent;
      this.now += 10;
    }
    throw new Error(`no convergence after ${maxRounds} rounds`);
  }
  nextHops(at: string, dest: string): Record<string, number> {
    const r = this.get(at)
      .routes()
      .find((x) => formatPrefix6(x.prefix) === dest);
    return Object.fromEntries((r?.nextHops ?? []).map((n) => [n.peer, n.weight]));
  }
}

/** Fail when, for some destination, following installed next hops can return to a router. */
function expectNoForwardingLoop(k: Rack): void {
  const dests = new Set<string>();
  for (const r of k.routers.values()) for (const route of r.routes()) dests.add(formatPrefix6(route.prefix));
  for (const d of dests) {
    const edges = new Map<string, string[]>();
    for (const [name, r] of k.routers) {
      const route = r.routes().find((x) => formatPrefix6(x.prefix) === d);
      edges.set(
        name,
        (route?.nextHops ?? []).map((n) => n.peer),
      );
    }
    const state = new Map<string, 'open' | 'done'>();
    const visit = (n: string, trail: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') throw new Error(`forwarding loop for ${d}: ${[...trail, n].join(' -> ')}`);
      state.set(n, 'open');
      for (const m of edges.get(n) ?? []) visit(m, [...trail, n]);
      state.set(n, 'done');
    };
    for (const n of edges.keys()) visit(n, []);
  }
}

function rack(sleds: number, opts: { crossLink?: boolean } = {}): Rack {
  const k = new Rack();
  k.add('sw0', 'transit');
  k.add('sw1', 'transit');
  for (let i = 0; i < sleds; i++) {
    const s = k.add(`sled${i}`, 'server');
    s.originate(p6(`fd00:${i + 1}::/64`));
  }
  for (let i = 0; i < sleds; i++) {
    k.link(`sled${i}`, 'sw0');
    k.link(`sled${i}`, 'sw1');
  }
  if (opts.crossLink === true) k.link('sw0', 'sw1');
  k.converge();
  return k;
}

describe('DDM router in a rack', () => {
  it('every sled learns every other sled via both switches, evenly weighted', () => {
    const k = rack(4);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        if (i === j) continue;
        expect(k.nextHops(`sled${i}`, `fd00:${j + 1}::/64`)).toEqual({ sw0: 100, sw1: 100 });
      }
      // A sled never installs a route to its own prefix.
      expect(k.nextHops(`sled${i}`, `fd00:${i + 1}::/64`)).toEqual({});
    }
  });

  it('congestion on one switch link shifts weight away from it, and back when it clears', () => {
    const k = rack(4);
    k.delay('sled1', 'sw0', 37_500);
    k.now += 1000;
    k.converge();
    const w = k.nextHops('sled0', 'fd00:2::/64');
    expect(w.sw1).toBe(100);
    expect(w.sw0).toBeLessThan(10);
    k.delay('sled1', 'sw0', 60);
    k.now += 1000;
    k.converge();
    expect(k.nextHops('sled0', 'fd00:2::/64')).toEqual({ sw0: 100, sw1: 100 });
  });

  it('small delay noise is not re-advertised', () => {
    const k = rack(2);
    let sent = 0;
    for (let i = 0; i < 20; i++) {
      k.delay('sled1', 'sw0', 50 + (i % 3) * 20);
      k.now += 1000;
      sent += k.converge();
    }
    expect(sent).toBe(0);
  });

  it('cutting a sled-switch link removes that next hop everywhere; restoring brings it back', () => {
    const k = rack(4);
    k.cut('sled2', 'sw1');
    k.converge();
    for (const s of ['sled0', 'sled1', 'sled3'])
      expect(Object.keys(k.nextHops(s, 'fd00:3::/64'))).toEqual(['sw0']);
    k.link('sled2', 'sw1');
    k.converge();
    for (const s of ['sled0', 'sled1', 'sled3'])
      expect(k.nextHops(s, 'fd00:3::/64')).toEqual({ sw0: 100, sw1: 100 });
  });

  it('a cable between the switches makes no loop and the exchange goes quiet', () => {
    const k = rack(4, { crossLink: true });
    for (const r of k.routers.values()) {
      for (const route of r.routes())
        for (const nh of route.nextHops) expect(nh.path).not.toContain(r.hostname);
    }
    // Switches keep their direct path as the best; sleds still see both switches.
    expect(k.nextHops('sled0', 'fd00:2::/64')).toEqual({ sw0: 100, sw1: 100 });
    k.cut('sled1', 'sw0');
    k.converge();
    // sw0 now reaches sled1 through sw1, so sleds keep both next hops, sw0's with more delay.
    const w = k.nextHops('sled0', 'fd00:2::/64');
    expect(Object.keys(w).sort()).toEqual(['sw0', 'sw1']);
    expect(k.converge()).toBe(0);
    expectNoForwardingLoop(k);
  });

  it('a pull snapshot older than a push neither undoes the push nor resurrects a withdrawal', () => {
    const r = new DdmRouter('sled0', 'server', undefined, 1);
    r.peerUp({ id: 'eth0', hostname: 'sw0', kind: 'transit', addr: 'fe80::1' });
    r.setLinkDelay('eth0', 10);
    const pv = (n: number) => ({
      destination: { addr: `fd00:${n}::`, len: 64 },
      path: [`sled${n}`, 'sw0'],
      delay: 5,
    });
    r.learn('eth0', { underlay: { announce: [pv(7)], withdraw: [] } });
    const token = r.beginPull('eth0');
    // While the pull is in flight, a push announces fd00:2 and withdraws fd00:7.
    r.learn('eth0', { underlay: { announce: [pv(2)], withdraw: [pv(7)] } });
    // The snapshot was taken before that push: it has fd00:3 and the withdrawn fd00:7, not fd00:2.
    r.learn('eth0', { underlay: { announce: [pv(3), pv(7)], withdraw: [] } }, token);
    expect(r.routes().map((x) => formatPrefix6(x.prefix))).toEqual(['fd00:2::/64', 'fd00:3::/64']);
    // A later pull is the whole truth again.
    r.learn('eth0', { underlay: { announce: [pv(3)], withdraw: [] } }, r.beginPull('eth0'));
    expect(r.routes().map((x) => formatPrefix6(x.prefix))).toEqual(['fd00:3::/64']);
  });

  it('drops a received path that already contains its own hostname', () => {
    const r = new DdmRouter('sw0', 'transit', undefined, 1);
    r.peerUp({ id: 'if0', hostname: 'sw1', kind: 'transit', addr: 'fe80::1' });
    r.setLinkDelay('if0', 10);
    const res = r.learn('if0', {
      underlay: {
        announce: [
          { destination: { addr: 'fd00:9::', len: 64 }, path: ['sled9', 'sw0', 'sw1'], delay: 5 },
          { destination: { addr: 'fd00:8::', len: 64 }, path: ['sled8', 'sw1'], delay: 5 },
        ],
        withdraw: [],
      },
    });
    expect(res.loops).toBe(1);
    expect(r.routes().map((x) => formatPrefix6(x.prefix))).toEqual(['fd00:8::/64']);
  });

  it('property: in a ring of switches, no installed path contains the router itself and no forwarding loop forms, whatever the delays and cuts', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('sw0', 'sw1', 'sw2'),
            fc.constantFrom('sw0', 'sw1', 'sw2', 'sled0', 'sled1'),
            fc.integer({ min: 10, max: 100_000 }),
            fc.boolean(),
          ),
          { maxLength: 10 },
        ),
        (ops) => {
          const k = new Rack();
          for (const sw of ['sw0', 'sw1', 'sw2']) k.add(sw, 'transit');
          k.add('sled0', 'server').originate(p6('fd00:1::/64'));
          k.add('sled1', 'server').originate(p6('fd00:2::/64'));
          k.link('sw0', 'sw1');
          k.link('sw1', 'sw2');
          k.link('sw2', 'sw0');
          k.link('sled0', 'sw0');
          k.link('sled1', 'sw2');
          k.converge();
          for (const [a, b, d, cut] of ops) {
            if (a === b) continue;
            const linked = k
              .get(a)
              .peerList()
              .some((p) => p.id === b);
            if (cut && linked) k.cut(a, b);
            else if (!linked) k.link(a, b, d);
            else k.delay(a, b, d);
            k.now += 1000;
            k.converge();
            for (const r of k.routers.values()) {
              for (const route of r.routes())
                for (const nh of route.nextHops) expect(nh.path).not.toContain(r.hostname);
            }
            expectNoForwardingLoop(k);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('property: no installed path contains the router itself, whatever the delays and cuts', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 3 }),
            fc.boolean(),
            fc.integer({ min: 10, max: 100_000 }),
            fc.boolean(),
          ),
          { maxLength: 12 },
        ),
        (ops) => {
          const k = rack(4, { crossLink: true });
          for (const [i, toSw0, d, cut] of ops) {
            const sled = `sled${i}`;
            const sw = toSw0 ? 'sw0' : 'sw1';
            if (cut) k.cut(sled, sw);
            else if (
              !k
                .get(sled)
                .peerList()
                .some((p) => p.id === sw)
            )
              k.link(sled, sw, d);
            else k.delay(sled, sw, d);
            k.now += 1000;
            k.converge();
          }
          for (const r of k.routers.values()) {
            for (const route of r.routes()) {
              for (const nh of route.nextHops) {
                expect(nh.path).not.toContain(r.hostname);
                expect(nh.weight).toBeGreaterThan(0);
              }
              const best = Math.min(...route.nextHops.map((n) => n.delayUs ?? Infinity));
              const bestW = route.nextHops.find((n) => (n.delayUs ?? Infinity) === best)!.weight;
              for (const nh of route.nextHops) expect(bestW).toBeGreaterThanOrEqual(nh.weight);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
