// OpenAPI document generation from fastify routes: paths, parameters, bodies, responses,
// references to components, hidden routes and deterministic output.
import Fastify from 'fastify';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { buildOpenApi, collectRoutes, documented, openApiPath, stableJson } from '../../lib/openapi.js';

// Parsed JSON bodies, read loosely as tests do.
type Json = ReturnType<typeof JSON.parse>;

function sample() {
  const app = Fastify({ exposeHeadRoutes: true });
  const routes = collectRoutes(app);
  const Err = Type.Object({ code: Type.String(), message: Type.String() });
  const Item = Type.Object({ name: Type.String({ expected: 'a name such as "a"' }), size: Type.Integer() });
  app.get(
    '/items/:name',
    {
      schema: documented({
        operationId: 'get_item',
        summary: 'One item',
        tags: ['items'],
        params: Type.Object({ name: Type.String({ description: 'Item name' }) }),
        querystring: Type.Object({ verbose: Type.Optional(Type.String()), limit: Type.String() }),
        response: { 200: Item, '4xx': Err },
      }),
    },
    () => ({ name: 'a', size: 1 }),
  );
  app.put('/items', { schema: documented({ body: Item, response: { 204: Type.Null() } }) }, () => null);
  app.get('/hidden', { schema: documented({ hide: true }) }, () => 'x');
  app.get('/bare', () => 'x');
  return { app, routes, Err };
}

describe('OpenAPI generation', () => {
  it('turns fastify URLs into path templates', () => {
    expect(openApiPath('/peers/:ifname')).toBe('/peers/{ifname}');
    expect(openApiPath('/a/:x/b/:y_z')).toBe('/a/{x}/b/{y_z}');
    expect(openApiPath('/plain')).toBe('/plain');
  });

  it('describes operations, parameters, bodies and responses', () => {
    const { routes, Err } = sample();
    const doc = buildOpenApi(routes, { title: 't', version: '1' }, { components: { Error: Err } }) as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/bare', '/items', '/items/{name}']);
    const get = doc.paths['/items/{name}'].get;
    expect(get.operationId).toBe('get_item');
    expect(get.tags).toEqual(['items']);
    expect(get.parameters).toEqual([
      {
        description: 'Item name',
        in: 'path',
        name: 'name',
        required: true,
        schema: { description: 'Item name', type: 'string' },
      },
      { in: 'query', name: 'verbose', required: false, schema: { type: 'string' } },
      { in: 'query', name: 'limit', required: true, schema: { type: 'string' } },
    ]);
    // `expected` becomes the description; TypeBox's symbol keys are gone.
    expect(get.responses['200'].content['application/json'].schema.properties.name).toEqual({
      description: 'a name such as "a"',
      type: 'string',
    });
    expect(get.responses['4XX']).toEqual({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      description: 'Client error: the body names a stable error code and says what to fix',
    });
    expect(doc.components.schemas.Error.required).toEqual(['code', 'message']);
    expect(doc.paths['/items'].put.requestBody.content['application/json'].schema.required).toEqual([
      'name',
      'size',
    ]);
    expect(doc.paths['/items'].put.responses['204'].description).toBe('No content');
    expect(doc.paths['/bare'].get.responses).toEqual({ default: { description: 'Response' } });
    // HEAD routes fastify adds and hidden routes are left out.
    expect(Object.keys(doc.paths['/items/{name}'])).toEqual(['get']);
    expect(doc.paths['/hidden']).toBeUndefined();
  });

  it('is deterministic: sorted keys regardless of registration order', () => {
    const a = sample();
    const b = Fastify();
    const rb = collectRoutes(b);
    b.get('/bare', () => 'x');
    b.put(
      '/items',
      { schema: documented({ body: Type.Object({ size: Type.Integer(), name: Type.String() }) }) },
      () => null,
    );
    const da = stableJson(
      buildOpenApi(
        a.routes.filter((r) => r.url !== '/items/:name'),
        { version: '1', title: 't' },
      ),
    );
    const db = stableJson(buildOpenApi(rb, { title: 't', version: '1' }));
    expect(JSON.parse(da).paths['/bare']).toEqual(JSON.parse(db).paths['/bare']);
    expect(stableJson({ b: 1, a: { d: [3, 1], c: null } })).toBe(
      '{\n  "a": {\n    "c": null,\n    "d": [\n      3,\n      1\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it('declares the optional bearer token', () => {
    const { routes } = sample();
    const doc = buildOpenApi(routes, { title: 't', version: '1' }, { bearerAuth: true }) as Json;
    expect(doc.components.securitySchemes).toEqual({ bearer: { scheme: 'bearer', type: 'http' } });
    expect(doc.security).toEqual([{}, { bearer: [] }]);
  });
});
