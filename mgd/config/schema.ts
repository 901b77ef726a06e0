// The mgd configuration file as TypeBox schemas: one source of truth for validating the JSON file
// and, later, the admin API's request bodies (and the OpenAPI document generated from them).
//
// Shape: routers (one BGP speaker per local ASN), neighbours (each naming its router by ASN),
// named policies (mgd/bgp/policy.ts PolicySchema), originated prefixes, static routes, best-path
// options and the FIB backend. Field-level limits live here; cross-field checks (references,
// duplicates, host bits) live in load.ts.

import { Type, type Static } from '@sinclair/typebox';
import { PolicySchema } from '../bgp/policy.js';

// ===== Building blocks =====

const Asn = Type.Integer({ minimum: 1, maximum: 4294967295, description: 'AS number (1..4294967295)' });
const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Seconds = (max: number, description: string) => Type.Integer({ minimum: 0, maximum: max, description });

export const FamilySchema = Type.Union([Type.Literal('ipv4-unicast'), Type.Literal('ipv6-unicast')]);

export const ListenSchema = Type.Object(
  {
    host: Type.String({ description: 'address to listen on, e.g. 0.0.0.0, :: or 127.0.0.1' }),
    port: Port,
  },
  { additionalProperties: false },
);

export const OriginateSchema = Type.Object(
  {
    ipv4: Type.Optional(Type.Array(Type.String({ description: 'IPv4 prefix in CIDR, no host bits' }))),
    ipv6: Type.Optional(Type.Array(Type.String({ description: 'IPv6 prefix in CIDR, no host bits' }))),
  },
  { additionalProperties: false },
);

// ===== Routers and neighbours =====

export const RouterSchema = Type.Object(
  {
    asn: Asn,
    routerId: Type.String({ description: 'BGP identifier, an IPv4 address other than 0.0.0.0' }),
    listen: Type.Optional(ListenSchema),
    originate: Type.Optional(OriginateSchema),
  },
  { additionalProperties: false },
);

export const MaxPrefixSchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
    action: Type.Union([Type.Literal('warn'), Type.Literal('restart')]),
    restartAfter: Type.Optional(Seconds(86_400, 'seconds before reconnecting (restart action); default 60')),
    families: Type.Optional(
      Type.Object(
        {
          'ipv4-unicast': Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
          'ipv6-unicast': Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
        },
        { additionalProperties: false, description: 'per-family limits overriding `limit`' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const GracefulRestartSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    restartTime: Type.Optional(Seconds(4095, 'restart time we advertise; default 120')),
  },
  { additionalProperties: false },
);

const AddPathMode = Type.Union([Type.Literal('send'), Type.Literal('receive'), Type.Literal('both')]);

export const NeighborSchema = Type.Object(
  {
    router: Type.Integer({ minimum: 1, maximum: 4294967295, description: 'ASN of the router it belongs to' }),
    address: Type.String({ description: 'peer address; IPv6 link-local as fe80::1%eth0' }),
    remoteAsn: Asn,
    port: Type.Optional(Port),
    localAddress: Type.Optional(Type.String()),
    passive: Type.Optional(Type.Boolean()),
    holdTime: Type.Optional(Seconds(65535, '0 or at least 3; default 90')),
    keepaliveTime: Type.Optional(Seconds(21845, 'default 30')),
    connectRetryTime: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    delayOpenTime: Type.Optional(Seconds(240, '0 disables DelayOpen')),
    idleHoldTime: Type.Optional(Seconds(3600, 'first back-off after a failure')),
    families: Type.Optional(Type.Array(FamilySchema, { minItems: 1 })),
    nextHopSelf: Type.Optional(Type.Boolean()),
    allowAsIn: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    enforceFirstAs: Type.Optional(Type.Boolean()),
    importPolicy: Type.Optional(Type.String({ description: 'name of a policy in `policies`' })),
    exportPolicy: Type.Optional(Type.String({ description: 'name of a policy in `policies`' })),
    maxPrefix: Type.Optional(MaxPrefixSchema),
    gracefulRestart: Type.Optional(GracefulRestartSchema),
    addPath: Type.Optional(
      Type.Object(
        { 'ipv4-unicast': Type.Optional(AddPathMode), 'ipv6-unicast': Type.Optional(AddPathMode) },
        { additionalProperties: false },
      ),
    ),
    extendedNextHop: Type.Optional(
      Type.Boolean({
        description: 'IPv4 routes over IPv6 next hops (RFC 8950); default on for link-local neighbours',
      }),
    ),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

// ===== Static routes, best path, FIB =====

export const StaticNextHopSchema = Type.Object(
  {
    address: Type.String(),
    interface: Type.Optional(Type.String({ minLength: 1 })),
    weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
  },
  { additionalProperties: false },
);

export const StaticRouteSchema = Type.Object(
  {
    prefix: Type.String({ description: 'CIDR, no host bits' }),
    nexthops: Type.Array(StaticNextHopSchema, { minItems: 1 }),
    distance: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  },
  { additionalProperties: false },
);

export const BestpathSchema = Type.Object(
  {
    multipath: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'maximum paths' })),
    alwaysCompareMed: Type.Optional(Type.Boolean()),
    distances: Type.Optional(
      Type.Object(
        {
          connected: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
          static: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
          bgp: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
          ddm: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const FibSchema = Type.Object(
  {
    backend: Type.Union([Type.Literal('linux'), Type.Literal('memory'), Type.Literal('none')], {
      description:
        'linux: program the kernel; memory: a table in the process (tests); none: no lower half at all, for a route server or a control-plane-only speaker',
    }),
    table: Type.Optional(Type.Integer({ minimum: 1, maximum: 4294967295 })),
    startupGraceSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3600,
        description:
          'after a restart, keep the routes a previous run left in the kernel this long while they are relearned (default 120; 0 removes them at once)',
      }),
    ),
  },
  { additionalProperties: false },
);

// ===== The file =====

export const ConfigSchema = Type.Object(
  {
    routers: Type.Array(RouterSchema, { minItems: 1 }),
    neighbors: Type.Optional(Type.Array(NeighborSchema)),
    policies: Type.Optional(Type.Record(Type.String({ minLength: 1 }), PolicySchema)),
    originate: Type.Optional(OriginateSchema),
    staticRoutes: Type.Optional(Type.Array(StaticRouteSchema)),
    redistributeStatic: Type.Optional(Type.Boolean()),
    bestpath: Type.Optional(BestpathSchema),
    fib: Type.Optional(FibSchema),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigSchema>;
export type RouterConfig = Static<typeof RouterSchema>;
export type NeighborConfig = Static<typeof NeighborSchema>;
export type StaticRouteConfig = Static<typeof StaticRouteSchema>;

/** The configuration mgd runs with when started without `--config`. */
export const EMBEDDED_DEFAULT_CONFIG: ConfigFile = {
  routers: [{ asn: 65000, routerId: '10.0.0.1', listen: { host: '127.0.0.1', port: 1790 } }],
  neighbors: [],
  originate: { ipv4: ['192.0.2.0/24'] },
  fib: { backend: 'memory' },
};
