/**
 * A TCP relay between a client and the server that the test can cut: every connection through it
 * dies at once, like a dropped Wi-Fi link, while the server keeps running.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:port` of the relay. */
  readonly url: string;
  /** Destroys every relayed connection (both sides) without a WebSocket close handshake. */
  cut(): void;
  /**
   * Stops relaying server → client on the current connections (a half-open link: the client's
   * frames still arrive, nothing comes back). Connections made later relay normally.
   */
  stall(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const downstreams = new Set<{ upstream: Socket; client: Socket }>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    const pair = { upstream, client };
    downstreams.add(pair);
    client.on('close', () => downstreams.delete(pair));
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const cut = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    stall() {
      for (const { upstream, client } of downstreams) {
        upstream.unpipe(client);
        upstream.resume(); // keep reading so the server is not blocked; the bytes go nowhere
      }
      downstreams.clear();
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
