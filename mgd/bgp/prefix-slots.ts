// Per-neighbour state of a full IPv4 table (Adj-RIB-In, Adj-RIB-Out): for each prefix a value
// and a flag byte, in columns indexed by the prefix's id in the daemon's shared `PrefixIds`
// (rib/prefix-ids.ts). A caller finds a prefix's slot (its id) once and reads or writes both
// columns there, so storing "prefix → (shared attribute set, accepted, stale)" costs no object
// per prefix and no hash table of its own: the prefix was hashed once for the whole daemon, and
// the table grows by copying its columns. The table holds a reference on each id it uses.
//
// Columns by id are as long as the ids the table holds are high, which for a neighbour that sends
// a handful of prefixes of a full RIB would be megabytes. So a table starts sparse (a map from
// id to slot state) and turns into columns only once it holds at least a sixteenth of the
// daemon's ids; iteration (`forEachHeld`) visits only what the table holds.
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
/** A sparse table turns into columns at this many prefixes, if they are a sixteenth of all ids. */
const DENSE_MIN = 256;

/** The state of a slot of a sparse table. */
interface SparseSlot {
  vid: number;
  flags: number;
}

/** IPv4 prefix → (value, flags), by slot (the prefix's id). */
export class Prefix4Slots<V> {
  /** Value ids by slot (0: no value, as in free slots). */
  private vids = new Int32Array(MIN_CAP);
  /** Flags by slot: HELD and the caller's seven bits (0 in free slots). */
  private flags = new Uint8Array(MIN_CAP);
  /** The held slots while the table is sparse (null once it has columns). */
  private sparse: Map<number, SparseSlot> | null = new Map();
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

  /** Length of the columns (0 while the table is sparse). */
  get capacity(): number {
    return this.sparse === null ? this.flags.length : 0;
  }

  /** Call `fn` with each held slot (in id order once the table has columns). */
  forEachHeld(fn: (i: number) => void): void {
    const sp = this.sparse;
    if (sp !== null) {
      for (const i of [...sp.keys()]) if (sp.has(i)) fn(i);
      return;
    }
    const flags = this.flags;
    for (let i = 0; i < flags.length; i++) if ((flags[i]! & HELD) !== 0) fn(i);
  }

  /** The slot of a prefix, or -1. */
  find(p: Prefix4): number {
    if (this.count === 0) return -1;
    const i = this.ids.findPrefix(p);
    return i >= 0 && this.occupied(i) ? i : -1;
  }

  /** The slot of a prefix, added (value undefined, flags 0) when absent. */
  insert(p: Prefix4): number {
    const ids = this.ids;
    const i = ids.addPrefix(p);
    if (this.occupied(i)) return i;
    ids.ref(i);
    this.count++;
    const sp = this.sparse;
    if (sp === null) {
      if (i >= this.flags.length) this.grow(i + 1);
      this.flags[i] = HELD;
    } else {
      sp.set(i, { vid: 0, flags: 0 });
      if (this.count >= DENSE_MIN && this.count * 16 >= ids.idBound) this.densify();
    }
    return i;
  }

  /** True when a slot holds a prefix. */
  occupied(i: number): boolean {
    const sp = this.sparse;
    if (sp !== null) return sp.has(i);
    return i < this.flags.length && (this.flags[i]! & HELD) !== 0;
  }

  /** The prefix in a slot, or a negative number for a free slot. */
  prefixAt(i: number): number {
    return this.occupied(i) ? this.ids.prefixOf(i) : -1;
  }

  /** The caller's flags of a held slot. */
  flagsAt(i: number): number {
    const sp = this.sparse;
    if (sp !== null) return sp.get(i)!.flags;
    return this.flags[i]! & ~HELD;
  }

  /** Set the caller's flags (seven bits) of a held slot. */
  setFlags(i: number, f: number): void {
    const sp = this.sparse;
    if (sp !== null) sp.get(i)!.flags = f;
    else this.flags[i] = f | HELD;
  }

  /** Free a held slot (its value and flags go with it). */
  removeAt(i: number): void {
    this.setValue(i, undefined);
    const sp = this.sparse;
    if (sp !== null) sp.delete(i);
    else this.flags[i] = 0;
    this.count--;
    this.ids.unref(i);
  }

  /** Forget everything, giving back the columns' memory and the prefix ids. */
  clear(): void {
    if (this.count > 0) this.forEachHeld((i) => this.ids.unref(i));
    this.vids = new Int32Array(MIN_CAP);
    this.flags = new Uint8Array(MIN_CAP);
    this.sparse = new Map();
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
    const sp = this.sparse;
    const id = sp !== null ? sp.get(i)!.vid : this.vids[i]!;
    return id === 0 ? undefined : this.values[id];
  }

  /** Set (or, with undefined, clear) the value of a held slot. */
  setValue(i: number, v: V | undefined): void {
    const sp = this.sparse;
    const slot = sp !== null ? sp.get(i)! : undefined;
    const old = slot !== undefined ? slot.vid : this.vids[i]!;
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
    if (slot !== undefined) slot.vid = id;
    else this.vids[i] = id;
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

  /** Turn a sparse table into columns. */
  private densify(): void {
    const sp = this.sparse!;
    this.sparse = null;
    this.grow(this.ids.idBound);
    for (const [i, slot] of sp) {
      this.vids[i] = slot.vid;
      this.flags[i] = slot.flags | HELD;
    }
  }

  private grow(bound: number): void {
    let cap = this.flags.length;
    while (cap < bound) cap *= 2;
    this.vids = grown(this.vids, cap);
    this.flags = grown(this.flags, cap);
  }
}
