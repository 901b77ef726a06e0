// The seam between the lower half and a forwarding table (STYLE items 9 and 13): a `FibBackend`
// takes batches of route operations and lists the routes it owns. Implementations: `linux`
// (rib/fib/linux.ts, iproute2 in batch mode, routes tagged with `RT_PROTO_LODESTONE`) and `memory`
// (rib/fib/memory.ts, for tests).
//
// Nexthop groups (`ip nexthop`, needed by ddmd for resilient groups) fit without rework: a
// `FibRoute` would gain an optional `group` naming a group, `FibOp` gains `nhg-replace` /
// `nhg-delete` variants carrying `{ id, hops, resilient? }`, and a backend applies group
// operations before the route operations of the same batch (routes then say `nhid N` instead of
// listing next hops). The synchroniser diffs groups exactly as it diffs routes.

import { formatAfPrefix, nextHopAddrKey, type AfPrefix, type NextHop } from '../types.js';

// ===== Routes and operations =====

/** The protocol number our routes carry in the kernel (`proto 199`); 186..199 are unassigned in
 * /etc/iproute2/rt_protos, and a number needs no rt_protos.d entry to be read back. */
export const RT_PROTO_LODESTONE = 199;

/** One route we want in (or found in) a forwarding table. */
export type FibRoute = AfPrefix & {
  readonly nexthops: readonly NextHop[];
  /** Set by a backend that installs the hops as a nexthop object (`ip nexthop`) with this id. */
  readonly nhid?: number;
};

/** One change to a forwarding table. */
export type FibOp =
  | { readonly op: 'replace'; readonly route: FibRoute; readonly existing: boolean }
  | { readonly op: 'delete'; readonly route: AfPrefix };

/** An operation the table refused, with the reason it gave. */
export interface FibFailure {
  readonly op: FibOp;
  readonly error: string;
}

/** A forwarding table we can program. */
export interface FibBackend {
  readonly name: string;
  /** Apply operations in order; one refused operation does not stop the others. */
  apply(ops: readonly FibOp[]): Promise<FibFailure[]>;
  /** Every route in the table that carries our tag. */
  list(): Promise<FibRoute[]>;
  /** Release resources (routes stay). */
  close(): Promise<void>;
}

/** Text of an operation for logs and error lists. */
export function formatOp(op: FibOp): string {
  return `${op.op} ${formatAfPrefix(op.route)}`;
}

// ===== Comparison =====

// Link-local addresses repeat across interfaces, so their interface is part of their identity.
function addrOnlyKey(h: NextHop): string {
  const ll = typeof h.addr !== 'number' && h.addr.isLinkLocal();
  return nextHopAddrKey(ll && h.ifname !== undefined ? { addr: h.addr, ifname: h.ifname } : { addr: h.addr });
}

/**
 * True when the table's next hops `have` implement the wanted `want`: the same addresses, the
 * same weights (ignored for a single next hop, which the kernel stores without one) and the same
 * interface wherever `want` names one (the kernel fills in the interface it resolved).
 */
export function hopsMatch(want: readonly NextHop[], have: readonly NextHop[]): boolean {
  if (want.length !== have.length) return false;
  const byAddr = new Map<string, NextHop>();
  for (const h of have) byAddr.set(addrOnlyKey(h), h);
  if (byAddr.size !== have.length) return false;
  for (const w of want) {
    const h = byAddr.get(addrOnlyKey(w));
    if (h === undefined) return false;
    if (w.ifname !== undefined && w.ifname !== h.ifname) return false;
    if (want.length > 1 && (w.weight ?? 1) !== (h.weight ?? 1)) return false;
  }
  return true;
}
