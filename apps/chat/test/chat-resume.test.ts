/**
 * Resume with `?after_seq=N`: every change after N (creations, edits, deletions) in seq order,
 * then `synced`, then live traffic; no gap and no duplicate even while others keep writing.
 */
import type { Frame, TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture } from './support/chat-fixture.ts';

let chat: ChatFixture;
let alice: ChatUser;
let bob: ChatUser;

beforeAll(async () => {
  // The concurrent case sends 100 messages per user; rate limiting has its own suite.
  chat = await ChatFixture.start({ WS_RATE_LIMIT: '10000' });
  alice = await chat.signUp('alice');
  bob = await chat.signUp('bob');
});

afterAll(async () => {
  await chat?.close();
});

const CHANGE_TYPES = new Set(['chat_message', 'message_edited', 'message_deleted']);

/** The seq a room-change frame carries. */
function seqOf(frame: Frame): number {
  if (frame.type === 'message_deleted') return frame.seq as number;
  return (frame.message as { seq: number }).seq;
}

function idOf(frame: Frame): number {
  if (frame.type === 'message_deleted') return frame.message_id as number;
  return (frame.message as { id: number }).id;
}

/** Reads frames up to and including `synced`; returns the replayed changes and the marker. */
async function replayOf(client: TestClient): Promise<{ changes: Frame[]; synced: Frame }> {
  const changes: Frame[] = [];
  for (;;) {
    const frame = await client.next();
    if (frame.type === 'synced') return { changes, synced: frame };
    changes.push(frame);
  }
}

async function send(client: TestClient, message: string): Promise<Frame> {
  const ack = await client.request({ type: 'chat_message', message });
  expect(ack.type).toBe('ack');
  return ack;
}

describe('replay on connect', () => {
  it('replays creations, edits and deletions after N in seq order, then synced, then live', async () => {
    const slug = await chat.room(alice, [bob]);
    const writer = await chat.enter(alice, slug);
    const sent: Frame[] = [];
    for (let i = 1; i <= 5; i++) sent.push(await send(writer, `message ${i}`));
    const [m1, m2, m3] = sent as [Frame, Frame, Frame];
    const edited = await writer.request({
      type: 'edit_message',
      message_id: m2.message_id,
      new_content: 'two*',
    });
    const deleted = await writer.request({ type: 'delete_message', message_id: m3.message_id });
    expect([edited.seq, deleted.seq]).toEqual([6, 7]);

    const reader = await chat.connect(bob, slug, { afterSeq: 3 });
    const { changes, synced } = await replayOf(reader);
    expect(changes.map((f) => [f.type, seqOf(f), idOf(f)])).toEqual([
      ['chat_message', 4, sent[3]!.message_id],
      ['chat_message', 5, sent[4]!.message_id],
      ['message_edited', 6, m2.message_id],
      ['message_deleted', 7, m3.message_id],
    ]);
    expect(changes[2]!.message).toMatchObject({ content: 'two*', edited: true, seq: 6 });
    expect(changes[3]).toEqual({ type: 'message_deleted', message_id: m3.message_id, seq: 7, room: slug });
    expect(synced).toEqual({ type: 'synced', room: slug, last_seq: 7 });

    const live = await send(writer, 'after the replay');
    expect(await reader.next()).toMatchObject({
      type: 'chat_message',
      message: { id: live.message_id, seq: 8 },
    });
    expect(m1.seq).toBe(1);
  });

  it('replays from 0 with deleted messages as tombstones, never their text', async () => {
    const slug = await chat.room(alice, [bob]);
    const writer = await chat.enter(alice, slug);
    const kept = await send(writer, 'hello');
    const gone = await send(writer, 'my password is hunter2');
    await writer.request({ type: 'delete_message', message_id: gone.message_id });

    const reader = await chat.connect(bob, slug, { afterSeq: 0 });
    const { changes, synced } = await replayOf(reader);
    expect(changes.map((f) => [f.type, seqOf(f)])).toEqual([
      ['chat_message', 1],
      ['chat_message', 2],
      ['message_deleted', 3],
    ]);
    expect(changes[0]!.message).toMatchObject({ id: kept.message_id, content: 'hello' });
    expect(changes[1]!.message).toMatchObject({ id: gone.message_id, content: '', deleted: true });
    expect(JSON.stringify(reader.frames)).not.toContain('hunter2');
    expect(synced).toMatchObject({ last_seq: 3 });
  });

  it('sends no replay without after_seq, only synced with the room’s last seq', async () => {
    const slug = await chat.room(alice, [bob]);
    const writer = await chat.enter(alice, slug);
    await send(writer, 'one');
    await send(writer, 'two');
    const reader = await chat.connect(bob, slug);
    expect(await reader.next()).toEqual({ type: 'synced', room: slug, last_seq: 2 });
  });

  it('answers after_seq beyond the room’s last seq with synced carrying the real last seq', async () => {
    const slug = await chat.room(alice, [bob]);
    const writer = await chat.enter(alice, slug);
    await send(writer, 'only one');
    const reader = await chat.connect(bob, slug, { afterSeq: 1000 });
    expect(await reader.next()).toEqual({ type: 'synced', room: slug, last_seq: 1 });
    // And it is live from there: the next change is seq 2.
    const next = await send(writer, 'two');
    expect(await reader.next()).toMatchObject({
      type: 'chat_message',
      message: { id: next.message_id, seq: 2 },
    });
  });

  it('replays a history longer than one storage page completely and in order', async () => {
    const slug = await chat.room(alice, [bob]);
    const room = (await chat.server.storage.findRoom(slug))!;
    const author = { id: alice.id, username: alice.username };
    // Set-up straight through the domain: concurrent posts share commits, so this is quick.
    await Promise.all(
      Array.from({ length: 1100 }, (_, i) => chat.server.rooms.post(room, author, { text: `bulk ${i}` })),
    );
    const reader = await chat.connect(bob, slug, { afterSeq: 50 });
    const { changes, synced } = await replayOf(reader);
    expect(changes.map(seqOf)).toEqual(Array.from({ length: 1050 }, (_, i) => i + 51));
    expect(synced).toMatchObject({ last_seq: 1100 });
  });

  it.each(['abc', '-1', '1.5', '1e3', '99999999999999999999'])(
    'refuses after_seq=%s with INVALID_MESSAGE and close 4400',
    async (afterSeq) => {
      const slug = await chat.room(alice);
      const client = await chat.connect(alice, slug, { afterSeq });
      expect(await client.next()).toMatchObject({
        type: 'error',
        code: 'INVALID_MESSAGE',
        field: 'after_seq',
      });
      expect((await client.closed()).code).toBe(4400);
    },
  );
});

describe('resume under concurrent writers', () => {
  it('gives a client that keeps reconnecting exactly the stored sequence', async () => {
    const writers = [alice, bob, await chat.signUp('carol')];
    const readerUser = await chat.signUp('dave');
    const slug = await chat.room(alice, [...writers.slice(1), readerUser]);
    // A member who stays connected throughout: the live stream must match storage too.
    const watcher = await chat.enter(readerUser, slug);

    const PER_WRITER = 100;
    const CHECKPOINT = 20;
    let sessions = 0;
    let writing = true;
    let sessionsWhileWriting = 0;
    const acked: number[] = [];

    /** Each writer pauses at checkpoints until the reader has reconnected again, so they overlap. */
    const write = async (user: ChatUser, index: number) => {
      const socket = await chat.enter(user, slug);
      for (let i = 1; i <= PER_WRITER; i++) {
        const ack = await send(socket, `${user.username} #${i}`);
        acked.push(ack.message_id as number);
        if (index === 0 && i % 10 === 0) {
          const edit = await socket.request({
            type: 'edit_message',
            message_id: ack.message_id,
            new_content: `edited #${i}`,
          });
          expect(edit.type).toBe('ack');
        }
        if (index === 1 && i % 25 === 0) {
          expect((await socket.request({ type: 'delete_message', message_id: ack.message_id })).type).toBe(
            'ack',
          );
        }
        if (i % CHECKPOINT === 0) await until(() => sessions > i / CHECKPOINT);
      }
    };

    /** Reconnects with after_seq every few dozen changes, half the time dropping the socket abruptly. */
    const read = async () => {
      const received: Frame[] = [];
      let cursor = 0;
      let target: number | undefined;
      while (target === undefined || cursor < target) {
        sessions += 1;
        if (writing) sessionsWhileWriting += 1;
        const client = await chat.connect(readerUser, slug, { afterSeq: cursor });
        const quota = 20 + ((sessions * 7) % 25);
        let taken = 0;
        while (taken < quota && (target === undefined || cursor < target)) {
          const frame = await nextOrIdle(client, 300);
          if (!writing && target === undefined) target = (await chat.server.storage.findRoom(slug))!.lastSeq;
          if (!frame) break;
          if (frame.type === 'synced') {
            expect(frame.last_seq).toBe(cursor);
            continue;
          }
          expect(CHANGE_TYPES.has(frame.type)).toBe(true);
          received.push(frame);
          cursor = Math.max(cursor, seqOf(frame));
          taken += 1;
        }
        if (sessions % 2 === 0) client.socket.terminate();
        else await client.close();
      }
      return received;
    };

    const reading = read();
    await Promise.all(writers.map((user, index) => write(user, index)));
    writing = false;
    const received = await reading;

    const room = (await chat.server.storage.findRoom(slug))!;
    const stored = await chat.server.storage.changesSince(room.id, 0, 10_000);
    const expected = stored.map((c) => [c.seq, c.kind === 'deleted' ? c.messageId : c.message.id]);
    expect(stored).toHaveLength(3 * PER_WRITER + 10 + 4);
    expect(expected.map(([seq]) => seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));

    expect(received.map((f) => [seqOf(f), idOf(f)])).toEqual(expected);
    const createdIds = received.filter((f) => f.type === 'chat_message').map(idOf);
    expect(new Set(createdIds)).toEqual(new Set(acked));
    expect(createdIds).toHaveLength(acked.length);
    expect(sessions).toBeGreaterThanOrEqual(5);
    expect(sessionsWhileWriting).toBeGreaterThanOrEqual(5);

    const live: Frame[] = [];
    while (live.length < stored.length) live.push(await watcher.next((f) => CHANGE_TYPES.has(f.type)));
    expect(live.map((f) => [seqOf(f), idOf(f)])).toEqual(expected);
  });
});

/** The next frame, or undefined when none came for `ms` on a socket that is still open. */
async function nextOrIdle(client: TestClient, ms: number): Promise<Frame | undefined> {
  try {
    return await client.next(undefined, ms);
  } catch (error) {
    if (!client.isOpen) throw error;
    return undefined;
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
