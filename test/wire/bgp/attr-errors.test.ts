// RFC 7606 error handling of the UPDATE decoder: a table of malformed inputs, each with the exact
// NOTIFICATION code, subcode, action and data (RFC 4271 §6.3) it must produce.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeUpdateBody, encodeUpdateBody, updateBodyLength } from '../../../wire/bgp/update.js';
import { arbUpdate, CONTEXTS } from './arb-update.js';
import { BgpDecodeError } from '../../../wire/bgp/errors.js';
import type { CodecContext, UpdateMessage } from '../../../wire/bgp/types.js';
import { fromHex, toHex } from '../../../wire/reader.js';

const CTX4: CodecContext = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };
const CTX2: CodecContext = { fourOctetAs: false, extendedMessage: false, addPath: new Set() };

const ORIGIN = '40010100';
const AS_PATH4 = '40020602010000fde9';
const AS_PATH2 = '4002040201fde9';
const NEXT_HOP = '400304c0000201';
const NLRI = '18c63364';

/** An UPDATE body from hex pieces: withdrawn routes, attributes, NLRI. */
function body(attrs: string, nlri = '', withdrawn = ''): Uint8Array {
  const w = fromHex(withdrawn);
  const a = fromHex(attrs);
  const n = fromHex(nlri);
  const b = new Uint8Array(4 + w.length + a.length + n.length);
  b[0] = w.length >> 8;
  b[1] = w.length & 255;
  b.set(w, 2);
  b[2 + w.length] = a.length >> 8;
  b[3 + w.length] = a.length & 255;
  b.set(a, 4 + w.length);
  b.set(n, 4 + w.length + a.length);
  return b;
}

type Outcome = { error: BgpDecodeError } | { msg: UpdateMessage };

function run(b: Uint8Array, ctx: CodecContext): Outcome {
  try {
    return { msg: decodeUpdateBody(b, 0, b.length, ctx) };
  } catch (e) {
    if (e instanceof BgpDecodeError) return { error: e };
    throw e;
  }
}

interface Case {
  readonly name: string;
  readonly ctx?: CodecContext;
  readonly attrs: string;
  readonly nlri?: string;
  readonly withdrawn?: string;
  /** Expected subcode (code is always 3, UPDATE Message Error). */
  readonly subcode: number;
  readonly action: 'session-reset' | 'afisafi-disable' | 'treat-as-withdraw' | 'attribute-discard';
  /** Expected NOTIFICATION data as hex. */
  readonly data: string;
}

const BASE = ORIGIN + AS_PATH4 + NEXT_HOP;

const CASES: readonly Case[] = [
  // ORIGIN (RFC 7606 §7.1)
  {
    name: 'ORIGIN length 2',
    attrs: '4001020000' + AS_PATH4 + NEXT_HOP,
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: '4001020000',
  },
  {
    name: 'ORIGIN value 3',
    attrs: '40010103' + AS_PATH4 + NEXT_HOP,
    nlri: NLRI,
    subcode: 6,
    action: 'treat-as-withdraw',
    data: '40010103',
  },
  {
    name: 'ORIGIN marked optional',
    attrs: 'c0010100' + AS_PATH4 + NEXT_HOP,
    nlri: NLRI,
    subcode: 4,
    action: 'treat-as-withdraw',
    data: 'c0010100',
  },
  // AS_PATH (RFC 7606 §7.2)
  {
    name: 'AS_PATH segment type 5',
    attrs: ORIGIN + '40020605010000fde9' + NEXT_HOP,
    nlri: NLRI,
    subcode: 11,
    action: 'treat-as-withdraw',
    data: '40020605010000fde9',
  },
  {
    name: 'AS_PATH segment length 0',
    attrs: ORIGIN + '4002020200' + NEXT_HOP,
    nlri: NLRI,
    subcode: 11,
    action: 'treat-as-withdraw',
    data: '4002020200',
  },
  {
    name: 'AS_PATH segment overrun',
    attrs: ORIGIN + '40020602020000fde9' + NEXT_HOP,
    nlri: NLRI,
    subcode: 11,
    action: 'treat-as-withdraw',
    data: '40020602020000fde9',
  },
  {
    name: 'AS_PATH trailing octet',
    attrs: ORIGIN + '40020702010000fde900' + NEXT_HOP,
    nlri: NLRI,
    subcode: 11,
    action: 'treat-as-withdraw',
    data: '40020702010000fde900',
  },
  {
    name: 'AS_PATH 2-octet read on a 4-octet session',
    attrs: ORIGIN + '4002040202fde9' + NEXT_HOP,
    nlri: NLRI,
    subcode: 11,
    action: 'treat-as-withdraw',
    data: '4002040202fde9',
  },
  // NEXT_HOP (RFC 7606 §7.3)
  {
    name: 'NEXT_HOP length 5',
    attrs: ORIGIN + AS_PATH4 + '400305c000020100',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: '400305c000020100',
  },
  {
    name: 'NEXT_HOP 0.0.0.0',
    attrs: ORIGIN + AS_PATH4 + '40030400000000',
    nlri: NLRI,
    subcode: 8,
    action: 'treat-as-withdraw',
    data: '40030400000000',
  },
  {
    name: 'NEXT_HOP multicast',
    attrs: ORIGIN + AS_PATH4 + '400304e0000001',
    nlri: NLRI,
    subcode: 8,
    action: 'treat-as-withdraw',
    data: '400304e0000001',
  },
  {
    name: 'NEXT_HOP broadcast',
    attrs: ORIGIN + AS_PATH4 + '400304ffffffff',
    nlri: NLRI,
    subcode: 8,
    action: 'treat-as-withdraw',
    data: '400304ffffffff',
  },
  // MED, LOCAL_PREF (RFC 7606 §7.4, §7.5)
  {
    name: 'MED length 3',
    attrs: BASE + '800403000064',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: '800403000064',
  },
  {
    name: 'MED marked transitive',
    attrs: BASE + 'c0040400000064',
    nlri: NLRI,
    subcode: 4,
    action: 'treat-as-withdraw',
    data: 'c0040400000064',
  },
  {
    name: 'LOCAL_PREF length 2',
    attrs: BASE + '4005020064',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: '4005020064',
  },
  // ATOMIC_AGGREGATE, AGGREGATOR (RFC 7606 §7.6, §7.7)
  {
    name: 'ATOMIC_AGGREGATE length 1',
    attrs: BASE + '40060101',
    nlri: NLRI,
    subcode: 5,
    action: 'attribute-discard',
    data: '40060101',
  },
  {
    name: 'AGGREGATOR length 6 on a 4-octet session',
    attrs: BASE + 'c00706fde9c0000201',
    nlri: NLRI,
    subcode: 5,
    action: 'attribute-discard',
    data: 'c00706fde9c0000201',
  },
  {
    name: 'AGGREGATOR length 8 on a 2-octet session',
    ctx: CTX2,
    attrs: ORIGIN + AS_PATH2 + NEXT_HOP + 'c007080000fde9c0000201',
    nlri: NLRI,
    subcode: 5,
    action: 'attribute-discard',
    data: 'c007080000fde9c0000201',
  },
  {
    name: 'AGGREGATOR marked well-known (flags win: treat-as-withdraw)',
    attrs: BASE + '40070800000001c0000201',
    nlri: NLRI,
    subcode: 4,
    action: 'treat-as-withdraw',
    data: '40070800000001c0000201',
  },
  // COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST (RFC 7606 §7.8-§7.10)
  {
    name: 'COMMUNITIES length 5',
    attrs: BASE + 'c00805fde8006400',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'c00805fde8006400',
  },
  {
    name: 'COMMUNITIES length 0',
    attrs: BASE + 'c00800',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'c00800',
  },
  {
    name: 'ORIGINATOR_ID length 3',
    attrs: BASE + '800903010203',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: '800903010203',
  },
  {
    name: 'CLUSTER_LIST length 6',
    attrs: BASE + '800a06010203040506',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: '800a06010203040506',
  },
  // EXTENDED_COMMUNITIES (RFC 7606 §7.14), LARGE_COMMUNITY (RFC 8092 §6), OTC (RFC 9234 §5)
  {
    name: 'EXTENDED_COMMUNITIES length 12',
    attrs: BASE + 'c0100c000200010000000100000000',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'c0100c000200010000000100000000',
  },
  {
    name: 'LARGE_COMMUNITY length 8',
    attrs: BASE + 'c020080000fde800000001',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'c020080000fde800000001',
  },
  {
    name: 'OTC length 2',
    attrs: BASE + 'c0230200fd',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'c0230200fd',
  },
  // AS4_PATH, AS4_AGGREGATOR (RFC 6793 §6)
  {
    name: 'AS4_PATH segment length 0',
    ctx: CTX2,
    attrs: ORIGIN + AS_PATH2 + NEXT_HOP + 'c011060200000000fd',
    nlri: NLRI,
    subcode: 11,
    action: 'attribute-discard',
    data: 'c011060200000000fd',
  },
  {
    name: 'AS4_PATH shorter than 6',
    ctx: CTX2,
    attrs: ORIGIN + AS_PATH2 + NEXT_HOP + 'c011020201',
    nlri: NLRI,
    subcode: 11,
    action: 'attribute-discard',
    data: 'c011020201',
  },
  {
    name: 'AS4_PATH between NEW speakers',
    attrs: BASE + 'c01106020100010000',
    nlri: NLRI,
    subcode: 9,
    action: 'attribute-discard',
    data: 'c01106020100010000',
  },
  {
    name: 'AS4_AGGREGATOR length 6',
    ctx: CTX2,
    attrs: ORIGIN + AS_PATH2 + NEXT_HOP + 'c01206fde9c0000201',
    nlri: NLRI,
    subcode: 5,
    action: 'attribute-discard',
    data: 'c01206fde9c0000201',
  },
  // Unrecognized well-known (RFC 4271 §6.3) and duplicates (RFC 7606 §3(g))
  {
    name: 'unrecognized well-known attribute',
    attrs: BASE + '406301aa',
    nlri: NLRI,
    subcode: 2,
    action: 'session-reset',
    data: '406301aa',
  },
  {
    name: 'repeated ORIGIN',
    attrs: BASE + '40010102',
    nlri: NLRI,
    subcode: 1,
    action: 'attribute-discard',
    data: '40010102',
  },
  {
    name: 'repeated MP_UNREACH_NLRI',
    attrs: '800f03000201800f03000201',
    subcode: 1,
    action: 'session-reset',
    data: '',
  },
  // Missing well-known attributes (RFC 7606 §3(d))
  {
    name: 'ORIGIN missing',
    attrs: AS_PATH4 + NEXT_HOP,
    nlri: NLRI,
    subcode: 3,
    action: 'treat-as-withdraw',
    data: '01',
  },
  {
    name: 'AS_PATH missing',
    attrs: ORIGIN + NEXT_HOP,
    nlri: NLRI,
    subcode: 3,
    action: 'treat-as-withdraw',
    data: '02',
  },
  {
    name: 'NEXT_HOP missing',
    attrs: ORIGIN + AS_PATH4,
    nlri: NLRI,
    subcode: 3,
    action: 'treat-as-withdraw',
    data: '03',
  },
  {
    name: 'no attributes at all with NLRI',
    attrs: '',
    nlri: NLRI,
    subcode: 3,
    action: 'treat-as-withdraw',
    data: '01',
  },
  {
    name: 'AS_PATH missing with MP_REACH NLRI',
    attrs: '800e1a00020110' + '20010db8000000000000000000000001' + '00' + '2020010db8' + ORIGIN,
    subcode: 3,
    action: 'treat-as-withdraw',
    data: '02',
  },
  // Attribute section framing (RFC 7606 §4) and length fields (RFC 4271 §6.3)
  {
    name: 'last attribute overruns the section',
    attrs: BASE + 'c00808fde80064',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'c00808fde80064',
  },
  {
    name: 'two bytes left in the section',
    attrs: BASE + 'c008',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'c008',
  },
  {
    name: 'extended-length header cut short',
    attrs: BASE + 'd00801',
    nlri: NLRI,
    subcode: 5,
    action: 'treat-as-withdraw',
    data: 'd00801',
  },
  {
    name: 'MP_REACH_NLRI overruns the section',
    attrs: BASE + '800e2000020110',
    subcode: 5,
    action: 'session-reset',
    data: '800e2000020110',
  },
  // NLRI fields (RFC 7606 §5.3, §3(j))
  {
    name: 'NLRI prefix length 33',
    attrs: BASE,
    nlri: '21c6336401ff',
    subcode: 10,
    action: 'session-reset',
    data: '',
  },
  {
    name: 'NLRI prefix truncated',
    attrs: BASE,
    nlri: NLRI + '18c633',
    subcode: 10,
    action: 'session-reset',
    data: '',
  },
  {
    name: 'withdrawn prefix length 40',
    attrs: '',
    withdrawn: '28c633640000',
    subcode: 10,
    action: 'session-reset',
    data: '',
  },
  {
    name: 'withdrawn prefix truncated',
    attrs: '',
    withdrawn: '180a01',
    subcode: 10,
    action: 'session-reset',
    data: '',
  },
  // MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 7606 §7.11, §7.12; RFC 4760 §7)
  {
    name: 'MP_REACH next-hop length 5 for IPv6',
    attrs: '800e0a00020105000000000000',
    subcode: 9,
    action: 'afisafi-disable',
    data: '800e0a00020105000000000000',
  },
  {
    name: 'MP_REACH next-hop length 4 for IPv6',
    attrs: '800e09000201040a00000100' + ORIGIN + AS_PATH4,
    subcode: 9,
    action: 'afisafi-disable',
    data: '800e09000201040a00000100',
  },
  {
    name: 'MP_REACH next hop overruns',
    attrs: '800e06000201100000',
    subcode: 9,
    action: 'afisafi-disable',
    data: '800e06000201100000',
  },
  {
    name: 'MP_REACH IPv6 prefix length 129',
    attrs: '800e17000201' + '10' + '20010db8000000000000000000000001' + '00' + '81ff',
    subcode: 9,
    action: 'afisafi-disable',
    data: '800e17000201' + '10' + '20010db8000000000000000000000001' + '00' + '81ff',
  },
  {
    name: 'MP_REACH IPv4 NLRI truncated',
    attrs: '800e0c00010104c000020100' + '18c633',
    subcode: 9,
    action: 'afisafi-disable',
    data: '800e0c00010104c000020100' + '18c633',
  },
  {
    name: 'MP_REACH too short for AFI/SAFI',
    attrs: '800e020002',
    subcode: 9,
    action: 'session-reset',
    data: '800e020002',
  },
  {
    name: 'MP_UNREACH IPv6 prefix truncated',
    attrs: '800f06000201' + '30' + '2001',
    subcode: 9,
    action: 'afisafi-disable',
    data: '800f06000201302001',
  },
  {
    name: 'MP_UNREACH too short for AFI/SAFI',
    attrs: '800f0100',
    subcode: 9,
    action: 'session-reset',
    data: '800f0100',
  },
  // RFC 7606 §5.2: errors in an UPDATE without reachable NLRI
  {
    name: 'malformed ORIGIN and no NLRI escalates to session reset',
    attrs: '40010103' + AS_PATH4,
    subcode: 6,
    action: 'session-reset',
    data: '40010103',
  },
  {
    name: 'malformed COMMUNITIES beside an MP_REACH without NLRI escalates',
    attrs: '800e0900010104c000020100' + ORIGIN + AS_PATH4 + 'c00803fde800',
    subcode: 5,
    action: 'session-reset',
    data: 'c00803fde800',
  },
  {
    name: 'malformed COMMUNITIES beside withdrawn routes only escalates',
    attrs: 'c00803fde800',
    withdrawn: '100a01',
    subcode: 5,
    action: 'session-reset',
    data: 'c00803fde800',
  },
  {
    name: 'attribute-discard errors without NLRI stay attribute-discard',
    attrs: ORIGIN + AS_PATH4 + '40060101',
    subcode: 5,
    action: 'attribute-discard',
    data: '40060101',
  },
  // Body length fields (RFC 4271 §6.3)
  {
    name: 'MP_REACH marked transitive (still parsed, treat-as-withdraw)',
    attrs: 'c00e0d00010104c000020100' + '18c63364' + ORIGIN + AS_PATH4,
    subcode: 4,
    action: 'treat-as-withdraw',
    data: 'c00e0d00010104c00002010018c63364',
  },
];

function expectOutcome(c: Case, o: Outcome): void {
  if (c.action === 'session-reset' || c.action === 'afisafi-disable') {
    expect('error' in o, 'decoding throws').toBe(true);
    if (!('error' in o)) return;
    expect({
      code: o.error.code,
      subcode: o.error.subcode,
      action: o.error.action,
      data: toHex(o.error.data),
    }).toEqual({
      code: 3,
      subcode: c.subcode,
      action: c.action,
      data: c.data,
    });
    return;
  }
  expect('msg' in o, 'decoding returns the message').toBe(true);
  if (!('msg' in o)) return;
  const e = c.action === 'treat-as-withdraw' ? o.msg.treatAsWithdraw : o.msg.discarded?.[0];
  expect(e, c.action).toBeDefined();
  expect({ code: e!.code, subcode: e!.subcode, action: e!.action, data: toHex(e!.data) }).toEqual({
    code: 3,
    subcode: c.subcode,
    action: c.action,
    data: c.data,
  });
  if (c.action === 'attribute-discard') expect(o.msg.treatAsWithdraw, 'no treat-as-withdraw').toBeUndefined();
}

describe('RFC 7606 error table', () => {
  for (const c of CASES) {
    it(c.name, () => {
      expectOutcome(c, run(body(c.attrs, c.nlri ?? '', c.withdrawn ?? ''), c.ctx ?? CTX4));
    });
  }
});

describe('RFC 7606 outcomes', () => {
  it('keeps the parsed NLRI under treat-as-withdraw, traditional and MP', () => {
    const o = run(body('40010103' + AS_PATH4 + NEXT_HOP, NLRI), CTX4);
    expect('msg' in o && o.msg.nlri.length).toBe(1);
    const mp = run(
      body(
        '800e1a00020110' + '20010db8000000000000000000000001' + '00' + '2020010db8' + '40010109' + AS_PATH4,
      ),
      CTX4,
    );
    expect('msg' in mp && mp.msg.treatAsWithdraw?.subcode).toBe(6);
    expect('msg' in mp && mp.msg.attrs.mpReach?.nlri.length).toBe(1);
  });

  it('lets the strongest action win', () => {
    // A treat-as-withdraw error, an attribute-discard error, then a session-reset NLRI error.
    const soft = run(body('40010103' + AS_PATH4 + NEXT_HOP + '40060101', NLRI), CTX4);
    expect('msg' in soft && soft.msg.treatAsWithdraw?.subcode).toBe(6);
    expect('msg' in soft && soft.msg.discarded?.map((e) => e.subcode)).toEqual([5]);
    const hard = run(body('40010103' + AS_PATH4 + NEXT_HOP, '21ffffffffff'), CTX4);
    expect('error' in hard && hard.error.action).toBe('session-reset');
  });

  it('keeps the first of repeated attributes', () => {
    const o = run(body(BASE + '40010102', NLRI), CTX4);
    expect('msg' in o && o.msg.attrs.origin).toBe(0);
  });

  it('drops confederation segments from AS4_PATH and keeps the rest (RFC 6793 §6)', () => {
    const o = run(
      body(ORIGIN + AS_PATH2 + NEXT_HOP + 'c01110' + '030100000001' + '02020001117000011171', NLRI),
      CTX2,
    );
    expect('msg' in o).toBe(true);
    if (!('msg' in o)) return;
    expect(o.msg.attrs.as4Path).toEqual([{ type: 2, asns: [70000, 70001] }]);
    expect(o.msg.discarded?.[0]?.subcode).toBe(11);
    expect(o.msg.treatAsWithdraw).toBeUndefined();
  });

  it('ignores the NEXT_HOP value when the NLRI are in MP_REACH only (RFC 4760 §3)', () => {
    const o = run(
      body(
        '800e1a00020110' +
          '20010db8000000000000000000000001' +
          '00' +
          '2020010db8' +
          ORIGIN +
          AS_PATH4 +
          '40030400000000',
      ),
      CTX4,
    );
    expect('msg' in o && o.msg.treatAsWithdraw).toBeUndefined();
  });

  it('needs no NEXT_HOP when the NLRI are in MP_REACH only', () => {
    const o = run(
      body('800e1a00020110' + '20010db8000000000000000000000001' + '00' + '2020010db8' + ORIGIN + AS_PATH4),
      CTX4,
    );
    expect('msg' in o && o.msg.treatAsWithdraw).toBeUndefined();
  });

  it('throws nothing but BgpDecodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (b, four) => {
        try {
          decodeUpdateBody(b, 0, b.length, four ? CTX4 : CTX2);
        } catch (e) {
          expect(e).toBeInstanceOf(BgpDecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('throws nothing but BgpDecodeError on mutated arbitrary UPDATEs, and what it returns re-encodes', () => {
    for (const { ctx } of CONTEXTS) {
      fc.assert(
        fc.property(
          arbUpdate(ctx),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
          fc.nat(8),
          (msg, muts, cut) => {
            const b = new Uint8Array(updateBodyLength(msg, ctx));
            encodeUpdateBody(msg, b, 0, ctx);
            for (const [i, v] of muts) if (b.length > 0) b[i % b.length] = v;
            const end = Math.max(0, b.length - cut);
            try {
              const u = decodeUpdateBody(b, 0, end, ctx);
              const again = new Uint8Array(updateBodyLength(u, ctx));
              expect(encodeUpdateBody(u, again, 0, ctx)).toBe(again.length);
            } catch (e) {
              expect(e).toBeInstanceOf(BgpDecodeError);
            }
          },
        ),
        { numRuns: 500 },
      );
    }
  });

  it('throws nothing but BgpDecodeError on mutated valid UPDATEs', () => {
    const valid = body(
      BASE + 'c00804fde80064' + '800e1a00020110' + '20010db8000000000000000000000001' + '00' + '2020010db8',
      NLRI,
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (muts) => {
          const b = valid.slice();
          for (const [i, v] of muts) b[i] = v;
          try {
            decodeUpdateBody(b, 0, b.length, CTX4);
          } catch (e) {
            expect(e).toBeInstanceOf(BgpDecodeError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
