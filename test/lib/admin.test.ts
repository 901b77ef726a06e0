// The shared admin server: loopback and token rules, the error catalogue and uniform error body,
// validation messages that name the field, request logs at debug, and the route list.
import { Writable } from 'node:stream';
import pino from 'pino';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_ERRORS,
  AdminServer,
  errorFactory,
  fieldPath,
  isLoopbackHost,
  validationMessage,
} from '../../lib/admin.js';
import { documented } from '../../lib/openapi.js';

// Parsed JSON bodies, read loosely as tests do.
type Json = ReturnType<typeof JSON.parse>;

const TOY_ERRORS = { TOY_ERR_EMPTY: { status: 409, description: 'The shelf is empty.' } } as const;
const toyError = errorFactory(TOY_ERRORS);

function toy(opts: { token?: string; log?: pino.Logger } = {}): AdminServer {
  const s = new AdminServer({
    host: '127.0.0.1',
    port: 0,
    errors: TOY_ERRORS,
    formats: {
      even: { check: (v) => (/^\d*[02468]$/.test(v) ? undefined : `'${v}' is odd`), code: 'TOY_ERR_EMPTY' },
    },
    ...opts,
  });
  s.app.get(
    '/shelf',
    {
      schema: documented({
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ pattern: '^[0-9]+$', expected: 'a whole number such as 10' })),
          },
          { additionalProperties: false },
        ),
      }),
    },
    () => {
      throw toyError('TOY_ERR_EMPTY', 'nothing on the shelf; add a book first');
    },
  );
  s.app.put(
    '/book',
    {
      schema: documented({
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, expected: 'a non-empty title' }),
            pages: Type.Integer({ minimum: 1 }),
            shelf: Type.Optional(Type.String({ format: 'even', expected: 'an even shelf number' })),
          },
          { additionalProperties: false },
        ),
      }),
    },
    () => ({ ok: true }),
  );
  s.app.get('/crash', () => {
    throw new Error('disk on fire');
  });
  return s;
}

describe('admin server rules', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'fe80::1', '128.0.0.1', 'example.com']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it('writes JSON pointers as field paths', () => {
    expect(fieldPath('body', '')).toBe('body');
    expect(fieldPath('body', '/prefixes/0')).toBe('body.prefixes[0]');
    expect(fieldPath('query', '/a~1b/2/c')).toBe('query.a/b[2].c');
  });

  it('enforces a configured token even on loopback', async () => {
    const s = toy({ token: 't' });
    expect((await s.app.inject({ method: 'GET', url: '/shelf' })).statusCode).toBe(401);
    const r = await s.app.inject({ method: 'GET', url: '/shelf', headers: { authorization: 'bearer t' } });
    expect(r.statusCode).toBe(409);
  });
});

describe('admin server errors', () => {
  it('renders catalogue errors with their status', async () => {
    const r = await toy().app.inject({ method: 'GET', url: '/shelf' });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toEqual({ code: 'TOY_ERR_EMPTY', message: 'nothing on the shelf; add a book first' });
  });

  it('names the field and what it must be', async () => {
    const s = toy();
    const cases: [string, unknown, string, string][] = [
      ['/book', { pages: 3 }, 'ADMIN_ERR_VALIDATION', 'body.title is missing; it must be a non-empty title'],
      [
        '/book',
        { title: '', pages: 3 },
        'ADMIN_ERR_VALIDATION',
        'body.title: must be a non-empty title, not ""',
      ],
      ['/book', { title: 'x', pages: '3' }, 'ADMIN_ERR_VALIDATION', 'body.pages: must be integer, not "3"'],
      ['/book', { title: 'x', pages: 0 }, 'ADMIN_ERR_VALIDATION', 'body.pages: must be >= 1, not 0'],
      [
        '/book',
        { title: 'x', pages: 1, shelf: '3' },
        'TOY_ERR_EMPTY',
        "body.shelf: must be an even shelf number; '3' is odd",
      ],
      ['/book', [], 'ADMIN_ERR_VALIDATION', 'body: must be object, not []'],
    ];
    for (const [url, body, code, message] of cases) {
      const r = await s.app.inject({ method: 'PUT', url, payload: body as object });
      expect(r.json(), JSON.stringify(body)).toEqual({ code, message });
    }
    const q = await s.app.inject({ method: 'GET', url: '/shelf?limit=ten' });
    expect(q.statusCode).toBe(400);
    expect(q.json()).toEqual({
      code: 'ADMIN_ERR_VALIDATION',
      message: 'query.limit: must be a whole number such as 10, not "ten"',
    });
  });

  it('reports an unexpected failure as ADMIN_ERR_INTERNAL and logs it', async () => {
    const lines: Json[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()));
        cb();
      },
    });
    const s = toy({ log: pino({ level: 'debug' }, sink) });
    const r = await s.app.inject({ method: 'GET', url: '/crash' });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ code: 'ADMIN_ERR_INTERNAL', message: 'internal error: disk on fire' });
    await s.app.inject({ method: 'GET', url: '/shelf' });
    expect(lines.some((l) => l.level === 50 && l.msg === 'admin request failed')).toBe(true);
    const req = lines.filter((l) => l.msg === 'admin request');
    expect(req.map((l) => [l.level, l.method, l.url, l.status])).toEqual([
      [20, 'GET', '/crash', 500],
      [20, 'GET', '/shelf', 409],
    ]);
  });

  it('chooses the union phrase over its branches', () => {
    const msg = validationMessage('body', [
      { keyword: 'required', instancePath: '/x', params: { missingProperty: 'V4' } },
      { keyword: 'anyOf', instancePath: '/x', params: {}, parentSchema: { expected: 'V4 or V6' }, data: {} },
    ]);
    expect(msg).toBe('body.x: must be V4 or V6, not {}');
  });

  it('merges the catalogue and declares error responses on every route', () => {
    const s = toy();
    expect(Object.keys(s.catalogue).sort()).toEqual([...Object.keys(ADMIN_ERRORS), 'TOY_ERR_EMPTY'].sort());
    const doc = s.openapi({ title: 'toy', version: '0' }) as Json;
    expect(Object.keys(doc.paths).sort()).toEqual(['/book', '/crash', '/shelf']);
    expect(doc.paths['/book'].put.responses['4XX'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    expect(doc.components.schemas.Error.properties.code.enum).toContain('TOY_ERR_EMPTY');
  });
});
