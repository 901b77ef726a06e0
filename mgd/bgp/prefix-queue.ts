// The per-neighbour export work queue: prefixes whose advertisement must be looked at again, each
// at most once, taken oldest first. A full-table load puts every prefix through it once per
// neighbour, so the IPv4 side holds no object per prefix: a FIFO of prefix numbers in a growing
// Float64Array and a membership set by open addressing over another (linear probing, deletions
// as tombstones until the next rebuild). Taking in arrival order keeps the prefixes of one UPDATE
// together, so the UPDATEs going out are packed as densely as the ones that came in. IPv6 uses
// an insertion-ordered Map keyed by the prefix text.

import { AFISAFI_IPV4_UNICAST } from '../../wire/bgp/constants.js';
import { isPrefix4, key6, type Prefix, type Prefix4, type Prefix6 } from '../../wire/ip/index.js';

const EMPTY = -1;
const TOMB = -2;
const MIN_CAP = 64;

/** A set of IPv4 prefixes taken in insertion order. */
export class Prefix4Queue {
  private keys = new Float64Array(MIN_CAP).fill(EMPTY);
  private mask = MIN_CAP - 1;
  private count = 0;
  private tombs = 0;
  private fifo = new Float64Array(MIN_CAP);
  private head = 0;
  private tail = 0;

  /** Number of queued prefixes. */
  get size(): number {
    return this.count;
  }

  private slot0(p: number): number {
    const addr = Math.floor(p / 64);
    let h = Math.imul(addr | 0, 0x9e3779b1) ^ Math.imul(p - addr * 64 + 1, 0x85ebca6b);
    h ^= h >>> 16;
    return h & this.mask;
  }

  /** True when the prefix is queued. */
  has(p: Prefix4): boolean {
    const keys = this.keys;
    for (let i = this.slot0(p); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === p) return true;
      if (k === EMPTY) return false;
    }
  }

  /** Queue a prefix unless it is queued already; true when it was added. */
  add(p: Prefix4): boolean {
    const keys = this.keys;
    let free = -1;
    let i = this.slot0(p);
    for (; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === p) return false;
      if (k === EMPTY) break;
      if (k === TOMB && free < 0) free = i;
    }
    if (free >= 0) {
      i = free;
      this.tombs--;
    }
    keys[i] = p;
    this.count++;
    if (this.tail === this.fifo.length) this.growFifo();
    this.fifo[this.tail++] = p;
    if ((this.count + this.tombs) * 4 > keys.length * 3) this.rebuild();
    return true;
  }

  /** Remove a queued prefix (it is skipped when its turn comes); true when it was queued. */
  delete(p: Prefix4): boolean {
    const keys = this.keys;
    for (let i = this.slot0(p); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === p) {
        keys[i] = TOMB;
        this.tombs++;
        this.count--;
        if (this.count === 0) this.clear();
        return true;
      }
      if (k === EMPTY) return false;
    }
  }

  /** Take up to `max` prefixes, oldest first, into `out`. */
  take(max: number, out: Prefix[]): void {
    const fifo = this.fifo;
    let n = 0;
    while (n < max && this.head < this.tail) {
      const p = fifo[this.head++]!;
      // Deleted meanwhile: its slot is a tombstone or holds it again (re-added, queued later too).
      if (!this.remove(p)) continue;
      out.push(p as Prefix4);
      n++;
    }
    if (this.count === 0) this.clear();
  }

  /** Forget everything (and give back a large table's memory). */
  clear(): void {
    if (this.keys.length > MIN_CAP) {
      this.keys = new Float64Array(MIN_CAP).fill(EMPTY);
      this.mask = MIN_CAP - 1;
      this.fifo = new Float64Array(MIN_CAP);
    } else {
      this.keys.fill(EMPTY);
    }
    this.count = 0;
    this.tombs = 0;
    this.head = 0;
    this.tail = 0;
  }

  /** Remove `p` from the set if present and its FIFO turn is this one. */
  private remove(p: number): boolean {
    const keys = this.keys;
    for (let i = this.slot0(p); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === p) {
        keys[i] = TOMB;
        this.tombs++;
        this.count--;
        return true;
      }
      if (k === EMPTY) return false;
    }
  }

  private growFifo(): void {
    // Reuse the space already taken from the front before growing.
    const live = this.tail - this.head;
    const f = live * 2 <= this.fifo.length ? this.fifo : new Float64Array(this.fifo.length * 2);
    f.copyWithin(0, this.head, this.tail);
    if (f !== this.fifo) f.set(this.fifo.subarray(this.head, this.tail));
    this.fifo = f;
    this.head = 0;
    this.tail = live;
  }

  private rebuild(): void {
    let cap = MIN_CAP;
    while (cap < this.count * 2) cap *= 2;
    const old = this.keys;
    const keys = new Float64Array(cap).fill(EMPTY);
    this.keys = keys;
    this.mask = cap - 1;
    this.tombs = 0;
    for (let j = 0; j < old.length; j++) {
      const k = old[j]!;
      if (k < 0) continue;
      let i = this.slot0(k);
      while (keys[i] !== EMPTY) i = (i + 1) & this.mask;
      keys[i] = k;
    }
  }
}

/** Prefixes of both families queued for export, taken per family in insertion order. */
export class PrefixQueue {
  private readonly q4 = new Prefix4Queue();
  private readonly q6 = new Map<string, Prefix6>();

  /** Queued prefixes in both families. */
  get total(): number {
    return this.q4.size + this.q6.size;
  }

  /** Queued prefixes of one family. */
  size(family: number): number {
    return family === AFISAFI_IPV4_UNICAST ? this.q4.size : this.q6.size;
  }

  /** Queue a prefix (once). */
  add(p: Prefix): void {
    if (isPrefix4(p)) this.q4.add(p);
    else {
      const k = key6(p);
      if (!this.q6.has(k)) this.q6.set(k, p);
    }
  }

  /** True when the prefix is queued. */
  has(p: Prefix): boolean {
    return isPrefix4(p) ? this.q4.has(p) : this.q6.has(key6(p));
  }

  /** Unqueue a prefix; true when it was queued. */
  delete(p: Prefix): boolean {
    return isPrefix4(p) ? this.q4.delete(p) : this.q6.delete(key6(p));
  }

  /** Take up to `max` prefixes of one family, oldest first, into `out`. */
  take(family: number, max: number, out: Prefix[]): void {
    if (max <= 0) return;
    if (family === AFISAFI_IPV4_UNICAST) {
      this.q4.take(max, out);
      return;
    }
    let n = 0;
    for (const [k, p] of this.q6) {
      if (n >= max) return;
      this.q6.delete(k);
      out.push(p);
      n++;
    }
  }

  /** Forget everything. */
  clear(): void {
    this.q4.clear();
    this.q6.clear();
  }
}
