/**
 * The framework's full path for the fan-out cases: JWT-authenticated connections, a consumer that
 * validates the client frame against the chat protocol's zod schema (and rate-limits it), and a
 * group broadcast through the in-memory layer of a chat-shaped frame that `forward` serialises
 * once per node. No storage (the persisted-chat case measures that). With `redis`, the node runs
 * as one of several sharing a Redis channel layer and rate limiter, as the chat server does with
 * REDIS_URL (the scale-out case).
 */
import { createServer } from 'node:http';
import { chatClientFrames } from '@switchboard/protocol';
import { RedisChannelLayer, RedisRateLimiter } from '@switchboard/redis';
import { defineConsumer, jwtAuthenticator, Switchboard } from '@switchboard/server';
import { pino } from 'pino';
import { BENCH_ROOM, chatBroadcast } from '../chat-frame.ts';
import { benchOptions, runBenchServer } from '../server-child.ts';

export interface SwitchboardRoomOptions {
  jwtSecret: string;
  /** permessage-deflate threshold in bytes; absent = compression off (the default). */
  compressionThreshold?: number;
  /** Share a Redis channel layer and rate limiter with the other nodes using this URL and prefix. */
  redis?: { url: string; prefix: string };
}

const group = (room: string) => `room.${room}`;

const roomConsumer = defineConsumer({
  messages: { chat_message: chatClientFrames.chat_message },
  async connect(conn) {
    // Publishers (`?listen=0`) only send; everyone else is a member of the room's group.
    if (conn.query.get('listen') !== '0') await conn.groupAdd(group(conn.params.room ?? BENCH_ROOM));
    // The connection-setup case counts a setup as done when this first frame arrives.
    if (conn.query.get('welcome') === '1') conn.send({ type: 'welcome' });
    return { seq: 0, author: { id: Number(conn.principal.id), username: `user${conn.principal.id}` } };
  },
  handlers: {
    chat_message(conn, frame) {
      const broadcast = chatBroadcast(
        ++conn.state.seq,
        conn.state.author,
        frame.message,
        frame.client_id ?? null,
      );
      void conn.layer.groupSend(group(conn.params.room ?? BENCH_ROOM), broadcast);
    },
  },
  forward: { chat_message: true },
});

runBenchServer(async () => {
  const options = benchOptions<SwitchboardRoomOptions>();
  const layer = options.redis && new RedisChannelLayer(options.redis);
  const rateLimiter = options.redis && new RedisRateLimiter(options.redis);
  await Promise.all([layer?.ready(), rateLimiter?.ready()]);
  const app = new Switchboard({
    ...(layer && rateLimiter ? { layer, rateLimiter } : {}),
    logger: pino({ level: 'warn' }),
    authenticate: jwtAuthenticator({
      key: new TextEncoder().encode(options.jwtSecret),
      principal: (claims) => (claims.sub ? { id: claims.sub } : null),
    }),
    // The bench publishes far above a person's 60 per minute; the limiter still runs on every frame.
    limits: { rate: { limit: 1_000_000, windowSeconds: 1 } },
    compression:
      options.compressionThreshold === undefined ? false : { threshold: options.compressionThreshold },
  });
  app.route('/ws/room/:room/', roomConsumer);
  const http = createServer((_request, response) => response.writeHead(404).end());
  app.attach(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    info: {},
    close: async () => {
      await app.close();
      await new Promise((resolve) => http.close(resolve));
      // The app closes the rate limiter it was given, but not a layer it did not create.
      await layer?.close();
    },
  };
});
