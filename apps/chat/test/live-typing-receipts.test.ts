/**
 * Typing indicators and read receipts on the chat socket, over real sockets against the real
 * chat server: who hears typing, the throttle, the server-side end, its own rate bucket; read
 * positions that only move forward, their broadcast, and the unread counts they drive.
 */
import type { Frame, TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, settle, startLive } from './live-support.ts';
import type { ChatUser } from './support/chat-api.ts';

const typingOf = (client: TestClient) => client.unread().filter((f) => f.type === 'typing');

describe('typing', () => {
  let live: LiveFixture;
  beforeAll(async () => {
    // A long throttle window, so "one broadcast per window" holds however slow the machine is.
    live = await startLive({
      TYPING_THROTTLE_SECONDS: '30',
      TYPING_TIMEOUT_SECONDS: '0.5',
      WS_RATE_LIMIT: '5',
    });
  });
  afterAll(() => live.close());

  async function room() {
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    const slug = await live.chat.room(alice, [bob]);
    return { alice, bob, slug };
  }

  it('reaches everyone in the room but the typist, on none of the typist’s devices', async () => {
    const { alice, bob, slug } = await room();
    const aliceLaptop = await live.chat.enter(alice, slug);
    const alicePhone = await live.chat.enter(alice, slug);
    const bobRoom = await live.chat.enter(bob, slug);

    aliceLaptop.send({ type: 'typing', is_typing: true });
    expect(await bobRoom.next('typing')).toEqual({
      type: 'typing',
      user: { id: alice.id, username: alice.username, avatar: null },
      is_typing: true,
    });
    aliceLaptop.send({ type: 'typing', is_typing: false });
    expect(await bobRoom.next('typing')).toMatchObject({ is_typing: false });
    await settle();
    expect(typingOf(alicePhone)).toEqual([]);
    expect(typingOf(aliceLaptop)).toEqual([]);
  });

  it('broadcasts one start per throttle window however often the typist refreshes', async () => {
    const { alice, bob, slug } = await room();
    const aliceRoom = await live.chat.enter(alice, slug);
    const bobRoom = await live.chat.enter(bob, slug);
    for (let i = 0; i < 8; i++) {
      expect(await aliceRoom.request({ type: 'typing', is_typing: true })).toMatchObject({ type: 'ack' });
    }
    expect(await bobRoom.next('typing')).toMatchObject({ is_typing: true });
    // Sending a message ends the indicator at once, after the message itself.
    await aliceRoom.request({ type: 'chat_message', message: 'done typing' });
    await bobRoom.next('chat_message');
    expect(await bobRoom.next('typing')).toMatchObject({ is_typing: false });
    const starts = bobRoom.frames.filter((f) => f.type === 'typing' && f.is_typing);
    expect(starts).toHaveLength(1);
    // A stop followed by a new start inside the window stays quiet until the window is over.
    await aliceRoom.request({ type: 'typing', is_typing: true });
    await aliceRoom.request({ type: 'typing', is_typing: false });
    await settle();
    expect(typingOf(bobRoom)).toEqual([]);
  });

  it('ends an indicator that is not refreshed, and one whose typist disconnects', async () => {
    const { alice, bob, slug } = await room();
    const bobRoom = await live.chat.enter(bob, slug);
    const first = await live.chat.enter(alice, slug);
    first.send({ type: 'typing', is_typing: true });
    expect(await bobRoom.next('typing')).toMatchObject({ is_typing: true });
    expect(await bobRoom.next('typing', 3000)).toMatchObject({ user: { id: alice.id }, is_typing: false });

    const second = await live.chat.enter(bob, slug);
    const aliceRoom = await live.chat.enter(alice, slug);
    second.send({ type: 'typing', is_typing: true });
    expect(await aliceRoom.next('typing')).toMatchObject({ user: { id: bob.id }, is_typing: true });
    await second.close();
    expect(await aliceRoom.next('typing')).toMatchObject({ user: { id: bob.id }, is_typing: false });
  });

  it('has its own rate bucket: typing never uses up the chat limit, and is bounded itself', async () => {
    const { alice, slug } = await room();
    const aliceRoom = await live.chat.enter(alice, slug);
    for (let i = 0; i < 10; i++) aliceRoom.send({ type: 'typing', is_typing: i % 2 === 0 });
    expect(await aliceRoom.request({ type: 'chat_message', message: 'still allowed' })).toMatchObject({
      type: 'ack',
    });
    const replies: Frame[] = [];
    for (let i = 0; i < 60; i++) replies.push(await aliceRoom.request({ type: 'typing', is_typing: true }));
    const refused = replies.filter((f) => f.type === 'error');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retry_after: expect.any(Number) });
    expect(await aliceRoom.request({ type: 'typing', is_typing: 'yes' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'is_typing',
    });
  });
});

describe('read receipts', () => {
  let live: LiveFixture;
  beforeAll(async () => {
    live = await startLive();
  });
  afterAll(() => live.close());

  async function roomWithMessages(count: number) {
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    const slug = await live.chat.room(alice, [bob]);
    const aliceRoom = await live.chat.enter(alice, slug);
    for (let i = 1; i <= count; i++) await aliceRoom.request({ type: 'chat_message', message: `m${i}` });
    return { alice, bob, slug, aliceRoom };
  }

  const roomSummary = async (user: ChatUser, slug: string) =>
    (await live.call('GET', '/api/rooms/', { token: user.access })).body.rooms.find(
      (r: { slug: string }) => r.slug === slug,
    );

  it('stores the furthest position, announces each advance to the room, and drives unread counts', async () => {
    const { alice, bob, slug, aliceRoom } = await roomWithMessages(4);
    const bobRoom = await live.chat.enter(bob, slug);
    expect(await roomSummary(bob, slug)).toMatchObject({ unread: 4, last_read_seq: 0 });

    expect(await bobRoom.request({ type: 'mark_read', seq: 2 })).toMatchObject({ type: 'ack', seq: 2 });
    const receipt = {
      type: 'read_receipt',
      user: { id: bob.id, username: bob.username, avatar: null },
      seq: 2,
    };
    expect(await aliceRoom.next('read_receipt')).toEqual(receipt);
    expect(await bobRoom.next('read_receipt')).toEqual(receipt);
    expect(await roomSummary(bob, slug)).toMatchObject({ unread: 2, last_read_seq: 2 });

    // Backwards is ignored (and not announced); beyond the end is clamped to the last change.
    expect(await bobRoom.request({ type: 'mark_read', seq: 1 })).toMatchObject({ type: 'ack', seq: 2 });
    expect(await bobRoom.request({ type: 'mark_read', seq: 1_000 })).toMatchObject({ type: 'ack', seq: 4 });
    expect(await aliceRoom.next('read_receipt')).toMatchObject({ seq: 4 });
    await settle();
    expect(aliceRoom.unread().filter((f) => f.type === 'read_receipt')).toEqual([]);
    expect(await roomSummary(bob, slug)).toMatchObject({ unread: 0, last_read_seq: 4 });

    const positions = await live.call('GET', `/api/rooms/${slug}/read-receipts/`, { token: alice.access });
    expect(positions.body.receipts).toEqual([
      { user: { id: alice.id, username: alice.username, avatar: null }, seq: 0 },
      { user: { id: bob.id, username: bob.username, avatar: null }, seq: 4 },
    ]);
  });

  it('answers bad positions and outsiders clearly', async () => {
    const { slug, aliceRoom } = await roomWithMessages(1);
    expect(await aliceRoom.request({ type: 'mark_read', seq: -1 })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'seq',
    });
    expect(await aliceRoom.request({ type: 'mark_read', seq: 1.5 })).toMatchObject({ field: 'seq' });
    expect(await aliceRoom.request({ type: 'mark_read' })).toMatchObject({ field: 'seq' });
    const outsider = await live.signUp('out');
    expect(
      await live.call('GET', `/api/rooms/${slug}/read-receipts/`, { token: outsider.access }),
    ).toMatchObject({
      status: 403,
      body: { code: 'PERMISSION_DENIED' },
    });
    expect(
      (await live.call('GET', '/api/rooms/no-such-room/read-receipts/', { token: outsider.access })).status,
    ).toBe(404);
  });
});
