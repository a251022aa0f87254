/**
 * The live features on two chat nodes that share only Redis and PostgreSQL: presence counts
 * sockets on every node (a reload onto the other node does not flicker), a notification sent
 * through one node's REST API reaches a socket on the other, "is this member looking at the
 * room" is answered cluster-wide, and typing and read receipts cross nodes.
 *
 * Needs Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432; skipped with the reason printed
 * when they are missing, unless CI=true.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, settle, startLive } from './live-support.ts';
import { type FreshDatabase, freshDatabase, REDIS_URL, servicesAvailable } from './support/services.ts';

const available = await servicesAvailable('the live cluster suite', ['postgres', 'redis']);
const SERVICE_TOKEN = 'cluster-service-token-'.padEnd(40, 'c');
const GRACE_MS = 500;

describe.skipIf(!available)('live features across two nodes', () => {
  let database: FreshDatabase;
  let nodeA: LiveFixture;
  let nodeB: LiveFixture;

  beforeAll(async () => {
    database = await freshDatabase('switchboard_live');
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_PREFIX: `sbtest:${randomBytes(4).toString('hex')}:`,
      SERVICE_TOKEN,
      PRESENCE_GRACE_SECONDS: String(GRACE_MS / 1000),
    };
    nodeA = await startLive(env);
    nodeB = await startLive(env);
  });

  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
    await database?.drop();
  });

  async function pair() {
    const [alice, bob] = [await nodeA.signUp('alice'), await nodeA.signUp('bob')];
    const slug = await nodeA.chat.room(alice, [bob]);
    return { alice, bob, slug };
  }

  it('keeps a user online while a socket is open on any node; a reload onto the other node shows nothing', async () => {
    const { alice, bob } = await pair();
    const bobStatus = await nodeB.status(bob);
    const nextOfAlice = () =>
      bobStatus.client.next((f) => f.type === 'user_status' && f.user_id === alice.id);

    const onA = await nodeA.status(alice);
    expect(await nextOfAlice()).toMatchObject({ status: 'online' });
    await onA.client.close();
    const onB = await nodeB.status(alice);
    await settle(GRACE_MS * 2);
    // The other node may repeat "online" (it cannot tell a reload from a return); never "offline".
    const during = bobStatus.client
      .unread()
      .filter((f) => f.type === 'user_status' && f.user_id === alice.id);
    expect(during.filter((f) => f.status !== 'online')).toEqual([]);
    for (const _ of during) await nextOfAlice();
    expect(onB.snapshot).toContainEqual(expect.objectContaining({ user_id: bob.id, status: 'online' }));

    await onB.client.close();
    expect(await nextOfAlice()).toMatchObject({ status: 'offline', last_seen: expect.any(String) });
  });

  it('delivers a notification sent through one node to sockets on the other', async () => {
    const { alice } = await pair();
    const { client } = await nodeB.notifications(alice);
    const sent = await nodeA.call('POST', '/api/notifications/', {
      token: SERVICE_TOKEN,
      body: { user_id: alice.id, title: 'From node A' },
    });
    expect(sent.status).toBe(201);
    expect((await client.next('notification')).notification).toEqual(sent.body.notification);
    expect(await client.next('unread_count')).toMatchObject({ count: 1 });
  });

  it('knows cluster-wide who is looking at a room, and carries typing and receipts across nodes', async () => {
    const { alice, bob, slug } = await pair();
    const carol = await nodeA.signUp('carol');
    await nodeA.api.join(carol, slug);
    const aliceRoom = await nodeA.chat.enter(alice, slug);
    const bobRoom = await nodeB.chat.enter(bob, slug);
    const { client: bobBell } = await nodeA.notifications(bob);
    const { client: carolBell } = await nodeB.notifications(carol);

    await aliceRoom.request({ type: 'chat_message', message: 'hello across nodes' });
    expect((await carolBell.next('notification')).notification).toMatchObject({ category: 'message' });
    await nodeA.server.services.activity.idle();
    await settle();
    expect(bobBell.unread().filter((f) => f.type === 'notification')).toEqual([]);

    aliceRoom.send({ type: 'typing', is_typing: true });
    expect(await bobRoom.next('typing')).toMatchObject({ user: { id: alice.id }, is_typing: true });
    await bobRoom.request({ type: 'mark_read', seq: 1 });
    expect(await aliceRoom.next('read_receipt')).toMatchObject({ user: { id: bob.id }, seq: 1 });
  });
});
