// The ddmd admin API (default 127.0.0.1:8000), close to Maghemite's ddm-admin (ddm-admin 2.0.0:
// /peers, /originated, /prefixes, /prefix, /tunnel_endpoint(s), /sync) with our additions: RTT
// statistics per peer, next hops with delay and weight per destination, and the routes the
// kernel refused (/fib/errors). The document openapi/ddmd.json is generated from these routes.
//
// Differences from Maghemite, on purpose:
// - DELETE /peers/{ifname} names the interface (one neighbour per point-to-point link) rather
//   than the neighbour's address.
// - PUT/DELETE /prefix take `{prefixes: ["fd00:1::/64", …]}` (CIDR text) and answer which
//   prefixes changed; PUT/DELETE /tunnel_endpoint take `{endpoints: [TunnelOrigin, …]}`.
// - Prefixes with host bits set are refused (Maghemite clears them silently).

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { realClock, type Clock } from '../lib/clock.js';
import { AdminServer, errorFactory, type AdminOptions, type FormatSpec } from '../lib/admin.js';
import { documented, type OpenApiDocument } from '../lib/openapi.js';
import { destinationToPrefix6, DdmTunnelOriginSchema, type DdmTunnelOrigin } from '../wire/ddm/exchange.js';
import {
  formatAddr4,
  formatAddr6,
  formatPrefix6,
  parseAddr4,
  parseAddr6,
  parsePrefix4,
  parsePrefix6,
  type Prefix6,
} from '../wire/ip/index.js';
import { DdmDaemon } from './daemon.js';
import { MemoryFabric } from './io.js';

// ===== Error catalogue =====

/** ddmd's error codes (the admin server adds ADMIN_ERR_*). */
export const DDM_ERRORS = {
  DDM_ERR_BAD_PREFIX: {
    status: 400,
    description: 'A prefix is not an IPv6 prefix, or has host bits set below its length.',
  },
  DDM_ERR_NO_SUCH_INTERFACE: { status: 404, description: 'ddmd does not run on the named interface.' },
} as const;

const ddmError = errorFactory(DDM_ERRORS);

/** Version of the admin API (the OpenAPI `info.version`). */
export const DDM_ADMIN_API_VERSION = '1.0.0';

// ===== Formats =====

function checkPrefix6(v: string): string | undefined {
  const p = parsePrefix6(v, 'reject');
  return p.ok ? undefined : p.error;
}

/** The string formats ddmd's schemas use; a bad prefix is reported as DDM_ERR_BAD_PREFIX. */
export const DDM_FORMATS: Readonly<Record<string, FormatSpec>> = {
  'ipv6-prefix': { check: checkPrefix6, code: 'DDM_ERR_BAD_PREFIX' },
  ipv6: { check: (v) => (parseAddr6(v).ok ? undefined : `'${v}' is not an IPv6 address`) },
  ipv4: { check: (v) => (parseAddr4(v).ok ? undefined : `'${v}' is not an IPv4 address`) },
};

// ===== Schemas =====

const Prefix6Text = Type.String({ format: 'ipv6-prefix', expected: 'an IPv6 prefix such as fd00:1::/64' });
const Us = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));
const RoleSchema = Type.Union([Type.Literal('server'), Type.Literal('transit')], {
  description: 'Router kind: server (sled) or transit (switch)',
});

const IfnameParams = Type.Object(
  {
    ifname: Type.String({
      minLength: 1,
      maxLength: 15,
      expected: 'an interface name such as eth0',
      description: 'Interface the neighbour is on',
    }),
  },
  { additionalProperties: false },
);
type IfnameParams = Static<typeof IfnameParams>;

const RttSchema = Type.Object(
  {
    srtt_us: Us('Smoothed round-trip time (RFC 6298 gains), µs'),
    min_us: Us('Minimum round-trip time over the recent window, µs'),
    jitter_us: Us('Smoothed deviation of the round-trip time, µs'),
    last_us: Us('Most recent round-trip time, µs'),
    loss: Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of recent probes unanswered' }),
    sent: Type.Integer({ minimum: 0, description: 'Probes sent' }),
    received: Type.Integer({ minimum: 0, description: 'Probe replies received' }),
    lost: Type.Integer({ minimum: 0, description: 'Probes that timed out' }),
    consecutive_lost: Type.Integer({ minimum: 0, description: 'Probes lost in a row right now' }),
    alive: Type.Boolean({ description: 'Whether the probes say the link works' }),
  },
  { description: 'Delay probe statistics of the link' },
);

const PeerSchema = Type.Object(
  {
    ifname: Type.String({ description: 'Interface' }),
    state: Type.Union([Type.Literal('solicit'), Type.Literal('exchange'), Type.Literal('unreachable')], {
      description: 'solicit: no neighbour yet; exchange: routes are exchanged; unreachable: probes are lost',
    }),
    addr: Type.Optional(Type.String({ description: "The neighbour's link-local address" })),
    hostname: Type.Optional(Type.String({ description: "The neighbour's hostname" })),
    kind: Type.Optional(RoleSchema),
    since_ms: Type.Number({ description: 'Daemon clock (ms) at the last state change' }),
    duration_ms: Type.Number({ minimum: 0, description: 'Time in the current state, ms' }),
    reason: Type.String({ description: 'Why the state last changed' }),
    rtt: RttSchema,
  },
  { description: 'The neighbour on one interface' },
);
type PeerBody = Static<typeof PeerSchema>;

const NextHopSchema = Type.Object({
  ifname: Type.String({ description: 'Outgoing interface' }),
  nexthop: Type.String({ description: "The neighbour's link-local address" }),
  hostname: Type.Optional(Type.String({ description: "The neighbour's hostname" })),
  path: Type.Array(Type.String(), {
    description: 'The path vector: the origin first, then each router that passed it on',
  }),
  delay_us: Us('One-way delay to the destination through this next hop, µs'),
  weight: Type.Integer({ minimum: 0, description: 'Current multipath weight' }),
});

const RouteSchema = Type.Object({
  destination: Type.String({ description: 'IPv6 prefix' }),
  next_hops: Type.Array(NextHopSchema),
});

const ImportedPathSchema = Type.Object({
  destination: Type.String({ description: 'IPv6 prefix' }),
  path: Type.Array(Type.String(), { description: 'Path vector as received (origin first)' }),
  delay_us: Us('Delay the neighbour advertised, µs'),
  version: Type.Optional(Type.Integer({ minimum: 0, description: "The origin's announcement version" })),
});

const ImportedPeerSchema = Type.Object({
  ifname: Type.String(),
  hostname: Type.String(),
  addr: Type.String(),
  kind: RoleSchema,
  paths: Type.Array(ImportedPathSchema),
});

const PrefixesResponse = Type.Object(
  {
    routes: Type.Array(RouteSchema, { description: 'Installed routes: every next hop per destination' }),
    imported: Type.Array(ImportedPeerSchema, { description: 'Path vectors imported from each neighbour' }),
  },
  { description: 'Imported routes' },
);

const PrefixesBody = Type.Object(
  {
    prefixes: Type.Array(Prefix6Text, {
      maxItems: 4096,
      expected: 'a list of IPv6 prefixes such as ["fd00:1::/64"]',
    }),
  },
  { additionalProperties: false, expected: 'an object {"prefixes": ["fd00:1::/64", ...]}' },
);
type PrefixesBody = Static<typeof PrefixesBody>;

const PrefixChange = Type.Object(
  { changed: Type.Array(Type.String(), { description: 'Prefixes that were added or removed' }) },
  { description: 'What changed' },
);

const TunnelsBody = Type.Object(
  {
    endpoints: Type.Array(DdmTunnelOriginSchema, {
      maxItems: 4096,
      expected: 'a list of tunnel origins {"overlay_prefix", "boundary_addr", "vni"}',
    }),
  },
  { additionalProperties: false, expected: 'an object {"endpoints": [...]}' },
);
type TunnelsBody = Static<typeof TunnelsBody>;

const TunnelChange = Type.Object(
  {
    changed: Type.Array(DdmTunnelOriginSchema, { description: 'Tunnel origins that were added or removed' }),
  },
  { description: 'What changed' },
);

const ImportedTunnelSchema = Type.Object({
  origin: DdmTunnelOriginSchema,
  ifname: Type.String({ description: 'Interface it was learned on' }),
  nexthop: Type.String({ description: "The neighbour's link-local address" }),
  hostname: Type.String({ description: "The neighbour's hostname" }),
});

const FibErrorSchema = Type.Object({
  prefix: Type.String(),
  op: Type.String({ description: 'The operation the kernel refused' }),
  error: Type.String({ description: 'What the kernel said' }),
  attempts: Type.Integer({ minimum: 0 }),
  since_ms: Type.Number({ description: 'When it first failed (ms)' }),
  next_retry_ms: Type.Number({ description: 'When it is tried again (ms)' }),
});

const SyncResponse = Type.Object({
  peers: Type.Integer({ minimum: 0, description: 'Neighbours pulled from' }),
});

const ExpireResponse = Type.Object({
  ifname: Type.String(),
  previous_state: Type.String({ description: 'State before the neighbour was forgotten' }),
});

const ok = (schema: TSchema, description: string): Record<string, TSchema> => ({
  200: { ...schema, description },
});

// ===== Conversions =====

function peerBody(p: ReturnType<DdmDaemon['peers']>[number], now: number): PeerBody {
  const r = p.rtt;
  const opt = (k: string, v: number | undefined) => (v === undefined ? {} : { [k]: Math.round(v) });
  return {
    ifname: p.ifname,
    state: p.state as PeerBody['state'],
    ...(p.addr !== undefined ? { addr: p.addr } : {}),
    ...(p.hostname !== undefined ? { hostname: p.hostname } : {}),
    ...(p.kind !== undefined ? { kind: p.kind } : {}),
    since_ms: p.since,
    duration_ms: Math.max(0, now - p.since),
    reason: p.reason,
    rtt: {
      ...opt('srtt_us', r.srttUs),
      ...opt('min_us', r.minRttUs),
      ...opt('jitter_us', r.jitterUs),
      ...opt('last_us', r.lastRttUs),
      loss: r.loss,
      sent: r.sent,
      received: r.received,
      lost: r.lost,
      consecutive_lost: r.consecutiveLost,
      alive: r.alive,
    },
  };
}

/** Parse the prefixes of a body (the schema already checked them; this is the conversion). */
function prefixesOf(list: readonly string[]): Prefix6[] {
  return list.map((text, i) => {
    const p = parsePrefix6(text, 'reject');
    if (!p.ok) throw ddmError('DDM_ERR_BAD_PREFIX', `body.prefixes[${i}]: ${p.error}`);
    return p.value;
  });
}

/**
 * A tunnel origin in one canonical form (key order, address text, metric present), because the
 * router identifies tunnel origins by their JSON text. Host bits in the overlay prefix are refused.
 */
function canonicalTunnel(t: DdmTunnelOrigin, field: string): DdmTunnelOrigin {
  const boundary = parseAddr6(t.boundary_addr);
  if (!boundary.ok) throw ddmError('DDM_ERR_BAD_PREFIX', `${field}.boundary_addr: ${boundary.error}`);
  let overlay: DdmTunnelOrigin['overlay_prefix'];
  if ('V6' in t.overlay_prefix) {
    const p = destinationToPrefix6(t.overlay_prefix.V6, 'reject');
    if (!p.ok) throw ddmError('DDM_ERR_BAD_PREFIX', `${field}.overlay_prefix.V6: ${p.error}`);
    overlay = { V6: { addr: formatAddr6(p.value.addr()), len: p.value.len } };
  } else {
    const v4 = t.overlay_prefix.V4;
    const p = parsePrefix4(`${v4.addr}/${v4.len}`, 'reject');
    if (!p.ok) throw ddmError('DDM_ERR_BAD_PREFIX', `${field}.overlay_prefix.V4: ${p.error}`);
    const a = parseAddr4(v4.addr);
    overlay = { V4: { addr: a.ok ? formatAddr4(a.value) : v4.addr, len: v4.len } };
  }
  return {
    overlay_prefix: overlay,
    boundary_addr: formatAddr6(boundary.value),
    vni: t.vni,
    metric: t.metric ?? 0,
  };
}

function destinationText(d: { addr: string; len: number }): string {
  const p = destinationToPrefix6(d);
  return p.ok ? formatPrefix6(p.value) : `${d.addr}/${d.len}`;
}

// ===== Routes =====

export interface DdmAdminOptions extends Omit<AdminOptions, 'errors' | 'formats'> {
  /** The daemon's clock, for durations (real monotonic time by default). */
  readonly clock?: Clock;
}

/** The admin server for one daemon, with every route registered (not yet listening). */
export function createDdmAdmin(d: DdmDaemon, opts: DdmAdminOptions): AdminServer {
  const server = new AdminServer({ ...opts, errors: DDM_ERRORS, formats: DDM_FORMATS });
  const app = server.app;
  const clock = opts.clock ?? realClock;
  const peerTag = ['peers'];
  const routeTag = ['routes'];
  const tunnelTag = ['tunnels'];

  app.get(
    '/peers',
    {
      schema: documented({
        operationId: 'get_peers',
        summary: 'Neighbours per interface with state and delay probe statistics',
        tags: peerTag,
        response: ok(Type.Array(PeerSchema), 'One entry per interface, sorted by name'),
      }),
    },
    () => {
      const now = clock.now();
      return d
        .peers()
        .map((p) => peerBody(p, now))
        .sort((a, b) => (a.ifname < b.ifname ? -1 : a.ifname > b.ifname ? 1 : 0));
    },
  );

  app.delete<{ Params: IfnameParams }>(
    '/peers/:ifname',
    {
      schema: documented({
        operationId: 'expire_peer',
        summary: 'Forget the neighbour on an interface (it is rediscovered)',
        tags: peerTag,
        params: IfnameParams,
        response: ok(ExpireResponse, 'The neighbour was expired'),
      }),
    },
    (req) => {
      const { ifname } = req.params;
      const before = d.peers().find((p) => p.ifname === ifname);
      if (before === undefined || !d.expirePeer(ifname)) {
        const known = d
          .peers()
          .map((p) => p.ifname)
          .sort();
        throw ddmError(
          'DDM_ERR_NO_SUCH_INTERFACE',
          `params.ifname: ddmd does not run on "${ifname}"; its interfaces are ${known.join(', ') || '(none)'}`,
        );
      }
      return { ifname, previous_state: before.state };
    },
  );

  app.get(
    '/originated',
    {
      schema: documented({
        operationId: 'get_originated',
        summary: 'Prefixes this router originates',
        tags: routeTag,
        response: ok(Type.Array(Type.String()), 'IPv6 prefixes, sorted'),
      }),
    },
    () => d.router.originatedPrefixes().map(formatPrefix6).sort(),
  );

  app.put<{ Body: PrefixesBody }>(
    '/prefix',
    {
      schema: documented({
        operationId: 'advertise_prefixes',
        summary: 'Originate prefixes (kept in the state file across restarts)',
        tags: routeTag,
        body: PrefixesBody,
        response: ok(PrefixChange, 'The prefixes that were not originated before'),
      }),
    },
    (req) => ({ changed: d.originate(prefixesOf(req.body.prefixes)).map(formatPrefix6) }),
  );

  app.delete<{ Body: PrefixesBody }>(
    '/prefix',
    {
      schema: documented({
        operationId: 'withdraw_prefixes',
        summary: 'Stop originating prefixes',
        tags: routeTag,
        body: PrefixesBody,
        response: ok(PrefixChange, 'The prefixes that were originated and are now withdrawn'),
      }),
    },
    (req) => ({ changed: d.withdraw(prefixesOf(req.body.prefixes)).map(formatPrefix6) }),
  );

  app.get(
    '/prefixes',
    {
      schema: documented({
        operationId: 'get_prefixes',
        summary: 'Imported routes: next hops with path, delay and weight, and the raw path vectors',
        tags: routeTag,
        response: ok(PrefixesResponse, 'Installed routes and imported path vectors'),
      }),
    },
    () => {
      const imported = d.router.imported();
      const hostOf = new Map(imported.map((x) => [x.peer.id, x.peer.hostname]));
      const routes = d.routes().map((r) => ({
        destination: formatPrefix6(r.prefix),
        next_hops: r.nextHops.map((nh) => {
          const hostname = hostOf.get(nh.peer);
          return {
            ifname: nh.peer,
            nexthop: nh.addr,
            ...(hostname !== undefined ? { hostname } : {}),
            path: [...nh.path],
            ...(nh.delayUs !== undefined ? { delay_us: Math.round(nh.delayUs) } : {}),
            weight: nh.weight,
          };
        }),
      }));
      return {
        routes,
        imported: imported
          .map((x) => ({
            ifname: x.peer.id,
            hostname: x.peer.hostname,
            addr: x.peer.addr,
            kind: x.peer.kind,
            paths: x.paths
              .map((pv) => ({
                destination: destinationText(pv.destination),
                path: pv.path,
                ...(pv.delay !== undefined ? { delay_us: pv.delay } : {}),
                ...(pv.version !== undefined ? { version: pv.version } : {}),
              }))
              .sort((a, b) =>
                cmp(`${a.destination} ${a.path.join(' ')}`, `${b.destination} ${b.path.join(' ')}`),
              ),
          }))
          .sort((a, b) => cmp(a.ifname, b.ifname)),
      };
    },
  );

  app.get(
    '/originated_tunnel_endpoints',
    {
      schema: documented({
        operationId: 'get_originated_tunnel_endpoints',
        summary: 'Tunnel endpoints this router originates',
        tags: tunnelTag,
        response: ok(Type.Array(DdmTunnelOriginSchema), 'Tunnel origins'),
      }),
    },
    () => d.router.originatedTunnelList(),
  );

  app.get(
    '/tunnel_endpoints',
    {
      schema: documented({
        operationId: 'get_tunnel_endpoints',
        summary: 'Tunnel endpoints learned from neighbours',
        tags: tunnelTag,
        response: ok(
          Type.Array(ImportedTunnelSchema),
          'Imported tunnel origins with the neighbour they came from',
        ),
      }),
    },
    () =>
      d.router
        .importedTunnels()
        .flatMap((x) =>
          x.tunnels.map((origin) => ({
            origin,
            ifname: x.peer.id,
            nexthop: x.peer.addr,
            hostname: x.peer.hostname,
          })),
        )
        .sort((a, b) => cmp(a.ifname, b.ifname)),
  );

  const tunnelChange = (body: TunnelsBody, op: 'add' | 'remove'): { changed: DdmTunnelOrigin[] } => {
    const list = body.endpoints.map((t, i) => canonicalTunnel(t, `body.endpoints[${i}]`));
    const before = new Set(d.router.originatedTunnelList().map((t) => JSON.stringify(t)));
    if (op === 'add') d.originateTunnels(list);
    else d.withdrawTunnels(list);
    const after = new Set(d.router.originatedTunnelList().map((t) => JSON.stringify(t)));
    const changed = list.filter((t) => {
      const k = JSON.stringify(t);
      return op === 'add' ? !before.has(k) && after.has(k) : before.has(k) && !after.has(k);
    });
    return { changed };
  };

  app.put<{ Body: TunnelsBody }>(
    '/tunnel_endpoint',
    {
      schema: documented({
        operationId: 'advertise_tunnel_endpoints',
        summary: 'Originate tunnel endpoints (kept in the state file across restarts)',
        tags: tunnelTag,
        body: TunnelsBody,
        response: ok(TunnelChange, 'The tunnel origins that were not originated before'),
      }),
    },
    (req) => tunnelChange(req.body, 'add'),
  );

  app.delete<{ Body: TunnelsBody }>(
    '/tunnel_endpoint',
    {
      schema: documented({
        operationId: 'withdraw_tunnel_endpoints',
        summary: 'Stop originating tunnel endpoints',
        tags: tunnelTag,
        body: TunnelsBody,
        response: ok(TunnelChange, 'The tunnel origins that were originated and are now withdrawn'),
      }),
    },
    (req) => tunnelChange(req.body, 'remove'),
  );

  app.put(
    '/sync',
    {
      schema: documented({
        operationId: 'sync',
        summary: 'Pull the full table again from every neighbour',
        tags: peerTag,
        response: ok(SyncResponse, 'Pulls started'),
      }),
    },
    () => ({ peers: d.resync() }),
  );

  app.get(
    '/fib/errors',
    {
      schema: documented({
        operationId: 'get_fib_errors',
        summary: 'Routes the kernel refused, with the error and the next retry',
        tags: routeTag,
        response: ok(Type.Array(FibErrorSchema), 'Refused routes'),
      }),
    },
    () =>
      d.fibErrors().map((e) => ({
        prefix: e.prefix,
        op: e.op,
        error: e.error,
        attempts: e.attempts,
        since_ms: e.since,
        next_retry_ms: e.nextRetry,
      })),
  );

  return server;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ===== OpenAPI =====

/** The OpenAPI document of the admin API, built from the real routes. */
export function ddmOpenApi(): OpenApiDocument {
  // A daemon that is never started: route registration needs only the schemas.
  const clock = { now: () => 0, setTimer: () => ({ cancel: () => undefined }) };
  const fabric = new MemoryFabric(clock);
  const d = new DdmDaemon({
    hostname: 'openapi',
    role: 'server',
    interfaces: [],
    clock,
    datagrams: fabric.datagrams('openapi'),
    exchange: fabric.exchange('openapi'),
  });
  const server = createDdmAdmin(d, { host: '127.0.0.1', port: 0, clock });
  return server.openapi({
    title: 'ddmd admin API',
    version: DDM_ADMIN_API_VERSION,
    description:
      'Administration of ddmd, the Delay-Driven Multipath daemon: neighbours with delay statistics, originated and imported prefixes, tunnel endpoints.',
  });
}
