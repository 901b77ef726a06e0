// The internal event bus between the RIB and its consumers (the lower half, BGP export, admin
// watchers). Events are a discriminated union of plain, serialisable values (STYLE item 8).
//
//   Rib ──publish──▶ EventBus ──▶ Subscriber "fib"    (pending: latest state per prefix)
//                            ├──▶ Subscriber "export"  (pending: latest state per prefix)
//                            └──▶ Subscriber "api"     …
//   consumer: sub.onReady(cb) → cb() → sub.drain() → coalesced events, oldest key first
//
// A subscriber never holds a queue of events: it keeps at most one pending entry per prefix (and
// per BFD session / neighbour), so a slow consumer costs memory bounded by the table size. The
// entry remembers whether the subscriber had the prefix before the first undrained change, so a
// drain turns "selected, changed, changed" into one `route-selected`, "changed, removed" into
// `route-removed`, and "selected, removed" into nothing: after each drain the subscriber's view
// equals the RIB.
//
// The RIB's own changes take a path without per-change objects or hashing (`publishRoute`): each
// of the first MAX_FAST_SUBSCRIBERS subscribers owns two bits of the prefix's RIB entry ("pending here",
// "had it before") and a list of the states pending for it; the event is built when the
// subscriber drains, from the state as it is then. A state the RIB has dropped (prefix gone) and
// a newer state for the same prefix can both be pending; a drain merges the two.

import type { Afi, NextHop } from './types.js';
import type { Prefix4, Prefix6 } from '../wire/ip/index.js';
import { Prefix4Map, Prefix6Map } from './prefix-map.js';
import { key6 } from '../wire/ip/index.js';
import { afiOf, busBitsOf, isDropped, prefixOf, setBusBits, type Entry } from './entry.js';

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

/**
 * Subscribers that take the RIB's changes without per-change objects (two bits each in
 * a RIB entry's bus bits, which therefore hold up to 10 bits).
 */
export const MAX_FAST_SUBSCRIBERS = 5;

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
  /** Route states pending here (fast path), from `head` on. */
  private states: Entry[] = [];
  private head = 0;
  private readyCb: (() => void) | undefined;
  private scheduled = false;
  closed = false;

  constructor(
    readonly name: string,
    private readonly bus: EventBus,
    /** Index of the two bits this subscriber owns in a RIB entry's bus bits (`busBitsOf`), or -1. */
    readonly slot: number = -1,
  ) {}

  /** Number of keys with undrained state. */
  get pending(): number {
    return this.v4.size + this.v6.size + this.other.size + this.states.length - this.head;
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

  /** Note a change of a route state (called by the bus for fast subscribers). */
  pushState(st: Entry, before: readonly NextHop[]): void {
    const pend = 1 << (2 * this.slot);
    const bits = busBitsOf(st);
    if ((bits & pend) !== 0) return;
    const had = pend << 1;
    setBusBits(st, before.length > 0 ? bits | pend | had : (bits | pend) & ~had);
    this.states.push(st);
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
    if (out.length < max && this.head < this.states.length) this.drainStates(max - out.length, out);
    return out;
  }

  /** Events for up to `max` pending route states, oldest first. */
  private drainStates(max: number, out: RibEvent[]): void {
    const states = this.states;
    const end = Math.min(states.length, this.head + max);
    const pend = 1 << (2 * this.slot);
    const had = pend << 1;
    // A prefix pending twice (its old state dropped by the RIB, then a new one) is merged into
    // one event: the first state's "had" with the last state's hops. Tracked only once a dropped
    // state shows up (the older of the two always comes first).
    let seen: Map<number | string, number> | undefined;
    let merged = false;
    const first = out.length;
    for (let i = this.head; i < end; i++) {
      const st = states[i]!;
      const bits = busBitsOf(st);
      setBusBits(st, bits & ~(pend | had));
      let hadBefore = (bits & had) !== 0;
      if (seen !== undefined || isDropped(st)) {
        seen ??= new Map();
        const p = prefixOf(st);
        const k = typeof p === 'number' ? p : key6(p);
        const at = seen.get(k);
        if (at !== undefined) {
          hadBefore = (at & 1) === 1;
          out[at >> 1] = DROPPED;
          merged = true;
        }
        seen.set(k, out.length * 2 + (hadBefore ? 1 : 0));
      }
      const ev = routeEvent(st, hadBefore);
      if (ev !== undefined) out.push(ev);
      else if (seen !== undefined) out.push(DROPPED);
    }
    this.head = end;
    if (end === states.length) {
      this.states = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > states.length) {
      this.states = states.slice(this.head);
      this.head = 0;
    }
    if (merged || seen !== undefined) {
      let w = first;
      for (let i = first; i < out.length; i++) {
        const ev = out[i]!;
        if (ev !== DROPPED) out[w++] = ev;
      }
      out.length = w;
    }
  }

  /** Stop receiving events. */
  close(): void {
    this.closed = true;
    const mask = ~(3 << (2 * this.slot));
    for (let i = this.head; i < this.states.length; i++) {
      const st = this.states[i]!;
      setBusBits(st, busBitsOf(st) & mask);
    }
    this.states = [];
    this.head = 0;
    this.bus.unsubscribe(this);
  }
}

/** The event telling a subscriber that had (or had not) the prefix what its state is now. */
function routeEvent(st: Entry, hadBefore: boolean): RouteEvent | undefined {
  const hops = st.hops;
  const afi = afiOf(st);
  const prefix = prefixOf(st);
  if (hops.length === 0) return hadBefore ? { type: 'route-removed', afi, prefix } : undefined;
  return hadBefore
    ? { type: 'route-changed', afi, prefix, nexthops: hops }
    : { type: 'route-selected', afi, prefix, nexthops: hops };
}

// Placeholder for an event merged away while a drain merges a prefix's two states.
const DROPPED: SourceState = Object.freeze({ type: 'source-state', source: '', up: false });

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
    let slot = 0;
    while (slot < MAX_FAST_SUBSCRIBERS && this.subs.some((x) => x.slot === slot)) slot++;
    const s = new Subscriber(name, this, slot < MAX_FAST_SUBSCRIBERS ? slot : -1);
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

  /**
   * Deliver a change of a prefix's forwarding state from `before` to `st.hops` (the RIB's path:
   * subscribers build the event when they drain; only listeners and subscribers beyond the
   * first MAX_FAST_SUBSCRIBERS get an event object now).
   */
  publishRoute(st: Entry, before: readonly NextHop[]): void {
    const subs = this.subs;
    let ev: RouteEvent | undefined;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if (s.slot >= 0) s.pushState(st, before);
      else s.push((ev ??= changeEvent(st, before)));
    }
    if (this.listeners.length > 0) {
      ev ??= changeEvent(st, before);
      for (const l of this.listeners) l(ev);
    }
  }
}

function changeEvent(st: Entry, before: readonly NextHop[]): RouteEvent {
  return routeEvent(st, before.length > 0) ?? { type: 'route-removed', afi: afiOf(st), prefix: prefixOf(st) };
}
