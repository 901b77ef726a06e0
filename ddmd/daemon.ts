// The ddmd daemon: interface sessions (discovery + probes), the router core, the exchange, and
// the lower half, wired on one clock.
//
//   datagrams ─▶ decode ─▶ InterfaceSession ──peer up/down, delay──▶ DdmRouter ◀── exchange push/pull
//                                  │                                    │
//                                  └──── probes, solicitations ◀────────┤ takeChanged()
//                                                                       ▼
//                                      Rib (source "ddm", weighted link-local next hops)
//                                                                       │ bus
//                                                                 FibSync ─▶ FibBackend (linux/memory)
//
// Everything runs on the event loop: protocol work per packet is small, the exchange is
// asynchronous, and route installation is batched by the lower half.

import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { Rib } from '../rib/rib.js';
import { FibSync, type FibCounters } from '../rib/fib/sync.js';
import type { FibBackend } from '../rib/fib/backend.js';
import { decodeDdmDiscovery, encodeDdmDiscovery, encodingLengthDdmDiscovery } from '../wire/ddm/discovery.js';
import { decodeDdmProbe, encodeDdmProbe, encodingLengthDdmProbe } from '../wire/ddm/probe.js';
import {
  formatDdmFieldErrors,
  validateDdmPullResponse,
  validateDdmUpdate,
  type DdmTunnelOrigin,
  type DdmUpdate,
} from '../wire/ddm/exchange.js';
import { formatPrefix6, key6, parseAddr6, parsePrefix6, type Prefix6 } from '../wire/ip/index.js';
import type { DdmDatagramIo, DdmExchangeIo } from './io.js';
import {
  DdmRouter,
  DEFAULT_ROUTER_PARAMS,
  type DdmRole,
  type DdmRoute,
  type DdmRouterParams,
} from './router.js';
import {
  DEFAULT_SESSION_PARAMS,
  InterfaceSession,
  type SessionAction,
  type SessionParams,
} from './session.js';

// ===== Options =====

export interface DdmInterface {
  readonly name: string;
  /** Our link-local address on it (no zone). */
  readonly addr: string;
}

export interface DdmDaemonOptions {
  readonly hostname: string;
  readonly role: DdmRole;
  readonly interfaces: readonly DdmInterface[];
  readonly clock: Clock;
  readonly datagrams: DdmDatagramIo;
  readonly exchange: DdmExchangeIo;
  /** Where routes go; without one the daemon computes routes but installs nothing. */
  readonly fib?: FibBackend;
  readonly session?: Partial<SessionParams>;
  readonly router?: Partial<DdmRouterParams>;
  readonly log?: pino.Logger;
  /** JSON file keeping originated prefixes and tunnel origins across restarts. */
  readonly stateFile?: string;
  readonly exchangeTimeoutMs?: number;
  /** Full diff interval of the lower half (ms); 0 disables. */
  readonly fibScanMs?: number;
  /**
   * After a restart, keep the routes a previous run left in the kernel for this long (ms) while
   * they are relearned, instead of removing them at once (graceful restart); 0 disables.
   */
  readonly fibStartupGraceMs?: number;
}

/** Counters for metrics. */
export interface DdmCounters {
  solicitationsSent: number;
  advertisementsSent: number;
  discoveryReceived: number;
  probesSent: number;
  probesReceived: number;
  badPackets: number;
  peerUps: number;
  peerDowns: number;
  updatesSent: number;
  updatesReceived: number;
  updateSendFailures: number;
  pullFailures: number;
  loopsDropped: number;
  badUpdates: number;
}

interface PersistedState {
  readonly originated: string[];
  readonly tunnels: DdmTunnelOrigin[];
}

const SOURCE = 'ddm';

// ===== Daemon =====

export class DdmDaemon {
  readonly router: DdmRouter;
  readonly rib: Rib;
  readonly sessions = new Map<string, InterfaceSession>();
  readonly counters: DdmCounters = {
    solicitationsSent: 0,
    advertisementsSent: 0,
    discoveryReceived: 0,
    probesSent: 0,
    probesReceived: 0,
    badPackets: 0,
    peerUps: 0,
    peerDowns: 0,
    updatesSent: 0,
    updatesReceived: 0,
    updateSendFailures: 0,
    pullFailures: 0,
    loopsDropped: 0,
    badUpdates: 0,
  };
  private readonly log: pino.Logger;
  private readonly fibSync: FibSync | undefined;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private flushTimer: TimerHandle | undefined;
  private running = false;
  private readonly addrs = new Map<string, string>();
  private readonly instance: number;
  /** Routes as last handed to the RIB, for the API. */
  private readonly installed = new Map<string, DdmRoute>();
  /** Push retries per interface after a failure. */
  private readonly pushBackoff = new Map<string, number>();

  constructor(private readonly o: DdmDaemonOptions) {
    this.log = o.log ?? pino({ level: 'silent' });
    this.router = new DdmRouter(o.hostname, o.role, { ...DEFAULT_ROUTER_PARAMS, ...o.router });
    this.rib = new Rib();
    this.rib.addSource({ id: SOURCE, kind: 'ddm' });
    this.fibSync =
      o.fib === undefined
        ? undefined
        : new FibSync(this.rib, o.fib, {
            log: this.log,
            scanMs: o.fibScanMs ?? 30_000,
            startupGraceMs: o.fibStartupGraceMs ?? 0,
          });
    this.instance = randomInt(1, 0xffffffff);
    const params = { ...DEFAULT_SESSION_PARAMS, ...o.session };
    for (const i of o.interfaces) {
      this.sessions.set(i.name, new InterfaceSession(i.name, o.hostname, o.role, this.instance, params));
      this.addrs.set(i.name, i.addr);
    }
  }

  get hostname(): string {
    return this.o.hostname;
  }

  get role(): DdmRole {
    return this.o.role;
  }

  // ----- lifecycle -----

  async start(): Promise<void> {
    this.loadState();
    this.o.datagrams.onPacket((kind, ifname, from, bytes) => this.packet(kind, ifname, from, bytes));
    this.o.datagrams.onSendError?.((ifname, error) => {
      const s = this.sessions.get(ifname);
      if (s === undefined || !this.running) return;
      this.log.debug({ ifname, error: error.message }, 'probe send failed');
      this.act(s, s.sendFailed(this.o.clock.now()));
    });
    for (const i of this.o.interfaces) {
      await this.o.datagrams.addInterface(i.name);
      await this.o.exchange.serve(i.name, i.addr, {
        push: (ifname, from, body) => this.handlePush(ifname, from, body),
        pull: (ifname, from) => this.handlePull(ifname, from),
      });
    }
    await this.fibSync?.start();
    this.running = true;
    this.log.info(
      { hostname: this.o.hostname, role: this.o.role, interfaces: this.o.interfaces.map((i) => i.name) },
      'ddmd started',
    );
    this.schedule(this.o.clock.now());
  }

  /** Stop; routes stay in the kernel unless `flush` (graceful restart by default). */
  async stop(opts: { flush?: boolean } = {}): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.flushTimer?.cancel();
    this.o.datagrams.close();
    this.o.exchange.close();
    await this.fibSync?.stop(opts);
    this.log.info({ flush: opts.flush === true }, 'ddmd stopped');
  }

  // ----- origination (persisted) -----

  /** Originate prefixes; returns those that were new. */
  originate(prefixes: readonly Prefix6[]): Prefix6[] {
    const known = new Set(this.router.originatedPrefixes().map(key6));
    const added = prefixes.filter((p) => !known.has(key6(p)));
    for (const p of added) this.router.originate(p);
    if (added.length > 0) {
      this.saveState();
      this.scheduleFlush();
    }
    return added;
  }

  /** Withdraw originated prefixes; returns those that were originated. */
  withdraw(prefixes: readonly Prefix6[]): Prefix6[] {
    const gone = prefixes.filter((p) => this.router.withdrawOrigin(p));
    if (gone.length > 0) {
      this.saveState();
      this.scheduleFlush();
    }
    return gone;
  }

  originateTunnels(ts: readonly DdmTunnelOrigin[]): void {
    for (const t of ts) this.router.originateTunnel(t);
    this.saveState();
    this.scheduleFlush();
  }

  withdrawTunnels(ts: readonly DdmTunnelOrigin[]): void {
    for (const t of ts) this.router.withdrawTunnel(t);
    this.saveState();
    this.scheduleFlush();
  }

  private loadState(): void {
    const f = this.o.stateFile;
    if (f === undefined) return;
    let raw: string;
    try {
      raw = readFileSync(f, 'utf8');
    } catch {
      return;
    }
    const s = JSON.parse(raw) as PersistedState;
    for (const text of s.originated) {
      const p = parsePrefix6(text);
      if (p.ok) this.router.originate(p.value);
      else this.log.warn({ prefix: text, error: p.error }, 'ignoring a bad prefix in the state file');
    }
    for (const t of s.tunnels) this.router.originateTunnel(t);
  }

  private saveState(): void {
    const f = this.o.stateFile;
    if (f === undefined) return;
    const s: PersistedState = {
      originated: this.router.originatedPrefixes().map(formatPrefix6),
      tunnels: this.router.originatedTunnelList(),
    };
    mkdirSync(dirname(f), { recursive: true });
    // Write-then-rename: a crash never leaves a half-written file.
    writeFileSync(`${f}.tmp`, JSON.stringify(s, null, 2));
    renameSync(`${f}.tmp`, f);
  }

  // ----- timers -----

  private schedule(now: number): void {
    if (!this.running) return;
    let at = Infinity;
    for (const s of this.sessions.values()) at = Math.min(at, s.nextWake());
    at = Math.max(at, now);
    if (at === this.timerAt && this.timer !== undefined) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.o.clock.setTimer(at, () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      const t = this.o.clock.now();
      for (const s of this.sessions.values()) this.act(s, s.tick(t));
      // Delay-only re-advertisements wait out their rate limit; look again on every tick.
      this.flush();
      this.schedule(t);
    });
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || !this.running) return;
    this.flushTimer = this.o.clock.setTimer(this.o.clock.now(), () => {
      this.flushTimer = undefined;
      this.flush();
    });
  }

  // ----- packets -----

  private packet(kind: 'discovery' | 'probe', ifname: string, from: string, bytes: Uint8Array): void {
    const s = this.sessions.get(ifname);
    if (s === undefined || !this.running) return;
    const now = this.o.clock.now();
    if (kind === 'discovery') {
      const p = decodeDdmDiscovery(bytes, 0, bytes.length);
      if (!p.ok) {
        this.counters.badPackets++;
        this.log.debug({ ifname, from, error: p.error.message }, 'discarded a discovery packet');
        return;
      }
      this.counters.discoveryReceived++;
      this.act(s, s.onDiscovery(p.value, from, now));
    } else {
      const p = decodeDdmProbe(bytes, 0, bytes.length);
      if (!p.ok) {
        this.counters.badPackets++;
        return;
      }
      this.counters.probesReceived++;
      this.act(s, s.onProbe(p.value, from, now));
    }
    this.schedule(now);
  }

  private act(s: InterfaceSession, actions: readonly SessionAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send-discovery': {
          const buf = new Uint8Array(encodingLengthDdmDiscovery(a.packet));
          encodeDdmDiscovery(a.packet, buf, 0);
          if (a.packet.solicit) this.counters.solicitationsSent++;
          else this.counters.advertisementsSent++;
          this.o.datagrams.sendDiscovery(s.ifname, buf);
          break;
        }
        case 'send-probe': {
          const buf = new Uint8Array(encodingLengthDdmProbe(a.packet));
          encodeDdmProbe(a.packet, buf, 0);
          this.counters.probesSent++;
          this.o.datagrams.sendProbe(s.ifname, a.to, buf);
          break;
        }
        case 'peer-up':
          this.counters.peerUps++;
          this.log.info({ ifname: s.ifname, peer: a.hostname, kind: a.peerKind, addr: a.addr }, 'peer up');
          this.router.peerUp({ id: s.ifname, hostname: a.hostname, kind: a.peerKind, addr: a.addr });
          this.router.setLinkDelay(s.ifname, s.estimator.delayUs);
          this.pushBackoff.delete(s.ifname);
          void this.pullFrom(s.ifname, a.addr);
          this.scheduleFlush();
          break;
        case 'peer-down':
          this.counters.peerDowns++;
          this.log.info({ ifname: s.ifname, reason: a.reason }, 'peer down');
          this.router.peerDown(s.ifname);
          this.scheduleFlush();
          break;
        case 'delay':
          this.router.setLinkDelay(s.ifname, a.delayUs);
          this.scheduleFlush();
          break;
        default:
          assertNever(a);
      }
    }
  }

  // ----- exchange -----

  private peerAddr(ifname: string): string | undefined {
    const s = this.sessions.get(ifname);
    return s?.state === 'exchange' ? s.peer?.addr : undefined;
  }

  private handlePush(ifname: string, from: string, body: unknown): { status: number; error?: string } {
    const v = validateDdmUpdate(body);
    if (!v.ok) {
      this.counters.badUpdates++;
      return { status: 400, error: formatDdmFieldErrors(v.error) };
    }
    if (this.peerAddr(ifname) !== from) {
      // Not (yet) our neighbour on this link: the sender retries, and a pull follows peer-up.
      return { status: 503, error: `no established neighbour ${from} on ${ifname}` };
    }
    this.counters.updatesReceived++;
    const r = this.router.learn(ifname, v.value);
    this.counters.loopsDropped += r.loops;
    this.scheduleFlush();
    return { status: 200 };
  }

  private handlePull(ifname: string, from: string): { status: number; body?: unknown; error?: string } {
    // Until our probes answer, the asker is not our neighbour yet: refuse, so that it retries
    // rather than take an empty table as the whole truth.
    if (this.peerAddr(ifname) !== from)
      return { status: 503, error: `no established neighbour ${from} on ${ifname}` };
    return { status: 200, body: this.router.pull(ifname, this.o.clock.now()) };
  }

  private async pullFrom(ifname: string, addr: string): Promise<void> {
    try {
      const token = this.router.beginPull(ifname);
      const raw = await this.o.exchange.pull(ifname, addr, this.o.exchangeTimeoutMs ?? 2000);
      const v = validateDdmPullResponse(raw);
      if (!v.ok) {
        this.counters.badUpdates++;
        this.log.warn({ ifname, error: formatDdmFieldErrors(v.error) }, 'bad pull response');
        return;
      }
      if (this.peerAddr(ifname) !== addr) return;
      const update: DdmUpdate = {
        underlay: { announce: v.value.underlay ?? [], withdraw: [] },
        tunnel: { announce: v.value.tunnel ?? [], withdraw: [] },
      };
      const r = this.router.learn(ifname, update, token);
      this.counters.loopsDropped += r.loops;
      this.scheduleFlush();
    } catch (e) {
      this.counters.pullFailures++;
      this.log.warn({ ifname, error: (e as Error).message }, 'pull failed; retrying');
      this.o.clock.setTimer(this.o.clock.now() + 250, () => {
        if (this.running && this.peerAddr(ifname) === addr) void this.pullFrom(ifname, addr);
      });
    }
  }

  /** Install changed routes and push what each neighbour needs to hear. */
  private flush(): void {
    if (!this.running) return;
    const changes = this.router.takeChanged();
    if (changes.length > 0) {
      this.rib.batch(() => {
        for (const c of changes) {
          if (c.route === undefined) {
            const old = this.installed.get(c.prefixKey);
            if (old !== undefined) this.rib.removePath(old.prefix, SOURCE);
            this.installed.delete(c.prefixKey);
            continue;
          }
          this.installed.set(c.prefixKey, c.route);
          this.rib.addPath(c.route.prefix, {
            source: SOURCE,
            nexthops: c.route.nextHops.map((nh) => {
              const a = parseAddr6(nh.addr);
              if (!a.ok) throw new Error(a.error);
              return { addr: a.value, ifname: nh.peer, weight: nh.weight };
            }),
          });
        }
      });
    }
    const now = this.o.clock.now();
    for (const [ifname, update] of this.router.outbox(now)) {
      const addr = this.peerAddr(ifname);
      if (addr === undefined) continue;
      this.counters.updatesSent++;
      if (this.log.isLevelEnabled('debug')) {
        const text = (
          pvs:
            | readonly {
                destination: { addr: string; len: number };
                path: readonly string[];
                delay?: number;
              }[]
            | undefined,
        ) =>
          (pvs ?? []).map(
            (pv) =>
              `${pv.destination.addr}/${pv.destination.len} [${pv.path.join(' ')}] ${pv.delay ?? '-'}us`,
          );
        this.log.debug(
          { ifname, announce: text(update.underlay?.announce), withdraw: text(update.underlay?.withdraw) },
          'push',
        );
      }
      this.o.exchange.push(ifname, addr, update, this.o.exchangeTimeoutMs ?? 2000).catch((e: unknown) => {
        this.counters.updateSendFailures++;
        this.log.warn({ ifname, error: (e as Error).message }, 'push failed; will resend the full table');
        // What the neighbour has is now unknown: forget what we sent and try again shortly.
        this.router.forgetSent(ifname);
        const backoff = Math.min((this.pushBackoff.get(ifname) ?? 250) * 2, 5000);
        this.pushBackoff.set(ifname, backoff);
        this.o.clock.setTimer(this.o.clock.now() + backoff, () => this.scheduleFlush());
      });
    }
  }

  // ----- status (admin API) -----

  /** Installed routes with next hops, delays and weights. */
  routes(): DdmRoute[] {
    return [...this.installed.values()].sort((a, b) => (key6(a.prefix) < key6(b.prefix) ? -1 : 1));
  }

  /** Peers as the API shows them. */
  peers(): {
    ifname: string;
    state: string;
    addr?: string;
    hostname?: string;
    kind?: DdmRole;
    since: number;
    reason: string;
    rtt: ReturnType<InterfaceSession['estimator']['stats']>;
  }[] {
    return [...this.sessions.values()].map((s) => ({
      ifname: s.ifname,
      state: s.state,
      ...(s.peer !== undefined ? { addr: s.peer.addr, hostname: s.peer.hostname, kind: s.peer.kind } : {}),
      since: s.lastTransition.at,
      reason: s.lastTransition.reason,
      rtt: s.stats,
    }));
  }

  /** Force a neighbour to be forgotten (it will be rediscovered). */
  expirePeer(ifname: string): boolean {
    const s = this.sessions.get(ifname);
    if (s === undefined) return false;
    this.act(s, s.reset(this.o.clock.now()));
    return true;
  }

  /** Pull again from every neighbour. */
  resync(): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      const addr = this.peerAddr(s.ifname);
      if (addr === undefined) continue;
      n++;
      void this.pullFrom(s.ifname, addr);
    }
    return n;
  }

  fibErrors(): ReturnType<FibSync['errors']> {
    return this.fibSync?.errors() ?? [];
  }

  /** Lower-half counters, for metrics (undefined when no FIB is attached). */
  fibCounters(): Readonly<FibCounters> | undefined {
    return this.fibSync?.counters;
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled ${JSON.stringify(x)}`);
}
