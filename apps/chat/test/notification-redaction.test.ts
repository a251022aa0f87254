/**
 * A notification quotes the message it came from; the quote follows the message. Deleting the
 * message empties the text of every notification made from it, editing rewrites it, and leaving
 * a private room empties the leaver's notifications from that room — in storage (REST list) and
 * live on the notification sockets (`notification_updated`).
 */
import type { Notification } from '@switchboard/protocol';
import type { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, settle, startLive } from './live-support.ts';
import type { ChatUser } from './support/chat-api.ts';

const SECRET = 'hunter2';

describe('notifications follow the message they quote', () => {
  let live: LiveFixture;
  beforeAll(async () => {
    live = await startLive();
  });
  afterAll(() => live.close());

  /** Alice's private room with Bob (mentioned) and Carol (absent, so told of new messages). */
  async function setUp() {
    const [alice, bob, carol] = [
      await live.signUp('alice'),
      await live.signUp('bob'),
      await live.signUp('carol'),
    ];
    const slug = await live.chat.room(alice, [bob, carol], { private: true });
    const aliceRoom = await live.chat.enter(alice, slug);
    const { client: bobBell } = await live.notifications(bob);
    const { client: carolBell } = await live.notifications(carol);
    const posted = await aliceRoom.request({
      type: 'chat_message',
      message: `@${bob.username} the password is ${SECRET}`,
    });
    const mention = (await bobBell.next('notification')).notification as Notification;
    const newMessages = (await carolBell.next('notification')).notification as Notification;
    expect(mention).toMatchObject({ category: 'mention', message: expect.stringContaining(SECRET) });
    expect(newMessages).toMatchObject({ category: 'message', message: expect.stringContaining(SECRET) });
    return {
      alice,
      bob,
      carol,
      slug,
      aliceRoom,
      bobBell,
      carolBell,
      messageId: posted.message_id as number,
      mention,
      newMessages,
    };
  }

  const listed = async (user: ChatUser) =>
    (await live.call('GET', '/api/notifications/', { token: user.access })).body.notifications;
  const updated = async (bell: TestClient) =>
    (await bell.next('notification_updated')).notification as Notification;

  it('empties the text when the message is deleted', async () => {
    const { bob, carol, aliceRoom, bobBell, carolBell, messageId, mention, newMessages } = await setUp();
    expect(await aliceRoom.request({ type: 'delete_message', message_id: messageId })).toMatchObject({
      type: 'ack',
    });
    expect(await updated(bobBell)).toEqual({ ...mention, message: '' });
    expect(await updated(carolBell)).toEqual({ ...newMessages, message: '' });
    for (const user of [bob, carol]) {
      const notifications = await listed(user);
      expect(notifications).toHaveLength(1);
      expect(JSON.stringify(notifications)).not.toContain(SECRET);
    }
  });

  it('rewrites the text when the message is edited', async () => {
    const { bob, carol, aliceRoom, bobBell, carolBell, messageId } = await setUp();
    await aliceRoom.request({
      type: 'edit_message',
      message_id: messageId,
      new_content: `@${bob.username} never mind`,
    });
    expect((await updated(bobBell)).message).toBe(`@${bob.username} never mind`);
    expect((await updated(carolBell)).message).toMatch(/: @.* never mind$/);
    for (const user of [bob, carol]) expect(JSON.stringify(await listed(user))).not.toContain(SECRET);
  });

  it('empties the leaver’s notifications from a private room, and only theirs', async () => {
    const { bob, carol, slug, bobBell, carolBell } = await setUp();
    await live.api.leave(bob, slug);
    expect((await updated(bobBell)).message).toBe('');
    expect(JSON.stringify(await listed(bob))).not.toContain(SECRET);
    await settle();
    expect(carolBell.unread().filter((f) => f.type === 'notification_updated')).toEqual([]);
    expect(JSON.stringify(await listed(carol))).toContain(SECRET);
  });

  it('never notifies the text of a message deleted before its notifications went out', async () => {
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    const slug = await live.chat.room(alice, [bob], { private: true });
    const aliceRoom = await live.chat.enter(alice, slug);
    const { client: bobBell } = await live.notifications(bob);
    const posted = await aliceRoom.request({ type: 'chat_message', message: `@${bob.username} ${SECRET}` });
    await aliceRoom.request({ type: 'delete_message', message_id: posted.message_id });
    await live.server.services.activity.idle();
    await settle();
    expect(JSON.stringify(bobBell.unread())).not.toContain(SECRET);
    expect(JSON.stringify(await listed(bob))).not.toContain(SECRET);
  });
});
