// The committed OpenAPI document of the ddmd admin API must equal the one generated from the
// routes (STYLE.md rule 14), and the document must be complete and self-consistent
// (test/support/openapi-checks.ts).
import { ddmOpenApi } from '../../ddmd/admin.js';
import { describeOpenApiDocument } from '../support/openapi-checks.js';

describeOpenApiDocument({
  file: 'openapi/ddmd.json',
  source: 'ddmd/admin.ts',
  generate: ddmOpenApi,
  operations: [
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
  ],
  errorCodes: ['DDM_ERR_BAD_PREFIX', 'DDM_ERR_NO_SUCH_INTERFACE', 'ADMIN_ERR_VALIDATION'],
});
