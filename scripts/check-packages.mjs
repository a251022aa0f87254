// Lints what npm would publish for each library package: publint (package.json against the packed
// files) and Are the Types Wrong (every export resolves to JavaScript and declarations under
// node16 ESM and bundler resolution; the packages are ESM-only, so CommonJS `require` is not a goal).
// Expects `npm run build:packages` first (`npm run check:packages` does both).
import { spawnSync } from 'node:child_process';

const packages = ['protocol', 'server', 'redis', 'client'];
const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
let failed = 0;

for (const name of packages) {
  const dir = `packages/${name}`;
  for (const [tool, args] of [
    ['publint', ['--strict', dir]],
    ['attw', ['--pack', dir, '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    const run = spawnSync(bin(tool), args, { stdio: 'inherit' });
    if (run.status !== 0) {
      console.error(`✗ ${tool} failed for @switchboard/${name}`);
      failed++;
    }
  }
}
if (failed > 0) process.exit(1);
console.log(`publint and attw pass for ${packages.map((p) => `@switchboard/${p}`).join(', ')}`);
