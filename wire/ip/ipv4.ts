// IPv4 addresses and prefixes as plain numbers.
//
// An address is an unsigned 32-bit integer. A prefix packs address and length into one number,
// `addr * 64 + len`, which stays an exact integer (below 2^38) and sorts in (address, length)
// order, so a full table is an array or Map of numbers, never of strings or Buffers.

import { err, ok, type Result } from '../result.js';

/** An IPv4 address as an unsigned 32-bit integer. */
export type Addr4 = number;

/** An IPv4 prefix packed as `addr * 64 + len`; host bits are always zero. */
export type Prefix4 = number & { readonly __prefix4: unique symbol };

/** The netmask for a prefix length, as an unsigned 32-bit integer. */
export function mask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Build a prefix, zeroing host bits. `len` must be 0..32. */
export function prefix4(addr: Addr4, len: number): Prefix4 {
  return (((addr & mask4(len)) >>> 0) * 64 + len) as Prefix4;
}

/** Build a prefix from an address already known to have no host bits set (hot paths). */
export function prefix4Unchecked(addr: Addr4, len: number): Prefix4 {
  return (addr * 64 + len) as Prefix4;
}

/** The network address of a prefix. */
export function prefix4Addr(p: Prefix4): Addr4 {
  return (p - (p % 64)) / 64;
}

/** The length of a prefix. */
export function prefix4Len(p: Prefix4): number {
  return p % 64;
}

/** True when `inner` lies within `outer` (equal prefixes included). */
export function prefix4Contains(outer: Prefix4, inner: Prefix4): boolean {
  const lo = prefix4Len(outer);
  const li = prefix4Len(inner);
  return li >= lo && (prefix4Addr(inner) & mask4(lo)) >>> 0 === prefix4Addr(outer);
}

/** True when the address lies within the prefix. */
export function prefix4ContainsAddr(p: Prefix4, a: Addr4): boolean {
  return (a & mask4(prefix4Len(p))) >>> 0 === prefix4Addr(p);
}

/** Numeric order: by address, then by length. */
export function comparePrefix4(a: Prefix4, b: Prefix4): number {
  return a - b;
}

/** Dotted-quad text of an address. */
export function formatAddr4(a: Addr4): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** CIDR text of a prefix. */
export function formatPrefix4(p: Prefix4): string {
  return `${formatAddr4(prefix4Addr(p))}/${prefix4Len(p)}`;
}

/** Parse dotted-quad text; rejects leading zeros, out-of-range octets and stray characters. */
export function parseAddr4(s: string): Result<Addr4, string> {
  const parts = s.split('.');
  if (parts.length !== 4) return err(`'${s}' is not an IPv4 address: expected four dot-separated octets`);
  let a = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) {
      return err(
        `'${s}' is not an IPv4 address: octet '${part}' is not a decimal number without leading zeros`,
      );
    }
    const n = Number(part);
    if (n > 255) return err(`'${s}' is not an IPv4 address: octet ${n} is above 255`);
    a = a * 256 + n;
  }
  return ok(a);
}

/** How `parsePrefix4` treats host bits set below the prefix length. */
export type HostBits = 'reject' | 'clear';

/** Parse CIDR text. With `hostBits: 'reject'` (the default) `10.0.0.1/8` is an error naming the fix. */
export function parsePrefix4(s: string, hostBits: HostBits = 'reject'): Result<Prefix4, string> {
  const slash = s.indexOf('/');
  if (slash < 0) return err(`'${s}' is not an IPv4 prefix: missing '/length'`);
  const addr = parseAddr4(s.slice(0, slash));
  if (!addr.ok) return addr;
  const lenText = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(lenText) || Number(lenText) > 32) {
    return err(`'${s}' is not an IPv4 prefix: length '${lenText}' must be 0..32`);
  }
  const len = Number(lenText);
  const p = prefix4(addr.value, len);
  if (hostBits === 'reject' && prefix4Addr(p) !== addr.value) {
    return err(`'${s}' has host bits set; the network is ${formatPrefix4(p)}`);
  }
  return ok(p);
}
