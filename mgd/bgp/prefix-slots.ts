// An IPv4 prefix table (same hashing and keys as rib/prefix-map.ts `Prefix4Table`) for
// per-neighbour state of a full table (Adj-RIB-In, Adj-RIB-Out): open addressing with linear
// probing over a column of addresses and one of lengths, a value column and a byte column of
// flags, addressed by slot. A caller finds a slot once and reads or writes both
// columns there, so storing "prefix → (shared attribute set, accepted, stale)" costs no object
// per prefix and one probe per operation. Deleted slots are tombstones until the next rebuild.
//
// Values are shared by many prefixes (an attribute set by the prefixes of its UPDATEs), so the
// value column holds a small integer id into a table of values, each with a count of the slots
// holding it. Consecutive stores of one value (the prefixes of one UPDATE) share an id; a value
// stored again later takes a new id rather than being looked up. Every column is then a typed
// array: growing the table moves integers only, and the garbage collector has no pointer column
// of a million slots to scan or to remember stores into.

import { prefix4Unchecked, type Prefix4 } from '../../wire/ip/index.js';
import { SLOT_EMPTY, SLOT_LEN, SLOT_TOMB, hashPrefix4 } from '../../rib/prefix-map.js';

const MIN_CAP = 16;

/** IPv4 prefix → (value, flags), by slot. */
export class Prefix4Slots<V> {
  // Keys as in `Prefix4Table`: a signed 32-bit address and a length byte that marks free slots.
  private addrs = new Int32Array(MIN_CAP);
  private lens = new Uint8Array(MIN_CAP);
  /** Value ids by slot (0: no value, as in free slots). */
  private ids = new Int32Array(MIN_CAP);
  /** Flags by slot (0 in free slots). */
  flags = new Uint8Array(MIN_CAP);
  private mask = MIN_CAP - 1;
  private count = 0;
  private tombs = 0;
  // The values by id (id 0 unused), how many slots hold each, ids free for reuse, and the last
  // value stored with its id (consecutive prefixes usually share one).
  private values: (V | undefined)[] = [undefined];
  private uses = new Int32Array(16);
  private freeIds: number[] = [];
  private held = 0;
  private lastValue: V | undefined;
  private lastId = 0;

  /** Number of prefixes held. */
  get size(): number {
    return this.count;
  }

  /** Number of slots (iterate `0 <= i < capacity` with `prefixAt`). */
  get capacity(): number {
    return this.lens.length;
  }

  /** The slot of a prefix, or -1. */
  find(p: Prefix4): number {
    const a = Math.floor(p / 64);
    const len = p - a * 64;
    const addr = a | 0;
    const l = len + SLOT_LEN;
    const addrs = this.addrs;
    const lens = this.lens;
    const mask = this.mask;
    for (let i = hashPrefix4(addr, len) & mask; ; i = (i + 1) & mask) {
      const k = lens[i]!;
      if (k === l && addrs[i] === addr) return i;
      if (k === SLOT_EMPTY) return -1;
    }
  }

  /** The slot of a prefix, added (value undefined, flags 0) when absent. */
  insert(p: Prefix4): number {
    if ((this.count + this.tombs + 1) * 4 > this.lens.length * 3) this.rebuild();
    const a = Math.floor(p / 64);
    const len = p - a * 64;
    const addr = a | 0;
    const l = len + SLOT_LEN;
    const addrs = this.addrs;
    const lens = this.lens;
    const mask = this.mask;
    let free = -1;
    let i = hashPrefix4(addr, len) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = lens[i]!;
      if (k === l && addrs[i] === addr) return i;
      if (k === SLOT_EMPTY) break;
      if (k === SLOT_TOMB && free < 0) free = i;
    }
    if (free >= 0) {
      i = free;
      this.tombs--;
    }
    addrs[i] = addr;
    lens[i] = l;
    this.count++;
    return i;
  }

  /** The value of a slot found by `find`/`insert` (undefined when none was set). */
  valueAt(i: number): V | undefined {
    const id = this.ids[i]!;
    return id === 0 ? undefined : this.values[id];
  }

  /** Set (or, with undefined, clear) the value of a slot found by `find`/`insert`. */
  setValue(i: number, v: V | undefined): void {
    const old = this.ids[i]!;
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
    this.ids[i] = id;
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
      if (id >= this.uses.length) {
        const u = new Int32Array(this.uses.length * 2);
        u.set(this.uses);
        this.uses = u;
      }
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

  /** True when a slot holds a prefix. */
  occupied(i: number): boolean {
    return this.lens[i]! >= SLOT_LEN;
  }

  /** The prefix in a slot, or a negative number for a free slot. */
  prefixAt(i: number): number {
    const l = this.lens[i]!;
    return l < SLOT_LEN ? -1 : prefix4Unchecked(this.addrs[i]! >>> 0, l - SLOT_LEN);
  }

  /**
   * Free a slot found by `find`/`insert`. A table that fell below an eighth full is rebuilt
   * smaller, which moves the other slots: slot numbers held from before are stale afterwards.
   */
  removeAt(i: number): void {
    this.setValue(i, undefined);
    this.lens[i] = SLOT_TOMB;
    this.flags[i] = 0;
    this.tombs++;
    this.count--;
    if (this.count * 8 < this.lens.length && this.lens.length > MIN_CAP) this.rebuild();
  }

  /** Forget everything (and give back a large table's memory). */
  clear(): void {
    this.addrs = new Int32Array(MIN_CAP);
    this.lens = new Uint8Array(MIN_CAP);
    this.ids = new Int32Array(MIN_CAP);
    this.flags = new Uint8Array(MIN_CAP);
    this.mask = MIN_CAP - 1;
    this.count = 0;
    this.tombs = 0;
    this.values = [undefined];
    this.uses = new Int32Array(16);
    this.freeIds = [];
    this.held = 0;
    this.lastValue = undefined;
    this.lastId = 0;
  }

  // Keeps the load (with tombstones) at most 3/4: rebuilt at the smallest size that holds the
  // prefixes at most half full, so a table full of tombstones is cleaned at its size and one that
  // emptied shrinks.
  private rebuild(): void {
    let cap = MIN_CAP;
    while (cap < (this.count + 1) * 2) cap *= 2;
    const { addrs: oa, lens: ol, ids: oi, flags: of } = this;
    const addrs = new Int32Array(cap);
    const lens = new Uint8Array(cap);
    const ids = new Int32Array(cap);
    const flags = new Uint8Array(cap);
    this.addrs = addrs;
    this.lens = lens;
    this.ids = ids;
    this.flags = flags;
    this.mask = cap - 1;
    this.tombs = 0;
    for (let j = 0; j < ol.length; j++) {
      const l = ol[j]!;
      if (l < SLOT_LEN) continue;
      const a = oa[j]!;
      let i = hashPrefix4(a, l - SLOT_LEN) & this.mask;
      while (lens[i] !== SLOT_EMPTY) i = (i + 1) & this.mask;
      addrs[i] = a;
      lens[i] = l;
      ids[i] = oi[j]!;
      flags[i] = of[j]!;
    }
  }
}
