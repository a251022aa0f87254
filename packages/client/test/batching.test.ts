/**
 * Send batching against the real chat server (a child process): messages sent in one tick leave
 * as one `batch` frame on the socket, and each is stored, acked and broadcast on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatRoomConnection, type SwitchboardApi } from '../src/index.ts';
import { signUp, uniqueSlug } from './helpers/accounts.ts';
import { type ChatProcess, startChatProcess } from './helpers/chat-process.ts';

let server: ChatProcess;
let alice: SwitchboardApi;

beforeAll(async () => {
  server = await startChatProcess();
  alice = await signUp(server.url, 'alice');
});

afterAll(async () => {
  await server?.dispose();
});

/** The `ws` WebSocket, noting every text frame the SDK writes (the socket itself is real). */
function countingWebSocket(written: string[]) {
  return class extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') written.push(data);
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  };
}

describe('batching', () => {
  it('sends the messages of one tick as one batch frame, each acked with its own seq', async () => {
    const slug = uniqueSlug();
    await alice.createRoom({ slug, name: slug });
    const written: string[] = [];
    const connection = new ChatRoomConnection({
      server: server.url,
      room: slug,
      afterSeq: 0,
      WebSocket: countingWebSocket(written) as unknown as typeof WebSocket,
      token: () => alice.accessToken(),
      batch: true,
    });
    connection.connect();
    await new Promise<void>((resolve) => {
      const off = connection.onStateChange((state) => {
        if (state.status !== 'open') return;
        off();
        resolve();
      });
    });
    const before = written.length;
    const acks = await Promise.all(
      ['one', 'two', 'three', 'four', 'five'].map((text) => connection.sendMessage(text)),
    );
    expect(acks.map((ack) => ack.seq)).toEqual([1, 2, 3, 4, 5]);
    const sent = written.slice(before);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!)).toMatchObject({ type: 'batch', frames: expect.any(Array) });
    expect(JSON.parse(sent[0]!).frames).toHaveLength(5);
    const history = await alice.history(slug);
    expect(history.messages.map((m: { content: string }) => m.content).reverse()).toEqual([
      'one',
      'two',
      'three',
      'four',
      'five',
    ]);
    connection.close();
  });
});
