// One configured BGP neighbour: the thin driver around the sans-I/O FSM (mgd/bgp/fsm.ts). It owns
// the TCP connections to the peer, frames and decodes their bytes, runs OPEN negotiation, keeps the
// FSM's timers on a `Clock`, and resolves connection collisions (RFC 4271 §6.8).
//
//   transport ──bytes──▶ framer ─▶ decodeMessage ─▶ FSM event ─▶ step() ─▶ actions
//        ▲                                                                   │
//        └──────────── connect / write / end ◀───────────────────────────────┘
//                                      established / update / down ─▶ PeerHandler (the speaker)
//
// Up to two connections exist at once (our outbound one and the peer's inbound one), each with its
// own FSM; once one of them has the peer's OPEN, the BGP identifiers decide which survives.

import type { Clock, TimerHandle } from '../../lib/clock.js';
import { CeaseSubcode, ErrorCode, HEADER_LENGTH } from '../../wire/bgp/constants.js';
import type { BgpDecodeError } from '../../wire/bgp/errors.js';
import { nextFrame } from '../../wire/bgp/header.js';
import { decodeMessage, encodeMessageBytes } from '../../wire/bgp/message.js';
import { shutdownCommunication } from '../../wire/bgp/notification.js';
import {
  DEFAULT_CONTEXT,
  type BgpMessage,
  type CodecContext,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
} from '../../wire/bgp/types.js';
import {
  dueTimer,
  initialState,
  nextDeadline,
  step,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type TransitionReason,
} from './fsm.js';
import {
  localCapabilities,
  myAsField,
  negotiate,
  type LocalSessionSettings,
  type NegotiatedSession,
} from './negotiate.js';
import type { BgpConnection, BgpTransport } from './transport.js';

// ===== Interfaces =====

/** How to reach the peer. */
export interface PeerEndpoint {
  readonly address: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

/** What the speaker hears from a peer. */
export interface PeerHandler {
  established(peer: Peer, session: NegotiatedSession): void;
  update(peer: Peer, msg: UpdateMessage): void;
  routeRefresh(peer: Peer, msg: RouteRefreshMessage): void;
  down(peer: Peer, reason: TransitionReason): void;
  /** Any FSM state change, for logs, metrics and the API. */
  stateChange?(peer: Peer, from: string, to: string, reason: TransitionReason): void;
  /**
   * Runs the handling of every message of one received chunk (so a handler can apply many
   * UPDATEs as one unit of work, e.g. one RIB batch); must call `fn` exactly once.
   */
  burst?(peer: Peer, fn: () => void): void;
}

/** Message and transition counters for the API and metrics. */
export interface PeerCounters {
  opensSent: number;
  opensReceived: number;
  updatesSent: number;
  updatesReceived: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  notificationsSent: number;
  notificationsReceived: number;
  routeRefreshReceived: number;
  establishedTransitions: number;
  connectionsAccepted: number;
  connectionsRejected: number;
  decodeErrors: number;
}

/** One TCP connection with its FSM and stream state. */
interface Conn {
  readonly id: number;
  /** Accepted from the peer (runs as a passive machine without restarts while a second one exists). */
  inbound: boolean;
  fsm: FsmState;
  sock: BgpConnection | undefined;
  /** Unread stream bytes: buf[start, end). */
  buf: Uint8Array;
  start: number;
  end: number;
  remoteBgpId?: number;
  session?: NegotiatedSession;
  /** Incremented when the connection is abandoned, so late async results are ignored. */
  epoch: number;
  /** When an UPDATE last restarted the hold timer in Established (ms), else -1. */
  holdRestartedAt: number;
}

const MAX_BUFFER = 1 << 18;

// ===== Peer =====

export class Peer {
  private conns: Conn[] = [];
  private nextConnId = 1;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private readonly random: () => number;
  readonly counters: PeerCounters = {
    opensSent: 0,
    opensReceived: 0,
    updatesSent: 0,
    updatesReceived: 0,
    keepalivesSent: 0,
    keepalivesReceived: 0,
    notificationsSent: 0,
    notificationsReceived: 0,
    routeRefreshReceived: 0,
    establishedTransitions: 0,
    connectionsAccepted: 0,
    connectionsRejected: 0,
    decodeErrors: 0,
  };
  /** The most recent transition of the session (survives connection swaps). */
  lastTransition: { from: string; to: string; at: number; reason: TransitionReason } | undefined;
  lastError: string | undefined;

  constructor(
    readonly name: string,
    readonly endpoint: PeerEndpoint,
    public local: LocalSessionSettings,
    public fsmConfig: FsmConfig,
    private readonly transport: BgpTransport,
    private readonly clock: Clock,
    private readonly handler: PeerHandler,
    random: () => number = Math.random,
  ) {
    this.random = random;
    this.conns.push(this.newConn(false));
  }

  // ----- public surface -----

  /** The connection that speaks for the session: the Established one, else the most advanced. */
  private get main(): Conn {
    const order = ['Established', 'OpenConfirm', 'OpenSent', 'Connect', 'Active', 'Idle'];
    const sorted = [...this.conns].sort((a, b) => order.indexOf(a.fsm.name) - order.indexOf(b.fsm.name));
    return sorted[0] as Conn;
  }

  get state(): FsmState['name'] {
    return this.main.fsm.name;
  }

  get fsmState(): FsmState {
    return this.main.fsm;
  }

  /** The negotiated session while Established. */
  get session(): NegotiatedSession | undefined {
    const m = this.main;
    return m.fsm.name === 'Established' ? m.session : undefined;
  }

  /** Transport addresses of the Established connection (next-hop-self needs the local one). */
  get connection():
    { localAddress: string; localPort: number; remoteAddress: string; remotePort: number } | undefined {
    const m = this.main;
    if (m.fsm.name !== 'Established' || m.sock === undefined) return undefined;
    const s = m.sock;
    return {
      localAddress: s.localAddress,
      localPort: s.localPort,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
    };
  }

  /** Codec context for what we send (valid while Established). */
  get txContext(): CodecContext {
    return this.session?.tx ?? DEFAULT_CONTEXT;
  }

  /** ManualStart. */
  start(): void {
    this.feed(this.main, { kind: 'start' });
  }

  /** ManualStop (or AutomaticStop, e.g. maximum prefixes) with a Cease subcode. */
  stop(
    subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
    data?: Uint8Array,
    automatic = false,
    why?: string,
  ): void {
    for (const c of [...this.conns]) {
      this.feed(c, {
        kind: 'stop',
        automatic,
        subcode,
        ...(data !== undefined ? { data } : {}),
        ...(why !== undefined ? { why } : {}),
      });
    }
    this.prune();
  }

  /** Send bytes of already-encoded messages on the Established connection; false = back off. */
  sendRaw(bytes: Uint8Array, updates: number): boolean {
    const m = this.main;
    if (m.fsm.name !== 'Established' || m.sock === undefined) return false;
    const more = m.sock.write(bytes);
    this.counters.updatesSent += updates;
    this.feed(m, { kind: 'sent-message' });
    return more;
  }

  /** Send one message on the Established connection. */
  send(msg: BgpMessage): boolean {
    const m = this.main;
    if (m.fsm.name !== 'Established' || m.sock === undefined || m.session === undefined) return false;
    return this.sendRaw(encodeMessageBytes(msg, m.session.tx), msg.type === 2 ? 1 : 0);
  }

  /** Bytes waiting in the Established connection's send buffer. */
  get pendingBytes(): number {
    return this.main.sock?.pendingBytes ?? 0;
  }

  /** Register a callback for when the send buffer drains. */
  onDrain(cb: () => void): void {
    this.drainCbs.push(cb);
  }
  private drainCbs: (() => void)[] = [];

  /** An inbound TCP connection from this peer's address reached the listener. */
  accept(sock: BgpConnection): void {
    const m = this.main;
    if (m.fsm.adminDown || m.fsm.name === 'Established') {
      // RFC 4271 §8.2.2: Idle refuses connections; with a session Established the newcomer loses
      // the collision (we do not run CollisionDetectEstablishedState).
      this.counters.connectionsRejected++;
      if (m.fsm.name === 'Established') {
        sock.write(
          encodeMessageBytes(
            {
              type: 3,
              code: ErrorCode.CEASE,
              subcode: CeaseSubcode.CONNECTION_COLLISION_RESOLUTION,
              data: new Uint8Array(0),
            },
            DEFAULT_CONTEXT,
          ),
        );
      }
      sock.end();
      return;
    }
    this.counters.connectionsAccepted++;
    const waiting = this.conns.find(
      (c) =>
        c.sock === undefined &&
        (c.fsm.name === 'Connect' || c.fsm.name === 'Active' || c.fsm.name === 'Idle'),
    );
    if (waiting !== undefined) {
      // Our own attempt has not connected: let this connection carry the session instead.
      waiting.epoch++;
      this.attach(waiting, sock);
      // From Idle (IdleHold running) start as a passive machine so no outbound attempt races it.
      if (waiting.fsm.name === 'Idle')
        this.feed(waiting, { kind: 'start' }, { ...this.fsmConfig, passive: true });
      this.feed(waiting, { kind: 'tcp-connected' });
      return;
    }
    if (this.conns.length >= 2) {
      this.counters.connectionsRejected++;
      sock.end();
      return;
    }
    const c = this.newConn(true);
    this.conns.push(c);
    this.attach(c, sock);
    c.fsm = { ...c.fsm, adminDown: false };
    // The inbound connection's machine starts as a passive one that has just been connected.
    this.feed(c, { kind: 'start' }, { ...this.fsmConfig, passive: true });
    this.feed(c, { kind: 'tcp-connected' });
  }

  /** Tear everything down without NOTIFICATIONs (daemon shutdown). */
  destroy(): void {
    this.timer?.cancel();
    for (const c of this.conns) {
      c.epoch++;
      c.sock?.destroy();
    }
  }

  // ----- connections -----

  private newConn(inbound: boolean): Conn {
    return {
      id: this.nextConnId++,
      inbound,
      fsm: initialState(this.fsmConfig),
      sock: undefined,
      buf: new Uint8Array(4096),
      start: 0,
      end: 0,
      epoch: 0,
      holdRestartedAt: -1,
    };
  }

  private attach(c: Conn, sock: BgpConnection): void {
    c.sock = sock;
    c.start = 0;
    c.end = 0;
    const epoch = c.epoch;
    sock.onData((chunk) => {
      if (c.epoch === epoch) this.receive(c, chunk);
    });
    sock.onDrain(() => {
      if (c.epoch === epoch) for (const cb of this.drainCbs) cb();
    });
    sock.onClose((e) => {
      if (c.epoch !== epoch || c.sock !== sock) return;
      c.sock = undefined;
      this.feed(c, { kind: 'tcp-failed', ...(e !== undefined ? { error: e.message } : {}) });
    });
  }

  private connect(c: Conn): void {
    const epoch = ++c.epoch;
    this.transport
      .connect({
        host: this.endpoint.address,
        port: this.endpoint.port,
        timeoutMs: Math.max(1000, (this.fsmConfig.connectRetryTime * 1000) / 3),
        ...(this.endpoint.localAddress !== undefined ? { localAddress: this.endpoint.localAddress } : {}),
        ...(this.endpoint.localPort !== undefined ? { localPort: this.endpoint.localPort } : {}),
      })
      .then(
        (sock) => {
          if (
            c.epoch !== epoch ||
            (c.fsm.name !== 'Connect' && c.fsm.name !== 'Active') ||
            c.sock !== undefined
          ) {
            sock.destroy();
            return;
          }
          this.attach(c, sock);
          this.feed(c, { kind: 'tcp-connected' });
        },
        (e: unknown) => {
          if (c.epoch !== epoch || c.fsm.name !== 'Connect') return;
          this.lastError = e instanceof Error ? e.message : String(e);
          this.feed(c, { kind: 'tcp-failed', error: this.lastError });
        },
      );
  }

  // ----- receiving -----

  private receive(c: Conn, chunk: Uint8Array): void {
    // Append to the stream buffer, compacting or growing it as needed (amortised O(n)).
    const need = c.end - c.start + chunk.length;
    if (c.end + chunk.length > c.buf.length) {
      if (need <= c.buf.length) {
        c.buf.copyWithin(0, c.start, c.end);
      } else {
        const grown = new Uint8Array(Math.min(Math.max(need, c.buf.length * 2), MAX_BUFFER * 4));
        grown.set(c.buf.subarray(c.start, c.end));
        c.buf = grown;
      }
      c.end -= c.start;
      c.start = 0;
    }
    c.buf.set(chunk, c.end);
    c.end += chunk.length;
    if (this.handler.burst !== undefined) this.handler.burst(this, () => this.drainFrames(c));
    else this.drainFrames(c);
  }

  /** Decode and handle every complete message in the stream buffer. */
  private drainFrames(c: Conn): void {
    while (c.sock !== undefined) {
      const ctx = c.session?.rx ?? DEFAULT_CONTEXT;
      const f = nextFrame(c.buf, c.start, c.end, ctx);
      if (f.kind === 'partial') break;
      if (f.kind === 'error') {
        this.decodeFailed(c, f.error);
        break;
      }
      const at = c.start;
      c.start += f.header.length;
      const r = decodeMessage(c.buf, at, at + f.header.length, ctx);
      if (!r.ok) {
        this.decodeFailed(c, r.error);
        break;
      }
      this.handleMessage(c, r.value);
    }
    if (c.start === c.end) {
      c.start = 0;
      c.end = 0;
    }
  }

  private decodeFailed(c: Conn, e: BgpDecodeError): void {
    this.counters.decodeErrors++;
    this.lastError = e.message;
    this.feed(c, { kind: 'message-error', code: e.code, subcode: e.subcode, data: e.data, why: e.reason });
  }

  private handleMessage(c: Conn, msg: BgpMessage): void {
    switch (msg.type) {
      case 1:
        this.counters.opensReceived++;
        return this.handleOpen(c, msg);
      case 2: {
        this.counters.updatesReceived++;
        // In Established an UPDATE only restarts the hold timer (RFC 4271 §8.2.2, Event 27). The
        // messages of one chunk are handled at one instant, where a second restart changes
        // nothing: once per instant spares a full-table load an FSM step per UPDATE.
        const now = this.clock.now();
        if (c.fsm.name !== 'Established' || c.holdRestartedAt !== now) {
          this.feed(c, { kind: 'update' });
          c.holdRestartedAt = c.fsm.name === 'Established' ? now : -1;
        }
        if (c.fsm.name === 'Established') this.handler.update(this, msg);
        return;
      }
      case 3:
        this.counters.notificationsReceived++;
        return this.handleNotification(c, msg);
      case 4:
        this.counters.keepalivesReceived++;
        this.feed(c, { kind: 'keepalive' });
        return;
      case 5:
        this.counters.routeRefreshReceived++;
        this.feed(c, { kind: 'update' });
        if (c.fsm.name === 'Established') this.handler.routeRefresh(this, msg);
        return;
      default:
        return assertNever(msg);
    }
  }

  private handleNotification(c: Conn, msg: NotificationMessage): void {
    const text = shutdownCommunication(msg);
    this.lastError = `NOTIFICATION received: code ${msg.code} subcode ${msg.subcode}${text !== undefined ? ` "${text}"` : ''}`;
    this.feed(c, {
      kind: 'notification',
      code: msg.code,
      subcode: msg.subcode,
      ...(text !== undefined ? { text } : {}),
    });
  }

  private handleOpen(c: Conn, open: OpenMessage): void {
    const n = negotiate(this.local, open);
    if (!n.ok) {
      this.lastError = `OPEN refused: ${n.error.why}`;
      this.feed(c, {
        kind: 'message-error',
        code: n.error.code,
        subcode: n.error.subcode,
        data: n.error.data,
        why: n.error.why,
      });
      return;
    }
    c.remoteBgpId = open.bgpId;
    c.session = n.value;
    // RFC 4271 §6.8: with another connection to the same peer past OpenSent, one must go.
    const other = this.conns.find(
      (o) =>
        o !== c &&
        o.sock !== undefined &&
        (o.fsm.name === 'OpenConfirm' || o.fsm.name === 'OpenSent' || o.fsm.name === 'Established'),
    );
    if (other !== undefined && other.fsm.name !== 'OpenSent') {
      const loser = this.collisionLoser(c, other, open.bgpId);
      if (loser === c) {
        this.feed(c, { kind: 'collision-dump' });
        this.prune();
        return;
      }
      this.feed(other, { kind: 'collision-dump' });
    }
    this.feed(c, { kind: 'open', peerHoldTime: open.holdTime });
    this.prune();
  }

  /** §6.8: the side with the higher BGP identifier keeps the connection it initiated. */
  private collisionLoser(a: Conn, b: Conn, remoteId: number): Conn {
    if (b.fsm.name === 'Established') return a;
    const localWins = this.local.bgpId > remoteId;
    // If ours is higher, keep the connection we initiated (outbound); else keep the peer's.
    const keepInbound = !localWins;
    return a.inbound === keepInbound ? b : a;
  }

  // ----- the FSM and its actions -----

  private feed(
    c: Conn,
    ev: FsmEvent,
    config: FsmConfig = c.inbound ? { ...this.fsmConfig, passive: true, autoRestart: false } : this.fsmConfig,
  ): void {
    const before = c.fsm.name;
    const r = step(c.fsm, ev, config, { now: this.clock.now(), random: this.random });
    c.fsm = r.state;
    for (const a of r.actions) {
      switch (a.kind) {
        case 'connect':
          this.connect(c);
          break;
        case 'disconnect':
          if (c.sock !== undefined) {
            const s = c.sock;
            c.sock = undefined;
            c.epoch++;
            s.end();
          }
          c.start = 0;
          c.end = 0;
          break;
        case 'send-open':
          this.counters.opensSent++;
          this.write(c, this.buildOpen(), DEFAULT_CONTEXT);
          break;
        case 'send-keepalive':
          this.counters.keepalivesSent++;
          this.write(c, { type: 4 }, DEFAULT_CONTEXT);
          break;
        case 'send-notification':
          this.counters.notificationsSent++;
          this.lastError ??= `NOTIFICATION sent: code ${a.code} subcode ${a.subcode}`;
          this.write(c, { type: 3, code: a.code, subcode: a.subcode, data: a.data }, DEFAULT_CONTEXT);
          break;
        case 'established':
          this.counters.establishedTransitions++;
          // Any other connection lost the race; a pending attempt of ours is abandoned.
          for (const o of [...this.conns]) {
            if (o === c) continue;
            if (o.sock !== undefined) this.feed(o, { kind: 'collision-dump' });
            o.epoch++;
            this.conns = this.conns.filter((x) => x !== o);
          }
          c.inbound = false;
          if (c.session !== undefined) this.handler.established(this, c.session);
          break;
        case 'session-down':
          this.handler.down(this, a.reason);
          break;
        default:
          assertNever(a);
      }
    }
    if (r.state.name !== before && r.state.lastTransition !== undefined) {
      const t = r.state.lastTransition;
      const isMain = c === this.main || r.state.name === 'Established';
      if (isMain) {
        this.lastTransition = { from: t.from, to: t.to, at: t.at, reason: t.reason };
        this.handler.stateChange?.(this, t.from, t.to, t.reason);
      }
    }
    if (r.state.name === 'Idle' || r.state.name === 'Connect' || r.state.name === 'Active') {
      delete c.session;
      delete c.remoteBgpId;
    }
    this.armTimer();
  }

  private write(c: Conn, msg: BgpMessage, ctx: CodecContext): void {
    c.sock?.write(encodeMessageBytes(msg, ctx));
  }

  private buildOpen(): OpenMessage {
    const capabilities = localCapabilities(this.local);
    const open: OpenMessage = {
      type: 1,
      version: 4,
      myAs: myAsField(this.local.asn),
      holdTime: this.local.holdTime,
      bgpId: this.local.bgpId,
      params: [{ kind: 'capabilities', capabilities }],
      extendedParams: false,
    };
    // RFC 9072: switch to extended parameter lengths only when the capabilities need it.
    return encodeMessageBytes(open, DEFAULT_CONTEXT).length - HEADER_LENGTH - 10 > 255
      ? { ...open, extendedParams: true }
      : open;
  }

  /** Drop extra connections that have fallen back to Idle, keeping one machine for the session. */
  private prune(): void {
    if (this.conns.length < 2) return;
    const live = this.conns.filter((c) => c.fsm.name !== 'Idle' || c.sock !== undefined);
    if (live.length === 0) {
      // Keep the outbound machine (it carries the IdleHold back-off).
      const keep = this.conns.find((c) => !c.inbound) ?? this.conns[0];
      if (keep !== undefined) this.conns = [keep];
    } else {
      this.conns = live;
      // A lone inbound machine becomes the peer's machine (with restarts) from now on.
      if (this.conns.length === 1) (this.conns[0] as Conn).inbound = false;
    }
    this.armTimer();
  }

  private armTimer(): void {
    let at = Infinity;
    for (const c of this.conns) {
      const d = nextDeadline(c.fsm);
      if (d !== undefined && d.at < at) at = d.at;
    }
    if (at === this.timerAt) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = this.clock.setTimer(at, () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      const now = this.clock.now();
      for (const c of [...this.conns]) {
        const due = dueTimer(c.fsm, now);
        if (due !== undefined) this.feed(c, { kind: 'timer', timer: due });
      }
      this.prune();
      this.armTimer();
    });
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
