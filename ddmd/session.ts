// One DDM interface, sans I/O: neighbour discovery (Maghemite-compatible solicit/advertise on
// ff02::dd, UDP 3549) and continuous delay probing of the neighbour found (UDP 3550).
//
//   tick(now) ─┐                           ┌─▶ send-discovery (solicit every interval; advertise
//   discovery ─┼─▶ InterfaceSession.step ──┤                    in answer to a solicitation)
//   probe     ─┘                           ├─▶ send-probe (request every probe interval; replies)
//                                          ├─▶ peer-up / peer-down (with the reason)
//                                          └─▶ delay (the smoothed one-way delay changed)
//
// Discovery alone expires a silent neighbour after `expiryMs` (Maghemite: 5 s). Probes do it much
// sooner: `deadAfter` lost probes in a row (default 5 × 100 ms) take the neighbour down, and a
// couple of answered probes bring it back, so a cut link is routed around in well under a second.

import {
  ddmAdvertisement,
  ddmSolicitation,
  DdmRouterKind,
  isUsableAdvertisement,
  type DdmDiscovery,
} from '../wire/ddm/discovery.js';
import {
  DdmProbeType,
  ddmProbeReply,
  probeReplyRtt,
  probeTimestamp,
  type DdmProbe,
} from '../wire/ddm/probe.js';
import { DEFAULT_ESTIMATOR_PARAMS, LinkEstimator, type LinkStats } from './probe/estimator.js';
import type { DdmRole } from './router.js';

// ===== Configuration =====

export interface SessionParams {
  readonly solicitIntervalMs: number;
  readonly expiryMs: number;
  readonly probeIntervalMs: number;
  /** Lost probes in a row that take the neighbour down. */
  readonly deadAfter: number;
  /** Answered probes in a row that bring it back. */
  readonly aliveAfter: number;
  /** Report a delay change only when it moves by at least this many µs. */
  readonly delayReportUs: number;
}

export const DEFAULT_SESSION_PARAMS: SessionParams = {
  solicitIntervalMs: 2000,
  expiryMs: 5000,
  probeIntervalMs: 100,
  deadAfter: 5,
  aliveAfter: 2,
  delayReportUs: 20,
};

// ===== Actions and state =====

export type SessionAction =
  | { readonly kind: 'send-discovery'; readonly packet: DdmDiscovery }
  | { readonly kind: 'send-probe'; readonly packet: DdmProbe; readonly to: string }
  | { readonly kind: 'peer-up'; readonly hostname: string; readonly peerKind: DdmRole; readonly addr: string }
  | {
      readonly kind: 'peer-down';
      readonly reason: 'discovery-expired' | 'probes-lost' | 'link-down' | 'peer-changed' | 'peer-restarted';
    }
  | { readonly kind: 'delay'; readonly delayUs: number | undefined };

export type SessionStateName = 'solicit' | 'exchange' | 'unreachable';

interface Neighbour {
  hostname: string;
  kind: DdmRole;
  addr: string;
  lastHeard: number;
  /** The neighbour's probe instance id, once seen. */
  instance: number | undefined;
}

/** The per-interface machine. Time is in ms; probe timestamps are derived from it in µs. */
export class InterfaceSession {
  private neighbour: Neighbour | undefined;
  private up = false;
  private nextSolicit = 0;
  private nextProbe = 0;
  private seq = 0;
  private reportedDelay: number | undefined;
  readonly estimator: LinkEstimator;
  private lastChange = 0;
  private lastReason = 'started';

  constructor(
    readonly ifname: string,
    readonly hostname: string,
    readonly role: DdmRole,
    /** Our probe instance id (random, nonzero). */
    readonly instance: number,
    readonly params: SessionParams = DEFAULT_SESSION_PARAMS,
  ) {
    this.estimator = new LinkEstimator({
      ...DEFAULT_ESTIMATOR_PARAMS,
      deadAfter: params.deadAfter,
      aliveAfter: params.aliveAfter,
      // 2.5 intervals: five lost probes in a row then take well under a second at 100 ms.
      replyTimeoutUs: Math.max(2.5 * params.probeIntervalMs, 200) * 1000,
    });
  }

  private get kindByte(): DdmRouterKind {
    return this.role === 'transit' ? DdmRouterKind.TRANSIT : DdmRouterKind.SERVER;
  }

  get state(): SessionStateName {
    if (this.neighbour === undefined) return 'solicit';
    return this.up ? 'exchange' : 'unreachable';
  }

  /** The neighbour as last discovered (even while unreachable). */
  get peer(): { hostname: string; kind: DdmRole; addr: string } | undefined {
    const n = this.neighbour;
    return n === undefined ? undefined : { hostname: n.hostname, kind: n.kind, addr: n.addr };
  }

  get stats(): LinkStats {
    return this.estimator.stats();
  }

  /** When the state last changed and why. */
  get lastTransition(): { at: number; reason: string } {
    return { at: this.lastChange, reason: this.lastReason };
  }

  /** The earliest time `tick` has something to do. */
  nextWake(): number {
    return this.neighbour === undefined ? this.nextSolicit : Math.min(this.nextSolicit, this.nextProbe);
  }

  /** Periodic work: solicitations, probes, expiry. */
  tick(now: number): SessionAction[] {
    const out: SessionAction[] = [];
    if (now >= this.nextSolicit) {
      out.push({ kind: 'send-discovery', packet: ddmSolicitation(this.hostname, this.kindByte) });
      this.nextSolicit = now + this.params.solicitIntervalMs;
    }
    const n = this.neighbour;
    if (n !== undefined && now - n.lastHeard >= this.params.expiryMs) {
      this.forget(out, now, 'discovery-expired');
      return out;
    }
    if (n !== undefined) {
      if (this.estimator.expire(now * 1000) && this.up) {
        this.up = false;
        this.transition(now, 'probes-lost');
        out.push({ kind: 'peer-down', reason: 'probes-lost' });
      }
      if (now >= this.nextProbe) {
        const seq = (this.seq = (this.seq + 1) >>> 0);
        this.estimator.sent(seq, now * 1000);
        out.push({
          kind: 'send-probe',
          to: n.addr,
          packet: {
            type: DdmProbeType.REQUEST,
            sequence: seq,
            instance: this.instance,
            t1: probeTimestamp(now * 1000),
          },
        });
        this.nextProbe = now + this.params.probeIntervalMs;
      }
    }
    return out;
  }

  /** A discovery packet arrived from `from` (the sender's link-local address). */
  onDiscovery(p: DdmDiscovery, from: string, now: number): SessionAction[] {
    const out: SessionAction[] = [];
    if (p.hostname === this.hostname) return out; // our own multicast looped back
    if (p.solicit)
      out.push({ kind: 'send-discovery', packet: ddmAdvertisement(this.hostname, this.kindByte) });
    if (!isUsableAdvertisement(p)) return out;
    const kind: DdmRole = p.kind === DdmRouterKind.TRANSIT ? 'transit' : 'server';
    const n = this.neighbour;
    if (n !== undefined && (n.hostname !== p.hostname || n.addr !== from)) {
      this.forget(out, now, 'peer-changed');
    }
    if (this.neighbour === undefined) {
      this.neighbour = { hostname: p.hostname, kind, addr: from, lastHeard: now, instance: undefined };
      this.estimator.reset();
      this.reportedDelay = undefined;
      this.nextProbe = now;
      this.transition(now, 'discovered');
      // Probing starts at once; the neighbour counts as up when probes answer.
      out.push(...this.tick(now).filter((a) => a.kind === 'send-probe'));
    } else {
      this.neighbour.lastHeard = now;
    }
    return out;
  }

  /** A probe packet arrived from `from`. */
  onProbe(p: DdmProbe, from: string, now: number): SessionAction[] {
    const out: SessionAction[] = [];
    const n = this.neighbour;
    if (p.type === DdmProbeType.REQUEST) {
      // Answer any neighbour's probe: the other side may have discovered us first.
      const t = probeTimestamp(now * 1000);
      out.push({ kind: 'send-probe', to: from, packet: ddmProbeReply(p, this.instance, t, t) });
      return out;
    }
    if (n === undefined || from !== n.addr || p.requesterInstance !== this.instance) return out;
    if (n.instance !== undefined && n.instance !== p.instance) {
      // The neighbour restarted: its state is gone, so drop it and let the exchange start over.
      n.instance = p.instance;
      if (this.up) {
        this.up = false;
        this.transition(now, 'peer-restarted');
        out.push({ kind: 'peer-down', reason: 'peer-restarted' });
      }
      this.estimator.reset();
    }
    n.instance = p.instance;
    const rtt = probeReplyRtt(p, probeTimestamp(now * 1000));
    if (!rtt.ok) return out;
    const back = this.estimator.replied(p.sequence, rtt.value);
    if (back && !this.up) {
      this.up = true;
      this.transition(now, 'probes-answered');
      out.push({ kind: 'peer-up', hostname: n.hostname, peerKind: n.kind, addr: n.addr });
    }
    const d = this.estimator.delayUs;
    if (
      this.up &&
      d !== undefined &&
      (this.reportedDelay === undefined || Math.abs(d - this.reportedDelay) >= this.params.delayReportUs)
    ) {
      this.reportedDelay = d;
      out.push({ kind: 'delay', delayUs: d });
    }
    return out;
  }

  /** Sending a probe failed locally (interface down, no route): the neighbour is unreachable now. */
  sendFailed(now: number): SessionAction[] {
    if (this.neighbour === undefined || !this.estimator.markDead() || !this.up) return [];
    this.up = false;
    this.transition(now, 'link-down');
    return [{ kind: 'peer-down', reason: 'link-down' }];
  }

  /** The link went down administratively or the interface vanished. */
  reset(now: number): SessionAction[] {
    const out: SessionAction[] = [];
    if (this.neighbour !== undefined) this.forget(out, now, 'discovery-expired');
    return out;
  }

  private forget(out: SessionAction[], now: number, reason: 'discovery-expired' | 'peer-changed'): void {
    if (this.up) out.push({ kind: 'peer-down', reason });
    this.up = false;
    this.neighbour = undefined;
    this.estimator.reset();
    this.reportedDelay = undefined;
    this.transition(now, reason);
  }

  private transition(now: number, reason: string): void {
    this.lastChange = now;
    this.lastReason = reason;
  }
}
