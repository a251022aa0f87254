/**
 * Sign-in and sign-up attempts are bounded per client address and failed sign-ins per account.
 * The address is the socket's own unless the request came from a proxy listed in TRUST_PROXY:
 * a client cannot reset its allowance by sending a new X-Forwarded-For with every request.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { trustedProxies } from '../src/http/trusted-proxies.ts';
import { ChatFixture, testEnv } from './support/chat-fixture.ts';
import { freshDatabase, REDIS_URL, servicesAvailable } from './support/services.ts';

const scaledOut = await servicesAvailable('the shared sign-in limit case', ['postgres', 'redis']);

const PASSWORD = 'password123';

describe('sign-in and sign-up limits', () => {
  let chat: ChatFixture | undefined;
  afterEach(async () => {
    await chat?.close();
    chat = undefined;
  });

  const post = (path: string, body: object, forwardedFor?: string) =>
    fetch(`${chat!.server.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(forwardedFor && { 'x-forwarded-for': forwardedFor }),
      },
      body: JSON.stringify(body),
    });
  const signIn = (username: string, password: string, forwardedFor?: string) =>
    post('/api/token/', { username, password }, forwardedFor);

  async function expectRefused(response: Response) {
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await response.json()).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
  }

  it('answers 429 RATE_LIMIT_EXCEEDED with Retry-After once the allowance is spent', async () => {
    chat = await ChatFixture.start({ AUTH_RATE_LIMIT: '5' });
    expect((await post('/api/register/', { username: 'carol', password: PASSWORD })).status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await signIn('carol', 'wrong-password')).status).toBe(401);
    await expectRefused(await signIn('carol', PASSWORD));
    // Other routes are not affected.
    expect((await fetch(`${chat.server.url}/healthz`)).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    chat = await ChatFixture.start({ AUTH_RATE_LIMIT: '5' });
    for (let i = 0; i < 5; i++) {
      const answer = await post(
        '/api/register/',
        { username: `rotor${i}`, password: PASSWORD },
        `203.0.113.${i}`,
      );
      expect(answer.status).toBe(201);
    }
    await expectRefused(
      await post('/api/register/', { username: 'rotor5', password: PASSWORD }, '203.0.113.99'),
    );
  });

  it('counts per forwarded address when the request comes from a TRUST_PROXY address', async () => {
    chat = await ChatFixture.start({ AUTH_RATE_LIMIT: '3', TRUST_PROXY: '127.0.0.1' });
    for (let i = 0; i < 3; i++) expect((await signIn('nobody', 'x', '198.51.100.1')).status).toBe(401);
    await expectRefused(await signIn('nobody', 'x', '198.51.100.1'));
    // Another client behind the same proxy has its own allowance.
    expect((await signIn('nobody', 'x', '198.51.100.2')).status).toBe(401);
  });

  it('refuses sign-ins to one account after too many failures from many addresses', async () => {
    chat = await ChatFixture.start({
      AUTH_RATE_LIMIT: '100',
      TRUST_PROXY: '127.0.0.0/8',
      SIGNIN_FAILURE_LIMIT: '3',
    });
    const address = (() => {
      let n = 0;
      return () => `192.0.2.${++n}`;
    })();
    for (const username of ['victim', 'bystander']) {
      expect((await post('/api/register/', { username, password: PASSWORD }, address())).status).toBe(201);
    }
    for (let i = 0; i < 3; i++) expect((await signIn('victim', `guess-${i}`, address())).status).toBe(401);
    // Locked: even the right password is not checked, so the lock cannot be used as an oracle.
    await expectRefused(await signIn('victim', 'guess-3', address()));
    await expectRefused(await signIn('VICTIM', PASSWORD, address()));
    // Other accounts are not affected.
    expect((await signIn('bystander', PASSWORD, address())).status).toBe(200);
  });

  it('matches peers against TRUST_PROXY addresses and ranges, IPv4-mapped ones included', () => {
    const trusted = trustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    for (const peer of ['127.0.0.1', '::ffff:127.0.0.1', '10.1.2.3', 'fd12::1'])
      expect([peer, trusted(peer)]).toEqual([peer, true]);
    for (const peer of ['127.0.0.2', '11.0.0.1', '::1', 'fe80::1', '', 'garbage'])
      expect([peer, trusted(peer)]).toEqual([peer, false]);
    expect(trustedProxies([])('127.0.0.1')).toBe(false);
  });

  it('refuses a bad TRUST_PROXY at start-up, naming the variable', () => {
    for (const bad of ['127.0.0.1,not-an-address', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8']) {
      expect(() => loadConfig(testEnv('/nonexistent', { TRUST_PROXY: bad }))).toThrow(/TRUST_PROXY/);
    }
    expect(loadConfig(testEnv('/nonexistent', { TRUST_PROXY: ' 10.0.0.0/8 , ::1 ' })).trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
    ]);
  });

  it.skipIf(!scaledOut)(
    'counts failed sign-ins on every node together when the limiter is Redis',
    async () => {
      const database = await freshDatabase('sb_signin');
      const env = {
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_PREFIX: `sbtest:${randomBytes(4).toString('hex')}:`,
        AUTH_RATE_LIMIT: '100',
        SIGNIN_FAILURE_LIMIT: '4',
      };
      const nodes = [await ChatFixture.start(env), await ChatFixture.start(env)];
      try {
        const on = (node: ChatFixture, username: string, password: string) =>
          fetch(`${node.server.url}/api/token/`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username, password }),
          });
        const victim = await nodes[0]!.signUp('victim');
        // Two failures per node: each node alone would still allow two more.
        for (let i = 0; i < 4; i++)
          expect((await on(nodes[i % 2]!, victim.username, `guess-${i}`)).status).toBe(401);
        for (const node of nodes) await expectRefused(await on(node, victim.username, victim.password));
      } finally {
        for (const node of nodes) await node.close();
        await database.drop();
      }
    },
  );
});
