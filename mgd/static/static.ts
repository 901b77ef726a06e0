// Static routes as a RIB source: IPv4 and IPv6 prefixes with one or more next hops (an address,
// optionally an interface, which IPv6 link-local next hops need, and a weight), each route with an
// optional administrative distance that overrides the static default (rib/types.ts
// DEFAULT_DISTANCES). BGP redistribution hears them through the RIB's best-path changes.
//
// A route with its own distance is a path of the source `static:<distance>`; the others are paths
// of `static`. Replacing the table applies only the difference.

import { formatNextHop, type NextHop } from '../../rib/types.js';
import { formatPrefix, type Prefix } from '../../wire/ip/index.js';
import type { Rib } from '../../rib/rib.js';
import { routeKey } from '../bgp/adj-rib.js';

// ===== Routes =====

/** One static route. */
export interface StaticRoute {
  readonly prefix: Prefix;
  readonly nexthops: readonly NextHop[];
  /** Administrative distance; the static default (1) when absent. */
  readonly distance?: number;
}

/** The RIB source id for a distance. */
export function staticSourceId(distance: number | undefined): string {
  return distance === undefined ? 'static' : `static:${distance}`;
}

/** Text identity of a route's content (prefix excluded), to skip rewriting unchanged routes. */
function contentKey(r: StaticRoute): string {
  return `${r.distance ?? '-'}|${r.nexthops.map(formatNextHop).join(',')}`;
}

// ===== The table =====

/** The static route table, mirrored into the RIB. */
export class StaticRoutes {
  private readonly routes = new Map<number | string, StaticRoute>();
  private readonly sources = new Set<string>();

  constructor(private readonly rib: Rib) {}

  /** Every route, in insertion order. */
  list(): StaticRoute[] {
    return [...this.routes.values()];
  }

  /** Add or replace the route for a prefix. */
  add(r: StaticRoute): void {
    const k = routeKey(r.prefix);
    const old = this.routes.get(k);
    if (old !== undefined && contentKey(old) === contentKey(r)) return;
    this.rib.batch(() => {
      const src = this.source(r.distance);
      if (old !== undefined && staticSourceId(old.distance) !== src)
        this.rib.removePath(old.prefix, staticSourceId(old.distance));
      this.rib.addPath(r.prefix, { source: src, nexthops: r.nexthops });
    });
    this.routes.set(k, r);
  }

  /** Remove the route for a prefix; false when there was none. */
  remove(prefix: Prefix): boolean {
    const k = routeKey(prefix);
    const old = this.routes.get(k);
    if (old === undefined) return false;
    this.rib.removePath(old.prefix, staticSourceId(old.distance));
    this.routes.delete(k);
    return true;
  }

  /** Replace the whole table, touching only routes that differ. */
  set(routes: readonly StaticRoute[]): void {
    const want = new Map<number | string, StaticRoute>();
    for (const r of routes) {
      const k = routeKey(r.prefix);
      if (want.has(k)) throw new Error(`static route ${formatPrefix(r.prefix)} listed twice`);
      want.set(k, r);
    }
    this.rib.batch(() => {
      for (const [k, r] of [...this.routes]) if (!want.has(k)) this.remove(r.prefix);
      for (const r of want.values()) this.add(r);
    });
  }

  /** Register the RIB source for a distance on first use. */
  private source(distance: number | undefined): string {
    const id = staticSourceId(distance);
    if (!this.sources.has(id)) {
      this.rib.addSource({
        id,
        kind: 'static',
        ...(distance !== undefined ? { distance } : {}),
      });
      this.sources.add(id);
    }
    return id;
  }
}
