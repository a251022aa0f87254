/**
 * Who may open a chat socket: authentication (every way a token can be missing or bad, and every
 * way a good one may be passed) and authorisation (room exists, membership, private rooms, leaving).
 */

import { TestClient } from '@switchboard/server/testing';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture, TEST_JWT_SECRET } from './support/chat-fixture.ts';

let chat: ChatFixture;
let alice: ChatUser;
let bob: ChatUser;
let slug: string;

beforeAll(async () => {
  chat = await ChatFixture.start();
  alice = await chat.signUp('alice');
  bob = await chat.signUp('bob');
  slug = await chat.room(alice);
});

afterAll(async () => {
  await chat?.close();
});

/** The refusal a browser can read: one error frame, then the close code. */
async function expectRefused(client: TestClient, code: string, closeCode: number): Promise<void> {
  expect(await client.next()).toMatchObject({ type: 'error', code, error: expect.any(String) });
  expect((await client.closed()).code).toBe(closeCode);
  expect(client.frames.filter((f) => f.type !== 'error')).toEqual([]);
}

const accessClaims = (user: ChatUser) => ({ sub: String(user.id), username: user.username, typ: 'access' });
const secret = new TextEncoder().encode(TEST_JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);

describe('authentication', () => {
  const badTokens: [name: string, token: () => Promise<string | null>][] = [
    ['no token', async () => null],
    ['a garbage token', async () => 'not-a-jwt'],
    [
      'an expired token',
      () =>
        new SignJWT(accessClaims(alice))
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuedAt(now() - 3600)
          .setExpirationTime(now() - 60)
          .sign(secret),
    ],
    [
      'a token signed with another secret',
      () =>
        new SignJWT(accessClaims(alice))
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('someone-elses-secret-that-is-long-enough!!')),
    ],
    [
      'a token whose payload was changed after signing',
      async () => {
        const [header, , signature] = alice.access.split('.');
        const payload = Buffer.from(JSON.stringify({ ...accessClaims(bob), exp: now() + 600 })).toString(
          'base64url',
        );
        return `${header}.${payload}.${signature}`;
      },
    ],
    [
      'an alg:none token',
      async () => new UnsecuredJWT(accessClaims(alice)).setIssuedAt().setExpirationTime('5m').encode(),
    ],
    [
      'a token signed with HS512 (the algorithm is pinned to HS256)',
      () =>
        new SignJWT(accessClaims(alice))
          .setProtectedHeader({ alg: 'HS512' })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(secret),
    ],
    [
      'a token without exp',
      () => new SignJWT(accessClaims(alice)).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(secret),
    ],
    ['a refresh token used as an access token', async () => alice.refresh],
  ];

  it.each(badTokens)('refuses %s with AUTHENTICATION_FAILED and 4401', async (_name, token) => {
    const client = await chat.connect(null, slug, { token: await token() });
    await expectRefused(client, 'AUTHENTICATION_FAILED', 4401);
  });

  it('refuses a bad token before saying whether the room exists', async () => {
    const client = await chat.connect(null, 'no-such-room', { token: 'garbage' });
    await expectRefused(client, 'AUTHENTICATION_FAILED', 4401);
  });

  it('accepts the token as ?token=, as Authorization: Bearer, and as the bearer subprotocol pair', async () => {
    const viaQuery = await chat.connect(alice, slug);
    expect(await viaQuery.next('synced')).toMatchObject({ room: slug });

    const viaHeader = await chat.connect(null, slug, {
      headers: { authorization: `Bearer ${alice.access}` },
    });
    expect(await viaHeader.next('synced')).toMatchObject({ room: slug });

    const viaProtocol = await chat.connect(null, slug, { protocols: ['bearer', alice.access] });
    expect(await viaProtocol.next('synced')).toMatchObject({ room: slug });
    // The server selects only the marker; the token is never echoed back in a response header.
    expect(viaProtocol.socket.protocol).toBe('bearer');

    const ack = await viaProtocol.request({ type: 'chat_message', message: 'signed in via subprotocol' });
    expect(ack).toMatchObject({ type: 'ack' });
    expect(await viaHeader.next('chat_message')).toMatchObject({
      message: { id: ack.message_id, author: { id: alice.id, username: alice.username } },
    });
  });

  it('accepts a token minted by POST /api/token/refresh/', async () => {
    const refreshed = await chat.api.call('POST', '/api/token/refresh/', {
      body: { refresh: alice.refresh },
    });
    expect(refreshed.status).toBe(200);
    const client = await chat.connect(null, slug, { token: refreshed.body.access });
    expect(await client.next('synced')).toMatchObject({ room: slug });
  });
});

describe('authorisation', () => {
  it('refuses an unknown room with CHANNEL_NOT_FOUND and 4404', async () => {
    const client = await chat.connect(alice, 'no-such-room');
    await expectRefused(client, 'CHANNEL_NOT_FOUND', 4404);
  });

  it('refuses an unknown endpoint with CHANNEL_NOT_FOUND and 4404', async () => {
    const url = `${chat.server.url.replace('http', 'ws')}/ws/nowhere/?token=${alice.access}`;
    const client = await TestClient.connect(url);
    await expectRefused(client, 'CHANNEL_NOT_FOUND', 4404);
  });

  it('refuses a non-member of a public room with PERMISSION_DENIED and 4403 until they join', async () => {
    const room = await chat.room(alice);
    await expectRefused(await chat.connect(bob, room), 'PERMISSION_DENIED', 4403);
    expect((await chat.api.call('GET', `/api/rooms/${room}/messages/`, { token: bob.access })).status).toBe(
      403,
    );

    await chat.api.join(bob, room);
    const client = await chat.connect(bob, room);
    expect(await client.next('synced')).toMatchObject({ room });
  });

  it('keeps a private room closed to everyone but invited members', async () => {
    const room = await chat.room(alice, [], { private: true });
    const join = await chat.api.call('POST', `/api/rooms/${room}/join/`, { token: bob.access });
    expect(join).toMatchObject({ status: 404, body: { code: 'CHANNEL_NOT_FOUND' } });
    await expectRefused(await chat.connect(bob, room), 'CHANNEL_NOT_FOUND', 4404);

    const host = await chat.enter(alice, room);
    const secret = await host.request({ type: 'chat_message', message: 'members only' });
    expect(secret.type).toBe('ack');
    const history = await chat.api.call('GET', `/api/rooms/${room}/messages/`, { token: bob.access });
    expect(history).toMatchObject({ status: 404, body: { code: 'CHANNEL_NOT_FOUND' } });
    expect(JSON.stringify(history.body)).not.toContain('members only');

    await chat.api.invite(alice, room, bob);
    const guest = await chat.enter(bob, room, { afterSeq: 0 });
    expect(guest.frames.find((f) => f.type === 'chat_message')).toMatchObject({
      message: { id: secret.message_id, content: 'members only' },
    });
  });

  it('refuses a new connection and history after the user left the room', async () => {
    const room = await chat.room(alice, [bob]);
    const before = await chat.enter(bob, room);
    await before.close();

    await chat.api.leave(bob, room);
    await expectRefused(await chat.connect(bob, room), 'PERMISSION_DENIED', 4403);
    const history = await chat.api.call('GET', `/api/rooms/${room}/messages/`, { token: bob.access });
    expect(history).toMatchObject({
      status: 403,
      body: { code: 'PERMISSION_DENIED', error: expect.any(String) },
    });
  });

  it('cuts the sockets a user already had open in a room when they leave it', async () => {
    const room = await chat.room(alice, [bob]);
    const bobLaptop = await chat.enter(bob, room);
    const bobPhone = await chat.enter(bob, room);
    const watcher = await chat.enter(alice, room);
    await chat.api.leave(bob, room);
    for (const socket of [bobLaptop, bobPhone]) {
      expect(await socket.next('error')).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect((await socket.closed()).code).toBe(4403);
    }
    expect(await watcher.request({ type: 'chat_message', message: 'still here' })).toMatchObject({
      type: 'ack',
    });
    expect(watcher.isOpen).toBe(true);
  });
});
