// Kernel routes as data: parses `ip -j route` output (IPv4 and IPv6, single and multipath next hops
// with weights, protocol, metric, nexthop-object ids) into one normalised shape.

// ===== Types =====

/** One next hop of a kernel route. */
export interface KernelNexthop {
  /** Gateway address; absent for directly connected routes. */
  readonly gateway?: string;
  readonly dev?: string;
  /** Multipath weight (1 for a single-path route). */
  readonly weight: number;
}

/** One kernel route. */
export interface KernelRoute {
  readonly family: 4 | 6;
  /** Destination with its length, always: `0.0.0.0/0`, `10.0.0.1/32`, `fd00::/64`. */
  readonly dst: string;
  /** Route type: unicast, blackhole, unreachable, prohibit, local, ... */
  readonly type: string;
  /** Protocol as `ip` names it (kernel, static, boot, bgp, ...) or its number as a string; when the query
   * filtered on a protocol, the query's value as a string. */
  readonly proto: string;
  readonly metric: number;
  /** Table name or number when not main. */
  readonly table?: string;
  /** Nexthop object id when the route uses one. */
  readonly nhid?: number;
  readonly nexthops: readonly KernelNexthop[];
}

/** Filters for reading routes. */
export interface RouteQuery {
  readonly family: 4 | 6;
  /** Only routes of this protocol (name or number). */
  readonly proto?: string | number;
  /** Routing table (default main). */
  readonly table?: string | number;
}

// ===== Parsing =====

interface IpJsonNexthop {
  gateway?: string;
  via?: { family?: string; host?: string };
  dev?: string;
  weight?: number;
}

interface IpJsonRoute extends IpJsonNexthop {
  type?: string;
  dst?: string;
  protocol?: string;
  metric?: number;
  table?: string;
  nhid?: number;
  nexthops?: IpJsonNexthop[];
}

/** The argv (without the namespace prefix) that lists routes for a query. */
export function routeArgv(q: RouteQuery): string[] {
  const argv = ['ip', '-j', `-${q.family}`, 'route', 'show'];
  if (q.table !== undefined) argv.push('table', String(q.table));
  if (q.proto !== undefined) argv.push('proto', String(q.proto));
  return argv;
}

/** Parse the output of routeArgv(q) (`ip -j -4|-6 route show ...`). */
export function parseIpRoutes(json: string, q: RouteQuery): KernelRoute[] {
  const family = q.family;
  const text = json.trim();
  if (text === '') return [];
  const raw = JSON.parse(text) as IpJsonRoute[];
  return raw.map((r) => {
    const nexthops = (r.nexthops ?? [r]).filter((n) => n.dev !== undefined || gatewayOf(n) !== undefined);
    return {
      family,
      dst: normaliseDst(r.dst ?? 'default', family),
      type: r.type ?? 'unicast',
      // ip leaves out the protocol when it was filtered on.
      proto: r.protocol ?? (q.proto !== undefined ? String(q.proto) : 'boot'),
      metric: r.metric ?? 0,
      ...(r.table !== undefined && r.table !== 'main' ? { table: r.table } : {}),
      ...(r.nhid !== undefined ? { nhid: r.nhid } : {}),
      nexthops: nexthops.map((n) => {
        const gw = gatewayOf(n);
        return {
          ...(gw !== undefined ? { gateway: gw } : {}),
          ...(n.dev !== undefined ? { dev: n.dev } : {}),
          weight: n.weight ?? 1,
        };
      }),
    };
  });
}

function gatewayOf(n: IpJsonNexthop): string | undefined {
  return n.gateway ?? n.via?.host;
}

function normaliseDst(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  if (dst.includes('/')) return dst;
  return `${dst}/${family === 4 ? 32 : 128}`;
}
