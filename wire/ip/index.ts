// IP addresses and prefixes for both families, as integers (IPv4) and fixed-shape word objects
// (IPv6). A `Prefix` of either family is told apart with `isPrefix4` (a number) — no strings or
// Buffers per prefix anywhere in the codecs or the RIB.

import { err, type Result } from '../result.js';
import { formatPrefix4, parsePrefix4, type HostBits, type Prefix4 } from './ipv4.js';
import { formatPrefix6, parsePrefix6, type Prefix6 } from './ipv6.js';

export * from './ipv4.js';
export * from './ipv6.js';

/** A prefix of either family. */
export type Prefix = Prefix4 | Prefix6;

/** True for an IPv4 prefix. */
export function isPrefix4(p: Prefix): p is Prefix4 {
  return typeof p === 'number';
}

/** CIDR text of a prefix of either family. */
export function formatPrefix(p: Prefix): string {
  return isPrefix4(p) ? formatPrefix4(p) : formatPrefix6(p);
}

/** Parse CIDR text of either family. */
export function parsePrefix(s: string, hostBits: HostBits = 'reject'): Result<Prefix, string> {
  if (s.includes(':')) return parsePrefix6(s, hostBits);
  if (s.includes('.')) return parsePrefix4(s, hostBits);
  return err(`'${s}' is neither an IPv4 nor an IPv6 prefix`);
}
