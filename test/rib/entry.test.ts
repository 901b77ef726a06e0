// The storage of a prefix entry against a model: its prefix (IPv4 lengths 0-32, IPv6 lengths up
// to 128, kept beside the selection and event flags) and its paths as they move between the
// inline forms (none, one, two) and the array form (three or more) under adds, replacements and
// removals, with the event bus's view following it; a BFD change reaching the prefixes of a
// next-hop list whether they arrived before or after the list's users were first needed.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatPrefix, parsePrefix, type Prefix } from '../../wire/ip/index.js';
import { NEXTHOPS, SOURCES, makeRib } from './gen.js';
import { afiOf, firstPath, pathAt, pathCount, pathsOf, prefixOf, selectedCount } from '../../rib/entry.js';

function px(s: string): Prefix {
  const r = parsePrefix(s);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const PREFIX_TEXTS = [
  '0.0.0.0/0',
  '198.51.100.0/24',
  '255.255.255.255/32',
  '128.0.0.0/1',
  '::/0',
  'fd00:2::/64',
  'fd00:1:2:3:4:5:6:7/128',
  '2001:db8::/127',
];

type Op = { add: boolean; src: number; pathId: number; hop: number };

const arbOp: fc.Arbitrary<Op> = fc.record({
  add: fc.boolean(),
  src: fc.integer({ min: 0, max: SOURCES.length - 1 }),
  pathId: fc.integer({ min: 0, max: 1 }),
  hop: fc.integer({ min: 0, max: 1 }),
});

describe('prefix entry storage', () => {
  it('keeps its prefix and exactly the model paths through every path-count transition', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PREFIX_TEXTS), fc.array(arbOp, { maxLength: 40 }), (text, ops) => {
        const { rib } = makeRib({ maxPaths: 4 });
        const prefix = px(text);
        const model = new Set<string>();
        // The event bus keeps its bookkeeping in the entry too: its view must follow the RIB.
        const sub = rib.bus.subscribe('test');
        let seen = false;
        for (const op of ops) {
          const source = SOURCES[op.src]!.id;
          const key = `${source}#${op.pathId}`;
          if (op.add) {
            rib.addPath(prefix, { source, pathId: op.pathId, nexthops: [NEXTHOPS[op.hop]!] });
            model.add(key);
          } else {
            expect(rib.removePath(prefix, source, op.pathId)).toBe(model.delete(key));
          }
          for (const ev of sub.drain()) {
            if (ev.type === 'route-selected' || ev.type === 'route-changed') seen = true;
            else if (ev.type === 'route-removed') seen = false;
          }
          const e = rib.entry(prefix);
          expect(seen).toBe(e !== undefined && selectedCount(e) > 0);
          if (model.size === 0) {
            expect(e).toBeUndefined();
            continue;
          }
          expect(e).toBeDefined();
          expect(formatPrefix(prefixOf(e!))).toBe(text);
          expect(afiOf(e!)).toBe(text.includes(':') ? 6 : 4);
          expect(pathCount(e!)).toBe(model.size);
          const keys = pathsOf(e!).map((p) => `${p.source.id}#${p.pathId}`);
          expect(new Set(keys)).toEqual(model);
          expect(keys.length).toBe(model.size);
          for (let i = 0; i < pathCount(e!); i++) expect(pathAt(e!, i)).toBe(pathsOf(e!)[i]);
          expect(firstPath(e!)).toBe(pathsOf(e!)[0]);
          expect(selectedCount(e!)).toBeGreaterThanOrEqual(1);
          expect(selectedCount(e!)).toBeLessThanOrEqual(Math.min(4, model.size));
        }
        expect(rib.stats().paths).toBe(model.size);
        // The RIB holds a prefix id exactly while it has an IPv4 entry.
        expect(rib.prefixIds.size).toBe(typeof prefix === 'number' && model.size > 0 ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('next-hop users', () => {
  it('a BFD change reaches prefixes added before and after the list was first needed', () => {
    const { rib } = makeRib();
    const [h0, h1] = [NEXTHOPS[0]!, NEXTHOPS[1]!];
    const attrs = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65001] }] };
    const a = { source: SOURCES[0]!.id, attrs, nexthops: [h0] };
    const b = { source: SOURCES[1]!.id, attrs, nexthops: [h1] };
    const before = ['198.51.100.0/24', '203.0.113.0/24'].map(px);
    rib.batch(() => {
      for (const p of before) {
        rib.addPath(p, a);
        rib.addPath(p, b);
      }
    });
    const via = (p: Prefix): string | undefined => rib.selected(p)?.paths[0]?.source.id;
    for (const p of before) expect(via(p)).toBe(SOURCES[0]!.id);
    // The first change needs the users of the list of h0: found by walking the table.
    rib.setNextHopState(h0, false);
    for (const p of before) expect(via(p)).toBe(SOURCES[1]!.id);
    rib.setNextHopState(h0, true);
    for (const p of before) expect(via(p)).toBe(SOURCES[0]!.id);
    // From then on new paths are recorded as they arrive.
    const later = px('192.0.2.0/24');
    rib.addPath(later, a);
    rib.addPath(later, b);
    rib.setNextHopState(h0, false);
    for (const p of [...before, later]) expect(via(p)).toBe(SOURCES[1]!.id);
    rib.setNextHopState(h0, true);
    for (const p of [...before, later]) expect(via(p)).toBe(SOURCES[0]!.id);
    // Withdrawing one prefix leaves the others reachable through the list.
    rib.removePath(before[0]!, SOURCES[0]!.id);
    rib.setNextHopState(h0, false);
    expect(via(before[1]!)).toBe(SOURCES[1]!.id);
    expect(via(before[0]!)).toBe(SOURCES[1]!.id);
  });
});
