// OpenAPI 3.1 documents built from the routes registered on a fastify instance (OpenAPI
// Specification 3.1.0 §4.8: Paths, Operation, Parameter, Request Body and Responses objects; the
// schemas are JSON Schema 2020-12 as TypeBox writes them).
//
// `collectRoutes` installs an onRoute hook that records each route's method, URL and schema;
// `buildOpenApi` turns the records into a document, and `stableJson` prints it with sorted keys so
// that the committed file only changes when an API does (STYLE.md rule 14).
//
// Route schemas may carry the documentation keys fastify ignores: `summary`, `description`,
// `tags`, `operationId` and `hide` (leave the route out of the document).

import type { FastifyInstance, FastifySchema } from 'fastify';

// ===== Types =====

/** One registered route as the document needs it. */
export interface RouteRecord {
  readonly method: string;
  readonly url: string;
  readonly schema: DocumentedSchema | undefined;
}

/** A fastify route schema plus the documentation keys. */
export interface DocumentedSchema extends FastifySchema {
  summary?: string;
  description?: string;
  tags?: readonly string[];
  operationId?: string;
  hide?: boolean;
}

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

export interface OpenApiOptions {
  /** Named schemas: a response schema that *is* one of these becomes a `$ref` to it. */
  readonly components?: Readonly<Record<string, object>>;
  /** Describe an optional bearer token (`Authorization: Bearer …`). */
  readonly bearerAuth?: boolean;
}

/** A route schema with documentation keys, typed for fastify's route options. */
export function documented(s: DocumentedSchema): FastifySchema {
  return s;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type OpenApiDocument = { [k: string]: Json };

// ===== Collection =====

/** Record every route registered on `app` from now on (call before registering routes). */
export function collectRoutes(app: FastifyInstance): RouteRecord[] {
  const out: RouteRecord[] = [];
  app.addHook('onRoute', (r: { method: string | string[]; url: string; schema?: DocumentedSchema }) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      out.push({ method: m.toUpperCase(), url: r.url, schema: r.schema });
    }
  });
  return out;
}

/** A fastify URL as an OpenAPI path template: `/peers/:ifname` → `/peers/{ifname}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

// ===== Schema conversion =====

/**
 * A JSON copy of a TypeBox schema: symbol keys (TypeBox's `Kind`) vanish, and our `expected`
 * keyword (the phrase validation errors use) becomes the description when there is none.
 */
function cleanSchema(s: unknown): Json {
  if (Array.isArray(s)) return s.map(cleanSchema);
  if (s === null || typeof s !== 'object') return s as Json;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(s as Record<string, unknown>)) {
    if (k === 'expected' || v === undefined || typeof v === 'function') continue;
    out[k] = cleanSchema(v);
  }
  const expected = (s as { expected?: unknown }).expected;
  if (typeof expected === 'string' && out.description === undefined) out.description = expected;
  return out;
}

function schemaOrRef(s: unknown, refs: Map<unknown, string>): Json {
  const name = refs.get(s);
  return name !== undefined ? { $ref: `#/components/schemas/${name}` } : cleanSchema(s);
}

const STATUS_TEXT: Readonly<Record<string, string>> = {
  '200': 'OK',
  '201': 'Created',
  '204': 'No content',
  '4XX': 'Client error: the body names a stable error code and says what to fix',
  '5XX': 'Server error',
  default: 'Response',
};

function parameters(schema: unknown, where: 'path' | 'query'): Json[] {
  if (schema === undefined || schema === null || typeof schema !== 'object') return [];
  const obj = schema as { properties?: Record<string, unknown>; required?: readonly string[] };
  const required = new Set(obj.required ?? []);
  return Object.entries(obj.properties ?? {}).map(([name, s]) => {
    const clean = cleanSchema(s) as { [k: string]: Json };
    const p: { [k: string]: Json } = {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: clean,
    };
    if (typeof clean.description === 'string') p.description = clean.description;
    return p;
  });
}

function operation(r: RouteRecord, refs: Map<unknown, string>): Json {
  const s = r.schema ?? {};
  const op: { [k: string]: Json } = {};
  if (s.operationId !== undefined) op.operationId = s.operationId;
  if (s.summary !== undefined) op.summary = s.summary;
  if (s.description !== undefined) op.description = s.description;
  if (s.tags !== undefined) op.tags = [...s.tags];
  const params = [...parameters(s.params, 'path'), ...parameters(s.querystring, 'query')];
  if (params.length > 0) op.parameters = params;
  if (s.body !== undefined) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: schemaOrRef(s.body, refs) } },
    };
  }
  const responses: { [k: string]: Json } = {};
  for (const [code, schema] of Object.entries((s.response ?? {}) as Record<string, unknown>)) {
    const key = /^[1-5]xx$/i.test(code) ? code.toUpperCase() : code;
    const desc = (schema as { description?: unknown }).description;
    responses[key] = {
      description: typeof desc === 'string' ? desc : (STATUS_TEXT[key] ?? 'Response'),
      content: { 'application/json': { schema: schemaOrRef(schema, refs) } },
    };
  }
  if (Object.keys(responses).length === 0) responses.default = { description: STATUS_TEXT.default! };
  op.responses = responses;
  return op;
}

// ===== Document =====

/** The OpenAPI 3.1 document of the recorded routes (HEAD routes and hidden ones left out). */
export function buildOpenApi(
  routes: readonly RouteRecord[],
  info: OpenApiInfo,
  opts: OpenApiOptions = {},
): OpenApiDocument {
  const refs = new Map<unknown, string>();
  for (const [name, schema] of Object.entries(opts.components ?? {})) refs.set(schema, name);
  const paths: { [k: string]: { [k: string]: Json } } = {};
  for (const r of routes) {
    if (r.method === 'HEAD' || r.schema?.hide === true) continue;
    const p = openApiPath(r.url);
    (paths[p] ??= {})[r.method.toLowerCase()] = operation(r, refs);
  }
  const doc: OpenApiDocument = {
    openapi: '3.1.0',
    info: { ...info },
    paths,
  };
  const schemas: { [k: string]: Json } = {};
  for (const [name, schema] of Object.entries(opts.components ?? {})) schemas[name] = cleanSchema(schema);
  const components: { [k: string]: Json } = {};
  if (Object.keys(schemas).length > 0) components.schemas = schemas;
  if (opts.bearerAuth === true) {
    components.securitySchemes = { bearer: { type: 'http', scheme: 'bearer' } };
    // An empty requirement first: the token is needed only when the daemon was given one.
    doc.security = [{}, { bearer: [] }];
  }
  if (Object.keys(components).length > 0) doc.components = components;
  return sortKeys(doc) as OpenApiDocument;
}

/** A copy with every object's keys in code-point order (arrays keep their order). */
export function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]!);
  return out;
}

/** Deterministic JSON text: sorted keys, two-space indent, trailing newline. */
export function stableJson(doc: OpenApiDocument): string {
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}
