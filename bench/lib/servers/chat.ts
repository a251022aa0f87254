import { rmSync } from 'node:fs';
import { startBenchChatServer } from '../bench-chat-server.ts';
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
  const { server, dataDir } = await startBenchChatServer({
    WS_RATE_LIMIT: String(options.ratePerSecond),
    WS_RATE_WINDOW_SECONDS: '1',
  });
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
