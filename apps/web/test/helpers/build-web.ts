/** Builds the web app from the current sources into a temporary directory for the server to serve. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function buildWebApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'switchboard-web-dist-'));
  await build({
    configFile: join(WEB_ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}
