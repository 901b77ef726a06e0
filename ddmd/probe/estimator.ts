// Per-link delay estimation for DDM's probes, sans I/O: smoothed RTT, minimum RTT, jitter and loss
// from a stream of probe sends and replies, and the liveness verdict that expires a neighbour after
// a run of lost probes.
//
// RTT samples are (t4 − t1) − (t3 − t2) as in RFC 9616 (Babel RTT), computed by the caller from the
// probe packet. Smoothing follows RFC 6298 §2 (α = 1/8 for the mean, β = 1/4 for the variation,
// which we report as jitter). The minimum is kept over a sliding window of samples so that a route
// change or a slower link is noticed, not pinned to an old best.

// ===== Parameters =====

export interface EstimatorParams {
  /** Gain of the smoothed RTT (RFC 6298 α). */
  readonly alpha: number;
  /** Gain of the RTT variation (RFC 6298 β). */
  readonly beta: number;
  /** Samples kept for the windowed minimum. */
  readonly minWindow: number;
  /** Recent samples whose minimum gives the delay estimate (`delayUs`). */
  readonly delayWindow: number;
  /** Probes kept for the loss ratio. */
  readonly lossWindow: number;
  /** Consecutive lost probes that declare the link dead. */
  readonly deadAfter: number;
  /** Consecutive answered probes that bring a dead link back. */
  readonly aliveAfter: number;
  /** A probe with no reply after this many µs is lost. */
  readonly replyTimeoutUs: number;
}

export const DEFAULT_ESTIMATOR_PARAMS: EstimatorParams = {
  alpha: 1 / 8,
  beta: 1 / 4,
  minWindow: 100,
  delayWindow: 10,
  lossWindow: 50,
  deadAfter: 5,
  aliveAfter: 2,
  replyTimeoutUs: 500_000,
};

// ===== State =====

/** What the API and selection read about one link. */
export interface LinkStats {
  /** Smoothed RTT in µs (undefined before the first sample). */
  readonly srttUs: number | undefined;
  /** Minimum RTT over the window, µs. */
  readonly minRttUs: number | undefined;
  /** Smoothed absolute deviation of RTT from the mean, µs. */
  readonly jitterUs: number | undefined;
  /** Most recent sample, µs. */
  readonly lastRttUs: number | undefined;
  /** Fraction of the last `lossWindow` probes that went unanswered. */
  readonly loss: number;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  /** Probes lost in a row right now. */
  readonly consecutiveLost: number;
  readonly alive: boolean;
}

/** The link estimator for one neighbour. */
export class LinkEstimator {
  private srtt: number | undefined;
  private rttvar: number | undefined;
  private last: number | undefined;
  private samples: number[] = [];
  /** Outcome ring for loss: true = answered. */
  private outcomes: boolean[] = [];
  /** seq → send time (µs, caller's clock). */
  private outstanding = new Map<number, number>();
  private sentCount = 0;
  private receivedCount = 0;
  private lostCount = 0;
  private lostRun = 0;
  private answeredRun = 0;
  private isAlive = false;
  private lastAnsweredSentAt = -Infinity;

  constructor(readonly params: EstimatorParams = DEFAULT_ESTIMATOR_PARAMS) {}

  /** A probe left with sequence number `seq` at `nowUs`. */
  sent(seq: number, nowUs: number): void {
    this.outstanding.set(seq, nowUs);
    this.sentCount++;
  }

  /**
   * A reply to `seq` arrived carrying an RTT sample (µs). Replies to unknown or already-expired
   * probes are ignored (duplicates, or a peer echoing stale sequence numbers). Returns true when
   * this reply changed the link from dead to alive.
   */
  replied(seq: number, rttUs: number): boolean {
    const sentAt = this.outstanding.get(seq);
    if (sentAt === undefined) return false;
    this.outstanding.delete(seq);
    if (!(rttUs >= 0) || !Number.isFinite(rttUs)) return false;
    this.receivedCount++;
    this.record(true);
    this.lastAnsweredSentAt = Math.max(this.lastAnsweredSentAt, sentAt);
    this.lostRun = 0;
    this.answeredRun++;
    this.last = rttUs;
    if (this.srtt === undefined || this.rttvar === undefined) {
      // RFC 6298 §2.2: first measurement.
      this.srtt = rttUs;
      this.rttvar = rttUs / 2;
    } else {
      // RFC 6298 §2.3: variation first, with the old mean.
      this.rttvar = (1 - this.params.beta) * this.rttvar + this.params.beta * Math.abs(this.srtt - rttUs);
      this.srtt = (1 - this.params.alpha) * this.srtt + this.params.alpha * rttUs;
    }
    this.samples.push(rttUs);
    if (this.samples.length > this.params.minWindow) this.samples.shift();
    if (!this.isAlive && this.answeredRun >= this.params.aliveAfter) {
      this.isAlive = true;
      return true;
    }
    return false;
  }

  /** Expire probes older than the reply timeout. Returns true when this made the link dead. */
  /**
   * How long a probe may go unanswered: `replyTimeoutUs`, or more when the RTT itself runs high or
   * varies a lot (RFC 6298 §2: srtt + 4 · rttvar), capped at four times the minimum. A daemon
   * whose host is briefly starved of CPU answers late, not never; that must not count as loss.
   */
  get timeoutUs(): number {
    const base = this.params.replyTimeoutUs;
    if (this.srtt === undefined || this.rttvar === undefined) return base;
    return Math.min(4 * base, Math.max(base, this.srtt + 4 * this.rttvar));
  }

  expire(nowUs: number): boolean {
    let died = false;
    const timeout = this.timeoutUs;
    for (const [seq, at] of this.outstanding) {
      if (nowUs - at < timeout) continue;
      this.outstanding.delete(seq);
      this.lostCount++;
      this.record(false);
      // A probe older than one already answered says nothing about the link now: count it as
      // lost, but let it neither break a run of answers nor extend a run of losses.
      if (at < this.lastAnsweredSentAt) continue;
      this.answeredRun = 0;
      this.lostRun++;
      if (this.isAlive && this.lostRun >= this.params.deadAfter) {
        this.isAlive = false;
        died = true;
      }
    }
    return died;
  }

  /**
   * The link is known to be down (the kernel refused to send): dead at once, without waiting for
   * the probes to time out. Answers bring it back as usual.
   */
  markDead(): boolean {
    const was = this.isAlive;
    this.isAlive = false;
    this.answeredRun = 0;
    this.lostRun = Math.max(this.lostRun, this.params.deadAfter);
    return was;
  }

  /** Forget all samples (the neighbour restarted or was replaced). */
  reset(): void {
    this.srtt = undefined;
    this.rttvar = undefined;
    this.last = undefined;
    this.samples = [];
    this.outcomes = [];
    this.outstanding.clear();
    this.lostRun = 0;
    this.answeredRun = 0;
    this.isAlive = false;
    this.lastAnsweredSentAt = -Infinity;
  }

  private record(answered: boolean): void {
    this.outcomes.push(answered);
    if (this.outcomes.length > this.params.lossWindow) this.outcomes.shift();
  }

  get alive(): boolean {
    return this.isAlive;
  }

  /**
   * The one-way delay estimate in µs that paths accumulate: half the minimum RTT over the last
   * `delayWindow` samples. Queueing delay on a loaded link raises every sample, so the windowed
   * minimum follows it within one window; a daemon's own scheduling noise (a busy event loop
   * delays single replies) only adds sporadic spikes, which the minimum ignores. The smoothed RTT
   * would follow those spikes and churn advertisements.
   */
  get delayUs(): number | undefined {
    const n = this.samples.length;
    if (n === 0) return undefined;
    let min = Infinity;
    for (let i = Math.max(0, n - this.params.delayWindow); i < n; i++)
      min = Math.min(min, this.samples[i] as number);
    return Math.round(min / 2);
  }

  stats(): LinkStats {
    const lost = this.outcomes.filter((x) => !x).length;
    return {
      srttUs: this.srtt === undefined ? undefined : Math.round(this.srtt),
      minRttUs: this.samples.length === 0 ? undefined : Math.min(...this.samples),
      jitterUs: this.rttvar === undefined ? undefined : Math.round(this.rttvar),
      lastRttUs: this.last,
      loss: this.outcomes.length === 0 ? 0 : lost / this.outcomes.length,
      sent: this.sentCount,
      received: this.receivedCount,
      lost: this.lostCount,
      consecutiveLost: this.lostRun,
      alive: this.isAlive,
    };
  }
}
