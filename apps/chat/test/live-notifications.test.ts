/**
 * `/ws/notifications/` and the notification REST routes, over real sockets against the real chat
 * server: live delivery on every device, unread counts, marking read (owner only), paging, the
 * send-from-anywhere POST (admin or service token), and the two automatic sources (messages to
 * absent members, mentions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, settle, startLive } from './live-support.ts';
import type { ChatUser } from './support/chat-api.ts';

const SERVICE_TOKEN = 'service-token-'.padEnd(40, 's');

describe('notifications', () => {
  let live: LiveFixture;
  beforeAll(async () => {
    live = await startLive({ SERVICE_TOKEN });
  });
  afterAll(() => live.close());

  const notify = (
    user: ChatUser | { id: number },
    body: Record<string, unknown> = {},
    token = SERVICE_TOKEN,
  ) =>
    live.call('POST', '/api/notifications/', {
      token,
      body: { user_id: user.id, title: 'Build finished', message: 'main is green', ...body },
    });

  it('sends the unread count on connect, then every notification and count to all devices', async () => {
    const alice = await live.signUp('alice');
    const phone = await live.notifications(alice);
    const laptop = await live.notifications(alice);
    expect(phone.unread).toBe(0);

    const sent = await notify(alice, { category: 'ci', url: '/#/rooms/builds' });
    expect(sent.status).toBe(201);
    expect(sent.body.notification).toMatchObject({ title: 'Build finished', category: 'ci', read_at: null });

    for (const device of [phone.client, laptop.client]) {
      const frame = await device.next('notification');
      expect(frame.notification).toEqual(sent.body.notification);
      expect(await device.next('unread_count')).toEqual({ type: 'unread_count', count: 1 });
    }
    // A new socket starts from the stored count.
    expect((await live.notifications(alice)).unread).toBe(1);
  });

  it('lets the owner mark one or all read, updating every device; anyone else hears "not found"', async () => {
    const [alice, mallory] = [await live.signUp('alice'), await live.signUp('mallory')];
    const first = (await notify(alice)).body.notification;
    const second = (await notify(alice)).body.notification;
    const { client: aliceSocket, unread } = await live.notifications(alice);
    const { client: other } = await live.notifications(alice);
    const { client: mallorySocket } = await live.notifications(mallory);
    expect(unread).toBe(2);

    const refused = await mallorySocket.request({ type: 'mark_read', notification_id: first.id });
    expect(refused).toMatchObject({ type: 'error', code: 'NOT_FOUND', field: 'notification_id' });
    expect(refused.error).toBe('Notification not found.');
    const viaRest = await live.call('POST', `/api/notifications/${first.id}/read/`, {
      token: mallory.access,
    });
    expect(viaRest).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    const listed = await live.call('GET', '/api/notifications/', { token: mallory.access });
    expect(listed.body.notifications).toEqual([]);
    expect(await live.server.storage.unreadNotificationCount(alice.id)).toBe(2);

    const ack = await aliceSocket.request({ type: 'mark_read', notification_id: first.id });
    expect(ack).toMatchObject({ type: 'ack', notification_id: first.id, unread_count: 1 });
    expect(await other.next('unread_count')).toEqual({ type: 'unread_count', count: 1 });

    const all = await aliceSocket.request({ type: 'mark_all_read' });
    expect(all).toMatchObject({ type: 'ack', unread_count: 0 });
    expect(await other.next('unread_count')).toEqual({ type: 'unread_count', count: 0 });
    const page = await live.call('GET', '/api/notifications/', { token: alice.access });
    expect(page.body.notifications.map((n: { id: number }) => n.id)).toEqual([second.id, first.id]);
    expect(page.body.notifications.every((n: { read_at: string | null }) => n.read_at !== null)).toBe(true);
  });

  it('answers bad frames with INVALID_MESSAGE naming the field, and stays open', async () => {
    const alice = await live.signUp();
    const { client } = await live.notifications(alice);
    expect(await client.request({ type: 'mark_read', notification_id: 'seven' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'notification_id',
    });
    expect(await client.request({ type: 'mark_read' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'notification_id',
    });
    expect(await client.request({ type: 'archive_everything' })).toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(await client.request({ type: 'mark_all_read' })).toMatchObject({ type: 'ack', unread_count: 0 });
  });

  it('refuses a socket without a valid token with 4401', async () => {
    const anonymous = await live.socket(null, '/ws/notifications/');
    expect(await anonymous.next('error')).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect((await anonymous.closed()).code).toBe(4401);
  });

  it('pages the list newest first with a cursor', async () => {
    const alice = await live.signUp();
    for (let i = 1; i <= 5; i++) await notify(alice, { title: `n${i}` });
    const first = await live.call('GET', '/api/notifications/?limit=2', { token: alice.access });
    expect(first.body.notifications.map((n: { title: string }) => n.title)).toEqual(['n5', 'n4']);
    expect(first.body.unread_count).toBe(5);
    const cursor = first.body.next_before_id;
    const second = await live.call('GET', `/api/notifications/?limit=2&before_id=${cursor}`, {
      token: alice.access,
    });
    expect(second.body.notifications.map((n: { title: string }) => n.title)).toEqual(['n3', 'n2']);
    const last = await live.call(
      'GET',
      `/api/notifications/?limit=2&before_id=${second.body.next_before_id}`,
      {
        token: alice.access,
      },
    );
    expect(last.body).toMatchObject({ next_before_id: null });
    expect(last.body.notifications.map((n: { title: string }) => n.title)).toEqual(['n1']);
    expect(await live.call('GET', '/api/notifications/?limit=0', { token: alice.access })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_MESSAGE', field: 'limit' },
    });
    expect((await live.call('GET', '/api/notifications/')).status).toBe(401);
  });

  it('accepts POST /api/notifications/ from an admin or the service token only', async () => {
    const [alice, bob] = [await live.signUp(), await live.signUp()];
    const admin = await live.admin();
    expect((await notify(alice, { username: undefined }, admin.access)).status).toBe(201);
    const byName = await live.call('POST', '/api/notifications/', {
      token: SERVICE_TOKEN,
      body: { username: alice.username.toUpperCase(), title: 'Hi' },
    });
    expect(byName).toMatchObject({ status: 201, body: { user_id: alice.id } });

    expect(await notify(alice, {}, bob.access)).toMatchObject({
      status: 403,
      body: { code: 'PERMISSION_DENIED', error: 'Only admins and services may call this.' },
    });
    expect(await notify(alice, {}, `${SERVICE_TOKEN}x`)).toMatchObject({
      status: 401,
      body: { code: 'AUTHENTICATION_FAILED' },
    });
    expect(
      (await live.call('POST', '/api/notifications/', { body: { user_id: alice.id, title: 't' } })).status,
    ).toBe(401);
    expect(await notify({ id: 999_999 })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await notify(alice, { title: '' })).toMatchObject({ status: 400, body: { field: 'title' } });
    // Anything a browser would resolve to another origin than the path it looks like.
    for (const url of [
      'javascript:alert(1)',
      '/\\evil.example/',
      '//evil.example/',
      '/\t/evil.example/',
      '/\n/evil.example/',
      ' /rooms',
      'evil.example/x',
      'https://evil .example/',
      'https://evil.example\\@good.example/',
      // Only paths on this site: an absolute link, however harmless it looks, is refused.
      'https://ci.example.com/build/1?x=y#z',
    ]) {
      expect([url, await notify(alice, { url })]).toMatchObject([
        url,
        { status: 400, body: { field: 'url' } },
      ]);
    }
    expect(await notify(alice, { username: alice.username })).toMatchObject({
      status: 400,
      body: { field: 'user_id' },
    });
    expect(await live.server.storage.unreadNotificationCount(alice.id)).toBe(2);
    for (const url of ['/#/rooms/a%20b', '/a\\b?x=1']) {
      expect([url, (await notify(alice, { url })).status]).toEqual([url, 201]);
    }
  });

  it('notifies members not connected to the room of a new message, once until they read it', async () => {
    const [alice, bob, carol] = [
      await live.signUp('alice'),
      await live.signUp('bob'),
      await live.signUp('carol'),
    ];
    const slug = await live.chat.room(alice, [bob, carol]);
    const roomName = `Room ${slug}`;
    const aliceRoom = await live.chat.enter(alice, slug);
    await live.chat.enter(carol, slug); // Carol is looking at the room
    const { client: bobBell } = await live.notifications(bob);
    const { client: carolBell } = await live.notifications(carol);

    await aliceRoom.request({ type: 'chat_message', message: 'standup in 5' });
    const got = await bobBell.next('notification');
    expect(got.notification).toMatchObject({
      title: `New messages in ${roomName}`,
      message: `${alice.username}: standup in 5`,
      category: 'message',
      url: `/#/rooms/${slug}`,
    });
    expect(await bobBell.next('unread_count')).toMatchObject({ count: 1 });

    await aliceRoom.request({ type: 'chat_message', message: 'make that 10' });
    await live.server.services.activity.idle();
    await settle();
    expect(bobBell.unread().filter((f) => f.type === 'notification')).toEqual([]);
    expect(carolBell.unread().filter((f) => f.type === 'notification')).toEqual([]);
    expect(await live.server.storage.unreadNotificationCount(alice.id)).toBe(0);

    // Once Bob has read it, the next message notifies him again.
    await bobBell.request({ type: 'mark_all_read' });
    await aliceRoom.request({ type: 'chat_message', message: 'started' });
    expect((await bobBell.next('notification')).notification).toMatchObject({
      message: `${alice.username}: started`,
    });
  });

  it('notifies a mentioned member even while they look at the room, and never a non-member', async () => {
    const [alice, bob, outsider] = [
      await live.signUp('alice'),
      await live.signUp('bob'),
      await live.signUp('out'),
    ];
    const slug = await live.chat.room(alice, [bob], { private: true });
    const aliceRoom = await live.chat.enter(alice, slug);
    await live.chat.enter(bob, slug);
    const { client: bobBell } = await live.notifications(bob);
    const { client: outsiderBell } = await live.notifications(outsider);

    await aliceRoom.request({
      type: 'chat_message',
      message: `@${bob.username.toUpperCase()} and @${outsider.username}, see mail@${bob.username}.com`,
    });
    const mention = await bobBell.next('notification');
    expect(mention.notification).toMatchObject({
      title: `${alice.username} mentioned you in Room ${slug}`,
      category: 'mention',
      url: `/#/rooms/${slug}`,
    });
    await live.server.services.activity.idle();
    await settle();
    expect(bobBell.unread().filter((f) => f.type === 'notification')).toEqual([]);
    expect(outsiderBell.unread().filter((f) => f.type === 'notification')).toEqual([]);
    expect(await live.server.storage.unreadNotificationCount(outsider.id)).toBe(0);
  });
});
