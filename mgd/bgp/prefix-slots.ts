// Per-neighbour state of a full IPv4 table (Adj-RIB-In, Adj-RIB-Out): for each prefix a value
// and a flag byte, in columns indexed by the prefix's id in the daemon's shared `PrefixIds`
// (rib/prefix-ids.ts). A caller finds a prefix's slot (its id) once and reads or writes both
// columns there, so storing "prefix → (shared attribute set, accepted, stale)" costs no object
// per prefix and no hash table of its own: the prefix was hashed once for the whole daemon, and
// the table grows by copying its columns. The table holds a reference on each id it uses.
//
// Values are shared by many prefixes (an attribute set by the prefixes of its UPDATEs), so the
// value column holds a small integer id into a table of values, each with a count of the slots
// holding it. Consecutive stores of one value (the prefixes of one UPDATE) share an id; a value
// stored again later takes a new id rather than being looked up. Every column is then a typed
// array: the garbage collector has no pointer column of a million slots to scan or to remember
// stores into.

import type { Prefix4 } from '../../wire/ip/index.js';
import { PrefixIds, grown } from '../../rib/prefix-ids.js';

const MIN_CAP = 16;
/** Flag bit of a slot this table holds (the caller's flags use the low seven bits). */
const HELD = 0x80;

/** IPv4 prefix → (value, flags), by slot (the prefix's id). */
export class Prefix4Slots<V> {
  /** Value ids by slot (0: no value, as in free slots). */
  private vids = new Int32Array(MIN_CAP);
  /** Flags by slot: HELD and the caller's seven bits (0 in free slots). */
  private flags = new Uint8Array(MIN_CAP);
  private count = 0;
  // The values by id (id 0 unused), how many slots hold each, ids free for reuse, and the last
  // value stored with its id (consecutive prefixes usually share one).
  private values: (V | undefined)[] = [undefined];
  private uses = new Int32Array(16);
  private freeIds: number[] = [];
  private held = 0;
  private lastValue: V | undefined;
  private lastId = 0;

  /** `ids` is the daemon's shared prefix ids (a table of its own by default, for tests). */
  constructor(readonly ids: PrefixIds = new PrefixIds()) {}

  /** Number of prefixes held. */
  get size(): number {
    return this.count;
  }

  /** Every slot is below this (iterate `0 <= i < capacity` with `occupied` or `prefixAt`). */
  get capacity(): number {
    return this.flags.length;
  }

  /** The slot of a prefix, or -1. */
  find(p: Prefix4): number {
    if (this.count === 0) return -1;
    const i = this.ids.findPrefix(p);
    return i >= 0 && i < this.flags.length && (this.flags[i]! & HELD) !== 0 ? i : -1;
  }

  /** The slot of a prefix, added (value undefined, flags 0) when absent. */
  insert(p: Prefix4): number {
    const ids = this.ids;
    const i = ids.addPrefix(p);
    if (i >= this.flags.length) this.grow(ids.idBound);
    if ((this.flags[i]! & HELD) === 0) {
      this.flags[i] = HELD;
      ids.ref(i);
      this.count++;
    }
    return i;
  }

  /** True when a slot holds a prefix. */
  occupied(i: number): boolean {
    return (this.flags[i]! & HELD) !== 0;
  }

  /** The prefix in a slot, or a negative number for a free slot. */
  prefixAt(i: number): number {
    return (this.flags[i]! & HELD) === 0 ? -1 : this.ids.prefixOf(i);
  }

  /** The caller's flags of a held slot. */
  flagsAt(i: number): number {
    return this.flags[i]! & ~HELD;
  }

  /** Set the caller's flags (seven bits) of a held slot. */
  setFlags(i: number, f: number): void {
    this.flags[i] = f | HELD;
  }

  /** Free a held slot (its value and flags go with it). */
  removeAt(i: number): void {
    this.setValue(i, undefined);
    this.flags[i] = 0;
    this.count--;
    this.ids.unref(i);
  }

  /** Forget everything, giving back the columns' memory and the prefix ids. */
  clear(): void {
    if (this.count > 0) {
      const flags = this.flags;
      for (let i = 0; i < flags.length; i++) if ((flags[i]! & HELD) !== 0) this.ids.unref(i);
    }
    this.vids = new Int32Array(MIN_CAP);
    this.flags = new Uint8Array(MIN_CAP);
    this.count = 0;
    this.values = [undefined];
    this.uses = new Int32Array(16);
    this.freeIds = [];
    this.held = 0;
    this.lastValue = undefined;
    this.lastId = 0;
  }

  /** The value of a held slot (undefined when none was set). */
  valueAt(i: number): V | undefined {
    const id = this.vids[i]!;
    return id === 0 ? undefined : this.values[id];
  }

  /** Set (or, with undefined, clear) the value of a held slot. */
  setValue(i: number, v: V | undefined): void {
    const old = this.vids[i]!;
    let id = 0;
    if (v !== undefined) {
      if (v === this.lastValue) id = this.lastId;
      else {
        id = this.newId(v);
        this.lastValue = v;
        this.lastId = id;
      }
      if (id === old) return;
      this.uses[id]!++;
    }
    this.vids[i] = id;
    if (old !== 0) this.unuse(old);
  }

  /** The values held by some slot (for tests). */
  heldValues(): Set<V> {
    const out = new Set<V>();
    for (let id = 1; id < this.values.length; id++) if (this.uses[id]! > 0) out.add(this.values[id] as V);
    return out;
  }

  /** Ids in use: at most one per run of consecutive stores of a value (for tests). */
  get heldIds(): number {
    return this.held;
  }

  private newId(v: V): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      if (id >= this.uses.length) this.uses = grown(this.uses, this.uses.length * 2);
    } else {
      this.values[id] = v;
    }
    this.held++;
    return id;
  }

  private unuse(id: number): void {
    if (--this.uses[id]! > 0) return;
    this.values[id] = undefined;
    this.freeIds.push(id);
    this.held--;
    if (this.lastId === id) {
      this.lastValue = undefined;
      this.lastId = 0;
    }
  }

  private grow(bound: number): void {
    let cap = this.flags.length;
    while (cap < bound) cap *= 2;
    this.vids = grown(this.vids, cap);
    this.flags = grown(this.flags, cap);
  }
}
