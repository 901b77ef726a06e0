// The lower half: keeps a forwarding table (FibBackend) equal to the RIB's selected routes
// (STYLE item 13; after BIRD's krt scan and holo's purge of stale routes).
//
//   start: list table ─▶ diff against every selected route ─▶ apply (reconcile)
//          with startupGraceMs: adopt what the table holds, install/replace what the RIB wants,
//          delete nothing ─▶ (grace timer or ready()) ─▶ full diff that removes what is unwanted
//   Rib ─▶ bus ─▶ Subscriber "fib" ─onReady─▶ drain(batchSize) ─▶ diff vs installed ─▶ apply
//                                            (up to MAX_IN_FLIGHT batches pipelined)
//   every scanMs: list table ─▶ full diff ─▶ apply (repairs drift: routes deleted by hand)
//   refused op ─▶ errors list + counter + log ─▶ retry with exponential backoff (others go on)
//   stop(): routes stay (graceful restart) unless { flush: true }
//
// Graceful restart: a daemon stopped without flush leaves its routes in the table so forwarding
// goes on while it restarts. With `startupGraceMs` the restarted synchroniser keeps those routes
// (counts them as installed, `counters.adopted`) until its protocols have had time to relearn
// them; routes the RIB selects meanwhile are installed or replaced at once, but nothing is
// deleted until the grace period ends or `ready()` is
// called, when a full diff removes every route still unwanted. Only routes the backend lists as
// ours are ever adopted or removed.
//
// All table work runs on one promise chain, so operations reach the backend in order and a full
// diff never interleaves with an incremental batch. `installed` mirrors what we believe the
// table holds; the full diff replaces it with what the table really holds.

import pino from 'pino';
import type { Rib } from '../rib.js';
import type { Subscriber } from '../bus.js';
import { formatAfPrefix, prefixKey, type AfPrefix, type NextHop } from '../types.js';
import {
  formatOp,
  hopsMatch,
  type FibBackend,
  type FibFailure,
  type FibOp,
  type FibRoute,
} from './backend.js';

// ===== Options and reports =====

/** Options of the synchroniser. */
export interface FibSyncOptions {
  readonly log?: pino.Logger;
  /** Maximum operations per backend batch. */
  readonly batchSize?: number;
  /** Interval of the full diff in ms (0 disables it). */
  readonly scanMs?: number;
  /** First retry delay of a refused route, doubled per attempt up to `retryMaxMs`. */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /**
   * After start, keep routes found in the table for this long (ms) instead of deleting those the
   * RIB does not want yet (graceful restart); `ready()` ends the period early. 0 (the default)
   * reconciles at once.
   */
  readonly startupGraceMs?: number;
}

/** A route the table refused, as the admin API shows it. */
export interface FibError {
  readonly prefix: string;
  readonly op: string;
  readonly error: string;
  readonly attempts: number;
  readonly since: number;
  readonly nextRetry: number;
}

/** Counters for metrics. */
export interface FibCounters {
  installed: number;
  removed: number;
  refused: number;
  repaired: number;
  scans: number;
  batches: number;
  /** Routes found in the table at start-up and kept through the grace period without being wanted. */
  adopted: number;
}

interface Failing {
  readonly route: AfPrefix;
  op: string;
  error: string;
  attempts: number;
  readonly since: number;
  nextRetry: number;
}

// ===== Synchroniser =====

const MAX_IN_FLIGHT = 4;

/** Keeps one FibBackend equal to the RIB's selected routes. */
export class FibSync {
  private readonly log: pino.Logger;
  private readonly batchSize: number;
  private readonly scanMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly startupGraceMs: number;
  /** In the start-up grace period: routes left by the previous run are not deleted. */
  private grace = false;
  /** Prefixes found in the table at start that the RIB has not taken over yet. */
  private readonly adoptedKeys = new Set<number | string>();
  /** `ready()` was called (a later start skips the grace period). */
  private readyCalled = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private sub: Subscriber | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly installed = new Map<number | string, FibRoute>();
  private readonly failing = new Map<number | string, Failing>();
  private scanTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private draining = false;
  private running = false;
  readonly counters: FibCounters = {
    installed: 0,
    removed: 0,
    refused: 0,
    repaired: 0,
    scans: 0,
    batches: 0,
    adopted: 0,
  };

  constructor(
    private readonly rib: Rib,
    private readonly backend: FibBackend,
    opts: FibSyncOptions = {},
  ) {
    this.log = opts.log ?? pino({ level: 'silent' });
    this.batchSize = opts.batchSize ?? 10_000;
    this.scanMs = opts.scanMs ?? 30_000;
    this.retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.startupGraceMs = opts.startupGraceMs ?? 0;
  }

  /** Reconcile the table with the RIB, then follow the RIB's events. */
  async start(): Promise<void> {
    this.running = true;
    this.grace = this.startupGraceMs > 0 && !this.readyCalled;
    this.sub = this.rib.bus.subscribe('fib');
    // Everything the subscriber could report is covered by the reconcile's full diff.
    this.sub.drain();
    if (this.grace) {
      this.log.info({ graceMs: this.startupGraceMs }, 'fib start-up grace period: keeping existing routes');
      this.graceTimer = setTimeout(() => void this.ready(), this.startupGraceMs);
      this.graceTimer.unref();
    }
    await this.enqueue(() => this.fullDiff('reconcile'));
    this.sub.onReady(() => this.kick());
    this.kick();
    if (this.scanMs > 0) {
      this.scanTimer = setInterval(() => void this.enqueue(() => this.fullDiff('scan')), this.scanMs);
      this.scanTimer.unref();
    }
  }

  /** True while the start-up grace period lasts (nothing is deleted from the table). */
  get inGracePeriod(): boolean {
    return this.grace;
  }

  /**
   * End the start-up grace period now (the protocols have relearned their routes): a full diff
   * removes the routes the RIB still does not want. Resolves when that diff is applied. Called
   * before `start`, the grace period is skipped.
   */
  ready(): Promise<void> {
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.readyCalled = true;
    if (!this.grace) return this.chain;
    this.grace = false;
    this.log.info('fib start-up grace period over: removing routes no longer wanted');
    return this.enqueue(() => this.fullDiff('grace-end'));
  }

  /** Stop following the RIB; with `flush`, remove every route we own from the table. */
  async stop(opts: { flush?: boolean } = {}): Promise<void> {
    this.running = false;
    this.grace = false;
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.sub?.close();
    this.sub = undefined;
    if (this.scanTimer !== undefined) clearInterval(this.scanTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.chain;
    if (opts.flush === true) {
      await this.enqueue(async () => {
        const have = await this.backend.list();
        await this.applyOps(have.map((r) => ({ op: 'delete', route: r })));
        this.installed.clear();
      });
    }
    this.failing.clear();
  }

  /** Routes the table refused, oldest first. */
  errors(): FibError[] {
    return [...this.failing.values()].map((f) => ({
      prefix: formatAfPrefix(f.route),
      op: f.op,
      error: f.error,
      attempts: f.attempts,
      since: f.since,
      nextRetry: f.nextRetry,
    }));
  }

  /** Resolves when queued work is done and no RIB event is pending (tests, graceful stop). */
  async settled(): Promise<void> {
    for (;;) {
      await this.chain;
      if (this.sub === undefined || this.sub.pending === 0) {
        await this.chain;
        if (this.sub === undefined || this.sub.pending === 0) return;
      }
      this.kick();
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Run a full diff now (the periodic scan does this on its own). */
  scan(): Promise<void> {
    return this.enqueue(() => this.fullDiff('scan'));
  }

  // ----- work queue -----

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn).catch((e: unknown) => {
      this.log.error({ err: e }, 'fib sync step failed');
    });
    this.chain = next;
    return next;
  }

  private kick(): void {
    if (this.draining || !this.running) return;
    this.draining = true;
    void this.enqueue(async () => {
      try {
        await this.incremental();
      } finally {
        this.draining = false;
        // Events that arrived while this drain was finishing saw `draining` set and were left
        // pending: go round again rather than wait for the next event or scan.
        if (this.running && this.sub !== undefined && this.sub.pending > 0) this.kick();
      }
    });
  }

  // ----- diffs -----

  private opFor(k: number | string, route: AfPrefix, want: readonly NextHop[]): FibOp | undefined {
    const have = this.installed.get(k);
    if (want.length === 0) return have === undefined ? undefined : { op: 'delete', route };
    if (have !== undefined && hopsMatch(want, have.nexthops)) return undefined;
    return { op: 'replace', route: { ...route, nexthops: want } as FibRoute, existing: have !== undefined };
  }

  /**
   * Drain the subscriber in batches and apply them, keeping up to `MAX_IN_FLIGHT` batches in
   * the backend at once so the kernel never waits for us. A batch that touches a prefix still in
   * flight waits for the earlier batches first: its operation depends on their outcome.
   */
  private async incremental(): Promise<void> {
    const inFlight = new Set<number | string>();
    let outstanding: Promise<void>[] = [];
    while (this.sub !== undefined && this.sub.pending > 0) {
      const evs = this.sub.drain(this.batchSize);
      const routes: { k: number | string; route: AfPrefix; want: readonly NextHop[] }[] = [];
      let overlaps = false;
      for (const ev of evs) {
        if (ev.type !== 'route-selected' && ev.type !== 'route-changed' && ev.type !== 'route-removed')
          continue;
        const route = { afi: ev.afi, prefix: ev.prefix } as AfPrefix;
        const k = prefixKey(route);
        if (inFlight.has(k)) overlaps = true;
        routes.push({ k, route, want: ev.type === 'route-removed' ? [] : ev.nexthops });
      }
      if (overlaps) {
        await Promise.all(outstanding);
        outstanding = [];
      }
      const ops: FibOp[] = [];
      const keys: (number | string)[] = [];
      for (const { k, route, want } of routes) {
        this.failing.delete(k);
        const op = this.opFor(k, route, want);
        // In the grace period a route left by the previous run stays until the diff that ends the
        // period; a route this run installed and the RIB now withdraws goes at once.
        if (want.length > 0) this.adoptedKeys.delete(k);
        if (op === undefined || (this.grace && op.op === 'delete' && this.adoptedKeys.has(k))) continue;
        ops.push(op);
        keys.push(k);
        inFlight.add(k);
      }
      if (ops.length === 0) continue;
      outstanding.push(
        this.applyOps(ops).finally(() => {
          for (const k of keys) inFlight.delete(k);
        }),
      );
      if (outstanding.length >= MAX_IN_FLIGHT) await outstanding.shift();
    }
    await Promise.all(outstanding);
  }

  private async fullDiff(why: 'reconcile' | 'scan' | 'grace-end'): Promise<void> {
    if (!this.running) return;
    const have = await this.backend.list();
    this.counters.scans++;
    const before = this.installed.size;
    this.installed.clear();
    for (const r of have) this.installed.set(prefixKey(r), r);
    const ops: FibOp[] = [];
    const wanted = new Set<number | string>();
    for (const sel of this.rib.routes()) {
      const route = { afi: sel.afi, prefix: sel.prefix } as AfPrefix;
      const k = prefixKey(route);
      wanted.add(k);
      const op = this.opFor(k, route, sel.nexthops);
      if (op !== undefined) ops.push(op);
    }
    const grace = this.grace;
    let kept = 0;
    if (why === 'reconcile') this.adoptedKeys.clear();
    for (const [k, r] of this.installed) {
      if (wanted.has(k)) continue;
      if (grace) {
        kept++;
        if (why === 'reconcile') this.adoptedKeys.add(k);
      } else ops.push({ op: 'delete', route: r });
    }
    if (!grace) this.adoptedKeys.clear();
    if (grace && why === 'reconcile') this.counters.adopted += kept;
    if (ops.length > 0 || kept > 0) {
      this.log.info(
        { why, ops: ops.length, kept, tableRoutes: have.length, believed: before },
        'fib full diff repairs',
      );
      if (why === 'scan') this.counters.repaired += ops.length;
    }
    for (let i = 0; i < ops.length; i += this.batchSize)
      await this.applyOps(ops.slice(i, i + this.batchSize));
  }

  private async applyOps(ops: readonly FibOp[]): Promise<void> {
    this.counters.batches++;
    let failures: FibFailure[];
    try {
      failures = await this.backend.apply(ops);
    } catch (e) {
      // The backend itself failed (process died): nothing is known to be applied; the next full
      // diff re-reads the table. Record every op as failing so the retry path covers them.
      const msg = e instanceof Error ? e.message : String(e);
      failures = ops.map((op) => ({ op, error: msg }));
    }
    const failed = new Set<FibOp>();
    const now = Date.now();
    for (const f of failures) {
      failed.add(f.op);
      const k = prefixKey(f.op.route);
      // Deleting a route that is already gone is success.
      if (f.op.op === 'delete' && /No such process|not found/i.test(f.error)) {
        failed.delete(f.op);
        continue;
      }
      this.counters.refused++;
      const prev = this.failing.get(k);
      const attempts = (prev?.attempts ?? 0) + 1;
      const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1));
      this.failing.set(k, {
        route: { afi: f.op.route.afi, prefix: f.op.route.prefix } as AfPrefix,
        op: f.op.op,
        error: f.error,
        attempts,
        since: prev?.since ?? now,
        nextRetry: now + delay,
      });
      this.log.warn({ op: formatOp(f.op), error: f.error, attempts, retryInMs: delay }, 'fib refused route');
    }
    for (const op of ops) {
      const k = prefixKey(op.route);
      // A refused add installed nothing and a refused replace left the old route (the kernel
      // applies each request atomically), so our belief stays as it was.
      if (failed.has(op)) continue;
      this.failing.delete(k);
      if (op.op === 'delete') {
        this.installed.delete(k);
        this.counters.removed++;
      } else {
        this.installed.set(k, op.route);
        this.counters.installed++;
      }
    }
    this.scheduleRetry();
  }

  // ----- retries -----

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.failing.size === 0 || !this.running) return;
    let next = Infinity;
    for (const f of this.failing.values()) next = Math.min(next, f.nextRetry);
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        void this.enqueue(() => this.retryDue());
      },
      Math.max(0, next - Date.now()),
    );
    this.retryTimer.unref();
  }

  private async retryDue(): Promise<void> {
    if (!this.running) return;
    const now = Date.now();
    const ops: FibOp[] = [];
    for (const [k, f] of this.failing) {
      if (f.nextRetry > now) continue;
      const sel = this.rib.selected(f.route.prefix);
      const op = this.opFor(k, f.route, sel?.nexthops ?? []);
      if (op === undefined || (this.grace && op.op === 'delete')) this.failing.delete(k);
      else ops.push(op);
    }
    if (ops.length > 0) await this.applyOps(ops);
    else this.scheduleRetry();
  }
}
