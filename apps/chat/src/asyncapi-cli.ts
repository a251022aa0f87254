/** `npm run asyncapi`: prints the AsyncAPI document of a chat server started on a throwaway data dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatAsyncApi } from './asyncapi.ts';
import { startChatServer } from './chat-server.ts';
import { loadConfig } from './config.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-asyncapi-'));
const server = await startChatServer(
  loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', JWT_SECRET: 'x'.repeat(48) }),
);
process.stdout.write(`${JSON.stringify(chatAsyncApi(server.switchboard), null, 2)}\n`);
await server.close();
rmSync(dataDir, { recursive: true, force: true });
