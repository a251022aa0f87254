/**
 * A connection is authenticated for its whole life: it is closed with 4401 when its credential
 * expires unless the client renewed it in band with an `auth` frame, and a renewal must name the
 * same principal. Real sockets against a real server.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Switchboard } from '../src/app/switchboard.ts';
import { asyncApiDocument } from '../src/asyncapi.ts';
import type { Authenticator } from '../src/auth/authenticator.ts';
import { defineConsumer } from '../src/consumer/consumer.ts';
import { WsError } from '../src/errors.ts';
import { serve } from '../src/testing/serve.ts';
import { TestClient } from '../src/testing/test-client.ts';
import { echoConsumer, startEchoServer, token } from './helpers.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function start(options: Parameters<typeof startEchoServer>[1] = {}) {
  const server = await startEchoServer({}, options);
  closers.push(() => server.close());
  return server;
}

async function open(url: string): Promise<TestClient> {
  const client = await TestClient.connect(url);
  closers.push(() => client.close().catch(() => undefined));
  await client.next('welcome');
  return client;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('credential expiry', () => {
  it('closes a socket with 4401 "token expired" once its token expires, error frame first', async () => {
    const server = await start();
    const openedAt = Date.now();
    const client = await open(
      server.wsUrl(`/ws/echo/a/?token=${await token({ sub: 'alice' }, { expiresIn: '2s' })}`),
    );
    // Alive while the token is: a frame is answered.
    expect(await client.request({ type: 'echo', text: 'still here' })).toMatchObject({ type: 'ack' });
    const closed = await client.closed(4000);
    expect(closed).toEqual({ code: 4401, reason: 'token expired' });
    // `exp` has whole seconds: a "2s" token lives between one and two seconds.
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(900);
    expect(client.frames.at(-1)).toEqual({
      type: 'error',
      code: 'AUTHENTICATION_FAILED',
      error: 'Token expired.',
    });
  });

  it('keeps a socket that renewed in band open past its first expiry', async () => {
    const server = await start();
    const client = await open(
      server.wsUrl(`/ws/echo/a/?token=${await token({ sub: 'alice' }, { expiresIn: '2s' })}`),
    );
    const ack = await client.request({
      type: 'auth',
      token: await token({ sub: 'alice' }, { expiresIn: '1h' }),
    });
    expect(ack).toMatchObject({ type: 'ack', expires_at: expect.any(Number) });
    expect(Math.abs((ack.expires_at as number) - (Date.now() / 1000 + 3600))).toBeLessThan(5);
    await sleep(2500);
    expect(client.isOpen).toBe(true);
    expect(await client.request({ type: 'echo', text: 'later' })).toMatchObject({ type: 'ack', n: 1 });
  });

  it('a renewal with a shorter token moves the deadline earlier', async () => {
    const server = await start();
    const client = await open(
      server.wsUrl(`/ws/echo/a/?token=${await token({ sub: 'alice' }, { expiresIn: '1h' })}`),
    );
    await client.request({ type: 'auth', token: await token({ sub: 'alice' }, { expiresIn: '1s' }) });
    expect((await client.closed(3000)).code).toBe(4401);
  });

  it('leaves a credential without expiry alone, and one beyond a timer’s reach open', async () => {
    const farFuture = Date.now() + 40 * 24 * 3600 * 1000; // longer than setTimeout can hold
    const authenticate: Authenticator = {
      async fromUpgrade({ url }) {
        const who = url.searchParams.get('who') ?? 'x';
        return who === 'far' ? { principal: { id: who }, expiresAt: farFuture } : { principal: { id: who } };
      },
      async fromToken(presented) {
        return { principal: { id: presented } };
      },
    };
    const app = new Switchboard({ logger: pino({ level: 'silent' }), authenticate });
    app.route('/ws/echo/:room/', echoConsumer);
    const served = await serve(app);
    closers.push(() => served.close());
    const far = await open(served.wsUrl('/ws/echo/a/?who=far'));
    const never = await open(served.wsUrl('/ws/echo/a/?who=never'));
    await sleep(300);
    expect(far.isOpen && never.isOpen).toBe(true);
    // A renewal to a credential without expiry answers expires_at: null.
    expect(await never.request({ type: 'auth', token: 'never' })).toMatchObject({ expires_at: null });
  });
});

describe('the auth frame', () => {
  it('closes with 4401 when the new token names another principal, answering the ref first', async () => {
    const server = await start();
    const client = await open(server.wsUrl(`/ws/echo/a/?token=${await token({ sub: 'alice' })}`));
    const reply = await client.request({ type: 'auth', token: await token({ sub: 'mallory' }) });
    expect(reply).toEqual({
      type: 'error',
      ref: reply.ref,
      code: 'AUTHENTICATION_FAILED',
      error: 'The token names another user.',
    });
    expect((await client.closed()).code).toBe(4401);
  });

  const invalid: [string, () => Promise<string>][] = [
    ['garbage', async () => 'not.a.jwt'],
    ['an expired token', async () => token({ sub: 'alice' }, { expiresIn: '-1m' })],
    [
      'a forged signature',
      async () =>
        token({ sub: 'alice' }, { key: new TextEncoder().encode('another-secret-another-secret-123') }),
    ],
    ['a token the principal resolver refuses', async () => token({ sub: 'nobody' })],
  ];
  for (const [name, make] of invalid) {
    it(`answers ${name} with AUTHENTICATION_FAILED on its ref, then closes with 4401`, async () => {
      const server = await start();
      const client = await open(server.wsUrl(`/ws/echo/a/?token=${await token({ sub: 'alice' })}`));
      const reply = await client.request({ type: 'auth', token: await make() });
      expect(reply).toMatchObject({ type: 'error', code: 'AUTHENTICATION_FAILED' });
      expect((await client.closed()).code).toBe(4401);
    });
  }

  it('answers a malformed auth frame with INVALID_MESSAGE and keeps the socket', async () => {
    const server = await start();
    const client = await open(server.wsUrl(`/ws/echo/a/?token=${await token()}`));
    expect(await client.request({ type: 'auth' })).toMatchObject({ code: 'INVALID_MESSAGE', field: 'token' });
    expect(await client.request({ type: 'auth', token: 7 })).toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(await client.request({ type: 'auth', token: 'x'.repeat(9000) })).toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    expect(await client.request({ type: 'auth', token: 'x', admin: true })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'admin',
    });
    expect(await client.request({ type: 'echo', text: 'ok' })).toMatchObject({ type: 'ack' });
  });

  it('is refused, not fatal, on a server without an authenticator', async () => {
    const app = new Switchboard({ logger: pino({ level: 'silent' }) });
    app.route('/ws/echo/:room/', echoConsumer);
    const served = await serve(app);
    closers.push(() => served.close());
    const client = await open(served.wsUrl('/ws/echo/a/'));
    expect(await client.request({ type: 'auth', token: 'anything' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      error: 'This server takes no tokens.',
    });
    expect(client.isOpen).toBe(true);
  });

  it('keeps the current credential when the verifier is only unavailable', async () => {
    const authenticate: Authenticator = {
      async fromUpgrade() {
        return { principal: { id: 'alice' }, expiresAt: Date.now() + 60_000 };
      },
      async fromToken() {
        throw new WsError('SERVICE_UNAVAILABLE', 'Try again.');
      },
    };
    const app = new Switchboard({ logger: pino({ level: 'silent' }), authenticate });
    app.route('/ws/echo/:room/', echoConsumer);
    const served = await serve(app);
    closers.push(() => served.close());
    const client = await open(served.wsUrl('/ws/echo/a/'));
    expect(await client.request({ type: 'auth', token: 'x' })).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await client.request({ type: 'echo', text: 'ok' })).toMatchObject({ type: 'ack' });
  });

  it('is reserved: a consumer cannot declare it, and every channel documents it', async () => {
    const app = new Switchboard({ logger: pino({ level: 'silent' }) });
    const auth = z.object({ type: z.literal('auth') });
    const claimsAuth = defineConsumer({ messages: { auth }, connect: () => null, handlers: { auth() {} } });
    expect(() => app.route('/ws/x/', claimsAuth)).toThrow(/framework frame/);
    app.route('/ws/echo/:room/', echoConsumer);
    const doc = asyncApiDocument(app, { title: 't', version: '1' }) as {
      components: { messages: Record<string, { payload: { required: string[] } }> };
    };
    expect(doc.components.messages['echo.client.auth']?.payload.required).toEqual(['type', 'token']);
    await app.close();
  });
});

describe('closePrincipal', () => {
  it('refuses every connection of one principal on the node and no other', async () => {
    const server = await start();
    const alice1 = await open(server.wsUrl(`/ws/echo/a/?token=${await token({ sub: 'alice' })}`));
    const alice2 = await open(server.wsUrl(`/ws/echo/b/?token=${await token({ sub: 'alice' })}`));
    const bob = await open(server.wsUrl(`/ws/echo/a/?token=${await token({ sub: 'bob' })}`));
    const closed = server.app.closePrincipal(
      'alice',
      new WsError('AUTHENTICATION_FAILED', 'Token revoked.'),
      'token revoked',
    );
    expect(closed).toBe(2);
    for (const client of [alice1, alice2]) {
      expect(await client.closed()).toEqual({ code: 4401, reason: 'token revoked' });
      expect(client.frames.at(-1)).toMatchObject({ type: 'error', error: 'Token revoked.' });
    }
    expect(await bob.request({ type: 'echo', text: 'still' })).toMatchObject({ type: 'ack' });
  });
});
