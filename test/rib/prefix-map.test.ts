// The RIB's open-addressing IPv4 prefix table against a Map model: random sets, deletes and
// lookups across growth, shrinking and tombstones, with scattered prefixes and with dense runs
// (which the locality-keeping hash packs into shared slot groups); and that hash's contract.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Prefix4Table, hashPrefix4 } from '../../rib/prefix-map.js';
import { prefix4Unchecked, type Prefix4 } from '../../wire/ip/index.js';

type Op = { kind: 'set' | 'add' | 'delete' | 'get'; p: Prefix4; v: number };

const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

// A small prefix space, so operations hit existing keys often; lengths 0..32, high addresses too.
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

const arbPrefix: fc.Arbitrary<Prefix4> = fc.oneof(arbScattered, arbDense);

const arbOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('set' as const, 'set' as const, 'add' as const, 'delete' as const, 'get' as const),
  p: arbPrefix,
  v: fc.nat(),
});

describe('Prefix4Table', () => {
  it('behaves like a Map of prefixes', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 600 }), (ops) => {
        const t = new Prefix4Table<number>();
        const m = new Map<number, number>();
        for (const op of ops) {
          if (op.kind === 'set') {
            t.set(op.p, op.v);
            m.set(op.p, op.v);
          } else if (op.kind === 'add') {
            // getOrAddAt keeps a present value and creates (from the address and length) an absent one.
            const addr = Math.floor(op.p / 64);
            const len = op.p - addr * 64;
            const had = m.get(op.p);
            let made: number | undefined;
            const got = t.getOrAddAt(addr, len, (a, l) => (made = (a >>> 0) * 64 + l + op.v));
            if (had === undefined) {
              expect(made).toBe(op.p + op.v);
              m.set(op.p, op.p + op.v);
            } else {
              expect(made).toBeUndefined();
            }
            expect(got).toBe(m.get(op.p));
          } else if (op.kind === 'delete') {
            expect(t.delete(op.p)).toBe(m.delete(op.p));
          }
          expect(t.get(op.p)).toBe(m.get(op.p));
          expect(t.size).toBe(m.size);
        }
        expect(new Map(t.entries())).toEqual(m);
        expect([...t.values()].sort((a, b) => a - b)).toEqual([...m.values()].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });

  it('places 16 consecutive prefixes of one length in one aligned group of slots, and spreads groups', () => {
    for (const [base, len] of [
      [0x0a000000, 24],
      [0xc0a80100, 32],
      [0x0a100000, 16],
      [0x0a000000, 20],
    ] as const) {
      const step = 2 ** (32 - len);
      const slots = Array.from({ length: 16 }, (_, i) => hashPrefix4((base + i * step) | 0, len));
      // Same group (all but the low 4 bits), places 0..15 in order.
      expect(new Set(slots.map((h) => h >>> 4)).size).toBe(1);
      expect(slots.map((h) => h & 15)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    }
    // Neighbouring blocks, and the same block at other lengths, go to unrelated groups.
    const groups = new Set<number>();
    for (let b = 0; b < 1000; b++) groups.add((hashPrefix4((0x0a000000 + b * 4096) | 0, 24) >>> 4) & 0xffff);
    for (let len = 0; len <= 32; len++) groups.add((hashPrefix4(0x0a000000, len) >>> 4) & 0xffff);
    expect(groups.size).toBeGreaterThan(980);
  });

  it('grows to a full table and shrinks back when emptied', () => {
    const t = new Prefix4Table<number>();
    const n = 50_000;
    for (let i = 0; i < n; i++) t.set(prefix4Unchecked((0x0a000000 + i * 256) >>> 0, 24), i);
    expect(t.size).toBe(n);
    for (let i = 0; i < n; i += 7) expect(t.get(prefix4Unchecked((0x0a000000 + i * 256) >>> 0, 24))).toBe(i);
    expect(t.get(prefix4Unchecked(0x0a000000, 16))).toBeUndefined();
    for (let i = 0; i < n; i++)
      expect(t.delete(prefix4Unchecked((0x0a000000 + i * 256) >>> 0, 24))).toBe(true);
    expect(t.size).toBe(0);
    expect([...t.values()]).toEqual([]);
    t.set(prefix4Unchecked(0, 0), 1);
    expect(t.get(prefix4Unchecked(0, 0))).toBe(1);
  });
});
