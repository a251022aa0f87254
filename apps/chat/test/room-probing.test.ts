/**
 * An outsider cannot tell a private room from a missing one: every room route (join, invite,
 * leave, history, read receipts, uploads, the chat socket) answers a private room's non-member
 * exactly as it answers a slug nobody uses. Leaving a room one is not in is a 404 and is not
 * announced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture } from './support/chat-fixture.ts';

describe('private rooms cannot be probed', () => {
  let chat: ChatFixture;
  let alice: ChatUser;
  let bob: ChatUser;
  let mallory: ChatUser;
  beforeAll(async () => {
    chat = await ChatFixture.start({ AUTH_RATE_LIMIT: '1000' });
    [alice, bob, mallory] = [
      await chat.signUp('alice'),
      await chat.signUp('bob'),
      await chat.signUp('mallory'),
    ];
  });
  afterAll(() => chat.close());

  /** Every REST room route, as `user` calls it on `slug`. */
  async function probe(user: ChatUser, slug: string) {
    const call = (method: string, path: string, body?: unknown) =>
      chat.api.call(method, `/api/rooms/${slug}/${path}`, { token: user.access, body });
    const upload = await chat.api.upload(user, slug, Buffer.from('probe'));
    return {
      join: await call('POST', 'join/'),
      invite: await call('POST', 'members/', { username: mallory.username }),
      leave: await call('DELETE', 'members/me/'),
      history: await call('GET', 'messages/'),
      receipts: await call('GET', 'read-receipts/'),
      upload: { status: upload.status, body: upload.body },
    };
  }

  it('answers a private room and a missing one identically, on every route', async () => {
    const secret = await chat.room(alice, [bob], { private: true });
    const answers = await probe(mallory, secret);
    expect(answers).toEqual(await probe(mallory, 'no-such-room-at-all'));
    for (const answer of Object.values(answers)) {
      expect(answer).toEqual({ status: 404, body: { error: 'Room not found.', code: 'CHANNEL_NOT_FOUND' } });
    }
    expect(await chat.server.storage.memberIds((await chat.server.storage.findRoom(secret))!.id)).toEqual(
      [alice.id, bob.id].sort((x, y) => x - y),
    );

    const socket = await chat.connect(mallory, secret);
    expect(await socket.next('error')).toMatchObject({ code: 'CHANNEL_NOT_FOUND', error: 'Room not found.' });
    expect((await socket.closed()).code).toBe(4404);
  });

  it('refuses to announce a non-member leaving: 404, and the members are not disturbed', async () => {
    const open = await chat.room(alice, [bob]);
    const bobSocket = await chat.enter(bob, open);
    const left = await chat.api.call('DELETE', `/api/rooms/${open}/members/me/`, { token: mallory.access });
    expect(left).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    // A member still leaves with 204, and only then is their socket cut.
    expect(await bobSocket.request({ type: 'chat_message', message: 'still in' })).toMatchObject({
      type: 'ack',
    });
    await chat.api.leave(bob, open);
    expect((await bobSocket.closed()).code).toBe(4403);
    const again = await chat.api.call('DELETE', `/api/rooms/${open}/members/me/`, { token: bob.access });
    expect(again.status).toBe(404);
  });

  it('still tells a public room’s outsider to join (it is no secret), and lets them', async () => {
    const open = await chat.room(alice);
    const history = await chat.api.call('GET', `/api/rooms/${open}/messages/`, { token: mallory.access });
    expect(history).toMatchObject({ status: 403, body: { code: 'PERMISSION_DENIED' } });
    await chat.api.join(mallory, open);
    expect(
      (await chat.api.call('GET', `/api/rooms/${open}/messages/`, { token: mallory.access })).status,
    ).toBe(200);
  });
});
