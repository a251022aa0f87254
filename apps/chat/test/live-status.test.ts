/**
 * `/ws/status/`: presence derived from live sockets, over real sockets against the real chat
 * server. Online on the first socket (any endpoint), offline with last_seen once the last one has
 * been gone for the grace period, no flicker on a reload, explicit statuses, and fan-out only to
 * users who share a room.
 */
import type { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, settle, startLive } from './live-support.ts';
import type { ChatUser } from './support/chat-api.ts';

/** Short, so the suite can wait past it; long enough that a reconnect lands inside it. */
const GRACE_MS = 400;

describe('online status', () => {
  let live: LiveFixture;
  beforeAll(async () => {
    live = await startLive({ PRESENCE_GRACE_SECONDS: String(GRACE_MS / 1000) });
  });
  afterAll(() => live.close());

  /** Alice and Bob share a room; Carol shares none with them. */
  async function trio() {
    const [alice, bob, carol] = [
      await live.signUp('alice'),
      await live.signUp('bob'),
      await live.signUp('carol'),
    ];
    await live.chat.room(alice, [bob]);
    await live.chat.room(carol);
    return { alice, bob, carol };
  }

  const statusesOf = (user: ChatUser, frames: { type: string; user_id?: unknown }[]) =>
    frames.filter((f) => f.type === 'user_status' && f.user_id === user.id);
  /** The next status change of `user` a socket receives (its own user's changes come too). */
  const nextStatusOf = (client: TestClient, user: ChatUser) =>
    client.next((f) => f.type === 'user_status' && f.user_id === user.id);

  it('announces the first socket as online to room peers only, and lists peers on connect', async () => {
    const { alice, bob, carol } = await trio();
    const bobStatus = await live.status(bob);
    const carolStatus = await live.status(carol);
    expect(bobStatus.snapshot).toEqual([
      { user_id: bob.id, username: bob.username, status: 'online', last_seen: null },
      { user_id: alice.id, username: alice.username, status: 'offline', last_seen: null },
    ]);

    const aliceStatus = await live.status(alice);
    expect(await nextStatusOf(bobStatus.client, alice)).toEqual({
      type: 'user_status',
      user_id: alice.id,
      username: alice.username,
      status: 'online',
      last_seen: null,
    });
    expect(aliceStatus.snapshot).toContainEqual({
      user_id: bob.id,
      username: bob.username,
      status: 'online',
      last_seen: null,
    });
    expect(aliceStatus.snapshot).not.toContainEqual(expect.objectContaining({ user_id: carol.id }));
    await settle();
    expect(statusesOf(alice, carolStatus.client.unread())).toEqual([]);
  });

  it('goes offline with last_seen only after the grace period, and a reload shows nothing', async () => {
    const { alice, bob } = await trio();
    const bobStatus = await live.status(bob);
    const first = await live.status(alice);
    await nextStatusOf(bobStatus.client, alice);

    // Reload: the socket closes and a new one opens well within the grace period.
    await first.client.close();
    const reloaded = await live.status(alice);
    await settle(GRACE_MS * 2);
    expect(statusesOf(alice, bobStatus.client.unread())).toEqual([]);

    const before = Date.now();
    await reloaded.client.close();
    const offline = await nextStatusOf(bobStatus.client, alice);
    expect(offline).toMatchObject({ status: 'offline', username: alice.username });
    const lastSeen = Date.parse(offline.last_seen as string);
    expect(lastSeen).toBeGreaterThanOrEqual(before);
    expect(await live.server.storage.lastSeen(alice.id)).toBe(offline.last_seen);
    // A peer connecting later sees the same.
    expect((await live.status(bob)).snapshot).toContainEqual({
      user_id: alice.id,
      username: alice.username,
      status: 'offline',
      last_seen: offline.last_seen,
    });
  });

  it('counts chat and notification sockets as presence, across devices', async () => {
    const { alice, bob } = await trio();
    const bobStatus = await live.status(bob);
    const slug = (await live.api.call('GET', '/api/rooms/', { token: alice.access })).body.rooms[0]
      .slug as string;

    const chat = await live.chat.enter(alice, slug);
    expect(await nextStatusOf(bobStatus.client, alice)).toMatchObject({
      user_id: alice.id,
      status: 'online',
    });
    const bell = await live.notifications(alice);
    await chat.close();
    await settle(GRACE_MS * 2);
    expect(statusesOf(alice, bobStatus.client.unread())).toEqual([]);

    await bell.client.close();
    expect(await nextStatusOf(bobStatus.client, alice)).toMatchObject({
      user_id: alice.id,
      status: 'offline',
    });
  });

  it('sets an explicit status for peers and the user’s other devices; offline looks offline', async () => {
    const { alice, bob, carol } = await trio();
    const bobStatus = await live.status(bob);
    const carolStatus = await live.status(carol);
    const phone = await live.status(alice);
    const laptop = await live.status(alice);
    await nextStatusOf(bobStatus.client, alice);

    expect(await phone.client.request({ type: 'status_update', status: 'busy' })).toMatchObject({
      type: 'ack',
      status: 'busy',
    });
    expect(await nextStatusOf(bobStatus.client, alice)).toMatchObject({ user_id: alice.id, status: 'busy' });
    expect(await laptop.client.next((f) => f.type === 'user_status' && f.status === 'busy')).toMatchObject({
      user_id: alice.id,
    });
    expect((await live.status(bob)).snapshot).toContainEqual(
      expect.objectContaining({ user_id: alice.id, status: 'busy' }),
    );

    await phone.client.request({ type: 'status_update', status: 'offline' });
    const invisible = await nextStatusOf(bobStatus.client, alice);
    expect(invisible).toMatchObject({ user_id: alice.id, status: 'offline', last_seen: expect.any(String) });
    await settle();
    expect(statusesOf(alice, carolStatus.client.unread())).toEqual([]);
  });

  it('a snapshot taken within the grace period agrees with what peers are told', async () => {
    const { alice, bob } = await trio();
    const first = await live.status(alice);
    await first.client.close();
    // Bob connects while Alice is in her grace period: nobody was told she left, so she is online.
    const bobStatus = await live.status(bob);
    expect(bobStatus.snapshot).toContainEqual({
      user_id: alice.id,
      username: alice.username,
      status: 'online',
      last_seen: null,
    });
    // She is back within the grace period: still online, and no change to announce.
    const back = await live.status(alice);
    await settle(GRACE_MS * 2);
    expect(statusesOf(alice, bobStatus.client.unread())).toEqual([]);
    expect((await live.status(bob)).snapshot).toContainEqual(
      expect.objectContaining({ user_id: alice.id, status: 'online' }),
    );
    // Gone for good: offline, with the time she was last seen.
    await back.client.close();
    expect(await nextStatusOf(bobStatus.client, alice)).toMatchObject({
      status: 'offline',
      last_seen: expect.any(String),
    });
  });

  it('an explicit status survives a reload for the user and for peers alike', async () => {
    const { alice, bob } = await trio();
    const bobStatus = await live.status(bob);
    const before = await live.status(alice);
    await nextStatusOf(bobStatus.client, alice);
    await before.client.request({ type: 'status_update', status: 'busy' });
    expect(await nextStatusOf(bobStatus.client, alice)).toMatchObject({ status: 'busy' });

    await before.client.close();
    const reloaded = await live.status(alice);
    expect(reloaded.snapshot).toContainEqual(expect.objectContaining({ user_id: alice.id, status: 'busy' }));
    await settle(GRACE_MS * 2);
    expect(statusesOf(alice, bobStatus.client.unread())).toEqual([]);
    expect((await live.status(bob)).snapshot).toContainEqual(
      expect.objectContaining({ user_id: alice.id, status: 'busy' }),
    );
  });

  it('answers a bad status with INVALID_MESSAGE and refuses sockets without a token', async () => {
    const alice = await live.signUp();
    const { client } = await live.status(alice);
    expect(await client.request({ type: 'status_update', status: 'sleeping' })).toMatchObject({
      type: 'error',
      code: 'INVALID_MESSAGE',
      field: 'status',
    });
    expect(await client.request({ type: 'status_update', status: 'away', mood: 'meh' })).toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    expect(await client.request({ type: 'status_update', status: 'away' })).toMatchObject({ type: 'ack' });

    const anonymous = await live.socket(null, '/ws/status/');
    expect(await anonymous.next('error')).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect((await anonymous.closed()).code).toBe(4401);
  });
});
