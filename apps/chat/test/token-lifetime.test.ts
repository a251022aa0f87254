/**
 * A chat socket is authenticated for its whole life: it closes with 4401 when its access token
 * expires unless the client renewed it in band, and an admin who disables or deletes a user cuts
 * the user's sockets and refuses their tokens on REST and WebSocket at once. Real server, real
 * sockets, real SQLite.
 */
import { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../src/auth/tokens.ts';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture, TEST_JWT_SECRET } from './support/chat-fixture.ts';

const ADMIN = `boss_${Math.random().toString(36).slice(2, 8)}`;
const PASSWORD = 'correct horse battery staple';

let chat: ChatFixture;
let admin: ChatUser;
/** The server's own token format with a two-second access lifetime. */
const shortTokens = new TokenService(new TextEncoder().encode(TEST_JWT_SECRET), { accessTtlSeconds: 2 });

beforeAll(async () => {
  // ADMIN_USERS in another case than the account: names match regardless of case.
  chat = await ChatFixture.start({
    ADMIN_USERS: `someone-else, ${ADMIN.toUpperCase()}`,
    AUTH_RATE_LIMIT: '1000',
  });
  admin = await registerAndSignIn(ADMIN);
});

afterAll(async () => {
  await chat?.close();
});

async function registerAndSignIn(username: string): Promise<ChatUser> {
  const registered = await chat.api.call('POST', '/api/register/', {
    body: { username, password: PASSWORD },
  });
  expect(registered.status).toBe(201);
  const { access, refresh } = await signIn(username, 200);
  return { id: registered.body.id, username, password: PASSWORD, access, refresh };
}

async function signIn(username: string, status: number) {
  const answer = await chat.api.call('POST', '/api/token/', { body: { username, password: PASSWORD } });
  expect(answer.status).toBe(status);
  return answer.body;
}

async function shortLived(user: ChatUser): Promise<string> {
  return (await shortTokens.issue({ id: user.id, username: user.username })).access;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('access token expiry on a chat socket', () => {
  it('closes the socket with 4401 once its token expires, error frame first', async () => {
    const alice = await chat.signUp('alice');
    const slug = await chat.room(alice);
    const client = await chat.enter(alice, slug, { token: await shortLived(alice) });
    expect(await client.request({ type: 'chat_message', message: 'before' })).toMatchObject({ type: 'ack' });
    expect(await client.closed(4000)).toEqual({ code: 4401, reason: 'token expired' });
    expect(client.frames.at(-1)).toEqual({
      type: 'error',
      code: 'AUTHENTICATION_FAILED',
      error: 'Token expired.',
    });
  });

  it('keeps a socket that renewed in band with a refreshed token open past the first expiry', async () => {
    const alice = await chat.signUp('alice');
    const slug = await chat.room(alice);
    const client = await chat.enter(alice, slug, { token: await shortLived(alice) });
    const refreshed = await chat.api.call('POST', '/api/token/refresh/', {
      body: { refresh: alice.refresh },
    });
    expect(refreshed.status).toBe(200);
    const ack = await client.request({ type: 'auth', token: refreshed.body.access });
    expect(ack).toMatchObject({ type: 'ack', expires_at: expect.any(Number) });
    expect(ack.expires_at).toBeGreaterThan(Date.now() / 1000 + 600);
    await sleep(2500);
    expect(client.isOpen).toBe(true);
    expect(await client.request({ type: 'chat_message', message: 'after' })).toMatchObject({ type: 'ack' });
  });

  it('closes with 4401 when the auth frame carries another user’s token', async () => {
    const [alice, bob] = [await chat.signUp('alice'), await chat.signUp('bob')];
    const slug = await chat.room(alice, [bob]);
    const client = await chat.enter(alice, slug);
    const reply = await client.request({ type: 'auth', token: bob.access });
    expect(reply).toMatchObject({
      type: 'error',
      code: 'AUTHENTICATION_FAILED',
      error: 'The token names another user.',
    });
    expect((await client.closed()).code).toBe(4401);
  });

  it('answers an invalid or refresh token in auth on its ref and closes the socket', async () => {
    const alice = await chat.signUp('alice');
    const slug = await chat.room(alice);
    for (const token of ['not-a-token', alice.refresh]) {
      const client = await chat.enter(alice, slug);
      const reply = await client.request({ type: 'auth', token });
      expect(reply).toMatchObject({ type: 'error', code: 'AUTHENTICATION_FAILED', error: 'Invalid token.' });
      expect((await client.closed()).code).toBe(4401);
    }
  });
});

describe('admin routes', () => {
  it('are for admins only: 401 without a token, 403 for others, 404 for unknown or deleted users', async () => {
    const [alice, bob] = [await chat.signUp('alice'), await chat.signUp('bob')];
    const disable = (name: string, token?: string) =>
      chat.api.call('POST', `/api/admin/users/${encodeURIComponent(name)}/disable/`, token ? { token } : {});
    expect((await disable(bob.username)).status).toBe(401);
    expect(await disable(bob.username, alice.access)).toEqual({
      status: 403,
      body: { code: 'PERMISSION_DENIED', error: 'Only admins can manage users.' },
    });
    expect(await disable('nobody-by-that-name', admin.access)).toEqual({
      status: 404,
      body: { code: 'NOT_FOUND', error: 'User not found.' },
    });
    // Fastify bounds path parameters (100 characters) before any route runs.
    expect((await disable('x'.repeat(5000), admin.access)).status).toBe(414);
    expect((await disable('%00\u0000', admin.access)).status).toBe(404);
    expect((await disable(admin.username, admin.access)).status).toBe(403);
    const me = await chat.api.call('GET', '/api/me/', { token: admin.access });
    expect(me.body.is_admin).toBe(true);
    expect(
      (await chat.api.call('DELETE', `/api/admin/users/${bob.username}/`, { token: admin.access })).status,
    ).toBe(204);
    expect(
      (await chat.api.call('DELETE', `/api/admin/users/${bob.username}/`, { token: admin.access })).status,
    ).toBe(404);
    expect((await disable(bob.username, admin.access)).status).toBe(404);
    expect((await chat.api.call('GET', '/api/me/', { token: alice.access })).body.is_admin).toBe(false);
  });
});

describe('revocation', () => {
  /** A user with a chat socket and a notifications socket open. */
  async function online() {
    const user = await chat.signUp('victim');
    const slug = await chat.room(user);
    const room = await chat.enter(user, slug);
    const base = chat.server.url.replace(/^http/, 'ws');
    const notes = await TestClient.connect(`${base}/ws/notifications/?token=${user.access}`);
    await notes.next('unread_count');
    return { user, slug, sockets: [room, notes] };
  }

  async function expectRevoked(client: TestClient) {
    expect(await client.closed()).toEqual({ code: 4401, reason: 'token revoked' });
    expect(client.frames.at(-1)).toEqual({
      type: 'error',
      code: 'AUTHENTICATION_FAILED',
      error: 'Token revoked.',
    });
  }

  async function expectRefusedEverywhere(user: ChatUser, slug: string) {
    for (const path of ['/api/me/', '/api/rooms/']) {
      expect(await chat.api.call('GET', path, { token: user.access })).toEqual({
        status: 401,
        body: { code: 'AUTHENTICATION_FAILED', error: 'Token revoked.' },
      });
    }
    expect(
      (await chat.api.call('POST', '/api/token/refresh/', { body: { refresh: user.refresh } })).status,
    ).toBe(401);
    const socket = await chat.connect(user, slug);
    expect(await socket.next()).toMatchObject({
      type: 'error',
      code: 'AUTHENTICATION_FAILED',
      error: 'Token revoked.',
    });
    expect((await socket.closed()).code).toBe(4401);
  }

  it('disabling a user closes their sockets at once and refuses their tokens; enabling lets them sign in anew', async () => {
    const bystander = await online();
    const { user, slug, sockets } = await online();
    const answer = await chat.api.call('POST', `/api/admin/users/${user.username}/disable/`, {
      token: admin.access,
    });
    expect(answer).toEqual({ status: 200, body: { username: user.username, status: 'disabled' } });
    for (const socket of sockets) await expectRevoked(socket);
    await expectRefusedEverywhere(user, slug);
    expect(await signIn(user.username, 401)).toEqual({
      code: 'AUTHENTICATION_FAILED',
      error: 'This account is disabled.',
    });
    // Nobody else was touched.
    expect(bystander.sockets.every((socket) => socket.isOpen)).toBe(true);

    expect(
      await chat.api.call('POST', `/api/admin/users/${user.username}/enable/`, { token: admin.access }),
    ).toEqual({ status: 200, body: { username: user.username, status: 'active' } });
    // The tokens from before the disable stay dead; a new sign-in works on REST and WS.
    await expectRefusedEverywhere(user, slug);
    const fresh = await signIn(user.username, 200);
    expect((await chat.api.call('GET', '/api/me/', { token: fresh.access })).status).toBe(200);
    await chat.enter({ ...user, access: fresh.access }, slug);
  });

  it('deleting a user closes their sockets and refuses their tokens and their password', async () => {
    const { user, slug, sockets } = await online();
    const answer = await chat.api.call('DELETE', `/api/admin/users/${user.username}/`, {
      token: admin.access,
    });
    expect(answer.status).toBe(204);
    for (const socket of sockets) await expectRevoked(socket);
    await expectRefusedEverywhere(user, slug);
    expect((await signIn(user.username, 401)).error).toBe('Invalid username or password.');
    // The name stays taken: nobody can sign up as the deleted user and inherit their history.
    const again = await chat.api.call('POST', '/api/register/', {
      body: { username: user.username, password: PASSWORD },
    });
    expect(again.status).toBe(409);
  });

  it('refuses an in-band renewal with a token issued before the revocation', async () => {
    const { user, slug } = await online();
    const other = await chat.signUp('watcher');
    await chat.api.join(other, slug);
    // Disabled and enabled again at once: the user may come back, but not with old tokens.
    await chat.api.call('POST', `/api/admin/users/${user.username}/disable/`, { token: admin.access });
    await chat.api.call('POST', `/api/admin/users/${user.username}/enable/`, { token: admin.access });
    const fresh = await signIn(user.username, 200);
    const client = await chat.enter({ ...user, access: fresh.access }, slug);
    const reply = await client.request({ type: 'auth', token: user.access });
    expect(reply).toMatchObject({ type: 'error', code: 'AUTHENTICATION_FAILED', error: 'Token revoked.' });
    expect((await client.closed()).code).toBe(4401);
  });

  it('refuses within the cache TTL even when the announcement never arrives', async () => {
    const { user, slug } = await online();
    // Cached as active by the sockets just opened; revoked behind the server's back (no announcement).
    await chat.server.storage.setAccountStatus(user.id, 'disabled', new Date().toISOString());
    expect((await chat.api.call('GET', '/api/me/', { token: user.access })).status).toBe(200);
    const deadline = Date.now() + 7000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await sleep(250);
      status = (await chat.api.call('GET', '/api/me/', { token: user.access })).status;
    }
    expect(status).toBe(401);
    await expectRefusedEverywhere(user, slug);
  });

  it('makes a user listed in ADMIN_USERS an admin at sign-in, also when registered after start-up', async () => {
    const late = await chat.api.call('POST', '/api/register/', {
      body: { username: 'Someone-Else', password: PASSWORD },
    });
    expect(late.status).toBe(201);
    const tokens = await signIn('someone-else', 200);
    expect((await chat.api.call('GET', '/api/me/', { token: tokens.access })).body.is_admin).toBe(true);
  });
});
