// Prints one closing line for the whole suite from vitest's JSON reports:
// "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  let r;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    continue;
  }
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that failed before running any test (an import error) counts as one failure.
  for (const f of r.testResults ?? []) {
    if (f.status === 'failed' && (f.assertionResults ?? []).length === 0) failed++;
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
