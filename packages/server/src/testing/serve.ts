import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Switchboard } from '../app/switchboard.ts';

export interface ServedApp {
  server: Server;
  port: number;
  /** `ws://127.0.0.1:<port><path>` */
  wsUrl(path: string): string;
  close(): Promise<void>;
}

/** Serves a Switchboard app on an ephemeral loopback port, as a test or benchmark needs it. */
export async function serve(app: Switchboard, server: Server = createServer()): Promise<ServedApp> {
  app.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    wsUrl: (path) => `ws://127.0.0.1:${port}${path}`,
    async close() {
      await app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
