// The per-neighbour prefix tables of mgd/bgp (Prefix4Slots with its table of shared values,
// AdjRibIn, AdjRibOut with its export queue) against plain Map/Set models, under random operation
// sequences (fast-check).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Prefix4Slots } from '../../../mgd/bgp/prefix-slots.js';
import {
  AdjRibIn,
  AdjRibOut,
  IN_ACCEPTED,
  IN_STALE,
  Settled,
  type InSet,
  outRoute,
  type OutRoute,
} from '../../../mgd/bgp/adj-rib.js';
import { AttrInterner } from '../../../rib/intern.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST } from '../../../wire/bgp/constants.js';
import { prefix4Unchecked, prefix6, type Prefix, type Prefix4 } from '../../../wire/ip/index.js';

// A small prefix space so operations collide often; lengths vary so equal addresses differ.
const prefixFrom = (max: number) =>
  fc
    .tuple(fc.integer({ min: 0, max }), fc.constantFrom(8, 16, 24, 32))
    .map(([i, len]) => prefix4Unchecked(((i * 0x01010101) >>> 0) & ((0xffffffff << (32 - len)) >>> 0), len));
const arbPrefix4 = prefixFrom(63);

describe('Prefix4Slots', () => {
  it('behaves as a Map from prefix to (value, flags) under random inserts, updates and removals, sparse and in columns', () => {
    // With `fill`, 300 other prefixes are put first, so the table works in columns (and turns back
    // to sparse at a clear); without, it stays sparse.
    const filler = Array.from({ length: 300 }, (_, i) => prefix4Unchecked(0x0b000000 + i * 4, 30));
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(
          // Few prefixes and values, so replacements, removals and shared values are common.
          fc.tuple(
            fc.constantFrom('put', 'put', 'remove', 'clear'),
            prefixFrom(7),
            fc.integer({ min: 0, max: 7 }),
          ),
          { maxLength: 400 },
        ),
        (fill, ops) => {
          const t = new Prefix4Slots<number>();
          const model = new Map<number, [number, number]>();
          if (fill) {
            for (const p of filler) {
              t.setValue(t.insert(p), 9);
              model.set(p, [9, 0]);
            }
            expect(t.capacity).toBeGreaterThan(0);
          }
          for (const [op, p, v] of ops) {
            if (op === 'put') {
              const i = t.insert(p);
              t.setValue(i, v);
              t.setFlags(i, v & 3);
              model.set(p, [v, v & 3]);
            } else if (op === 'remove') {
              const i = t.find(p);
              expect(i >= 0).toBe(model.has(p));
              if (i >= 0) t.removeAt(i);
              model.delete(p);
            } else {
              t.clear();
              model.clear();
            }
            expect(t.size).toBe(model.size);
            // A value is kept (by id) exactly while some slot holds it, with no id left unused.
            const values = new Set([...model.values()].map(([v]) => v));
            expect(t.heldValues()).toEqual(values);
            expect(t.heldIds).toBeGreaterThanOrEqual(values.size);
            expect(t.heldIds).toBeLessThanOrEqual(model.size);
          }
          for (const [p, [v, f]] of model) {
            const i = t.find(p as Prefix4);
            expect(i).toBeGreaterThanOrEqual(0);
            expect(t.valueAt(i)).toBe(v);
            expect(t.flagsAt(i)).toBe(f);
            expect(t.prefixAt(i)).toBe(p);
          }
          const held: number[] = [];
          t.forEachHeld((i) => held.push(t.prefixAt(i)));
          expect(held.sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('grows to a large table and gives its memory and prefix ids back when cleared', () => {
    const t = new Prefix4Slots<number>();
    for (let i = 0; i < 100_000; i++) t.setValue(t.insert(prefix4Unchecked(i * 256, 24)), i);
    expect(t.size).toBe(100_000);
    expect(t.capacity).toBeLessThanOrEqual(131_072);
    expect(t.valueAt(t.find(prefix4Unchecked(99_999 * 256, 24)))).toBe(99_999);
    for (let i = 10; i < 100_000; i++) t.removeAt(t.find(prefix4Unchecked(i * 256, 24)));
    expect(t.size).toBe(10);
    expect(t.ids.size).toBe(10);
    for (let i = 0; i < 10; i++) expect(t.valueAt(t.find(prefix4Unchecked(i * 256, 24)))).toBe(i);
    expect(t.heldValues()).toEqual(new Set(Array.from({ length: 10 }, (_, i) => i)));
    expect(t.heldIds).toBe(10);
    t.clear();
    expect(t.capacity).toBeLessThanOrEqual(64);
    expect(t.ids.size).toBe(0);
  });

  it('stays sparse while it holds few of the daemon prefix ids', () => {
    const rib = new Prefix4Slots<number>();
    for (let i = 0; i < 20_000; i++) rib.insert(prefix4Unchecked(i * 256, 24));
    const small = new Prefix4Slots<number>(rib.ids);
    for (let i = 19_980; i < 20_000; i++) small.setValue(small.insert(prefix4Unchecked(i * 256, 24)), i);
    expect(small.capacity).toBe(0);
    const seen: number[] = [];
    small.forEachHeld((i) => seen.push(small.valueAt(i)!));
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, k) => 19_980 + k));
    // Once it holds a sixteenth of the ids, it keeps columns as long as the ids go.
    for (let i = 0; i < 2_000; i++) small.insert(prefix4Unchecked(i * 256, 24));
    expect(small.capacity).toBeGreaterThanOrEqual(20_000);
    expect(small.valueAt(small.find(prefix4Unchecked(19_999 * 256, 24)))).toBe(19_999);
    expect(small.size).toBe(2_020);
  });

  it('shares prefix ids with another table: an id lives while either holds it', () => {
    const a = new Prefix4Slots<string>();
    const b = new Prefix4Slots<string>(a.ids);
    const p = prefix4Unchecked(0xc6336400, 24);
    const i = a.insert(p);
    expect(b.find(p)).toBe(-1);
    expect(b.insert(p)).toBe(i);
    a.setValue(i, 'a');
    b.setValue(i, 'b');
    expect(a.ids.holders(i)).toBe(2);
    a.removeAt(i);
    expect(a.find(p)).toBe(-1);
    expect(b.valueAt(b.find(p))).toBe('b');
    expect(a.ids.findPrefix(p)).toBe(i);
    b.clear();
    expect(a.ids.findPrefix(p)).toBe(-1);
    expect(a.ids.size).toBe(0);
  });
});

describe('AdjRibIn', () => {
  const setA: InSet = { attrs: { origin: 0 }, nexthops: [{ addr: 1 }] };
  const setB: InSet = { attrs: { origin: 2 }, nexthops: [{ addr: 2 }] };
  const v6 = prefix6(0x20010db8, 0, 0, 0, 48);

  it('returns the flags of the route replaced or removed and keeps the counters', () => {
    const r = new AdjRibIn();
    const p = prefix4Unchecked(0xc6336400, 24);
    expect(r.put(p, 0, setA, true)).toBe(-1);
    expect(r.put(p, 7, setB, false)).toBe(-1); // ADD-PATH id: another route
    expect(r.put(v6, 0, setB, true)).toBe(-1);
    expect(r.received(AFISAFI_IPV4_UNICAST)).toBe(2);
    expect(r.accepted(AFISAFI_IPV4_UNICAST)).toBe(1);
    expect(r.accepted(AFISAFI_IPV6_UNICAST)).toBe(1);
    r.markStale(AFISAFI_IPV4_UNICAST);
    expect(r.stale(AFISAFI_IPV4_UNICAST)).toBe(2);
    expect(r.flagsOf(p, 0)).toBe(IN_ACCEPTED | IN_STALE);
    expect(r.flagsOf(v6, 0)).toBe(IN_ACCEPTED);
    // Re-advertised: no longer stale, verdict as given.
    expect(r.put(p, 0, setB, false)).toBe(IN_ACCEPTED | IN_STALE);
    expect(r.get(p, 0)).toBe(setB);
    expect(r.stale(AFISAFI_IPV4_UNICAST)).toBe(1);
    expect(r.accepted(AFISAFI_IPV4_UNICAST)).toBe(0);
    r.setAccepted(p, 7, true);
    expect(r.accepted(AFISAFI_IPV4_UNICAST)).toBe(1);
    expect(r.remove(p, 7)).toBe(IN_ACCEPTED | IN_STALE);
    expect(r.remove(p, 7)).toBe(-1);
    expect(r.stale(AFISAFI_IPV4_UNICAST)).toBe(0);
    expect(r.accepted(AFISAFI_IPV4_UNICAST)).toBe(0);
    expect(r.routes(AFISAFI_IPV4_UNICAST)).toEqual([{ prefix: p, pathId: 0, set: setB, flags: 0 }]);
    expect(r.all().map((x) => x.prefix)).toEqual([p, v6]);
    r.clear();
    expect(r.received(AFISAFI_IPV4_UNICAST) + r.received(AFISAFI_IPV6_UNICAST)).toBe(0);
  });

  it('matches a Map model under random puts, removals and verdicts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('put', 'remove', 'accept', 'stale'), arbPrefix4, fc.boolean()), {
          maxLength: 300,
        }),
        (ops) => {
          const r = new AdjRibIn();
          const model = new Map<number, number>();
          for (const [op, p, b] of ops) {
            if (op === 'put') {
              expect(r.put(p, 0, b ? setA : setB, b)).toBe(model.get(p) ?? -1);
              model.set(p, b ? IN_ACCEPTED : 0);
            } else if (op === 'remove') {
              expect(r.remove(p, 0)).toBe(model.get(p) ?? -1);
              model.delete(p);
            } else if (op === 'accept') {
              r.setAccepted(p, 0, b);
              const f = model.get(p);
              if (f !== undefined) model.set(p, b ? f | IN_ACCEPTED : f & ~IN_ACCEPTED);
            } else {
              r.markStale(AFISAFI_IPV4_UNICAST);
              for (const [k, f] of model) model.set(k, f | IN_STALE);
            }
            const flags = [...model.values()];
            expect(r.received(AFISAFI_IPV4_UNICAST)).toBe(model.size);
            expect(r.accepted(AFISAFI_IPV4_UNICAST)).toBe(
              flags.filter((f) => (f & IN_ACCEPTED) !== 0).length,
            );
            expect(r.stale(AFISAFI_IPV4_UNICAST)).toBe(flags.filter((f) => (f & IN_STALE) !== 0).length);
          }
          for (const [p, f] of model) expect(r.flagsOf(p as Prefix4, 0)).toBe(f);
        },
      ),
    );
  });

  it('holds one reference to an interned set per route, and none once the routes are gone', () => {
    const v6s = [prefix6(0x20010db8, 0, 0, 0, 48), prefix6(0x20010db8, 1, 0, 0, 64)];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('put', 'put', 'put', 'remove', 'remove', 'clear'),
            // Few prefixes, so removals and replacements hit stored routes often.
            fc.constantFrom<Prefix>(
              prefix4Unchecked(0x0a000000, 24),
              prefix4Unchecked(0x0a000100, 24),
              ...v6s,
            ),
            fc.constantFrom(0, 0, 5),
            fc.integer({ min: 0, max: 3 }),
          ),
          { minLength: 10, maxLength: 100 },
        ),
        (ops) => {
          const interner = new AttrInterner();
          // Equal attributes given as new objects intern to one set.
          const sets = (k: number): InSet => {
            const ref = interner.intern({ origin: 0, med: k });
            return { attrs: ref.attrs, nexthops: [{ addr: 1 }], ref };
          };
          const r = new AdjRibIn(interner);
          const model = new Map<string, number>();
          const key = (p: Prefix, id: number) => `${typeof p === 'number' ? p : p.toString()}#${id}`;
          for (const [op, p, id, k] of ops) {
            if (op === 'put') {
              r.put(p, id, sets(k), true);
              model.set(key(p, id), k);
            } else if (op === 'remove') {
              r.remove(p, id);
              model.delete(key(p, id));
            } else {
              r.clear();
              model.clear();
            }
            for (let j = 0; j <= 3; j++) {
              const held = [...model.values()].filter((x) => x === j).length;
              const ref = interner.intern({ origin: 0, med: j });
              expect(ref.refs).toBe(held);
            }
          }
          r.clear();
          for (let j = 0; j <= 3; j++) expect(interner.intern({ origin: 0, med: j }).refs).toBe(0);
        },
      ),
    );
  });
});

describe('AdjRibOut', () => {
  // A distinct outgoing set per name (its characters as communities).
  const out = (key: string): OutRoute =>
    outRoute({ origin: 0, communities: [...key].map((c) => c.charCodeAt(0)) });
  const v6 = prefix6(0x20010db8, 0, 0, 0, 48);

  it('queues each prefix once, settles what to send, and counts what was advertised', () => {
    const o = new AdjRibOut();
    const p = prefix4Unchecked(0xc6336400, 24);
    const q = prefix4Unchecked(0xc6336500, 24);
    o.mark(p);
    o.mark(v6);
    o.mark(q);
    o.mark(p);
    expect(o.queued).toBe(3);
    const taken: Prefix[] = [];
    o.take(AFISAFI_IPV4_UNICAST, 10, taken);
    expect(taken).toEqual([p, q]);
    expect(o.settle(p, out('a'))).toBe(Settled.ANNOUNCE);
    expect(o.settle(q, undefined)).toBe(Settled.NONE);
    expect(o.get(p)).toEqual(out('a'));
    expect(o.get(q)).toBeUndefined();
    expect(o.advertised(AFISAFI_IPV4_UNICAST)).toBe(1);
    // Unchanged: nothing to send, unless forced.
    o.mark(p);
    o.take(AFISAFI_IPV4_UNICAST, 10, taken);
    expect(o.settle(p, out('a'))).toBe(Settled.NONE);
    o.mark(p, true);
    o.take(AFISAFI_IPV4_UNICAST, 10, taken);
    expect(o.settle(p, out('a'))).toBe(Settled.ANNOUNCE);
    expect(o.settle(p, out('a'))).toBe(Settled.NONE);
    expect(o.settle(p, undefined)).toBe(Settled.WITHDRAW);
    expect(o.advertised(AFISAFI_IPV4_UNICAST)).toBe(0);
    o.take(AFISAFI_IPV6_UNICAST, 10, taken);
    expect(taken.at(-1)).toBe(v6);
    expect(o.settle(v6, out('b'))).toBe(Settled.ANNOUNCE);
    expect(o.prefixes(AFISAFI_IPV6_UNICAST)).toEqual([v6]);
    expect(o.queued).toBe(0);
    o.clear();
    expect(o.advertised(AFISAFI_IPV6_UNICAST)).toBe(0);
  });

  it('matches a model of the queue and the table under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('mark', 'mark', 'force', 'take', 'clear'),
            arbPrefix4,
            fc.integer({ min: 1, max: 12 }),
            fc.constantFrom(undefined, 'a', 'b'),
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const o = new AdjRibOut();
          const queue = new Set<number>(); // insertion-ordered, each prefix once
          const forced = new Set<number>();
          const sent = new Map<number, string>();
          for (const [op, p, n, key] of ops) {
            if (op === 'mark' || op === 'force') {
              o.mark(p, op === 'force');
              queue.add(p);
              if (op === 'force') forced.add(p);
            } else if (op === 'take') {
              const got: Prefix[] = [];
              o.take(AFISAFI_IPV4_UNICAST, n, got);
              const want = [...queue].slice(0, n);
              expect(got).toEqual(want);
              for (const x of want) {
                queue.delete(x);
                // Settle each taken prefix with `key` (undefined: nothing wanted).
                const had = sent.get(x);
                const what = o.settle(x as Prefix4, key === undefined ? undefined : out(key));
                const expected =
                  key === undefined
                    ? had === undefined
                      ? Settled.NONE
                      : Settled.WITHDRAW
                    : had === key && !forced.has(x)
                      ? Settled.NONE
                      : Settled.ANNOUNCE;
                expect(what).toBe(expected);
                forced.delete(x);
                if (key === undefined) sent.delete(x);
                else sent.set(x, key);
              }
            } else {
              o.clear();
              queue.clear();
              forced.clear();
              sent.clear();
            }
            expect(o.queued).toBe(queue.size);
            expect(o.advertised(AFISAFI_IPV4_UNICAST)).toBe(sent.size);
            // A slot (and its prefix id) lives exactly while the prefix is advertised or queued.
            expect(o.slots4).toBe(new Set([...queue, ...sent.keys()]).size);
          }
          for (const [p, k] of sent) expect(o.get(p as Prefix4)).toEqual(out(k));
          expect(new Set(o.prefixes(AFISAFI_IPV4_UNICAST))).toEqual(new Set(sent.keys()));
        },
      ),
    );
  });

  it('keeps the queue order through growth of its FIFO', () => {
    const o = new AdjRibOut();
    const all: Prefix[] = [];
    for (let i = 0; i < 50_000; i++) {
      const p = prefix4Unchecked(i * 256, 24);
      o.mark(p);
      all.push(p);
      if (i % 7 === 0) o.mark(all[i >> 1]!); // already queued: no effect
    }
    const got: Prefix[] = [];
    while (o.queued > 0) o.take(AFISAFI_IPV4_UNICAST, 999, got);
    expect(got).toEqual(all);
  });
});
