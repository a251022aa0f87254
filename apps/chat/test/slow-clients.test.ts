/**
 * Slow-header (slowloris) limits: headers that drip are cut off by the headers timeout, and one
 * address cannot hold more than its share of connections that have not sent a request yet.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { guardSlowClients } from '../src/http/slow-client-guard.ts';

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

async function guardedServer(trusted = false): Promise<number> {
  server = createServer({ connectionsCheckingInterval: 100 }, (_request, response) => response.end('ok'));
  guardSlowClients(server, {
    headersTimeoutMs: 600,
    requestTimeoutMs: 5_000,
    maxPendingPerAddress: 3,
    isTrustedProxy: () => trusted,
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A client that sends the start of a request and then nothing; resolves once connected. */
async function dripping(port: number): Promise<{ socket: Socket; ended: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let answer = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    answer += chunk;
  });
  const ended = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: 1');
  return { socket, ended };
}

describe('slow clients', () => {
  it('cuts off a connection whose headers do not arrive within the headers timeout', async () => {
    const port = await guardedServer();
    const started = Date.now();
    const { ended } = await dripping(port);
    const answer = await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses one address more pending connections than its cap, and serves it again afterwards', async () => {
    const port = await guardedServer();
    const held = await Promise.all([dripping(port), dripping(port), dripping(port)]);
    const refused = await dripping(port);
    expect(await refused.ended).toBe('');
    // A complete request is not pending: once the drippers are gone, the address is served.
    for (const { socket } of held) socket.destroy();
    await Promise.all(held.map((h) => h.ended));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  });

  it('does not count connections from a trusted proxy', async () => {
    const port = await guardedServer(true);
    await Promise.all([dripping(port), dripping(port), dripping(port), dripping(port)]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  });
});
