/**
 * The real chat server (`startChatServer`) on a fresh SQLite file in a temporary directory, with
 * one public room whose members are bench users. Users are created through the storage module
 * (not REST): password hashing is deliberately slow and not what this bench measures.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChatServer } from '@switchboard/chat/src/chat-server.ts';
import { loadConfig } from '@switchboard/chat/src/config.ts';
import { benchOptions, runBenchServer } from '../server-child.ts';

export interface ChatServerOptions {
  members: number;
  /** Chat frames a user may send per second (WS_RATE_LIMIT over a one-second window). */
  ratePerSecond: number;
}

export interface ChatServerInfo {
  slug: string;
  /** One access token per member. */
  tokens: string[];
  dataDir: string;
}

export const BENCH_ROOM_SLUG = 'bench';

runBenchServer<ChatServerInfo>(async () => {
  const options = benchOptions<ChatServerOptions>();
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const server = await startChatServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'warn',
      WS_RATE_LIMIT: String(options.ratePerSecond),
      WS_RATE_WINDOW_SECONDS: '1',
      WEB_DIST: join(dataDir, 'no-web-app'),
    }),
  );
  const { storage, tokens } = server;
  const users = [];
  for (let i = 0; i < options.members; i++) {
    users.push(await storage.createUser(`bench${i}`, 'not-a-password-hash: bench users never log in'));
  }
  const room = await storage.createRoom({
    slug: BENCH_ROOM_SLUG,
    name: 'Bench',
    isPrivate: false,
    isDirect: false,
    hostId: users[0]!.id,
  });
  for (const user of users) await storage.addMember(room.id, user.id);
  const access = await Promise.all(users.map(async (user) => (await tokens.issue(user)).access));
  return {
    port: server.port,
    info: { slug: room.slug, tokens: access, dataDir },
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
