/**
 * Binary frames: a consumer with a binary handler gets the bytes, rate limits apply, refusals go
 * through its `refusal` encoder, and binary group broadcasts arrive as binary frames (framed once).
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Switchboard } from '../src/app/switchboard.ts';
import { jwtAuthenticator } from '../src/auth/jwt-authenticator.ts';
import { defineConsumer } from '../src/consumer/consumer.ts';
import { WsError } from '../src/errors.ts';
import { binaryLayerMessage } from '../src/layer/channel-layer.ts';
import { type ServedApp, serve } from '../src/testing/serve.ts';
import { SECRET, token } from './helpers.ts';

/** Echoes bytes reversed; `0xff` first broadcasts the rest to the room; `0x00` is refused. */
const bytesConsumer = defineConsumer({
  messages: {},
  async connect(conn) {
    if (conn.query.get('deny') === '1') throw new WsError('PERMISSION_DENIED', 'Not for you.');
    await conn.groupAdd('room');
    return { from: conn.channelName };
  },
  handlers: {},
  binary: {
    rate: { limit: 5, windowSeconds: 60 },
    async handle(conn, data) {
      if (data[0] === 0x00) throw new WsError('INVALID_MESSAGE', 'zero');
      if (data[0] === 0xff) {
        await conn.layer.groupSend(
          'room',
          binaryLayerMessage('bytes', data.subarray(1), { from: conn.state.from }),
        );
        return;
      }
      conn.sendBinary(Uint8Array.from(data).reverse());
    },
    refusal: (error) => new TextEncoder().encode(`refused:${error.code}`),
  },
  forwardBinary: { bytes: (conn, event) => event.from !== conn.state.from },
});

const plainConsumer = defineConsumer({ messages: {}, connect: () => ({}), handlers: {} });

let served: ServedApp | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

async function start() {
  const app = new Switchboard({
    logger: pino({ level: 'silent' }),
    authenticate: jwtAuthenticator({ key: SECRET, principal: (claims) => ({ id: String(claims.sub) }) }),
  });
  app.route('/ws/bytes/', bytesConsumer);
  app.route('/ws/plain/', plainConsumer);
  served = await serve(app);
  return served;
}

interface Peer {
  ws: WebSocket;
  next(): Promise<{ data: Buffer; binary: boolean }>;
  closed: Promise<number>;
}

async function open(server: ServedApp, path: string, sub = 'alice'): Promise<Peer> {
  const ws = new WebSocket(server.wsUrl(`${path}?token=${await token({ sub })}`));
  const queue: { data: Buffer; binary: boolean }[] = [];
  const waiting: ((frame: { data: Buffer; binary: boolean }) => void)[] = [];
  ws.on('message', (data: Buffer, binary: boolean) => {
    const frame = { data, binary };
    const wake = waiting.shift();
    if (wake) wake(frame);
    else queue.push(frame);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    next: () => {
      const frame = queue.shift();
      return frame ? Promise.resolve(frame) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

describe('binary frames', () => {
  it('hands the bytes to the binary handler, which answers in binary', async () => {
    const server = await start();
    const peer = await open(server, '/ws/bytes/');
    peer.ws.send(Buffer.from([1, 2, 3]));
    const frame = await peer.next();
    expect(frame.binary).toBe(true);
    expect([...frame.data]).toEqual([3, 2, 1]);
    peer.ws.close();
  });

  it('answers refusals through the consumer refusal encoder, and on connect closes with the code', async () => {
    const server = await start();
    const peer = await open(server, '/ws/bytes/');
    peer.ws.send(Buffer.from([0]));
    const refused = await peer.next();
    expect(refused.binary).toBe(true);
    expect(refused.data.toString()).toBe('refused:INVALID_MESSAGE');
    peer.ws.close();

    const denied = new WebSocket(server.wsUrl(`/ws/bytes/?deny=1&token=${await token()}`));
    const first = new Promise<Buffer>((resolve) => denied.once('message', resolve));
    const code = new Promise<number>((resolve) => denied.on('close', resolve));
    expect((await first).toString()).toBe('refused:PERMISSION_DENIED');
    expect(await code).toBe(4403);
  });

  it('rate-limits binary frames in their own bucket', async () => {
    const server = await start();
    const peer = await open(server, '/ws/bytes/');
    for (let i = 0; i < 6; i++) peer.ws.send(Buffer.from([1]));
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await peer.next()).data.toString());
    expect(answers.at(-1)).toBe('refused:RATE_LIMIT_EXCEEDED');
    peer.ws.close();
  });

  it('broadcasts binary layer messages as binary frames, filtered per connection', async () => {
    const server = await start();
    const alice = await open(server, '/ws/bytes/', 'alice');
    const bob = await open(server, '/ws/bytes/', 'bob');
    alice.ws.send(Buffer.from([0xff, 7, 8, 9]));
    const frame = await bob.next();
    expect(frame.binary).toBe(true);
    expect([...frame.data]).toEqual([7, 8, 9]);
    // Alice sent it and is filtered out: her next frame is the answer to this one.
    alice.ws.send(Buffer.from([4, 5]));
    expect([...(await alice.next()).data]).toEqual([5, 4]);
    alice.ws.close();
    bob.ws.close();
  });

  it('keeps answering INVALID_MESSAGE to binary frames for consumers without a binary handler', async () => {
    const server = await start();
    const peer = await open(server, '/ws/plain/');
    peer.ws.send(Buffer.from([1, 2, 3]));
    const frame = await peer.next();
    expect(frame.binary).toBe(false);
    expect(JSON.parse(frame.data.toString())).toMatchObject({
      type: 'error',
      code: 'INVALID_MESSAGE',
      error: 'Binary frames are not supported; send JSON text.',
    });
    peer.ws.close();
  });
});

describe('JSON frames sent to a principal', () => {
  it('reach the principal’s JSON connections and skip its binary-protocol ones', async () => {
    const app = new Switchboard({
      logger: pino({ level: 'silent' }),
      authenticate: jwtAuthenticator({ key: SECRET, principal: (claims) => ({ id: String(claims.sub) }) }),
    });
    app.route('/ws/bytes/', bytesConsumer);
    app.route('/ws/plain/', plainConsumer);
    served = await serve(app);
    const open = async (path: string) => {
      const ws = new WebSocket(served!.wsUrl(`${path}?token=${await token()}`));
      const received: { data: string; isBinary: boolean }[] = [];
      ws.on('message', (data, isBinary) => received.push({ data: data.toString(), isBinary }));
      await new Promise((resolve) => ws.once('open', resolve));
      return { ws, received };
    };
    const binary = await open('/ws/bytes/');
    const plain = await open('/ws/plain/');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.sendToPrincipal('alice', { type: 'server_event', event: { n: 1 } })).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(plain.received).toEqual([{ data: '{"type":"server_event","event":{"n":1}}', isBinary: false }]);
    expect(binary.received).toEqual([]);
    binary.ws.close();
    plain.ws.close();
  });
});
