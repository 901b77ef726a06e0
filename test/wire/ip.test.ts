// wire/ip: parsing, formatting, normalisation, ordering and containment of prefixes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Addr6,
  comparePrefix4,
  formatAddr6,
  formatPrefix,
  key6,
  parseAddr4,
  parseAddr6,
  parsePrefix,
  parsePrefix4,
  parsePrefix6,
  prefix4,
  prefix4Addr,
  prefix4Contains,
  prefix4Len,
  prefix6,
  prefix6Contains,
  formatPrefix4,
  formatPrefix6,
} from '../../wire/ip/index.js';

const addr6 = fc
  .tuple(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff))
  .map(([a, b, c, d]) => new Addr6(a, b, c, d));

describe('IPv4', () => {
  it('parses and formats', () => {
    const p = parsePrefix4('192.0.2.0/24');
    expect(p.ok && formatPrefix4(p.value)).toBe('192.0.2.0/24');
    expect(parseAddr4('10.0.0.256').ok).toBe(false);
    expect(parseAddr4('10.0.0.01').ok).toBe(false);
    expect(parseAddr4('10.0.0').ok).toBe(false);
  });
  it('rejects host bits by default and names the network', () => {
    const r = parsePrefix4('10.1.2.3/8');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('10.0.0.0/8');
    const c = parsePrefix4('10.1.2.3/8', 'clear');
    expect(c.ok && formatPrefix4(c.value)).toBe('10.0.0.0/8');
  });
  it('packs address and length losslessly, in (address, length) order', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 }), (a, l) => {
        const p = prefix4(a, l);
        expect(prefix4Len(p)).toBe(l);
        expect(prefix4Addr(p)).toBe(l === 0 ? 0 : (a >>> (32 - l)) * 2 ** (32 - l));
        const back = parsePrefix4(formatPrefix4(p));
        expect(back.ok && back.value).toBe(p);
      }),
    );
  });
  it('orders and contains', () => {
    const a = prefix4(0x0a000000, 8);
    const b = prefix4(0x0a010000, 16);
    expect(comparePrefix4(a, b)).toBeLessThan(0);
    expect(prefix4Contains(a, b)).toBe(true);
    expect(prefix4Contains(b, a)).toBe(false);
    expect(prefix4Contains(prefix4(0, 0), b)).toBe(true);
  });
});

describe('IPv6', () => {
  it('formats canonically (RFC 5952)', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['FF02::DD', 'ff02::dd'],
    ];
    for (const [input, want] of cases) {
      const a = parseAddr6(input);
      expect(a.ok && formatAddr6(a.value), input).toBe(want);
    }
  });
  it('rejects malformed text with a reason', () => {
    for (const bad of [
      '1::2::3',
      '12345::',
      'g::',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7::8:9',
    ]) {
      const r = parseAddr6(bad);
      expect(r.ok, bad).toBe(false);
    }
  });
  it('round-trips every address through text', () => {
    fc.assert(
      fc.property(addr6, (a) => {
        const back = parseAddr6(formatAddr6(a));
        expect(back.ok && back.value).toEqual(a);
      }),
    );
  });
  it('normalises and contains', () => {
    expect(parsePrefix6('2001:db8::1/64').ok).toBe(false);
    const p = parsePrefix6('2001:db8::/32');
    const q = parsePrefix6('2001:db8:1::/48');
    expect(p.ok && q.ok && prefix6Contains(p.value, q.value)).toBe(true);
    expect(p.ok && q.ok && prefix6Contains(q.value, p.value)).toBe(false);
    fc.assert(
      fc.property(addr6, fc.integer({ min: 0, max: 128 }), (a, l) => {
        const x = prefix6(a.w0, a.w1, a.w2, a.w3, l);
        const back = parsePrefix6(formatPrefix6(x));
        expect(back.ok && key6(back.value)).toBe(key6(x));
        expect(prefix6Contains(prefix6(0, 0, 0, 0, 0), x)).toBe(true);
      }),
    );
  });
  it('parses either family', () => {
    const a = parsePrefix('10.0.0.0/8');
    const b = parsePrefix('fd00::/8');
    expect(a.ok && formatPrefix(a.value)).toBe('10.0.0.0/8');
    expect(b.ok && formatPrefix(b.value)).toBe('fd00::/8');
    expect(parsePrefix('banana').ok).toBe(false);
  });
});
