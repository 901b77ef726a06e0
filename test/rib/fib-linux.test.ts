// The lower half against a real Linux kernel in a network namespace (test/topo): a model-based
// run of random adds, withdrawals, BFD changes and synchroniser restarts, after each of which the
// kernel's proto-199 routes must equal the RIB's selected routes exactly and routes of other
// protocols must be untouched; drift repair after `ip route del`; refused routes reported
// without blocking the others; a graceful restart's start-up grace period (routes left in the
// table survive while a fresh RIB relearns them, the rest go when the period ends).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FibSync,
  LinuxConnectedRoutes,
  LinuxFib,
  MemoryConnectedRoutes,
  RT_PROTO_LODESTONE,
  Rib,
  formatAfPrefix,
  formatNextHopAddr,
  type FibOp,
  type FibRoute,
  type NextHop,
  type PathInput,
} from '../../rib/index.js';
import { Topology, requireRoot, waitFor, type Link, type Node } from '../topo/index.js';
import { parseAddr4, parseAddr6, parsePrefix, prefix4, type Prefix } from '../../wire/ip/index.js';

const skip = requireRoot();
if (skip !== null) console.warn(`[rib] skipping kernel FIB tests: ${skip}`);

function addr(s: string): NextHop['addr'] {
  const r = s.includes(':') ? parseAddr6(s) : parseAddr4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function pfx(s: string): Prefix {
  const r = parsePrefix(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** Canonical text of a route: prefix, then next hops sorted; weights only for multipath. */
function routeText(r: FibRoute): string {
  const multi = r.nexthops.length > 1;
  const hops = r.nexthops
    .map((h) => {
      const ll = typeof h.addr !== 'number' && h.addr.isLinkLocal();
      return `${formatNextHopAddr(h)}${ll ? `%${h.ifname}` : ''}${multi ? `*${h.weight ?? 1}` : ''}`;
    })
    .sort();
  return `${formatAfPrefix(r)} ${hops.join(',')}`;
}

function ribTable(rib: Rib): string[] {
  return [...rib.routes()].map((r) => routeText({ ...r } as FibRoute)).sort();
}

async function kernelTable(fib: LinuxFib): Promise<string[]> {
  return (await fib.list()).map(routeText).sort();
}

describe.skipIf(skip !== null)('lower half on a Linux kernel', () => {
  const topo = new Topology('ribfib');
  const a: Node = topo.node('a');
  const b: Node = topo.node('b');
  const l: Link = topo.link(a, b);
  let prefix: string[] = [];
  let foreign = '';

  const foreignRoutes = async (): Promise<string> =>
    (await a.run(['ip', '-j', 'route', 'show', 'proto', 'static'])) +
    (await a.run(['ip', '-j', 'route', 'show', 'proto', 'boot'])) +
    (await a.run(['ip', '-j', '-6', 'route', 'show', 'proto', 'static']));

  beforeAll(async () => {
    await topo.launch();
    prefix = a.nsArgv([]);
    const dev = l.a.ifname;
    await a.run(['ip', 'addr', 'add', '10.77.0.1/24', 'dev', dev]);
    await a.run(['ip', '-6', 'addr', 'add', 'fd77::1/64', 'dev', dev, 'nodad']);
    // Routes of other protocols, which must survive everything below.
    await a.run(['ip', 'route', 'add', '198.18.0.0/24', 'via', '10.77.0.9', 'proto', 'static']);
    await a.run(['ip', 'route', 'add', '198.18.1.0/24', 'via', '10.77.0.9']);
    await a.run(['ip', 'route', 'add', '192.0.2.0/24', 'via', '10.77.0.9', 'proto', 'static']);
    await a.run(['ip', '-6', 'route', 'add', 'fd99::/64', 'via', 'fd77::9', 'proto', 'static']);
    foreign = await foreignRoutes();
    expect(foreign).toContain('198.18.0.0/24');
  });
  afterAll(() => topo.destroy());

  it(`model run: kernel proto ${RT_PROTO_LODESTONE} routes equal the RIB after adds, withdrawals, BFD flaps and restarts`, async () => {
    const dev = l.a.ifname;
    const V4 = [
      '203.0.113.0/24',
      '198.51.100.0/24',
      '100.64.0.0/16',
      '100.64.1.0/24',
      '0.0.0.0/0',
      '10.77.0.128/25',
    ];
    const V6 = ['2001:db8:1::/48', '2001:db8:2::/64', '::/0'];
    const HOPS4: NextHop[] = ['10.77.0.2', '10.77.0.3', '10.77.0.4', '10.88.0.1'].map((s) => ({
      addr: addr(s),
    }));
    const HOPS6: NextHop[] = [
      { addr: addr('fd77::2') },
      { addr: addr(l.b.linkLocal6), ifname: dev },
      { addr: addr('fd77::3') },
      { addr: addr('fd88::1') },
    ];

    interface Real {
      rib: Rib;
      fib: LinuxFib;
      sync: FibSync;
    }
    type Cmd = fc.AsyncCommand<object, Real>;

    // What the checks saw, so the run proves it exercised more than empty tables.
    const seen = { routes: 0, multipath: 0, weighted: 0, v6: 0, linkLocal: 0 };
    const check = async (r: Real): Promise<void> => {
      await r.sync.settled();
      const have = await kernelTable(r.fib);
      expect(have).toEqual(ribTable(r.rib));
      expect(await foreignRoutes()).toEqual(foreign);
      for (const line of have) {
        seen.routes++;
        if (line.includes(',')) seen.multipath++;
        if (/\*[2-4]/.test(line)) seen.weighted++;
        if (line.includes(':')) seen.v6++;
        if (line.includes('%')) seen.linkLocal++;
      }
    };

    class Add implements Cmd {
      constructor(
        readonly prefix: string,
        readonly source: string,
        readonly hops: NextHop[],
        readonly lp: number,
      ) {}
      check = (): boolean => true;
      async run(_m: object, r: Real): Promise<void> {
        const input: PathInput = {
          source: this.source,
          nexthops: this.hops,
          ...(this.source === 'static' ? {} : { attrs: { origin: 0, asPath: [], localPref: this.lp } }),
        };
        r.rib.addPath(pfx(this.prefix), input);
        await check(r);
      }
      toString = (): string =>
        `add ${this.prefix} ${this.source} ${this.hops.map((h) => formatNextHopAddr(h) + (h.weight ? `*${h.weight}` : '')).join('+')} lp${this.lp}`;
    }
    class Remove implements Cmd {
      constructor(
        readonly prefix: string,
        readonly source: string,
      ) {}
      check = (): boolean => true;
      async run(_m: object, r: Real): Promise<void> {
        r.rib.removePath(pfx(this.prefix), this.source);
        await check(r);
      }
      toString = (): string => `remove ${this.prefix} ${this.source}`;
    }
    class Bfd implements Cmd {
      constructor(
        readonly hop: NextHop,
        readonly up: boolean,
      ) {}
      check = (): boolean => true;
      async run(_m: object, r: Real): Promise<void> {
        r.rib.setNextHopState(this.hop, this.up);
        await check(r);
      }
      toString = (): string => `bfd ${formatNextHopAddr(this.hop)} ${this.up ? 'up' : 'down'}`;
    }
    class Restart implements Cmd {
      constructor(readonly flush: boolean) {}
      check = (): boolean => true;
      async run(_m: object, r: Real): Promise<void> {
        await r.sync.stop({ flush: this.flush });
        if (!this.flush) expect((await r.fib.list()).length).toBe(ribTable(r.rib).length);
        else expect(await r.fib.list()).toEqual([]);
        r.sync = new FibSync(r.rib, r.fib, { scanMs: 0 });
        await r.sync.start();
        await check(r);
      }
      toString = (): string => `restart sync${this.flush ? ' (flush)' : ''}`;
    }

    const arbHops = (pool: NextHop[], weighted: boolean): fc.Arbitrary<NextHop[]> =>
      fc
        .uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 3 })
        .chain((hs) =>
          weighted
            ? fc
                .tuple(...hs.map(() => fc.integer({ min: 1, max: 4 })))
                .map((ws) => hs.map((h, i) => ({ ...h, weight: ws[i]! })))
            : fc.constant(hs.slice(0, 1)),
        );
    const arbAdd = (prefixes: string[], pool: NextHop[]): fc.Arbitrary<Cmd> =>
      fc.oneof(
        fc
          .tuple(fc.constantFrom(...prefixes), arbHops(pool, true))
          .map(([p, h]) => new Add(p, 'static', h, 100)),
        fc
          .tuple(
            fc.constantFrom(...prefixes),
            fc.constantFrom('bgp:a', 'bgp:b'),
            arbHops(pool, false),
            fc.constantFrom(100, 200),
          )
          .map(([p, s, h, lp]) => new Add(p, s, h, lp)),
      );
    const commands = [
      arbAdd(V4, HOPS4),
      arbAdd(V4, HOPS4),
      arbAdd(V6, HOPS6),
      fc
        .tuple(fc.constantFrom(...V4, ...V6), fc.constantFrom('static', 'bgp:a', 'bgp:b'))
        .map(([p, s]) => new Remove(p, s) as Cmd),
      fc.tuple(fc.constantFrom(...HOPS4, ...HOPS6), fc.boolean()).map(([h, up]) => new Bfd(h, up) as Cmd),
      fc.boolean().map((f) => new Restart(f) as Cmd),
    ];

    const connected = new LinuxConnectedRoutes({ commandPrefix: prefix });
    await connected.start();
    const fib = new LinuxFib({ commandPrefix: prefix });
    try {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
          const rib = new Rib({ connected, decision: { maxPaths: 4 } });
          rib.addSource({ id: 'static', kind: 'static' });
          rib.addSource({ id: 'bgp:a', kind: 'bgp', ebgp: true, peerAddr: addr('10.77.0.2'), routerId: 1 });
          rib.addSource({ id: 'bgp:b', kind: 'bgp', ebgp: true, peerAddr: addr('10.77.0.3'), routerId: 2 });
          // Every run starts with a link-local IPv6 route and a weighted IPv4 multipath route.
          rib.addPath(pfx('2001:db8:9::/64'), { source: 'static', nexthops: [HOPS6[1]!] });
          rib.addPath(pfx('100.100.0.0/16'), {
            source: 'static',
            nexthops: [
              { ...HOPS4[0]!, weight: 3 },
              { ...HOPS4[1]!, weight: 1 },
            ],
          });
          // The previous run's routes are stale for this RIB: the start-up reconcile removes them.
          const sync = new FibSync(rib, fib, { scanMs: 0 });
          await sync.start();
          const real: Real = { rib, fib, sync };
          await check(real);
          await fc.asyncModelRun(() => ({ model: {}, real }), cmds);
          await real.sync.stop();
          rib.close();
        }),
        { numRuns: 6, endOnFailure: true },
      );
    } finally {
      connected.stop();
      await fib.close();
    }
    for (const [k, n] of Object.entries(seen)) expect(n, `checks saw no ${k} routes`).toBeGreaterThan(0);
  });

  it('repairs a route deleted by hand with the periodic full diff', async () => {
    const connected = new MemoryConnectedRoutes();
    connected.set([{ afi: 4, prefix: prefix4(addr('10.77.0.0') as number, 24), ifname: l.a.ifname }]);
    const rib = new Rib({ connected });
    rib.addSource({ id: 'static', kind: 'static' });
    for (const p of ['203.0.113.0/24', '198.51.100.0/24']) {
      rib.addPath(pfx(p), { source: 'static', nexthops: [{ addr: addr('10.77.0.2') }] });
    }
    const fib = new LinuxFib({ commandPrefix: prefix });
    const sync = new FibSync(rib, fib, { scanMs: 200 });
    await sync.start();
    expect(await kernelTable(fib)).toEqual(ribTable(rib));
    await a.run(['ip', 'route', 'del', '203.0.113.0/24', 'proto', String(RT_PROTO_LODESTONE)]);
    expect(await kernelTable(fib)).not.toEqual(ribTable(rib));
    await waitFor(async () => (await kernelTable(fib)).join() === ribTable(rib).join(), {
      what: 'drift repaired',
      timeoutMs: 5_000,
    });
    expect(sync.counters.repaired).toBeGreaterThanOrEqual(1);
    await sync.stop({ flush: true });
    expect(await fib.list()).toEqual([]);
    await fib.close();
  });

  it('keeps routes left by a graceful stop through the start-up grace period, then removes the unrelearned', async () => {
    const connected = new MemoryConnectedRoutes();
    connected.set([{ afi: 4, prefix: prefix4(addr('10.77.0.0') as number, 24), ifname: l.a.ifname }]);
    const fib = new LinuxFib({ commandPrefix: prefix });
    const before = new Rib({ connected });
    before.addSource({ id: 'static', kind: 'static' });
    for (const p of ['203.0.113.0/24', '198.51.100.0/24', '100.64.0.0/16']) {
      before.addPath(pfx(p), { source: 'static', nexthops: [{ addr: addr('10.77.0.2') }] });
    }
    const s1 = new FibSync(before, fib, { scanMs: 0 });
    await s1.start();
    await s1.stop();
    const left = await kernelTable(fib);
    expect(left).toEqual([
      '100.64.0.0/16 10.77.0.2',
      '198.51.100.0/24 10.77.0.2',
      '203.0.113.0/24 10.77.0.2',
    ]);

    // The restarted daemon: an empty RIB whose protocols relearn two of the three routes.
    const rib = new Rib({ connected });
    rib.addSource({ id: 'static', kind: 'static' });
    const sync = new FibSync(rib, fib, { scanMs: 0, startupGraceMs: 1_500 });
    await sync.start();
    expect(await kernelTable(fib)).toEqual(left);
    expect(sync.counters.adopted).toBe(3);
    rib.addPath(pfx('203.0.113.0/24'), { source: 'static', nexthops: [{ addr: addr('10.77.0.2') }] });
    rib.addPath(pfx('198.51.100.0/24'), { source: 'static', nexthops: [{ addr: addr('10.77.0.3') }] });
    await sync.settled();
    expect(await kernelTable(fib)).toEqual([
      '100.64.0.0/16 10.77.0.2',
      '198.51.100.0/24 10.77.0.3',
      '203.0.113.0/24 10.77.0.2',
    ]);
    expect(sync.errors()).toEqual([]);
    expect(await foreignRoutes()).toEqual(foreign);
    await waitFor(async () => (await kernelTable(fib)).join() === ribTable(rib).join(), {
      what: 'unrelearned route removed at the end of the grace period',
      timeoutMs: 5_000,
    });
    expect(sync.inGracePeriod).toBe(false);
    expect(await kernelTable(fib)).toEqual(['198.51.100.0/24 10.77.0.3', '203.0.113.0/24 10.77.0.2']);
    expect(await foreignRoutes()).toEqual(foreign);
    await sync.stop({ flush: true });
    expect(await fib.list()).toEqual([]);
    expect(await foreignRoutes()).toEqual(foreign);
    await fib.close();
  });

  it('reports a refused route and installs the others; never overwrites a foreign route', async () => {
    const connected = new MemoryConnectedRoutes();
    // The RIB believes in an interface the kernel does not have, as after a race with its removal.
    connected.set(
      [{ afi: 4, prefix: prefix4(addr('10.77.0.0') as number, 24), ifname: l.a.ifname }],
      [l.a.ifname, 'ghost0'],
    );
    const rib = new Rib({ connected });
    rib.addSource({ id: 'static', kind: 'static' });
    rib.addPath(pfx('203.0.113.0/24'), { source: 'static', nexthops: [{ addr: addr('10.77.0.2') }] });
    rib.addPath(pfx('198.51.100.0/24'), {
      source: 'static',
      nexthops: [{ addr: addr('10.77.0.2'), ifname: 'ghost0' }],
    });
    // 192.0.2.0/24 exists with proto static and the same metric: ours must be refused, not replace it.
    rib.addPath(pfx('192.0.2.0/24'), { source: 'static', nexthops: [{ addr: addr('10.77.0.3') }] });
    rib.addPath(pfx('100.64.0.0/16'), { source: 'static', nexthops: [{ addr: addr('10.77.0.4') }] });
    const fib = new LinuxFib({ commandPrefix: prefix });
    const sync = new FibSync(rib, fib, { scanMs: 0, retryBaseMs: 50, retryMaxMs: 100 });
    await sync.start();
    await sync.settled();
    const have = await kernelTable(fib);
    expect(have).toEqual(['100.64.0.0/16 10.77.0.4', '203.0.113.0/24 10.77.0.2']);
    const errs = sync.errors();
    expect(errs.map((e) => e.prefix).sort()).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
    expect(errs.find((e) => e.prefix === '198.51.100.0/24')!.error).toMatch(/ghost0/);
    expect(errs.find((e) => e.prefix === '192.0.2.0/24')!.error).toMatch(/exists/i);
    expect(sync.counters.refused).toBeGreaterThanOrEqual(2);
    expect(await foreignRoutes()).toEqual(foreign);
    // Retried with backoff, still refused, still not blocking anything else.
    await new Promise((r) => setTimeout(r, 300));
    expect(sync.errors().every((e) => e.attempts >= 2)).toBe(true);
    rib.addPath(pfx('100.65.0.0/16'), { source: 'static', nexthops: [{ addr: addr('10.77.0.4') }] });
    await sync.settled();
    expect(await kernelTable(fib)).toContain('100.65.0.0/16 10.77.0.4');
    await sync.stop({ flush: true });
    await fib.close();
    expect(await foreignRoutes()).toEqual(foreign);
  });

  it('returns the refused operations of one batch in their order across lanes', async () => {
    const fib = new LinuxFib({ commandPrefix: prefix, lanes: 3 });
    const ops: FibOp[] = Array.from({ length: 300 }, (_, i) => ({
      op: 'replace' as const,
      existing: false,
      route: {
        afi: 4 as const,
        prefix: prefix4((0x0d000000 + i * 256) >>> 0, 24),
        nexthops: [{ addr: addr(i % 7 === 3 ? '10.99.0.1' : '10.77.0.2') }],
      },
    }));
    const failures = await fib.apply(ops);
    expect(failures.map((f) => f.op)).toEqual(ops.filter((_, i) => i % 7 === 3));
    expect((await fib.list()).length).toBe(300 - failures.length);
    expect(await fib.apply(ops.map((o) => ({ op: 'delete', route: o.route })))).toHaveLength(failures.length);
    expect(await fib.list()).toEqual([]);
    await fib.close();
  });

  it('keeps failures attributed and batches in order when applied concurrently across recycled processes', async () => {
    // A small recycle threshold makes the batches below span several `ip -batch` processes.
    const fib = new LinuxFib({ commandPrefix: prefix, recycleLines: 2_000 });
    const batch = (base: number, n: number, bad: number): FibOp[] =>
      Array.from({ length: n }, (_, i) => ({
        op: 'replace' as const,
        existing: false,
        route: {
          afi: 4 as const,
          prefix: prefix4((base + i * 256) >>> 0, 24),
          // One route per batch names a gateway outside every connected subnet: the kernel refuses it.
          nexthops: [{ addr: addr(i === bad ? '10.99.0.1' : '10.77.0.2') }],
        },
      }));
    const b1 = batch(0x0b000000, 9000, 4321);
    const b2 = batch(0x0c000000, 9000, 17);
    const [f1, f2] = await Promise.all([fib.apply(b1), fib.apply(b2)]);
    expect(f1.map((f) => f.op)).toEqual([b1[4321]]);
    expect(f2.map((f) => f.op)).toEqual([b2[17]]);
    expect(f1[0]!.error).toMatch(/gateway|unreachable/i);
    expect((await fib.list()).length).toBe(17998);
    // Order across processes: replace then delete half, in concurrent batches of 1000.
    const moved = b1.map((o) => ({
      ...o,
      existing: true,
      route: { ...o.route, nexthops: [{ addr: addr('10.77.0.3') }] },
    }));
    const del = (ops: FibOp[]): FibOp[] => ops.map((o) => ({ op: 'delete', route: o.route }));
    const chunks: FibOp[][] = [];
    for (let i = 0; i < 9000; i += 1000) chunks.push(moved.slice(i, i + 1000));
    for (let i = 0; i < 4500; i += 1000) chunks.push(del(b1).slice(i, Math.min(i + 1000, 4500)));
    await Promise.all(chunks.map((c) => fib.apply(c)));
    const left = await fib.list();
    expect(left.filter((r) => r.nexthops[0]?.addr === addr('10.77.0.3')).length).toBe(4500);
    await Promise.all([fib.apply(del(b1)), fib.apply(del(b2))]);
    expect(await fib.list()).toEqual([]);
    await fib.close();
  });
});
