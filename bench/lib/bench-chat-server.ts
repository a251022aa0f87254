/**
 * The real chat server as the benches run it: a fresh SQLite file in a temporary directory, a
 * random secret, quiet logs, no web app, and whatever limits the bench sets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatServer, startChatServer } from '@switchboard/chat/src/chat-server.ts';
import { loadConfig } from '@switchboard/chat/src/config.ts';

export async function startBenchChatServer(
  env: Record<string, string>,
): Promise<{ server: ChatServer; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const server = await startChatServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'warn',
      WEB_DIST: join(dataDir, 'no-web-app'),
      ...env,
    }),
  );
  return { server, dataDir };
}
