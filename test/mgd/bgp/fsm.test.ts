// The BGP FSM (mgd/bgp/fsm.ts): RFC 4271 §8 walks through the states, DelayOpen, IdleHold back-off,
// FSM error subcodes, and properties over random event sequences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CeaseSubcode, ErrorCode, FsmSubcode } from '../../../wire/bgp/constants.js';
import {
  ALLOWED_TIMERS,
  DEFAULT_FSM_CONFIG,
  dueTimer,
  initialState,
  nextDeadline,
  step,
  TIMER_NAMES,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
} from '../../../mgd/bgp/fsm.js';

const env = (now: number) => ({ now, random: () => 0.5 });

/** Run events from a state, returning the final state and every action. */
function run(config: FsmConfig, events: FsmEvent[], start = initialState(config), now = 0) {
  let s = start;
  const actions: FsmAction[][] = [];
  for (const ev of events) {
    const r = step(s, ev, config, env(now));
    s = r.state;
    actions.push([...r.actions]);
  }
  return { s, actions };
}

const kinds = (as: readonly FsmAction[]) => as.map((a) => a.kind);

describe('BGP FSM walks', () => {
  const cfg = DEFAULT_FSM_CONFIG;

  it('active open reaches Established and keeps the timers the RFC asks for', () => {
    const { s, actions } = run(cfg, [
      { kind: 'start' },
      { kind: 'tcp-connected' },
      { kind: 'open', peerHoldTime: 9 },
      { kind: 'keepalive' },
    ]);
    expect(actions.map(kinds)).toEqual([['connect'], ['send-open'], ['send-keepalive'], ['established']]);
    expect(s.name).toBe('Established');
    expect(s.negotiated).toEqual({ holdTime: 9, keepaliveTime: 3 });
    expect(s.timers.hold).toBe(9000);
    expect(s.timers.keepalive).toBeGreaterThanOrEqual(2250);
    expect(s.timers.keepalive).toBeLessThanOrEqual(3000);
    expect(s.lastTransition).toMatchObject({
      from: 'OpenConfirm',
      to: 'Established',
      reason: { kind: 'keepalive-received' },
    });
  });

  it('OpenSent waits with the large hold value and fails on its expiry with a NOTIFICATION', () => {
    const { s: sent } = run(cfg, [{ kind: 'start' }, { kind: 'tcp-connected' }]);
    expect(sent.name).toBe('OpenSent');
    expect(sent.timers).toEqual({ hold: 240_000 });
    const r = step(sent, { kind: 'timer', timer: 'hold' }, cfg, env(240_000));
    expect(r.state.name).toBe('Idle');
    expect(r.actions[0]).toEqual({
      kind: 'send-notification',
      code: ErrorCode.HOLD_TIMER_EXPIRED,
      subcode: 0,
      data: new Uint8Array(0),
    });
    expect(kinds(r.actions)).toContain('disconnect');
    expect(r.state.timers.idleHold).toBe(240_000 + cfg.idleHoldTime * 1000);
  });

  it('a passive neighbour waits in Active and never connects', () => {
    const passive = { ...cfg, passive: true };
    const { s, actions } = run(passive, [{ kind: 'start' }, { kind: 'timer', timer: 'connectRetry' }]);
    expect(s.name).toBe('Active');
    expect(actions.flat().some((a) => a.kind === 'connect')).toBe(false);
  });

  it('hold time 0 runs neither keepalive nor hold timers', () => {
    const { s } = run(cfg, [
      { kind: 'start' },
      { kind: 'tcp-connected' },
      { kind: 'open', peerHoldTime: 0 },
      { kind: 'keepalive' },
    ]);
    expect(s.name).toBe('Established');
    expect(s.timers).toEqual({});
  });

  it('DelayOpen: waits for the peer, answers its OPEN with OPEN + KEEPALIVE', () => {
    const d = { ...cfg, delayOpenTime: 5 };
    const { s, actions } = run(d, [{ kind: 'start' }, { kind: 'tcp-connected' }]);
    expect(s.name).toBe('Connect');
    expect(s.timers).toEqual({ delayOpen: 5000 });
    expect(actions[1]).toEqual([]);
    const r = step(s, { kind: 'open', peerHoldTime: 90 }, d, env(100));
    expect(kinds(r.actions)).toEqual(['send-open', 'send-keepalive']);
    expect(r.state.name).toBe('OpenConfirm');
    const e = step(s, { kind: 'timer', timer: 'delayOpen' }, d, env(5000));
    expect(kinds(e.actions)).toEqual(['send-open']);
    expect(e.state.name).toBe('OpenSent');
  });

  it('unexpected messages send the RFC 6608 subcode of the state', () => {
    const { s: sent } = run(cfg, [{ kind: 'start' }, { kind: 'tcp-connected' }]);
    const a = step(sent, { kind: 'update' }, cfg, env(1));
    expect(a.actions[0]).toMatchObject({
      kind: 'send-notification',
      code: ErrorCode.FSM,
      subcode: FsmSubcode.UNEXPECTED_MESSAGE_IN_OPEN_SENT,
    });
    const { s: conf } = run(cfg, [
      { kind: 'start' },
      { kind: 'tcp-connected' },
      { kind: 'open', peerHoldTime: 90 },
    ]);
    const b = step(conf, { kind: 'update' }, cfg, env(1));
    expect(b.actions[0]).toMatchObject({
      code: ErrorCode.FSM,
      subcode: FsmSubcode.UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM,
    });
    const { s: est } = run(cfg, [
      { kind: 'start' },
      { kind: 'tcp-connected' },
      { kind: 'open', peerHoldTime: 90 },
      { kind: 'keepalive' },
    ]);
    const c = step(est, { kind: 'open', peerHoldTime: 90 }, cfg, env(1));
    expect(c.actions[0]).toMatchObject({
      code: ErrorCode.FSM,
      subcode: FsmSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED,
    });
    expect(kinds(c.actions)).toContain('session-down');
  });

  it('a manual stop sends Cease, stays down and ignores stale timers', () => {
    const { s: est } = run(cfg, [
      { kind: 'start' },
      { kind: 'tcp-connected' },
      { kind: 'open', peerHoldTime: 90 },
      { kind: 'keepalive' },
    ]);
    const r = step(
      est,
      { kind: 'stop', automatic: false, subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN },
      cfg,
      env(10),
    );
    expect(r.actions[0]).toMatchObject({
      kind: 'send-notification',
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
    });
    expect(kinds(r.actions)).toEqual(['send-notification', 'disconnect', 'session-down']);
    expect(r.state).toMatchObject({ name: 'Idle', adminDown: true, timers: {}, connectRetryCounter: 0 });
    const again = step(r.state, { kind: 'timer', timer: 'idleHold' }, cfg, env(1e9));
    expect(again.state.name).toBe('Idle');
    expect(again.actions).toEqual([]);
  });

  it('a flapping neighbour backs off exponentially, and a stable session resets the back-off', () => {
    const c = { ...cfg, idleHoldTime: 1, idleHoldMaxTime: 8, idleHoldResetAfter: 60 };
    let s = run(c, [{ kind: 'start' }]).s;
    let now = 0;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      s = step(s, { kind: 'tcp-failed' }, c, env(now)).state;
      expect(s.name).toBe('Idle');
      const at = s.timers.idleHold!;
      delays.push((at - now) / 1000);
      now = at;
      s = step(s, { kind: 'timer', timer: 'idleHold' }, c, env(now)).state;
      expect(s.name).toBe('Connect');
    }
    expect(delays).toEqual([1, 2, 4, 8, 8, 8]);
    // Now a session that stays up for two minutes, then fails: back to the first delay.
    for (const ev of [
      { kind: 'tcp-connected' },
      { kind: 'open', peerHoldTime: 0 },
      { kind: 'keepalive' },
    ] as FsmEvent[]) {
      s = step(s, ev, c, env(now)).state;
    }
    now += 120_000;
    s = step(s, { kind: 'notification', code: 6, subcode: 2 }, c, env(now)).state;
    expect((s.timers.idleHold! - now) / 1000).toBe(1);
    expect(s.lastTransition?.reason).toEqual({ kind: 'notification-received', code: 6, subcode: 2 });
  });

  it('collision dump closes with Cease / connection collision resolution', () => {
    const { s } = run(cfg, [
      { kind: 'start' },
      { kind: 'tcp-connected' },
      { kind: 'open', peerHoldTime: 90 },
    ]);
    const r = step(s, { kind: 'collision-dump' }, cfg, env(5));
    expect(r.actions[0]).toMatchObject({
      code: ErrorCode.CEASE,
      subcode: CeaseSubcode.CONNECTION_COLLISION_RESOLUTION,
    });
    expect(r.state.lastTransition?.reason).toEqual({ kind: 'collision' });
  });
});

// ===== Properties over random event sequences =====

/** Events a driver could deliver; timer events are produced only for running timers (see below). */
const arbInput: fc.Arbitrary<FsmEvent | 'advance'> = fc.oneof(
  fc.constant<FsmEvent>({ kind: 'start' }),
  fc.record({
    kind: fc.constant('stop' as const),
    automatic: fc.boolean(),
    subcode: fc.constantFrom(1, 2, 3, 4),
  }),
  fc.constant<FsmEvent>({ kind: 'tcp-connected' }),
  fc.constant<FsmEvent>({ kind: 'tcp-failed' }),
  fc.record({ kind: fc.constant('open' as const), peerHoldTime: fc.constantFrom(0, 3, 9, 90, 180) }),
  fc.record({
    kind: fc.constant('message-error' as const),
    code: fc.constantFrom(1, 2, 3),
    subcode: fc.integer({ min: 1, max: 11 }),
    why: fc.constant('x'),
  }),
  fc.constant<FsmEvent>({ kind: 'collision-dump' }),
  fc.record({
    kind: fc.constant('notification' as const),
    code: fc.integer({ min: 1, max: 7 }),
    subcode: fc.nat(10),
  }),
  fc.constant<FsmEvent>({ kind: 'keepalive' }),
  fc.constant<FsmEvent>({ kind: 'update' }),
  fc.constant<FsmEvent>({ kind: 'sent-message' }),
  fc.constant('advance' as const),
);

const arbConfig: fc.Arbitrary<FsmConfig> = fc.record({
  passive: fc.boolean(),
  holdTime: fc.constantFrom(0, 3, 9, 90),
  keepaliveTime: fc.constantFrom(1, 3, 30),
  connectRetryTime: fc.constantFrom(1, 5, 30),
  delayOpenTime: fc.constantFrom(0, 0, 2),
  idleHoldTime: fc.constantFrom(0, 1, 2),
  idleHoldMaxTime: fc.constantFrom(4, 120),
  idleHoldResetAfter: fc.constantFrom(1, 60),
  autoRestart: fc.boolean(),
});

function checkInvariants(
  prev: FsmState,
  s: FsmState,
  actions: readonly FsmAction[],
  config: FsmConfig,
): void {
  // Only the timers the state may run are running.
  for (const t of TIMER_NAMES) {
    if (s.timers[t] !== undefined) expect(ALLOWED_TIMERS[s.name], `${t} in ${s.name}`).toContain(t);
  }
  // Session timers match the negotiated hold time.
  if (s.name === 'OpenConfirm' || s.name === 'Established') {
    expect(s.negotiated).toBeDefined();
    const running = s.timers.hold !== undefined && s.timers.keepalive !== undefined;
    expect(running).toBe(s.negotiated!.holdTime !== 0);
    if (s.negotiated!.holdTime !== 0)
      expect(s.negotiated!.keepaliveTime).toBeLessThanOrEqual(Math.max(1, s.negotiated!.holdTime / 3));
  }
  if (s.name === 'OpenSent') expect(s.timers.hold).toBeDefined();
  if (s.name === 'Connect' || s.name === 'Active') {
    expect(s.timers.connectRetry !== undefined || s.timers.delayOpen !== undefined).toBe(true);
  }
  if (s.name === 'Idle' && (s.adminDown || !config.autoRestart)) expect(s.timers.idleHold).toBeUndefined();
  // 'established' exactly when entering Established; 'session-down' exactly when leaving it.
  const k = kinds(actions);
  expect(k.includes('established')).toBe(prev.name !== 'Established' && s.name === 'Established');
  expect(k.includes('session-down')).toBe(prev.name === 'Established' && s.name !== 'Established');
  // A NOTIFICATION is always followed by closing the connection in the same step.
  const n = k.indexOf('send-notification');
  if (n >= 0) expect(k.slice(n)).toContain('disconnect');
  // Leaving a connected state for Idle always drops the connection.
  if (s.name === 'Idle' && prev.name !== 'Idle' && prev.name !== 'Connect' && prev.name !== 'Active')
    expect(k).toContain('disconnect');
  // Only non-passive machines connect.
  if (config.passive) expect(k).not.toContain('connect');
  expect(s.connectRetryCounter).toBeGreaterThanOrEqual(0);
}

describe('BGP FSM properties', () => {
  it('random event sequences never break the state/timer invariants', () => {
    fc.assert(
      fc.property(
        arbConfig,
        fc.array(arbInput, { maxLength: 60 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (config, inputs, r) => {
          let s = initialState(config);
          let now = 0;
          for (const input of inputs) {
            let ev: FsmEvent;
            if (input === 'advance') {
              // The driver's single timer fires: jump to the earliest deadline and deliver it.
              const next = nextDeadline(s);
              if (next === undefined) continue;
              now = Math.max(now, next.at);
              const due = dueTimer(s, now);
              expect(due).toBe(next.timer);
              ev = { kind: 'timer', timer: next.timer };
            } else {
              ev = input;
              now += 10;
            }
            const res = step(s, ev, config, { now, random: () => r });
            checkInvariants(s, res.state, res.actions, config);
            s = res.state;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('from any reachable state, a manual stop leads to an administratively down Idle with no timers', () => {
    fc.assert(
      fc.property(arbConfig, fc.array(arbInput, { maxLength: 30 }), (config, inputs) => {
        let s = initialState(config);
        let now = 0;
        for (const input of inputs) {
          if (input === 'advance') continue;
          now += 10;
          s = step(s, input, config, env(now)).state;
        }
        const r = step(s, { kind: 'stop', automatic: false, subcode: 2 }, config, env(now + 1));
        expect(r.state).toMatchObject({ name: 'Idle', adminDown: true, timers: {} });
      }),
      { numRuns: 1000 },
    );
  });
});
