// One prefix of the RIB (rib/rib.ts): its paths best first, how many are selected, the forwarding
// next hops, flags, and the event bus's bookkeeping (rib/bus.ts).
//
// An entry is a plain record made by one object literal (`newEntry`), read and changed through the
// functions below, not a class instance. A full table is a million entries that all live as long
// as their prefix; V8 pretenures the objects of a literal whose allocations survive (so they are
// allocated in the old generation and never copied by a young-generation collection), which it
// does not do for `new`. Measured on the 1M-prefix BGP benchmark: scavenge time 397 → 295 ms.
//
// Up to two paths (the common case: one or two neighbours) are held inline in `p0`/`p1`; three or
// more live in an exact-size array held in `p1` while `p0` is null. The record has five fields:
// it is the one object per prefix, so its size is what a full table costs.

import type { Afi, NextHop } from './types.js';
import type { NhList, Path, Source } from './rib.js';
import { mask4, prefix4Unchecked, type Prefix4, type Prefix6 } from '../wire/ip/index.js';

/** A prefix of the RIB. Read and change it through this module's functions. */
export interface Entry {
  p0: Path | null;
  p1: Path | readonly Path[] | null;
  /** Forwarding next hops of the selected paths (empty when nothing is selected). */
  hops: readonly NextHop[];
  /**
   * The selected count (low 10 bits), four flags, an IPv4 prefix length (6 bits) and the event
   * bus's bits (bits 20-29) in one small integer.
   */
  bits: number;
  /**
   * The prefix: an IPv4 prefix number (above the small-integer range) would be a separate heap
   * number per entry, so IPv4 keeps its address as a signed 32-bit small integer (and its length
   * in `bits`); IPv6 keeps the Prefix6 object.
   */
  readonly key: number | Prefix6;
}

// Layout of `bits`: nsel in bits 0-9 (at most 1023 selected paths), DIRTY / MARK / CHANGED /
// DROPPED in bits 10-13, an IPv4 prefix length in bits 14-19, the bus's bits from 20.
export const NSEL_MASK = 0x3ff;
const DIRTY = 0x400;
const MARK = 0x800;
const CHANGED = 0x1000;
const DROPPED = 0x2000;
const LEN_SHIFT = 14;
const BUS_SHIFT = 20;

export const EMPTY_HOPS: readonly NextHop[] = Object.freeze([]);
export const NO_PATHS: readonly Path[] = Object.freeze([]);

/** A new entry without paths (the single allocation site of entries; see the header). */
function make(key: number | Prefix6, bits: number): Entry {
  return { p0: null, p1: null, hops: EMPTY_HOPS, bits, key };
}

/** A new IPv4 entry from its address (unsigned or signed 32-bit) and length. */
export function newEntry4(addr: number, len: number): Entry {
  return make(addr | 0, len << LEN_SHIFT);
}

/** A new entry for a prefix of either family. */
export function newEntry(prefix: Prefix4 | Prefix6): Entry {
  if (typeof prefix !== 'number') return make(prefix, 0);
  const addr = Math.floor(prefix / 64);
  return newEntry4(addr, prefix - addr * 64);
}

// ----- prefix -----

/** The prefix length of an IPv4 entry (its address is `key`). */
export function len4(e: Entry): number {
  return (e.bits >>> LEN_SHIFT) & 0x3f;
}

/** The prefix. */
export function prefixOf(e: Entry): Prefix4 | Prefix6 {
  const k = e.key;
  return typeof k === 'number' ? prefix4Unchecked(k >>> 0, len4(e)) : k;
}

/** The address family. */
export function afiOf(e: Entry): Afi {
  return typeof e.key === 'number' ? 4 : 6;
}

/** True when this is an IPv4 entry whose prefix covers the IPv4 address `addr`. */
export function covers4(e: Entry, addr: number): boolean {
  const k = e.key;
  return typeof k === 'number' && ((addr & mask4(len4(e))) | 0) === k;
}

// ----- paths -----

/** The paths when there are three or more, else null. */
function more(e: Entry): readonly Path[] | null {
  return e.p0 === null ? (e.p1 as readonly Path[] | null) : null;
}

/** Number of paths. */
export function pathCount(e: Entry): number {
  if (e.p0 === null) return e.p1 === null ? 0 : (e.p1 as readonly Path[]).length;
  return e.p1 === null ? 1 : 2;
}

/** The first (best, when selected) path. */
export function firstPath(e: Entry): Path | undefined {
  if (e.p0 !== null) return e.p0;
  return e.p1 === null ? undefined : (e.p1 as readonly Path[])[0];
}

/** The path at index `i` (0 ≤ i < count). */
export function pathAt(e: Entry, i: number): Path {
  const p0 = e.p0;
  if (p0 === null) return (e.p1 as readonly Path[])[i]!;
  return i === 0 ? p0 : (e.p1 as Path);
}

/** The paths as an array, best first (allocates for the inline forms; not for hot paths). */
export function pathsOf(e: Entry): readonly Path[] {
  const p0 = e.p0;
  if (p0 === null) return e.p1 === null ? NO_PATHS : (e.p1 as readonly Path[]);
  return e.p1 !== null ? [p0, e.p1 as Path] : [p0];
}

/** Replace all paths. */
export function setPaths(e: Entry, ps: readonly Path[]): void {
  if (ps.length <= 2) {
    e.p0 = ps[0] ?? null;
    e.p1 = ps[1] ?? null;
  } else {
    e.p0 = null;
    e.p1 = ps;
  }
}

/** Set exactly two paths in this order. */
export function setTwo(e: Entry, a: Path, b: Path): void {
  e.p0 = a;
  e.p1 = b;
}

/** Append a path. */
export function appendPath(e: Entry, p: Path): void {
  const m = more(e);
  if (m !== null) e.p1 = m.concat(p);
  else if (e.p0 === null) e.p0 = p;
  else if (e.p1 === null) e.p1 = p;
  else {
    e.p1 = [e.p0, e.p1 as Path, p];
    e.p0 = null;
  }
}

/** Replace the path at index `i`. */
export function replacePathAt(e: Entry, i: number, p: Path): void {
  const m = more(e);
  if (m !== null) {
    const c = m.slice();
    c[i] = p;
    e.p1 = c;
  } else if (i === 0) e.p0 = p;
  else e.p1 = p;
}

/** Remove the path at index `i`. */
export function removePathAt(e: Entry, i: number): void {
  const ps = more(e);
  if (ps !== null) {
    if (ps.length === 3) {
      e.p0 = ps[i === 0 ? 1 : 0]!;
      e.p1 = ps[i === 2 ? 1 : 2]!;
    } else {
      e.p1 = ps.slice(0, i).concat(ps.slice(i + 1));
    }
  } else if (i === 0) {
    e.p0 = e.p1 as Path | null;
    e.p1 = null;
  } else {
    e.p1 = null;
  }
}

/** Index of the path from `src` with `pathId`, or -1. */
export function indexOfPath(e: Entry, src: Source, pathId: number): number {
  const p0 = e.p0;
  if (p0 !== null) {
    const sh0 = p0.shared;
    if (sh0.source === src && sh0.pathId === pathId) return 0;
    const p1 = e.p1 as Path | null;
    if (p1 === null) return -1;
    const sh1 = p1.shared;
    return sh1.source === src && sh1.pathId === pathId ? 1 : -1;
  }
  const ps = e.p1 as readonly Path[] | null;
  if (ps === null) return -1;
  for (let i = 0; i < ps.length; i++) {
    const sh = ps[i]!.shared;
    if (sh.source === src && sh.pathId === pathId) return i;
  }
  return -1;
}

/** True when some path uses the next-hop list. */
export function usesList(e: Entry, l: NhList): boolean {
  const n = pathCount(e);
  for (let i = 0; i < n; i++) if (pathAt(e, i).shared.nh === l) return true;
  return false;
}

// ----- selection and flags -----

/** How many paths (from the front) are selected. */
export function selectedCount(e: Entry): number {
  return e.bits & NSEL_MASK;
}

export function setSelectedCount(e: Entry, n: number): void {
  e.bits = (e.bits & ~NSEL_MASK) | n;
}

/** Scheduled for reselection in the current flush. */
export function isDirty(e: Entry): boolean {
  return (e.bits & DIRTY) !== 0;
}

export function setDirty(e: Entry, d: boolean): void {
  e.bits = d ? e.bits | DIRTY : e.bits & ~DIRTY;
}

/** Already recorded among the entries changed in the current flush. */
export function isChanged(e: Entry): boolean {
  return (e.bits & CHANGED) !== 0;
}

export function setChanged(e: Entry, c: boolean): void {
  e.bits = c ? e.bits | CHANGED : e.bits & ~CHANGED;
}

/** Removed from the table (its prefix lost every path); a later path gets a new entry. */
export function isDropped(e: Entry): boolean {
  return (e.bits & DROPPED) !== 0;
}

/** Mark as removed from the table. */
export function markDropped(e: Entry): void {
  e.bits |= DROPPED;
}

/** Scratch mark for a de-duplicating pass (`NhList.maybeCompact`). */
export function isMarked(e: Entry): boolean {
  return (e.bits & MARK) !== 0;
}

export function setMarked(e: Entry, m: boolean): void {
  e.bits = m ? e.bits | MARK : e.bits & ~MARK;
}

/** Bookkeeping of the event bus's subscribers (rib/bus.ts). */
export function busBitsOf(e: Entry): number {
  return e.bits >>> BUS_SHIFT;
}

export function setBusBits(e: Entry, b: number): void {
  e.bits = (e.bits & ((1 << BUS_SHIFT) - 1)) | (b << BUS_SHIFT);
}
