/**
 * The server API, called the way a program in another language would: a Python process
 * (/usr/bin/python3, standard library only) over HTTP, and — for a process that only has Redis —
 * Python's `redis` client publishing the documented envelope to a room's group. WebSocket
 * clients of the real chat server receive what it sends.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture } from './support/chat-fixture.ts';
import { REDIS_URL, servicesAvailable } from './support/services.ts';

const run = promisify(execFile);
const SERVICE_TOKEN = `server-api-token-${randomBytes(8).toString('hex')}`.padEnd(40, 's');

/** Runs a Python script with `args` as sys.argv[1:]; resolves with what it printed (JSON). */
async function python(script: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await run('/usr/bin/python3', ['-c', script, ...args], { timeout: 20_000 });
  return JSON.parse(stdout);
}

/** POSTs (or GETs, without a body) over urllib and prints {"status", "body"}. */
const HTTP_CALL = `
import json, sys, urllib.request, urllib.error
method, url, token, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
data = body.encode() if body else None
request = urllib.request.Request(url, data=data, method=method,
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request) as response:
        print(json.dumps({"status": response.status, "body": json.loads(response.read() or b"null")}))
except urllib.error.HTTPError as error:
    print(json.dumps({"status": error.code, "body": json.loads(error.read() or b"null")}))
`;

let chat: ChatFixture;
let alice: ChatUser;
let slug: string;

beforeAll(async () => {
  chat = await ChatFixture.start({ SERVICE_TOKEN, WS_RATE_LIMIT: '1000' });
  alice = await chat.signUp('alice');
  slug = await chat.room(alice);
});

afterAll(async () => {
  await chat?.close();
});

const call = async (method: string, path: string, body?: unknown, token = SERVICE_TOKEN) =>
  (await python(
    HTTP_CALL,
    method,
    `${chat.server.url}${path}`,
    token,
    body === undefined ? '' : JSON.stringify(body),
  )) as {
    status: number;
    body: Record<string, unknown>;
  };

describe('server API over HTTP, from Python', () => {
  it('posts a bot message stored once per idempotency key, delivered and resumable like any other', async () => {
    const socket = await chat.enter(alice, slug);
    const body = { author: 'deploy', message: 'v1.2 is live', idempotency_key: 'deploy-42' };
    const first = await call('POST', `/api/server/rooms/${slug}/messages/`, body);
    expect(first).toMatchObject({ status: 201, body: { duplicate: false } });
    const again = await call('POST', `/api/server/rooms/${slug}/messages/`, body);
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    const stored = first.body.message as { id: number; seq: number; author: { username: string } };
    expect(stored.author.username).toBe('bot:deploy');
    expect((again.body.message as { id: number }).id).toBe(stored.id);
    const live = await socket.next((f) => f.type === 'chat_message');
    expect(live.message).toMatchObject({
      id: stored.id,
      seq: stored.seq,
      author: { username: 'bot:deploy' },
    });
    // A client resuming from before it gets it from storage.
    const resumed = await chat.enter(alice, slug, { afterSeq: stored.seq - 1 });
    expect(
      resumed.frames.filter((f) => f.type === 'chat_message').map((f) => (f.message as { id: number }).id),
    ).toEqual([stored.id]);
  });

  it('sends room and user events, lists presence, and disconnects a user for good', async () => {
    const bob = await chat.signUp('bob');
    await chat.api.join(bob, slug);
    const room = await chat.enter(bob, slug);
    const bell = await TestClient.connect(
      `${chat.server.url.replace('http', 'ws')}/ws/notifications/?token=${bob.access}`,
    );

    expect(
      await call('POST', `/api/server/rooms/${slug}/events/`, { event: { kind: 'build', ok: true } }),
    ).toMatchObject({
      status: 202,
    });
    expect(await room.next('server_event')).toEqual({
      type: 'server_event',
      room: slug,
      event: { kind: 'build', ok: true },
    });

    expect(
      await call('POST', `/api/server/users/${bob.username}/events/`, { event: { ping: 1 } }),
    ).toMatchObject({
      status: 202,
    });
    expect(await room.next('server_event')).toEqual({ type: 'server_event', event: { ping: 1 } });
    expect(await bell.next('server_event')).toEqual({ type: 'server_event', event: { ping: 1 } });

    const presence = await call('GET', `/api/server/rooms/${slug}/presence/`);
    expect(presence.status).toBe(200);
    expect(presence.body.online).toContainEqual({ user_id: bob.id, username: bob.username });

    expect(
      await call('POST', `/api/server/users/${bob.username}/disconnect/`, { reason: 'maintenance' }),
    ).toMatchObject({
      status: 202,
    });
    expect((await room.closed()).code).toBe(4410);
    expect((await bell.closed()).code).toBe(4410);
  });

  it('refuses bad tokens, bad bodies and unknown rooms or users with clear errors', async () => {
    expect(
      await call('POST', `/api/server/rooms/${slug}/events/`, { event: {} }, 'wrong-token'),
    ).toMatchObject({
      status: 401,
      body: { code: 'AUTHENTICATION_FAILED' },
    });
    expect(
      await call('POST', `/api/server/rooms/${slug}/events/`, { event: {} }, alice.access),
    ).toMatchObject({
      status: 403,
      body: { code: 'PERMISSION_DENIED' },
    });
    expect(await call('POST', `/api/server/rooms/${slug}/events/`, { event: [1, 2] })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_MESSAGE', field: 'event' },
    });
    expect(
      await call('POST', `/api/server/rooms/${slug}/messages/`, { author: 'Bad Name', message: 'x' }),
    ).toMatchObject({
      status: 400,
      body: { field: 'author' },
    });
    expect(await call('POST', '/api/server/rooms/no-such-room/events/', { event: {} })).toMatchObject({
      status: 404,
      body: { code: 'CHANNEL_NOT_FOUND' },
    });
    expect(await call('POST', '/api/server/users/nobody-here/disconnect/', {})).toMatchObject({
      status: 404,
      body: { code: 'NOT_FOUND' },
    });
  });
});

const redisUp = await servicesAvailable('the server API Redis path', ['redis']);

describe.skipIf(!redisUp)('server API from a process that only has Redis (Python)', () => {
  const prefix = `sbtest:${randomBytes(4).toString('hex')}:`;
  let node: ChatFixture;

  beforeAll(async () => {
    node = await ChatFixture.start({ REDIS_URL, REDIS_PREFIX: prefix });
  });
  afterAll(async () => {
    await node?.close();
  });

  it('a PUBLISH of the documented envelope to a room group reaches the room’s sockets', async () => {
    const owner = await node.signUp('owner');
    const room = await node.room(owner);
    const socket = await node.enter(owner, room);
    const rooms = (await node.api.call('GET', '/api/rooms/', { token: owner.access })).body as {
      rooms: { id: number; slug: string }[];
    };
    const id = rooms.rooms.find((r) => r.slug === room)!.id;
    const script = `
import json, sys, redis
url, prefix, room_id, slug = sys.argv[1:5]
frame = {"type": "server_event", "room": slug, "event": {"from": "celery", "n": 7}}
# <origin> <target> <json>: the origin is any name without spaces that is not a node's.
envelope = "python! room.%s %s" % (room_id, json.dumps(frame))
receivers = redis.Redis.from_url(url).publish("%sgroup:room.%s" % (prefix, room_id), envelope)
print(json.dumps({"receivers": receivers}))
`;
    const published = (await python(script, REDIS_URL, prefix, String(id), room)) as { receivers: number };
    expect(published.receivers).toBeGreaterThanOrEqual(1);
    expect(await socket.next('server_event')).toEqual({
      type: 'server_event',
      room,
      event: { from: 'celery', n: 7 },
    });
  });
});
