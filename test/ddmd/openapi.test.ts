// The committed OpenAPI document of the ddmd admin API must equal the one generated from the
// routes (STYLE.md rule 14), and the document must be complete and self-consistent.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ddmOpenApi } from '../../ddmd/admin.js';
import { stableJson } from '../../lib/openapi.js';

type Json = ReturnType<typeof JSON.parse>;

const FILE = new URL('../../openapi/ddmd.json', import.meta.url);

function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i])
      return `line ${i + 1}: committed ${JSON.stringify(la[i])}, generated ${JSON.stringify(lb[i])}`;
  }
  return 'none';
}

function walk(v: Json, visit: (o: Record<string, Json>) => void): void {
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (v !== null && typeof v === 'object') {
    visit(v);
    for (const x of Object.values(v)) walk(x, visit);
  }
}

describe('openapi/ddmd.json', () => {
  it('is up to date with the routes', () => {
    const committed = readFileSync(FILE, 'utf8');
    const generated = stableJson(ddmOpenApi());
    if (committed !== generated) {
      expect.fail(
        `openapi/ddmd.json differs from the document generated from ddmd/admin.ts (${firstDifference(committed, generated)}); ` +
          'run `npm run openapi` and commit openapi/ddmd.json',
      );
    }
  });

  it('generation is deterministic', () => {
    expect(stableJson(ddmOpenApi())).toBe(stableJson(ddmOpenApi()));
  });

  it('documents every endpoint with a success and an error response', () => {
    const doc = ddmOpenApi() as Json;
    const ops = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([p, m]) =>
      Object.keys(m).map((verb) => `${verb.toUpperCase()} ${p}`),
    );
    expect(ops.sort()).toEqual(
      [
        'GET /peers',
        'DELETE /peers/{ifname}',
        'GET /originated',
        'PUT /prefix',
        'DELETE /prefix',
        'GET /prefixes',
        'GET /originated_tunnel_endpoints',
        'GET /tunnel_endpoints',
        'PUT /tunnel_endpoint',
        'DELETE /tunnel_endpoint',
        'PUT /sync',
        'GET /fib/errors',
      ].sort(),
    );
    const ids = new Set<string>();
    for (const m of Object.values(doc.paths as Record<string, Record<string, Json>>)) {
      for (const op of Object.values(m)) {
        expect(op.responses['200'].content['application/json'].schema).toBeDefined();
        expect(op.responses['4XX'].content['application/json'].schema.$ref).toBe(
          '#/components/schemas/Error',
        );
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
      }
    }
    expect(doc.components.schemas.Error.properties.code.enum).toEqual(
      expect.arrayContaining(['DDM_ERR_BAD_PREFIX', 'DDM_ERR_NO_SUCH_INTERFACE', 'ADMIN_ERR_VALIDATION']),
    );
  });

  it('every reference resolves and no private keyword leaks', () => {
    const doc = ddmOpenApi() as Json;
    walk(doc, (o) => {
      expect(o).not.toHaveProperty('expected');
      if (typeof o.$ref === 'string') {
        const target = o.$ref
          .slice(2)
          .split('/')
          .reduce((x: Json, k: string) => x?.[k], doc);
        expect(target, o.$ref).toBeDefined();
      }
    });
  });
});
