// Robustness: random and mutated inputs never make the BFD decoder or the reception checks throw;
// every failure is a typed BfdDecodeError or a discard reason from the catalogue.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BFD_DISCARD_REASONS,
  BfdAuthType,
  BfdDecodeError,
  bfdControlToBytes,
  decodeBfdControl,
  receiveBfdControl,
  signBfdControl,
} from '../../../wire/bfd/index.js';
import { fromHex } from '../../../wire/reader.js';
import { loadVectors } from '../../support/vectors.js';
import { anyControl } from './arbitraries.js';

const seeds = loadVectors('bfd').map((v) => fromHex(v.hex));
const session = {
  auth: { type: BfdAuthType.KEYED_SHA1, keys: [{ id: 1, secret: new Uint8Array([1, 2, 3]) }] },
};

let outcomes = 0;

function exercise(buf: Uint8Array): void {
  const r = decodeBfdControl(buf, 0, buf.length);
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(BfdDecodeError);
    expect(BFD_DISCARD_REASONS).toHaveProperty(r.error.reason);
  }
  const v = receiveBfdControl({ buf, hop: { kind: 'single-hop', ttl: 255 }, lookup: () => session });
  if (v.verdict === 'discard') expect(BFD_DISCARD_REASONS).toHaveProperty(v.reason);
  outcomes++;
}

const mutation = fc.record({
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
  cut: fc.nat(),
  grow: fc.uint8Array({ maxLength: 8 }),
});

describe('BFD decoder robustness', () => {
  it('returns only typed errors for 20,000+ random and mutated inputs', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), exercise), { numRuns: 8000 });
    // Random bytes rarely get past the version check, so also mutate encodings of valid packets.
    fc.assert(
      fc.property(anyControl, mutation, (p, m) => {
        const b = bfdControlToBytes(p);
        const c = new Uint8Array(b.length + m.grow.length);
        c.set(b);
        c.set(m.grow, b.length);
        c[m.at % c.length] = m.value;
        exercise(c);
        exercise(c.subarray(0, m.cut % (c.length + 1)));
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...seeds), mutation, fc.nat(), (seed, m, seq) => {
        const signed = signBfdControl(
          { ...decodeOr(seed), yourDiscriminator: 1 },
          { type: BfdAuthType.KEYED_SHA1, key: session.auth.keys[0]!, sequence: seq },
        ).bytes;
        for (const src of [seed, signed]) {
          if (src.length === 0) continue;
          const c = src.slice();
          c[m.at % c.length] = m.value;
          exercise(c);
        }
      }),
      { numRuns: 2500 },
    );
    expect(outcomes).toBeGreaterThanOrEqual(20000);
  });
});

function decodeOr(b: Uint8Array) {
  const r = decodeBfdControl(b, 0, b.length);
  return r.ok
    ? r.value
    : {
        diag: 0,
        state: 3 as const,
        poll: false,
        final: false,
        cpi: false,
        demand: false,
        multipoint: false,
        detectMult: 3,
        myDiscriminator: 1,
        yourDiscriminator: 1,
        desiredMinTxInterval: 1,
        requiredMinRxInterval: 1,
        requiredMinEchoRxInterval: 0,
      };
}
