// Prints the vitest JSON report as one plain closing line ("tests: N passed, N failed, N skipped"),
// which CI reads; vitest's own summary line has another shape.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-output/vitest.json';
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
} catch (error) {
  console.log(`tests: no report at ${file} (${error.message})`);
}
