// The internal event bus between the RIB and its consumers (the lower half, BGP export, admin
// watchers). Events are a discriminated union of plain, serialisable values (STYLE item 8).
//
//   Rib ──publish──▶ EventBus ──▶ Subscriber "fib"    (pending: latest state per prefix)
//                            ├──▶ Subscriber "export"  (pending: latest state per prefix)
//                            └──▶ Subscriber "api"     …
//   consumer: sub.onReady(cb) → cb() → sub.drain() → coalesced events, oldest key first
//
// A subscriber never holds a queue: it keeps at most one pending entry per prefix (and per
// BFD session / neighbour), so a slow consumer costs memory bounded by the table size. The entry
// remembers whether the subscriber had the prefix before the first undrained change, so a drain
// turns "selected, changed, changed" into one `route-selected`, "changed, removed" into
// `route-removed`, and "selected, removed" into nothing: after each drain the subscriber's view
// equals the RIB.

import type { Afi, NextHop } from './types.js';
import type { Prefix4, Prefix6 } from '../wire/ip/index.js';
import { Prefix4Map, Prefix6Map } from './prefix-map.js';

// ===== Events =====

/** A prefix became selected (the subscriber did not have it). */
export interface RouteSelected {
  readonly type: 'route-selected';
  readonly afi: Afi;
  readonly prefix: Prefix4 | Prefix6;
  readonly nexthops: readonly NextHop[];
}

/** The forwarding next hops of a selected prefix changed. */
export interface RouteChanged {
  readonly type: 'route-changed';
  readonly afi: Afi;
  readonly prefix: Prefix4 | Prefix6;
  readonly nexthops: readonly NextHop[];
}

/** A prefix has no selected path any more. */
export interface RouteRemoved {
  readonly type: 'route-removed';
  readonly afi: Afi;
  readonly prefix: Prefix4 | Prefix6;
}

/** A BFD session towards a next hop changed state. */
export interface NextHopState {
  readonly type: 'nexthop-state';
  readonly nexthop: NextHop;
  readonly up: boolean;
}

/** A route source (BGP neighbour…) was enabled or shut down. */
export interface SourceState {
  readonly type: 'source-state';
  readonly source: string;
  readonly up: boolean;
}

export type RouteEvent = RouteSelected | RouteChanged | RouteRemoved;
export type RibEvent = RouteEvent | NextHopState | SourceState;

// ===== Subscribers =====

/** Coalesced state of one key after a second undrained event (the first is stored bare). */
class Pending {
  constructor(
    /** Whether the subscriber's view had the prefix before the first undrained change. */
    readonly hadBefore: boolean,
    public latest: RouteEvent,
  ) {}
}

// A key with one undrained route event stores that event itself (its type says whether the
// subscriber had the prefix before); only a second event allocates a `Pending`.
type Slot = RouteEvent | Pending;

function coalesce(prev: Slot | undefined, ev: RouteEvent): Slot {
  if (prev === undefined) return ev;
  if (prev instanceof Pending) {
    prev.latest = ev;
    return prev;
  }
  return new Pending(prev.type !== 'route-selected', ev);
}

/** One consumer's coalescing inbox. */
export class Subscriber {
  private readonly v4 = new Prefix4Map<Slot>();
  private readonly v6 = new Prefix6Map<Slot>();
  private readonly other = new Map<string, RibEvent>();
  private readyCb: (() => void) | undefined;
  private scheduled = false;
  closed = false;

  constructor(
    readonly name: string,
    private readonly bus: EventBus,
  ) {}

  /** Number of keys with undrained state. */
  get pending(): number {
    return this.v4.size + this.v6.size + this.other.size;
  }

  /** Call `cb` (once per burst, from a microtask) when undrained state appears. */
  onReady(cb: () => void): void {
    this.readyCb = cb;
    if (this.pending > 0) this.schedule();
  }

  /** Accept one event (called by the bus). */
  push(ev: RibEvent): void {
    switch (ev.type) {
      case 'route-selected':
      case 'route-changed':
      case 'route-removed': {
        if (typeof ev.prefix === 'number') {
          const prev = this.v4.get(ev.prefix);
          const next = coalesce(prev, ev);
          if (next !== prev) this.v4.set(ev.prefix, next);
        } else {
          const prev = this.v6.get(ev.prefix);
          const next = coalesce(prev, ev);
          if (next !== prev) this.v6.set(ev.prefix, next);
        }
        break;
      }
      case 'nexthop-state':
        this.other.set(`nh:${JSON.stringify(ev.nexthop.addr)}%${ev.nexthop.ifname ?? ''}`, ev);
        break;
      case 'source-state':
        this.other.set(`src:${ev.source}`, ev);
        break;
    }
    if (this.readyCb !== undefined && !this.scheduled) this.schedule();
  }

  private schedule(): void {
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.pending > 0 && !this.closed) this.readyCb?.();
    });
  }

  /** Take every pending change (at most `max` keys), coalesced to one event per key. */
  drain(max = Infinity): RibEvent[] {
    const out: RibEvent[] = [];
    for (const [k, ev] of this.other) {
      if (out.length >= max) return out;
      this.other.delete(k);
      out.push(ev);
    }
    const taken: [Prefix4 | Prefix6, Slot][] = [];
    this.v4.take(max - out.length, taken as [Prefix4, Slot][]);
    this.v6.take(max - out.length, taken as [Prefix6, Slot][]);
    for (const [, slot] of taken) {
      const ev = slot instanceof Pending ? resolvePending(slot) : slot;
      if (ev !== undefined) out.push(ev);
    }
    return out;
  }

  /** Stop receiving events. */
  close(): void {
    this.closed = true;
    this.bus.unsubscribe(this);
  }
}

function resolvePending(p: Pending): RouteEvent | undefined {
  const ev = p.latest;
  switch (ev.type) {
    case 'route-removed':
      return p.hadBefore ? ev : undefined;
    case 'route-selected':
    case 'route-changed': {
      const type = p.hadBefore ? 'route-changed' : 'route-selected';
      return ev.type === type ? ev : { type, afi: ev.afi, prefix: ev.prefix, nexthops: ev.nexthops };
    }
  }
}

// ===== Bus =====

/** Fan-out of RIB events to any number of coalescing subscribers and raw listeners. */
export class EventBus {
  private subs: Subscriber[] = [];
  private listeners: ((ev: RibEvent) => void)[] = [];

  /** True when someone would receive an event (lets the RIB skip building them). */
  get active(): boolean {
    return this.subs.length > 0 || this.listeners.length > 0;
  }

  /** A new coalescing subscriber. */
  subscribe(name: string): Subscriber {
    const s = new Subscriber(name, this);
    this.subs.push(s);
    return s;
  }

  /** Remove a subscriber. */
  unsubscribe(s: Subscriber): void {
    this.subs = this.subs.filter((x) => x !== s);
  }

  /** Receive every event synchronously, uncoalesced (for recorders); returns an unsubscribe. */
  listen(fn: (ev: RibEvent) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== fn);
    };
  }

  /** Deliver one event. */
  publish(ev: RibEvent): void {
    for (const s of this.subs) s.push(ev);
    for (const l of this.listeners) l(ev);
  }
}
