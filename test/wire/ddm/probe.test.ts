// DDM delay probe: round-trip laws, the layout, and the RTT arithmetic of RFC 9616 §3 with
// 32-bit microsecond clocks that wrap.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DDM_DISCOVERY_PORT,
  DDM_PROBE_PORT,
  DdmProbeType,
  ddmProbeReply,
  decodeDdmProbe,
  probeReplyRtt,
  probeRtt,
  probeTimestamp,
  timestampDiff,
  type DdmProbeRequest,
} from '../../../wire/ddm/index.js';
import { fromHex, toHex } from '../../../wire/reader.js';
import { checkCodec } from '../../support/codec-laws.js';
import { probe, probeCodec, u32 } from './arbitraries.js';

const SPACE = 2 ** 32;

describe('DDM probe codec', () => {
  it('satisfies the round-trip laws for requests and replies', () => {
    fc.assert(
      fc.property(probe, (p) => {
        checkCodec(probeCodec, p, undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it('lays out a request and its reply as documented', () => {
    expect(DDM_PROBE_PORT).not.toBe(DDM_DISCOVERY_PORT);
    const req: DdmProbeRequest = {
      type: DdmProbeType.REQUEST,
      sequence: 1,
      instance: 0xaabbccdd,
      t1: 0xfffffff0,
    };
    expect(toHex(checkCodec(probeCodec, req, undefined))).toBe(
      'dd010100' + '00000001' + 'aabbccdd' + 'fffffff0',
    );
    const rep = ddmProbeReply(req, 0x11223344, 5, 9);
    expect(toHex(checkCodec(probeCodec, rep, undefined))).toBe(
      'dd010200' + '00000001' + '11223344' + 'aabbccdd' + 'fffffff0' + '00000005' + '00000009',
    );
  });

  it('rejects other magic, versions, types and short datagrams; ignores trailing bytes', () => {
    const reason = (hex: string) => {
      const b = fromHex(hex);
      const r = decodeDdmProbe(b, 0, b.length);
      return r.ok ? 'ok' : r.error.reason;
    };
    const body = '00000001' + 'aabbccdd' + '00000010';
    expect(reason('02010006' + '736c65642d61')).toBe('bad-magic');
    expect(reason('dd020100' + body)).toBe('unsupported-version');
    expect(reason('dd010300' + body)).toBe('unknown-type');
    expect(reason('dd010000' + body)).toBe('unknown-type');
    expect(reason('dd0101')).toBe('truncated');
    expect(reason('dd010200' + body)).toBe('truncated');
    expect(reason('dd0101ff' + body + 'ffff')).toBe('ok');
  });
});

describe('probe RTT', () => {
  // Build the four timestamps from true times: each side's clock has its own arbitrary offset.
  const scenario = fc.record({
    requesterClock: u32,
    responderClock: u32,
    start: fc.integer({ min: 0, max: 2 ** 40 }),
    out: fc.integer({ min: 0, max: 5_000_000 }),
    held: fc.integer({ min: 0, max: 1_000_000 }),
    back: fc.integer({ min: 0, max: 4_000_000 }),
  });

  it('recovers out + back exactly for any clock offsets, across wraps', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const t1 = probeTimestamp(s.requesterClock + s.start);
        const t2 = probeTimestamp(s.responderClock + s.start + s.out);
        const t3 = probeTimestamp(s.responderClock + s.start + s.out + s.held);
        const t4 = probeTimestamp(s.requesterClock + s.start + s.out + s.held + s.back);
        const r = probeRtt(t1, t2, t3, t4);
        expect(r.ok && r.value).toBe(s.out + s.back);
      }),
      { numRuns: 3000 },
    );
  });

  it('computes the RTT of a reply as the requester sees it', () => {
    const req: DdmProbeRequest = { type: DdmProbeType.REQUEST, sequence: 9, instance: 1, t1: SPACE - 10 };
    const rep = ddmProbeReply(req, 2, 100, 130);
    const r = probeReplyRtt(rep, 60);
    expect(r.ok && r.value).toBe(70 - 30);
  });

  it('rejects a responder hold longer than the wait, beyond the rounding tolerance', () => {
    expect(probeRtt(0, 0, 10, 9)).toEqual({ ok: true, value: 0 });
    expect(probeRtt(0, 0, 10, 8)).toEqual({ ok: true, value: 0 });
    expect(probeRtt(0, 0, 10, 7)).toEqual({ ok: false, error: 'negative' });
    expect(probeRtt(0, 0, 10, 9, { toleranceUs: 0 })).toEqual({ ok: false, error: 'negative' });
    fc.assert(
      fc.property(
        u32,
        u32,
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 3, max: 1000 }),
        (t1, t2, wait, extra) => {
          const r = probeRtt(t1, t2, (t2 + wait + extra) % SPACE, (t1 + wait) % SPACE);
          expect(r).toEqual({ ok: false, error: 'negative' });
        },
      ),
    );
  });

  it('rejects intervals of 2^31 µs or more, non-timestamps, and RTTs above the ceiling', () => {
    expect(probeRtt(0, 0, 0, 2 ** 31)).toEqual({ ok: false, error: 'interval-overflow' });
    expect(probeRtt(10, 0, 0, 5)).toEqual({ ok: false, error: 'interval-overflow' });
    expect(probeRtt(0, 10, 5, 100)).toEqual({ ok: false, error: 'interval-overflow' });
    expect(probeRtt(-1, 0, 0, 0)).toEqual({ ok: false, error: 'invalid-timestamp' });
    expect(probeRtt(0, 0.5, 1, 2)).toEqual({ ok: false, error: 'invalid-timestamp' });
    expect(probeRtt(0, 0, 0, SPACE)).toEqual({ ok: false, error: 'invalid-timestamp' });
    expect(probeRtt(0, 0, 0, 10_000_001)).toEqual({ ok: false, error: 'too-large' });
    expect(probeRtt(0, 0, 0, 500, { maxRttUs: 400 })).toEqual({ ok: false, error: 'too-large' });
  });

  it('takes timestamps and differences modulo 2^32', () => {
    expect(probeTimestamp(SPACE + 5)).toBe(5);
    expect(probeTimestamp(-1)).toBe(SPACE - 1);
    expect(probeTimestamp(12.9)).toBe(12);
    expect(timestampDiff(3, SPACE - 2)).toBe(5);
    fc.assert(fc.property(u32, u32, (a, b) => (timestampDiff(a, b) + b) % SPACE === a));
  });
});
