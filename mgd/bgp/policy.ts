// Declarative BGP import/export policy: a schema for policies as data (validated the same way by the
// configuration file and the admin API), a compiler from that data to fast matchers, and the
// evaluator that accepts, rejects or rewrites one route.
//
// Matches: prefix lists (exact or ge/le ranges), AS-path contents and length, origin AS, neighbour
// AS, communities (RFC 1997), large communities (RFC 8092), next hop, ORIGIN, address family.
// Actions: set LOCAL_PREF, set or remove MED, set next hop (address or self), add/remove
// communities and large communities, AS-path prepend. RFC 8212 (default reject for eBGP without a
// policy) is the session's decision, made with `DEFAULT_EBGP_POLICY`.
//
// A policy is an ordered list of statements. The first statement whose match holds applies its
// actions, then its `then`: accept, reject, or `next` to continue with the following statement.
// Falling off the end applies the policy's `default`.

import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AsPathSegmentType, Origin, WellKnownCommunity } from '../../wire/bgp/constants.js';
import type { AsPathSegment, PathAttributes } from '../../wire/bgp/types.js';
import {
  parseAddr4,
  parseAddr6,
  parsePrefix,
  isPrefix4,
  prefix4Contains,
  prefix4ContainsAddr,
  prefix6Contains,
  prefix6ContainsAddr,
  type Addr4,
  type Addr6,
  type Prefix,
} from '../../wire/ip/index.js';
import { err, ok, type Result } from '../../wire/result.js';
import { asPathLength, asPathPrepend } from '../../wire/bgp/aspath.js';

// ===== Schema =====

const PrefixMatchSchema = Type.Object(
  {
    prefix: Type.String({ description: 'CIDR, e.g. 10.0.0.0/8 or 2001:db8::/32' }),
    ge: Type.Optional(Type.Integer({ minimum: 0, maximum: 128, description: 'match lengths >= ge' })),
    le: Type.Optional(Type.Integer({ minimum: 0, maximum: 128, description: 'match lengths <= le' })),
  },
  { additionalProperties: false },
);

const CommunityText = Type.String({
  description:
    'ASN:value, or a well-known name (no-export, no-advertise, no-export-subconfed, nopeer, blackhole, graceful-shutdown)',
});
const LargeCommunityText = Type.String({ description: 'global:local1:local2' });

export const MatchSchema = Type.Object(
  {
    family: Type.Optional(Type.Union([Type.Literal('ipv4'), Type.Literal('ipv6')])),
    prefixList: Type.Optional(
      Type.Array(PrefixMatchSchema, { description: 'matches when any entry matches' }),
    ),
    asPathContains: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 0xffffffff }), {
        description: 'any of these ASNs anywhere in the AS path',
      }),
    ),
    originAs: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 0xffffffff }), {
        description: 'the last AS of the path is one of these',
      }),
    ),
    neighborAs: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 0xffffffff }), {
        description: 'the first AS of the path is one of these',
      }),
    ),
    asPathLengthMin: Type.Optional(Type.Integer({ minimum: 0 })),
    asPathLengthMax: Type.Optional(Type.Integer({ minimum: 0 })),
    communitiesAny: Type.Optional(Type.Array(CommunityText)),
    communitiesAll: Type.Optional(Type.Array(CommunityText)),
    largeCommunitiesAny: Type.Optional(Type.Array(LargeCommunityText)),
    nextHop: Type.Optional(Type.Array(Type.String({ description: 'next-hop prefix in CIDR' }))),
    origin: Type.Optional(
      Type.Array(Type.Union([Type.Literal('igp'), Type.Literal('egp'), Type.Literal('incomplete')])),
    ),
  },
  { additionalProperties: false },
);

export const ActionsSchema = Type.Object(
  {
    setLocalPref: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
    setMed: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: 0xffffffff }), Type.Literal('remove')]),
    ),
    setNextHop: Type.Optional(Type.String({ description: "an address, or 'self'" })),
    addCommunities: Type.Optional(Type.Array(CommunityText)),
    removeCommunities: Type.Optional(Type.Array(CommunityText)),
    removeAllCommunities: Type.Optional(Type.Boolean()),
    addLargeCommunities: Type.Optional(Type.Array(LargeCommunityText)),
    removeLargeCommunities: Type.Optional(Type.Array(LargeCommunityText)),
    prepend: Type.Optional(
      Type.Object(
        {
          asn: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 0xffffffff, description: 'default: our own ASN' }),
          ),
          count: Type.Integer({ minimum: 1, maximum: 16 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const StatementSchema = Type.Object(
  {
    name: Type.Optional(Type.String()),
    match: Type.Optional(MatchSchema),
    actions: Type.Optional(ActionsSchema),
    then: Type.Union([Type.Literal('accept'), Type.Literal('reject'), Type.Literal('next')]),
  },
  { additionalProperties: false },
);

export const PolicySchema = Type.Object(
  {
    statements: Type.Array(StatementSchema),
    default: Type.Union([Type.Literal('accept'), Type.Literal('reject')]),
  },
  { additionalProperties: false },
);

export type PolicyConfig = Static<typeof PolicySchema>;
export type MatchConfig = Static<typeof MatchSchema>;
export type ActionsConfig = Static<typeof ActionsSchema>;

/** RFC 8212: with no policy configured, an eBGP session imports and exports nothing. */
export const DEFAULT_EBGP_POLICY: PolicyConfig = { statements: [], default: 'reject' };
/** iBGP sessions accept everything by default. */
export const ACCEPT_ALL_POLICY: PolicyConfig = { statements: [], default: 'accept' };

const checkPolicy = TypeCompiler.Compile(PolicySchema);

// ===== Compilation =====

/** The route as a policy sees it. */
export interface PolicyRoute {
  readonly prefix: Prefix;
  readonly attrs: PathAttributes;
  /** The next hop the route carries (from NEXT_HOP or MP_REACH). */
  readonly nextHop?: Addr4 | Addr6;
}

/** What the evaluation decided; `attrs` is the input object itself when nothing changed. */
export interface PolicyOutcome {
  readonly accept: boolean;
  readonly attrs: PathAttributes;
  /** Set when an action asked for next-hop-self; the session substitutes its own address. */
  readonly nextHopSelf: boolean;
  readonly nextHop?: Addr4 | Addr6;
}

/** Facts about the session that actions need. */
export interface PolicyEnv {
  readonly localAsn: number;
}

type Matcher = (r: PolicyRoute) => boolean;
type Rewriter = (
  a: PathAttributes,
  env: PolicyEnv,
  out: { nextHopSelf: boolean; nextHop?: Addr4 | Addr6 },
) => PathAttributes;

interface CompiledStatement {
  readonly match: Matcher;
  readonly rewrite: Rewriter | undefined;
  readonly then: 'accept' | 'reject' | 'next';
}

/** A policy ready to evaluate. */
export interface CompiledPolicy {
  readonly source: PolicyConfig;
  readonly statements: readonly CompiledStatement[];
  readonly defaultAccept: boolean;
  /**
   * Some statement matches on prefix lists. When false the outcome depends only on the
   * attributes, the next hop and the address family, so callers may evaluate once per attribute
   * set and reuse the outcome for every prefix carrying it.
   */
  readonly perPrefix: boolean;
}

const WELL_KNOWN_NAMES: Readonly<Record<string, number>> = {
  'no-export': WellKnownCommunity.NO_EXPORT,
  'no-advertise': WellKnownCommunity.NO_ADVERTISE,
  'no-export-subconfed': WellKnownCommunity.NO_EXPORT_SUBCONFED,
  nopeer: WellKnownCommunity.NOPEER,
  blackhole: WellKnownCommunity.BLACKHOLE,
  'graceful-shutdown': WellKnownCommunity.GRACEFUL_SHUTDOWN,
};

/** Parse `ASN:value` (each 0..65535) or a well-known name into a 32-bit community. */
export function parseCommunity(s: string): Result<number, string> {
  const named = WELL_KNOWN_NAMES[s.toLowerCase()];
  if (named !== undefined) return ok(named);
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  if (m === null) return err(`community '${s}' must be ASN:value or a well-known name`);
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 0xffff || lo > 0xffff) return err(`community '${s}': both halves must be 0..65535`);
  return ok(hi * 0x10000 + lo);
}

/** Parse `global:local1:local2` (each 0..4294967295) into a large-community triple. */
export function parseLargeCommunity(s: string): Result<readonly [number, number, number], string> {
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(s);
  if (m === null) return err(`large community '${s}' must be global:local1:local2`);
  const v = [Number(m[1]), Number(m[2]), Number(m[3])] as const;
  if (v.some((x) => x > 0xffffffff)) return err(`large community '${s}': each part must be 0..4294967295`);
  return ok(v);
}

/** Validate and compile a policy; every error names the statement and field to fix. */
export function compilePolicy(input: unknown): Result<CompiledPolicy, string[]> {
  if (!checkPolicy.Check(input)) {
    return err(
      [...checkPolicy.Errors(input)].map((e) => `policy${e.path.replace(/\//g, '.')}: ${e.message}`),
    );
  }
  const errors: string[] = [];
  const statements = input.statements.map((st, i) => {
    const where = `policy.statements[${i}]${st.name !== undefined ? ` (${st.name})` : ''}`;
    return {
      match: compileMatch(st.match ?? {}, where, errors),
      rewrite: st.actions === undefined ? undefined : compileActions(st.actions, where, errors),
      then: st.then,
    };
  });
  if (errors.length > 0) return err(errors);
  const perPrefix = input.statements.some((st) => st.match?.prefixList !== undefined);
  return ok({ source: input, statements, defaultAccept: input.default === 'accept', perPrefix });
}

function compileMatch(m: MatchConfig, where: string, errors: string[]): Matcher {
  const checks: Matcher[] = [];
  if (m.family !== undefined) {
    const want4 = m.family === 'ipv4';
    checks.push((r) => isPrefix4(r.prefix) === want4);
  }
  if (m.prefixList !== undefined) {
    const entries = m.prefixList.flatMap((e, j) => {
      const p = parsePrefix(e.prefix);
      if (!p.ok) {
        errors.push(`${where}.match.prefixList[${j}]: ${p.error}`);
        return [];
      }
      const max = isPrefix4(p.value) ? 32 : 128;
      const len = isPrefix4(p.value) ? p.value % 64 : p.value.len;
      const exact = e.ge === undefined && e.le === undefined;
      const ge = e.ge ?? len;
      const le = e.le ?? (exact ? len : max);
      if (ge < len || le > max || ge > le) {
        errors.push(`${where}.match.prefixList[${j}]: need ${len} <= ge (${ge}) <= le (${le}) <= ${max}`);
        return [];
      }
      return [{ p: p.value, ge, le }];
    });
    checks.push((r) =>
      entries.some((e) => {
        const rp = r.prefix;
        if (isPrefix4(rp) !== isPrefix4(e.p)) return false;
        const len = isPrefix4(rp) ? rp % 64 : rp.len;
        if (len < e.ge || len > e.le) return false;
        return isPrefix4(rp) ? prefix4Contains(e.p as typeof rp, rp) : prefix6Contains(e.p as typeof rp, rp);
      }),
    );
  }
  if (m.asPathContains !== undefined) {
    const set = new Set(m.asPathContains);
    checks.push((r) => (r.attrs.asPath ?? []).some((seg) => seg.asns.some((a) => set.has(a))));
  }
  if (m.originAs !== undefined) {
    const set = new Set(m.originAs);
    checks.push((r) => {
      const o = originAsOf(r.attrs.asPath);
      return o !== undefined && set.has(o);
    });
  }
  if (m.neighborAs !== undefined) {
    const set = new Set(m.neighborAs);
    checks.push((r) => {
      const first = r.attrs.asPath?.find((s) => s.type === AsPathSegmentType.AS_SEQUENCE)?.asns[0];
      return first !== undefined && set.has(first);
    });
  }
  if (m.asPathLengthMin !== undefined || m.asPathLengthMax !== undefined) {
    const lo = m.asPathLengthMin ?? 0;
    const hi = m.asPathLengthMax ?? Infinity;
    checks.push((r) => {
      const n = asPathLength(r.attrs.asPath ?? []);
      return n >= lo && n <= hi;
    });
  }
  if (m.communitiesAny !== undefined) {
    const set = new Set(parseList(m.communitiesAny, parseCommunity, `${where}.match.communitiesAny`, errors));
    checks.push((r) => (r.attrs.communities ?? []).some((c) => set.has(c)));
  }
  if (m.communitiesAll !== undefined) {
    const want = parseList(m.communitiesAll, parseCommunity, `${where}.match.communitiesAll`, errors);
    checks.push((r) => {
      const have = r.attrs.communities ?? [];
      return want.every((c) => have.includes(c));
    });
  }
  if (m.largeCommunitiesAny !== undefined) {
    const want = parseList(
      m.largeCommunitiesAny,
      parseLargeCommunity,
      `${where}.match.largeCommunitiesAny`,
      errors,
    );
    checks.push((r) => {
      const lc = r.attrs.largeCommunities ?? [];
      for (let i = 0; i + 2 < lc.length; i += 3) {
        if (want.some((w) => w[0] === lc[i] && w[1] === lc[i + 1] && w[2] === lc[i + 2])) return true;
      }
      return false;
    });
  }
  if (m.nextHop !== undefined) {
    const nets = m.nextHop.flatMap((s, j) => {
      const p = parsePrefix(s);
      if (!p.ok) {
        errors.push(`${where}.match.nextHop[${j}]: ${p.error}`);
        return [];
      }
      return [p.value];
    });
    checks.push((r) => {
      const nh = r.nextHop;
      if (nh === undefined) return false;
      return nets.some((n) =>
        typeof nh === 'number'
          ? isPrefix4(n) && prefix4ContainsAddr(n, nh)
          : !isPrefix4(n) && prefix6ContainsAddr(n, nh),
      );
    });
  }
  if (m.origin !== undefined) {
    const set = new Set(
      m.origin.map((o) => (o === 'igp' ? Origin.IGP : o === 'egp' ? Origin.EGP : Origin.INCOMPLETE)),
    );
    checks.push((r) => set.has(r.attrs.origin ?? Origin.INCOMPLETE));
  }
  return (r) => checks.every((c) => c(r));
}

function compileActions(a: ActionsConfig, where: string, errors: string[]): Rewriter {
  const steps: Rewriter[] = [];
  if (a.setLocalPref !== undefined) {
    const v = a.setLocalPref;
    steps.push((x) => ({ ...x, localPref: v }));
  }
  if (a.setMed !== undefined) {
    const v = a.setMed;
    steps.push((x) => {
      if (v !== 'remove') return { ...x, med: v };
      const { med: _m, ...rest } = x;
      return rest;
    });
  }
  if (a.setNextHop !== undefined) {
    const s = a.setNextHop;
    if (s === 'self') {
      steps.push((x, _env, out) => {
        out.nextHopSelf = true;
        return x;
      });
    } else {
      const v4 = parseAddr4(s);
      const v6 = v4.ok ? undefined : parseAddr6(s);
      if (!v4.ok && (v6 === undefined || !v6.ok)) {
        errors.push(`${where}.actions.setNextHop: '${s}' is neither 'self' nor an IPv4/IPv6 address`);
      } else {
        const addr: Addr4 | Addr6 = v4.ok ? v4.value : (v6 as { ok: true; value: Addr6 }).value;
        steps.push((x, _env, out) => {
          out.nextHop = addr;
          return x;
        });
      }
    }
  }
  if (a.removeAllCommunities === true) {
    steps.push((x) => {
      const { communities: _c, ...rest } = x;
      return rest;
    });
  }
  if (a.removeCommunities !== undefined) {
    const drop = new Set(
      parseList(a.removeCommunities, parseCommunity, `${where}.actions.removeCommunities`, errors),
    );
    steps.push((x) =>
      withCommunities(
        x,
        (x.communities ?? []).filter((c) => !drop.has(c)),
      ),
    );
  }
  if (a.addCommunities !== undefined) {
    const add = parseList(a.addCommunities, parseCommunity, `${where}.actions.addCommunities`, errors);
    steps.push((x) => {
      const have = x.communities ?? [];
      return withCommunities(x, [...have, ...add.filter((c) => !have.includes(c))]);
    });
  }
  if (a.removeLargeCommunities !== undefined) {
    const drop = parseList(
      a.removeLargeCommunities,
      parseLargeCommunity,
      `${where}.actions.removeLargeCommunities`,
      errors,
    );
    steps.push((x) => {
      const lc = x.largeCommunities ?? [];
      const kept: number[] = [];
      for (let i = 0; i + 2 < lc.length; i += 3) {
        const t = [lc[i] as number, lc[i + 1] as number, lc[i + 2] as number];
        if (!drop.some((d) => d[0] === t[0] && d[1] === t[1] && d[2] === t[2])) kept.push(...t);
      }
      return withLarge(x, kept);
    });
  }
  if (a.addLargeCommunities !== undefined) {
    const add = parseList(
      a.addLargeCommunities,
      parseLargeCommunity,
      `${where}.actions.addLargeCommunities`,
      errors,
    );
    steps.push((x) => {
      const lc = [...(x.largeCommunities ?? [])];
      for (const t of add) {
        let present = false;
        for (let i = 0; i + 2 < lc.length; i += 3) {
          if (lc[i] === t[0] && lc[i + 1] === t[1] && lc[i + 2] === t[2]) present = true;
        }
        if (!present) lc.push(...t);
      }
      return withLarge(x, lc);
    });
  }
  if (a.prepend !== undefined) {
    const { asn, count } = a.prepend;
    steps.push((x, env) => ({ ...x, asPath: asPathPrepend(x.asPath ?? [], asn ?? env.localAsn, count) }));
  }
  return (x, env, out) => steps.reduce((acc, s) => s(acc, env, out), x);
}

function parseList<T>(
  items: readonly string[],
  parse: (s: string) => Result<T, string>,
  where: string,
  errors: string[],
): T[] {
  const out: T[] = [];
  items.forEach((s, j) => {
    const r = parse(s);
    if (r.ok) out.push(r.value);
    else errors.push(`${where}[${j}]: ${r.error}`);
  });
  return out;
}

function withCommunities(x: PathAttributes, list: readonly number[]): PathAttributes {
  const { communities: _c, ...rest } = x;
  return list.length === 0 ? rest : { ...rest, communities: list };
}

function withLarge(x: PathAttributes, list: readonly number[]): PathAttributes {
  const { largeCommunities: _l, ...rest } = x;
  return list.length === 0 ? rest : { ...rest, largeCommunities: list };
}

// ===== AS path helper used by matching =====

/** The originating AS: the last ASN of the last AS_SEQUENCE, if the path ends in one. */
function originAsOf(path: readonly AsPathSegment[] | undefined): number | undefined {
  const last = path?.[path.length - 1];
  if (last === undefined || last.type !== AsPathSegmentType.AS_SEQUENCE) return undefined;
  return last.asns[last.asns.length - 1];
}

// ===== Evaluation =====

/** Run a compiled policy over one route. */
export function evaluatePolicy(p: CompiledPolicy, route: PolicyRoute, env: PolicyEnv): PolicyOutcome {
  let attrs = route.attrs;
  const out: { nextHopSelf: boolean; nextHop?: Addr4 | Addr6 } = { nextHopSelf: false };
  for (const st of p.statements) {
    if (!st.match(attrs === route.attrs ? route : { ...route, attrs })) continue;
    if (st.rewrite !== undefined) attrs = st.rewrite(attrs, env, out);
    if (st.then === 'next') continue;
    return finish(st.then === 'accept', attrs, out);
  }
  return finish(p.defaultAccept, attrs, out);
}

function finish(
  accept: boolean,
  attrs: PathAttributes,
  out: { nextHopSelf: boolean; nextHop?: Addr4 | Addr6 },
): PolicyOutcome {
  return {
    accept,
    attrs,
    nextHopSelf: out.nextHopSelf,
    ...(out.nextHop !== undefined ? { nextHop: out.nextHop } : {}),
  };
}
