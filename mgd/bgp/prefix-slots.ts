// An IPv4 prefix table (same hashing as rib/prefix-map.ts `Prefix4Table`) for per-neighbour state of a full table (Adj-RIB-In, Adj-RIB-Out): open
// addressing with linear probing over a Float64Array of prefix numbers, a value column and a
// byte column of flags, addressed by slot. A caller finds a slot once and reads or writes both
// columns there, so storing "prefix → (shared attribute set, accepted, stale)" costs no object
// per prefix and one probe per operation. Deleted slots are tombstones until the next rebuild.

import type { Prefix4 } from '../../wire/ip/index.js';
import { hashPrefix4 } from '../../rib/prefix-map.js';

const EMPTY = -1;
const TOMB = -2;
const MIN_CAP = 16;

/** IPv4 prefix → (value, flags), by slot. */
export class Prefix4Slots<V> {
  private keys = new Float64Array(MIN_CAP).fill(EMPTY);
  /** Values by slot (undefined in free slots). */
  vals: (V | undefined)[] = new Array<V | undefined>(MIN_CAP).fill(undefined);
  /** Flags by slot (0 in free slots). */
  flags = new Uint8Array(MIN_CAP);
  private mask = MIN_CAP - 1;
  private count = 0;
  private tombs = 0;

  /** Number of prefixes held. */
  get size(): number {
    return this.count;
  }

  /** Number of slots (iterate `0 <= i < capacity` with `prefixAt`). */
  get capacity(): number {
    return this.keys.length;
  }

  private slot0(p: number): number {
    const addr = Math.floor(p / 64);
    return hashPrefix4(addr | 0, p - addr * 64) & this.mask;
  }

  /** The slot of a prefix, or -1. */
  find(p: Prefix4): number {
    const keys = this.keys;
    for (let i = this.slot0(p); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === p) return i;
      if (k === EMPTY) return -1;
    }
  }

  /** The slot of a prefix, added (value undefined, flags 0) when absent. */
  insert(p: Prefix4): number {
    if ((this.count + this.tombs + 1) * 4 > this.keys.length * 3) this.rebuild();
    const keys = this.keys;
    let free = -1;
    let i = this.slot0(p);
    for (; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === p) return i;
      if (k === EMPTY) break;
      if (k === TOMB && free < 0) free = i;
    }
    if (free >= 0) {
      i = free;
      this.tombs--;
    }
    keys[i] = p;
    this.count++;
    return i;
  }

  /** The prefix in a slot, or a negative number for a free slot. */
  prefixAt(i: number): number {
    return this.keys[i]!;
  }

  /**
   * Free a slot found by `find`/`insert`. A table that fell below an eighth full is rebuilt
   * smaller, which moves the other slots: slot numbers held from before are stale afterwards.
   */
  removeAt(i: number): void {
    this.keys[i] = TOMB;
    this.vals[i] = undefined;
    this.flags[i] = 0;
    this.tombs++;
    this.count--;
    if (this.count * 8 < this.keys.length && this.keys.length > MIN_CAP) this.rebuild();
  }

  /** Forget everything (and give back a large table's memory). */
  clear(): void {
    this.keys = new Float64Array(MIN_CAP).fill(EMPTY);
    this.vals = new Array<V | undefined>(MIN_CAP).fill(undefined);
    this.flags = new Uint8Array(MIN_CAP);
    this.mask = MIN_CAP - 1;
    this.count = 0;
    this.tombs = 0;
  }

  // Keeps the load (with tombstones) at most 3/4: rebuilt at the smallest size that holds the
  // prefixes at most half full, so a table full of tombstones is cleaned at its size and one that
  // emptied shrinks.
  private rebuild(): void {
    let cap = MIN_CAP;
    while (cap < (this.count + 1) * 2) cap *= 2;
    const { keys: ok, vals: ov, flags: of } = this;
    const keys = new Float64Array(cap).fill(EMPTY);
    const vals = new Array<V | undefined>(cap).fill(undefined);
    const flags = new Uint8Array(cap);
    this.keys = keys;
    this.vals = vals;
    this.flags = flags;
    this.mask = cap - 1;
    this.tombs = 0;
    for (let j = 0; j < ok.length; j++) {
      const k = ok[j]!;
      if (k < 0) continue;
      let i = this.slot0(k);
      while (keys[i] !== EMPTY) i = (i + 1) & this.mask;
      keys[i] = k;
      vals[i] = ov[j];
      flags[i] = of[j]!;
    }
  }
}
