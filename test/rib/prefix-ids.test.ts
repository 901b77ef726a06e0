// rib/prefix-ids.ts against a Map model under random adds, references and releases (fast-check):
// an id keeps its prefix while it has holders, a prefix loses its id with its last holder (also
// when it was the last one looked up), freed ids are reused, and the hash table grows and shrinks.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PrefixIds } from '../../rib/prefix-ids.js';
import { prefix4Unchecked, type Prefix4 } from '../../wire/ip/index.js';

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
