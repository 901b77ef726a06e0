// Waiting for in-process daemons under a FakeClock: turn the event loop (and optionally advance
// the clock) until a condition holds, failing after a bounded number of turns.
import type { FakeClock } from '../../lib/clock.js';

/** `until(cond, clock, stepMs?, max?)` with this file's defaults for the step and the turn limit. */
export function makeUntil(
  defaultStepMs: number,
  defaultMax: number,
): (cond: () => boolean, clock: FakeClock, stepMs?: number, max?: number) => Promise<void> {
  return async (cond, clock, stepMs = defaultStepMs, max = defaultMax) => {
    for (let i = 0; i < max; i++) {
      if (cond()) return;
      if (stepMs > 0) clock.advance(stepMs);
      await new Promise((r) => setImmediate(r));
    }
    throw new Error('condition not reached');
  };
}
