/**
 * A custom authenticator and per-type rate limits. Sockets authenticate with an API key (any
 * place `findToken` looks: `?token=`, `Authorization: Bearer`, or the `bearer, <key>`
 * subprotocol pair); each message type gets its own bucket, so a burst of typing indicators can
 * never use up the budget for real messages.
 */
import { createServer } from 'node:http';
import { type Authenticator, defineConsumer, findToken, Switchboard, WsError } from '@switchboard/server';
import { z } from 'zod';

declare module '@switchboard/server' {
  interface Principal {
    displayName?: string;
  }
}

/** Stand-in for your key store. Never compare secrets you hold in a database like this: hash them. */
const API_KEYS = new Map([
  ['key-ada', { id: 'ada', displayName: 'Ada' }],
  ['key-grace', { id: 'grace', displayName: 'Grace' }],
]);

function lookUp(key: string | undefined) {
  const principal = key === undefined ? undefined : API_KEYS.get(key);
  // AUTHENTICATION_FAILED: an error frame, then close 4401.
  if (!principal) throw new WsError('AUTHENTICATION_FAILED', 'Unknown API key.');
  return { principal }; // no `expiresAt`: a key does not expire while the socket is open
}

const apiKeys: Authenticator = {
  fromUpgrade: async (upgrade) => lookUp(findToken(upgrade)?.token),
  // A client may switch keys in band ({"type":"auth","token":…}); the framework keeps the principal the same.
  fromToken: async (token) => lookUp(token),
};

const ref = z.string().optional();
const lobby = defineConsumer({
  description: 'One shared room: messages and typing indicators.',
  messages: {
    say: z.strictObject({ type: z.literal('say'), text: z.string().min(1).max(500), ref }),
    typing: z.strictObject({ type: z.literal('typing'), ref }),
  },
  // Per type, per user: 5 messages per 10 s; 3 typing indicators per 10 s. Over it the frame is
  // answered with RATE_LIMIT_EXCEEDED and `retry_after` (seconds); the socket stays open.
  rateLimits: {
    say: { limit: 5, windowSeconds: 10 },
    typing: { limit: 3, windowSeconds: 10 },
  },
  async connect(conn) {
    await conn.groupAdd('lobby');
    return { name: conn.principal.displayName ?? String(conn.principal.id) };
  },
  handlers: {
    say(conn, frame) {
      conn.afterReply(() =>
        conn.layer.groupSend('lobby', { type: 'said', from: conn.state.name, text: frame.text }),
      );
      return {};
    },
    typing(conn) {
      void conn.layer.groupSend('lobby', { type: 'typing', from: conn.state.name });
    },
  },
  forward: { said: true, typing: true },
});

const app = new Switchboard({ authenticate: apiKeys });
app.route('/ws/lobby/', lobby);
const server = createServer((_req, res) => res.writeHead(404).end());
app.attach(server);
server.listen(Number(process.env.PORT ?? 8003), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`rate-limits listening on http://127.0.0.1:${port}`);
});
const stop = () => void app.close().then(() => server.close());
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
