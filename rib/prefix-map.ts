// Maps keyed by prefix, sized for a full table. An IPv4 prefix number (`addr * 64 + len`) is above
// the small-integer range, so a Map keyed by it boxes every key and hashes doubles; instead the
// IPv4 side keeps one Map per prefix length keyed by the address as a signed 32-bit integer,
// which V8 stores unboxed (Smi) and hashes cheaply. IPv6 prefixes use their `key6` text.
//
// The hash and slot-key encoding of the daemon's own open-addressing IPv4 table (rib/prefix-ids.ts),
// where lookups dominate a full-table load: linear probing over typed-array columns of addresses
// and lengths touches one or two cache lines instead of a Map's bucket and chain (about half the
// time per lookup for 500k random prefixes), and home slots keep consecutive prefixes together
// (`hashPrefix4`).

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
