import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The workspace packages resolve to their source through tsconfig.json `paths` (their package.json
  // `exports` point at dist/, which tests must not depend on).
  resolve: { tsconfigPaths: true },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'tests/**/*.test.ts',
      'docs/**/*.test.ts',
    ],
    // The packaging fixture's own test runs inside the installed temp project, not here.
    exclude: ['**/node_modules/**', 'tests/packaging/fixture/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start real servers, databases and browsers; two cores do not profit from more workers.
    maxWorkers: 2,
  },
});
