// IPv6 addresses and prefixes as four unsigned 32-bit words (RFC 4291 §2.2 text forms in,
// RFC 5952 canonical text out).
//
// Each value is a small immutable object of one fixed shape, so V8 keeps it monomorphic; `key6`
// gives a compact string for use as a Map key where an IPv6 table needs one.

import { err, ok, type Result } from '../result.js';
import { formatAddr4, parseAddr4 } from './ipv4.js';

/** An IPv6 address as four big-endian 32-bit words. */
export class Addr6 {
  constructor(
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
  ) {}

  /** The all-zeros address `::`. */
  static readonly ZERO = new Addr6(0, 0, 0, 0);

  /** True for fe80::/10. */
  isLinkLocal(): boolean {
    return this.w0 >>> 22 === 0x3fa;
  }

  /** RFC 5952 text. */
  toString(): string {
    return formatAddr6(this);
  }
}

/** An IPv6 prefix: address words with host bits zero, plus the length 0..128. */
export class Prefix6 {
  constructor(
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly len: number,
  ) {}

  /** The network address. */
  addr(): Addr6 {
    return new Addr6(this.w0, this.w1, this.w2, this.w3);
  }

  /** CIDR text. */
  toString(): string {
    return formatPrefix6(this);
  }
}

/** Netmask word `i` (0..3) for a prefix length. */
export function mask6Word(len: number, i: number): number {
  const bits = len - i * 32;
  if (bits >= 32) return 0xffffffff;
  if (bits <= 0) return 0;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/** Build a prefix from words, zeroing host bits. */
export function prefix6(w0: number, w1: number, w2: number, w3: number, len: number): Prefix6 {
  return new Prefix6(
    (w0 & mask6Word(len, 0)) >>> 0,
    (w1 & mask6Word(len, 1)) >>> 0,
    (w2 & mask6Word(len, 2)) >>> 0,
    (w3 & mask6Word(len, 3)) >>> 0,
    len,
  );
}

/** Build a prefix from an address. */
export function prefix6FromAddr(a: Addr6, len: number): Prefix6 {
  return prefix6(a.w0, a.w1, a.w2, a.w3, len);
}

/** Equality of two addresses. */
export function equalAddr6(a: Addr6, b: Addr6): boolean {
  return a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3;
}

/** Equality of two prefixes. */
export function equalPrefix6(a: Prefix6, b: Prefix6): boolean {
  return a.len === b.len && a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3;
}

/** Order by address words, then by length. */
export function comparePrefix6(a: Prefix6, b: Prefix6): number {
  return a.w0 - b.w0 || a.w1 - b.w1 || a.w2 - b.w2 || a.w3 - b.w3 || a.len - b.len;
}

/** Order of two addresses. */
export function compareAddr6(a: Addr6, b: Addr6): number {
  return a.w0 - b.w0 || a.w1 - b.w1 || a.w2 - b.w2 || a.w3 - b.w3;
}

/** True when `inner` lies within `outer` (equal prefixes included). */
export function prefix6Contains(outer: Prefix6, inner: Prefix6): boolean {
  const l = outer.len;
  if (inner.len < l) return false;
  return (
    (inner.w0 & mask6Word(l, 0)) >>> 0 === outer.w0 &&
    (inner.w1 & mask6Word(l, 1)) >>> 0 === outer.w1 &&
    (inner.w2 & mask6Word(l, 2)) >>> 0 === outer.w2 &&
    (inner.w3 & mask6Word(l, 3)) >>> 0 === outer.w3
  );
}

/** True when the address lies within the prefix. */
export function prefix6ContainsAddr(p: Prefix6, a: Addr6): boolean {
  return prefix6Contains(p, new Prefix6(a.w0, a.w1, a.w2, a.w3, 128));
}

/** A compact string key (for Maps): 33 hex digits, address words then length. */
export function key6(p: Prefix6): string {
  return hex8(p.w0) + hex8(p.w1) + hex8(p.w2) + hex8(p.w3) + (p.len < 16 ? '0' : '') + p.len.toString(16);
}

function hex8(w: number): string {
  return w.toString(16).padStart(8, '0');
}

/** The eight 16-bit groups of an address. */
function groups(a: Addr6): number[] {
  return [
    a.w0 >>> 16,
    a.w0 & 0xffff,
    a.w1 >>> 16,
    a.w1 & 0xffff,
    a.w2 >>> 16,
    a.w2 & 0xffff,
    a.w3 >>> 16,
    a.w3 & 0xffff,
  ];
}

/** RFC 5952 canonical text: lower case, no leading zeros, longest zero run (>= 2 groups) as `::`. */
export function formatAddr6(a: Addr6): string {
  // IPv4-mapped addresses (::ffff:0:0/96) are written in mixed notation (RFC 5952 §5).
  if (a.w0 === 0 && a.w1 === 0 && a.w2 === 0xffff) return `::ffff:${formatAddr4(a.w3)}`;
  const g = groups(a);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = g.map((x) => x.toString(16));
  if (bestStart < 0) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLen).join(':')}`;
}

/** CIDR text of a prefix. */
export function formatPrefix6(p: Prefix6): string {
  return `${formatAddr6(new Addr6(p.w0, p.w1, p.w2, p.w3))}/${p.len}`;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parse RFC 4291 text, including `::` compression and a trailing dotted-quad. No zone index. */
export function parseAddr6(s: string): Result<Addr6, string> {
  const bad = (why: string): Result<Addr6, string> => err(`'${s}' is not an IPv6 address: ${why}`);
  if (s.includes('%')) return bad("zone index '%…' is not allowed here");
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return bad("'::' may appear only once");
  const parseSide = (side: string): number[] | string => {
    if (side === '') return [];
    const parts = side.split(':');
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseAddr4(part);
        if (!v4.ok) return `embedded ${v4.error}`;
        out.push(v4.value >>> 16, v4.value & 0xffff);
      } else if (HEX_GROUP.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return `group '${part}' is not 1-4 hexadecimal digits`;
      }
    }
    return out;
  };
  let g: number[];
  if (dbl >= 0) {
    const head = parseSide(s.slice(0, dbl));
    if (typeof head === 'string') return bad(head);
    const tail = parseSide(s.slice(dbl + 2));
    if (typeof tail === 'string') return bad(tail);
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return bad("'::' must stand for at least one group");
    g = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    const all = parseSide(s);
    if (typeof all === 'string') return bad(all);
    if (all.length !== 8) return bad(`expected 8 groups, found ${all.length}`);
    g = all;
  }
  const w = (i: number): number => (((g[i] ?? 0) << 16) | (g[i + 1] ?? 0)) >>> 0;
  return ok(new Addr6(w(0), w(2), w(4), w(6)));
}

/** Parse CIDR text. With `hostBits: 'reject'` (the default) host bits set are an error naming the fix. */
export function parsePrefix6(s: string, hostBits: 'reject' | 'clear' = 'reject'): Result<Prefix6, string> {
  const slash = s.indexOf('/');
  if (slash < 0) return err(`'${s}' is not an IPv6 prefix: missing '/length'`);
  const a = parseAddr6(s.slice(0, slash));
  if (!a.ok) return a;
  const lenText = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > 128) {
    return err(`'${s}' is not an IPv6 prefix: length '${lenText}' must be 0..128`);
  }
  const p = prefix6FromAddr(a.value, Number(lenText));
  if (hostBits === 'reject' && !equalAddr6(p.addr(), a.value)) {
    return err(`'${s}' has host bits set; the network is ${formatPrefix6(p)}`);
  }
  return ok(p);
}

/** Write an address as 16 bytes at `off`; returns the offset after it. */
export function writeAddr6(a: Addr6 | Prefix6, buf: Uint8Array, off: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(off, a.w0);
  dv.setUint32(off + 4, a.w1);
  dv.setUint32(off + 8, a.w2);
  dv.setUint32(off + 12, a.w3);
  return off + 16;
}

/** Read 16 bytes at `off` as an address (the caller checks bounds). */
export function readAddr6(buf: Uint8Array, off: number): Addr6 {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return new Addr6(dv.getUint32(off), dv.getUint32(off + 4), dv.getUint32(off + 8), dv.getUint32(off + 12));
}
