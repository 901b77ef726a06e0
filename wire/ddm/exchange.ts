// DDM exchange messages: the HTTP/JSON bodies of push (`PUT /v2/push`) and pull (`GET /v2/pull`)
// as TypeBox schemas, compiled validators with errors a person can act on, and conversions
// between the JSON destination and wire/ip `Prefix6`.
//
// The shapes are Maghemite's exchange v2 (ddm-protocol/src/v2.rs; frozen by the snapshot
// ddm-protocol/tests/output/ddm_v2_protocol.json at b0c192ae), which is the version Maghemite
// speaks in practice (discovery always advertises 2). What its serde types imply, and our choices:
// - `Option` fields (`underlay`, `tunnel` of Update and PullResponse) are written as `null` when
//   empty and read as absent-or-null. We accept both and omit them when sending.
// - Unknown fields are ignored (no `deny_unknown_fields`). That is what makes our additions safe
//   to send to Maghemite: `delay` and `version` on a path vector are optional here and ignored
//   there. We also accept unknown fields, so a later version can add more.
// - Sets are JSON arrays; duplicates collapse into one on its side. We accept duplicates too and
//   leave de-duplication to the consumer (`pathVectorKey`).
// - Addresses are Rust `Ipv6Addr`/`Ipv4Addr` text (no zone index). Prefix `len` is a u8 and is
//   not range-checked there (`Ipv6Net::new_unchecked`); we reject a length above 128 (32 for
//   IPv4) because such a route cannot be installed.
// - Host bits below `len` are not checked there either; `destinationToPrefix6` clears them by
//   default so that our table key is canonical (pass 'reject' to refuse them instead).
// - A withdraw is matched on its side by destination *and* path (the imported Route includes the
//   path), so a withdraw must repeat the path that was announced. `pathVectorKey` is that identity;
//   `delay` and `version` are not part of it.
// - `metric` of a tunnel origin defaults to 0 when absent; it is a u64 there, limited here to
//   2^53 − 1, the largest integer a JSON number keeps exactly in JavaScript.
// Our additions to PathVector:
// - `delay`: the accumulated one-way path delay in integer microseconds, as advertised by the
//   sender (its link delay to the next hop plus what that next hop advertised); absent from
//   Maghemite peers, which measure nothing.
// - `version`: set by the origin and carried unchanged; it increases every time the origin
//   re-announces the destination, so a router can recognise an update older than one it has seen
//   (`isStalePathVersion`).

import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { err, ok, type Result } from '../result.js';
import {
  formatAddr6,
  parseAddr4,
  parseAddr6,
  prefix6FromAddr,
  equalAddr6,
  type Prefix6,
} from '../ip/index.js';

// ===== Formats =====

// TypeBox checks `format` only against its global registry. Register the two address formats
// unless another module already has (the admin API may register its own, equivalent ones).
if (!FormatRegistry.Has('ipv6')) FormatRegistry.Set('ipv6', (v) => parseAddr6(v).ok);
if (!FormatRegistry.Has('ipv4')) FormatRegistry.Set('ipv4', (v) => parseAddr4(v).ok);

// ===== Schemas =====

// `expected` is our own schema keyword: the phrase validation errors use for the field.

const Ipv6Addr = Type.String({ format: 'ipv6', expected: 'an IPv6 address such as "fd00:1122:3344:101::1"' });
const Ipv4Addr = Type.String({ format: 'ipv4', expected: 'an IPv4 address such as "10.0.0.1"' });
const U32 = (expected: string) => Type.Integer({ minimum: 0, maximum: 0xffffffff, expected });

/** A hostname in a path: the router names discovery carries (1–255 bytes there). */
export const DdmHostnameSchema = Type.String({
  minLength: 1,
  maxLength: 255,
  expected: 'a router hostname of 1 to 255 characters',
});

/** Maghemite's v2 `Ipv6Prefix`: `{addr, len}`. */
export const DdmIpv6PrefixSchema = Type.Object(
  {
    addr: Ipv6Addr,
    len: Type.Integer({ minimum: 0, maximum: 128, expected: 'a prefix length from 0 to 128' }),
  },
  { expected: 'an IPv6 prefix object {"addr": "fd00::", "len": 64}' },
);
export type DdmIpv6Prefix = Static<typeof DdmIpv6PrefixSchema>;

/** Maghemite's v2 `Ipv4Prefix`. */
export const DdmIpv4PrefixSchema = Type.Object(
  {
    addr: Ipv4Addr,
    len: Type.Integer({ minimum: 0, maximum: 32, expected: 'a prefix length from 0 to 32' }),
  },
  { expected: 'an IPv4 prefix object {"addr": "10.0.0.0", "len": 24}' },
);

/** Maghemite's v2 `IpPrefix`: serde's external tagging, `{"V4": {...}}` or `{"V6": {...}}`. */
export const DdmIpPrefixSchema = Type.Union(
  [
    Type.Object({ V4: DdmIpv4PrefixSchema }, { additionalProperties: false }),
    Type.Object({ V6: DdmIpv6PrefixSchema }, { additionalProperties: false }),
  ],
  { expected: 'an object with exactly one key, "V4" or "V6", holding {"addr", "len"}' },
);
export type DdmIpPrefix = Static<typeof DdmIpPrefixSchema>;

/** A path vector: Maghemite's v2 `PathVector` plus our optional `delay` and `version`. */
export const DdmPathVectorSchema = Type.Object(
  {
    destination: DdmIpv6PrefixSchema,
    path: Type.Array(DdmHostnameSchema, {
      minItems: 1,
      expected: 'a list of hostnames starting with the origin',
    }),
    delay: Type.Optional(U32('the accumulated delay in whole microseconds (0 to 4294967295)')),
    version: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        expected: "the origin's announcement version, a non-negative integer",
      }),
    ),
  },
  { expected: 'a path vector {"destination": {...}, "path": [...]}' },
);
export type DdmPathVector = Static<typeof DdmPathVectorSchema>;

/** Maghemite's v2 `TunnelOrigin`. */
export const DdmTunnelOriginSchema = Type.Object(
  {
    overlay_prefix: DdmIpPrefixSchema,
    boundary_addr: Ipv6Addr,
    vni: U32('a VNI from 0 to 4294967295'),
    metric: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        expected: 'a non-negative integer metric',
      }),
    ),
  },
  { expected: 'a tunnel origin {"overlay_prefix", "boundary_addr", "vni"}' },
);
export type DdmTunnelOrigin = Static<typeof DdmTunnelOriginSchema>;

const pathVectors = (what: string) =>
  Type.Array(DdmPathVectorSchema, { expected: `a list of path vectors to ${what}` });
const tunnelOrigins = (what: string) =>
  Type.Array(DdmTunnelOriginSchema, { expected: `a list of tunnel origins to ${what}` });

/** Maghemite's v2 `UnderlayUpdate`. */
export const DdmUnderlayUpdateSchema = Type.Object(
  { announce: pathVectors('announce'), withdraw: pathVectors('withdraw') },
  { expected: 'an object {"announce": [...], "withdraw": [...]}' },
);
export type DdmUnderlayUpdate = Static<typeof DdmUnderlayUpdateSchema>;

/** Maghemite's v2 `TunnelUpdate`. */
export const DdmTunnelUpdateSchema = Type.Object(
  { announce: tunnelOrigins('announce'), withdraw: tunnelOrigins('withdraw') },
  { expected: 'an object {"announce": [...], "withdraw": [...]}' },
);
export type DdmTunnelUpdate = Static<typeof DdmTunnelUpdateSchema>;

/** The body of `PUT /v2/push`: Maghemite's v2 `Update`. */
export const DdmUpdateSchema = Type.Object(
  {
    underlay: Type.Optional(
      Type.Union([DdmUnderlayUpdateSchema, Type.Null()], {
        expected: 'an object {"announce": [...], "withdraw": [...]} or null',
      }),
    ),
    tunnel: Type.Optional(
      Type.Union([DdmTunnelUpdateSchema, Type.Null()], {
        expected: 'an object {"announce": [...], "withdraw": [...]} or null',
      }),
    ),
  },
  { expected: 'an update object {"underlay"?: {...}, "tunnel"?: {...}}' },
);
export type DdmUpdate = Static<typeof DdmUpdateSchema>;

/** The body `GET /v2/pull` returns: Maghemite's v2 `PullResponse`. */
export const DdmPullResponseSchema = Type.Object(
  {
    underlay: Type.Optional(
      Type.Union([pathVectors('install'), Type.Null()], { expected: 'a list of path vectors or null' }),
    ),
    tunnel: Type.Optional(
      Type.Union([tunnelOrigins('install'), Type.Null()], { expected: 'a list of tunnel origins or null' }),
    ),
  },
  { expected: 'a pull response object {"underlay"?: [...], "tunnel"?: [...]}' },
);
export type DdmPullResponse = Static<typeof DdmPullResponseSchema>;

// ===== Validation =====

/** One problem with a body: where it is (`underlay.announce[2].destination.len`) and what to do. */
export interface DdmFieldError {
  readonly path: string;
  readonly message: string;
}

const updateCheck = TypeCompiler.Compile(DdmUpdateSchema);
const pullCheck = TypeCompiler.Compile(DdmPullResponseSchema);

/** `/underlay/announce/2/len` as `underlay.announce[2].len`; the root is `body`. */
function fieldPath(pointer: string): string {
  if (pointer === '') return 'body';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function expectedOf(schema: TSchema): string | undefined {
  const e = (schema as { expected?: unknown }).expected;
  return typeof e === 'string' ? e : undefined;
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

/** Flatten TypeBox errors, replacing a union's error by the errors of the variant the value meant. */
function flatten(e: ValueError, out: ValueError[]): void {
  if (e.type !== ValueErrorType.Union) {
    out.push(e);
    return;
  }
  let best: ValueError[] | undefined;
  let bestDepth = depth(e.path);
  for (const variant of e.errors) {
    const list = [...variant];
    // A variant whose errors are all below the union's own path had the right outer shape.
    const shallowest = Math.min(...list.map((x) => depth(x.path)));
    const sameShape = list.every(
      (x) => depth(x.path) > depth(e.path) && x.type !== ValueErrorType.ObjectAdditionalProperties,
    );
    if (list.length > 0 && sameShape && (best === undefined || shallowest > bestDepth)) {
      best = list;
      bestDepth = shallowest;
    }
  }
  if (best === undefined) out.push(e);
  else for (const x of best) flatten(x, out);
}

function describe(e: ValueError): DdmFieldError {
  const path = fieldPath(e.path);
  const expected = expectedOf(e.schema);
  if (e.type === ValueErrorType.ObjectRequiredProperty) {
    return { path, message: `${path} is missing; it must be ${expected ?? 'present'}` };
  }
  if (e.type === ValueErrorType.ObjectAdditionalProperties) {
    return { path, message: `${path} has a key other than the one allowed (${expected ?? e.message})` };
  }
  if (expected !== undefined) return { path, message: `${path} must be ${expected}, not ${show(e.value)}` };
  return { path, message: `${path}: ${e.message}` };
}

function validate<T>(check: TypeCheck<TSchema>, value: unknown): Result<T, DdmFieldError[]> {
  if (check.Check(value)) return ok(value as T);
  const flat: ValueError[] = [];
  for (const e of check.Errors(value)) flatten(e, flat);
  const seen = new Set<string>();
  const out: DdmFieldError[] = [];
  for (const e of flat) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    out.push(describe(e));
  }
  return err(out);
}

/** Validate a push body (already parsed from JSON). */
export function validateDdmUpdate(value: unknown): Result<DdmUpdate, DdmFieldError[]> {
  return validate<DdmUpdate>(updateCheck, value);
}

/** Validate a pull response body (already parsed from JSON). */
export function validateDdmPullResponse(value: unknown): Result<DdmPullResponse, DdmFieldError[]> {
  return validate<DdmPullResponse>(pullCheck, value);
}

/** Parse and validate JSON text; a syntax error is reported as a problem with the body. */
export function parseDdmJson<T>(
  text: string,
  validator: (v: unknown) => Result<T, DdmFieldError[]>,
): Result<T, DdmFieldError[]> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return err([{ path: 'body', message: `body is not JSON: ${(e as Error).message}` }]);
  }
  return validator(value);
}

/** All problems as one line, for logs and HTTP 400 responses. */
export function formatDdmFieldErrors(errors: readonly DdmFieldError[]): string {
  return errors.map((e) => e.message).join('; ');
}

// ===== Conversions =====

/** The JSON destination of a prefix: the network address in RFC 5952 text and the length. */
export function prefix6ToDestination(p: Prefix6): DdmIpv6Prefix {
  return { addr: formatAddr6(p.addr()), len: p.len };
}

/**
 * The prefix a JSON destination names. With 'clear' (the default) host bits below `len` are
 * cleared, as Maghemite never checks them; with 'reject' they are an error.
 */
export function destinationToPrefix6(
  d: DdmIpv6Prefix,
  hostBits: 'clear' | 'reject' = 'clear',
): Result<Prefix6, string> {
  const a = parseAddr6(d.addr);
  if (!a.ok) return a;
  if (!Number.isInteger(d.len) || d.len < 0 || d.len > 128)
    return err(`prefix length ${d.len} is not 0..128`);
  const p = prefix6FromAddr(a.value, d.len);
  if (hostBits === 'reject' && !equalAddr6(p.addr(), a.value)) {
    return err(`${d.addr}/${d.len} has host bits set; did you mean ${formatAddr6(p.addr())}/${d.len}?`);
  }
  return ok(p);
}

/** The identity of a path vector as Maghemite matches withdrawals: destination and path. */
export function pathVectorKey(pv: DdmPathVector): string {
  const p = destinationToPrefix6(pv.destination);
  const dest = p.ok
    ? `${formatAddr6(p.value.addr())}/${p.value.len}`
    : `${pv.destination.addr}/${pv.destination.len}`;
  return `${dest} ${pv.path.join(' ')}`;
}

/** True when `incoming` is older than what is known; an unversioned side is never stale. */
export function isStalePathVersion(incoming: number | undefined, known: number | undefined): boolean {
  return incoming !== undefined && known !== undefined && incoming < known;
}
