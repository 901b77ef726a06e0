// A rack of ddmd daemons in one process: two transit switches, four sleds, the in-memory fabric
// and a fake clock; routes land in memory FIBs through the real lower half.
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrefix6 } from '../../wire/ip/index.js';
import { Rack } from './memory-rack.js';

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
