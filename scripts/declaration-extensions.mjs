// After `tsc` (run from a package directory): rewrites relative `.ts` specifiers in dist/**/*.d.ts
// to `.js`. rewriteRelativeImportExtensions fixes the emitted JavaScript but leaves declarations
// importing './x.ts', which only TypeScript 5 resolves; with `.js` every TypeScript that reads
// `exports` (4.7+, node16 or bundler resolution) does, like any other package.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const relativeTs = /((?:from\s*|import\(\s*)['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g;
let files = 0;
for (const file of readdirSync('dist', { recursive: true })) {
  if (!file.endsWith('.d.ts')) continue;
  const path = join('dist', file);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(relativeTs, '$1.js$2');
  if (fixed !== text) {
    writeFileSync(path, fixed);
    files++;
  }
}
console.log(`declarations: .ts → .js specifiers in ${files} files`);
