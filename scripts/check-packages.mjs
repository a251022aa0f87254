// Lints what npm would publish for each library package: publint (package.json against the packed
// files) and Are the Types Wrong (every export resolves to JavaScript and declarations under
// node16 ESM and bundler resolution; the packages are ESM-only, so CommonJS `require` is not a goal).
// Expects `npm run build:packages` first (`npm run check:packages` does both).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

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
  // Neither tool notices an import of a package the manifest does not declare (it works in the
  // workspace, where everything is hoisted, and fails for a user): check the built files here.
  for (const missing of undeclaredImports(dir)) {
    console.error(`✗ @switchboard/${name} imports ${missing.pkg} (${missing.file}) without declaring it`);
    failed++;
  }
}

/** Bare imports of built JavaScript and declarations that no dependency field of the manifest names. */
function undeclaredImports(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const declared = new Set(
    ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((f) =>
      Object.keys(manifest[f] ?? {}),
    ),
  );
  const missing = [];
  for (const file of readdirSync(join(dir, 'dist'), { recursive: true })) {
    if (!/\.(js|d\.ts)$/.test(file)) continue;
    // Comments dropped first: their examples and prose ("starts from 'now'") are not imports.
    const code = readFileSync(join(dir, 'dist', file), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const statements =
      /^\s*(?:import|export)\s[^;'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
    for (const match of code.matchAll(statements)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier))
        continue;
      const pkg = specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
      // Declarations importing `ws` are served by @types/ws, which the manifest declares instead.
      if (!declared.has(pkg) && !declared.has(`@types/${pkg}`)) missing.push({ pkg, file });
    }
  }
  return missing;
}

if (failed > 0) process.exit(1);
console.log(
  `publint, attw and the import check pass for ${packages.map((p) => `@switchboard/${p}`).join(', ')}`,
);
