// A rack of ddmd daemons in one process: two transit switches, four sleds, the in-memory fabric
// and a fake clock; routes land in memory FIBs through the real lower half.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { DdmDaemon } from '../../ddmd/daemon.js';
import { MemoryFabric } from '../../ddmd/io.js';
import { MemoryFib } from '../../rib/fib/memory.js';
import { formatAfPrefix, formatNextHop } from '../../rib/types.js';
import { parsePrefix6 } from '../../wire/ip/index.js';

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

interface Node {
  d: DdmDaemon;
  fib: MemoryFib;
}

class Rack {
  clock = new FakeClock(1000);
  fabric = new MemoryFabric(this.clock);
  nodes = new Map<string, Node>();
  async build(sleds: number): Promise<void> {
    const ifs = new Map<string, { name: string; addr: string }[]>();
    const addIf = (node: string, name: string, addr: string) => {
      const l = ifs.get(node) ?? [];
      l.push({ name, addr });
      ifs.set(node, l);
    };
    for (let i = 0; i < sleds; i++) {
      for (const [j, sw] of ['sw0', 'sw1'].entries()) {
        const sledIf = { node: `sled${i}`, ifname: `eth${j}`, addr: `fe80::${i + 1}:${j + 1}` };
        const swIf = { node: sw, ifname: `p${i}`, addr: `fe80::${(j + 1) * 100}:${i + 1}` };
        this.fabric.link(sledIf, swIf);
        addIf(sledIf.node, sledIf.ifname, sledIf.addr);
        addIf(swIf.node, swIf.ifname, swIf.addr);
      }
    }
    for (const [name, list] of ifs) {
      const fib = new MemoryFib();
      const d = new DdmDaemon({
        hostname: name,
        role: name.startsWith('sw') ? 'transit' : 'server',
        interfaces: list,
        clock: this.clock,
        datagrams: this.fabric.datagrams(name),
        exchange: this.fabric.exchange(name),
        fib,
        fibScanMs: 0,
      });
      this.nodes.set(name, { d, fib });
    }
    for (const n of this.nodes.values()) await n.d.start();
    for (let i = 0; i < sleds; i++) {
      const p = parsePrefix6(`fd00:${i + 1}::/64`);
      if (p.ok) this.node(`sled${i}`).d.originate([p.value]);
    }
  }
  node(n: string): Node {
    return this.nodes.get(n)!;
  }
  async run(ms: number, step = 10): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      this.clock.advance(step);
      await settle();
    }
  }
  async fibRoutes(n: string): Promise<Record<string, string[]>> {
    const routes = await this.node(n).fib.list();
    return Object.fromEntries(routes.map((r) => [formatAfPrefix(r), r.nexthops.map(formatNextHop).sort()]));
  }
  async stop(): Promise<void> {
    for (const n of this.nodes.values()) await n.d.stop();
  }
}

let rack: Rack | undefined;
afterEach(async () => {
  await rack?.stop();
  rack = undefined;
});

describe('ddmd rack in memory', () => {
  it('every sled learns every other sled through both switches and installs the routes', async () => {
    rack = new Rack();
    await rack.build(4);
    await rack.run(3000);
    const fib = await rack.fibRoutes('sled0');
    expect(Object.keys(fib).sort()).toEqual(['fd00:2::/64', 'fd00:3::/64', 'fd00:4::/64']);
    expect(fib['fd00:2::/64']).toEqual(['fe80::100:1%eth0 weight 100', 'fe80::200:1%eth1 weight 100']);
    // Switches reach each sled directly.
    expect((await rack.fibRoutes('sw0'))['fd00:3::/64']).toEqual(['fe80::3:1%p2 weight 100']);
    const peers = rack.node('sled0').d.peers();
    expect(peers.map((p) => [p.ifname, p.state, p.hostname])).toEqual([
      ['eth0', 'exchange', 'sw0'],
      ['eth1', 'exchange', 'sw1'],
    ]);
  });

  it('congestion on one sled link shifts other sleds towards the other switch', async () => {
    rack = new Rack();
    await rack.build(4);
    await rack.run(3000);
    rack.fabric.setLink('sled1', 'eth0', { delayMs: 40 });
    rack.fabric.setLink('sw0', 'p1', { delayMs: 40 });
    await rack.run(3000);
    const route = rack
      .node('sled0')
      .d.routes()
      .find((r) => r.prefix.toString() === 'fd00:2::/64')!;
    const w = Object.fromEntries(route.nextHops.map((n) => [n.peer, n.weight]));
    expect(w.eth1).toBe(100);
    expect(w.eth0).toBeLessThan(10);
    rack.fabric.setLink('sled1', 'eth0', { delayMs: 0.05 });
    rack.fabric.setLink('sw0', 'p1', { delayMs: 0.05 });
    await rack.run(5000);
    const back = rack
      .node('sled0')
      .d.routes()
      .find((r) => r.prefix.toString() === 'fd00:2::/64')!;
    expect(back.nextHops.map((n) => n.weight)).toEqual([100, 100]);
  });

  it('a cut sled-switch link disappears from every sled within a second and comes back', async () => {
    rack = new Rack();
    await rack.build(4);
    await rack.run(3000);
    rack.fabric.setLink('sled2', 'eth1', { up: false });
    await rack.run(1000);
    expect((await rack.fibRoutes('sled0'))['fd00:3::/64']).toEqual(['fe80::100:1%eth0 weight 100']);
    expect((await rack.fibRoutes('sled3'))['fd00:3::/64']).toEqual(['fe80::100:4%eth0 weight 100']);
    rack.fabric.setLink('sled2', 'eth1', { up: true });
    await rack.run(1000);
    expect((await rack.fibRoutes('sled0'))['fd00:3::/64']).toEqual([
      'fe80::100:1%eth0 weight 100',
      'fe80::200:1%eth1 weight 100',
    ]);
  });

  it('withdrawing an originated prefix removes it everywhere', async () => {
    rack = new Rack();
    await rack.build(2);
    await rack.run(3000);
    const p = parsePrefix6('fd00:2::/64');
    if (p.ok) rack.node('sled1').d.withdraw([p.value]);
    await rack.run(200);
    expect(await rack.fibRoutes('sled0')).toEqual({});
  });
});
