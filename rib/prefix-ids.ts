// Stable small-integer ids for IPv4 prefixes, shared by every table of the daemon keyed by
// prefix: the RIB's entries and each BGP neighbour's Adj-RIB-In and Adj-RIB-Out (mgd/bgp/adj-rib.ts)
// keep their per-prefix state in columns indexed by id instead of a hash table each.
//
// One open-addressing table (the grouped hash of rib/prefix-map.ts `hashPrefix4`, linear probing
// over a column of addresses, one of length bytes and one of ids) maps a prefix to its id; per id,
// columns hold the prefix and a count of the tables holding it. An id lives while some table
// holds it (`ref`/`unref`) and is then reused, so a full table costs one hash table however many
// neighbours see it, each prefix is hashed once per UPDATE (the last lookup is remembered, so the
// RIB finding the prefix Adj-RIB-In just stored costs nothing), and a neighbour's table grows by
// copying typed arrays instead of rehashing. The hash table shrinks as prefixes go; the id space
// does not (it stays at the most prefixes held at once: 9 bytes per id here, 8 in the RIB's column
// of entries), since freed ids are reused.

import { SLOT_EMPTY, SLOT_LEN, SLOT_TOMB, hashPrefix4 } from './prefix-map.js';
import { prefix4Unchecked, type Prefix4 } from '../wire/ip/index.js';

const MIN_SLOTS = 16;
const MIN_IDS = 16;

/** A copy of a column in a longer one of `n` elements (the new ones zero). */
export function grown<A extends Int32Array | Uint8Array>(a: A, n: number): A {
  const b = new (a.constructor as new (length: number) => A)(n);
  b.set(a);
  return b;
}

/** IPv4 prefix ↔ id, with a count of the holders of each id. */
export class PrefixIds {
  // The hash table: a signed 32-bit address and a length byte (which also marks free slots, as in
  // `Prefix4Table`) and the id, per slot.
  private addrs = new Int32Array(MIN_SLOTS);
  private lens = new Uint8Array(MIN_SLOTS);
  private slotIds = new Int32Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private count = 0;
  private tombs = 0;
  // Per id: the prefix (length byte 0 while the id is free) and how many tables hold it.
  private idAddrs = new Int32Array(MIN_IDS);
  private idLens = new Uint8Array(MIN_IDS);
  private refs = new Int32Array(MIN_IDS);
  private bound = 0;
  private free: number[] = [];
  // The last prefix found or added, and its id.
  private lastAddr = 0;
  private lastLen = -1;
  private lastId = -1;

  /** Number of prefixes with an id. */
  get size(): number {
    return this.count;
  }

  /** Every id is below this (size per-id columns to it). */
  get idBound(): number {
    return this.bound;
  }

  /** The id of the prefix `addr`/`len` (address as a signed or unsigned 32-bit integer), or -1. */
  find(addr: number, len: number): number {
    const a = addr | 0;
    if (a === this.lastAddr && len === this.lastLen) return this.lastId;
    const addrs = this.addrs;
    const lens = this.lens;
    const mask = this.mask;
    const l = len + SLOT_LEN;
    for (let i = hashPrefix4(a, len) & mask; ; i = (i + 1) & mask) {
      const k = lens[i]!;
      if (k === l && addrs[i] === a) return this.remember(a, len, this.slotIds[i]!);
      if (k === SLOT_EMPTY) return -1;
    }
  }

  /** The id of a prefix, or -1. */
  findPrefix(p: Prefix4): number {
    const a = Math.floor(p / 64);
    return this.find(a, p - a * 64);
  }

  /**
   * The id of the prefix `addr`/`len`, given one when it has none. A new id has no holder: the
   * caller takes it with `ref` straight away.
   */
  add(addr: number, len: number): number {
    const a = addr | 0;
    if (a === this.lastAddr && len === this.lastLen) return this.lastId;
    if ((this.count + this.tombs + 1) * 8 > this.lens.length * 5) this.rehash(this.count + 1);
    const addrs = this.addrs;
    const lens = this.lens;
    const mask = this.mask;
    const l = len + SLOT_LEN;
    let tomb = -1;
    let i = hashPrefix4(a, len) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = lens[i]!;
      if (k === l && addrs[i] === a) return this.remember(a, len, this.slotIds[i]!);
      if (k === SLOT_EMPTY) break;
      if (k === SLOT_TOMB && tomb < 0) tomb = i;
    }
    if (tomb >= 0) {
      i = tomb;
      this.tombs--;
    }
    const id = this.newId();
    addrs[i] = a;
    lens[i] = l;
    this.slotIds[i] = id;
    this.idAddrs[id] = a;
    this.idLens[id] = l;
    this.count++;
    return this.remember(a, len, id);
  }

  /** The id of a prefix, given one when it has none (see `add`). */
  addPrefix(p: Prefix4): number {
    const a = Math.floor(p / 64);
    return this.add(a, p - a * 64);
  }

  /** A table holds the id. */
  ref(id: number): void {
    this.refs[id]!++;
  }

  /** A table no longer holds the id; the last one out frees it (and the prefix loses its id). */
  unref(id: number): void {
    // A release of a free id would free whatever prefix holds its slot next: fail loudly instead.
    if (this.refs[id]! <= 0) throw new Error(`prefix id ${id} released more often than held`);
    if (--this.refs[id]! > 0) return;
    const a = this.idAddrs[id]!;
    const l = this.idLens[id]!;
    const addrs = this.addrs;
    const lens = this.lens;
    const mask = this.mask;
    for (let i = hashPrefix4(a, l - SLOT_LEN) & mask; ; i = (i + 1) & mask) {
      if (lens[i] === l && addrs[i] === a) {
        lens[i] = SLOT_TOMB;
        break;
      }
    }
    this.idLens[id] = 0;
    this.free.push(id);
    this.count--;
    this.tombs++;
    if (this.lastId === id) this.lastLen = -1;
    if (this.count * 8 < this.lens.length && this.lens.length > MIN_SLOTS) this.rehash(this.count);
  }

  /** How many tables hold the id (for tests). */
  holders(id: number): number {
    return this.refs[id]!;
  }

  /** The prefix of a live id. */
  prefixOf(id: number): Prefix4 {
    return prefix4Unchecked(this.idAddrs[id]! >>> 0, this.idLens[id]! - SLOT_LEN);
  }

  private remember(a: number, len: number, id: number): number {
    this.lastAddr = a;
    this.lastLen = len;
    this.lastId = id;
    return id;
  }

  private newId(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const id = this.bound++;
    if (id === this.refs.length) {
      const n = id * 2;
      this.idAddrs = grown(this.idAddrs, n);
      this.idLens = grown(this.idLens, n);
      this.refs = grown(this.refs, n);
    }
    return id;
  }

  // At most five eighths of the slots in use (live or deleted); rebuilt without tombstones at the
  // smallest size at least twice the prefixes held, so a full table's million prefixes take 2M
  // slots and one that emptied shrinks. Ids do not move.
  private rehash(n: number): void {
    let cap = MIN_SLOTS;
    while (cap < n * 2) cap *= 2;
    const { addrs: oa, lens: ol, slotIds: oi } = this;
    const addrs = new Int32Array(cap);
    const lens = new Uint8Array(cap);
    const ids = new Int32Array(cap);
    const mask = cap - 1;
    for (let j = 0; j < ol.length; j++) {
      const l = ol[j]!;
      if (l < SLOT_LEN) continue;
      const a = oa[j]!;
      let i = hashPrefix4(a, l - SLOT_LEN) & mask;
      while (lens[i] !== SLOT_EMPTY) i = (i + 1) & mask;
      addrs[i] = a;
      lens[i] = l;
      ids[i] = oi[j]!;
    }
    this.addrs = addrs;
    this.lens = lens;
    this.slotIds = ids;
    this.mask = mask;
    this.tombs = 0;
  }
}
