// Maps keyed by prefix, sized for a full table. An IPv4 prefix number (`addr * 64 + len`) is above
// the small-integer range, so a Map keyed by it boxes every key and hashes doubles; instead the
// IPv4 side keeps one Map per prefix length keyed by the address as a signed 32-bit integer,
// which V8 stores unboxed (Smi) and hashes cheaply. IPv6 prefixes use their `key6` text.

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
