// The committed OpenAPI document of the mgd admin API must equal the one generated from the
// routes (STYLE.md rule 14), and the document must be complete and self-consistent
// (test/support/openapi-checks.ts). GET /metrics is Prometheus text and stays out of it.
import { expect, it } from 'vitest';
import { mgdOpenApi } from '../../mgd/admin.js';
import { describeOpenApiDocument, type Json } from '../support/openapi-checks.js';

describeOpenApiDocument(
  {
    file: 'openapi/mgd.json',
    source: 'mgd/admin.ts',
    generate: mgdOpenApi,
    operations: ['GET /fib', 'GET /neighbors', 'GET /rib/ipv4', 'GET /rib/ipv6'],
    errorCodes: ['MGD_ERR_BAD_PREFIX', 'ADMIN_ERR_VALIDATION', 'ADMIN_ERR_UNAUTHORIZED'],
  },
  () => {
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
  },
);
