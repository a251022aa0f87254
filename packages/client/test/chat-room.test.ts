/**
 * The SDK against the real chat server (a child process) over real sockets: acks and refusals,
 * live delivery, the offline queue, resume across drops and restarts, token expiry, and the close
 * codes that must not be retried.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  AckTimeoutError,
  type ChatMessage,
  ChatRoomConnection,
  type ChatRoomOptions,
  ConnectionClosedError,
  type ConnectionState,
  QueueFullError,
  ServerError,
  type SwitchboardApi,
} from '../src/index.ts';
import { expiredAccessToken, signUp, uniqueSlug } from './helpers/accounts.ts';
import { type ChatProcess, startChatProcess } from './helpers/chat-process.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

let server: ChatProcess;
/** Three accounts for the whole file: sign-ups are rate limited per address, rooms are not. */
let alice: SwitchboardApi;
let bob: SwitchboardApi;
let eve: SwitchboardApi;
const connections: ChatRoomConnection[] = [];

beforeAll(async () => {
  // The default 60 frames/minute would throttle the bulk sends below; the limit has its own tests.
  server = await startChatProcess({ WS_RATE_LIMIT: '100000' });
  [alice, bob, eve] = await Promise.all([
    signUp(server.url, 'alice'),
    signUp(server.url, 'bob'),
    signUp(server.url, 'eve'),
  ]);
});

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.close();
  // A restart test that failed half-way must not take the server away from the next tests.
  if (!server.running) await server.start();
});

afterAll(async () => {
  await server?.dispose();
});

/** A room connection with short backoff (the defaults' seconds would only slow the suite down), not yet connected. */
function roomConnection(api: SwitchboardApi, room: string, options: Partial<ChatRoomOptions> = {}) {
  const connection = new ChatRoomConnection({
    server: server.url,
    room,
    afterSeq: 0,
    token: () => api.accessToken(),
    refreshToken: () => api.refreshAccessToken(),
    WebSocket,
    backoff: { baseMs: 50, capMs: 400 },
    ...options,
  });
  connections.push(connection);
  return connection;
}

/** The same, connecting. */
function connect(api: SwitchboardApi, room: string, options: Partial<ChatRoomOptions> = {}) {
  const connection = roomConnection(api, room, options);
  connection.connect();
  return connection;
}

/** Every state the connection goes through, in order. */
function recordStates(connection: ChatRoomConnection): ConnectionState[] {
  const states: ConnectionState[] = [connection.state];
  connection.onStateChange((state) => states.push(state));
  return states;
}

function untilState(connection: ChatRoomConnection, status: ConnectionState['status'], timeout = 15_000) {
  return vi.waitFor(() => expect(connection.state.status).toBe(status), { timeout, interval: 20 });
}

/** The room as stored, oldest first, read back through REST. */
async function storedMessages(api: SwitchboardApi, room: string): Promise<ChatMessage[]> {
  const all: ChatMessage[] = [];
  let beforeSeq: number | null = null;
  do {
    const page = await api.history(room, { beforeSeq, limit: 100 });
    all.push(...page.messages);
    beforeSeq = page.next_before_seq;
  } while (beforeSeq !== null);
  return all.reverse();
}

/** The contents of every chat_message a connection's listeners receive, in arrival order. */
function collectMessages(connection: ChatRoomConnection): ChatMessage[] {
  const seen: ChatMessage[] = [];
  connection.on('chat_message', (frame) => seen.push(frame.message));
  return seen;
}

/** A new room of Alice's that Bob has joined (Eve stays outside). */
async function newRoom(): Promise<string> {
  const room = uniqueSlug();
  await alice.createRoom({ slug: room, name: 'Test room' });
  await bob.joinRoom(room);
  return room;
}

describe('acks and refusals', () => {
  it('resolves send with the stored id and seq, and delivers typed frames to the other member', async () => {
    const room = await newRoom();
    const sender = connect(alice, room);
    const reader = connect(bob, room);
    const received = collectMessages(reader);
    await Promise.all([untilState(sender, 'open'), untilState(reader, 'open')]);

    const ack = await sender.sendMessage('Hello, Bob');
    expect(ack).toMatchObject({ type: 'ack', message_id: expect.any(Number), seq: 1 });
    await vi.waitFor(() => expect(received.map((message) => message.content)).toEqual(['Hello, Bob']));
    expect(received[0]).toMatchObject({
      id: ack.message_id,
      seq: ack.seq,
      room,
      author: { username: alice.session?.username },
    });
    expect(sender.lastSeq).toBe(1);
    expect(sender.queued).toEqual([]);
  });

  it('rejects with the error frame: blank, too long, someone else’s message, unknown message', async () => {
    const room = await newRoom();
    const aliceRoom = connect(alice, room);
    const bobRoom = connect(bob, room);
    await Promise.all([untilState(aliceRoom, 'open'), untilState(bobRoom, 'open')]);
    const { message_id } = await aliceRoom.sendMessage('mine');

    await expect(aliceRoom.sendMessage('   ')).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(aliceRoom.sendMessage('x'.repeat(501))).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
      message: 'Message exceeds 500 characters.',
    });
    const notYours = bobRoom.editMessage(message_id, 'hijacked');
    await expect(notYours).rejects.toBeInstanceOf(ServerError);
    await expect(notYours).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: 'You can only edit your own messages.',
    });
    await expect(bobRoom.deleteMessage(message_id)).rejects.toMatchObject({
      message: 'You can only delete your own messages.',
    });
    await expect(aliceRoom.deleteMessage(999_999)).rejects.toMatchObject({ message: 'Message not found.' });
    // Refusals leave the connection open and the queue empty.
    expect(aliceRoom.state.status).toBe('open');
    expect(aliceRoom.queued).toEqual([]);
  });

  it('edits and deletes reach both sides as typed frames with the next seq', async () => {
    const room = await newRoom();
    const aliceRoom = connect(alice, room);
    const bobRoom = connect(bob, room);
    const edits: string[] = [];
    const deletions: number[] = [];
    bobRoom.on('message_edited', (frame) => edits.push(frame.message.content));
    bobRoom.on('message_deleted', (frame) => deletions.push(frame.message_id));
    await Promise.all([untilState(aliceRoom, 'open'), untilState(bobRoom, 'open')]);

    const { message_id } = await aliceRoom.sendMessage('first draft');
    await expect(aliceRoom.editMessage(message_id, 'final text')).resolves.toMatchObject({ seq: 2 });
    await expect(aliceRoom.deleteMessage(message_id)).resolves.toMatchObject({ seq: 3 });
    await vi.waitFor(() => {
      expect(edits).toEqual(['final text']);
      expect(deletions).toEqual([message_id]);
    });
    expect(bobRoom.lastSeq).toBe(3);
  });
});

describe('refusals that mean "later"', () => {
  it('resends a message refused with RATE_LIMIT_EXCEEDED after retry_after, and it is stored once', async () => {
    const limited = await startChatProcess({ WS_RATE_LIMIT: '2', WS_RATE_WINDOW_SECONDS: '2' });
    try {
      const carol = await signUp(limited.url, 'carol');
      const room = uniqueSlug();
      await carol.createRoom({ slug: room, name: 'Limited' });
      const connection = connect(carol, room, { server: limited.url });
      await untilState(connection, 'open');
      const acks = await Promise.all(['one', 'two', 'three'].map((text) => connection.sendMessage(text)));
      expect(acks.map((ack) => ack.seq)).toEqual([1, 2, 3]);
      const stored = await storedMessages(carol, room);
      expect(stored.map((message) => message.content)).toEqual(['one', 'two', 'three']);
    } finally {
      await limited.dispose();
    }
  });
});

describe('offline queue', () => {
  it('queues frames sent before the socket is open and sends them in order once it is', async () => {
    const room = await newRoom();
    const connection = roomConnection(alice, room);
    const acks = ['one', 'two', 'three'].map((text) => connection.sendMessage(text));
    expect(connection.queued.map((frame) => (frame as { message: string }).message)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(connection.state.status).toBe('closed');

    connection.connect();
    const seqs = (await Promise.all(acks)).map((ack) => ack.seq);
    expect(seqs).toEqual([1, 2, 3]);
    expect((await storedMessages(alice, room)).map((message) => message.content)).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(connection.queued).toEqual([]);
  });

  it('is bounded: a send beyond the limit is refused, not dropped silently', async () => {
    const room = await newRoom();
    const connection = roomConnection(alice, room, { outbox: { limit: 2 } });
    const kept = [connection.sendMessage('a'), connection.sendMessage('b')];
    await expect(connection.sendMessage('c')).rejects.toBeInstanceOf(QueueFullError);
    connection.connect();
    await Promise.all(kept);
    expect((await storedMessages(alice, room)).map((message) => message.content)).toEqual(['a', 'b']);
  });
});

describe('drops and restarts', () => {
  it('a dropped connection with un-acked sends: every message is stored once and every send resolves', async () => {
    const room = await newRoom();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const connection = connect(alice, room, { server: proxy.url });
      const states = recordStates(connection);
      await untilState(connection, 'open');

      // Cut the link as soon as the first ack arrives: the rest are in flight, some stored, some not.
      let cut = false;
      const texts = Array.from({ length: 40 }, (_, i) => `burst ${i}`);
      const acks = texts.map((text) =>
        connection.sendMessage(text).then((ack) => {
          if (!cut) {
            cut = true;
            proxy.cut();
          }
          return ack;
        }),
      );
      const resolved = await Promise.all(acks);
      // The server had stored messages whose acks died with the link: their resends were absorbed.
      expect(resolved.filter((ack) => (ack as { duplicate?: boolean }).duplicate).length).toBeGreaterThan(0);

      expect(states.some((state) => state.status === 'reconnecting')).toBe(true);
      const stored = await storedMessages(alice, room);
      expect(stored.map((message) => message.content)).toEqual(texts);
      // Acks of resends carry the original id: one id per message, matching storage.
      expect(resolved.map((ack) => ack.message_id)).toEqual(stored.map((message) => message.id));
    } finally {
      await proxy.close();
    }
  });

  it('an ack that never comes: send rejects with AckTimeoutError, the socket is recycled, the message stored once', async () => {
    const room = await newRoom();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    try {
      const connection = connect(alice, room, { server: proxy.url, ackTimeoutMs: 300 });
      const states = recordStates(connection);
      await untilState(connection, 'open');
      proxy.stall();

      const send = connection.sendMessage('into the void');
      await expect(send).rejects.toBeInstanceOf(AckTimeoutError);
      // The message carries a client_id, so it stays queued and goes out on the next socket.
      await vi.waitFor(() => expect(connection.queued).toEqual([]), { timeout: 10_000 });
      expect(states.find((state) => state.status === 'reconnecting')).toMatchObject({
        reason: 'ack timeout',
      });
      expect((await storedMessages(alice, room)).map((message) => message.content)).toEqual([
        'into the void',
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('a server killed mid-stream and restarted: both sides reconnect, nothing lost or doubled, in order', async () => {
    const room = await newRoom();
    const sender = connect(alice, room);
    const reader = connect(bob, room);
    const received = collectMessages(reader);
    const readerStates = recordStates(reader);
    await Promise.all([untilState(sender, 'open'), untilState(reader, 'open')]);

    const texts = Array.from({ length: 30 }, (_, i) => `stream ${i}`);
    const acks: Promise<unknown>[] = [];
    for (const [i, text] of texts.entries()) {
      acks.push(sender.sendMessage(text));
      if (i === 10) {
        // Some of the first ten are stored and acked, others only written: then the process dies.
        await acks[5];
        await server.stop('SIGKILL');
        await server.start();
      }
    }
    await Promise.all(acks);
    await vi.waitFor(() => expect(received).toHaveLength(texts.length), { timeout: 15_000 });

    expect(received.map((message) => message.content)).toEqual(texts);
    expect(received.map((message) => message.seq)).toEqual(texts.map((_, i) => i + 1));
    expect(readerStates.filter((state) => state.status === 'open').length).toBeGreaterThanOrEqual(2);
    expect((await storedMessages(alice, room)).map((message) => message.content)).toEqual(texts);
  });

  it('resumes after a graceful restart (1001) with what was sent while it was down, once each', async () => {
    const room = await newRoom();
    const sender = connect(alice, room);
    const reader = connect(bob, room);
    const received = collectMessages(reader);
    const readerStates = recordStates(reader);
    await Promise.all([untilState(sender, 'open'), untilState(reader, 'open')]);
    await sender.sendMessage('before');

    await server.stop('SIGTERM');
    await untilState(reader, 'reconnecting');
    // The server said it was going away (1001), which the client retries.
    expect(readerStates.find((state) => state.status === 'reconnecting')).toMatchObject({ code: 1001 });
    const whileDown = [sender.sendMessage('during 1'), sender.sendMessage('during 2')];
    await server.start();
    await Promise.all(whileDown);
    await sender.sendMessage('after');

    await vi.waitFor(() => expect(received).toHaveLength(4), { timeout: 15_000 });
    expect(received.map((message) => message.content)).toEqual(['before', 'during 1', 'during 2', 'after']);
  });
});

describe('close codes', () => {
  it('4401 with an expired token: refreshToken is called once, then the connection opens', async () => {
    const room = await newRoom();
    const me = await alice.me();
    let token = expiredAccessToken(server.jwtSecret, me);
    let refreshes = 0;
    const connection = connect(alice, room, {
      token: () => token,
      refreshToken: async () => {
        refreshes += 1;
        token = (await alice.refreshAccessToken()) ?? '';
        return token;
      },
    });
    const states = recordStates(connection);
    const ack = connection.sendMessage('sent with an expired token');
    await untilState(connection, 'open');
    await expect(ack).resolves.toMatchObject({ seq: 1 });
    expect(refreshes).toBe(1);
    expect(states.find((state) => state.status === 'reconnecting')).toMatchObject({ code: 4401 });
  });

  it('4401 again after the refresh: fails instead of looping, and keeps the queued message', async () => {
    const room = await newRoom();
    const me = await alice.me();
    let refreshes = 0;
    const connection = connect(alice, room, {
      token: () => expiredAccessToken(server.jwtSecret, me),
      refreshToken: async () => {
        refreshes += 1;
        return 'still-not-valid';
      },
    });
    const rejected = expect(connection.sendMessage('waits for a valid token')).rejects.toBeInstanceOf(
      ConnectionClosedError,
    );
    await untilState(connection, 'failed');
    expect(connection.state).toMatchObject({ status: 'failed', code: 4401 });
    expect(refreshes).toBe(1);
    await rejected;
    expect(connection.queued).toHaveLength(1);
  });

  it.each([
    ['4403 for a room the user is not a member of', 4403, true],
    ['4404 for a room that does not exist', 4404, false],
  ])('%s: fails at once and never retries', async (_name, code, roomExists) => {
    const room = await newRoom();
    const connection = connect(eve, roomExists ? room : uniqueSlug('missing'));
    const states = recordStates(connection);
    const rejected = expect(connection.sendMessage('never delivered')).rejects.toBeInstanceOf(
      ConnectionClosedError,
    );
    await untilState(connection, 'failed');
    expect(connection.state).toMatchObject({ status: 'failed', code });
    await rejected;
    // A retry would show up as a second connecting state; give it more than the backoff's cap.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(states.filter((state) => state.status === 'connecting')).toHaveLength(1);
    expect(connection.queued).toEqual([]);
  });

  it('gives up after maxAttempts consecutive failures when the server stays away', async () => {
    const room = await newRoom();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 1 }); // nothing listens on port 1
    try {
      const connection = connect(alice, room, {
        server: proxy.url,
        backoff: { baseMs: 10, capMs: 20, maxAttempts: 3 },
        random: () => 1 - Number.EPSILON,
      });
      const states = recordStates(connection);
      await untilState(connection, 'failed');
      expect(states.filter((state) => state.status === 'connecting')).toHaveLength(3);
      const upcoming = states.flatMap((state) => (state.status === 'reconnecting' ? [state.attempt] : []));
      expect(upcoming).toEqual([2, 3]);
      expect(connection.state).toMatchObject({
        status: 'failed',
        reason: expect.stringContaining('3 attempts'),
      });
    } finally {
      await proxy.close();
    }
  });
});
