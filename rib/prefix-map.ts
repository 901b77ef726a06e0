// Maps keyed by prefix, sized for a full table. An IPv4 prefix number (`addr * 64 + len`) is above
// the small-integer range, so a Map keyed by it boxes every key and hashes doubles; instead the
// IPv4 side keeps one Map per prefix length keyed by the address as a signed 32-bit integer,
// which V8 stores unboxed (Smi) and hashes cheaply. IPv6 prefixes use their `key6` text.
//
// `Prefix4Table` is the RIB's own table, where lookups dominate a full-table load: open
// addressing with linear probing over typed-array columns of addresses and lengths and a
// parallel array of values, so a lookup touches one or two cache lines instead of a Map's bucket
// and chain (about half the time per lookup for 500k random prefixes), and home slots keep
// consecutive prefixes together (`hashPrefix4`). Its iteration order is the slot order.

import { key6, prefix4Unchecked, type Prefix4, type Prefix6 } from '../wire/ip/index.js';

/** A Map from IPv4 prefixes to values. */
export class Prefix4Map<V> {
  private readonly byLen: Map<number, V>[] = Array.from({ length: 33 }, () => new Map<number, V>());
  private count = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  // `p % 64` on a number above 2^31 is a floating-point remainder (a C fmod call); a division
  // and a floor are several times cheaper and give the same address and length.

  /** The value for a prefix. */
  get(p: Prefix4): V | undefined {
    const addr = Math.floor(p / 64);
    return this.byLen[p - addr * 64]!.get(addr | 0);
  }

  /** Set the value for a prefix. */
  set(p: Prefix4, v: V): void {
    const addr = Math.floor(p / 64);
    const m = this.byLen[p - addr * 64]!;
    const k = addr | 0;
    const before = m.size;
    m.set(k, v);
    this.count += m.size - before;
  }

  /** Remove a prefix; true if it was present. */
  delete(p: Prefix4): boolean {
    const addr = Math.floor(p / 64);
    const gone = this.byLen[p - addr * 64]!.delete(addr | 0);
    if (gone) this.count--;
    return gone;
  }

  /** Remove everything. */
  clear(): void {
    for (const m of this.byLen) m.clear();
    this.count = 0;
  }

  /** The values, grouped by prefix length (most specific last). */
  *values(): IterableIterator<V> {
    for (const m of this.byLen) yield* m.values();
  }

  /** The entries as (prefix, value), grouped by prefix length. */
  *entries(): IterableIterator<[Prefix4, V]> {
    for (let len = 0; len <= 32; len++) {
      for (const [k, v] of this.byLen[len]!) yield [prefix4Unchecked(k >>> 0, len), v];
    }
  }

  /** Take and remove up to `max` entries (insertion order within each length). */
  take(max: number, out: [Prefix4, V][]): void {
    for (let len = 0; len <= 32 && out.length < max; len++) {
      const m = this.byLen[len]!;
      for (const [k, v] of m) {
        if (out.length >= max) return;
        m.delete(k);
        this.count--;
        out.push([prefix4Unchecked(k >>> 0, len), v]);
      }
    }
  }
}

/**
 * The home slot of an IPv4 prefix (address as a signed 32-bit integer, and length) in the
 * open-addressing tables keyed by prefix, before masking to the table size.
 *
 * It keeps locality: the prefix's network number (its first `len` bits) is split into a high part,
 * mixed with the length to pick an aligned group of 16 slots, and its low 4 bits, the place in the
 * group. Sixteen consecutive prefixes of one length (/24s, /32s, /16s alike) therefore share two
 * cache lines of keys. Peers send their tables in about prefix order, and every per-prefix step of
 * a full-table load (RIB, Adj-RIB-In, Adj-RIB-Out) then finds its slot near the last one instead
 * of paying a cache and TLB miss in a table of tens of megabytes. Groups are placed at random, so
 * a sparse or unordered table spreads as before; two blocks meeting in one group cost a short
 * linear scan within cached lines.
 */
export function hashPrefix4(addr: number, len: number): number {
  // The network number (`>>> 32` would shift by 0, so length 0 is spelled out). Lengths 0-4 have
  // at most 16 prefixes each, so their high part is 0 and the length alone picks the group.
  const net = len === 0 ? 0 : addr >>> (32 - len);
  let h = Math.imul((net >>> 4) ^ Math.imul(len + 1, 0x85ebca6b), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return (h << 4) | (net & 15);
}

// Slot keys are two columns: the address as a signed 32-bit integer, and a length byte that
// also marks free slots (5 bytes a slot instead of an 8-byte prefix number; integer compares).
/** Length byte of a slot never used. */
export const SLOT_EMPTY = 0;
/** Length byte of a slot whose prefix was deleted (a tombstone until the next rebuild). */
export const SLOT_TOMB = 1;
/** Length byte of a slot holding a prefix of length `len`. */
export const SLOT_LEN = 2;
const MIN_CAP = 16;

/** An open-addressing hash table from IPv4 prefixes to values (iteration in slot order). */
export class Prefix4Table<V> {
  private addrs = new Int32Array(MIN_CAP);
  private lens = new Uint8Array(MIN_CAP);
  private vals: (V | undefined)[] = new Array<V | undefined>(MIN_CAP).fill(undefined);
  private mask = MIN_CAP - 1;
  private count = 0;
  /** Deleted slots (kept as tombstones until the next rehash). */
  private tombs = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  // Address (as a signed 32-bit integer) and length mixed into 32 bits. The `…At` methods take
  // the two small integers, so a caller holding them never boxes a prefix number.
  private slot0(addr: number, len: number): number {
    return hashPrefix4(addr, len) & this.mask;
  }

  /** The slot holding the prefix, or -1. */
  private find(addr: number, len: number): number {
    const addrs = this.addrs;
    const lens = this.lens;
    const mask = this.mask;
    const l = len + SLOT_LEN;
    for (let i = this.slot0(addr, len); ; i = (i + 1) & mask) {
      const k = lens[i]!;
      if (k === l && addrs[i] === addr) return i;
      if (k === SLOT_EMPTY) return -1;
    }
  }

  /** The value for the prefix `addr`/`len` (`addr` as a signed or unsigned 32-bit integer). */
  getAt(addr: number, len: number): V | undefined {
    const i = this.find(addr | 0, len);
    return i < 0 ? undefined : this.vals[i];
  }

  /** The value for a prefix. */
  get(p: Prefix4): V | undefined {
    const addr = Math.floor(p / 64);
    return this.getAt(addr, p - addr * 64);
  }

  /** Set the value for a prefix. */
  set(p: Prefix4, v: V): void {
    const addr = Math.floor(p / 64);
    this.setAt(addr, p - addr * 64, v);
  }

  /**
   * The slot of the prefix `addr`/`len` (a signed 32-bit address), claimed when absent: returns
   * the slot, negated minus one when it was claimed now (the caller then stores the value).
   */
  private claim(a: number, len: number): number {
    const addrs = this.addrs;
    const lens = this.lens;
    const mask = this.mask;
    const l = len + SLOT_LEN;
    let tomb = -1;
    let i = this.slot0(a, len);
    for (; ; i = (i + 1) & mask) {
      const k = lens[i]!;
      if (k === l && addrs[i] === a) return i;
      if (k === SLOT_EMPTY) break;
      if (k === SLOT_TOMB && tomb < 0) tomb = i;
    }
    if (tomb >= 0) {
      i = tomb;
      this.tombs--;
    }
    addrs[i] = a;
    lens[i] = l;
    this.count++;
    return -1 - i;
  }

  /** Set the value for the prefix `addr`/`len`. */
  setAt(addr: number, len: number, v: V): void {
    const c = this.claim(addr | 0, len);
    this.vals[c < 0 ? -1 - c : c] = v;
    if (c < 0) this.grow();
  }

  /**
   * The value for the prefix `addr`/`len`, adding `create(addr, len)` when absent: one probe
   * sequence instead of a lookup and then an insertion.
   */
  getOrAddAt(addr: number, len: number, create: (addr: number, len: number) => V): V {
    const a = addr | 0;
    const c = this.claim(a, len);
    if (c >= 0) return this.vals[c]!;
    const v = create(a, len);
    this.vals[-1 - c] = v;
    this.grow();
    return v;
  }

  /** Rehash once five eighths of the slots are in use (live or deleted). */
  private grow(): void {
    if ((this.count + this.tombs) * 8 > this.lens.length * 5) this.rehash();
  }

  /** Remove a prefix; true if it was present. */
  delete(p: Prefix4): boolean {
    const addr = Math.floor(p / 64);
    return this.deleteAt(addr, p - addr * 64);
  }

  /** Remove the prefix `addr`/`len`; true if it was present. */
  deleteAt(addr: number, len: number): boolean {
    const i = this.find(addr | 0, len);
    if (i < 0) return false;
    this.lens[i] = SLOT_TOMB;
    this.vals[i] = undefined;
    this.count--;
    this.tombs++;
    if (this.count * 8 < this.lens.length && this.lens.length > MIN_CAP) this.rehash();
    return true;
  }

  /** Remove everything. */
  clear(): void {
    this.addrs = new Int32Array(MIN_CAP);
    this.lens = new Uint8Array(MIN_CAP);
    this.vals = new Array<V | undefined>(MIN_CAP).fill(undefined);
    this.mask = MIN_CAP - 1;
    this.count = 0;
    this.tombs = 0;
  }

  /** Call `fn` for each value (slot order) without an iterator object per value. */
  forEachValue(fn: (v: V) => void): void {
    const lens = this.lens;
    const vals = this.vals;
    for (let i = 0; i < lens.length; i++) if (lens[i]! >= SLOT_LEN) fn(vals[i]!);
  }

  /** The values (slot order). */
  *values(): IterableIterator<V> {
    const lens = this.lens;
    const vals = this.vals;
    for (let i = 0; i < lens.length; i++) if (lens[i]! >= SLOT_LEN) yield vals[i]!;
  }

  /** The entries as (prefix, value), in slot order. */
  *entries(): IterableIterator<[Prefix4, V]> {
    const lens = this.lens;
    const vals = this.vals;
    for (let i = 0; i < lens.length; i++) {
      const l = lens[i]!;
      if (l >= SLOT_LEN) yield [prefix4Unchecked(this.addrs[i]! >>> 0, l - SLOT_LEN), vals[i]!];
    }
  }

  /**
   * Rebuild for the current count, without tombstones: at most half full, so the table lives
   * between about a third and five eighths full (slots in use, live or deleted). A full table's
   * million prefixes take 2M slots; the grouped home slots keep probes within cached lines.
   */
  private rehash(): void {
    const { addrs: oa, lens: ol, vals: ov } = this;
    let cap = MIN_CAP;
    while (cap < this.count * 2) cap *= 2;
    const addrs = new Int32Array(cap);
    const lens = new Uint8Array(cap);
    const vals = new Array<V | undefined>(cap).fill(undefined);
    this.addrs = addrs;
    this.lens = lens;
    this.vals = vals;
    this.mask = cap - 1;
    this.tombs = 0;
    for (let j = 0; j < ol.length; j++) {
      const l = ol[j]!;
      if (l < SLOT_LEN) continue;
      const a = oa[j]!;
      let i = this.slot0(a, l - SLOT_LEN);
      while (lens[i] !== SLOT_EMPTY) i = (i + 1) & this.mask;
      addrs[i] = a;
      lens[i] = l;
      vals[i] = ov[j];
    }
  }
}

/** A Map from IPv6 prefixes to values. */
export class Prefix6Map<V> {
  private readonly m = new Map<string, { readonly p: Prefix6; v: V }>();

  get size(): number {
    return this.m.size;
  }

  get(p: Prefix6): V | undefined {
    return this.m.get(key6(p))?.v;
  }

  set(p: Prefix6, v: V): void {
    const k = key6(p);
    const e = this.m.get(k);
    if (e === undefined) this.m.set(k, { p, v });
    else e.v = v;
  }

  delete(p: Prefix6): boolean {
    return this.m.delete(key6(p));
  }

  clear(): void {
    this.m.clear();
  }

  *values(): IterableIterator<V> {
    for (const e of this.m.values()) yield e.v;
  }

  *entries(): IterableIterator<[Prefix6, V]> {
    for (const e of this.m.values()) yield [e.p, e.v];
  }

  take(max: number, out: [Prefix6, V][]): void {
    for (const [k, e] of this.m) {
      if (out.length >= max) return;
      this.m.delete(k);
      out.push([e.p, e.v]);
    }
  }
}
