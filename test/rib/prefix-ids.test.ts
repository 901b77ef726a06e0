// rib/prefix-ids.ts against Map models under random adds, references and releases (fast-check):
// an id keeps its prefix while it has holders, a prefix loses its id with its last holder (also
// when it was the last one looked up), freed ids are reused, and the hash table grows and shrinks
// through tombstones, with scattered prefixes and with dense runs (which the locality-keeping hash
// packs into shared slot groups).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PrefixIds } from '../../rib/prefix-ids.js';
import { prefix4Unchecked, type Prefix4 } from '../../wire/ip/index.js';

const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

// Scattered over the space, lengths 0..32, high addresses too.
const arbScattered: fc.Arbitrary<Prefix4> = fc
  .tuple(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 8, 24, 31, 32))
  .map(([i, len]) => {
    const addr = (Math.imul(i, 0x9e3779b1) >>> 0) & maskOf(len);
    return prefix4Unchecked(addr >>> 0, len);
  });

// Runs of consecutive prefixes of one length from a few bases (as peers send tables), nested
// lengths over the same addresses, and the short lengths whose group is picked by length alone.
const arbDense: fc.Arbitrary<Prefix4> = fc
  .tuple(
    fc.constantFrom(0x0a000000, 0xc0a80000, 0xfffff000, 0),
    fc.integer({ min: 0, max: 200 }),
    fc.constantFrom(1, 3, 4, 5, 16, 23, 24, 32),
  )
  .map(([base, i, len]) => {
    const step = len === 32 ? 1 : 2 ** (32 - len);
    return prefix4Unchecked((((base + i * step) % 2 ** 32) & maskOf(len)) >>> 0, len);
  });

// Few prefixes, so the same ones are added, found and released often; lengths 0-32.
const arbPrefix = fc
  .tuple(fc.integer({ min: 0, max: 11 }), fc.constantFrom(0, 1, 8, 24, 32))
  .map(([i, len]) => {
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return prefix4Unchecked((((i * 0x11223344) >>> 0) & mask) >>> 0, len);
  });

describe('PrefixIds', () => {
  it('matches a model of ids and holders under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('hold', 'hold', 'release', 'find'), arbPrefix), { maxLength: 300 }),
        (ops) => {
          const ids = new PrefixIds();
          const holders = new Map<Prefix4, number>();
          const idOf = new Map<Prefix4, number>();
          for (const [op, p] of ops) {
            if (op === 'hold') {
              const id = ids.addPrefix(p);
              if (idOf.has(p)) expect(id).toBe(idOf.get(p));
              // A new id is not one another live prefix has.
              else expect([...idOf.values()]).not.toContain(id);
              ids.ref(id);
              idOf.set(p, id);
              holders.set(p, (holders.get(p) ?? 0) + 1);
            } else if (op === 'release') {
              const n = holders.get(p);
              if (n === undefined) continue;
              ids.unref(idOf.get(p)!);
              if (n === 1) {
                holders.delete(p);
                idOf.delete(p);
              } else holders.set(p, n - 1);
            }
            expect(ids.findPrefix(p)).toBe(idOf.get(p) ?? -1);
            expect(ids.size).toBe(idOf.size);
          }
          for (const [p, id] of idOf) {
            expect(ids.findPrefix(p)).toBe(id);
            expect(ids.prefixOf(id)).toBe(p);
            expect(ids.holders(id)).toBe(holders.get(p));
            expect(id).toBeLessThan(ids.idBound);
          }
        },
      ),
    );
  });

  it('keeps every id through growth, tombstones and shrinking, with dense runs and scattered prefixes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.oneof(arbScattered, arbDense)), { maxLength: 600 }),
        (ops) => {
          const ids = new PrefixIds();
          const idOf = new Map<Prefix4, number>();
          for (const [hold, p] of ops) {
            const had = idOf.get(p);
            if (hold && had === undefined) {
              const id = ids.addPrefix(p);
              ids.ref(id);
              idOf.set(p, id);
            } else if (!hold && had !== undefined) {
              ids.unref(had);
              idOf.delete(p);
            }
            expect(ids.findPrefix(p)).toBe(idOf.get(p) ?? -1);
            expect(ids.size).toBe(idOf.size);
          }
          for (const [p, id] of idOf) {
            expect(ids.findPrefix(p)).toBe(id);
            expect(ids.prefixOf(id)).toBe(p);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reuses freed ids and keeps ids through growth and shrinking of its hash table', () => {
    const ids = new PrefixIds();
    const p = (i: number) => prefix4Unchecked(i * 256, 24);
    for (let i = 0; i < 50_000; i++) ids.ref(ids.addPrefix(p(i)));
    expect(ids.idBound).toBe(50_000);
    for (let i = 0; i < 50_000; i++) expect(ids.findPrefix(p(i))).toBe(i);
    for (let i = 100; i < 50_000; i++) ids.unref(ids.findPrefix(p(i)));
    expect(ids.size).toBe(100);
    for (let i = 0; i < 100; i++) expect(ids.findPrefix(p(i))).toBe(i);
    expect(ids.findPrefix(p(100))).toBe(-1);
    // New prefixes take freed ids: the id space does not grow.
    for (let i = 0; i < 1000; i++) ids.ref(ids.addPrefix(p(100_000 + i)));
    expect(ids.idBound).toBe(50_000);
    expect(ids.prefixOf(ids.findPrefix(p(100_500)))).toBe(p(100_500));
  });
});
