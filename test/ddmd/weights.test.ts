// Delay-driven weights (ddmd/select/weights.ts) and the link estimator (ddmd/probe/estimator.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyHysteresis, computeWeights, DEFAULT_WEIGHT_PARAMS as P } from '../../ddmd/select/weights.js';
import { LinkEstimator } from '../../ddmd/probe/estimator.js';

const delay = fc.integer({ min: 0, max: 500_000 });

describe('computeWeights', () => {
  it('weights are positive and bounded, the lowest-delay path never has less weight than another', () => {
    fc.assert(
      fc.property(fc.array(delay, { minLength: 1, maxLength: 8 }), (ds) => {
        const w = computeWeights(ds);
        expect(w).toHaveLength(ds.length);
        for (const x of w) {
          expect(x).toBeGreaterThanOrEqual(P.minWeight);
          expect(x).toBeLessThanOrEqual(P.maxWeight);
          expect(Number.isInteger(x)).toBe(true);
        }
        const best = ds.indexOf(Math.min(...ds));
        for (const x of w) expect(w[best]).toBeGreaterThanOrEqual(x);
        // Weights never rise with delay.
        for (let i = 0; i < ds.length; i++)
          for (let j = 0; j < ds.length; j++) if (ds[i]! < ds[j]!) expect(w[i]).toBeGreaterThanOrEqual(w[j]!);
      }),
    );
  });
  it('equal delays give equal weights', () => {
    fc.assert(
      fc.property(delay, fc.integer({ min: 1, max: 8 }), (d, n) => {
        const w = computeWeights(new Array<number>(n).fill(d));
        expect(new Set(w).size).toBe(1);
      }),
    );
  });
  it('small differences count as equal, congestion shifts weight hard', () => {
    expect(computeWeights([50, 70])).toEqual([100, 100]);
    expect(computeWeights([10_000, 12_000])).toEqual([100, 100]);
    const [a, b] = computeWeights([100, 37_500]);
    expect(a).toBe(100);
    expect(b).toBeLessThan(5);
  });
  it('hysteresis keeps installed weights until the change exceeds the margin, and always returns to even', () => {
    expect(applyHysteresis([100, 50], [100, 55])).toEqual([100, 50]);
    expect(applyHysteresis([100, 50], [100, 30])).toEqual([100, 30]);
    expect(applyHysteresis([100, 95], [100, 100])).toEqual([100, 100]);
    expect(applyHysteresis(undefined, [100, 3])).toEqual([100, 3]);
  });
});

describe('LinkEstimator', () => {
  it('smooths RTT, keeps the minimum, and reports loss', () => {
    const e = new LinkEstimator();
    let t = 0;
    for (let seq = 0; seq < 20; seq++) {
      e.sent(seq, t);
      if (seq % 4 !== 3) e.replied(seq, 100 + (seq % 3) * 10);
      t += 100_000;
      e.expire(t);
    }
    e.expire(t + 1_000_000);
    const s = e.stats();
    expect(s.minRttUs).toBe(100);
    expect(s.srttUs).toBeGreaterThan(100);
    expect(s.srttUs).toBeLessThan(120);
    expect(s.loss).toBeCloseTo(5 / 20, 5);
    expect(s.alive).toBe(true);
    // The delay estimate is half the minimum of the recent samples, immune to single spikes.
    expect(e.delayUs).toBe(50);
    e.sent(100, t);
    e.replied(100, 5000);
    expect(e.delayUs).toBe(50);
  });
  it('a run of lost probes kills the link, and answers bring it back', () => {
    const e = new LinkEstimator({
      ...new LinkEstimator().params,
      deadAfter: 5,
      aliveAfter: 2,
      replyTimeoutUs: 300_000,
    });
    let t = 0;
    let seq = 0;
    const probe = (answer: boolean) => {
      e.sent(seq, t);
      const became = answer ? e.replied(seq, 80) : false;
      seq++;
      t += 100_000;
      return { became, died: e.expire(t) };
    };
    probe(true);
    expect(probe(true).became).toBe(true);
    let died = false;
    let n = 0;
    while (!died && n < 20) {
      died = probe(false).died;
      n++;
    }
    expect(died).toBe(true);
    // Five losses counted once the reply timeout (3 intervals) has passed for the fifth probe.
    expect(n).toBeLessThanOrEqual(5 + 3);
    expect(e.alive).toBe(false);
    probe(true);
    expect(probe(true).became).toBe(true);
  });
  it('waits longer for replies when the RTT runs high, up to four times the minimum timeout', () => {
    const e = new LinkEstimator({ ...new LinkEstimator().params, replyTimeoutUs: 250_000 });
    expect(e.timeoutUs).toBe(250_000);
    for (let seq = 0; seq < 20; seq++) {
      e.sent(seq, seq * 1000);
      e.replied(seq, seq % 2 === 0 ? 50_000 : 200_000);
    }
    expect(e.timeoutUs).toBeGreaterThan(250_000);
    expect(e.timeoutUs).toBeLessThanOrEqual(1_000_000);
  });

  it('ignores duplicate and unknown replies', () => {
    const e = new LinkEstimator();
    e.sent(1, 0);
    e.replied(1, 100);
    e.replied(1, 5);
    e.replied(99, 5);
    expect(e.stats().received).toBe(1);
    expect(e.stats().minRttUs).toBe(100);
  });
});
