// The FIB synchroniser against the memory backend: reconcile on start, incremental batches,
// refused routes reported and retried with backoff, drift repair, stop with and without flush,
// and the start-up grace period of a graceful restart (routes kept until relearned or expired).

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

  describe('start-up grace period (graceful restart)', () => {
    const A = p4('198.51.100.0/24');
    const B = p4('203.0.113.0/24');
    const C = p4('100.64.0.0/16');

    /** A table left behind by a synchroniser stopped without flush, and a fresh (empty) RIB. */
    async function leftBehind(): Promise<{ fib: MemoryFib; rib: ReturnType<typeof makeRib>['rib'] }> {
      const old = makeRib().rib;
      old.addPath(A, { source: 'static', nexthops: [hop('10.0.0.1')] });
      old.addPath(B, { source: 'static', nexthops: [hop('10.0.0.2')] });
      old.addPath(C, { source: 'static', nexthops: [hop('10.0.0.3')] });
      const fib = new MemoryFib();
      const s1 = new FibSync(old, fib, { scanMs: 0 });
      await s1.start();
      await s1.stop();
      expect(fib.routes.size).toBe(3);
      return { fib, rib: makeRib().rib };
    }

    it('keeps the routes it finds while the RIB relearns them, then removes the rest when the period ends', async () => {
      const { fib, rib } = await leftBehind();
      const sync = new FibSync(rib, fib, { scanMs: 0, startupGraceMs: 150 });
      await sync.start();
      expect(sync.inGracePeriod).toBe(true);
      expect(fib.routes.size).toBe(3);
      expect(fib.applied).toBe(3);
      expect(sync.counters.adopted).toBe(3);
      // Relearned as before, relearned over another next hop; C is never relearned.
      const sameA = fib.routes.get(A);
      rib.addPath(A, { source: 'static', nexthops: [hop('10.0.0.1')] });
      rib.addPath(B, { source: 'static', nexthops: [hop('10.0.0.9')] });
      // A route this run installs and the RIB withdraws again goes at once, grace or not: only
      // what the previous run left is kept.
      const D = p4('192.0.2.0/24');
      rib.addPath(D, { source: 'static', nexthops: [hop('10.0.0.4')] });
      await sync.settled();
      expect(fib.routes.has(D)).toBe(true);
      rib.removePath(D, 'static');
      await sync.settled();
      expect(fib.routes.get(A)).toBe(sameA);
      expect(tableText(fib)).toEqual([
        '100.64.0.0/16 ' + a4('10.0.0.3'),
        '198.51.100.0/24 ' + a4('10.0.0.1'),
        '203.0.113.0/24 ' + a4('10.0.0.9'),
      ]);
      expect(sync.counters.removed).toBe(1);
      await new Promise((r) => setTimeout(r, 250));
      await sync.settled();
      expect(sync.inGracePeriod).toBe(false);
      expect(tableText(fib)).toEqual(ribText(rib));
      expect(fib.routes.has(C)).toBe(false);
      expect(fib.routes.has(D)).toBe(false);
      expect(sync.counters.removed).toBe(2);
      // After the period a withdrawal is applied at once again.
      rib.removePath(B, 'static');
      await sync.settled();
      expect(fib.routes.has(B)).toBe(false);
      await sync.stop();
    });

    it('ready() ends the period early; a periodic scan in the period deletes nothing', async () => {
      const { fib, rib } = await leftBehind();
      const sync = new FibSync(rib, fib, { scanMs: 20, startupGraceMs: 60_000 });
      await sync.start();
      rib.addPath(A, { source: 'static', nexthops: [hop('10.0.0.1')] });
      await new Promise((r) => setTimeout(r, 80));
      await sync.settled();
      expect(sync.counters.scans).toBeGreaterThanOrEqual(2);
      expect(fib.routes.size).toBe(3);
      await sync.ready();
      expect(sync.inGracePeriod).toBe(false);
      expect(tableText(fib)).toEqual(ribText(rib));
      await sync.stop();
    });

    it('without the option (or after ready() before start) reconciles at once', async () => {
      const { fib, rib } = await leftBehind();
      rib.addPath(A, { source: 'static', nexthops: [hop('10.0.0.1')] });
      const sync = new FibSync(rib, fib, { scanMs: 0, startupGraceMs: 60_000 });
      await sync.ready();
      await sync.start();
      expect(sync.inGracePeriod).toBe(false);
      expect(tableText(fib)).toEqual(ribText(rib));
      await sync.stop();
      fib.routes.set(C, { afi: 4, prefix: C, nexthops: [hop('10.0.0.3')] });
      const plain = new FibSync(rib, fib, { scanMs: 0 });
      await plain.start();
      expect(plain.counters.adopted).toBe(0);
      expect(fib.routes.has(C)).toBe(false);
      await plain.stop();
    });
  });
});
