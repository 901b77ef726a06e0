// The BGP-4 finite state machine of one connection, sans I/O (RFC 4271 §8, with RFC 6608 FSM error
// subcodes, the DelayOpen option of §8.1.1 and the DampPeerOscillations option as an exponentially
// backed-off IdleHold timer).
//
//   step(state, event, env) → { state, actions }
//
// The driver owns the socket and one timer: after each step it executes the actions in order and
// arms its timer for `nextDeadline(state)`; when that fires it feeds `dueTimer(state, now)` back in.
// Timers are deadlines inside the state, so "which timers run" is a pure function of the state and
// checkable by property tests. Every transition records a reason (STYLE.md item 7).
//
// Collision detection (§6.8) spans two connections and lives in the peer object above this
// machine; it reaches here as the `collision-dump` event (RFC 4271 Event 23).

import { CeaseSubcode, ErrorCode, FsmSubcode } from '../../wire/bgp/constants.js';

// ===== Configuration =====

/** Per-neighbour timer and behaviour settings (seconds unless named otherwise). */
export interface FsmConfig {
  /** Never initiate TCP; wait for the peer (RFC 4271 PassiveTcpEstablishment). */
  readonly passive: boolean;
  /** Hold time we offer in OPEN (0 or >= 3). */
  readonly holdTime: number;
  /** Keepalive interval we want; the negotiated one is min(this, hold / 3). */
  readonly keepaliveTime: number;
  readonly connectRetryTime: number;
  /** 0 disables DelayOpen; otherwise seconds to wait for the peer's OPEN before sending ours. */
  readonly delayOpenTime: number;
  /** First IdleHold delay after a failure; 0 disables automatic restart damping. */
  readonly idleHoldTime: number;
  /** Ceiling for the exponential IdleHold back-off. */
  readonly idleHoldMaxTime: number;
  /** A session Established this long resets the IdleHold back-off to its first value. */
  readonly idleHoldResetAfter: number;
  /** Restart automatically after a failure (AutomaticStart after IdleHold). */
  readonly autoRestart: boolean;
}

export const DEFAULT_FSM_CONFIG: FsmConfig = {
  passive: false,
  holdTime: 90,
  keepaliveTime: 30,
  connectRetryTime: 30,
  delayOpenTime: 0,
  idleHoldTime: 1,
  idleHoldMaxTime: 120,
  idleHoldResetAfter: 60,
  autoRestart: true,
};

/** The "large value" for the hold timer while waiting for the peer's OPEN (RFC 4271 §8.2.2: 4 min). */
export const OPEN_SENT_HOLD_SECONDS = 240;

// ===== States, timers, reasons =====

export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'delayOpen' | 'idleHold';

export const TIMER_NAMES: readonly TimerName[] = [
  'connectRetry',
  'hold',
  'keepalive',
  'delayOpen',
  'idleHold',
];

/** Why the machine last changed state; shown by the admin API. */
export type TransitionReason =
  | { readonly kind: 'start' }
  | { readonly kind: 'admin-stop' }
  | { readonly kind: 'auto-stop'; readonly why: string }
  | { readonly kind: 'tcp-connected' }
  | { readonly kind: 'tcp-failed'; readonly error?: string }
  | { readonly kind: 'connect-retry-expired' }
  | { readonly kind: 'delay-open-expired' }
  | { readonly kind: 'idle-hold-expired' }
  | { readonly kind: 'hold-timer-expired' }
  | { readonly kind: 'open-received' }
  | { readonly kind: 'keepalive-received' }
  | {
      readonly kind: 'notification-received';
      readonly code: number;
      readonly subcode: number;
      readonly text?: string;
    }
  | {
      readonly kind: 'notification-sent';
      readonly code: number;
      readonly subcode: number;
      readonly why: string;
    }
  | { readonly kind: 'collision' }
  | { readonly kind: 'fsm-error'; readonly event: string };

export interface Transition {
  readonly from: FsmStateName;
  readonly to: FsmStateName;
  readonly at: number;
  readonly reason: TransitionReason;
}

/** Values fixed once the peer's OPEN is accepted. */
export interface Negotiated {
  /** min(ours, theirs); 0 means no keepalives and no hold timer. */
  readonly holdTime: number;
  readonly keepaliveTime: number;
}

export interface FsmState {
  readonly name: FsmStateName;
  /** RFC 4271 ConnectRetryCounter. */
  readonly connectRetryCounter: number;
  /** Timer deadlines in ms (absent = not running). */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  readonly negotiated?: Negotiated;
  /** Current IdleHold delay in seconds (doubles per failure up to the ceiling). */
  readonly idleHoldDelay: number;
  /** When the current or last Established period began (ms), for the back-off reset. */
  readonly establishedAt?: number;
  /** After a manual stop the machine stays in Idle until a start event. */
  readonly adminDown: boolean;
  readonly lastTransition?: Transition;
}

/** A fresh machine: Idle, administratively down until `start`. */
export function initialState(config: FsmConfig): FsmState {
  return {
    name: 'Idle',
    connectRetryCounter: 0,
    timers: {},
    idleHoldDelay: config.idleHoldTime,
    adminDown: true,
  };
}

// ===== Events (RFC 4271 §8.1 numbers in comments) =====

export type FsmEvent =
  /** 1 ManualStart, 3 AutomaticStart, 4/5 …with PassiveTcpEstablishment (passive comes from config). */
  | { readonly kind: 'start' }
  /** 2 ManualStop, 8 AutomaticStop (e.g. maximum prefixes; `subcode` is the Cease subcode to send). */
  | {
      readonly kind: 'stop';
      readonly automatic: boolean;
      readonly subcode: number;
      readonly data?: Uint8Array;
      readonly why?: string;
    }
  /** 9, 10, 11, 12, 13: a timer's deadline passed. */
  | { readonly kind: 'timer'; readonly timer: TimerName }
  /** 16 Tcp_CR_Acked, 17 TcpConnectionConfirmed (14 TcpConnection_Valid is decided above). */
  | { readonly kind: 'tcp-connected' }
  /** 18 TcpConnectionFails. */
  | { readonly kind: 'tcp-failed'; readonly error?: string }
  /** 19 BGPOpen / 20 BGPOpen with DelayOpenTimer running: an OPEN that passed the checks. */
  | { readonly kind: 'open'; readonly peerHoldTime: number }
  /** 21 BGPHeaderErr, 22 BGPOpenMsgErr, 28 UpdateMsgErr: a NOTIFICATION must be sent. */
  | {
      readonly kind: 'message-error';
      readonly code: number;
      readonly subcode: number;
      readonly data?: Uint8Array;
      readonly why: string;
    }
  /** 23 OpenCollisionDump. */
  | { readonly kind: 'collision-dump' }
  /** 24 NotifMsgVerErr, 25 NotifMsg. */
  | { readonly kind: 'notification'; readonly code: number; readonly subcode: number; readonly text?: string }
  /** 26 KeepAliveMsg. */
  | { readonly kind: 'keepalive' }
  /** 27 UpdateMsg (ROUTE-REFRESH is folded in: it also proves the peer alive). */
  | { readonly kind: 'update' }
  /** The driver sent a KEEPALIVE or UPDATE: restart the keepalive timer (§8.2.2 Established). */
  | { readonly kind: 'sent-message' };

// ===== Actions for the driver =====

export type FsmAction =
  /** Open a TCP connection to the peer. */
  | { readonly kind: 'connect' }
  /** Close the TCP connection (after sending any queued NOTIFICATION). */
  | { readonly kind: 'disconnect' }
  | { readonly kind: 'send-open' }
  | { readonly kind: 'send-keepalive' }
  | {
      readonly kind: 'send-notification';
      readonly code: number;
      readonly subcode: number;
      readonly data: Uint8Array;
    }
  /** The session reached Established: start exchanging routes. */
  | { readonly kind: 'established'; readonly negotiated: Negotiated }
  /** The session left Established: delete the peer's routes and release resources. */
  | { readonly kind: 'session-down'; readonly reason: TransitionReason };

/** What the machine needs from the outside world besides the event. */
export interface FsmEnv {
  /** Current time in ms. */
  readonly now: number;
  /** A uniform random number in [0, 1), for RFC 4271 §10 jitter. */
  readonly random: () => number;
}

export interface StepResult {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}

// ===== Queries =====

/** The earliest running timer, or undefined when none runs. */
export function nextDeadline(s: FsmState): { readonly timer: TimerName; readonly at: number } | undefined {
  let best: { timer: TimerName; at: number } | undefined;
  for (const t of TIMER_NAMES) {
    const at = s.timers[t];
    if (at !== undefined && (best === undefined || at < best.at)) best = { timer: t, at };
  }
  return best;
}

/** The first timer whose deadline is at or before `now`, if any. */
export function dueTimer(s: FsmState, now: number): TimerName | undefined {
  const next = nextDeadline(s);
  return next !== undefined && next.at <= now ? next.timer : undefined;
}

/** The timers each state may run (the property tests check this invariant after every step). */
export const ALLOWED_TIMERS: Readonly<Record<FsmStateName, readonly TimerName[]>> = {
  Idle: ['idleHold'],
  Connect: ['connectRetry', 'delayOpen'],
  Active: ['connectRetry', 'delayOpen'],
  OpenSent: ['hold'],
  OpenConfirm: ['hold', 'keepalive'],
  Established: ['hold', 'keepalive'],
};

// ===== The machine =====

const NO_DATA = new Uint8Array(0);

/** Jittered duration in ms: RFC 4271 §10 multiplies by a random factor in [0.75, 1]. */
function jittered(seconds: number, env: FsmEnv): number {
  return Math.round(seconds * 1000 * (0.75 + 0.25 * env.random()));
}

/** RFC 4271 §4.4 / §10: keepalive is a third of the hold time at most. */
export function negotiate(config: FsmConfig, peerHoldTime: number): Negotiated {
  const holdTime = Math.min(config.holdTime, peerHoldTime);
  const keepaliveTime =
    holdTime === 0 ? 0 : Math.max(1, Math.min(config.keepaliveTime, Math.floor(holdTime / 3)));
  return { holdTime, keepaliveTime };
}

/** Advance the machine by one event. */
export function step(s: FsmState, ev: FsmEvent, config: FsmConfig, env: FsmEnv): StepResult {
  const m = new Machine(s, config, env);
  m.handle(ev);
  return { state: m.state, actions: m.actions };
}

/** One step's scratch: the evolving state and the actions produced. */
class Machine {
  readonly actions: FsmAction[] = [];

  constructor(
    public state: FsmState,
    readonly config: FsmConfig,
    readonly env: FsmEnv,
  ) {}

  handle(ev: FsmEvent): void {
    switch (this.state.name) {
      case 'Idle':
        return this.idle(ev);
      case 'Connect':
      case 'Active':
        return this.connecting(ev);
      case 'OpenSent':
        return this.openSent(ev);
      case 'OpenConfirm':
        return this.openConfirm(ev);
      case 'Established':
        return this.established(ev);
      default:
        return assertNever(this.state.name);
    }
  }

  // ----- helpers -----

  private setTimers(timers: Partial<Record<TimerName, number>>): void {
    this.state = { ...this.state, timers };
  }

  private goto(to: FsmStateName, reason: TransitionReason, timers: Partial<Record<TimerName, number>>): void {
    const from = this.state.name;
    this.state = { ...this.state, name: to, timers };
    if (from !== to) this.state = { ...this.state, lastTransition: { from, to, at: this.env.now, reason } };
  }

  /** Where a start leads: Active for a passive neighbour, else Connect with a connection attempt. */
  private begin(reason: TransitionReason): void {
    const timers = { connectRetry: this.env.now + jittered(this.config.connectRetryTime, this.env) };
    this.state = {
      ...this.state,
      connectRetryCounter: reason.kind === 'start' ? 0 : this.state.connectRetryCounter,
    };
    if (this.config.passive) {
      this.goto('Active', reason, timers);
    } else {
      this.goto('Connect', reason, timers);
      this.actions.push({ kind: 'connect' });
    }
  }

  /**
   * Fall back to Idle: drop the connection, release resources, and (unless stopped by an operator)
   * arm the IdleHold timer with exponential back-off (DampPeerOscillations).
   */
  private toIdle(reason: TransitionReason, opts: { countFailure: boolean; admin?: boolean }): void {
    const wasEstablished = this.state.name === 'Established';
    this.actions.push({ kind: 'disconnect' });
    if (wasEstablished) this.actions.push({ kind: 'session-down', reason });
    const admin = opts.admin === true;
    let delay = this.state.idleHoldDelay;
    const est = this.state.establishedAt;
    if (wasEstablished && est !== undefined && this.env.now - est >= this.config.idleHoldResetAfter * 1000) {
      delay = this.config.idleHoldTime;
    }
    const timers: Partial<Record<TimerName, number>> = {};
    let nextDelay = delay;
    if (!admin && this.config.autoRestart) {
      timers.idleHold = this.env.now + Math.max(delay, 0) * 1000;
      // A first delay of 0 means restart at once every time; otherwise double up to the ceiling.
      nextDelay = this.config.idleHoldTime === 0 ? 0 : Math.min(delay * 2, this.config.idleHoldMaxTime);
    }
    this.state = {
      ...this.state,
      connectRetryCounter: admin ? 0 : this.state.connectRetryCounter + (opts.countFailure ? 1 : 0),
      idleHoldDelay: nextDelay,
      adminDown: admin ? true : this.state.adminDown,
    };
    const { negotiated: _drop, ...rest } = this.state;
    this.state = rest;
    this.goto('Idle', reason, timers);
  }

  private notify(code: number, subcode: number, data: Uint8Array = NO_DATA): void {
    this.actions.push({ kind: 'send-notification', code, subcode, data });
  }

  /** Send NOTIFICATION FSM error (RFC 6608 subcode by state) and fall to Idle. */
  private fsmError(event: string): void {
    const sub =
      this.state.name === 'OpenSent'
        ? FsmSubcode.UNEXPECTED_MESSAGE_IN_OPEN_SENT
        : this.state.name === 'OpenConfirm'
          ? FsmSubcode.UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM
          : this.state.name === 'Established'
            ? FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED
            : FsmSubcode.UNSPECIFIED;
    this.notify(ErrorCode.FSM, sub);
    this.toIdle({ kind: 'fsm-error', event }, { countFailure: true });
  }

  private stop(ev: Extract<FsmEvent, { kind: 'stop' }>, sendCease: boolean): void {
    if (sendCease) this.notify(ErrorCode.CEASE, ev.subcode, ev.data ?? NO_DATA);
    const reason: TransitionReason = ev.automatic
      ? { kind: 'auto-stop', why: ev.why ?? 'automatic stop' }
      : { kind: 'admin-stop' };
    this.toIdle(reason, { countFailure: ev.automatic, admin: !ev.automatic });
  }

  /** Send OPEN and wait for the peer's with the large hold value. */
  private sendOpen(reason: TransitionReason): void {
    this.actions.push({ kind: 'send-open' });
    this.goto('OpenSent', reason, { hold: this.env.now + OPEN_SENT_HOLD_SECONDS * 1000 });
  }

  /** Timers for OpenConfirm/Established from the negotiated values. */
  private sessionTimers(n: Negotiated): Partial<Record<TimerName, number>> {
    if (n.holdTime === 0) return {};
    return {
      hold: this.env.now + n.holdTime * 1000,
      keepalive: this.env.now + jittered(n.keepaliveTime, this.env),
    };
  }

  // ----- Idle (§8.2.2) -----

  private idle(ev: FsmEvent): void {
    switch (ev.kind) {
      case 'start':
        this.state = { ...this.state, adminDown: false, idleHoldDelay: this.config.idleHoldTime };
        this.begin({ kind: 'start' });
        return;
      case 'timer':
        if (ev.timer === 'idleHold' && this.state.timers.idleHold !== undefined && !this.state.adminDown) {
          this.begin({ kind: 'idle-hold-expired' });
        }
        return;
      case 'tcp-connected':
        // A connection that reached us while Idle is refused (§8.2.2: Idle refuses connections).
        this.actions.push({ kind: 'disconnect' });
        return;
      case 'stop':
        // Stops are ignored in Idle, but a manual stop must also cancel a pending automatic restart.
        if (!ev.automatic) {
          this.state = { ...this.state, adminDown: true };
          this.setTimers({});
        }
        return;
      case 'tcp-failed':
      case 'open':
      case 'message-error':
      case 'collision-dump':
      case 'notification':
      case 'keepalive':
      case 'update':
      case 'sent-message':
        return;
      default:
        return assertNever(ev);
    }
  }

  // ----- Connect and Active (§8.2.2); they differ only in where a retry or failure leads -----

  private connecting(ev: FsmEvent): void {
    const inConnect = this.state.name === 'Connect';
    const delayOpenRunning = this.state.timers.delayOpen !== undefined;
    switch (ev.kind) {
      case 'start':
        return;
      case 'stop':
        // With DelayOpen running the peer has a connection but no OPEN yet: a Cease is still polite.
        return this.stop(ev, delayOpenRunning);
      case 'timer':
        switch (ev.timer) {
          case 'connectRetry':
            if (this.config.passive) {
              // A passive neighbour keeps waiting in Active; the retry timer only restarts.
              this.goto(
                'Active',
                { kind: 'connect-retry-expired' },
                {
                  connectRetry: this.env.now + jittered(this.config.connectRetryTime, this.env),
                },
              );
              return;
            }
            if (inConnect) this.actions.push({ kind: 'disconnect' });
            this.actions.push({ kind: 'connect' });
            this.goto(
              'Connect',
              { kind: 'connect-retry-expired' },
              {
                connectRetry: this.env.now + jittered(this.config.connectRetryTime, this.env),
              },
            );
            return;
          case 'delayOpen':
            return this.sendOpen({ kind: 'delay-open-expired' });
          case 'hold':
          case 'keepalive':
          case 'idleHold':
            return this.toIdle({ kind: 'fsm-error', event: `timer ${ev.timer}` }, { countFailure: true });
          default:
            return assertNever(ev.timer);
        }
      case 'tcp-connected':
        if (this.config.delayOpenTime > 0) {
          // §8.2.2: stop ConnectRetry and wait DelayOpen for the peer's OPEN.
          this.setTimers({ delayOpen: this.env.now + this.config.delayOpenTime * 1000 });
          return;
        }
        return this.sendOpen({ kind: 'tcp-connected' });
      case 'tcp-failed':
        if (delayOpenRunning || !inConnect) {
          // §8.2.2: Connect with DelayOpen running → Active; Active → Idle.
          if (inConnect) {
            this.goto('Active', tcpFailed(ev), {
              connectRetry: this.env.now + jittered(this.config.connectRetryTime, this.env),
            });
            return;
          }
          return this.toIdle(tcpFailed(ev), { countFailure: true });
        }
        return this.toIdle(tcpFailed(ev), { countFailure: false });
      case 'open':
        if (delayOpenRunning) {
          // Event 20: the peer spoke first while we delayed our OPEN.
          const n = negotiate(this.config, ev.peerHoldTime);
          this.actions.push({ kind: 'send-open' }, { kind: 'send-keepalive' });
          this.state = { ...this.state, negotiated: n };
          this.goto('OpenConfirm', { kind: 'open-received' }, this.sessionTimers(n));
          return;
        }
        return this.toIdle({ kind: 'fsm-error', event: 'open' }, { countFailure: true });
      case 'message-error':
        // RFC 4271 allows a NOTIFICATION here only with SendNOTIFICATIONwithoutOPEN; with DelayOpen
        // the peer has spoken, so tell it what was wrong.
        if (delayOpenRunning) this.notify(ev.code, ev.subcode, ev.data ?? NO_DATA);
        return this.toIdle(notificationSent(ev), { countFailure: true });
      case 'notification':
        return this.toIdle(notificationReceived(ev), { countFailure: !delayOpenRunning });
      case 'collision-dump':
      case 'keepalive':
      case 'update':
        return this.toIdle({ kind: 'fsm-error', event: ev.kind }, { countFailure: true });
      case 'sent-message':
        return;
      default:
        return assertNever(ev);
    }
  }

  // ----- OpenSent (§8.2.2) -----

  private openSent(ev: FsmEvent): void {
    switch (ev.kind) {
      case 'start':
      case 'sent-message':
        return;
      case 'stop':
        return this.stop(ev, true);
      case 'timer':
        if (ev.timer === 'hold') {
          this.notify(ErrorCode.HOLD_TIMER_EXPIRED, 0);
          return this.toIdle({ kind: 'hold-timer-expired' }, { countFailure: true });
        }
        return this.fsmError(`timer ${ev.timer}`);
      case 'tcp-connected':
        // A second connection is the peer object's business (collision detection), not this one's.
        return;
      case 'tcp-failed':
        // §8.2.2: close, restart ConnectRetry, keep listening in Active.
        this.actions.push({ kind: 'disconnect' });
        this.goto('Active', tcpFailed(ev), {
          connectRetry: this.env.now + jittered(this.config.connectRetryTime, this.env),
        });
        return;
      case 'open': {
        const n = negotiate(this.config, ev.peerHoldTime);
        this.actions.push({ kind: 'send-keepalive' });
        this.state = { ...this.state, negotiated: n };
        this.goto('OpenConfirm', { kind: 'open-received' }, this.sessionTimers(n));
        return;
      }
      case 'message-error':
        this.notify(ev.code, ev.subcode, ev.data ?? NO_DATA);
        return this.toIdle(notificationSent(ev), { countFailure: true });
      case 'collision-dump':
        this.notify(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION);
        return this.toIdle({ kind: 'collision' }, { countFailure: true });
      case 'notification':
        return this.toIdle(notificationReceived(ev), { countFailure: true });
      case 'keepalive':
      case 'update':
        return this.fsmError(ev.kind);
      default:
        return assertNever(ev);
    }
  }

  // ----- OpenConfirm and Established (§8.2.2) -----
  // Both run the negotiated hold and keepalive timers and fall to Idle the same way; they differ
  // only in what a KEEPALIVE or UPDATE means.

  private openConfirm(ev: FsmEvent): void {
    if (ev.kind === 'keepalive') {
      const n = this.state.negotiated ?? negotiate(this.config, this.config.holdTime);
      this.state = { ...this.state, establishedAt: this.env.now };
      this.goto('Established', { kind: 'keepalive-received' }, this.sessionTimers(n));
      this.actions.push({ kind: 'established', negotiated: n });
      return;
    }
    if (ev.kind === 'open' || ev.kind === 'update') return this.fsmError(ev.kind);
    return this.synchronised(ev);
  }

  private established(ev: FsmEvent): void {
    if (ev.kind === 'keepalive' || ev.kind === 'update') return this.restartHold();
    if (ev.kind === 'open') return this.fsmError('open');
    return this.synchronised(ev);
  }

  /** Events handled alike in OpenConfirm and Established. */
  private synchronised(ev: Exclude<FsmEvent, { kind: 'keepalive' | 'update' | 'open' }>): void {
    switch (ev.kind) {
      case 'start':
      case 'tcp-connected':
        return;
      case 'sent-message':
        return this.restartKeepalive();
      case 'stop':
        return this.stop(ev, true);
      case 'timer':
        switch (ev.timer) {
          case 'hold':
            this.notify(ErrorCode.HOLD_TIMER_EXPIRED, 0);
            return this.toIdle({ kind: 'hold-timer-expired' }, { countFailure: true });
          case 'keepalive':
            this.actions.push({ kind: 'send-keepalive' });
            return this.restartKeepalive();
          case 'connectRetry':
          case 'delayOpen':
          case 'idleHold':
            return this.fsmError(`timer ${ev.timer}`);
          default:
            return assertNever(ev.timer);
        }
      case 'tcp-failed':
        return this.toIdle(tcpFailed(ev), { countFailure: true });
      case 'notification':
        return this.toIdle(notificationReceived(ev), { countFailure: true });
      case 'message-error':
        this.notify(ev.code, ev.subcode, ev.data ?? NO_DATA);
        return this.toIdle(notificationSent(ev), { countFailure: true });
      case 'collision-dump':
        this.notify(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION);
        return this.toIdle({ kind: 'collision' }, { countFailure: true });
      default:
        return assertNever(ev);
    }
  }

  private restartHold(): void {
    const n = this.state.negotiated;
    if (n === undefined || n.holdTime === 0) return;
    this.setTimers({ ...this.state.timers, hold: this.env.now + n.holdTime * 1000 });
  }

  private restartKeepalive(): void {
    const n = this.state.negotiated;
    if (n === undefined || n.holdTime === 0) return;
    this.setTimers({ ...this.state.timers, keepalive: this.env.now + jittered(n.keepaliveTime, this.env) });
  }
}

/** The reason for a transition caused by a failed connection. */
function tcpFailed(ev: Extract<FsmEvent, { kind: 'tcp-failed' }>): TransitionReason {
  return { kind: 'tcp-failed', ...(ev.error !== undefined ? { error: ev.error } : {}) };
}

/** The reason for a transition caused by a NOTIFICATION from the peer. */
function notificationReceived(ev: Extract<FsmEvent, { kind: 'notification' }>): TransitionReason {
  return {
    kind: 'notification-received',
    code: ev.code,
    subcode: ev.subcode,
    ...(ev.text !== undefined ? { text: ev.text } : {}),
  };
}

/** The reason for a transition caused by a NOTIFICATION we send for a message error. */
function notificationSent(ev: Extract<FsmEvent, { kind: 'message-error' }>): TransitionReason {
  return { kind: 'notification-sent', code: ev.code, subcode: ev.subcode, why: ev.why };
}

function assertNever(x: never): never {
  throw new Error(`unhandled FSM case ${JSON.stringify(x)}`);
}
