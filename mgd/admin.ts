// The mgd admin API (served with `--admin-port`, 127.0.0.1 unless `--admin-host` says otherwise):
// read-only views of the BGP neighbours, the selected routes of the RIB per family (paginated,
// for full tables), the lower half, and Prometheus metrics. Built on the admin server both
// daemons share (lib/admin.ts: loopback or bearer token, error catalogue, TypeBox schemas); the
// document openapi/mgd.json is generated from these routes (`mgd --write-openapi FILE`).
//
//   GET /neighbors        every neighbour of every router: FSM state, the last transition and its
//                         reason (RFC 4271 §8 events; NOTIFICATION code/subcode by name), the
//                         negotiated capabilities, message counters, per-family prefix counts
//   GET /rib/ipv4, /rib/ipv6
//                         selected routes in (address, length) order: forwarding next hops and the
//                         best path's source and attributes (RFC 4271 §5.1, RFC 1997, RFC 8092)
//                         ?limit=N&after=CIDR pages through the table; ?prefix=CIDR is one prefix
//   GET /fib              the forwarding-table backend and what the lower half reports: grace
//                         period, counters, refused routes with their retries
//   GET /metrics          Prometheus text (mgd/metrics.ts); not part of the OpenAPI document
//
// Paging without a snapshot: a page is the `limit` selected prefixes that sort after `after`,
// found in one pass over the family's table (a callback walk, no generator) with a bounded max-heap (O(n log limit) per page, no
// copy of the table). Prefixes added or removed between pages are seen or missed according to
// where they sort; none is returned twice.

import { isIP } from 'node:net';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { realClock, type Clock } from '../lib/clock.js';
import { ADMIN_ERRORS, AdminServer, errorFactory, type AdminOptions, type FormatSpec } from '../lib/admin.js';
import { METRICS_CONTENT_TYPE } from '../lib/metrics.js';
import { documented, type OpenApiDocument } from '../lib/openapi.js';
import type { Entry, Path } from '../rib/rib.js';
import { formatNextHopAddr, type Afi, type NextHop } from '../rib/types.js';
import type { Attrs } from '../rib/intern.js';
import { formatAsPath } from '../wire/bgp/aspath.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST, describeError } from '../wire/bgp/constants.js';
import { attributesToJson } from '../wire/bgp/json.js';
import {
  comparePrefix6,
  formatAddr4,
  formatPrefix4,
  formatPrefix6,
  parsePrefix4,
  parsePrefix6,
  type Prefix4,
  type Prefix6,
} from '../wire/ip/index.js';
import type { TransitionReason } from './bgp/fsm.js';
import type { NeighborStatus } from './bgp/speaker.js';
import { validateConfig } from './config/load.js';
import { EMBEDDED_DEFAULT_CONFIG } from './config/schema.js';
import { MgdDaemon, OriginSinkFilter } from './daemon.js';
import { mgdMetrics, NEIGHBOR_COUNTERS, snakeCase } from './metrics.js';
import { firstPath, pathCount, prefixOf, selectedCount } from '../rib/entry.js';

// ===== Error catalogue =====

/** mgd's error codes (the admin server adds ADMIN_ERR_*). */
export const MGD_ERRORS = {
  MGD_ERR_BAD_PREFIX: {
    status: 400,
    description: "A prefix is not of the table's family, is not CIDR text, or has host bits set.",
  },
} as const;

const mgdError = errorFactory({ ...ADMIN_ERRORS, ...MGD_ERRORS });

/** Version of the admin API (the OpenAPI `info.version`). */
export const MGD_ADMIN_API_VERSION = '1.0.0';

/** Routes per page when `limit` is not given, and the most a page may ask for. */
export const RIB_PAGE_DEFAULT = 1000;
export const RIB_PAGE_MAX = 10_000;

// ===== Formats =====

function checkPrefix4(v: string): string | undefined {
  if (v.includes(':') && parsePrefix6(v, 'clear').ok)
    return `'${v}' is an IPv6 prefix; IPv6 routes are at /rib/ipv6`;
  const p = parsePrefix4(v, 'reject');
  return p.ok ? undefined : p.error;
}

function checkPrefix6(v: string): string | undefined {
  if (!v.includes(':') && parsePrefix4(v, 'clear').ok)
    return `'${v}' is an IPv4 prefix; IPv4 routes are at /rib/ipv4`;
  const p = parsePrefix6(v, 'reject');
  return p.ok ? undefined : p.error;
}

/** The string formats mgd's schemas use; a bad prefix is reported as MGD_ERR_BAD_PREFIX. */
export const MGD_FORMATS: Readonly<Record<string, FormatSpec>> = {
  'ipv4-prefix': { check: checkPrefix4, code: 'MGD_ERR_BAD_PREFIX' },
  'ipv6-prefix': { check: checkPrefix6, code: 'MGD_ERR_BAD_PREFIX' },
};

// ===== Schemas =====

const Ms = (description: string) => Type.Number({ description });
const OptMs = (description: string) => Type.Optional(Ms(description));
const Count = (description: string) => Type.Integer({ minimum: 0, description });

const ReasonSchema = Type.Object(
  {
    kind: Type.String({
      description:
        'start, admin-stop, auto-stop, tcp-connected, tcp-failed, connect-retry-expired, delay-open-expired, ' +
        'idle-hold-expired, hold-timer-expired, open-received, keepalive-received, notification-received, ' +
        'notification-sent, collision or fsm-error',
    }),
    text: Type.String({ description: 'The reason in words, NOTIFICATION code and subcode by name' }),
    code: Type.Optional(Type.Integer({ description: 'NOTIFICATION error code (RFC 4271 §4.5)' })),
    subcode: Type.Optional(Type.Integer({ description: 'NOTIFICATION error subcode' })),
    error: Type.Optional(Type.String({ description: 'NOTIFICATION code/subcode by name, or the TCP error' })),
    detail: Type.Optional(
      Type.String({
        description: 'Shutdown communication received (RFC 9003), why we sent it, or why the FSM stopped',
      }),
    ),
  },
  { description: 'Why the session changed state' },
);
type ReasonBody = Static<typeof ReasonSchema>;

const TransitionSchema = Type.Object(
  {
    from: Type.String({ description: 'FSM state before' }),
    to: Type.String({ description: 'FSM state after' }),
    at_ms: Ms('Daemon clock (ms) at the transition'),
    ago_ms: Ms('Time since the transition, ms'),
    reason: ReasonSchema,
  },
  { description: 'The last FSM state change' },
);

const SessionSchema = Type.Object(
  {
    peer_bgp_id: Type.String({ description: "The neighbour's BGP identifier" }),
    ibgp: Type.Boolean({ description: 'Internal session (same AS)' }),
    four_octet_as: Type.Boolean({ description: 'Both sides support 4-octet AS numbers (RFC 6793)' }),
    families: Type.Array(Type.String(), { description: 'Negotiated address families (RFC 4760)' }),
    route_refresh: Type.Boolean({ description: 'Route refresh (RFC 2918)' }),
    enhanced_route_refresh: Type.Boolean({ description: 'Enhanced route refresh (RFC 7313)' }),
    extended_message: Type.Boolean({ description: 'Extended messages (RFC 8654)' }),
    graceful_restart: Type.Boolean({ description: 'Graceful restart (RFC 4724)' }),
    add_path_rx: Type.Array(Type.String(), {
      description: 'Families we receive several paths in (RFC 7911)',
    }),
    add_path_tx: Type.Array(Type.String(), { description: 'Families we send several paths in (RFC 7911)' }),
  },
  { description: 'What the OPEN exchange negotiated' },
);

const FamilyCountsSchema = Type.Object({
  family: Type.String({ description: 'Address family, e.g. ipv4-unicast' }),
  received: Count('Prefixes in the Adj-RIB-In'),
  accepted: Count('Prefixes import policy accepted'),
  advertised: Count('Prefixes in the Adj-RIB-Out'),
  stale: Count('Prefixes kept stale while the neighbour restarts (RFC 4724)'),
});

const CountersSchema = Type.Object(
  Object.fromEntries(NEIGHBOR_COUNTERS.map(([key, help]) => [snakeCase(key), Count(help)])),
  { description: 'Message and import counters since the daemon started' },
);

const NeighborSchema = Type.Object(
  {
    router: Type.Integer({ description: 'Local AS of the router this neighbour belongs to' }),
    address: Type.String({ description: "The neighbour's address (with %interface when link-local)" }),
    remote_asn: Type.Integer({ description: "The neighbour's AS" }),
    description: Type.Optional(Type.String()),
    state: Type.String({
      description: 'FSM state: Idle, Connect, Active, OpenSent, OpenConfirm or Established',
    }),
    last_transition: Type.Optional(TransitionSchema),
    last_error: Type.Optional(Type.String({ description: 'The last error the session met' })),
    established_at_ms: OptMs('Daemon clock (ms) when the session last reached Established'),
    uptime_ms: OptMs('Time in Established, ms (only while established)'),
    session: Type.Optional(SessionSchema),
    counters: CountersSchema,
    families: Type.Array(FamilyCountsSchema, { description: 'Prefix counts per configured family' }),
    max_prefix_restart_at_ms: OptMs(
      'Daemon clock (ms) at which a session closed for too many prefixes restarts',
    ),
    graceful_restart_until_ms: OptMs("Daemon clock (ms) until which the neighbour's stale routes are kept"),
  },
  { description: 'One BGP neighbour' },
);
type NeighborBody = Static<typeof NeighborSchema>;

const NextHopSchema = Type.Object({
  address: Type.String({ description: 'Next-hop address' }),
  ifname: Type.Optional(Type.String({ description: 'Outgoing interface (link-local next hops)' })),
  weight: Type.Optional(Type.Integer({ minimum: 1, description: 'Multipath weight when not 1' })),
});

const BestPathSchema = Type.Object(
  {
    source: Type.String({ description: 'Route source, e.g. bgp:10.0.0.2 or static' }),
    protocol: Type.String({ description: 'connected, static, bgp or ddm' }),
    ebgp: Type.Optional(Type.Boolean({ description: 'BGP: learned from an external neighbour' })),
    path_id: Type.Optional(Type.Integer({ minimum: 1, description: 'ADD-PATH identifier (RFC 7911)' })),
    next_hops: Type.Array(NextHopSchema, { description: "The path's own next hops" }),
    as_path: Type.String({ description: 'AS_PATH as text ({a,b} for an AS_SET); empty for a local route' }),
    origin: Type.Optional(
      Type.Union([Type.Literal('igp'), Type.Literal('egp'), Type.Literal('incomplete')], {
        description: 'ORIGIN',
      }),
    ),
    local_pref: Type.Optional(Type.Integer({ description: 'LOCAL_PREF' })),
    med: Type.Optional(Type.Integer({ description: 'MULTI_EXIT_DISC' })),
    communities: Type.Array(Type.String(), { description: 'Communities as asn:value (RFC 1997)' }),
    large_communities: Type.Array(Type.String(), { description: 'Large communities as a:b:c (RFC 8092)' }),
  },
  { description: 'The best path' },
);
type BestPathBody = Static<typeof BestPathSchema>;

const RouteSchema = Type.Object(
  {
    prefix: Type.String({ description: 'The prefix in CIDR' }),
    next_hops: Type.Array(NextHopSchema, { description: 'Forwarding next hops of the selected paths' }),
    selected_paths: Count('Paths selected (more than one with multipath)'),
    paths: Count('Paths known for the prefix, selected or not'),
    best: BestPathSchema,
  },
  { description: 'A selected route' },
);
type RouteBody = Static<typeof RouteSchema>;

const RibPage = Type.Object(
  {
    family: Type.Union([Type.Literal('ipv4'), Type.Literal('ipv6')]),
    routes: Type.Array(RouteSchema, { description: 'Selected routes in (address, length) order' }),
    selected_total: Type.Optional(
      Count('Selected routes in the family when the page was read (absent for ?prefix=)'),
    ),
    next_after: Type.Optional(
      Type.String({ description: 'Pass as ?after= for the next page; absent on the last page' }),
    ),
  },
  { description: 'A page of selected routes' },
);
type RibPage = Static<typeof RibPage>;

const LIMIT_PATTERN = `^(?:[1-9][0-9]{0,3}|${RIB_PAGE_MAX})$`;

function ribQuery(family: 4 | 6) {
  const format = family === 4 ? 'ipv4-prefix' : 'ipv6-prefix';
  const example = family === 4 ? '192.0.2.0/24' : '2001:db8::/32';
  return Type.Object(
    {
      limit: Type.Optional(
        Type.String({
          pattern: LIMIT_PATTERN,
          expected: `a whole number from 1 to ${RIB_PAGE_MAX}`,
          description: `Routes per page (default ${RIB_PAGE_DEFAULT}, at most ${RIB_PAGE_MAX})`,
        }),
      ),
      after: Type.Optional(
        Type.String({
          format,
          expected: `an IPv${family} prefix such as ${example}`,
          description: "Start after this prefix: the previous page's next_after",
        }),
      ),
      prefix: Type.Optional(
        Type.String({
          format,
          expected: `an IPv${family} prefix such as ${example}`,
          description: 'Only this prefix (exact match)',
        }),
      ),
    },
    { additionalProperties: false },
  );
}
type RibQuery = Static<ReturnType<typeof ribQuery>>;

const FibCountersSchema = Type.Object({
  installed: Count('Route installs and replacements the table accepted'),
  removed: Count('Route removals the table accepted'),
  refused: Count('Route operations the table refused'),
  repaired: Count('Routes the periodic scan found wrong and put right'),
  scans: Count('Full comparisons of the table with the RIB'),
  batches: Count('Batches of operations sent to the table'),
  adopted: Count('Routes left by a previous run kept through the start-up grace period'),
});

const FibErrorSchema = Type.Object({
  prefix: Type.String(),
  op: Type.String({ description: 'The operation the table refused' }),
  error: Type.String({ description: 'What the table said' }),
  attempts: Count('Attempts so far'),
  since: Type.String({ description: 'When it first failed (ISO 8601)' }),
  next_retry: Type.String({ description: 'When it is tried again (ISO 8601)' }),
});

const FibResponse = Type.Object(
  {
    backend: Type.String({ description: 'linux, memory, or none (routes are selected, not installed)' }),
    grace_period: Type.Optional(
      Type.Boolean({ description: 'In the start-up grace period: routes of the previous run are kept' }),
    ),
    held_routes: Type.Optional(
      Count('Originated prefixes held back from the table (announced, not forwarded)'),
    ),
    counters: Type.Optional(FibCountersSchema),
    errors: Type.Optional(
      Type.Array(FibErrorSchema, { description: 'Routes the table refuses, retried with backoff' }),
    ),
  },
  { description: 'The lower half' },
);
type FibResponse = Static<typeof FibResponse>;

const ok = (schema: TSchema, description: string): Record<string, TSchema> => ({
  200: { ...schema, description },
});

// ===== Conversions =====

/** Name of an AFI/SAFI key (afi * 256 + safi). */
export function familyName(k: number): string {
  if (k === AFISAFI_IPV4_UNICAST) return 'ipv4-unicast';
  if (k === AFISAFI_IPV6_UNICAST) return 'ipv6-unicast';
  return `afi ${k >>> 8} safi ${k & 255}`;
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}

/** A transition reason as structured data plus one line of text. */
export function reasonBody(r: TransitionReason): ReasonBody {
  switch (r.kind) {
    case 'start':
      return { kind: r.kind, text: 'started' };
    case 'admin-stop':
      return { kind: r.kind, text: 'stopped by the administrator' };
    case 'auto-stop':
      return { kind: r.kind, text: `stopped automatically: ${r.why}`, detail: r.why };
    case 'tcp-connected':
      return { kind: r.kind, text: 'TCP connection established' };
    case 'tcp-failed':
      return {
        kind: r.kind,
        text: r.error !== undefined ? `TCP connection failed: ${r.error}` : 'TCP connection failed',
        ...(r.error !== undefined ? { error: r.error } : {}),
      };
    case 'connect-retry-expired':
      return { kind: r.kind, text: 'ConnectRetry timer expired' };
    case 'delay-open-expired':
      return { kind: r.kind, text: 'DelayOpen timer expired' };
    case 'idle-hold-expired':
      return { kind: r.kind, text: 'IdleHold timer expired' };
    case 'hold-timer-expired':
      return { kind: r.kind, text: 'hold timer expired' };
    case 'open-received':
      return { kind: r.kind, text: 'OPEN received' };
    case 'keepalive-received':
      return { kind: r.kind, text: 'KEEPALIVE received' };
    case 'notification-received': {
      const name = describeError(r.code, r.subcode);
      return {
        kind: r.kind,
        text: `NOTIFICATION received: ${name}${r.text !== undefined ? ` "${r.text}"` : ''}`,
        code: r.code,
        subcode: r.subcode,
        error: name,
        ...(r.text !== undefined ? { detail: r.text } : {}),
      };
    }
    case 'notification-sent': {
      const name = describeError(r.code, r.subcode);
      return {
        kind: r.kind,
        text: `NOTIFICATION sent: ${name} (${r.why})`,
        code: r.code,
        subcode: r.subcode,
        error: name,
        detail: r.why,
      };
    }
    case 'collision':
      return { kind: r.kind, text: 'connection collision resolved (RFC 4271 §6.8)' };
    case 'fsm-error':
      return { kind: r.kind, text: `FSM error: unexpected ${r.event}`, detail: r.event };
    default:
      return assertNever(r);
  }
}

function neighborBody(n: NeighborStatus & { router: number }, now: number): NeighborBody {
  const t = n.lastTransition;
  const s = n.session;
  const counters = n.counters as unknown as Readonly<Record<string, number>>;
  const upSince = n.state === 'Established' ? n.establishedAt : undefined;
  return {
    router: n.router,
    address: n.address,
    remote_asn: n.remoteAsn,
    ...(n.description !== undefined ? { description: n.description } : {}),
    state: n.state,
    ...(t !== undefined
      ? {
          last_transition: {
            from: t.from,
            to: t.to,
            at_ms: t.at,
            ago_ms: Math.max(0, now - t.at),
            reason: reasonBody(t.reason),
          },
        }
      : {}),
    ...(n.lastError !== undefined ? { last_error: n.lastError } : {}),
    ...(n.establishedAt !== undefined ? { established_at_ms: n.establishedAt } : {}),
    ...(upSince !== undefined ? { uptime_ms: Math.max(0, now - upSince) } : {}),
    ...(s !== undefined
      ? {
          session: {
            peer_bgp_id: formatAddr4(s.peerBgpId),
            ibgp: s.ibgp,
            four_octet_as: s.fourOctetAs,
            families: s.families.map(familyName),
            route_refresh: s.routeRefresh,
            enhanced_route_refresh: s.enhancedRouteRefresh,
            extended_message: s.extendedMessage,
            graceful_restart: s.gracefulRestart,
            add_path_rx: s.addPathRx.map(familyName),
            add_path_tx: s.addPathTx.map(familyName),
          },
        }
      : {}),
    counters: Object.fromEntries(NEIGHBOR_COUNTERS.map(([key]) => [snakeCase(key), counters[key] ?? 0])),
    families: Object.entries(n.families)
      .map(([family, c]) => ({ family, ...c }))
      .sort((a, b) => cmp(a.family, b.family)),
    ...(n.maxPrefixRestartAt !== undefined ? { max_prefix_restart_at_ms: n.maxPrefixRestartAt } : {}),
    ...(n.gracefulRestartUntil !== undefined ? { graceful_restart_until_ms: n.gracefulRestartUntil } : {}),
  };
}

function hopBody(h: NextHop): Static<typeof NextHopSchema> {
  return {
    address: formatNextHopAddr(h),
    ...(h.ifname !== undefined ? { ifname: h.ifname } : {}),
    ...(h.weight !== undefined && h.weight !== 1 ? { weight: h.weight } : {}),
  };
}

/** The attribute part of a best path; computed once per interned set and request. */
type AttrPart = Pick<
  BestPathBody,
  'as_path' | 'origin' | 'local_pref' | 'med' | 'communities' | 'large_communities'
>;

function attrPart(a: Attrs): AttrPart {
  const attrs = a.attrs;
  // The JSON rendering of wire/bgp/json.ts gives the text of origin and communities.
  const j = attributesToJson({
    ...(attrs.origin !== undefined ? { origin: attrs.origin } : {}),
    ...(attrs.communities !== undefined ? { communities: attrs.communities } : {}),
    ...(attrs.largeCommunities !== undefined ? { largeCommunities: attrs.largeCommunities } : {}),
  });
  return {
    as_path: attrs.asPath !== undefined ? formatAsPath(attrs.asPath) : '',
    ...(typeof j.origin === 'string' ? { origin: j.origin as 'igp' | 'egp' | 'incomplete' } : {}),
    ...(attrs.localPref !== undefined ? { local_pref: attrs.localPref } : {}),
    ...(attrs.med !== undefined ? { med: attrs.med } : {}),
    communities: (j.communities as string[] | undefined) ?? [],
    large_communities: (j.largeCommunities as string[] | undefined) ?? [],
  };
}

function routeBody(e: Entry, text: string, attrCache: Map<Attrs, AttrPart>): RouteBody {
  const best = firstPath(e) as Path;
  let part = attrCache.get(best.attrs);
  if (part === undefined) {
    part = attrPart(best.attrs);
    attrCache.set(best.attrs, part);
  }
  const src = best.source;
  return {
    prefix: text,
    next_hops: e.hops.map(hopBody),
    selected_paths: selectedCount(e),
    paths: pathCount(e),
    best: {
      source: src.id,
      protocol: src.kind,
      ...(src.kind === 'bgp' ? { ebgp: src.ebgp } : {}),
      ...(best.pathId !== 0 ? { path_id: best.pathId } : {}),
      next_hops: best.nh.hops.map(hopBody),
      ...part,
    },
  };
}

// ===== Paging =====

/**
 * The `limit` smallest keys above `after` among the selected entries, in order, with the number
 * of selected entries and whether more follow. One pass; a max-heap holds the page so far.
 */
export function selectPage<K>(
  forEach: (fn: (e: Entry) => void) => void,
  keyOf: (e: Entry) => K,
  compare: (a: K, b: K) => number,
  after: K | undefined,
  limit: number,
): { page: { key: K; entry: Entry }[]; total: number; more: boolean } {
  const keys: K[] = [];
  const ents: Entry[] = [];
  let total = 0;
  let candidates = 0;
  const swap = (i: number, j: number) => {
    const k = keys[i]!;
    keys[i] = keys[j]!;
    keys[j] = k;
    const e = ents[i]!;
    ents[i] = ents[j]!;
    ents[j] = e;
  };
  forEach((e) => {
    if (selectedCount(e) === 0) return;
    total++;
    const k = keyOf(e);
    if (after !== undefined && compare(k, after) <= 0) return;
    candidates++;
    if (keys.length < limit) {
      // Sift up.
      keys.push(k);
      ents.push(e);
      let i = keys.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (compare(keys[p]!, keys[i]!) >= 0) break;
        swap(i, p);
        i = p;
      }
      return;
    }
    if (compare(k, keys[0]!) >= 0) return;
    // Replace the largest and sift down.
    keys[0] = k;
    ents[0] = e;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < keys.length && compare(keys[l]!, keys[m]!) > 0) m = l;
      if (r < keys.length && compare(keys[r]!, keys[m]!) > 0) m = r;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
  });
  const page = keys.map((key, i) => ({ key, entry: ents[i]! })).sort((a, b) => compare(a.key, b.key));
  return { page, total, more: candidates > limit };
}

const comparePrefix4 = (a: Prefix4, b: Prefix4): number => a - b;

// ===== Routes =====

export interface MgdAdminOptions extends Omit<AdminOptions, 'errors' | 'formats'> {
  /** The daemon's clock, for durations (real monotonic time by default). */
  readonly clock?: Clock;
}

/** The admin server for a started daemon, with every route registered (not yet listening). */
export function createMgdAdmin(d: MgdDaemon, opts: MgdAdminOptions): AdminServer {
  const server = new AdminServer({ ...opts, errors: MGD_ERRORS, formats: MGD_FORMATS });
  const app = server.app;
  const clock = opts.clock ?? realClock;
  const metrics = mgdMetrics(d, opts.log);

  app.get(
    '/neighbors',
    {
      schema: documented({
        operationId: 'get_neighbors',
        summary: 'BGP neighbours of every router: state, last transition and reason, capabilities, counters',
        tags: ['bgp'],
        response: ok(Type.Array(NeighborSchema), 'Sorted by router, then address'),
      }),
    },
    () => {
      const now = clock.now();
      return d
        .neighbors()
        .map((n) => neighborBody(n, now))
        .sort((a, b) => a.router - b.router || cmp(a.address, b.address));
    },
  );

  const ribRoute = (family: 4 | 6) => {
    const name = family === 4 ? 'ipv4' : 'ipv6';
    const Query = ribQuery(family);
    app.get<{ Querystring: RibQuery }>(
      `/rib/${name}`,
      {
        schema: documented({
          operationId: `get_rib_${name}`,
          summary: `Selected IPv${family} routes: next hops and the best path's attributes, a page at a time`,
          description:
            `Routes come in (address, length) order, ${RIB_PAGE_DEFAULT} per page unless ?limit= says ` +
            `otherwise (at most ${RIB_PAGE_MAX}). Pass a page's next_after as ?after= for the next ` +
            'page; the last page has no next_after. ?prefix= returns that prefix alone (no routes when ' +
            'it has no selected route).',
          tags: ['rib'],
          querystring: Query,
          response: ok(RibPage, 'A page of selected routes'),
        }),
      },
      (req): RibPage => ribPage(d, family, req.query),
    );
  };
  ribRoute(4);
  ribRoute(6);

  app.get(
    '/fib',
    {
      schema: documented({
        operationId: 'get_fib',
        summary: 'The forwarding-table backend, its counters and the routes it refuses',
        tags: ['fib'],
        response: ok(FibResponse, 'The lower half'),
      }),
    },
    (): FibResponse => {
      const sync = d.fibSync;
      const fib = d.fib;
      if (sync === undefined || fib === undefined) return { backend: 'none' };
      return {
        backend: fib.name,
        grace_period: sync.inGracePeriod,
        ...(fib instanceof OriginSinkFilter ? { held_routes: fib.heldRoutes } : {}),
        counters: { ...sync.counters },
        errors: sync.errors().map((e) => ({
          prefix: e.prefix,
          op: e.op,
          error: e.error,
          attempts: e.attempts,
          since: new Date(e.since).toISOString(),
          next_retry: new Date(e.nextRetry).toISOString(),
        })),
      };
    },
  );

  app.get(
    '/metrics',
    {
      // Prometheus text, not JSON: left out of the OpenAPI document.
      schema: documented({ hide: true, summary: 'Prometheus metrics (text format 0.0.4)' }),
    },
    (_req, reply) => {
      void reply.type(METRICS_CONTENT_TYPE);
      return metrics.render();
    },
  );

  return server;
}

/** One page (or one prefix) of a family's selected routes. */
function ribPage(d: MgdDaemon, family: 4 | 6, q: RibQuery): RibPage {
  const name = family === 4 ? 'ipv4' : 'ipv6';
  const attrCache = new Map<Attrs, AttrPart>();
  if (q.prefix !== undefined) {
    for (const k of ['after', 'limit'] as const) {
      if (q[k] !== undefined)
        throw mgdError(
          'ADMIN_ERR_VALIDATION',
          `query.${k}: cannot be combined with query.prefix (?prefix= returns one prefix; page with ?limit= and ?after=)`,
        );
    }
    const p = parseFamilyPrefix(family, q.prefix, 'query.prefix');
    const e = d.rib.entry(p);
    const routes =
      e !== undefined && selectedCount(e) > 0 ? [routeBody(e, formatFamilyPrefix(family, p), attrCache)] : [];
    return { family: name, routes };
  }
  const limit = q.limit !== undefined ? Number(q.limit) : RIB_PAGE_DEFAULT;
  const afi: Afi = family;
  let page: { key: Prefix4 | Prefix6; entry: Entry }[];
  let total: number;
  let more: boolean;
  if (family === 4) {
    const after =
      q.after !== undefined ? (parseFamilyPrefix(4, q.after, 'query.after') as Prefix4) : undefined;
    ({ page, total, more } = selectPage(
      (fn) => d.rib.forEachEntryOf(afi, fn),
      (e) => prefixOf(e) as Prefix4,
      comparePrefix4,
      after,
      limit,
    ));
  } else {
    const after =
      q.after !== undefined ? (parseFamilyPrefix(6, q.after, 'query.after') as Prefix6) : undefined;
    ({ page, total, more } = selectPage(
      (fn) => d.rib.forEachEntryOf(afi, fn),
      (e) => prefixOf(e) as Prefix6,
      comparePrefix6,
      after,
      limit,
    ));
  }
  const routes = page.map(({ key, entry }) => routeBody(entry, formatFamilyPrefix(family, key), attrCache));
  const last = routes[routes.length - 1];
  return {
    family: name,
    routes,
    selected_total: total,
    ...(more && last !== undefined ? { next_after: last.prefix } : {}),
  };
}

function parseFamilyPrefix(family: 4 | 6, text: string, field: string): Prefix4 | Prefix6 {
  // The schema's format already checked it; this is the conversion.
  const p = family === 4 ? parsePrefix4(text, 'reject') : parsePrefix6(text, 'reject');
  if (!p.ok) throw mgdError('MGD_ERR_BAD_PREFIX', `${field}: ${p.error}`);
  return p.value;
}

function formatFamilyPrefix(family: 4 | 6, p: Prefix4 | Prefix6): string {
  return family === 4 ? formatPrefix4(p as Prefix4) : formatPrefix6(p as Prefix6);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ===== Host check =====

/** True for text `--admin-host` accepts: an IPv4 or IPv6 address, or `localhost`. */
export function isAdminHost(host: string): boolean {
  return host === 'localhost' || isIP(host) !== 0;
}

// ===== OpenAPI =====

/** The OpenAPI document of the admin API, built from the real routes. */
export function mgdOpenApi(): OpenApiDocument {
  // A daemon that is never started: route registration needs only the schemas.
  const cfg = validateConfig(EMBEDDED_DEFAULT_CONFIG);
  if (!cfg.ok) throw new Error('the embedded default configuration is invalid');
  const d = new MgdDaemon({ config: cfg.value });
  const clock = { now: () => 0, setTimer: () => ({ cancel: () => undefined }) };
  const server = createMgdAdmin(d, { host: '127.0.0.1', port: 0, clock });
  return server.openapi({
    title: 'mgd admin API',
    version: MGD_ADMIN_API_VERSION,
    description:
      'Read-only administration of mgd, the BGP, static routing and RIB daemon: neighbours, selected routes ' +
      'per family (paginated), and the forwarding-table lower half. Prometheus metrics are served at ' +
      'GET /metrics in the text format, outside this document.',
  });
}
