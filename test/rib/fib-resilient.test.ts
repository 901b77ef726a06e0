// The resilient nexthop-group backend (rib/fib/resilient.ts) against a real kernel in a namespace:
// multipath routes go through resilient groups, weight changes replace the group in place, single
// next hops and deletions clean up, a restarted backend adopts its objects, others are untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRoot, Topology, type Link, type Node } from '../topo/index.js';
import { ResilientLinuxFib } from '../../rib/fib/resilient.js';
import type { FibOp, FibRoute } from '../../rib/fib/backend.js';
import { formatAfPrefix, formatNextHop, type NextHop } from '../../rib/types.js';
import { parseAddr6, parsePrefix6 } from '../../wire/ip/index.js';

const skip = requireRoot('ip');
const PROTO = 197;

interface NhJson {
  id: number;
  type?: string;
  group?: { id: number; weight?: number }[];
}

describe.skipIf(skip !== null)(
  `resilient nexthop groups in the kernel${skip !== null ? ` (skipped: ${skip})` : ''}`,
  () => {
    let topo: Topology;
    let a: Node;
    let l1: Link;
    let l2: Link;
    const prefix = (() => {
      const p = parsePrefix6('fd00:2::/64');
      if (!p.ok) throw new Error(p.error);
      return p.value;
    })();
    const hop = (l: Link, weight: number): NextHop => {
      const x = parseAddr6(l.b.linkLocal6);
      if (!x.ok) throw new Error(x.error);
      return { addr: x.value, ifname: l.a.ifname, weight };
    };
    const route = (...hops: NextHop[]): FibRoute => ({ afi: 6, prefix, nexthops: hops });
    const replace = (r: FibRoute): FibOp => ({ op: 'replace', route: r, existing: true });
    const nexthops = async (): Promise<NhJson[]> => {
      const t = await a.run(['ip', '-j', 'nexthop', 'show']);
      return t.trim() === '' ? [] : (JSON.parse(t) as NhJson[]);
    };
    const kernelRoute = async () =>
      (
        JSON.parse(await a.run(['ip', '-6', '-j', 'route', 'show', 'proto', String(PROTO)])) as {
          dst: string;
          nhid?: number;
          gateway?: string;
        }[]
      )[0];
    const text = (rs: FibRoute[]) =>
      rs.map((r) => `${formatAfPrefix(r)} ${r.nexthops.map(formatNextHop).sort().join(', ')}`);

    beforeAll(async () => {
      topo = new Topology('resilient');
      a = topo.node('a');
      const b = topo.node('b');
      l1 = topo.link(a, b);
      l2 = topo.link(a, b);
      await topo.launch();
      // An object that is not ours must survive everything below.
      await a.run(['ip', 'nexthop', 'add', 'id', '5', 'via', l1.b.linkLocal6, 'dev', l1.a.ifname]);
    }, 30_000);

    afterAll(async () => {
      await topo?.destroy();
    });

    it('installs, reweights in place, falls back to one hop, deletes, and adopts after a restart', async () => {
      const prefixCmd = ['nsenter', '-t', String(a.pid), '-n'];
      let fib = new ResilientLinuxFib(
        { proto: PROTO, commandPrefix: prefixCmd },
        { buckets: 32, idleTimer: 1, unbalancedTimer: 0 },
      );
      expect(await fib.apply([replace(route(hop(l1, 100), hop(l2, 5)))])).toEqual([]);
      const r1 = await kernelRoute();
      expect(r1?.nhid).toBeGreaterThan(PROTO * 1_000_000);
      const g1 = (await nexthops()).find((n) => n.id === r1!.nhid)!;
      expect(g1.type).toBe('resilient');
      expect(g1.group!.map((m) => m.weight ?? 1).sort((x, y) => x - y)).toEqual([5, 100]);
      expect(text(await fib.list())).toEqual([
        `fd00:2::/64 ${l1.b.linkLocal6}%${l1.a.ifname} weight 100, ${l2.b.linkLocal6}%${l2.a.ifname} weight 5`,
      ]);

      // New weights: the same group, replaced in place.
      expect(await fib.apply([replace(route(hop(l1, 50), hop(l2, 50)))])).toEqual([]);
      const r2 = await kernelRoute();
      expect(r2?.nhid).toBe(r1!.nhid);
      expect((await nexthops()).find((n) => n.id === r2!.nhid)!.group!.map((m) => m.weight ?? 1)).toEqual([
        50, 50,
      ]);

      // A restarted backend adopts the group and keeps using it.
      await fib.close();
      fib = new ResilientLinuxFib(
        { proto: PROTO, commandPrefix: prefixCmd },
        { buckets: 32, idleTimer: 1, unbalancedTimer: 0 },
      );
      expect(await fib.list()).toHaveLength(1);
      expect(await fib.apply([replace(route(hop(l1, 70), hop(l2, 30)))])).toEqual([]);
      expect((await kernelRoute())?.nhid).toBe(r1!.nhid);

      // One next hop: a plain route, and our objects are gone.
      expect(await fib.apply([replace(route(hop(l1, 1)))])).toEqual([]);
      const r3 = await kernelRoute();
      expect(r3?.nhid).toBeUndefined();
      expect(r3?.gateway).toBe(l1.b.linkLocal6);
      expect((await nexthops()).map((n) => n.id)).toEqual([5]);

      // Multipath again, then delete: nothing of ours is left, the foreign object stays.
      await fib.apply([replace(route(hop(l1, 10), hop(l2, 20)))]);
      expect(await fib.apply([{ op: 'delete', route: { afi: 6, prefix } }])).toEqual([]);
      expect(await kernelRoute()).toBeUndefined();
      expect((await nexthops()).map((n) => n.id)).toEqual([5]);
      await fib.close();
    }, 30_000);
  },
);
