// Time as a seam: daemons read the time and arm timers through a `Clock`, so protocol tests run
// several routers in one process on a fake clock that advances only when the test says so.

/** A timer handle returned by `Clock.setTimer`. */
export interface TimerHandle {
  cancel(): void;
}

/** Monotonic time in ms and one-shot timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale (not wall time). */
  now(): number;
  /** Run `fn` once at or after `at` (ms on the same scale as `now`). */
  setTimer(at: number, fn: () => void): TimerHandle;
}

/** The real monotonic clock (performance.now) with Node timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(at, fn) {
    const t = setTimeout(fn, Math.max(0, at - performance.now()));
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface FakeTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told; timers fire in deadline order, ties in creation order. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(at: number, fn: () => void): TimerHandle {
    const timer: FakeTimer = { at, seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of live timers. */
  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  /** Advance by `ms`, firing every timer that falls due, in order; timers set while firing count too. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: FakeTimer | undefined;
      for (const x of this.timers) {
        if (x.at <= until && (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq)))
          next = x;
      }
      if (next === undefined) break;
      next.cancelled = true;
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = until;
  }
}
