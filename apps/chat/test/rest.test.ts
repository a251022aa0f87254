/**
 * The REST API over a real socket: the whole chat server on an ephemeral port (fetch) and a real
 * SQLite file.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from '../src/storage/storage.ts';
import { ChatFixture, TEST_JWT_SECRET } from './support/chat-fixture.ts';

const secret = new TextEncoder().encode(TEST_JWT_SECRET);
let chat: ChatFixture;
let storage: Storage;
let baseUrl: string;

beforeAll(async () => {
  // Limits that would get in the way of a suite making many accounts and rooms from one address.
  chat = await ChatFixture.start({ AUTH_RATE_LIMIT: '100000', ROOMS_PER_HOUR: '100000' });
  storage = chat.server.storage;
  baseUrl = chat.server.url;
});

afterAll(async () => {
  await chat?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  body: any;
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; rawBody?: string; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

let counter = 0;
function uniqueName(prefix = 'user'): string {
  counter += 1;
  return `${prefix}_${counter}`;
}

/** Registers and signs in a fresh user. */
async function signUp(prefix = 'user') {
  const username = uniqueName(prefix);
  const password = 'correct horse battery';
  const registered = await call('POST', '/api/register/', { body: { username, password } });
  expect(registered.status).toBe(201);
  const tokens = await call('POST', '/api/token/', { body: { username, password } });
  expect(tokens.status).toBe(200);
  return {
    id: registered.body.id as number,
    username,
    password,
    access: tokens.body.access as string,
    refresh: tokens.body.refresh as string,
  };
}

async function createRoom(token: string, extra: { private?: boolean } = {}) {
  const slug = uniqueName('room').replace('_', '-');
  const created = await call('POST', '/api/rooms/', {
    token,
    body: { slug, name: `Room ${slug}`, ...extra },
  });
  expect(created.status).toBe(201);
  return created.body as { id: number; slug: string };
}

function expectError(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ code, error: expect.any(String) });
}

describe('accounts', () => {
  it('registers a user: 201 with id and username, never the password', async () => {
    const username = uniqueName('alice');
    const answer = await call('POST', '/api/register/', { body: { username, password: 'long enough' } });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ id: expect.any(Number), username });
    const stored = await storage.findUserByName(username);
    expect(stored?.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored?.passwordHash).not.toContain('long enough');
  });

  it('refuses a taken username, in any case, with 409', async () => {
    const username = uniqueName('bob');
    await call('POST', '/api/register/', { body: { username, password: 'long enough' } });
    expectError(
      await call('POST', '/api/register/', { body: { username, password: 'other pass' } }),
      409,
      'CONFLICT',
    );
    expectError(
      await call('POST', '/api/register/', {
        body: { username: username.toUpperCase(), password: 'other pass' },
      }),
      409,
      'CONFLICT',
    );
  });

  it.each([
    ['a short username', { username: 'ab', password: 'long enough' }, 'username'],
    ['a long username', { username: 'a'.repeat(33), password: 'long enough' }, 'username'],
    ['a username with spaces', { username: 'bad name', password: 'long enough' }, 'username'],
    ['a short password', { username: 'fine_name', password: '1234567' }, 'password'],
    ['a huge password', { username: 'fine_name', password: 'x'.repeat(257) }, 'password'],
    ['no password', { username: 'fine_name' }, 'password'],
    ['a number for a username', { username: 12345, password: 'long enough' }, 'username'],
  ])('refuses %s with 400 naming the field', async (_, body, field) => {
    const answer = await call('POST', '/api/register/', { body });
    expectError(answer, 400, 'INVALID_MESSAGE');
    expect(answer.body.field).toBe(field);
  });

  it('answers malformed bodies with JSON errors: bad JSON 400, wrong type 415, too large 413', async () => {
    expectError(await call('POST', '/api/register/', { rawBody: '{"username": ' }), 400, 'INVALID_MESSAGE');
    expectError(await call('POST', '/api/register/', { rawBody: '[]' }), 400, 'INVALID_MESSAGE');
    expectError(
      await call('POST', '/api/register/', { rawBody: 'username=x', contentType: 'text/plain' }),
      415,
      'INVALID_MESSAGE',
    );
    expectError(
      await call('POST', '/api/register/', { body: { username: 'big', password: 'x'.repeat(100_000) } }),
      413,
      'MESSAGE_TOO_LARGE',
    );
    expectError(await call('POST', '/api/register/'), 400, 'INVALID_MESSAGE');
  });

  it('issues a token pair for the right password and 401 for anything else', async () => {
    const user = await signUp();
    expect(user.access.split('.')).toHaveLength(3);
    expect(user.refresh).not.toBe(user.access);
    const wrong = await call('POST', '/api/token/', {
      body: { username: user.username, password: 'not it at all' },
    });
    expectError(wrong, 401, 'AUTHENTICATION_FAILED');
    const unknown = await call('POST', '/api/token/', {
      body: { username: 'nobody_here', password: 'whatever1' },
    });
    expectError(unknown, 401, 'AUTHENTICATION_FAILED');
    expect(unknown.body.error).toBe(wrong.body.error);
    expectError(
      await call('POST', '/api/token/', { body: { username: user.username } }),
      400,
      'INVALID_MESSAGE',
    );
  });

  it('trades a refresh token for a working access token, and nothing else', async () => {
    const user = await signUp();
    const refreshed = await call('POST', '/api/token/refresh/', { body: { refresh: user.refresh } });
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body)).toEqual(['access']);
    expect((await call('GET', '/api/me/', { token: refreshed.body.access })).body.username).toBe(
      user.username,
    );

    expectError(
      await call('POST', '/api/token/refresh/', { body: { refresh: user.access } }),
      401,
      'AUTHENTICATION_FAILED',
    );
    expectError(
      await call('POST', '/api/token/refresh/', { body: { refresh: 'a.b.c' } }),
      401,
      'AUTHENTICATION_FAILED',
    );
    expectError(await call('POST', '/api/token/refresh/', { body: {} }), 400, 'INVALID_MESSAGE');
  });
});

describe('authentication of the other routes', () => {
  const protectedRoutes: [string, string][] = [
    ['GET', '/api/me/'],
    ['GET', '/api/rooms/'],
    ['POST', '/api/rooms/'],
    ['POST', '/api/rooms/any/join/'],
    ['POST', '/api/rooms/any/members/'],
    ['DELETE', '/api/rooms/any/members/me/'],
    ['POST', '/api/direct/'],
    ['GET', '/api/rooms/any/messages/'],
  ];

  it.each(protectedRoutes)('%s %s answers 401 without a token', async (method, path) => {
    const answer = await call(method, path);
    expectError(answer, 401, 'AUTHENTICATION_FAILED');
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('returns the current user with a valid access token', async () => {
    const user = await signUp();
    const me = await call('GET', '/api/me/', { token: user.access });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, username: user.username, avatar: null, is_admin: false });
    expect(me.body.limits).toEqual({ max_message_length: 500 });
  });

  it('refuses a refresh token, a forged signature, alg none, another algorithm, expired and malformed tokens', async () => {
    const user = await signUp();
    const now = Math.floor(Date.now() / 1000);
    const claims = { username: user.username, typ: 'access' };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(randomBytes(32));
    const algNone = new UnsecuredJWT(claims)
      .setSubject(String(user.id))
      .setIssuedAt()
      .setExpirationTime('15m')
      .encode();
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject(String(user.id))
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(secret);
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 60)
      .sign(secret);
    const noExpiry = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setIssuedAt()
      .sign(secret);
    const wellSigned = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(secret);
    expect((await call('GET', '/api/me/', { token: wellSigned })).status).toBe(200);

    for (const token of [user.refresh, forged, algNone, hs512, noExpiry, 'not-a-jwt']) {
      expectError(await call('GET', '/api/me/', { token }), 401, 'AUTHENTICATION_FAILED');
    }
    const expiredAnswer = await call('GET', '/api/me/', { token: expired });
    expectError(expiredAnswer, 401, 'AUTHENTICATION_FAILED');
    expect(expiredAnswer.body.error).toBe('Token expired.');

    const basic = await fetch(`${baseUrl}/api/me/`, { headers: { authorization: `Basic ${user.access}` } });
    expect(basic.status).toBe(401);
  });

  it('answers unknown /api routes with a JSON 404', async () => {
    expectError(await call('GET', '/api/nothing-here/'), 404, 'NOT_FOUND');
  });
});

describe('rooms', () => {
  it('creates a room whose creator is host and member; a taken slug is 409', async () => {
    const alice = await signUp('alice');
    const slug = uniqueName('general').replace('_', '-');
    const created = await call('POST', '/api/rooms/', {
      token: alice.access,
      body: { slug, name: '  General  ', private: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      slug,
      name: 'General',
      is_private: true,
      is_direct: false,
      host_id: alice.id,
      last_seq: 0,
      unread: 0,
      last_read_seq: 0,
    });
    const mine = await call('GET', '/api/rooms/', { token: alice.access });
    expect(mine.body.rooms.map((r: { slug: string }) => r.slug)).toEqual([slug]);
    expect(mine.body.next_after_id).toBeNull();
    expectError(
      await call('POST', '/api/rooms/', { token: alice.access, body: { slug, name: 'x' } }),
      409,
      'CONFLICT',
    );
  });

  it.each([
    ['an uppercase slug', { slug: 'General', name: 'x' }, 'slug'],
    ['a reserved direct slug', { slug: 'dm-1-2', name: 'x' }, 'slug'],
    ['a blank name', { slug: 'fine-slug', name: '   ' }, 'name'],
    ['a non-boolean private flag', { slug: 'fine-slug', name: 'x', private: 'yes' }, 'private'],
  ])('refuses %s with 400', async (_, body, field) => {
    const user = await signUp();
    const answer = await call('POST', '/api/rooms/', { token: user.access, body });
    expectError(answer, 400, 'INVALID_MESSAGE');
    expect(answer.body.field).toBe(field);
  });

  it('lists my rooms with unread counts and last read seq', async () => {
    const [alice, bob] = [await signUp('alice'), await signUp('bob')];
    const room = await createRoom(alice.access);
    await call('POST', `/api/rooms/${room.slug}/join/`, { token: bob.access });
    for (const text of ['one', 'two', 'three']) {
      await storage.appendMessage({
        roomId: room.id,
        authorId: bob.id,
        content: text,
        replyTo: null,
        clientId: null,
        attachments: [],
      });
    }
    await storage.markRoomRead(room.id, alice.id, 1);
    const [listed] = (await call('GET', '/api/rooms/', { token: alice.access })).body.rooms;
    expect(listed).toMatchObject({ slug: room.slug, last_seq: 3, unread: 2, last_read_seq: 1 });
  });

  it('lists public rooms for anyone signed in, searched and paged, never a private one', async () => {
    const alice = await signUp();
    const tag = `find${Date.now().toString(36)}`;
    const open = await call('POST', '/api/rooms/', {
      token: alice.access,
      body: { slug: `${tag}-a`, name: `${tag} A` },
    });
    await call('POST', '/api/rooms/', { token: alice.access, body: { slug: `${tag}-b`, name: `${tag} B` } });
    await call('POST', '/api/rooms/', {
      token: alice.access,
      body: { slug: `${tag}-p`, name: `${tag} P`, private: true },
    });
    const bob = await signUp();
    const page = await call('GET', `/api/rooms/public/?q=${tag.toUpperCase()}&limit=1`, {
      token: bob.access,
    });
    expect(page).toMatchObject({ status: 200, body: { rooms: [{ slug: `${tag}-a`, name: `${tag} A` }] } });
    const next = await call('GET', `/api/rooms/public/?q=${tag}&after_id=${page.body.next_after_id}`, {
      token: bob.access,
    });
    expect(next.body).toEqual({
      rooms: [expect.objectContaining({ slug: `${tag}-b` })],
      next_after_id: null,
    });
    expect(open.status).toBe(201);
    expect((await call('GET', '/api/rooms/public/?limit=0', { token: bob.access })).status).toBe(400);
    expect((await call('GET', '/api/rooms/public/')).status).toBe(401);
  });

  it('lets anyone join a public room, nobody a private one', async () => {
    const [alice, bob] = [await signUp('alice'), await signUp('bob')];
    const open = await createRoom(alice.access);
    const closed = await createRoom(alice.access, { private: true });

    const joined = await call('POST', `/api/rooms/${open.slug}/join/`, { token: bob.access });
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ slug: open.slug, unread: 0 });
    expect((await call('POST', `/api/rooms/${open.slug}/join/`, { token: bob.access })).status).toBe(200);
    expect(await storage.isMember(open.id, bob.id)).toBe(true);

    expectError(
      await call('POST', `/api/rooms/${closed.slug}/join/`, { token: bob.access }),
      404,
      'CHANNEL_NOT_FOUND',
    );
    expect(await storage.isMember(closed.id, bob.id)).toBe(false);
    expectError(
      await call('POST', '/api/rooms/no-such-room/join/', { token: bob.access }),
      404,
      'CHANNEL_NOT_FOUND',
    );
    expectError(
      await call('POST', '/api/rooms/NOT%20A%20SLUG/join/', { token: bob.access }),
      404,
      'CHANNEL_NOT_FOUND',
    );
  });

  it('lets members invite; non-members, unknown users and direct rooms are refused', async () => {
    const [alice, bob, carol] = [await signUp('alice'), await signUp('bob'), await signUp('carol')];
    const room = await createRoom(alice.access, { private: true });

    expectError(
      await call('POST', `/api/rooms/${room.slug}/members/`, {
        token: bob.access,
        body: { username: carol.username },
      }),
      404,
      'CHANNEL_NOT_FOUND',
    );
    const invited = await call('POST', `/api/rooms/${room.slug}/members/`, {
      token: alice.access,
      body: { username: bob.username },
    });
    expect(invited.status).toBe(200);
    expect(invited.body).toEqual({
      room: room.slug,
      user: { id: bob.id, username: bob.username, avatar: null },
    });
    expect(await storage.isMember(room.id, bob.id)).toBe(true);

    expectError(
      await call('POST', `/api/rooms/${room.slug}/members/`, {
        token: alice.access,
        body: { username: 'ghost_user' },
      }),
      404,
      'NOT_FOUND',
    );
    expectError(
      await call('POST', `/api/rooms/${room.slug}/members/`, { token: alice.access, body: {} }),
      400,
      'INVALID_MESSAGE',
    );
    expectError(
      await call('POST', '/api/rooms/no-such-room/members/', {
        token: alice.access,
        body: { username: bob.username },
      }),
      404,
      'CHANNEL_NOT_FOUND',
    );

    const direct = await call('POST', '/api/direct/', {
      token: alice.access,
      body: { username: bob.username },
    });
    expectError(
      await call('POST', `/api/rooms/${direct.body.slug}/members/`, {
        token: alice.access,
        body: { username: carol.username },
      }),
      403,
      'PERMISSION_DENIED',
    );
  });

  it('lets a member leave: 204, then the room is gone from the list and its history closed', async () => {
    const [alice, bob] = [await signUp('alice'), await signUp('bob')];
    const room = await createRoom(alice.access);
    await call('POST', `/api/rooms/${room.slug}/join/`, { token: bob.access });
    const left = await call('DELETE', `/api/rooms/${room.slug}/members/me/`, { token: bob.access });
    expect(left.status).toBe(204);
    expect((await call('GET', '/api/rooms/', { token: bob.access })).body.rooms).toEqual([]);
    expectError(
      await call('GET', `/api/rooms/${room.slug}/messages/`, { token: bob.access }),
      403,
      'PERMISSION_DENIED',
    );
    expectError(
      await call('DELETE', '/api/rooms/no-such-room/members/me/', { token: bob.access }),
      404,
      'CHANNEL_NOT_FOUND',
    );
  });

  it('opens one private direct room per pair of users, from either side', async () => {
    const [alice, bob, carol] = [await signUp('alice'), await signUp('bob'), await signUp('carol')];
    const first = await call('POST', '/api/direct/', {
      token: alice.access,
      body: { username: bob.username },
    });
    expect(first.status).toBe(201);
    const low = Math.min(alice.id, bob.id);
    const high = Math.max(alice.id, bob.id);
    expect(first.body).toMatchObject({ slug: `dm-${low}-${high}`, is_private: true, is_direct: true });

    const again = await call('POST', '/api/direct/', {
      token: bob.access,
      body: { username: alice.username },
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const room = await storage.findRoom(first.body.slug);
    expect(await storage.memberIds(room!.id)).toEqual([low, high]);
    expectError(
      await call('POST', `/api/rooms/${first.body.slug}/join/`, { token: carol.access }),
      404,
      'CHANNEL_NOT_FOUND',
    );

    // Leaving does not lose the conversation: opening it again brings both back.
    await call('DELETE', `/api/rooms/${first.body.slug}/members/me/`, { token: bob.access });
    await call('POST', '/api/direct/', { token: alice.access, body: { username: bob.username } });
    expect(await storage.isMember(room!.id, bob.id)).toBe(true);

    expectError(
      await call('POST', '/api/direct/', { token: alice.access, body: { username: alice.username } }),
      400,
      'INVALID_MESSAGE',
    );
    expectError(
      await call('POST', '/api/direct/', { token: alice.access, body: { username: 'ghost_user' } }),
      404,
      'NOT_FOUND',
    );
  });

  it('creates a direct room once when both users open it at the same moment', async () => {
    const [alice, bob] = [await signUp('alice'), await signUp('bob')];
    const answers = await Promise.all([
      call('POST', '/api/direct/', { token: alice.access, body: { username: bob.username } }),
      call('POST', '/api/direct/', { token: bob.access, body: { username: alice.username } }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 201]);
    expect(answers[0]!.body.id).toBe(answers[1]!.body.id);
  });
});

describe('history', () => {
  async function roomWithMessages(count: number) {
    const alice = await signUp('alice');
    const room = await createRoom(alice.access);
    for (let i = 1; i <= count; i++) {
      await storage.appendMessage({
        roomId: room.id,
        authorId: alice.id,
        content: `m${i}`,
        replyTo: null,
        clientId: null,
        attachments: [],
      });
    }
    return { alice, room };
  }

  it('pages newest first and ends with next_before_seq null', async () => {
    const { alice, room } = await roomWithMessages(5);
    const path = `/api/rooms/${room.slug}/messages/`;
    const page1 = await call('GET', `${path}?limit=2`, { token: alice.access });
    expect(page1.status).toBe(200);
    expect(page1.body.messages.map((m: { content: string }) => m.content)).toEqual(['m5', 'm4']);
    expect(page1.body.messages[0]).toMatchObject({
      seq: 5,
      room: room.slug,
      author: { id: alice.id },
      deleted: false,
    });
    expect(page1.body.next_before_seq).toBe(4);

    const page2 = await call('GET', `${path}?limit=2&before_seq=4`, { token: alice.access });
    expect(page2.body.messages.map((m: { seq: number }) => m.seq)).toEqual([3, 2]);
    const page3 = await call('GET', `${path}?limit=2&before_seq=${page2.body.next_before_seq}`, {
      token: alice.access,
    });
    expect(page3.body).toMatchObject({ next_before_seq: null });
    expect(page3.body.messages.map((m: { seq: number }) => m.seq)).toEqual([1]);

    const exact = await call('GET', `${path}?limit=5`, { token: alice.access });
    expect(exact.body.messages).toHaveLength(5);
    expect(exact.body.next_before_seq).toBeNull();
  });

  it('returns 50 by default, shows deleted messages as tombstones', async () => {
    const { alice, room } = await roomWithMessages(51);
    const newest = (await storage.history(room.id, null, 1))[0]!;
    await storage.deleteMessage(newest.id);
    const page = await call('GET', `/api/rooms/${room.slug}/messages/`, { token: alice.access });
    expect(page.body.messages).toHaveLength(50);
    expect(page.body.next_before_seq).toBe(2);
    expect(page.body.messages[0]).toMatchObject({ id: newest.id, content: '', deleted: true });
  });

  it('is for members only, 404 for unknown rooms, 400 for bad paging', async () => {
    const { alice, room } = await roomWithMessages(1);
    const stranger = await signUp('stranger');
    const path = `/api/rooms/${room.slug}/messages/`;
    expectError(await call('GET', path, { token: stranger.access }), 403, 'PERMISSION_DENIED');
    expectError(
      await call('GET', '/api/rooms/no-such-room/messages/', { token: alice.access }),
      404,
      'CHANNEL_NOT_FOUND',
    );
    for (const query of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'limit=1.5',
      'before_seq=0',
      'before_seq=-3',
      'before_seq=x',
    ]) {
      const answer = await call('GET', `${path}?${query}`, { token: alice.access });
      expectError(answer, 400, 'INVALID_MESSAGE');
      expect(['limit', 'before_seq']).toContain(answer.body.field);
    }
    expect((await call('GET', `${path}?limit=200`, { token: alice.access })).status).toBe(200);
  });
});
