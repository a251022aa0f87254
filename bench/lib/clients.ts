/**
 * Opening and closing many `ws` clients from the load generator. Every client has
 * permessage-deflate off unless asked (so the server never compresses for it) and skips UTF-8
 * validation: the generator's CPU is shared with the server on this machine, so it must stay light.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';

export interface ClientOptions {
  compression?: boolean;
}

const CONNECT_TIMEOUT_MS = 15_000;
const sockets = new WeakMap<WebSocket, Socket>();

/** Bytes this client has read from the wire, compressed or not. */
export function wireBytesRead(ws: WebSocket): number {
  return sockets.get(ws)?.bytesRead ?? 0;
}

export function openClient(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: options.compression ?? false,
      skipUTF8Validation: true,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
    });
    const fail = (error: Error) => {
      ws.terminate();
      reject(error);
    };
    ws.once('open', () => {
      ws.off('error', fail);
      ws.on('error', () => {});
      resolve(ws);
    });
    ws.once('error', fail);
    ws.once('upgrade', (response) => sockets.set(ws, response.socket));
    ws.once('unexpected-response', (_request, response) =>
      fail(new Error(`upgrade refused with HTTP ${response.statusCode}`)),
    );
  });
}

/**
 * Opens `count` clients, at most `concurrency` handshakes at a time; `urlOf(i)` gives each its URL.
 * Resolves once all are open, or rejects (closing the ones already open) at the first failure.
 */
export async function openClients(
  count: number,
  urlOf: (index: number) => string,
  options: ClientOptions & { concurrency?: number } = {},
): Promise<WebSocket[]> {
  const clients: WebSocket[] = new Array(count);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        clients[index] = await openClient(urlOf(index), options);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  // 50 by default: the chat server lets one address hold at most 64 connections that have not
  // finished their handshake (slow-client guard), and the generator is one address.
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 50, count) }, worker));
  if (failure !== undefined) {
    closeClients(clients.filter(Boolean));
    throw failure;
  }
  return clients;
}

/** Drops clients at once (no closing handshake): the bench tears down thousands at a time. */
export function closeClients(clients: WebSocket[]): void {
  for (const ws of clients) ws?.terminate();
}
