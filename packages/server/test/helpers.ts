import { SignJWT } from 'jose';
import { pino } from 'pino';
import { z } from 'zod';
import { type Limits, Switchboard, type SwitchboardOptions } from '../src/app/switchboard.ts';
import { jwtAuthenticator } from '../src/auth/jwt-authenticator.ts';
import { defineConsumer } from '../src/consumer/consumer.ts';
import { WsError } from '../src/errors.ts';
import { serve } from '../src/testing/serve.ts';

export const SECRET = new TextEncoder().encode('test-secret-that-is-long-enough-for-hs256!');

export async function token(
  claims: Record<string, unknown> = { sub: 'alice' },
  options: { expiresIn?: string; key?: Uint8Array; alg?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(options.key ?? SECRET);
}

/** A consumer exercising every framework feature, knowing nothing about chat. */
export const echoConsumer = defineConsumer({
  messages: {
    echo: z.strictObject({ type: z.literal('echo'), text: z.string(), ref: z.string().optional() }),
    slow: z.strictObject({ type: z.literal('slow'), ms: z.number().max(2000), ref: z.string().optional() }),
    boom: z.strictObject({ type: z.literal('boom'), ref: z.string().optional() }),
    refuse: z.strictObject({ type: z.literal('refuse'), ref: z.string().optional() }),
    join: z.strictObject({ type: z.literal('join'), group: z.string(), ref: z.string().optional() }),
    shout: z.strictObject({
      type: z.literal('shout'),
      group: z.string(),
      text: z.string(),
      ref: z.string().optional(),
    }),
    ping: z.strictObject({ type: z.literal('ping'), ref: z.string().optional() }),
    flood: z.strictObject({
      type: z.literal('flood'),
      count: z.number().max(5000),
      ref: z.string().optional(),
    }),
  },
  rateLimits: { ping: { limit: 3, windowSeconds: 60 } },
  connect(conn) {
    if (conn.query.get('deny') === '1') throw new WsError('PERMISSION_DENIED', 'Not for you.');
    conn.send({ type: 'welcome', user: conn.principal.id, params: conn.params });
    return { echoes: 0 };
  },
  handlers: {
    echo(conn, message) {
      conn.state.echoes++;
      conn.send({ type: 'echo', text: message.text, n: conn.state.echoes });
      return { n: conn.state.echoes };
    },
    async slow(conn, message) {
      await new Promise((resolve) => setTimeout(resolve, message.ms));
      conn.send({ type: 'slept', ms: message.ms });
    },
    boom() {
      throw new Error('handler exploded');
    },
    refuse() {
      throw new WsError('PERMISSION_DENIED', 'Not yours to change.');
    },
    async join(conn, message) {
      await conn.groupAdd(message.group);
    },
    async shout(conn, message) {
      await conn.layer.groupSend(message.group, {
        type: 'shouted',
        text: message.text,
        from: conn.principal.id,
      });
    },
    ping() {
      return { pong: true };
    },
    async flood(conn, message) {
      const data = 'y'.repeat(4096);
      for (let i = 0; i < message.count; i++) {
        await conn.whenWritable();
        conn.send({ type: 'chunk', i, data });
      }
      return { sent: message.count };
    },
  },
  forward: { shouted: true },
  events: {
    'direct.note': (conn, event) => conn.send({ type: 'note', body: event.body }),
  },
});

export async function startEchoServer(limits: Partial<Limits> = {}, options: SwitchboardOptions = {}) {
  const app = new Switchboard({
    logger: pino({ level: 'silent' }),
    authenticate: jwtAuthenticator({
      key: SECRET,
      principal: (claims) => (claims.sub === 'nobody' ? null : { id: String(claims.sub) }),
      cookieName: 'sb_access',
      allowedOrigins: ['https://app.example'],
    }),
    limits,
    ...options,
  });
  app.route('/ws/echo/:room/', echoConsumer);
  const served = await serve(app);
  return { app, ...served };
}
