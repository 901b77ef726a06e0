// DDM interface sessions (ddmd/session.ts): discovery, probing, fast failure and recovery, over a
// simulated link with a one-way delay and a switch to drop everything.
import { describe, expect, it } from 'vitest';
import { InterfaceSession, type SessionAction } from '../../ddmd/session.js';

interface Wire {
  at: number;
  to: 'a' | 'b';
  action: SessionAction;
  from: string;
}

/** Two sessions joined by one link; time in ms. */
class Link {
  now = 0;
  delayMs = 0.05;
  dropping = false;
  queue: Wire[] = [];
  events: { at: number; who: 'a' | 'b'; action: SessionAction }[] = [];
  constructor(
    public a: InterfaceSession,
    public b: InterfaceSession,
  ) {}
  private emit(who: 'a' | 'b', actions: SessionAction[]): void {
    for (const action of actions) {
      if (action.kind === 'send-discovery' || action.kind === 'send-probe') {
        if (!this.dropping)
          this.queue.push({
            at: this.now + this.delayMs,
            to: who === 'a' ? 'b' : 'a',
            action,
            from: who === 'a' ? 'fe80::a' : 'fe80::b',
          });
      } else {
        this.events.push({ at: this.now, who, action });
      }
    }
  }
  /** Run until `until`, delivering packets and ticking both sessions every millisecond. */
  run(until: number): void {
    while (this.now < until) {
      this.now = Math.round((this.now + 1) * 1000) / 1000;
      const due = this.queue.filter((w) => w.at <= this.now);
      this.queue = this.queue.filter((w) => w.at > this.now);
      for (const w of due) {
        const s = w.to === 'a' ? this.a : this.b;
        const acts =
          w.action.kind === 'send-discovery'
            ? s.onDiscovery(w.action.packet, w.from, this.now)
            : w.action.kind === 'send-probe'
              ? s.onProbe(w.action.packet, w.from, this.now)
              : [];
        this.emit(w.to, acts);
      }
      this.emit('a', this.a.tick(this.now));
      this.emit('b', this.b.tick(this.now));
    }
  }
  last(who: 'a' | 'b', kind: SessionAction['kind']) {
    return [...this.events].reverse().find((e) => e.who === who && e.action.kind === kind);
  }
}

const pair = () =>
  new Link(
    new InterfaceSession('eth0', 'sled0', 'server', 11),
    new InterfaceSession('eth0', 'sw0', 'transit', 22),
  );

describe('DDM interface session', () => {
  it('discovers the neighbour, brings it up once probes answer, and reports the delay', () => {
    const l = pair();
    l.delayMs = 2;
    l.run(500);
    expect(l.a.state).toBe('exchange');
    expect(l.b.state).toBe('exchange');
    expect(l.last('a', 'peer-up')?.action).toEqual({
      kind: 'peer-up',
      hostname: 'sw0',
      peerKind: 'transit',
      addr: 'fe80::b',
    });
    expect(l.last('b', 'peer-up')?.action).toMatchObject({ hostname: 'sled0', peerKind: 'server' });
    // RTT ≈ 4 ms plus up to 1 ms of tick granularity each way; one-way delay ≈ half.
    const d = l.last('a', 'delay')?.action;
    expect(d?.kind === 'delay' && d.delayUs).toBeGreaterThanOrEqual(2000);
    expect(d?.kind === 'delay' && d.delayUs).toBeLessThanOrEqual(3100);
    expect(l.a.stats.loss).toBe(0);
  });

  it('a dead link takes the neighbour down within a second, and its return is noticed as fast', () => {
    const l = pair();
    l.run(1000);
    l.dropping = true;
    const cut = l.now;
    l.run(cut + 2000);
    const down = l.last('a', 'peer-down');
    expect(down?.action).toEqual({ kind: 'peer-down', reason: 'probes-lost' });
    expect(down!.at - cut).toBeLessThan(1000);
    expect(l.a.state).toBe('unreachable');
    l.dropping = false;
    const back = l.now;
    l.run(back + 1000);
    const up = l.last('a', 'peer-up');
    expect(up!.at).toBeGreaterThan(back);
    expect(up!.at - back).toBeLessThan(400);
  });

  it('discovery expiry forgets a neighbour that stays silent', () => {
    const l = pair();
    l.run(1000);
    l.dropping = true;
    l.run(8000);
    expect(l.a.state).toBe('solicit');
    expect(l.a.peer).toBeUndefined();
  });

  it('a restarted neighbour (new probe instance) is taken down and comes back', () => {
    const l = pair();
    l.run(1000);
    l.b = new InterfaceSession('eth0', 'sw0', 'transit', 33);
    l.run(3000);
    const downs = l.events.filter((e) => e.who === 'a' && e.action.kind === 'peer-down');
    expect(downs.map((e) => e.action)).toContainEqual({ kind: 'peer-down', reason: 'peer-restarted' });
    expect(l.a.state).toBe('exchange');
  });

  it('a refused send (interface down) takes the neighbour down at once; answers bring it back', () => {
    const l = pair();
    l.run(1000);
    expect(l.a.sendFailed(l.now)).toEqual([{ kind: 'peer-down', reason: 'link-down' }]);
    expect(l.a.state).toBe('unreachable');
    expect(l.a.sendFailed(l.now)).toEqual([]);
    const t = l.now;
    l.run(t + 500);
    expect(l.last('a', 'peer-up')!.at).toBeGreaterThan(t);
    expect(l.a.state).toBe('exchange');
  });

  it('ignores its own looped-back multicast', () => {
    const s = new InterfaceSession('eth0', 'sled0', 'server', 1);
    const acts = s.onDiscovery(
      { version: 2, solicit: true, advertise: true, kind: 0, hostname: 'sled0' },
      'fe80::a',
      0,
    );
    expect(acts).toEqual([]);
    expect(s.state).toBe('solicit');
  });
});
