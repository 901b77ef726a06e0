// Loading and validating mgd's configuration file. The whole file is checked before anything is
// applied: first against the TypeBox schema (mgd/config/schema.ts), then across fields (unknown
// policy or router references, duplicate routers, neighbours, static routes, prefixes with host
// bits, addresses of the wrong family, hold/keepalive combinations RFC 4271 §4.2 forbids). Every
// error names the path of the offending field and what to fix. A valid file is resolved into the
// values the daemon uses (parsed addresses and prefixes, compiled policies, neighbour settings).

import { readFile } from 'node:fs/promises';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { DecisionOptions, DistanceTable, NextHop } from '../../rib/types.js';
import { DEFAULT_DISTANCES } from '../../rib/types.js';
import { AFISAFI_IPV4_UNICAST, AFISAFI_IPV6_UNICAST } from '../../wire/bgp/constants.js';
import {
  formatPrefix,
  isPrefix4,
  parseAddr4,
  parseAddr6,
  parsePrefix,
  type Addr4,
  type Addr6,
  type Prefix,
} from '../../wire/ip/index.js';
import { err, ok, type Result } from '../../wire/result.js';
import { DEFAULT_FSM_CONFIG } from '../bgp/fsm.js';
import type { AddPathMode } from '../bgp/negotiate.js';
import { compilePolicy, type CompiledPolicy } from '../bgp/policy.js';
import { NEIGHBOR_DEFAULTS, type NeighborSettings } from '../bgp/speaker.js';
import type { StaticRoute } from '../static/static.js';
import { ConfigSchema, type ConfigFile, type NeighborConfig } from './schema.js';

// ===== Results =====

/** One problem in the file: where (`neighbors[2].holdTime`) and what to fix. */
export interface ConfigError {
  readonly path: string;
  readonly message: string;
}

/** A router as the daemon builds it. */
export interface ResolvedRouter {
  readonly asn: number;
  readonly routerId: Addr4;
  readonly listen: { readonly host: string; readonly port: number };
  readonly neighbors: NeighborSettings[];
  readonly originate: Prefix[];
}

/** A validated configuration, resolved into runtime values. */
export interface MgdConfig {
  readonly file: ConfigFile;
  readonly routers: ResolvedRouter[];
  readonly policies: ReadonlyMap<string, CompiledPolicy>;
  readonly staticRoutes: StaticRoute[];
  readonly redistributeStatic: boolean;
  readonly decision: Partial<DecisionOptions>;
  readonly fib: {
    readonly backend: 'linux' | 'memory' | 'none';
    readonly table?: number;
    readonly startupGraceSeconds: number;
  };
}

/** Errors as lines of text, one per problem. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  return errors.map((e) => `${e.path === '' ? '(file)' : e.path}: ${e.message}`).join('\n');
}

/** The default BGP listener of a router without `listen`. */
export const DEFAULT_LISTEN = { host: '::', port: 179 } as const;

const checkFile = TypeCompiler.Compile(ConfigSchema);

// ===== Entry points =====

/** Read and validate a configuration file. */
export async function loadConfigFile(path: string): Promise<Result<MgdConfig, ConfigError[]>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return err([{ path: '', message: `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  return parseConfigText(text);
}

/** Parse JSON text and validate it. */
export function parseConfigText(text: string): Result<MgdConfig, ConfigError[]> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return err([{ path: '', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  return validateConfig(obj);
}

/** Validate a parsed configuration object and resolve it. */
export function validateConfig(obj: unknown): Result<MgdConfig, ConfigError[]> {
  if (!checkFile.Check(obj)) {
    const seen = new Set<string>();
    const errors: ConfigError[] = [];
    for (const e of checkFile.Errors(obj)) {
      const path = jsonPath(e.path);
      const k = `${path}|${e.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      errors.push({ path, message: schemaHint(e.message, e.value, e.schema) });
    }
    return err(errors);
  }
  return resolve(obj);
}

/** `/neighbors/0/holdTime` → `neighbors[0].holdTime`. */
function jsonPath(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1)) {
    const p = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  }
  return out;
}

function schemaHint(message: string, value: unknown, schema: unknown): string {
  if (message === 'Unexpected property') return 'unknown field: remove it or check its spelling';
  // A union of literals: name the values that are allowed.
  const anyOf = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (anyOf !== undefined && anyOf.every((x) => x.const !== undefined)) {
    const allowed = anyOf.map((x) => JSON.stringify(x.const)).join(', ');
    return `must be one of ${allowed} (got ${JSON.stringify(value)})`;
  }
  return value === undefined ? message : `${message} (got ${JSON.stringify(value)})`;
}

// ===== Cross-field checks and resolution =====

function parseAddr(s: string): Addr4 | Addr6 | undefined {
  const a4 = parseAddr4(s);
  if (a4.ok) return a4.value;
  const a6 = parseAddr6(s);
  return a6.ok ? a6.value : undefined;
}

function canonicalAddress(s: string): string | undefined {
  const [host, zone] = s.split('%');
  const a = parseAddr(host ?? '');
  if (a === undefined) return undefined;
  const text = typeof a === 'number' ? (host ?? '') : a.toString();
  return zone === undefined ? text : `${text}%${zone}`;
}

const FAMILY_KEYS = { 'ipv4-unicast': AFISAFI_IPV4_UNICAST, 'ipv6-unicast': AFISAFI_IPV6_UNICAST } as const;

function resolve(f: ConfigFile): Result<MgdConfig, ConfigError[]> {
  const errors: ConfigError[] = [];
  const add = (path: string, message: string) => errors.push({ path, message });

  // Policies.
  const policies = new Map<string, CompiledPolicy>();
  for (const [name, p] of Object.entries(f.policies ?? {})) {
    const c = compilePolicy(p);
    if (c.ok) policies.set(name, c.value);
    else for (const m of c.error) add(`policies.${name}`, m.replace(/^policy\.?/, ''));
  }

  // Originated prefixes.
  const originate = (o: ConfigFile['originate'], where: string): Prefix[] => {
    const out: Prefix[] = [];
    const seen = new Set<string>();
    for (const fam of ['ipv4', 'ipv6'] as const) {
      (o?.[fam] ?? []).forEach((s, i) => {
        const path = `${where}.${fam}[${i}]`;
        const p = parsePrefix(s);
        if (!p.ok) return add(path, `${p.error}; write the network address, e.g. ${hint(s)}`);
        if (isPrefix4(p.value) !== (fam === 'ipv4'))
          return add(
            path,
            `'${s}' is not an ${fam === 'ipv4' ? 'IPv4' : 'IPv6'} prefix; move it to the other list`,
          );
        const k = formatPrefix(p.value);
        if (seen.has(k)) return add(path, `'${s}' is listed twice`);
        seen.add(k);
        out.push(p.value);
      });
    }
    return out;
  };
  const globalOriginate = originate(f.originate, 'originate');

  // Routers.
  const routers = new Map<number, ResolvedRouter>();
  f.routers.forEach((r, i) => {
    const path = `routers[${i}]`;
    const id = parseAddr4(r.routerId);
    if (!id.ok || id.value === 0)
      add(`${path}.routerId`, `'${r.routerId}' must be a non-zero IPv4 address such as 10.0.0.1`);
    if (routers.has(r.asn))
      add(`${path}.asn`, `router AS ${r.asn} is configured twice; each router needs its own ASN`);
    if (r.listen !== undefined && parseAddr(r.listen.host) === undefined)
      add(`${path}.listen.host`, `'${r.listen.host}' is not an IP address (use 0.0.0.0, :: or an address)`);
    const orig = r.originate !== undefined ? originate(r.originate, `${path}.originate`) : globalOriginate;
    routers.set(r.asn, {
      asn: r.asn,
      routerId: id.ok ? id.value : 0,
      listen: r.listen ?? DEFAULT_LISTEN,
      neighbors: [],
      originate: orig,
    });
  });
  const listens = new Map<string, number>();
  f.routers.forEach((r, i) => {
    const l = r.listen ?? DEFAULT_LISTEN;
    const k = `${l.host}|${l.port}`;
    const other = listens.get(k);
    if (other !== undefined && l.port !== 0)
      add(
        `routers[${i}].listen`,
        `${l.host}:${l.port} is already used by routers[${other}]; give each router its own port`,
      );
    listens.set(k, i);
  });

  // Neighbours.
  const neighborKeys = new Map<string, number>();
  (f.neighbors ?? []).forEach((n, i) => {
    const path = `neighbors[${i}]`;
    const router = routers.get(n.router);
    if (router === undefined)
      add(`${path}.router`, `no router with AS ${n.router}; add it to routers or fix the ASN`);
    const key = canonicalAddress(n.address);
    if (key === undefined) add(`${path}.address`, `'${n.address}' is not an IPv4 or IPv6 address`);
    else {
      const host = key.split('%')[0] ?? '';
      const a = parseAddr(host);
      if (a !== undefined && typeof a !== 'number' && a.isLinkLocal() && !key.includes('%'))
        add(`${path}.address`, `link-local '${n.address}' needs its interface, e.g. ${n.address}%eth0`);
      const dup = neighborKeys.get(key);
      if (dup !== undefined)
        add(`${path}.address`, `neighbour ${n.address} is already configured at neighbors[${dup}]`);
      neighborKeys.set(key, i);
    }
    if (n.localAddress !== undefined && parseAddr(n.localAddress) === undefined)
      add(`${path}.localAddress`, `'${n.localAddress}' is not an IP address`);
    const hold = n.holdTime ?? DEFAULT_FSM_CONFIG.holdTime;
    if (hold === 1 || hold === 2) add(`${path}.holdTime`, 'must be 0 or at least 3 seconds (RFC 4271 §4.2)');
    if (n.keepaliveTime !== undefined && hold > 0 && n.keepaliveTime >= hold)
      add(`${path}.keepaliveTime`, `must be below holdTime (${hold}); one third of it is usual`);
    for (const which of ['importPolicy', 'exportPolicy'] as const) {
      const name = n[which];
      if (name !== undefined && !policies.has(name) && (f.policies ?? {})[name] === undefined) {
        const known = Object.keys(f.policies ?? {});
        add(
          `${path}.${which}`,
          `unknown policy '${name}'; define it under policies${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`,
        );
      }
    }
    if (n.families !== undefined && new Set(n.families).size !== n.families.length)
      add(`${path}.families`, 'a family is listed twice');
    if (n.maxPrefix?.action === 'restart' && n.maxPrefix.restartAfter === 0)
      add(`${path}.maxPrefix.restartAfter`, 'must be at least 1 second with action restart');
    if (router !== undefined && key !== undefined) router.neighbors.push(neighborSettings(n, policies));
  });

  // Static routes.
  const staticRoutes: StaticRoute[] = [];
  const staticSeen = new Map<string, number>();
  (f.staticRoutes ?? []).forEach((r, i) => {
    const path = `staticRoutes[${i}]`;
    const p = parsePrefix(r.prefix);
    if (!p.ok) return add(`${path}.prefix`, `${p.error}; write the network address, e.g. ${hint(r.prefix)}`);
    const k = formatPrefix(p.value);
    const dup = staticSeen.get(k);
    if (dup !== undefined) return add(`${path}.prefix`, `${k} is already configured at staticRoutes[${dup}]`);
    staticSeen.set(k, i);
    const hops: NextHop[] = [];
    r.nexthops.forEach((h, j) => {
      const a = parseAddr(h.address);
      const hp = `${path}.nexthops[${j}]`;
      if (a === undefined) return add(`${hp}.address`, `'${h.address}' is not an IP address`);
      if (typeof a !== 'number' && a.isLinkLocal() && h.interface === undefined)
        return add(`${hp}.interface`, `link-local next hop ${h.address} needs an interface`);
      // IPv4 routes may use IPv6 next hops (RFC 8950 style); the reverse does not exist.
      if (typeof a === 'number' && !isPrefix4(p.value))
        return add(`${hp}.address`, `an IPv6 route cannot use the IPv4 next hop ${h.address}`);
      hops.push({
        addr: a,
        ...(h.interface !== undefined ? { ifname: h.interface } : {}),
        ...(h.weight !== undefined ? { weight: h.weight } : {}),
      });
    });
    if (hops.length === r.nexthops.length)
      staticRoutes.push({
        prefix: p.value,
        nexthops: hops,
        ...(r.distance !== undefined ? { distance: r.distance } : {}),
      });
  });

  if (errors.length > 0) return err(errors);

  const bp = f.bestpath ?? {};
  const distances: DistanceTable = { ...DEFAULT_DISTANCES, ...(bp.distances ?? {}) };
  return ok({
    file: f,
    routers: [...routers.values()],
    policies,
    staticRoutes,
    redistributeStatic: f.redistributeStatic ?? false,
    decision: {
      distances,
      ...(bp.multipath !== undefined ? { maxPaths: bp.multipath } : {}),
      ...(bp.alwaysCompareMed !== undefined ? { alwaysCompareMed: bp.alwaysCompareMed } : {}),
    },
    fib: {
      backend: f.fib?.backend ?? 'linux',
      ...(f.fib?.table !== undefined ? { table: f.fib.table } : {}),
      startupGraceSeconds: f.fib?.startupGraceSeconds ?? 120,
    },
  });
}

/** The prefix with host bits cleared, as a suggestion. */
function hint(s: string): string {
  const p = parsePrefix(s, 'clear');
  return p.ok ? formatPrefix(p.value) : '10.0.0.0/8';
}

/** Runtime settings of one neighbour (policies already known to exist). */
function neighborSettings(
  n: NeighborConfig,
  policies: ReadonlyMap<string, CompiledPolicy>,
): NeighborSettings {
  const hold = n.holdTime ?? DEFAULT_FSM_CONFIG.holdTime;
  const addPath = new Map<number, AddPathMode>();
  for (const [k, v] of Object.entries(n.addPath ?? {})) {
    if (v !== undefined) addPath.set(FAMILY_KEYS[k as keyof typeof FAMILY_KEYS], v);
  }
  const imp = n.importPolicy !== undefined ? policies.get(n.importPolicy) : undefined;
  const exp = n.exportPolicy !== undefined ? policies.get(n.exportPolicy) : undefined;
  return {
    address: canonicalAddress(n.address) ?? n.address,
    port: n.port ?? NEIGHBOR_DEFAULTS.port,
    remoteAsn: n.remoteAsn,
    ...(n.localAddress !== undefined ? { localAddress: n.localAddress } : {}),
    fsm: {
      ...DEFAULT_FSM_CONFIG,
      passive: n.passive ?? false,
      holdTime: hold,
      keepaliveTime: n.keepaliveTime ?? Math.floor(hold / 3),
      connectRetryTime: n.connectRetryTime ?? DEFAULT_FSM_CONFIG.connectRetryTime,
      delayOpenTime: n.delayOpenTime ?? DEFAULT_FSM_CONFIG.delayOpenTime,
      idleHoldTime: n.idleHoldTime ?? DEFAULT_FSM_CONFIG.idleHoldTime,
    },
    families: n.families !== undefined ? n.families.map((x) => FAMILY_KEYS[x]) : NEIGHBOR_DEFAULTS.families,
    nextHopSelf: n.nextHopSelf ?? NEIGHBOR_DEFAULTS.nextHopSelf,
    allowAsIn: n.allowAsIn ?? NEIGHBOR_DEFAULTS.allowAsIn,
    enforceFirstAs: n.enforceFirstAs ?? NEIGHBOR_DEFAULTS.enforceFirstAs,
    ...(imp !== undefined ? { importPolicy: imp } : {}),
    ...(exp !== undefined ? { exportPolicy: exp } : {}),
    ...(n.maxPrefix !== undefined
      ? {
          maxPrefix: {
            limit: n.maxPrefix.limit,
            action: n.maxPrefix.action,
            restartAfter: n.maxPrefix.restartAfter ?? 60,
            families: new Map(
              Object.entries(n.maxPrefix.families ?? {}).flatMap(([k, v]) =>
                v === undefined ? [] : [[FAMILY_KEYS[k as keyof typeof FAMILY_KEYS], v] as const],
              ),
            ),
          },
        }
      : {}),
    gracefulRestart: n.gracefulRestart?.enabled ?? NEIGHBOR_DEFAULTS.gracefulRestart,
    gracefulRestartTime: n.gracefulRestart?.restartTime ?? NEIGHBOR_DEFAULTS.gracefulRestartTime,
    addPath,
    extendedNextHop: n.extendedNextHop ?? /^fe80:/i.test(n.address),
    ...(n.description !== undefined ? { description: n.description } : {}),
  };
}
