// The event bus and JSONL recording: coalescing for slow subscribers, the drained view equals the
// RIB, recorded inputs replay to the same RIB, recorded events rebuild the same forwarding view;
// and recursive next-hop resolution checked against a brute-force longest match.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_FAST_SUBSCRIBERS,
  Rib,
  eventLine,
  formatNextHop,
  inputLine,
  parseEvents,
  replayInputs,
  type RibEvent,
  type RibInput,
} from '../../rib/index.js';
import { formatPrefix, prefix4ContainsAddr, type Prefix4 } from '../../wire/ip/index.js';
import {
  NEXTHOPS,
  PREFIXES,
  SOURCES,
  a4,
  arbAdd,
  dumpFib,
  dumpSelected,
  makeConnected,
  makeRib,
  p4,
  type AddOp,
} from './gen.js';
import { pathsOf, prefixOf } from '../../rib/entry.js';

type Op =
  | { kind: 'add'; op: AddOp }
  | { kind: 'remove'; prefix: Prefix4; source: string; pathId: number }
  | { kind: 'bfd'; hop: number; up: boolean }
  | { kind: 'shut'; source: string; up: boolean }
  | { kind: 'drain' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: arbAdd.map((op) => ({ kind: 'add' as const, op })) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('remove' as const),
      prefix: fc.constantFrom(...PREFIXES),
      source: fc.constantFrom(...SOURCES.map((s) => s.id)),
      pathId: fc.constantFrom(0, 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bfd' as const),
      hop: fc.nat(NEXTHOPS.length - 1),
      up: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('shut' as const),
      source: fc.constantFrom('bgp:a', 'bgp:b', 'bgp:c'),
      up: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'drain' as const }) },
);

function apply(rib: Rib, op: Op): void {
  switch (op.kind) {
    case 'add':
      rib.addPath(op.op.prefix, op.op.input);
      return;
    case 'remove':
      rib.removePath(op.prefix, op.source, op.pathId);
      return;
    case 'bfd':
      rib.setNextHopState(NEXTHOPS[op.hop]!, op.up);
      return;
    case 'shut':
      rib.setSourceState(op.source, op.up);
      return;
    case 'drain':
      return;
  }
}

/** Apply drained events to a view, checking each is consistent with what the view holds. */
function applyToView(view: Map<string, string>, evs: readonly RibEvent[]): void {
  for (const ev of evs) {
    if (ev.type === 'nexthop-state' || ev.type === 'source-state') continue;
    const k = formatPrefix(ev.prefix);
    if (ev.type === 'route-selected') {
      expect(view.has(k), `selected ${k} already in view`).toBe(false);
      view.set(k, ev.nexthops.map(formatNextHop).join(','));
    } else if (ev.type === 'route-changed') {
      expect(view.has(k), `changed ${k} not in view`).toBe(true);
      view.set(k, ev.nexthops.map(formatNextHop).join(','));
    } else {
      expect(view.has(k), `removed ${k} not in view`).toBe(true);
      view.delete(k);
    }
  }
}

describe('event bus', () => {
  it('coalesces per prefix for a slow subscriber', () => {
    const { rib } = makeRib();
    const sub = rib.bus.subscribe('slow');
    const P = p4('198.51.100.0/24');
    const Q = p4('203.0.113.0/24');
    rib.addPath(Q, { source: 'static', nexthops: [NEXTHOPS[0]!] });
    expect(sub.drain()).toHaveLength(1);
    for (let i = 0; i < 50; i++) {
      rib.addPath(P, { source: 'static', nexthops: [NEXTHOPS[i % 3]!] });
      rib.addPath(Q, { source: 'static', nexthops: [NEXTHOPS[(i + 1) % 3]!] });
    }
    rib.removePath(Q, 'static');
    expect(sub.pending).toBe(2);
    const evs = sub.drain();
    expect(evs).toEqual([
      { type: 'route-selected', afi: 4, prefix: P, nexthops: [NEXTHOPS[49 % 3]] },
      { type: 'route-removed', afi: 4, prefix: Q },
    ]);
    // Selected then removed before a drain: the subscriber never hears of it.
    rib.addPath(Q, { source: 'static', nexthops: [NEXTHOPS[0]!] });
    rib.removePath(Q, 'static');
    expect(sub.drain()).toEqual([]);
  });

  it('a prefix withdrawn and learned again before a drain gives one event', () => {
    const { rib } = makeRib();
    const had = rib.bus.subscribe('had');
    // Drains nothing until the end: it never had the prefix.
    const fresh = rib.bus.subscribe('fresh');
    const P = p4('198.51.100.0/24');
    rib.addPath(P, { source: 'static', nexthops: [NEXTHOPS[0]!] });
    expect(had.drain()).toHaveLength(1);
    rib.removePath(P, 'static');
    rib.addPath(P, { source: 'static', nexthops: [NEXTHOPS[1]!] });
    rib.removePath(P, 'static');
    rib.addPath(P, { source: 'static', nexthops: [NEXTHOPS[2]!] });
    expect(had.pending).toBe(3);
    expect(had.drain()).toEqual([{ type: 'route-changed', afi: 4, prefix: P, nexthops: [NEXTHOPS[2]] }]);
    expect(fresh.drain()).toEqual([{ type: 'route-selected', afi: 4, prefix: P, nexthops: [NEXTHOPS[2]] }]);
    // Withdrawn, learned and withdrawn again: the subscriber that had it hears of the removal only.
    rib.removePath(P, 'static');
    rib.addPath(P, { source: 'static', nexthops: [NEXTHOPS[0]!] });
    rib.removePath(P, 'static');
    expect(had.drain()).toEqual([{ type: 'route-removed', afi: 4, prefix: P }]);
    expect(fresh.drain()).toEqual([{ type: 'route-removed', afi: 4, prefix: P }]);
  });

  it('a closed subscriber leaves nothing behind for the next one in its place', () => {
    const { rib } = makeRib();
    const first = rib.bus.subscribe('first');
    const P = p4('198.51.100.0/24');
    rib.addPath(P, { source: 'static', nexthops: [NEXTHOPS[0]!] });
    expect(first.pending).toBe(1);
    first.close();
    const next = rib.bus.subscribe('next');
    expect(next.slot).toBe(first.slot);
    rib.addPath(P, { source: 'static', nexthops: [NEXTHOPS[1]!] });
    expect(next.drain()).toEqual([{ type: 'route-changed', afi: 4, prefix: P, nexthops: [NEXTHOPS[1]] }]);
  });

  it('a batch publishes once per prefix', () => {
    const { rib } = makeRib();
    const seen: RibEvent[] = [];
    rib.bus.listen((e) => seen.push(e));
    rib.batch(() => {
      for (let i = 0; i < 10; i++)
        rib.addPath(p4('198.51.100.0/24'), { source: 'static', nexthops: [NEXTHOPS[i % 2]!] });
    });
    expect(seen).toHaveLength(1);
  });

  it('after each drain the subscriber view equals the RIB (random ops, random drains, two subscribers)', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 60 }), fc.integer({ min: 1, max: 3 }), (ops, maxPaths) => {
        const { rib } = makeRib({ maxPaths });
        const fast = rib.bus.subscribe('fast');
        // Beyond the subscribers that read the RIB's states, the rest get event objects.
        for (let i = 1; i < MAX_FAST_SUBSCRIBERS; i++) rib.bus.subscribe(`filler${i}`);
        const slow = rib.bus.subscribe('slow');
        expect(slow.slot).toBe(-1);
        const fastView = new Map<string, string>();
        const slowView = new Map<string, string>();
        for (const op of ops) {
          apply(rib, op);
          applyToView(fastView, fast.drain());
          if (op.kind === 'drain') {
            applyToView(slowView, slow.drain(3));
          }
        }
        applyToView(slowView, slow.drain());
        expect(fastView).toEqual(dumpFib(rib));
        expect(slowView).toEqual(dumpFib(rib));
      }),
      { numRuns: 200 },
    );
  });
});

describe('JSONL record and replay', () => {
  it('replaying recorded inputs reproduces the same RIB; recorded events rebuild its forwarding view', () => {
    let selectedSeen = false;
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 50 }), (ops) => {
        let inputs = '';
        let events = '';
        // Connected routes are host state, not RIB input: both RIBs see the same host.
        const rib = new Rib({
          connected: makeConnected(),
          decision: { maxPaths: 2 },
          record: (m: RibInput) => (inputs += inputLine(m)),
        });
        rib.bus.listen((e) => (events += eventLine(e)));
        for (const s of SOURCES) rib.addSource(s);
        for (const op of ops) apply(rib, op);

        const again = new Rib({ connected: makeConnected(), decision: { maxPaths: 2 } });
        replayInputs(again, inputs);
        expect(dumpSelected(again)).toEqual(dumpSelected(rib));
        const all = (r: Rib): string[] =>
          [...r.entriesOf()].map(
            (e) =>
              `${formatPrefix(prefixOf(e))}: ` +
              pathsOf(e)
                .map((p) => `${p.source.id}#${p.pathId} ${p.attrs.key} ${p.nh.key} ${p.metric}`)
                .join(' | '),
          );
        expect(all(again).sort()).toEqual(all(rib).sort());

        const view = new Map<string, string>();
        applyToView(view, parseEvents(events));
        expect(view).toEqual(dumpFib(rib));
        selectedSeen ||= view.size > 0;
      }),
      { numRuns: 150 },
    );
    expect(selectedSeen).toBe(true);
  });
});

describe('recursive next-hop resolution', () => {
  it('eligibility equals a brute-force longest match over connected and selected routes', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 60 }), (ops) => {
        const { rib } = makeRib({ maxPaths: 2 });
        const bfdDown = new Set<number>();
        for (const op of ops) {
          apply(rib, op);
          if (op.kind === 'bfd') {
            if (op.up) bfdDown.delete(op.hop);
            else bfdDown.add(op.hop);
          }
        }
        const connected = p4('10.0.0.0/24');
        for (const e of rib.entriesOf(4)) {
          for (const p of pathsOf(e)) {
            const reachable = p.nh.hops.some((h) => {
              const i = NEXTHOPS.findIndex((n) => n.addr === h.addr);
              if (bfdDown.has(i)) return false;
              const addr = h.addr as number;
              // Longest selected RIB route (not the default, not this very prefix) or connected.
              let best: Prefix4 | undefined;
              for (const r of rib.routes(4)) {
                const rp = r.prefix as Prefix4;
                if (rp % 64 === 0 || !prefix4ContainsAddr(rp, addr)) continue;
                if (best === undefined || rp % 64 > best % 64) best = rp;
              }
              const viaConnected = prefix4ContainsAddr(connected, addr);
              if (best !== undefined && (!viaConnected || best % 64 > 24)) return best !== prefixOf(e);
              return viaConnected;
            });
            expect(p.eligible(e), `${formatPrefix(prefixOf(e))} via ${p.nh.key}`).toBe(
              reachable && p.source.up,
            );
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a flap of a next hop that other next hops resolve over cascades', () => {
    const { rib } = makeRib();
    rib.addPath(p4('192.0.2.0/24'), { source: 'static', nexthops: [{ addr: a4('10.0.0.3') }] });
    rib.addPath(p4('198.51.100.0/24'), {
      source: 'bgp:a',
      attrs: { origin: 0, asPath: [] },
      nexthops: [{ addr: a4('192.0.2.1') }],
    });
    expect(rib.selected(p4('198.51.100.0/24'))).toBeDefined();
    rib.setNextHopState({ addr: a4('10.0.0.3') }, false);
    expect(rib.selected(p4('192.0.2.0/24'))).toBeUndefined();
    expect(rib.selected(p4('198.51.100.0/24'))).toBeUndefined();
    rib.setNextHopState({ addr: a4('10.0.0.3') }, true);
    expect(rib.selected(p4('198.51.100.0/24'))).toBeDefined();
  });
});
