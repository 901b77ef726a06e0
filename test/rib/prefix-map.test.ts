// The locality-keeping hash of IPv4 prefixes (rib/prefix-map.ts `hashPrefix4`): its contract.
// The table built on it is tested in prefix-ids.test.ts.

import { describe, expect, it } from 'vitest';
import { hashPrefix4 } from '../../rib/prefix-map.js';

describe('hashPrefix4', () => {
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
});
