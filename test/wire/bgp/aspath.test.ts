// AS_PATH helpers: best-path length (RFC 4271 §9.1.2.2, RFC 5065), prepend, loop checks and the
// RFC 6793 transition (merge of AS_PATH with AS4_PATH, AGGREGATOR rules, and the reverse).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  asPathContains,
  asPathLength,
  asPathPrepend,
  firstAsn,
  formatAsPath,
  forOldSpeaker,
  mergeAs4Path,
  reconcileAs4,
  toTwoOctetPath,
} from '../../../wire/bgp/aspath.js';
import { asPathWireLength, decodeAsPath, encodeAsPath } from '../../../wire/bgp/attributes.js';
import type { AsPathSegment } from '../../../wire/bgp/types.js';
import { arbAsPath } from './arb-update.js';

const SEQ = 2 as const;
const SET = 1 as const;
const CSEQ = 3 as const;
const CSET = 4 as const;
const seg = (type: AsPathSegment['type'], ...asns: number[]): AsPathSegment => ({ type, asns });
const CTX4 = { fourOctetAs: true, extendedMessage: false, addPath: new Set<number>() };

describe('asPathLength', () => {
  it('counts sequences per ASN, a set as one and confederation segments as zero', () => {
    expect(asPathLength([])).toBe(0);
    expect(asPathLength([seg(SEQ, 1, 2, 3)])).toBe(3);
    expect(asPathLength([seg(SEQ, 1, 2), seg(SET, 3, 4, 5)])).toBe(3);
    expect(asPathLength([seg(CSEQ, 64512, 64513), seg(CSET, 64514), seg(SEQ, 1)])).toBe(1);
  });
});

describe('formatAsPath', () => {
  it('writes each segment type in its usual notation', () => {
    expect(formatAsPath([seg(CSEQ, 64512, 64513), seg(CSET, 64514), seg(SEQ, 1, 2), seg(SET, 3, 4)])).toBe(
      '(64512 64513) [64514] 1 2 {3,4}',
    );
    expect(formatAsPath([])).toBe('');
  });
});

describe('asPathPrepend', () => {
  it('adds to the leading sequence or opens a new one', () => {
    expect(asPathPrepend([seg(SEQ, 2)], 1, 2)).toEqual([seg(SEQ, 1, 1, 2)]);
    expect(asPathPrepend([seg(SET, 2, 3)], 1)).toEqual([seg(SEQ, 1), seg(SET, 2, 3)]);
    expect(asPathPrepend([], 7)).toEqual([seg(SEQ, 7)]);
    const full = seg(SEQ, ...new Array<number>(255).fill(9));
    expect(asPathPrepend([full], 1)).toEqual([seg(SEQ, 1), full]);
  });

  it('adds exactly `times` to the length, never mutates, and makes the ASN the first', () => {
    fc.assert(
      fc.property(
        arbAsPath(CTX4),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 300 }),
        (p, asn, k) => {
          const before = JSON.stringify(p);
          const q = asPathPrepend(p, asn, k);
          expect(JSON.stringify(p)).toBe(before);
          expect(asPathLength(q)).toBe(asPathLength(p) + k);
          expect(firstAsn(q)).toBe(asn);
          expect(asPathContains(q, asn)).toBe(true);
          for (const s of q) expect(s.asns.length).toBeLessThanOrEqual(255);
        },
      ),
    );
  });
});

describe('asPathContains', () => {
  it('looks in every segment type', () => {
    const p = [seg(CSEQ, 64512), seg(SEQ, 1, 2), seg(SET, 3)];
    expect([64512, 1, 2, 3, 4].map((a) => asPathContains(p, a))).toEqual([true, true, true, true, false]);
  });
});

describe('RFC 6793 §4.2.3 merge', () => {
  it('takes the leading ASNs AS4_PATH lacks from AS_PATH', () => {
    expect(
      mergeAs4Path([seg(SEQ, 65001, 23456, 23456, 65002)], [seg(SEQ, 4200000001, 4200000002, 65002)]),
    ).toEqual([seg(SEQ, 65001, 4200000001, 4200000002, 65002)]);
  });

  it('ignores an AS4_PATH longer than AS_PATH', () => {
    expect(mergeAs4Path([seg(SEQ, 23456)], [seg(SEQ, 4200000001, 4200000002)])).toEqual([seg(SEQ, 23456)]);
  });

  it('counts an AS_SET as one', () => {
    expect(
      mergeAs4Path(
        [seg(SEQ, 65001, 23456), seg(SET, 65003, 23456)],
        [seg(SEQ, 4200000001), seg(SET, 65003, 4200000002)],
      ),
    ).toEqual([seg(SEQ, 65001, 4200000001), seg(SET, 65003, 4200000002)]);
  });

  it('keeps leading confederation segments', () => {
    expect(mergeAs4Path([seg(CSEQ, 64512), seg(SEQ, 65001, 23456)], [seg(SEQ, 4200000001)])).toEqual([
      seg(CSEQ, 64512),
      seg(SEQ, 65001, 4200000001),
    ]);
  });

  it('splits a sequence in the middle', () => {
    expect(mergeAs4Path([seg(SEQ, 1, 2, 3), seg(SEQ, 23456, 5)], [seg(SEQ, 3, 4200000001, 5)])).toEqual([
      seg(SEQ, 1, 2, 3, 4200000001, 5),
    ]);
  });

  it('keeps the length of AS_PATH whenever AS4_PATH is not longer', () => {
    fc.assert(
      fc.property(arbAsPath(CTX4), arbAsPath(CTX4, [1, 2]), (p, p4) => {
        const m = mergeAs4Path(p, p4);
        expect(asPathLength(m)).toBe(asPathLength(p));
      }),
    );
  });

  it('uses AS4_AGGREGATOR and AS4_PATH only when AGGREGATOR holds AS_TRANS', () => {
    const asPath = [seg(SEQ, 65001, 23456)];
    const as4Path = [seg(SEQ, 4200000001)];
    expect(
      reconcileAs4({
        asPath,
        as4Path,
        aggregator: { asn: 65010, addr: 1 },
        as4Aggregator: { asn: 4200000009, addr: 2 },
      }),
    ).toEqual({ asPath, aggregator: { asn: 65010, addr: 1 } });
    expect(
      reconcileAs4({
        asPath,
        as4Path,
        aggregator: { asn: 23456, addr: 1 },
        as4Aggregator: { asn: 4200000009, addr: 2 },
      }),
    ).toEqual({ asPath: [seg(SEQ, 65001, 4200000001)], aggregator: { asn: 4200000009, addr: 2 } });
    expect(reconcileAs4({ asPath, as4Path })).toEqual({ asPath: [seg(SEQ, 65001, 4200000001)] });
    expect(reconcileAs4({ asPath, as4Aggregator: { asn: 4200000009, addr: 2 } })).toEqual({ asPath });
  });
});

describe('building for an OLD speaker (RFC 6793 §4.2.2)', () => {
  it('sends AS4_PATH only when an ASN needs four octets', () => {
    expect(forOldSpeaker([seg(SEQ, 65001, 65002)])).toEqual({ asPath: [seg(SEQ, 65001, 65002)] });
    expect(
      forOldSpeaker([seg(CSEQ, 64512), seg(SEQ, 65001, 4200000001)], { asn: 4200000001, addr: 5 }),
    ).toEqual({
      asPath: [seg(CSEQ, 64512), seg(SEQ, 65001, 23456)],
      as4Path: [seg(SEQ, 65001, 4200000001)],
      aggregator: { asn: 23456, addr: 5 },
      as4Aggregator: { asn: 4200000001, addr: 5 },
    });
  });

  it('is undone by the merge on the OLD side for paths without confederation segments', () => {
    fc.assert(
      fc.property(
        arbAsPath(CTX4, [1, 2]),
        fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
        (p, aggAsn) => {
          const agg = aggAsn === undefined ? undefined : { asn: aggAsn, addr: 7 };
          const old = forOldSpeaker(p, agg);
          for (const s of old.asPath) for (const a of s.asns) expect(a).toBeLessThanOrEqual(0xffff);
          const back = reconcileAs4(old);
          // An OLD aggregator (not AS_TRANS) makes the receiver ignore AS4_PATH by design.
          if (agg === undefined || agg.asn > 0xffff || agg.asn === 23456) {
            expect(back.asPath).toEqual(p);
            if (agg !== undefined) expect(back.aggregator).toEqual(agg);
          } else {
            expect(back.asPath).toEqual(toTwoOctetPath(p));
          }
        },
      ),
    );
  });
});

describe('AS_PATH wire form', () => {
  it('splits segments longer than 255 ASNs and round-trips otherwise', () => {
    const long = seg(SEQ, ...Array.from({ length: 300 }, (_, i) => i + 1));
    const b = new Uint8Array(asPathWireLength([long], 4));
    expect(encodeAsPath([long], 4, b, 0)).toBe(b.length);
    const back = decodeAsPath(b, 0, b.length, 4, 'AS_PATH');
    expect(back.map((s) => s.asns.length)).toEqual([255, 45]);
    expect(back.flatMap((s) => s.asns)).toEqual(long.asns);
  });
});
