import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startChatServer } from '../src/chat-server.ts';
import { loadConfig } from '../src/config.ts';

describe('docs/asyncapi.json', () => {
  it('is the document the running server generates from its schemas (run `npm run asyncapi` after a change)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sb-asyncapi-'));
    const server = await startChatServer(
      loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', JWT_SECRET: 'k'.repeat(40) }),
    );
    try {
      const served = await (await fetch(`${server.url}/asyncapi.json`)).json();
      const committed = JSON.parse(
        readFileSync(new URL('../../../docs/asyncapi.json', import.meta.url), 'utf8'),
      );
      expect(served).toEqual(committed);
      expect(Object.keys(served.channels)).toContain('chat');
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
