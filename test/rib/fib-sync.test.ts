// The FIB synchroniser against the memory backend: reconcile on start, incremental batches,
// refused routes reported and retried with backoff, drift repair, stop with and without flush.

import { describe, expect, it } from 'vitest';
import { FibSync, MemoryFib, formatAfPrefix, hopsMatch, type FibRoute } from '../../rib/index.js';
import { a4, makeRib, p4 } from './gen.js';
import { formatPrefix } from '../../wire/ip/index.js';

const hop = (s: string): { addr: number } => ({ addr: a4(s) });

function tableText(fib: MemoryFib): string[] {
  return [...fib.routes.values()]
    .map((r) => `${formatAfPrefix(r)} ${r.nexthops.map((h) => h.addr).join(',')}`)
    .sort();
}

function ribText(rib: ReturnType<typeof makeRib>['rib']): string[] {
  return [...rib.routes()]
    .map((r) => `${formatPrefix(r.prefix)} ${r.nexthops.map((h) => h.addr).join(',')}`)
    .sort();
}

describe('FibSync with the memory backend', () => {
  it('reconciles on start: removes stale routes it owns, installs missing ones, leaves equal ones', async () => {
    const { rib } = makeRib();
    rib.addPath(p4('198.51.100.0/24'), { source: 'static', nexthops: [hop('10.0.0.1')] });
    rib.addPath(p4('203.0.113.0/24'), { source: 'static', nexthops: [hop('10.0.0.2')] });
    const fib = new MemoryFib();
    const kept: FibRoute = { afi: 4, prefix: p4('198.51.100.0/24'), nexthops: [hop('10.0.0.1')] };
    fib.routes.set(kept.prefix, kept);
    fib.routes.set(p4('192.0.2.0/24'), { afi: 4, prefix: p4('192.0.2.0/24'), nexthops: [hop('10.0.0.3')] });
    const sync = new FibSync(rib, fib, { scanMs: 0 });
    await sync.start();
    expect(tableText(fib)).toEqual(ribText(rib));
    expect(fib.routes.get(kept.prefix)).toBe(kept);
    expect(fib.applied).toBe(2);
    await sync.stop();
  });

  it('follows RIB changes in batches', async () => {
    const { rib } = makeRib();
    const fib = new MemoryFib();
    const sync = new FibSync(rib, fib, { scanMs: 0, batchSize: 100 });
    await sync.start();
    rib.batch(() => {
      for (let i = 0; i < 1000; i++) {
        rib.addPath((a4('100.0.0.0') * 64 + i * 256 * 64 + 24) as never, {
          source: 'static',
          nexthops: [hop('10.0.0.1')],
        });
      }
    });
    await sync.settled();
    expect(fib.routes.size).toBe(1000);
    expect(fib.batches).toBeGreaterThanOrEqual(10);
    expect(fib.batches).toBeLessThan(20);
    rib.setNextHopState(hop('10.0.0.1'), false);
    await sync.settled();
    expect(fib.routes.size).toBe(0);
    await sync.stop();
  });

  it('reports a refused route, keeps installing the others, and retries with backoff', async () => {
    const { rib } = makeRib();
    let refuse = true;
    const fib = new MemoryFib((r) =>
      refuse && r.nexthops.some((h) => h.addr === a4('10.0.0.3')) ? 'Nexthop has invalid gateway' : undefined,
    );
    const sync = new FibSync(rib, fib, { scanMs: 0, retryBaseMs: 20, retryMaxMs: 40 });
    await sync.start();
    rib.batch(() => {
      rib.addPath(p4('198.51.100.0/24'), { source: 'static', nexthops: [hop('10.0.0.3')] });
      rib.addPath(p4('203.0.113.0/24'), { source: 'static', nexthops: [hop('10.0.0.2')] });
    });
    await sync.settled();
    expect(fib.routes.has(p4('203.0.113.0/24'))).toBe(true);
    expect(fib.routes.has(p4('198.51.100.0/24'))).toBe(false);
    expect(sync.errors()).toMatchObject([
      { prefix: '198.51.100.0/24', error: 'Nexthop has invalid gateway' },
    ]);
    expect(sync.counters.refused).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    await sync.settled();
    const attempts = sync.errors()[0]!.attempts;
    expect(attempts).toBeGreaterThanOrEqual(3);
    refuse = false;
    await new Promise((r) => setTimeout(r, 100));
    await sync.settled();
    expect(sync.errors()).toEqual([]);
    expect(tableText(fib)).toEqual(ribText(rib));
    await sync.stop();
  });

  it('a periodic full diff repairs drift', async () => {
    const { rib } = makeRib();
    rib.addPath(p4('198.51.100.0/24'), { source: 'static', nexthops: [hop('10.0.0.1')] });
    const fib = new MemoryFib();
    const sync = new FibSync(rib, fib, { scanMs: 30 });
    await sync.start();
    fib.routes.delete(p4('198.51.100.0/24'));
    fib.routes.set(p4('192.0.2.0/24'), { afi: 4, prefix: p4('192.0.2.0/24'), nexthops: [hop('10.0.0.3')] });
    await new Promise((r) => setTimeout(r, 100));
    await sync.settled();
    expect(tableText(fib)).toEqual(ribText(rib));
    expect(sync.counters.repaired).toBeGreaterThanOrEqual(2);
    await sync.stop();
  });

  it('leaves routes in place on stop, removes them with flush', async () => {
    const { rib } = makeRib();
    rib.addPath(p4('198.51.100.0/24'), { source: 'static', nexthops: [hop('10.0.0.1')] });
    const fib = new MemoryFib();
    const s1 = new FibSync(rib, fib, { scanMs: 0 });
    await s1.start();
    await s1.stop();
    expect(fib.routes.size).toBe(1);
    const s2 = new FibSync(rib, fib, { scanMs: 0 });
    await s2.start();
    await s2.stop({ flush: true });
    expect(fib.routes.size).toBe(0);
  });

  it('matches kernel next hops by address, weight (multipath only) and named interface', () => {
    const want = [{ addr: a4('10.0.0.1'), weight: 3 }, { addr: a4('10.0.0.2') }];
    expect(
      hopsMatch(want, [
        { addr: a4('10.0.0.2'), ifname: 'eth0', weight: 1 },
        { addr: a4('10.0.0.1'), ifname: 'eth0', weight: 3 },
      ]),
    ).toBe(true);
    expect(
      hopsMatch(want, [
        { addr: a4('10.0.0.2'), weight: 1 },
        { addr: a4('10.0.0.1'), weight: 1 },
      ]),
    ).toBe(false);
    expect(hopsMatch([{ addr: a4('10.0.0.1'), weight: 5 }], [{ addr: a4('10.0.0.1'), ifname: 'eth0' }])).toBe(
      true,
    );
    expect(
      hopsMatch([{ addr: a4('10.0.0.1'), ifname: 'eth1' }], [{ addr: a4('10.0.0.1'), ifname: 'eth0' }]),
    ).toBe(false);
  });

  it('applies changes that arrive while a batch is in the backend without waiting for another event', async () => {
    const { rib } = makeRib();
    const fib = new MemoryFib();
    const plain = fib.apply.bind(fib);
    // A backend that takes 30 ms per batch, as the kernel does for a large one.
    fib.apply = async (ops) => {
      await new Promise((r) => setTimeout(r, 30));
      return plain(ops);
    };
    const sync = new FibSync(rib, fib, { scanMs: 0 });
    await sync.start();
    rib.addPath(p4('198.51.100.0/24'), { source: 'static', nexthops: [hop('10.0.0.1')] });
    await new Promise((r) => setTimeout(r, 10));
    rib.addPath(p4('203.0.113.0/24'), { source: 'static', nexthops: [hop('10.0.0.2')] });
    // No settled() here: it would kick the synchroniser itself.
    await new Promise((r) => setTimeout(r, 150));
    expect(tableText(fib)).toEqual(ribText(rib));
    await sync.stop();
  });
});
