// Delay-driven multipath weights: every loop-free next hop for a destination is installed, and a
// next hop's weight falls as its path delay rises above the best one's. Pure functions; the
// caller keeps the previous weights to apply hysteresis.
//
// Weight of next hop i with path delay d_i (µs), best delay b, floor c:
//
//   w_i = max(minWeight, round(maxWeight · (b + c) / (d_i + c)))      when d_i − b > tolerance
//   w_i = maxWeight                                                    otherwise
//
// The floor c keeps microsecond noise on an idle rack (tens of µs) from skewing weights; the
// tolerance treats small differences as equal; hysteresis keeps the installed weights until the
// new ones differ by more than a margin, so weights do not flap with every probe.

export interface WeightParams {
  /** Weight of the best next hop (Linux accepts 1..256). */
  readonly maxWeight: number;
  /** Weight floor: a slow path still carries a little traffic and stays measured. */
  readonly minWeight: number;
  /** Delay floor c in µs. */
  readonly floorUs: number;
  /**
   * Differences up to max(toleranceUs, toleranceRatio · best) count as equal. This must exceed the
   * router's advertisement threshold (1 ms): an advertised delay may lag the truth by that much
   * without being re-sent, and such a lag must not skew weights for good.
   */
  readonly toleranceUs: number;
  readonly toleranceRatio: number;
  /** Keep the installed weights unless some weight moves by more than this fraction of maxWeight. */
  readonly hysteresis: number;
}

export const DEFAULT_WEIGHT_PARAMS: WeightParams = {
  maxWeight: 100,
  minWeight: 1,
  floorUs: 1000,
  toleranceUs: 2000,
  toleranceRatio: 0.25,
  hysteresis: 0.1,
};

/** Weights for path delays (µs), in the same order. Unknown delays count as the best one. */
export function computeWeights(
  delaysUs: readonly (number | undefined)[],
  p: WeightParams = DEFAULT_WEIGHT_PARAMS,
): number[] {
  const known = delaysUs.filter((d): d is number => d !== undefined && Number.isFinite(d) && d >= 0);
  if (known.length === 0) return delaysUs.map(() => p.maxWeight);
  const best = Math.min(...known);
  const tolerance = Math.max(p.toleranceUs, p.toleranceRatio * best);
  return delaysUs.map((d) => {
    if (d === undefined || !Number.isFinite(d) || d < 0 || d - best <= tolerance) return p.maxWeight;
    const w = Math.round((p.maxWeight * (best + p.floorUs)) / (d + p.floorUs));
    return Math.max(p.minWeight, Math.min(p.maxWeight, w));
  });
}

/** Hysteresis: keep `prev` unless `next` moves some weight by more than the margin. */
export function applyHysteresis(
  prev: readonly number[] | undefined,
  next: readonly number[],
  p: WeightParams = DEFAULT_WEIGHT_PARAMS,
): readonly number[] {
  if (prev === undefined || prev.length !== next.length) return next;
  const margin = p.hysteresis * p.maxWeight;
  for (let i = 0; i < next.length; i++) {
    const a = prev[i] as number;
    const b = next[i] as number;
    // Returning to even is always taken, so a recovered path gets its full share back.
    if (Math.abs(a - b) > margin || (b === p.maxWeight && a !== b && next.every((x) => x === p.maxWeight)))
      return next;
  }
  return prev;
}
