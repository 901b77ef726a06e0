// The shared in-memory RIB: every path from every source per address family (IPv4 and IPv6
// unicast), best-path selection (rib/decision.ts: admin distance, RFC 4271 §9.1.2.2, multipath),
// eligibility (next-hop reachability with recursive resolution, BFD state, neighbour shutdown) and
// coalesced change events on the bus (rib/bus.ts).
//
//   addPath/removePath/removeSource/setNextHopState/setSourceState
//        │ (mark prefixes dirty; inside `batch(fn)` nothing else happens yet)
//        ▼
//   flush: reselect dirty prefixes ─▶ selection changed? ─▶ re-resolve next hops they cover
//        ▲                                                        │ reachability changed?
//        └──────── mark paths using those next hops dirty ◀───────┘
//        ▼ (fixed point)
//   publish route-selected / route-changed / route-removed once per prefix
//
// Memory layout for a full table: an IPv4 prefix has an id (rib/prefix-ids.ts, shared with the
// BGP neighbours' tables) and its entry sits in a column by id; IPv6 prefixes key a `Prefix6Map`.
// An `Entry` (rib/entry.ts) holds the prefix's paths sorted best first (up to two inline,
// more in an exact-size array), the count selected and the forwarding next hops; a `Path` is two
// references: its interned attributes (rib/intern.ts) and a `PathShared` (source, interned
// next-hop list `NhList`, path id, metric) that a neighbour's whole table shares. A `Path` is
// immutable, so consecutive prefixes with the same attributes and source (one UPDATE) share one
// object. Each `NhList` keeps the entries that use it (an array compacted once per flush as paths
// go; built by one table walk the first time one of its next hops changes state, so a full-table
// load records nothing per path), so a BFD flap or reachability change touches only the prefixes
// using that next hop.
// Next-hop reachability (`NhState`, one per distinct address and interface) is resolved by
// longest match over connected routes and the RIB's own selected routes; it is re-checked only
// when a selected route covering it changes. Measured (test/bench/rib.ts): ~67 bytes of heap per
// path (64.3 MB) for 500k prefixes x 2 neighbours with 65k attribute sets, the sets included.
//
// Next-hop resolution excludes the path's own prefix (a route cannot resolve over itself) and,
// unless `resolveViaDefault`, the default route. Longer cycles (A resolves over B, B over A) are
// not detected; a flush stops after MAX_ROUNDS rounds and leaves the prefixes still dirty for the
// next flush, so such a cycle cannot hang the event loop.

import { decideCode, multipathCount, rank, Step, type Candidate, type SourceView } from './decision.js';
import { Prefix6Map } from './prefix-map.js';
import { PrefixIds } from './prefix-ids.js';
import { AttrInterner, type Attrs } from './intern.js';
import { EventBus } from './bus.js';
import {
  EMPTY_HOPS,
  NO_PATHS,
  NSEL_MASK,
  afiOf,
  appendPath,
  covers4,
  firstPath,
  indexOfPath,
  isChanged,
  isDirty,
  isDropped,
  isMarked,
  markDropped,
  newEntry,
  newEntry4,
  pathAt,
  pathCount,
  pathsOf,
  prefixOf,
  len4,
  removePathAt,
  replacePathAt,
  selectedCount,
  setChanged,
  setDirty,
  setMarked,
  setPaths,
  setSelectedCount,
  setTwo,
  usesList,
  type Entry,
} from './entry.js';
import type { ConnectedRoutes } from './connected.js';
import {
  DEFAULT_DECISION,
  nextHopAddrKey,
  nextHopKey,
  type Afi,
  type DecisionOptions,
  type NextHop,
  type SourceKind,
  type SourceSpec,
} from './types.js';
import type { PathAttributes } from '../wire/bgp/types.js';
import {
  isPrefix4,
  mask4,
  mask6Word,
  prefix6,
  type Addr4,
  type Addr6,
  type Prefix,
  type Prefix4,
  type Prefix6,
} from '../wire/ip/index.js';

export type { Entry } from './entry.js';

// ===== Errors =====

/** A RIB API misuse (unknown source, path without next hops…). */
export class RibError extends Error {
  constructor(
    readonly code: 'RIB_ERR_UNKNOWN_SOURCE' | 'RIB_ERR_NO_NEXTHOP' | 'RIB_ERR_BAD_NEXTHOP',
    message: string,
  ) {
    super(message);
    this.name = 'RibError';
  }
}

// ===== Sources =====

/** A registered route source. */
export class Source implements SourceView {
  readonly id: string;
  readonly kind: SourceKind;
  readonly ebgp: boolean;
  readonly routerId: number;
  readonly peerAddr: Addr4 | Addr6 | undefined;
  readonly distance: number | undefined;
  /** False while the neighbour is shut down: its paths are ineligible. */
  up = true;

  constructor(spec: SourceSpec) {
    this.id = spec.id;
    this.kind = spec.kind;
    this.ebgp = spec.ebgp ?? false;
    this.routerId = spec.routerId ?? 0;
    this.peerAddr = spec.peerAddr;
    this.distance = spec.distance;
  }
}

// ===== Next hops =====

/** Reachability of one next-hop address (+ interface). */
export class NhState {
  /** BFD says the next hop is down. */
  bfdDown = false;
  resolved = false;
  /** Cost to reach it: 0 when connected, else the resolving route's metric and cost. */
  cost = 0;
  /** The RIB prefix it resolves over, or null (connected / unresolved). */
  via: Entry | null = null;
  /** Interned lists containing this next hop. */
  readonly lists = new Set<NhList>();

  constructor(
    readonly key: string,
    readonly hop: NextHop,
  ) {}

  /** Usable for forwarding: resolved and not BFD-down. */
  get usable(): boolean {
    return this.resolved && !this.bfdDown;
  }
}

/** An interned list of next hops shared by every path that uses it, with the prefixes using it. */
export class NhList {
  /** Paths referring to this list. */
  refs = 0;
  /**
   * Entries with a path using this list, once `indexed`; may hold stale entries and repeats (see
   * `maybeCompact`).
   */
  users: Entry[] = [];
  /**
   * Whether `users` is kept. A new list keeps none: a neighbour's whole table usually arrives
   * before any of its next hops changes state, and the first change that needs the users finds
   * them in one walk of the table (`Rib.indexUsers`); from then on each new path is recorded.
   */
  indexed = false;
  /** Scratch mark of `Rib.indexUsers`. */
  indexing = false;
  /** The usable hops (shared array; replaced, never mutated). */
  usable: readonly NextHop[] = [];
  /** Lowest cost over the usable hops. */
  cost = 0;
  /** Some hop resolves over a RIB route (so a path may need the self-resolution check). */
  recursive = false;
  /** Queued for a `maybeCompact` at the end of the current flush. */
  compactDue = false;

  constructor(
    readonly key: string,
    readonly hops: readonly NextHop[],
    readonly states: readonly NhState[],
  ) {}

  /** Recompute `usable` and `cost` from the states; returns true if anything changed. */
  refresh(): boolean {
    const u: NextHop[] = [];
    let cost = Infinity;
    let rec = false;
    for (let i = 0; i < this.states.length; i++) {
      const st = this.states[i]!;
      if (st.via !== null) rec = true;
      if (!st.usable) continue;
      u.push(this.hops[i]!);
      if (st.cost < cost) cost = st.cost;
    }
    if (cost === Infinity) cost = 0;
    const same = u.length === this.usable.length && u.every((h, i) => h === this.usable[i]);
    const changed = !same || cost !== this.cost || rec !== this.recursive;
    if (!same) this.usable = u;
    this.cost = cost;
    this.recursive = rec;
    return changed;
  }

  /** Drop entries that no longer use this list once they outnumber the live ones. */
  maybeCompact(): void {
    if (this.users.length < 64 || this.users.length < 2 * this.refs) return;
    const live: Entry[] = [];
    for (const e of this.users) {
      if (isMarked(e) || !usesList(e, this)) continue;
      setMarked(e, true);
      live.push(e);
    }
    for (const e of live) setMarked(e, false);
    this.users = live;
  }
}

// ===== Paths and prefixes =====

/**
 * What a path shares with every other path from the same source over the same next hops (for a
 * BGP neighbour: one object for its whole table), so a `Path` itself is two references.
 */
export class PathShared {
  refs = 0;

  constructor(
    readonly key: string,
    readonly source: Source,
    readonly nh: NhList,
    readonly pathId: number,
    readonly metric: number,
  ) {}
}

/** One path for one prefix from one source. */
export class Path implements Candidate {
  constructor(
    readonly attrs: Attrs,
    readonly shared: PathShared,
  ) {}

  get source(): Source {
    return this.shared.source;
  }

  get nh(): NhList {
    return this.shared.nh;
  }

  get pathId(): number {
    return this.shared.pathId;
  }

  get metric(): number {
    return this.shared.metric;
  }

  /** Cost to the next hop (from the interned list's resolution). */
  get igpCost(): number {
    return this.shared.nh.cost;
  }

  /** The next hops this path of `entry` can forward over now. */
  usableHops(entry: Entry): readonly NextHop[] {
    const nh = this.shared.nh;
    if (!nh.recursive) return nh.usable;
    // A next hop that resolves over the very prefix it is a path for would support itself.
    const out: NextHop[] = [];
    for (let i = 0; i < nh.states.length; i++) {
      const st = nh.states[i]!;
      if (st.usable && st.via !== entry) out.push(nh.hops[i]!);
    }
    return out.length === nh.usable.length ? nh.usable : out;
  }

  /** Eligible for selection as a path of `entry`: source up and some usable next hop. */
  eligible(entry: Entry): boolean {
    return this.shared.source.up && this.usableHops(entry).length > 0;
  }
}

/** A selected route as seen by queries and dumps. */
export interface SelectedRoute {
  readonly afi: Afi;
  readonly prefix: Prefix4 | Prefix6;
  readonly nexthops: readonly NextHop[];
  /** The selected paths, best first. */
  readonly paths: readonly Path[];
}

/** What a protocol hands the RIB for one path. */
export interface PathInput {
  /** Id of a registered source. */
  readonly source: string;
  /** ADD-PATH path identifier (RFC 7911); 0 when unused. */
  readonly pathId?: number;
  readonly attrs?: PathAttributes;
  readonly nexthops: readonly NextHop[];
  /** Protocol metric for non-BGP sources (lower is better). */
  readonly metric?: number;
}

/** Options of a RIB. */
export interface RibOptions {
  readonly decision?: Partial<DecisionOptions>;
  readonly connected?: ConnectedRoutes;
  readonly bus?: EventBus;
  /** Called with every mutation as a serialisable message (see rib/messages.ts). */
  readonly record?: (msg: RibInput) => void;
}

/** Serialisable RIB inputs, in the RIB's own (not JSON) representation. */
export type RibInput =
  | { readonly type: 'source-add'; readonly spec: SourceSpec }
  | { readonly type: 'path-add'; readonly prefix: Prefix; readonly path: PathInput }
  | {
      readonly type: 'path-remove';
      readonly prefix: Prefix;
      readonly source: string;
      readonly pathId: number;
    }
  | { readonly type: 'source-remove'; readonly source: string }
  | { readonly type: 'source-state'; readonly source: string; readonly up: boolean }
  | { readonly type: 'nexthop-state'; readonly nexthop: NextHop; readonly up: boolean };

const MAX_ROUNDS = 32;

// ===== The RIB =====

/** The RIB for IPv4 and IPv6 unicast. */
export class Rib {
  readonly bus: EventBus;
  readonly interner = new AttrInterner();
  private opts: DecisionOptions;
  /** Ids of IPv4 prefixes, shared with the per-neighbour tables of BGP (rib/prefix-ids.ts). */
  readonly prefixIds = new PrefixIds();
  /** IPv4 entries by prefix id (undefined where only another table holds the id). */
  private byId: (Entry | undefined)[] = new Array<Entry | undefined>(16).fill(undefined);
  private count4 = 0;
  private readonly t6 = new Prefix6Map<Entry>();
  private readonly sources = new Map<string, Source>();
  private readonly nhLists = new Map<string, NhList>();
  private readonly nhStates4 = new Map<string, NhState>();
  private readonly nhStates6 = new Map<string, NhState>();
  private readonly connected: ConnectedRoutes | undefined;
  private readonly record: ((msg: RibInput) => void) | undefined;
  private depth = 0;
  private dirty: Entry[] = [];
  /** The best path of each `dirty` entry when it was marked, before any change of this batch. */
  private dirtyFirst: (Path | undefined)[] = [];
  /** Entries whose best path or selected state changed in this flush (may repeat). */
  private bestChanged: Entry[] = [];
  private bestListeners: ((e: Entry) => void)[] = [];
  /** Entries whose hops changed during this flush (marked CHANGED), and the hops they had before. */
  private changedEntries: Entry[] = [];
  private changedBefore: (readonly NextHop[])[] = [];
  private lastHopsIn: readonly NextHop[] | undefined;
  private lastHopsOut: NhList | undefined;
  private readonly shared = new Map<string, PathShared>();
  private lastShared: PathShared | undefined;
  private lastPath: Path | undefined;
  /** Next-hop lists that lost paths in this batch (see `dropPath`). */
  private compactDue: NhList[] = [];
  private unsubscribeConnected: (() => void) | undefined;

  constructor(opts: RibOptions = {}) {
    this.opts = { ...DEFAULT_DECISION, ...opts.decision };
    this.bus = opts.bus ?? new EventBus();
    this.connected = opts.connected;
    this.record = opts.record;
    if (this.connected !== undefined) {
      this.unsubscribeConnected = this.connected.onChange(() => this.connectedChanged());
    }
  }

  /** The decision options in force. */
  get decision(): DecisionOptions {
    return this.opts;
  }

  /** Change decision options (fan-out, MED rules…) and reselect everything. */
  setDecision(d: Partial<DecisionOptions>): void {
    this.opts = { ...this.opts, ...d };
    this.batch(() => this.forEachEntry((e) => this.markDirty(e)));
  }

  /** Stop listening to connected-route changes. */
  close(): void {
    this.unsubscribeConnected?.();
  }

  // ----- sources -----

  /** Register (or update) a source; paths must name a registered source. */
  addSource(spec: SourceSpec): Source {
    this.record?.({ type: 'source-add', spec });
    const old = this.sources.get(spec.id);
    const s = new Source(spec);
    if (old !== undefined) s.up = old.up;
    this.sources.set(spec.id, s);
    if (old !== undefined) {
      // Paths keep a direct reference to their source: rebuild them on the new one.
      this.batch(() =>
        this.forEachEntry((e) => {
          if (!pathsOf(e).some((p) => p.source === old)) return;
          this.markDirty(e);
          setPaths(
            e,
            pathsOf(e).map((p) => {
              if (p.source !== old) return p;
              const np = new Path(p.attrs, this.sharedFor(s, p.nh, p.pathId, p.metric));
              this.releaseShared(p.shared);
              return np;
            }),
          );
        }),
      );
    }
    return s;
  }

  /** A registered source. */
  source(id: string): Source | undefined {
    return this.sources.get(id);
  }

  // ----- batching -----

  /** Run `fn` with all mutations coalesced: selection and events happen once at the end. */
  batch<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      if (--this.depth === 0) this.flush();
    }
  }

  private done(): void {
    if (this.depth === 0) this.flush();
  }

  /** Schedule reselection; callers mark before they change the entry's paths. */
  private markDirty(e: Entry): void {
    if (isDirty(e)) return;
    setDirty(e, true);
    this.dirty.push(e);
    this.dirtyFirst.push(firstPath(e));
  }

  /**
   * Hear every entry whose best path (the `Path` object, so also its attributes, source and
   * next-hop list) or selected state changed, once per flush after selection (an entry may
   * repeat). This is what BGP export needs: the bus reports forwarding next hops only. `fn` must
   * not write the RIB. Returns an unsubscribe.
   */
  onBestChange(fn: (e: Entry) => void): () => void {
    this.bestListeners.push(fn);
    return () => {
      this.bestListeners = this.bestListeners.filter((x) => x !== fn);
    };
  }

  // ----- paths -----

  /**
   * Add or replace the path identified by (prefix, source, pathId). The RIB keeps its own
   * copies; passing the same attribute object or next-hop array again (one per UPDATE) skips
   * re-interning, so callers must not mutate them after the call.
   */
  addPath(prefix: Prefix, input: PathInput): void {
    const src = this.sources.get(input.source);
    if (src === undefined) throw new RibError('RIB_ERR_UNKNOWN_SOURCE', `unknown source '${input.source}'`);
    if (input.nexthops.length === 0)
      throw new RibError('RIB_ERR_NO_NEXTHOP', 'a path needs at least one next hop');
    const nh = this.nhListFor(input.nexthops);
    // Recorded once validated, so a recording replays without errors.
    this.record?.({ type: 'path-add', prefix, path: input });
    const e = this.entryFor(prefix);
    this.markDirty(e);
    const pathId = input.pathId ?? 0;
    const attrs = this.interner.intern(input.attrs ?? NO_ATTRS);
    const shared = this.sharedFor(src, nh, pathId, input.metric ?? 0);
    // A path is immutable and holds nothing about its prefix, so the prefixes of one UPDATE
    // share one object (reference counts stay per use).
    let path = this.lastPath;
    if (path === undefined || path.attrs !== attrs || path.shared !== shared) {
      path = new Path(attrs, shared);
      this.lastPath = path;
    }
    this.interner.retain(attrs);
    nh.refs++;
    const i = indexOfPath(e, src, pathId);
    if (i >= 0) {
      const old = pathAt(e, i);
      replacePathAt(e, i, path);
      if (old.nh !== nh && nh.indexed) nh.users.push(e);
      this.dropPath(old);
    } else {
      appendPath(e, path);
      if (nh.indexed) nh.users.push(e);
    }
    this.done();
  }

  /** Remove the path (prefix, source, pathId); returns false if it was not there. */
  removePath(prefix: Prefix, source: string, pathId = 0): boolean {
    this.record?.({ type: 'path-remove', prefix, source, pathId });
    const e = this.entry(prefix);
    if (e === undefined) return false;
    const n = pathCount(e);
    for (let i = 0; i < n; i++) {
      const p = pathAt(e, i);
      if (p.source.id === source && p.pathId === pathId) {
        this.markDirty(e);
        removePathAt(e, i);
        this.dropPath(p);
        this.done();
        return true;
      }
    }
    return false;
  }

  /** Remove every path of a source (neighbour down); returns how many were removed. */
  removeSource(source: string): number {
    this.record?.({ type: 'source-remove', source });
    let n = 0;
    this.batch(() =>
      this.forEachEntry((e) => {
        const gone = pathsOf(e).filter((p) => p.source.id === source);
        if (gone.length === 0) return;
        this.markDirty(e);
        setPaths(
          e,
          pathsOf(e).filter((p) => p.source.id !== source),
        );
        for (const p of gone) this.dropPath(p);
        n += gone.length;
      }),
    );
    return n;
  }

  /** Enable or shut down a source: a shut-down source's paths stay but are not selected. */
  setSourceState(source: string, up: boolean): void {
    const s = this.sources.get(source);
    if (s === undefined) throw new RibError('RIB_ERR_UNKNOWN_SOURCE', `unknown source '${source}'`);
    this.record?.({ type: 'source-state', source, up });
    if (s.up === up) return;
    s.up = up;
    this.batch(() =>
      this.forEachEntry((e) => {
        if (pathsOf(e).some((p) => p.source === s)) this.markDirty(e);
      }),
    );
    if (this.bus.active) this.bus.publish({ type: 'source-state', source, up });
  }

  /** BFD verdict for a next hop (address + interface): down makes paths through it ineligible. */
  setNextHopState(nexthop: NextHop, up: boolean): void {
    this.record?.({ type: 'nexthop-state', nexthop, up });
    const afi: Afi = typeof nexthop.addr === 'number' ? 4 : 6;
    const st = this.nhStateFor(nexthop, afi, false);
    if (st !== undefined && st.bfdDown === up) {
      st.bfdDown = !up;
      if (up && st.lists.size === 0) (afi === 4 ? this.nhStates4 : this.nhStates6).delete(st.key);
      else this.batch(() => this.nhStateChanged(st));
    } else if (st === undefined && !up) {
      // Remember the verdict for paths that arrive later.
      this.nhStateFor(nexthop, afi, true)!.bfdDown = true;
    }
    if (this.bus.active) this.bus.publish({ type: 'nexthop-state', nexthop, up });
  }

  // ----- queries -----

  /** The prefix entry (all paths), if any. */
  entry(prefix: Prefix): Entry | undefined {
    if (!isPrefix4(prefix)) return this.t6.get(prefix);
    const addr = Math.floor(prefix / 64);
    return this.get4(addr, prefix - addr * 64);
  }

  /** The IPv4 entry of a prefix id (`prefixIds`), if any. */
  entryById(id: number): Entry | undefined {
    return this.byId[id];
  }

  /** The selected route of a prefix, or undefined. */
  selected(prefix: Prefix): SelectedRoute | undefined {
    const e = this.entry(prefix);
    if (e === undefined || selectedCount(e) === 0) return undefined;
    return {
      afi: afiOf(e),
      prefix: prefixOf(e),
      nexthops: e.hops,
      paths: pathsOf(e).slice(0, selectedCount(e)),
    };
  }

  /** Every path of a prefix, best first. */
  paths(prefix: Prefix): readonly Path[] {
    const e = this.entry(prefix);
    return e === undefined ? NO_PATHS : pathsOf(e);
  }

  /** Iterate the selected routes of a family (or both). */
  *routes(afi?: Afi): IterableIterator<SelectedRoute> {
    for (const e of this.entriesOf(afi)) {
      if (selectedCount(e) > 0)
        yield {
          afi: afiOf(e),
          prefix: prefixOf(e),
          nexthops: e.hops,
          paths: pathsOf(e).slice(0, selectedCount(e)),
        };
    }
  }

  /** Iterate every prefix entry of a family or both (all paths, for dumps). */
  *entriesOf(afi?: Afi): IterableIterator<Entry> {
    if (afi !== 6) {
      const byId = this.byId;
      for (let id = 0; id < byId.length; id++) {
        const e = byId[id];
        if (e !== undefined) yield e;
      }
    }
    if (afi !== 4) yield* this.t6.values();
  }

  /**
   * Call `fn` for every prefix entry of a family or both (all paths). Several times faster than
   * `entriesOf` over a full table (no generator step per entry); `fn` must not add or remove paths.
   */
  forEachEntryOf(afi: Afi | undefined, fn: (e: Entry) => void): void {
    if (afi !== 6) this.forEach4(fn);
    if (afi !== 4) for (const e of this.t6.values()) fn(e);
  }

  /** Counts for metrics and tests. */
  stats(): {
    prefixes4: number;
    prefixes6: number;
    paths: number;
    selected: number;
    attrSets: number;
    nhLists: number;
  } {
    let paths = 0;
    let selected = 0;
    this.forEachEntry((e) => {
      paths += pathCount(e);
      if (selectedCount(e) > 0) selected++;
    });
    return {
      prefixes4: this.count4,
      prefixes6: this.t6.size,
      paths,
      selected,
      attrSets: this.interner.size,
      nhLists: this.nhLists.size,
    };
  }

  // ----- internals: tables -----

  private forEachEntry(fn: (e: Entry) => void): void {
    this.forEach4(fn);
    for (const e of this.t6.values()) fn(e);
  }

  private forEach4(fn: (e: Entry) => void): void {
    const byId = this.byId;
    for (let id = 0; id < byId.length; id++) {
      const e = byId[id];
      if (e !== undefined) fn(e);
    }
  }

  /** The IPv4 entry of `addr`/`len`, if any. */
  private get4(addr: number, len: number): Entry | undefined {
    const id = this.prefixIds.find(addr, len);
    return id < 0 ? undefined : this.byId[id];
  }

  /** The IPv4 entry of `addr`/`len`, created (holding the prefix's id) when absent. */
  private entryFor4(addr: number, len: number): Entry {
    const ids = this.prefixIds;
    const id = ids.add(addr, len);
    if (id >= this.byId.length) this.growById(ids.idBound);
    let e = this.byId[id];
    if (e === undefined) {
      e = newEntry4(addr, len);
      this.byId[id] = e;
      ids.ref(id);
      this.count4++;
    }
    return e;
  }

  private growById(bound: number): void {
    let n = this.byId.length;
    while (n < bound) n *= 2;
    const next = new Array<Entry | undefined>(n).fill(undefined);
    const old = this.byId;
    for (let i = 0; i < old.length; i++) next[i] = old[i];
    this.byId = next;
  }

  /** Take an IPv4 entry out (its prefix lost every path). */
  private drop4(e: Entry): void {
    const id = this.prefixIds.find(e.key as number, len4(e));
    if (id < 0 || this.byId[id] !== e) return;
    this.byId[id] = undefined;
    this.count4--;
    this.prefixIds.unref(id);
  }

  private entryFor(prefix: Prefix): Entry {
    if (isPrefix4(prefix)) {
      const addr = Math.floor(prefix / 64);
      return this.entryFor4(addr, prefix - addr * 64);
    }
    let e = this.t6.get(prefix);
    if (e === undefined) {
      e = newEntry(prefix);
      this.t6.set(prefix, e);
    }
    return e;
  }

  private sharedFor(source: Source, nh: NhList, pathId: number, metric: number): PathShared {
    const last = this.lastShared;
    let sh: PathShared | undefined;
    if (
      last !== undefined &&
      last.source === source &&
      last.nh === nh &&
      last.pathId === pathId &&
      last.metric === metric
    ) {
      sh = last;
    } else {
      const key = `${source.id}\n${nh.key}\n${pathId}\n${metric}`;
      sh = this.shared.get(key);
      if (sh === undefined || sh.source !== source) {
        sh = new PathShared(key, source, nh, pathId, metric);
        this.shared.set(key, sh);
      }
      this.lastShared = sh;
    }
    sh.refs++;
    return sh;
  }

  private releaseShared(sh: PathShared): void {
    if (--sh.refs > 0) return;
    if (this.shared.get(sh.key) === sh) this.shared.delete(sh.key);
    if (this.lastShared === sh) this.lastShared = undefined;
  }

  private dropPath(p: Path): void {
    this.interner.release(p.attrs);
    this.releaseShared(p.shared);
    const nh = p.nh;
    if (--nh.refs === 0) {
      this.nhLists.delete(nh.key);
      if (this.lastHopsOut === nh) this.lastHopsOut = undefined;
      for (const st of nh.states) {
        st.lists.delete(nh);
        if (st.lists.size === 0 && !st.bfdDown) {
          (typeof st.hop.addr === 'number' ? this.nhStates4 : this.nhStates6).delete(st.key);
        }
      }
    } else if (nh.indexed && !nh.compactDue) {
      // Checked once the batch is applied: a list that loses all its paths in this batch (a
      // neighbour's whole table withdrawn) is dropped without compacting it on the way down.
      nh.compactDue = true;
      this.compactDue.push(nh);
    }
  }

  // ----- internals: next hops -----

  private nhListFor(hops: readonly NextHop[]): NhList {
    if (hops === this.lastHopsIn && this.lastHopsOut !== undefined) return this.lastHopsOut;
    let key = '';
    for (const h of hops) key += nextHopKey(h) + ' ';
    let l = this.nhLists.get(key);
    if (l === undefined) {
      for (const h of hops) {
        if (typeof h.addr !== 'number' && h.addr.isLinkLocal() && h.ifname === undefined) {
          throw new RibError('RIB_ERR_BAD_NEXTHOP', 'an IPv6 link-local next hop needs an interface');
        }
      }
      const frozen = Object.freeze(hops.map((h) => Object.freeze({ ...h })));
      const states = frozen.map((h) => this.nhStateFor(h, typeof h.addr === 'number' ? 4 : 6, true)!);
      l = new NhList(key, frozen, states);
      for (const st of states) st.lists.add(l);
      l.refresh();
      this.nhLists.set(key, l);
    }
    this.lastHopsIn = hops;
    this.lastHopsOut = l;
    return l;
  }

  private nhStateFor(hop: NextHop, afi: Afi, create: boolean): NhState | undefined {
    const m = afi === 4 ? this.nhStates4 : this.nhStates6;
    const key = nextHopAddrKey(hop);
    let st = m.get(key);
    if (st === undefined && create) {
      st = new NhState(
        key,
        Object.freeze({ addr: hop.addr, ...(hop.ifname !== undefined ? { ifname: hop.ifname } : {}) }),
      );
      m.set(key, st);
      this.resolve(st);
    }
    return st;
  }

  /** Recompute a next hop's reachability; true if it changed. */
  private resolve(st: NhState): boolean {
    const { resolved, cost, via } = st;
    st.resolved = false;
    st.cost = 0;
    st.via = null;
    const hop = st.hop;
    const conn = this.connected;
    if (hop.ifname !== undefined) {
      // An interface-scoped next hop (IPv6 link-local, unnumbered) is reachable while its interface is up.
      st.resolved = conn === undefined || conn.interfaces().has(hop.ifname);
    } else {
      let connLen = -1;
      if (conn !== undefined) {
        for (const r of conn.routes()) {
          if (r.afi === 4 && typeof hop.addr === 'number') {
            const len = r.prefix % 64;
            if (len > connLen && (hop.addr & mask4(len)) >>> 0 === (r.prefix - len) / 64) connLen = len;
          } else if (r.afi === 6 && typeof hop.addr !== 'number') {
            if (r.prefix.len > connLen && addr6In(hop.addr, r.prefix)) connLen = r.prefix.len;
          }
        }
      }
      const m = this.longestSelected(hop.addr, connLen + 1);
      if (m !== undefined) {
        st.resolved = true;
        st.via = m;
        const best = firstPath(m)!;
        st.cost = best.metric + best.igpCost;
      } else if (connLen >= 0) {
        st.resolved = true;
      }
    }
    return resolved !== st.resolved || cost !== st.cost || via !== st.via;
  }

  /** Longest selected RIB route covering `addr` with length >= minLen. */
  private longestSelected(addr: Addr4 | Addr6, minLen: number): Entry | undefined {
    const floor = Math.max(minLen, this.opts.resolveViaDefault ? 0 : 1);
    if (typeof addr === 'number') {
      for (let len = 32; len >= floor; len--) {
        const e = this.get4(addr & mask4(len), len);
        if (e !== undefined && selectedCount(e) > 0) return e;
      }
      return undefined;
    }
    if (this.t6.size === 0) return undefined;
    for (let len = 128; len >= floor; len--) {
      const e = this.t6.get(prefix6(addr.w0, addr.w1, addr.w2, addr.w3, len));
      if (e !== undefined && selectedCount(e) > 0) return e;
    }
    return undefined;
  }

  private nhStateChanged(st: NhState): void {
    for (const l of st.lists) {
      if (!l.refresh()) continue;
      if (!l.indexed) this.indexUsers();
      for (const e of l.users) this.markDirty(e);
    }
  }

  /** Record the users of every next-hop list not yet `indexed`, in one walk of the table. */
  private indexUsers(): void {
    let any = false;
    for (const l of this.nhLists.values()) {
      if (l.indexed) continue;
      l.indexed = true;
      l.indexing = true;
      any = true;
    }
    if (!any) return;
    this.forEachEntry((e) => {
      const n = pathCount(e);
      for (let i = 0; i < n; i++) {
        const l = pathAt(e, i).shared.nh;
        if (l.indexing) l.users.push(e);
      }
    });
    for (const l of this.nhLists.values()) l.indexing = false;
  }

  private connectedChanged(): void {
    this.batch(() => {
      for (const m of [this.nhStates4, this.nhStates6]) {
        for (const st of m.values()) if (this.resolve(st)) this.nhStateChanged(st);
      }
    });
  }

  // ----- internals: selection -----

  private flush(): void {
    this.depth++;
    try {
      for (let round = 0; this.dirty.length > 0; round++) {
        const work = this.dirty;
        const firsts = this.dirtyFirst;
        this.dirty = [];
        this.dirtyFirst = [];
        const best = this.bestListeners.length > 0 ? this.bestChanged : undefined;
        // Next hops resolving over a prefix depend on whether it is selected and on its best
        // path's cost: any change of hops, count or first path re-checks the recursive (not
        // interface-scoped) next hops it covers (conservatively), once this round is selected.
        const v4 = this.recursiveStates(this.nhStates4);
        const v6 = this.recursiveStates(this.nhStates6);
        let touched: Set<NhState> | undefined;
        for (let w = 0; w < work.length; w++) {
          const e = work[w]!;
          setDirty(e, false);
          const oldFirst = firsts[w];
          const oldNsel = selectedCount(e);
          const oldHops = e.hops;
          this.reselect(e);
          const hops = e.hops;
          if (hops !== oldHops && !isChanged(e)) {
            setChanged(e, true);
            this.changedEntries.push(e);
            this.changedBefore.push(oldHops);
          }
          // Export looks at the best path: report a new one, or a prefix that became (un)selected.
          if (
            best !== undefined &&
            (selectedCount(e) > 0 || oldNsel > 0) &&
            (firstPath(e) !== oldFirst || (selectedCount(e) === 0) !== (oldNsel === 0))
          )
            best.push(e);
          if (hops === oldHops && selectedCount(e) === oldNsel && firstPath(e) === oldFirst) continue;
          if (afiOf(e) === 4) {
            for (let j = 0; j < v4.length; j++) {
              const st = v4[j]!;
              if (covers4(e, st.hop.addr as number)) (touched ??= new Set()).add(st);
            }
          } else {
            for (let j = 0; j < v6.length; j++) {
              const st = v6[j]!;
              if (addr6In(st.hop.addr as Addr6, prefixOf(e) as Prefix6)) (touched ??= new Set()).add(st);
            }
          }
        }
        // A resolution cycle longer than MAX_ROUNDS stops here; each prefix is still consistent.
        if (round >= MAX_ROUNDS) break;
        if (touched !== undefined) for (const st of touched) if (this.resolve(st)) this.nhStateChanged(st);
      }
      this.compactLists();
      this.emit();
      this.emitBest();
    } finally {
      this.depth--;
    }
  }

  /** The next hops of a family that resolve over RIB routes (not interface-scoped). */
  private recursiveStates(m: Map<string, NhState>): NhState[] {
    const out: NhState[] = [];
    if (m.size === 0) return out;
    for (const st of m.values()) if (st.hop.ifname === undefined) out.push(st);
    return out;
  }

  private reselect(e: Entry): void {
    const count = pathCount(e);
    if (count === 0) {
      setSelectedCount(e, 0);
      e.hops = EMPTY_HOPS;
      // A stale entry (reached through an old next-hop user list) must not delete its successor.
      if (isDropped(e)) return;
      markDropped(e);
      if (typeof e.key === 'number') this.drop4(e);
      else this.t6.delete(e.key);
      return;
    }
    if (count === 1) {
      const p = pathAt(e, 0);
      const h = p.source.up ? p.usableHops(e) : EMPTY_HOPS;
      setSelectedCount(e, h.length > 0 ? 1 : 0);
      this.setHops(e, selectedCount(e) > 0 ? h : EMPTY_HOPS);
      return;
    }
    if (count === 2) {
      this.reselect2(e, pathAt(e, 0), pathAt(e, 1));
      return;
    }
    const ps = pathsOf(e);
    const eligible: Path[] = [];
    const rest: Path[] = [];
    for (const p of ps) (p.eligible(e) ? eligible : rest).push(p);
    const ranked = rank(eligible, this.opts);
    // At most NSEL_MASK paths fit the entry's selected count.
    const n = Math.min(multipathCount(ranked, this.opts), NSEL_MASK);
    if (ranked.length !== eligible.length) for (const p of eligible) if (!ranked.includes(p)) rest.push(p);
    // Unselected paths are kept in decision order too, so dumps do not depend on arrival order.
    rest.sort((x, y) => decideCode(x, y, this.opts));
    setPaths(e, ranked.concat(rest));
    setSelectedCount(e, n);
    if (n === 0) this.setHops(e, EMPTY_HOPS);
    else if (n === 1) this.setHops(e, ranked[0]!.usableHops(e));
    else this.setHops(e, mergeHops(e, ranked, n));
  }

  /** The common two-path case (two neighbours) without intermediate arrays. */
  private reselect2(e: Entry, a: Path, b: Path): void {
    const ea = a.eligible(e);
    const eb = b.eligible(e);
    if (!ea && !eb) {
      // Unselected paths are kept in decision order too, so dumps do not depend on arrival order.
      if (decideCode(a, b, this.opts) > 0) setTwo(e, b, a);
      setSelectedCount(e, 0);
      this.setHops(e, EMPTY_HOPS);
      return;
    }
    if (ea !== eb) {
      const win = ea ? a : b;
      if (win !== a) setTwo(e, b, a);
      setSelectedCount(e, 1);
      this.setHops(e, win.usableHops(e));
      return;
    }
    // With two paths the MED elimination and the ordering agree: the MED loser ranks second.
    const c = decideCode(a, b, this.opts);
    if (c > 0) setTwo(e, b, a);
    const best = c > 0 ? b : a;
    const tied = c === 0 || Math.abs(c) - 1 > Step.IGP_COST;
    if (tied && this.opts.maxPaths >= 2) {
      setSelectedCount(e, 2);
      this.setHops(e, mergeHops(e, [pathAt(e, 0), pathAt(e, 1)], 2));
    } else {
      setSelectedCount(e, 1);
      this.setHops(e, best.usableHops(e));
    }
  }

  /** Set hops, keeping the old array when equal so unchanged prefixes emit nothing. */
  private setHops(e: Entry, h: readonly NextHop[]): void {
    if (h !== e.hops && !sameHops(h, e.hops)) e.hops = h;
  }

  private compactLists(): void {
    if (this.compactDue.length === 0) return;
    const lists = this.compactDue;
    this.compactDue = [];
    for (const l of lists) {
      l.compactDue = false;
      if (l.refs > 0) l.maybeCompact();
    }
  }

  private emitBest(): void {
    const list = this.bestChanged;
    if (list.length === 0) return;
    this.bestChanged = [];
    const ls = this.bestListeners;
    for (const l of ls) for (let i = 0; i < list.length; i++) l(list[i]!);
  }

  private emit(): void {
    const entries = this.changedEntries;
    const befores = this.changedBefore;
    if (entries.length === 0) return;
    this.changedEntries = [];
    this.changedBefore = [];
    const active = this.bus.active;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      setChanged(e, false);
      if (!active) continue;
      const before = befores[i]!;
      if (!sameHops(before, e.hops)) this.bus.publishRoute(e, before);
    }
  }
}

const NO_ATTRS: PathAttributes = Object.freeze({});

// ===== Helpers =====

function addr6In(a: Addr6, p: Prefix6): boolean {
  const l = p.len;
  return (
    (a.w0 & mask6Word(l, 0)) >>> 0 === p.w0 &&
    (a.w1 & mask6Word(l, 1)) >>> 0 === p.w1 &&
    (a.w2 & mask6Word(l, 2)) >>> 0 === p.w2 &&
    (a.w3 & mask6Word(l, 3)) >>> 0 === p.w3
  );
}

/** Equality of two next hops (address, interface, weight). */
export function sameNextHop(a: NextHop, b: NextHop): boolean {
  if ((a.weight ?? 1) !== (b.weight ?? 1) || a.ifname !== b.ifname) return false;
  const x = a.addr;
  const y = b.addr;
  if (typeof x === 'number' || typeof y === 'number') return x === y;
  return x.w0 === y.w0 && x.w1 === y.w1 && x.w2 === y.w2 && x.w3 === y.w3;
}

/** Equality of two next-hop lists, in order. */
export function sameHops(a: readonly NextHop[], b: readonly NextHop[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameNextHop(a[i]!, b[i]!)) return false;
  return true;
}

/** Union of the usable hops of the first `n` ranked paths, deduplicated and in a canonical order. */
function mergeHops(e: Entry, ranked: readonly Path[], n: number): readonly NextHop[] {
  const byKey = new Map<string, NextHop>();
  for (let i = 0; i < n; i++) {
    for (const h of ranked[i]!.usableHops(e)) {
      const k = nextHopAddrKey(h);
      if (!byKey.has(k)) byKey.set(k, h);
    }
  }
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}
