// The mgd daemon: one shared RIB fed by BGP speakers (one per configured local AS) and static
// routes, and the lower half that keeps a forwarding table equal to the RIB's selected routes.
//
//   config ─▶ MgdDaemon ─┬─▶ Speaker (AS a) ──┐
//                        ├─▶ Speaker (AS b) ──┼─▶ Rib ─┬─ bus ──────────────▶ FibSync ─▶ FibBackend
//                        └─▶ StaticRoutes ────┘        └─ best-path changes ─▶ speakers' export
//
// Reload validates nothing itself: it takes an already validated `MgdConfig`, so a bad file never
// reaches it. On stop, routes stay in the forwarding table (graceful restart) unless asked to flush.

import pino from 'pino';
import { realClock, type Clock } from '../lib/clock.js';
import { LinuxConnectedRoutes, type ConnectedRoutes } from '../rib/connected.js';
import type { FibBackend, FibFailure, FibOp, FibRoute } from '../rib/fib/backend.js';
import { LinuxFib } from '../rib/fib/linux.js';
import { MemoryFib } from '../rib/fib/memory.js';
import { FibSync } from '../rib/fib/sync.js';
import { Rib } from '../rib/rib.js';
import { prefixKey, type AfPrefix } from '../rib/types.js';
import { formatAddr4, formatPrefix } from '../wire/ip/index.js';
import { isOriginSink, Speaker, type NeighborStatus } from './bgp/speaker.js';
import { tcpTransport, type BgpTransport } from './bgp/transport.js';
import { err, ok, type Result } from '../wire/result.js';
import {
  formatConfigErrors,
  loadConfigFile,
  type ConfigError,
  type MgdConfig,
  type ResolvedRouter,
} from './config/load.js';
import { StaticRoutes } from './static/static.js';

// ===== Options =====

/** How to run the daemon; everything but the configuration has a production default. */
export interface DaemonOptions {
  readonly config: MgdConfig;
  readonly log?: pino.Logger;
  readonly transport?: BgpTransport;
  readonly clock?: Clock;
  /** Forwarding table; by default from the configuration (`linux`, `memory`, or `none`: no lower half). */
  readonly fib?: FibBackend;
  /** Connected subnets for next-hop resolution; by default read from the kernel with iproute2. */
  readonly connected?: ConnectedRoutes | null;
  /** Overrides the first router's BGP listener (`--listen`). */
  readonly listen?: { readonly host: string; readonly port: number };
  /** Remove our routes from the forwarding table on stop. */
  readonly flushOnExit?: boolean;
}

// ===== Daemon =====

/** mgd: RIB, lower half, BGP speakers and static routes wired together. */
export class MgdDaemon {
  readonly log: pino.Logger;
  rib!: Rib;
  statics!: StaticRoutes;
  /** The lower half; undefined with the `none` backend (nothing is programmed anywhere). */
  fibSync: FibSync | undefined;
  fib: FibBackend | undefined;
  readonly speakers = new Map<number, Speaker>();
  private config: MgdConfig;
  private linuxConnected: LinuxConnectedRoutes | undefined;
  private readonly clock: Clock;
  private readonly transport: BgpTransport;
  private running = false;

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log ?? pino({ level: 'silent' });
    this.config = opts.config;
    this.clock = opts.clock ?? realClock;
    this.transport = opts.transport ?? tcpTransport;
  }

  /** The configuration in force. */
  get current(): MgdConfig {
    return this.config;
  }

  /** Build everything and start the sessions. */
  async start(): Promise<void> {
    const cfg = this.config;
    const connected = await this.connectedRoutes();
    this.rib = new Rib({ decision: cfg.decision, ...(connected !== undefined ? { connected } : {}) });
    const backend =
      this.opts.fib ??
      (cfg.fib.backend === 'linux'
        ? new LinuxFib(cfg.fib.table !== undefined ? { table: cfg.fib.table } : {})
        : cfg.fib.backend === 'memory'
          ? new MemoryFib()
          : undefined);
    if (backend !== undefined) {
      this.fib = new OriginSinkFilter(backend);
      // Graceful restart: what a previous run left in the kernel stays while it is relearned; the
      // grace ends at once when there is nothing to relearn over BGP.
      this.fibSync = new FibSync(this.rib, this.fib, {
        log: this.log.child({ part: 'fib' }),
        startupGraceMs: cfg.fib.startupGraceSeconds * 1000,
      });
      await this.fibSync.start();
      this.log.info({ backend: this.fib.name }, 'lower half started');
    } else {
      this.log.info('no forwarding table: routes are selected and advertised, not installed');
    }
    this.statics = new StaticRoutes(this.rib);
    this.statics.set(cfg.staticRoutes);
    if (cfg.routers.every((r) => r.neighbors.length === 0)) void this.fibSync?.ready();
    if (cfg.staticRoutes.length > 0)
      this.log.info({ count: cfg.staticRoutes.length }, 'static routes installed');
    this.running = true;
    for (const [i, r] of cfg.routers.entries()) await this.startSpeaker(r, i === 0);
  }

  private async connectedRoutes(): Promise<ConnectedRoutes | undefined> {
    if (this.opts.connected !== undefined) return this.opts.connected ?? undefined;
    const c = new LinuxConnectedRoutes();
    try {
      await c.start();
      this.linuxConnected = c;
      return c;
    } catch (e) {
      c.stop();
      this.log.warn(
        { error: e instanceof Error ? e.message : String(e) },
        'cannot read connected routes with iproute2; next hops resolve over RIB routes only',
      );
      return undefined;
    }
  }

  private async startSpeaker(r: ResolvedRouter, first: boolean): Promise<void> {
    const listen = first && this.opts.listen !== undefined ? this.opts.listen : r.listen;
    const s = new Speaker({
      asn: r.asn,
      routerId: r.routerId,
      listen,
      transport: this.transport,
      clock: this.clock,
      rib: this.rib,
      neighbors: r.neighbors,
      originate: r.originate,
      redistributeStatic: this.config.redistributeStatic,
      log: this.log.child({ part: 'bgp' }),
    });
    try {
      await s.start();
    } catch (e) {
      s.stop();
      throw e;
    }
    this.speakers.set(r.asn, s);
    this.log.info(
      {
        asn: r.asn,
        routerId: formatAddr4(r.routerId),
        listen,
        neighbors: r.neighbors.map((n) => n.address),
        originate: r.originate.map(formatPrefix),
      },
      'BGP router started',
    );
  }

  /**
   * Read, validate and apply a configuration file. An invalid file changes nothing: the errors
   * come back and the running configuration stays. `adjust` applies command-line overrides.
   */
  async reloadFile(
    path: string,
    adjust: (c: MgdConfig) => MgdConfig = (c) => c,
  ): Promise<Result<void, ConfigError[]>> {
    const r = await loadConfigFile(path);
    if (!r.ok) {
      this.log.error({ path, errors: formatConfigErrors(r.error).split('\n') }, 'configuration not reloaded');
      return err(r.error);
    }
    try {
      await this.reload(adjust(r.value));
    } catch (e) {
      // A valid file can still fail to apply (a new listener's port is taken): say so, keep running.
      const message = e instanceof Error ? e.message : String(e);
      this.log.error({ path, error: message }, 'configuration applied only in part');
      return err([{ path: '', message: `applying the configuration failed: ${message}` }]);
    }
    return ok(undefined);
  }

  /** Apply a new, already validated configuration with as little disruption as possible. */
  async reload(next: MgdConfig): Promise<void> {
    const prev = this.config;
    this.config = next;
    if (JSON.stringify(prev.decision) !== JSON.stringify(next.decision)) this.rib.setDecision(next.decision);
    this.statics.set(next.staticRoutes);
    const nextByAsn = new Map(next.routers.map((r) => [r.asn, r]));
    const prevByAsn = new Map(prev.routers.map((r) => [r.asn, r]));
    for (const [asn, s] of [...this.speakers]) {
      const n = nextByAsn.get(asn);
      const p = prevByAsn.get(asn);
      if (
        n === undefined ||
        p === undefined ||
        n.routerId !== p.routerId ||
        JSON.stringify(n.listen) !== JSON.stringify(p.listen)
      ) {
        s.stop();
        this.speakers.delete(asn);
        this.log.info({ asn }, 'BGP router stopped (removed or identity changed)');
      }
    }
    for (const [i, r] of next.routers.entries()) {
      const s = this.speakers.get(r.asn);
      if (s === undefined) {
        await this.startSpeaker(r, i === 0);
        continue;
      }
      s.setNeighbors(r.neighbors);
      s.setOriginated(r.originate);
      s.setRedistributeStatic(next.redistributeStatic);
    }
    this.log.info('configuration reloaded');
  }

  /** Neighbour status of every router. */
  neighbors(): (NeighborStatus & { router: number })[] {
    return [...this.speakers].flatMap(([asn, s]) => s.status().map((n) => ({ ...n, router: asn })));
  }

  /** Stop sessions and the lower half; routes stay in the table unless flushOnExit. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // The lower half stops first: sessions closing below would otherwise pull their routes out of
    // the table, which must keep forwarding while we restart (unless asked to flush).
    await this.fibSync?.stop({ flush: this.opts.flushOnExit === true });
    for (const s of this.speakers.values()) s.stop();
    this.speakers.clear();
    await this.fib?.close();
    this.linuxConnected?.stop();
    this.rib.close();
    this.log.info({ flushed: this.opts.flushOnExit === true }, 'mgd stopped');
  }
}

// ===== Originated prefixes stay out of the kernel =====

/**
 * A forwarding table in front of the real one that holds routes whose only next hop is the
 * originated-prefix sink (mgd/bgp/speaker.ts `isOriginSink`) in memory instead of installing
 * them: an originated prefix is announced, not forwarded, and a kernel route for it could
 * replace the connected route of the same subnet. `list()` reports the held routes too, so the
 * synchroniser's full diff sees what it asked for.
 */
export class OriginSinkFilter implements FibBackend {
  readonly name: string;
  private readonly held = new Map<number | string, FibRoute>();

  constructor(readonly inner: FibBackend) {
    this.name = inner.name;
  }

  /** Routes held back from the table. */
  get heldRoutes(): number {
    return this.held.size;
  }

  /** Apply operations, holding sink routes back; failures name the caller's own operations. */
  async apply(ops: readonly FibOp[]): Promise<FibFailure[]> {
    const pass: FibOp[] = [];
    // Operations passed on in another form, by the caller's operation they stand for.
    const origin = new Map<FibOp, FibOp>();
    const send = (op: FibOp, for_: FibOp) => {
      pass.push(op);
      origin.set(op, for_);
    };
    for (const op of ops) {
      const sink = op.op === 'replace' && isOriginSink(op.route.nexthops);
      // The common case (no sink route held, none arriving) needs no key.
      if (!sink && this.held.size === 0) {
        pass.push(op);
        continue;
      }
      const k = prefixKey(op.route);
      const route: AfPrefix = { afi: op.route.afi, prefix: op.route.prefix } as AfPrefix;
      if (sink) {
        // A real route the kernel has for the prefix goes; the sink stays with us.
        if (!this.held.has(k) && op.existing) send({ op: 'delete', route }, op);
        this.held.set(k, op.route);
        continue;
      }
      if (this.held.delete(k)) {
        if (op.op === 'replace') send({ ...op, existing: false }, op);
        continue;
      }
      pass.push(op);
    }
    if (pass.length === 0) return [];
    const failures = await this.inner.apply(pass);
    return failures.map((f) => {
      const o = origin.get(f.op) ?? f.op;
      if (o.op === 'replace' && isOriginSink(o.route.nexthops)) this.held.delete(prefixKey(o.route));
      return { op: o, error: f.error };
    });
  }

  /** The table's routes plus the held ones. */
  async list(): Promise<FibRoute[]> {
    return [...(await this.inner.list()), ...this.held.values()];
  }

  /** Close the real table. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
