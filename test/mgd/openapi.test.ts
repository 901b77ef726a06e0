// The committed OpenAPI document of the mgd admin API must equal the one generated from the
// routes (STYLE.md rule 14), and the document must be complete and self-consistent.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mgdOpenApi } from '../../mgd/admin.js';
import { stableJson } from '../../lib/openapi.js';

type Json = ReturnType<typeof JSON.parse>;

const FILE = new URL('../../openapi/mgd.json', import.meta.url);

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

describe('openapi/mgd.json', () => {
  it('is up to date with the routes', () => {
    const committed = readFileSync(FILE, 'utf8');
    const generated = stableJson(mgdOpenApi());
    if (committed !== generated) {
      expect.fail(
        `openapi/mgd.json differs from the document generated from mgd/admin.ts (${firstDifference(committed, generated)}); ` +
          'run `npm run openapi` and commit openapi/mgd.json',
      );
    }
  });

  it('generation is deterministic', () => {
    expect(stableJson(mgdOpenApi())).toBe(stableJson(mgdOpenApi()));
  });

  it('documents every JSON endpoint with a success and an error response', () => {
    const doc = mgdOpenApi() as Json;
    const ops = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([p, m]) =>
      Object.keys(m).map((verb) => `${verb.toUpperCase()} ${p}`),
    );
    // GET /metrics is Prometheus text and stays out of the document.
    expect(ops.sort()).toEqual(['GET /fib', 'GET /neighbors', 'GET /rib/ipv4', 'GET /rib/ipv6'].sort());
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
      expect.arrayContaining(['MGD_ERR_BAD_PREFIX', 'ADMIN_ERR_VALIDATION', 'ADMIN_ERR_UNAUTHORIZED']),
    );
  });

  it('documents the paging parameters of the RIB endpoints', () => {
    const doc = mgdOpenApi() as Json;
    for (const family of ['ipv4', 'ipv6']) {
      const params = doc.paths[`/rib/${family}`].get.parameters as Json[];
      expect(params.map((p) => [p.name, p.in, p.required])).toEqual([
        ['limit', 'query', false],
        ['after', 'query', false],
        ['prefix', 'query', false],
      ]);
      expect(params[1].schema.format).toBe(`${family}-prefix`);
    }
  });

  it('every reference resolves and no private keyword leaks', () => {
    const doc = mgdOpenApi() as Json;
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
