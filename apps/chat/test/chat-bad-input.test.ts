/**
 * Every class of bad input over the chat socket gets its own clear answer (an error frame naming
 * the problem, or the close code the protocol gives it), and the room keeps working for everyone
 * else with nothing stored lost.
 */
import type { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture } from './support/chat-fixture.ts';

let chat: ChatFixture;
let mallory: ChatUser;
let bob: ChatUser;
let carol: ChatUser;
let slug: string;
/** Long-lived sockets of two well-behaved members: they must outlive every bad frame. */
let bobSocket: TestClient;
let carolSocket: TestClient;

beforeAll(async () => {
  chat = await ChatFixture.start({ WS_RATE_LIMIT: '10000' });
  [mallory, bob, carol] = [
    await chat.signUp('mallory'),
    await chat.signUp('bob'),
    await chat.signUp('carol'),
  ];
  slug = await chat.room(bob, [carol, mallory]);
  [bobSocket, carolSocket] = await Promise.all([chat.enter(bob, slug), chat.enter(carol, slug)]);
  for (const text of ['first', 'second', 'third'])
    await bobSocket.request({ type: 'chat_message', message: text });
});

afterAll(async () => {
  await chat?.close();
});

async function storedIds(): Promise<number[]> {
  return (await chat.api.history(bob, slug)).messages.map((m) => m.id);
}

/** Another client still chats normally, and history holds everything it held before plus the new message. */
async function expectRoomStillServes(): Promise<void> {
  const before = await storedIds();
  const ack = await bobSocket.request({ type: 'chat_message', message: 'still chatting' });
  expect(ack).toMatchObject({ type: 'ack', duplicate: false });
  await carolSocket.next(
    (f) => f.type === 'chat_message' && (f.message as { id: number }).id === ack.message_id,
  );
  expect(await storedIds()).toEqual([ack.message_id, ...before]);
  expect(before.length).toBeGreaterThanOrEqual(3);
}

const nested = (depth: number) =>
  `{"type":"chat_message","message":"x","n":${'['.repeat(depth)}${']'.repeat(depth)}}`;

type Send = (client: TestClient) => void;
const text =
  (frame: string): Send =>
  (client) =>
    client.socket.send(frame);

/** Bad frames that get an error frame; the sender's connection stays open. */
const answered: [name: string, send: Send, answer: Record<string, unknown>][] = [
  [
    'invalid JSON',
    text('{"type":"chat_message","message":'),
    { code: 'INVALID_MESSAGE', error: 'Invalid JSON.' },
  ],
  ['a JSON array', text('[1,2,3]'), { code: 'INVALID_MESSAGE', error: 'A frame must be a JSON object.' }],
  ['a JSON number', text('42'), { code: 'INVALID_MESSAGE', error: 'A frame must be a JSON object.' }],
  ['a JSON string', text('"hello"'), { code: 'INVALID_MESSAGE', error: 'A frame must be a JSON object.' }],
  ['JSON null', text('null'), { code: 'INVALID_MESSAGE', error: 'A frame must be a JSON object.' }],
  [
    'an unknown type',
    text('{"type":"make_admin"}'),
    { code: 'INVALID_MESSAGE', field: 'type', error: 'Unknown message type "make_admin".' },
  ],
  ['a missing type', text('{"message":"hi"}'), { code: 'INVALID_MESSAGE', field: 'type' }],
  ['a missing field', text('{"type":"chat_message"}'), { code: 'INVALID_MESSAGE', field: 'message' }],
  [
    'a missing field of an edit',
    text('{"type":"edit_message","message_id":1}'),
    { code: 'INVALID_MESSAGE', field: 'new_content' },
  ],
  [
    'an extra field',
    text('{"type":"chat_message","message":"hi","colour":"red"}'),
    { code: 'INVALID_MESSAGE', field: 'colour', error: 'Unexpected field "colour".' },
  ],
  [
    'a wrong-typed message',
    text('{"type":"chat_message","message":42}'),
    { code: 'INVALID_MESSAGE', field: 'message' },
  ],
  [
    'a wrong-typed message_id',
    text('{"type":"delete_message","message_id":"1"}'),
    { code: 'INVALID_MESSAGE', field: 'message_id' },
  ],
  [
    'a negative reply_to',
    text('{"type":"chat_message","message":"hi","reply_to":-1}'),
    { code: 'INVALID_MESSAGE', field: 'reply_to' },
  ],
  [
    'an over-long client_id',
    text(JSON.stringify({ type: 'chat_message', message: 'hi', client_id: 'k'.repeat(65) })),
    { code: 'INVALID_MESSAGE', field: 'client_id' },
  ],
  [
    'a too-long body',
    text(JSON.stringify({ type: 'chat_message', message: 'x'.repeat(501) })),
    { code: 'MESSAGE_TOO_LARGE', field: 'message', error: 'Message exceeds 500 characters.' },
  ],
  [
    'a body just under the frame limit',
    text(JSON.stringify({ type: 'chat_message', message: 'x'.repeat(1024 * 1024 - 100) })),
    { code: 'MESSAGE_TOO_LARGE', field: 'message', error: 'Message exceeds 500 characters.' },
  ],
  [
    'a binary frame',
    (client) => client.socket.send(Buffer.from('{"type":"chat_message","message":"hi"}'), { binary: true }),
    { code: 'INVALID_MESSAGE', error: 'Binary frames are not supported; send JSON text.' },
  ],
  [
    'deeply nested JSON',
    text(nested(100_000)),
    { code: 'INVALID_MESSAGE', error: 'JSON nested deeper than 32 levels.' },
  ],
  [
    'a lone surrogate',
    text('{"type":"chat_message","message":"hi \\ud800"}'),
    { code: 'INVALID_MESSAGE', field: 'message', error: expect.stringContaining('well-formed') },
  ],
  // Characters that show nothing make a blank message, as spaces do.
  ...['\u200b', '\u2060', '\u00ad', '\u3164', '\u2800', '\u0085', ' \u200b\u2060 '].map(
    (blank): [string, Send, Record<string, unknown>] => [
      `a message of only ${JSON.stringify(blank)}`,
      text(JSON.stringify({ type: 'chat_message', message: blank })),
      { code: 'INVALID_MESSAGE', field: 'message', error: 'Message cannot be empty.' },
    ],
  ),
];

describe('bad frames answered with an error frame', () => {
  it.each(answered)(
    'answers %s, keeps the sender connected and the room serving',
    async (_name, send, answer) => {
      const client = await chat.enter(mallory, slug);
      send(client);
      expect(await client.next('error')).toEqual({ type: 'error', error: expect.any(String), ...answer });

      // The sender itself is still connected and may go on chatting.
      const ack = await client.request({ type: 'chat_message', message: 'sorry' });
      expect(ack).toMatchObject({ type: 'ack' });
      await expectRoomStillServes();
      await client.close();
    },
  );

  it('carries the frame’s ref on the error, so a client can tell which request failed', async () => {
    const client = await chat.enter(mallory, slug);
    client.send({ type: 'chat_message', message: 'hi', colour: 'red', ref: 'mine-1' });
    expect(await client.next('error')).toMatchObject({
      ref: 'mine-1',
      code: 'INVALID_MESSAGE',
      field: 'colour',
    });
    client.send({ type: 'chat_message', message: '   ', ref: 'mine-2' });
    expect(await client.next('error')).toMatchObject({
      ref: 'mine-2',
      code: 'INVALID_MESSAGE',
      field: 'message',
    });
    await client.close();
  });

  it('strips C1 controls as it strips C0 ones, and keeps emoji joiners', async () => {
    const client = await chat.enter(mallory, slug);
    const ack = await client.request({
      type: 'chat_message',
      message: 'a\u0085b\u009bc \u{1F468}\u200d\u{1F469}',
    });
    expect(ack).toMatchObject({ type: 'ack' });
    const stored = (await chat.api.history(bob, slug)).messages.find((m) => m.id === ack.message_id);
    expect(stored?.content).toBe('abc \u{1F468}\u200d\u{1F469}');
    await client.close();
  });

  it('stores nothing for a refused frame', async () => {
    const before = await storedIds();
    const client = await chat.enter(mallory, slug);
    for (const [, send] of answered) {
      send(client);
      await client.next('error');
    }
    expect(await storedIds()).toEqual(before);
    await client.close();
  });
});

describe('bad frames that end the connection', () => {
  it('closes a frame over 1 MiB with 1009', async () => {
    const client = await chat.enter(mallory, slug);
    client.send({ type: 'chat_message', message: 'x'.repeat(1024 * 1024 + 1) });
    expect((await client.closed()).code).toBe(1009);
    await expectRoomStillServes();
  });

  it('closes invalid UTF-8 with 1007', async () => {
    const client = await chat.enter(mallory, slug);
    const frame = Buffer.concat([
      Buffer.from('{"type":"chat_message","message":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    client.socket.send(frame, { binary: false });
    expect((await client.closed()).code).toBe(1007);
    await expectRoomStillServes();
  });

  it('lets the same user come back after being cut off', async () => {
    const client = await chat.enter(mallory, slug);
    client.socket.send(Buffer.from([0xc3, 0x28]), { binary: false });
    expect((await client.closed()).code).toBe(1007);
    const again = await chat.enter(mallory, slug);
    expect(await again.request({ type: 'chat_message', message: 'back' })).toMatchObject({ type: 'ack' });
    await again.close();
  });
});
