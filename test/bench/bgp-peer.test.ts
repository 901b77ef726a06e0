// The BGP benchmark's shared pieces: the prefix plan, the injector's packed UPDATEs (decoded back
// with our codec) and the sink's counter. The sessions themselves are exercised by
// `npm run bench:bgp` against real daemons.

import { describe, expect, it } from 'vitest';
import { MessageType } from '../../wire/bgp/constants.js';
import { nextFrame } from '../../wire/bgp/header.js';
import { decodeMessage } from '../../wire/bgp/message.js';
import type { CodecContext, UpdateMessage } from '../../wire/bgp/types.js';
import { formatPrefix4, parseAddr4, prefix4Addr, prefix4Len } from '../../wire/ip/index.js';
import {
  buildPlanUpdates,
  Counter,
  planAttributes,
  planIndex,
  planPrefix,
  planPrefixes,
  PLAN_MAX,
} from './bgp-peer.js';

const CTX: CodecContext = { fourOctetAs: true, extendedMessage: false, addPath: new Set() };

function decodeAll(chunks: readonly Buffer[]): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  for (const c of chunks) {
    let off = 0;
    while (off < c.length) {
      const f = nextFrame(c, off, c.length, CTX);
      if (f.kind !== 'message') throw new Error(`frame at ${off}: ${f.kind}`);
      const m = decodeMessage(c, off, off + f.header.length, CTX);
      if (!m.ok || m.value.type !== MessageType.UPDATE) throw new Error('not an UPDATE');
      out.push(m.value);
      off += f.header.length;
    }
  }
  return out;
}

describe('bench/bgp plan', () => {
  it('numbers /24s from 100.0.0.0 and maps them back', () => {
    expect(formatPrefix4(planPrefix(0))).toBe('100.0.0.0/24');
    expect(formatPrefix4(planPrefix(65537))).toBe('101.0.1.0/24');
    expect(formatPrefix4(planPrefix(PLAN_MAX - 1))).toBe('126.255.255.0/24');
    const p = planPrefix(1234);
    expect(planIndex(prefix4Addr(p), prefix4Len(p), 2000)).toBe(1234);
    expect(planIndex(prefix4Addr(p), prefix4Len(p), 1234)).toBe(-1);
    expect(planIndex(prefix4Addr(p), 25, 2000)).toBe(-1);
    expect(planIndex(prefix4Addr(p) + 1, 24, 2000)).toBe(-1);
  });

  it('keeps the benchmark ASNs out of every AS path', () => {
    for (let s = 0; s < 5000; s++) {
      const asns = planAttributes(s, 65001, 1).asPath?.flatMap((seg) => seg.asns) ?? [];
      expect(asns.filter((a) => a >= 65000 && a <= 65002)).toEqual([65001]);
      expect(asns.length).toBe(2 + (s % 4));
    }
  });

  it('packs N prefixes into N/15 distinct attribute sets, then End-of-RIB', () => {
    const n = 10_007;
    const nextHop = parseAddr4('10.0.1.1');
    if (!nextHop.ok) throw new Error('address');
    const ups = decodeAll(buildPlanUpdates(n, 15, 65001, nextHop.value, CTX));
    const eor = ups.pop();
    expect(eor?.nlri).toEqual([]);
    expect(eor?.attrs).toEqual({});
    const sets = new Set(ups.map((u) => JSON.stringify(u.attrs)));
    expect(sets.size).toBe(Math.ceil(n / 15));
    expect(ups.every((u) => u.attrs.nextHop === nextHop.value)).toBe(true);
    const all = ups.flatMap((u) => u.nlri);
    expect(all).toEqual(planPrefixes(0, n));
  });

  it('counts distinct plan prefixes and reports completion once', () => {
    const c = new Counter(100);
    expect(c.mark(planPrefixes(0, 60))).toBe(false);
    expect(c.mark(planPrefixes(0, 60))).toBe(false);
    expect(c.count).toBe(60);
    expect(c.mark([planPrefix(100), planPrefix(150)])).toBe(false);
    expect(c.mark(planPrefixes(50, 100))).toBe(true);
    expect(c.count).toBe(100);
    expect(c.mark(planPrefixes(0, 100))).toBe(false);
  });
});
