/**
 * The baseline: the smallest `ws` server that does the fan-out job. Every connection (except
 * publishers, `?listen=0`) is in the one room; a chat frame is parsed, turned into the chat-shaped
 * broadcast, serialised once and sent with `ws.send` to every member. No auth, no validation.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { chatBroadcast } from '../chat-frame.ts';
import { benchOptions, runBenchServer } from '../server-child.ts';

export interface BareWsOptions {
  /** permessage-deflate threshold in bytes; absent = compression off. */
  compressionThreshold?: number;
}

runBenchServer(async () => {
  const options = benchOptions<BareWsOptions>();
  const http = createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({
    server: http,
    clientTracking: false,
    perMessageDeflate:
      options.compressionThreshold === undefined ? false : { threshold: options.compressionThreshold },
  });
  const room = new Set<import('ws').WebSocket>();
  let seq = 0;
  let users = 0;

  wss.on('connection', (ws, request) => {
    const author = { id: ++users, username: `user${users}` };
    const listens = !request.url?.includes('listen=0');
    if (listens) room.add(ws);
    // The connection-setup case counts a setup as done when this first frame arrives.
    if (request.url?.includes('welcome=1')) ws.send('{"type":"welcome"}');
    ws.on('close', () => room.delete(ws));
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: unknown; message?: unknown; client_id?: unknown };
      if (frame.type !== 'chat_message' || typeof frame.message !== 'string') return;
      const clientId = typeof frame.client_id === 'string' ? frame.client_id : null;
      const payload = Buffer.from(JSON.stringify(chatBroadcast(++seq, author, frame.message, clientId)));
      for (const member of room) member.send(payload, { binary: false });
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    info: {},
    close: async () => {
      for (const ws of room) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
});
