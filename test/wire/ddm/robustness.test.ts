// Robustness: random and mutated datagrams never make the DDM decoders throw; every failure is a
// typed DdmDecodeError with a catalogued reason.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DDM_DECODE_REASONS,
  DdmDecodeError,
  decodeDdmDiscovery,
  decodeDdmProbe,
  encodeDdmDiscovery,
  encodeDdmProbe,
  encodingLengthDdmDiscovery,
  encodingLengthDdmProbe,
} from '../../../wire/ddm/index.js';
import { fromHex } from '../../../wire/reader.js';
import { loadVectors } from '../../support/vectors.js';
import { discovery, probe } from './arbitraries.js';

const seeds = loadVectors('ddm').map((v) => fromHex(v.hex));
let outcomes = 0;

function exercise(buf: Uint8Array): void {
  for (const r of [decodeDdmDiscovery(buf, 0, buf.length), decodeDdmProbe(buf, 0, buf.length)]) {
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(DdmDecodeError);
      expect(DDM_DECODE_REASONS).toHaveProperty(r.error.reason);
    }
  }
  outcomes++;
}

const mutation = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), cut: fc.nat() });

function mutate(b: Uint8Array, m: { at: number; value: number; cut: number }): Uint8Array[] {
  if (b.length === 0) return [b];
  const c = b.slice();
  c[m.at % c.length] = m.value;
  return [c, c.subarray(0, m.cut % (c.length + 1))];
}

describe('DDM decoder robustness', () => {
  it('returns only typed errors for 20,000+ random and mutated datagrams', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), exercise), { numRuns: 6000 });
    fc.assert(
      fc.property(discovery, mutation, (p, m) => {
        const b = new Uint8Array(encodingLengthDdmDiscovery(p));
        encodeDdmDiscovery(p, b, 0);
        for (const x of mutate(b, m)) exercise(x);
      }),
      { numRuns: 4000 },
    );
    fc.assert(
      fc.property(probe, mutation, (p, m) => {
        const b = new Uint8Array(encodingLengthDdmProbe(p));
        encodeDdmProbe(p, b, 0);
        for (const x of mutate(b, m)) exercise(x);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...seeds), mutation, (seed, m) => {
        for (const x of mutate(seed, m)) exercise(x);
      }),
      { numRuns: 1000 },
    );
    expect(outcomes).toBeGreaterThanOrEqual(20000);
  });
});
