/**
 * A TCP relay in front of a server (a database, a chat node) that a test can cut, stall and
 * restore, to play network failures without touching a server other tests share.
 *
 * - Cut means what a stopped server means to its clients: open connections drop, new ones are
 *   refused.
 * - Stall means a link that silently stops carrying anything (a half-open connection): every
 *   connection stays open and no byte moves in either direction until `unstall`, which lets
 *   whatever waited flow on, as TCP would after the network heals.
 * - Cut after a marker passes the request through and then cuts, before the answer can come
 *   back: a database that committed a transaction whose client never learns it did.
 * - Retarget points new connections at another address (a server restarted on a new port).
 */
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Target {
  host: string;
  port: number;
}

/** One relayed connection: the two sockets and whether bytes currently flow between them. */
interface Link {
  client: Socket;
  upstream: Socket;
  flowing: boolean;
}

export class TcpProxy {
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private stalled = false;
  /** Set by `cutAfter`: the marker to watch for and what to do once it passed. */
  private tripwire: { marker: string; trip: () => void } | undefined;

  private constructor(
    private port: number,
    private target: Target,
  ) {}

  /** Listens on an ephemeral loopback port and relays every connection to `target`. */
  static async start(target: Target): Promise<TcpProxy> {
    const proxy = new TcpProxy(0, target);
    await proxy.restore();
    return proxy;
  }

  /** `host:port` to connect to instead of the target. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Relayed connections open right now. */
  get connections(): number {
    return this.links.size;
  }

  /** Drops every open connection and refuses new ones until `restore`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const link of this.links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    this.links.clear();
    await closed;
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => this.relay(client)).listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Freezes every connection, current and new, until `unstall`: nothing is sent, nothing is closed. */
  stall(): void {
    this.stalled = true;
    for (const link of this.links) this.stop(link);
  }

  unstall(): void {
    this.stalled = false;
    for (const link of this.links) this.flow(link);
  }

  /**
   * Cuts (as `cut`) right after the first chunk from a client that contains `marker` (e.g. a
   * PostgreSQL `commit`) was passed on to the target, so the request arrives and its answer is
   * lost. Resolves once cut; if no such chunk comes within `timeoutMs`, cuts anyway.
   */
  async cutAfter(marker: string, timeoutMs: number): Promise<'tripped' | 'timed out'> {
    const outcome = await new Promise<'tripped' | 'timed out'>((resolve) => {
      const timer = setTimeout(() => resolve('timed out'), timeoutMs);
      this.tripwire = {
        marker,
        trip: () => {
          clearTimeout(timer);
          resolve('tripped');
        },
      };
    });
    this.tripwire = undefined;
    await this.cut();
    return outcome;
  }

  /** New connections go to `target` from now on; open ones stay where they are. */
  retarget(target: Target): void {
    this.target = target;
  }

  async close(): Promise<void> {
    await this.cut();
  }

  private relay(client: Socket): void {
    const upstream = createConnection(this.target);
    const link: Link = { client, upstream, flowing: false };
    this.links.add(link);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.links.delete(link);
        to.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      const tripwire = this.tripwire;
      if (!tripwire || !chunk.toString('latin1').toLowerCase().includes(tripwire.marker)) return;
      this.tripwire = undefined;
      // Once every listener of this chunk ran, the pipe's included: the chunk is on its way to
      // the target. `end` still delivers it; destroying the client side loses the answer.
      queueMicrotask(() => {
        upstream.end();
        client.destroy();
        tripwire.trip();
      });
    });
    if (this.stalled) this.stop(link);
    else this.flow(link);
  }

  private flow(link: Link): void {
    if (link.flowing) return;
    link.flowing = true;
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
  }

  /** Unpiped and paused, a socket reads nothing: bytes wait in the kernel, as on a dead link. */
  private stop(link: Link): void {
    if (!link.flowing) {
      link.client.pause();
      link.upstream.pause();
      return;
    }
    link.flowing = false;
    link.client.unpipe(link.upstream);
    link.upstream.unpipe(link.client);
    link.client.pause();
    link.upstream.pause();
  }
}
