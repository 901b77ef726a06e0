// NLRI prefix encoding (RFC 4271 §4.3) with RFC 7911 path identifiers: round trips, minimal
// lengths, host-bit masking and the reasons given for fields that cannot be parsed.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeNlri4,
  decodeNlri6,
  encodeNlri,
  nlriLength,
  prefix4WireLength,
  prefixWireLength,
} from '../../../wire/bgp/nlri.js';
import { prefix4, prefix4Addr, prefix4Len, type Prefix, type Prefix4 } from '../../../wire/ip/index.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { arbPrefix4, arbPrefix6 } from './arb-update.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });

function roundTrip(
  prefixes: Prefix[],
  ids: number[] | undefined,
  v6: boolean,
): { out: Prefix[]; outIds: number[] } {
  const len = nlriLength(prefixes, ids !== undefined);
  const buf = new Uint8Array(len + 6).fill(0xee);
  const end = encodeNlri(prefixes, ids, ids !== undefined, buf, 3);
  expect(end).toBe(3 + len);
  expect(buf[2]).toBe(0xee);
  expect(buf[end]).toBe(0xee);
  const out: Prefix[] = [];
  const outIds: number[] = [];
  const why = v6
    ? decodeNlri6(buf, 3, end, out, ids && outIds)
    : decodeNlri4(buf, 3, end, out as Prefix4[], ids && outIds);
  expect(why).toBeUndefined();
  return { out, outIds };
}

describe('NLRI encoding', () => {
  it('round-trips IPv4 prefixes with and without path identifiers', () => {
    fc.assert(
      fc.property(
        fc.array(arbPrefix4, { maxLength: 20 }),
        fc.boolean(),
        fc.array(u32, { minLength: 20, maxLength: 20 }),
        (ps, withIds, pool) => {
          const ids = withIds ? pool.slice(0, ps.length) : undefined;
          const r = roundTrip(ps, ids, false);
          expect(r.out).toEqual(ps);
          if (ids) expect(r.outIds).toEqual(ids);
        },
      ),
    );
  });

  it('round-trips IPv6 prefixes with and without path identifiers', () => {
    fc.assert(
      fc.property(
        fc.array(arbPrefix6, { maxLength: 20 }),
        fc.boolean(),
        fc.array(u32, { minLength: 20, maxLength: 20 }),
        (ps, withIds, pool) => {
          const ids = withIds ? pool.slice(0, ps.length) : undefined;
          const r = roundTrip(ps, ids, true);
          expect(r.out).toEqual(ps);
          if (ids) expect(r.outIds).toEqual(ids);
        },
      ),
    );
  });

  it('uses the minimal number of address bytes', () => {
    fc.assert(
      fc.property(arbPrefix4, (p) => {
        expect(prefix4WireLength(p)).toBe(1 + Math.ceil(prefix4Len(p) / 8));
        expect(prefixWireLength(p)).toBe(prefix4WireLength(p));
      }),
    );
    fc.assert(
      fc.property(arbPrefix6, (p) => {
        expect(prefixWireLength(p)).toBe(1 + Math.ceil(p.len / 8));
      }),
    );
    const b = new Uint8Array(8);
    const e = encodeNlri(
      [prefix4(0x0a000000, 0), prefix4(0x0a000000, 7), prefix4(0xc0a80100, 24)],
      undefined,
      false,
      b,
      0,
    );
    expect(toHex(b.subarray(0, e))).toBe('00070a18c0a801');
  });

  it('clears host bits on decode', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 32 }), (addr, len) => {
        const n = Math.ceil(len / 8);
        const bytes = [len, addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255].slice(0, 1 + n);
        const out: Prefix4[] = [];
        expect(decodeNlri4(Uint8Array.from(bytes), 0, bytes.length, out, undefined)).toBeUndefined();
        expect(out).toEqual([prefix4(addr, len)]);
        expect(prefix4Addr(out[0]!) % 2 ** (32 - len)).toBe(0);
      }),
    );
    const out: Prefix[] = [];
    expect(decodeNlri6(fromHex('0b20ff'), 0, 3, out, undefined)).toBeUndefined();
    expect(String(out[0])).toBe('20e0::/11');
  });
});

describe('NLRI fields that cannot be parsed', () => {
  const cases: [string, string, boolean, boolean, RegExp][] = [
    ['IPv4 length 33', '21ffffffffff', false, false, /above 32/],
    ['IPv4 prefix truncated', '18c0a8', false, false, /needs 3 bytes/],
    ['IPv6 length 129', '81' + 'ff'.repeat(17), true, false, /above 128/],
    ['IPv6 prefix truncated', '402001', true, false, /needs 8 bytes/],
    ['path identifier truncated', '000000', false, true, /path identifier/],
    ['path identifier without a length octet', '00000001', true, true, /path identifier/],
  ];
  for (const [name, hex, v6, ids, why] of cases) {
    it(name, () => {
      const b = fromHex(hex);
      const r = v6
        ? decodeNlri6(b, 0, b.length, [], ids ? [] : undefined)
        : decodeNlri4(b, 0, b.length, [], ids ? [] : undefined);
      expect(r).toMatch(why);
    });
  }
});
