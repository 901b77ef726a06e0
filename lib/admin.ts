// The admin HTTP server both daemons share: a fastify 5 instance bound to loopback unless told
// otherwise, bearer-token checks (RFC 6750 §2.1 `Authorization: Bearer`, §3 `WWW-Authenticate`),
// TypeBox route schemas validated by fastify's Ajv, one catalogue of stable error codes with a
// uniform body `{code, message}`, pino request logs at debug, and the route list the OpenAPI
// document is generated from (lib/openapi.ts).
//
// Validation notes:
// - Type coercion is off: a body field declared as a list must be a list, and a number must be a
//   number. Path and query parameters therefore should be declared as strings (with a `pattern`
//   when they are numeric) and converted in the handler.
// - Unknown keys in a body declared with `additionalProperties: false` are an error rather than
//   silently dropped, so a misspelt field name is reported.
// - Schemas may carry our `expected` keyword (as wire/ddm/exchange.ts does): the phrase an error
//   message uses for the field ("an IPv6 prefix such as fd00:1::/64").

import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { Type, type TSchema } from '@sinclair/typebox';
import { buildOpenApi, collectRoutes, type OpenApiDocument, type RouteRecord } from './openapi.js';

// ===== Error catalogue =====

/** One entry of an error catalogue: the HTTP status it maps to and what it means. */
export interface ErrorSpec {
  readonly status: number;
  readonly description: string;
}

export type ErrorCatalogue = Readonly<Record<string, ErrorSpec>>;

/** Errors of the admin server itself; each daemon adds its own (`DDM_ERR_*`, `MGD_ERR_*`). */
export const ADMIN_ERRORS = {
  ADMIN_ERR_UNAUTHORIZED: { status: 401, description: 'The bearer token is missing or wrong.' },
  ADMIN_ERR_VALIDATION: {
    status: 400,
    description: 'A path parameter, query parameter or body field does not match the schema.',
  },
  ADMIN_ERR_BAD_REQUEST: {
    status: 400,
    description: 'The request could not be read (for example bad JSON).',
  },
  ADMIN_ERR_NOT_FOUND: { status: 404, description: 'No endpoint has this method and path.' },
  ADMIN_ERR_PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than the server accepts.' },
  ADMIN_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The body is not application/json.' },
  ADMIN_ERR_INTERNAL: { status: 500, description: 'The daemon failed while handling the request.' },
} as const satisfies ErrorCatalogue;

/** An error with a catalogue code; handlers throw it and the error handler renders it. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A typed constructor for the codes of one catalogue. */
export function errorFactory<C extends ErrorCatalogue>(
  catalogue: C,
): (code: keyof C & string, message: string) => ApiError {
  return (code, message) => new ApiError(code, catalogue[code]!.status, message);
}

const adminError = errorFactory(ADMIN_ERRORS);

/** The schema of every error body, listing the codes of the given catalogue. */
export function errorBodySchema(catalogue: ErrorCatalogue): TSchema {
  return Type.Object(
    {
      code: Type.Unsafe<string>({
        type: 'string',
        enum: Object.keys(catalogue).sort(),
        description: 'Stable error code from the catalogue',
      }),
      message: Type.String({ description: 'What went wrong and what to fix' }),
    },
    { description: 'An error: a stable code and a message for a person' },
  );
}

// ===== Validation messages =====

/** The parts of an Ajv error (with `verbose: true`) that messages use. */
interface AjvErrorLike {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
  readonly parentSchema?: Record<string, unknown>;
  readonly data?: unknown;
}

/** `/prefixes/0/len` under `body` as `body.prefixes[0].len`. */
export function fieldPath(root: string, pointer: string): string {
  let out = root;
  if (pointer === '') return out;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
  }
  return out;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function expectedOf(s: unknown): string | undefined {
  const e = (s as { expected?: unknown } | undefined)?.expected;
  return typeof e === 'string' ? e : undefined;
}

/** The error a message is about. */
function pickError(errors: readonly AjvErrorLike[]): AjvErrorLike | undefined {
  // A failed union reports every branch's errors and then its own; the union's phrase is the
  // one that helps (the branches' would each describe only one alternative).
  return errors.find((x) => x.keyword === 'anyOf' || x.keyword === 'oneOf') ?? errors[0];
}

/** One message naming the field and what it must be, from fastify's validation errors. */
export function validationMessage(
  root: string,
  errors: readonly AjvErrorLike[],
  formats: Readonly<Record<string, FormatSpec>> = {},
): string {
  const e = pickError(errors);
  if (e === undefined) return `${root}: invalid`;
  const path = fieldPath(root, e.instancePath);
  switch (e.keyword) {
    case 'required': {
      const name = String(e.params.missingProperty);
      const props = e.parentSchema?.properties as Record<string, unknown> | undefined;
      const expected = expectedOf(props?.[name]);
      const where = `${path}.${name}`;
      return expected === undefined ? `${where} is missing` : `${where} is missing; it must be ${expected}`;
    }
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
      const key = String(e.params.additionalProperty);
      return `${path} has an unknown key "${key}"${allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : ''}`;
    }
    case 'format': {
      const problem =
        typeof e.data === 'string' ? formats[String(e.params.format)]?.check(e.data) : undefined;
      const expected = expectedOf(e.parentSchema) ?? `a string in the ${String(e.params.format)} format`;
      return problem === undefined
        ? `${path}: must be ${expected}, not ${show(e.data)}`
        : `${path}: must be ${expected}; ${problem}`;
    }
    default: {
      const expected = expectedOf(e.parentSchema);
      if (expected !== undefined) return `${path}: must be ${expected}, not ${show(e.data)}`;
      return `${path}: ${e.message ?? 'is invalid'}, not ${show(e.data)}`;
    }
  }
}

// ===== Server =====

/** Where and how the admin server listens. */
export interface AdminOptions {
  readonly host: string;
  readonly port: number;
  /** Bearer token; required when `host` is not a loopback address, enforced whenever set. */
  readonly token?: string;
  readonly log?: pino.Logger;
  /** The daemon's error codes (merged with ADMIN_ERRORS). */
  readonly errors?: ErrorCatalogue;
  /** String formats for schemas, e.g. `ipv6-prefix`; `ipv4` and `ipv6` may be overridden. */
  readonly formats?: Readonly<Record<string, FormatSpec>>;
  readonly bodyLimit?: number;
}

/** A string format: `check` returns undefined when the value is fine, else what is wrong with it. */
export interface FormatSpec {
  readonly check: (value: string) => string | undefined;
  /** The catalogue code a value failing this format is reported with (default ADMIN_ERR_VALIDATION). */
  readonly code?: string;
}

/** A configuration that cannot be served (non-loopback address without a token). */
export class AdminConfigError extends Error {
  override name = 'AdminConfigError';
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h.startsWith('::ffff:127.');
}

/** Compare two strings without leaking where they differ (hashing equalises the lengths). */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export class AdminServer {
  readonly app: FastifyInstance;
  /** Every route registered, for the OpenAPI document. */
  readonly routes: RouteRecord[];
  /** The merged catalogue. */
  readonly catalogue: ErrorCatalogue;
  /** The schema of error bodies (added to every route's 4xx/5xx responses). */
  readonly errorBody: TSchema;
  private readonly log: pino.Logger;

  constructor(private readonly opts: AdminOptions) {
    if (!isLoopbackHost(opts.host) && (opts.token === undefined || opts.token === '')) {
      throw new AdminConfigError(
        `the admin API would listen on ${opts.host}, which is not a loopback address; give it a bearer token (--token) or bind 127.0.0.1`,
      );
    }
    this.log = opts.log ?? pino({ level: 'silent' });
    this.catalogue = { ...ADMIN_ERRORS, ...opts.errors };
    this.errorBody = errorBodySchema(this.catalogue);
    const formats = opts.formats ?? {};
    this.app = Fastify({
      loggerInstance: this.log,
      logController: new LogController({ disableRequestLogging: true }),
      exposeHeadRoutes: false,
      bodyLimit: opts.bodyLimit ?? 1 << 20,
      ajv: {
        customOptions: { coerceTypes: false, removeAdditional: false, verbose: true, allErrors: false },
        onCreate: (ajv) => {
          ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
          for (const [name, f] of Object.entries(formats)) {
            ajv.addFormat(name, { type: 'string', validate: (v: string) => f.check(v) === undefined });
          }
        },
      },
    }) as unknown as FastifyInstance;
    // The error responses are added to each route's schema before the route is recorded.
    this.installHooks();
    this.routes = collectRoutes(this.app);
  }

  private installHooks(): void {
    const app = this.app;
    const errorBody = this.errorBody;
    // Every route answers errors with the same body; declare it so that the document says so.
    app.addHook('onRoute', (r) => {
      const schema = (r.schema ??= {});
      const response = (schema.response ??= {}) as Record<string, unknown>;
      response['4xx'] ??= errorBody;
      response['5xx'] ??= errorBody;
    });
    const token = this.opts.token;
    if (token !== undefined && token !== '') {
      app.addHook('onRequest', (req, reply, done) => {
        const h = req.headers.authorization ?? '';
        const m = /^Bearer[ ]+(\S+)$/i.exec(h);
        if (m !== null && sameSecret(m[1]!, token)) {
          done();
          return;
        }
        void reply.header('www-authenticate', 'Bearer realm="admin"');
        done(
          adminError(
            'ADMIN_ERR_UNAUTHORIZED',
            m === null
              ? 'this admin API needs a bearer token: send "Authorization: Bearer <token>"'
              : 'the bearer token is wrong',
          ),
        );
      });
    }
    app.addHook('onResponse', (req, reply, done) => {
      req.log.debug(
        { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'admin request',
      );
      done();
    });
    app.setNotFoundHandler((req, reply) => {
      void reply
        .code(404)
        .send({ code: 'ADMIN_ERR_NOT_FOUND', message: `no endpoint ${req.method} ${req.url.split('?')[0]}` });
    });
    app.setErrorHandler((error: FastifyError | ApiError, req, reply) => {
      const body = this.toBody(error);
      const status = this.catalogue[body.code]?.status ?? 500;
      if (status >= 500) req.log.error({ err: error, url: req.url }, 'admin request failed');
      void reply.code(status).send(body);
    });
  }

  /** Map any error to the uniform body. */
  private toBody(error: FastifyError | ApiError): { code: string; message: string } {
    if (error instanceof ApiError) return { code: error.code, message: error.message };
    if (error.validation !== undefined) {
      const root =
        error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'request');
      const errors = error.validation as unknown as AjvErrorLike[];
      return {
        code: this.formatCode(errors) ?? 'ADMIN_ERR_VALIDATION',
        message: validationMessage(root, errors, this.opts.formats),
      };
    }
    const status = error.statusCode ?? 500;
    if (status === 413) return { code: 'ADMIN_ERR_PAYLOAD_TOO_LARGE', message: error.message };
    if (status === 415) {
      return {
        code: 'ADMIN_ERR_UNSUPPORTED_MEDIA_TYPE',
        message: `${error.message}; send the body as "Content-Type: application/json"`,
      };
    }
    if (status >= 400 && status < 500) {
      if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
        return { code: 'ADMIN_ERR_BAD_REQUEST', message: 'body: is not valid JSON' };
      }
      if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        return {
          code: 'ADMIN_ERR_BAD_REQUEST',
          message: 'body: is empty although the content type is application/json; send a JSON body',
        };
      }
      return { code: 'ADMIN_ERR_BAD_REQUEST', message: error.message };
    }
    return { code: 'ADMIN_ERR_INTERNAL', message: `internal error: ${error.message}` };
  }

  /** The daemon's code for a value that failed one of its formats, if that is the problem. */
  private formatCode(errors: readonly AjvErrorLike[]): string | undefined {
    const e = pickError(errors);
    if (e?.keyword !== 'format') return undefined;
    return this.opts.formats?.[String(e.params.format)]?.code;
  }

  /** Listen; returns the bound address and port (useful with port 0). */
  async listen(): Promise<{ host: string; port: number }> {
    await this.app.listen({ host: this.opts.host, port: this.opts.port });
    const a = this.app.server.address();
    if (a === null || typeof a === 'string') return { host: this.opts.host, port: this.opts.port };
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  /** The OpenAPI document of the routes registered so far. */
  openapi(info: { title: string; version: string; description?: string }): OpenApiDocument {
    return buildOpenApi(this.routes, info, { components: { Error: this.errorBody }, bearerAuth: true });
  }
}
