/**
 * A chat client that stops reading is closed as a slow consumer instead of growing the server's
 * memory, and loses nothing: it comes back with `after_seq` and gets every stored change, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatFixture } from './support/chat-fixture.ts';

let chat: ChatFixture;

beforeAll(async () => {
  // A small bound and long messages, so a few hundred messages fill the kernel's buffers and the
  // bound (with 500-character messages it took thousands, over 30 s on a loaded machine).
  chat = await ChatFixture.start({
    WS_MAX_BUFFERED_BYTES: String(64 * 1024),
    WS_RATE_LIMIT: '1000000',
    MAX_MESSAGE_LENGTH: '16000',
  });
});

afterAll(async () => {
  await chat?.close();
});

describe('slow consumer', () => {
  it('is closed with 1013 once its backlog passes the bound, then resumes with after_seq and has everything', async () => {
    const [writer, reader] = [await chat.signUp('writer'), await chat.signUp('reader')];
    const slug = await chat.room(writer, [reader]);
    const sender = await chat.enter(writer, slug);
    const stalled = await chat.enter(reader, slug);
    stalled.socket.pause();

    // Long messages fill the kernel's socket buffers and then the bound; bounded in count.
    const text = 'x'.repeat(16_000);
    let sent = 0;
    while (sent < 5_000) {
      const window = Array.from({ length: 100 }, () =>
        sender.request({ type: 'chat_message', message: text }),
      );
      for (const reply of await Promise.all(window)) expect(reply.type).toBe('ack');
      sent += 100;
      const closes = await chat.server.switchboard.metrics.slowConsumerCloses.get();
      if ((closes.values[0]?.value ?? 0) > 0) break;
    }
    stalled.socket.resume();
    const closed = await stalled.closed(10_000);
    expect([1013, 1006]).toContain(closed.code);

    // What it had read before the cut, then a resume from there.
    const seen = stalled.frames
      .filter((f) => f.type === 'chat_message')
      .map((f) => (f.message as { seq: number }).seq);
    const lastSeen = seen.length > 0 ? Math.max(...seen) : 0;
    const resumed = await chat.enter(reader, slug, { afterSeq: lastSeen });
    const synced = resumed.frames.find((f) => f.type === 'synced')!;
    expect(synced.last_seq).toBe(sent);
    const replayed = resumed.frames
      .filter((f) => f.type === 'chat_message')
      .map((f) => (f.message as { seq: number }).seq);
    expect([...seen, ...replayed]).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
  });
});
