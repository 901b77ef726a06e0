// Generators and helpers shared by the RIB tests: a small world of sources, attribute sets and
// next hops (some reachable through a connected subnet, some not), and a canonical dump of a RIB.

import fc from 'fast-check';
import {
  MemoryConnectedRoutes,
  Rib,
  formatNextHop,
  type NextHop,
  type PathInput,
  type SourceSpec,
} from '../../rib/index.js';
import type { PathAttributes } from '../../wire/bgp/types.js';
import { formatPrefix, parseAddr4, parsePrefix4, prefix4, type Prefix4 } from '../../wire/ip/index.js';

export function a4(s: string): number {
  const r = parseAddr4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

export function p4(s: string): Prefix4 {
  const r = parsePrefix4(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

export const SOURCES: readonly SourceSpec[] = [
  { id: 'bgp:a', kind: 'bgp', ebgp: true, peerAddr: a4('10.0.0.1'), routerId: a4('1.1.1.1') },
  { id: 'bgp:b', kind: 'bgp', ebgp: true, peerAddr: a4('10.0.0.2'), routerId: a4('2.2.2.2') },
  { id: 'bgp:c', kind: 'bgp', ebgp: false, peerAddr: a4('10.0.0.3'), routerId: a4('3.3.3.3') },
  { id: 'bgp:d', kind: 'bgp', ebgp: false, peerAddr: a4('10.0.0.4'), routerId: a4('1.1.1.1') },
  { id: 'static', kind: 'static' },
];

/** Next hops: 10.0.0.x are on the connected subnet, 192.0.2.x are not (unless a route covers them). */
export const NEXTHOPS: readonly NextHop[] = [
  { addr: a4('10.0.0.1') },
  { addr: a4('10.0.0.2') },
  { addr: a4('10.0.0.3') },
  { addr: a4('192.0.2.1') },
];

export const PREFIXES: readonly Prefix4[] = [
  p4('198.51.100.0/24'),
  p4('203.0.113.0/24'),
  p4('192.0.2.0/24'),
  p4('0.0.0.0/0'),
  p4('203.0.113.128/25'),
];

export const arbAttrs: fc.Arbitrary<PathAttributes> = fc.record(
  {
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asPath: fc.array(
      fc.record({
        type: fc.constantFrom(1 as const, 2 as const, 2 as const, 3 as const),
        asns: fc.array(fc.constantFrom(65001, 65002, 65003), { minLength: 1, maxLength: 3 }),
      }),
      { maxLength: 2 },
    ),
    med: fc.constantFrom(0, 10, 20),
    localPref: fc.constantFrom(90, 100, 110),
    originatorId: fc.constantFrom(a4('1.1.1.1'), a4('4.4.4.4')),
    clusterList: fc.array(fc.constantFrom(1, 2), { maxLength: 2 }),
    communities: fc.array(fc.constantFrom(0xfde80001, 0xfde80002), { maxLength: 2 }),
  },
  { requiredKeys: ['origin', 'asPath'] },
);

export interface AddOp {
  readonly prefix: Prefix4;
  readonly input: PathInput;
}

export const arbAdd: fc.Arbitrary<AddOp> = fc
  .record({
    prefix: fc.constantFrom(...PREFIXES),
    source: fc.constantFrom(...SOURCES.map((s) => s.id)),
    pathId: fc.constantFrom(0, 0, 1),
    attrs: arbAttrs,
    hops: fc.uniqueArray(fc.constantFrom(...NEXTHOPS), { minLength: 1, maxLength: 2 }),
    metric: fc.constantFrom(0, 5),
  })
  .map(({ prefix, source, pathId, attrs, hops, metric }) => ({
    prefix,
    input: {
      source,
      pathId,
      nexthops: hops,
      ...(source === 'static' ? { metric } : { attrs }),
    },
  }));

/** Connected routes with 10.0.0.0/24 on eth0. */
export function makeConnected(): MemoryConnectedRoutes {
  const connected = new MemoryConnectedRoutes();
  connected.set([{ afi: 4, prefix: prefix4(a4('10.0.0.0'), 24), ifname: 'eth0' }]);
  return connected;
}

/** A RIB with the standard sources and a connected 10.0.0.0/24 on eth0. */
export function makeRib(opts: { maxPaths?: number; alwaysCompareMed?: boolean } = {}): {
  rib: Rib;
  connected: MemoryConnectedRoutes;
} {
  const connected = makeConnected();
  const rib = new Rib({
    connected,
    decision: { maxPaths: opts.maxPaths ?? 1, alwaysCompareMed: opts.alwaysCompareMed ?? false },
  });
  for (const s of SOURCES) rib.addSource(s);
  return { rib, connected };
}

/** Canonical text of the selected routes: prefix → next hops and selected (source, pathId). */
export function dumpSelected(rib: Rib): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rib.routes()) {
    out[formatPrefix(r.prefix)] =
      r.nexthops.map(formatNextHop).join(',') +
      ' <= ' +
      r.paths.map((p) => `${p.source.id}#${p.pathId}`).join(',');
  }
  return out;
}

/** Canonical text of the forwarding view: prefix → next hops. */
export function dumpFib(rib: Rib): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of rib.routes()) out.set(formatPrefix(r.prefix), r.nexthops.map(formatNextHop).join(','));
  return out;
}
