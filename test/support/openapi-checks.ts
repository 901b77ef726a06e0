// The checks every committed OpenAPI document gets (STYLE.md rule 14): it equals the document
// generated from the routes, generation is deterministic, every operation has a JSON success and
// an error response with unique operation ids, every $ref resolves and no private schema keyword
// leaks. Each daemon's test calls `describeOpenApiDocument` and adds its own checks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stableJson, type OpenApiDocument } from '../../lib/openapi.js';

export type Json = ReturnType<typeof JSON.parse>;

export interface OpenApiCase {
  /** Path of the committed document from the repository root, e.g. `openapi/mgd.json`. */
  readonly file: string;
  /** The module whose routes the document comes from (named in the failure message). */
  readonly source: string;
  readonly generate: () => OpenApiDocument;
  /** Every operation the document must hold, as `VERB /path`. */
  readonly operations: readonly string[];
  /** Error codes the shared Error schema must list (at least these). */
  readonly errorCodes: readonly string[];
}

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

/** Register the shared checks of one committed document; `extra` adds the daemon's own. */
export function describeOpenApiDocument(c: OpenApiCase, extra?: () => void): void {
  describe(c.file, () => {
    it('is up to date with the routes', () => {
      const committed = readFileSync(new URL(`../../${c.file}`, import.meta.url), 'utf8');
      const generated = stableJson(c.generate());
      if (committed !== generated) {
        expect.fail(
          `${c.file} differs from the document generated from ${c.source} (${firstDifference(committed, generated)}); ` +
            `run \`npm run openapi\` and commit ${c.file}`,
        );
      }
    });

    it('generation is deterministic', () => {
      expect(stableJson(c.generate())).toBe(stableJson(c.generate()));
    });

    it('documents every endpoint with a success and an error response', () => {
      const doc = c.generate() as Json;
      const paths = doc.paths as Record<string, Record<string, Json>>;
      const ops = Object.entries(paths).flatMap(([p, m]) =>
        Object.keys(m).map((verb) => `${verb.toUpperCase()} ${p}`),
      );
      expect(ops.sort()).toEqual([...c.operations].sort());
      const ids = new Set<string>();
      for (const m of Object.values(paths)) {
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
        expect.arrayContaining([...c.errorCodes]),
      );
    });

    it('every reference resolves and no private keyword leaks', () => {
      const doc = c.generate() as Json;
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

    extra?.();
  });
}
