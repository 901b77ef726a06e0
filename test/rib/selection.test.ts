// Properties of best-path selection: order independence, emptiness after withdrawal, the
// selected path is eligible and unbeaten (brute-force pairwise check against the one comparator),
// multipath membership, interning identity; plus worked examples of each decision step.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AttrInterner,
  DEFAULT_DECISION,
  Step,
  asPathLength,
  compareCandidates,
  decide,
  medDominates,
  multipathEqual,
  type Path,
} from '../../rib/index.js';
import { attrsEqual, attrsHash, attrsKey } from '../../rib/intern.js';
import type { PathAttributes } from '../../wire/bgp/types.js';
import { parseAddr6 } from '../../wire/ip/index.js';
import { PREFIXES, a4, arbAdd, arbAttrs, dumpSelected, makeRib, p4 } from './gen.js';

function shuffleBy<T>(xs: readonly T[], keys: readonly number[]): T[] {
  return xs
    .map((x, i) => ({ x, k: keys[i % Math.max(1, keys.length)] ?? 0, i }))
    .sort((p, q) => p.k - q.k || p.i - q.i)
    .map((p) => p.x);
}

describe('best-path selection properties', () => {
  it('is independent of insertion order (with BFD and shutdown states applied)', () => {
    fc.assert(
      fc.property(
        fc.array(arbAdd, { maxLength: 25 }),
        fc.array(fc.integer(), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        (adds, keys, maxPaths, bfdDown) => {
          const dumps = [adds, shuffleBy(adds, keys), [...adds].reverse()].map((order) => {
            const { rib } = makeRib({ maxPaths });
            if (bfdDown) rib.setNextHopState({ addr: a4('10.0.0.2') }, false);
            // Replacements make the last add per key win, so compare only orders with the same winners.
            const last = new Map<string, (typeof adds)[number]>();
            for (const op of adds) last.set(`${op.prefix}|${op.input.source}|${op.input.pathId}`, op);
            for (const op of order) {
              if (last.get(`${op.prefix}|${op.input.source}|${op.input.pathId}`) === op)
                rib.addPath(op.prefix, op.input);
            }
            return dumpSelected(rib);
          });
          expect(dumps[1]).toEqual(dumps[0]);
          expect(dumps[2]).toEqual(dumps[0]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('withdrawing everything empties the table and the interning table', () => {
    fc.assert(
      fc.property(fc.array(arbAdd, { maxLength: 30 }), fc.boolean(), (adds, bySource) => {
        const { rib } = makeRib({ maxPaths: 2 });
        rib.batch(() => {
          for (const op of adds) rib.addPath(op.prefix, op.input);
        });
        if (bySource) for (const s of ['bgp:a', 'bgp:b', 'bgp:c', 'bgp:d', 'static']) rib.removeSource(s);
        else for (const op of adds) rib.removePath(op.prefix, op.input.source, op.input.pathId);
        const st = rib.stats();
        expect(st).toEqual({ prefixes4: 0, prefixes6: 0, paths: 0, selected: 0, attrSets: 0, nhLists: 0 });
        expect([...rib.routes()]).toEqual([]);
      }),
    );
  });

  it('selects only eligible paths, never beaten by an eligible MED survivor; multipath = tied set capped', () => {
    fc.assert(
      fc.property(
        fc.array(arbAdd, { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.subarray(['bgp:a', 'bgp:b', 'bgp:c']),
        (adds, maxPaths, alwaysCompareMed, shut) => {
          const { rib } = makeRib({ maxPaths, alwaysCompareMed });
          for (const op of adds) rib.addPath(op.prefix, op.input);
          for (const s of shut) rib.setSourceState(s, false);
          const o = rib.decision;
          for (const prefix of PREFIXES) {
            const all = rib.paths(prefix);
            const entry = rib.entry(prefix);
            const eligible = all.filter((p) => p.eligible(entry!));
            const sel = rib.selected(prefix);
            if (eligible.length === 0) {
              expect(sel).toBeUndefined();
              continue;
            }
            expect(sel).toBeDefined();
            const chosen = sel!.paths;
            for (const p of chosen) expect(p.eligible(entry!)).toBe(true);
            const best = chosen[0]!;
            // Brute force: a path removed at the MED step by any eligible path cannot compete.
            const survivors = eligible.filter((p) => !eligible.some((q) => q !== p && medDominates(q, p, o)));
            expect(survivors).toContain(best);
            for (const p of survivors) if (p !== best) expect(compareCandidates(best, p, o)).toBeLessThan(0);
            // Multipath: exactly the survivors tied with the best through the IGP-cost step, capped.
            const tied = survivors.filter((p) => p === best || multipathEqual(best, p, o));
            tied.sort((x, y) => compareCandidates(x, y, o));
            expect(chosen).toEqual(tied.slice(0, Math.min(maxPaths, tied.length)));
            // Forwarding next hops are the usable next hops of the chosen paths.
            const hops = new Set(
              chosen.flatMap((p: Path) => p.usableHops(entry!).map((h) => JSON.stringify(h))),
            );
            expect(new Set(sel!.nexthops.map((h) => JSON.stringify(h)))).toEqual(hops);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('interning equality and hash agree with the canonical text', () => {
    // Small value ranges so that equal and nearly equal sets both occur often.
    const nums = fc.option(fc.array(fc.constantFrom(0, 1, 0xfde80001), { maxLength: 2 }), { nil: undefined });
    const agg = fc.option(fc.record({ asn: fc.constantFrom(1, 2), addr: fc.constantFrom(0, 1) }), {
      nil: undefined,
    });
    const segs = fc.option(
      fc.array(
        fc.record({ type: fc.constantFrom(1, 2), asns: fc.array(fc.constantFrom(1, 12), { maxLength: 2 }) }),
        {
          maxLength: 2,
        },
      ),
      { nil: undefined },
    );
    const arb = fc.record(
      {
        origin: fc.constantFrom(0, 2),
        asPath: segs,
        med: fc.constantFrom(0, 1),
        localPref: fc.constantFrom(100),
        atomicAggregate: fc.boolean(),
        aggregator: agg,
        communities: nums,
        originatorId: fc.constantFrom(1),
        clusterList: nums,
        extCommunities: nums,
        as4Path: segs,
        as4Aggregator: agg,
        largeCommunities: nums,
        otc: fc.constantFrom(7),
        unknown: fc.array(
          fc.record({
            flags: fc.constantFrom(0xc0),
            code: fc.constantFrom(99, 100),
            data: fc.uint8Array({ maxLength: 2, max: 1 }),
          }),
          { maxLength: 1 },
        ),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<PathAttributes>;
    fc.assert(
      fc.property(arb, arb, (x, y) => {
        const eq = attrsKey(x) === attrsKey(y);
        expect(attrsEqual(x, y)).toBe(eq);
        if (eq) expect(attrsHash(x)).toBe(attrsHash(y));
        const copy = JSON.parse(
          JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)),
          (k, v: unknown) => (k === 'data' ? Uint8Array.from(v as number[]) : v),
        ) as PathAttributes;
        expect(attrsEqual(x, copy)).toBe(true);
        expect(attrsHash(copy)).toBe(attrsHash(x));
      }),
      { numRuns: 2000 },
    );
  });

  it('interning returns the same frozen object for equal attribute sets', () => {
    fc.assert(
      fc.property(arbAttrs, arbAttrs, (x, y) => {
        const t = new AttrInterner();
        const copy = JSON.parse(JSON.stringify(x)) as PathAttributes;
        const ix = t.intern(x);
        expect(t.intern(copy)).toBe(ix);
        expect(Object.isFrozen(ix.attrs)).toBe(true);
        const iy = t.intern(y);
        expect(iy === ix).toBe(JSON.stringify(x) === JSON.stringify(y) || ix.key === iy.key);
        t.retain(ix);
        t.sweep();
        expect(t.size).toBe(1);
        expect(t.intern(copy)).toBe(ix);
        t.release(ix);
        expect(t.size).toBe(0);
      }),
    );
  });
});

describe('decision steps', () => {
  const { rib } = makeRib();
  const o = DEFAULT_DECISION;
  const P = p4('198.51.100.0/24');
  const hop = [{ addr: a4('10.0.0.1') }];
  function path(source: string, attrs: PathAttributes, pathId = 0): Path {
    rib.addPath(P, { source, pathId, attrs, nexthops: hop });
    return rib.paths(P).find((p) => p.source.id === source && p.pathId === pathId)!;
  }
  const base: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }] };

  it('static beats BGP by distance', () => {
    rib.addPath(P, { source: 'static', nexthops: hop });
    const s = rib.paths(P).find((p) => p.source.id === 'static')!;
    expect(decide(s, path('bgp:a', base), o).step).toBe(Step.DISTANCE);
    expect(rib.selected(P)!.paths[0]!.source.id).toBe('static');
    rib.removePath(P, 'static');
  });

  it('LOCAL_PREF missing counts as 100', () => {
    const x = path('bgp:a', { ...base, localPref: 99 });
    const y = path('bgp:b', base);
    expect(decide(y, x, o)).toEqual({ cmp: -1, step: Step.LOCAL_PREF });
    expect(decide(y, x, { ...o, defaultLocalPref: 0 })).toEqual({ cmp: 1, step: Step.LOCAL_PREF });
  });

  it('AS_SET counts one, confederation segments zero', () => {
    expect(
      asPathLength([
        { type: 1, asns: [1, 2, 3] },
        { type: 3, asns: [7, 8] },
        { type: 2, asns: [4, 5] },
      ]),
    ).toBe(3);
  });

  it('MED only within the same neighbouring AS unless always-compare-med', () => {
    const x = path('bgp:a', { ...base, med: 50 });
    const y = path('bgp:b', { ...base, asPath: [{ type: 2, asns: [65002] }], med: 10 });
    expect(decide(x, y, o).step).not.toBe(Step.MED);
    expect(decide(x, y, { ...o, alwaysCompareMed: true }).step).toBe(Step.MED);
    const z = path('bgp:b', { ...base, med: 10 });
    expect(decide(z, x, o)).toEqual({ cmp: -1, step: Step.MED });
    expect(decide(path('bgp:a', base), z, { ...o, missingMedWorst: true }).step).toBe(Step.MED);
  });

  it('eBGP over iBGP, then router id / ORIGINATOR_ID, then CLUSTER_LIST, then peer address', () => {
    expect(decide(path('bgp:a', base), path('bgp:c', base), o).step).toBe(Step.EBGP);
    // bgp:c router id 3.3.3.3 vs bgp:d 1.1.1.1 — but an ORIGINATOR_ID replaces the router id.
    expect(decide(path('bgp:d', base), path('bgp:c', base), o)).toMatchObject({ step: Step.ROUTER_ID });
    expect(decide(path('bgp:c', { ...base, originatorId: 1 }), path('bgp:d', base), o).cmp).toBeLessThan(0);
    const c1 = path('bgp:c', { ...base, originatorId: 9, clusterList: [1] });
    const d0 = path('bgp:d', { ...base, originatorId: 9 });
    expect(decide(d0, c1, o).step).toBe(Step.CLUSTER_LIST);
    const c0 = path('bgp:c', { ...base, originatorId: 9 });
    expect(decide(c0, d0, o)).toMatchObject({ step: Step.PEER_ADDR });
    expect(decide(d0, c0, o).cmp).toBeGreaterThan(0);
  });

  it('IGP cost: a next hop resolved over a route with a metric loses to a connected one', () => {
    const { rib: r } = makeRib({ maxPaths: 4 });
    r.addPath(p4('192.0.2.0/24'), { source: 'static', nexthops: [{ addr: a4('10.0.0.3') }], metric: 7 });
    r.addPath(P, { source: 'bgp:a', attrs: base, nexthops: [{ addr: a4('192.0.2.1') }] });
    r.addPath(P, { source: 'bgp:b', attrs: base, nexthops: [{ addr: a4('10.0.0.2') }] });
    const [best, other] = r.paths(P);
    expect(best!.source.id).toBe('bgp:b');
    expect(decide(best!, other!, r.decision).step).toBe(Step.IGP_COST);
    expect(r.selected(P)!.paths.length).toBe(1);
  });
});

describe('eligibility', () => {
  const P = p4('198.51.100.0/24');
  const base: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }] };

  it('BFD down, neighbour shutdown and unreachable next hops make paths ineligible', () => {
    const { rib } = makeRib();
    rib.addPath(P, { source: 'bgp:a', attrs: base, nexthops: [{ addr: a4('10.0.0.1') }] });
    rib.addPath(P, { source: 'bgp:b', attrs: base, nexthops: [{ addr: a4('10.0.0.2') }] });
    rib.addPath(P, {
      source: 'bgp:c',
      attrs: { ...base, localPref: 500 },
      nexthops: [{ addr: a4('192.0.2.9') }],
    });
    expect(rib.selected(P)!.paths[0]!.source.id).toBe('bgp:a');
    rib.setNextHopState({ addr: a4('10.0.0.1') }, false);
    expect(rib.selected(P)!.paths[0]!.source.id).toBe('bgp:b');
    rib.setSourceState('bgp:b', false);
    expect(rib.selected(P)).toBeUndefined();
    // A route covering 192.0.2.9 makes bgp:c's next hop resolvable: recursive resolution.
    rib.addPath(p4('192.0.2.0/24'), { source: 'static', nexthops: [{ addr: a4('10.0.0.3') }] });
    expect(rib.selected(P)!.paths[0]!.source.id).toBe('bgp:c');
    rib.removePath(p4('192.0.2.0/24'), 'static');
    expect(rib.selected(P)).toBeUndefined();
    rib.setNextHopState({ addr: a4('10.0.0.1') }, true);
    expect(rib.selected(P)!.paths[0]!.source.id).toBe('bgp:a');
  });

  it('a next hop does not resolve over the prefix it is a path for', () => {
    const { rib } = makeRib();
    rib.addPath(p4('192.0.2.0/24'), { source: 'bgp:a', attrs: base, nexthops: [{ addr: a4('192.0.2.1') }] });
    expect(rib.selected(p4('192.0.2.0/24'))).toBeUndefined();
  });

  it('a BFD flap touches only the prefixes using that next hop', () => {
    const { rib } = makeRib();
    const sub = rib.bus.subscribe('t');
    rib.batch(() => {
      for (let i = 0; i < 1000; i++) {
        const nh = i % 10 === 0 ? '10.0.0.2' : '10.0.0.1';
        rib.addPath((a4('100.0.0.0') * 64 + i * 256 * 64 + 24) as never, {
          source: 'bgp:a',
          attrs: base,
          nexthops: [{ addr: a4(nh) }],
        });
      }
    });
    sub.drain();
    rib.setNextHopState({ addr: a4('10.0.0.2') }, false);
    const evs = sub.drain().filter((e) => e.type === 'route-removed');
    expect(evs.length).toBe(100);
  });
});

describe('sources', () => {
  const P = p4('198.51.100.0/24');
  const base: PathAttributes = { origin: 0, asPath: [{ type: 2, asns: [65001] }] };

  it('re-registering a source with new properties re-runs selection for its paths', () => {
    const { rib } = makeRib();
    rib.addPath(P, { source: 'bgp:c', attrs: base, nexthops: [{ addr: a4('10.0.0.3') }] });
    rib.addPath(P, { source: 'bgp:d', attrs: base, nexthops: [{ addr: a4('10.0.0.1') }] });
    // Both iBGP: bgp:d wins on router id (1.1.1.1 < 3.3.3.3).
    expect(rib.selected(P)!.paths[0]!.source.id).toBe('bgp:d');
    rib.addSource({
      id: 'bgp:c',
      kind: 'bgp',
      ebgp: true,
      peerAddr: a4('10.0.0.3'),
      routerId: a4('3.3.3.3'),
    });
    expect(rib.selected(P)!.paths[0]!.source.id).toBe('bgp:c');
    expect(rib.selected(P)!.paths[0]!.source.ebgp).toBe(true);
  });

  it('changing the fan-out reselects every prefix', () => {
    const { rib } = makeRib();
    rib.addPath(P, { source: 'bgp:a', attrs: base, nexthops: [{ addr: a4('10.0.0.1') }] });
    rib.addPath(P, { source: 'bgp:b', attrs: base, nexthops: [{ addr: a4('10.0.0.2') }] });
    expect(rib.selected(P)!.nexthops).toHaveLength(1);
    rib.setDecision({ maxPaths: 2 });
    expect(rib.selected(P)!.nexthops).toHaveLength(2);
    expect(rib.removeSource('bgp:a')).toBe(1);
    expect(rib.selected(P)!.nexthops).toEqual([{ addr: a4('10.0.0.2') }]);
  });

  it('prefixes of one UPDATE share a path object; changing one prefix leaves the others', () => {
    const { rib } = makeRib();
    const Q = p4('203.0.113.0/24');
    const input = { source: 'bgp:a', attrs: base, nexthops: [{ addr: a4('10.0.0.1') }] };
    rib.addPath(P, input);
    rib.addPath(Q, input);
    expect(rib.paths(P)[0]).toBe(rib.paths(Q)[0]);
    rib.addPath(Q, { ...input, attrs: { ...base, med: 7 } });
    expect(rib.paths(P)[0]!.attrs.med).toBeUndefined();
    expect(rib.paths(Q)[0]!.attrs.med).toBe(7);
    expect(rib.stats().attrSets).toBe(2);
    rib.removePath(Q, 'bgp:a');
    expect(rib.stats().attrSets).toBe(1);
    expect(rib.selected(P)!.paths[0]!.attrs.med).toBeUndefined();
    rib.removePath(P, 'bgp:a');
    expect(rib.stats()).toMatchObject({ paths: 0, attrSets: 0, nhLists: 0 });
  });

  it('rejects unknown sources, empty next-hop lists and link-local next hops without an interface', () => {
    const { rib } = makeRib();
    expect(() => rib.addPath(P, { source: 'nope', nexthops: [{ addr: 1 }] })).toThrow(/unknown source/);
    expect(() => rib.addPath(P, { source: 'static', nexthops: [] })).toThrow(/at least one/);
    const ll = parseAddr6('fe80::1');
    if (!ll.ok) throw new Error(ll.error);
    expect(() => rib.addPath(P, { source: 'static', nexthops: [{ addr: ll.value }] })).toThrow(/interface/);
    expect(rib.stats().prefixes4).toBe(0);
  });
});
