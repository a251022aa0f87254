/**
 * The Switchboard server: routes WebSocket upgrades of any node `http.Server` to consumers.
 *
 *   const app = new Switchboard({ authenticate: jwtAuthenticator({ key, principal }) });
 *   app.route('/ws/chat/:room/', chatConsumer);
 *   app.attach(httpServer);
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@switchboard/protocol/envelope';
import { type Logger, pino } from 'pino';
import type { Registry } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Authenticator, BEARER_SUBPROTOCOL } from '../auth/authenticator.ts';
import { LiveConnection } from '../connection/live-connection.ts';
import type { AnyConsumer, ConsumerSpec, MessageSchemas, RateRule } from '../consumer/consumer.ts';
import { WsError } from '../errors.ts';
import type { ChannelLayer } from '../layer/channel-layer.ts';
import { MemoryChannelLayer } from '../layer/memory-layer.ts';
import { MemoryRateLimiter, type RateLimiter } from '../limits/rate-limiter.ts';
import { SwitchboardMetrics } from '../metrics.ts';
import { Router } from '../routing/router.ts';

export interface Limits {
  /** Largest accepted frame; a bigger one closes the connection with 1009 (seed 002: 1 MiB). */
  maxPayloadBytes: number;
  /** Default bucket per user: frames per rolling window (seed 002: 60 per minute). */
  rate: RateRule;
  /** Ping interval; a peer that misses one ping is cut off at the next tick (so within two intervals). */
  heartbeatSeconds: number;
  /** Close connections that sent nothing for this long with 4408 (seed 002: 3600); 0 disables. */
  idleTimeoutSeconds: number;
  /** Unsent bytes one socket may hold before it is closed with 1013 (slow consumer). */
  maxBufferedBytes: number;
  /** Received frames waiting for their handler before the socket stops being read. */
  maxQueuedFrames: number;
  /** How long authentication plus connect may take before the connection is refused. */
  connectTimeoutSeconds: number;
  /** On close(), how long in-flight handlers get before sockets are closed with 1001. */
  shutdownGraceSeconds: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxPayloadBytes: 1024 * 1024,
  rate: { limit: 60, windowSeconds: 60 },
  heartbeatSeconds: 30,
  idleTimeoutSeconds: 3600,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxQueuedFrames: 64,
  connectTimeoutSeconds: 10,
  shutdownGraceSeconds: 5,
};

export interface SwitchboardOptions {
  layer?: ChannelLayer;
  /** Without one, every connection is anonymous (its principal id is its connection id). */
  authenticate?: Authenticator;
  rateLimiter?: RateLimiter;
  limits?: Partial<Limits>;
  /** permessage-deflate: off by default (see the bench); `threshold` is the smallest frame compressed. */
  compression?: false | { threshold: number };
  logger?: Logger;
  metricsRegistry?: Registry;
}

export class Switchboard {
  readonly layer: ChannelLayer;
  readonly metrics: SwitchboardMetrics;
  readonly logger: Logger;
  readonly limits: Limits;
  private readonly router = new Router<AnyConsumer>();
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<LiveConnection>();
  private readonly settings: ConstructorParameters<typeof LiveConnection>[2];
  private readonly heartbeat: NodeJS.Timeout;
  private readonly ownsLayer: boolean;
  private closing = false;

  constructor(private readonly options: SwitchboardOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.logger = options.logger ?? pino({ level: 'info' });
    this.ownsLayer = !options.layer;
    this.layer =
      options.layer ??
      new MemoryChannelLayer({}, (error) => this.logger.error({ err: error }, 'layer receiver failed'));
    const counters = { framesSent: 0 };
    this.metrics = new SwitchboardMetrics(
      this.layer,
      { openConnections: () => this.connections.size, framesSent: () => counters.framesSent },
      options.metricsRegistry,
    );
    this.settings = {
      layer: this.layer,
      rateLimiter: options.rateLimiter ?? new MemoryRateLimiter(),
      metrics: this.metrics,
      logger: this.logger,
      defaultRate: this.limits.rate,
      maxBufferedBytes: this.limits.maxBufferedBytes,
      maxQueuedFrames: this.limits.maxQueuedFrames,
      counters,
    };
    const compression = options.compression ?? false;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.limits.maxPayloadBytes,
      perMessageDeflate: compression ? { threshold: compression.threshold } : false,
      // Only the marker of the `bearer, <token>` pair is ever selected: the token itself is never echoed.
      handleProtocols: (protocols) => (protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false),
    });
    this.heartbeat = setInterval(() => this.tick(), this.limits.heartbeatSeconds * 1000);
    this.heartbeat.unref();
  }

  /** Routes a path pattern such as `/ws/chat/:room/` to a consumer. */
  route<M extends MessageSchemas, S>(pattern: string, consumer: ConsumerSpec<M, S>): this {
    this.router.add(pattern, consumer as unknown as AnyConsumer);
    return this;
  }

  /** The routes, in matching order (for documentation such as the AsyncAPI document). */
  routes(): { pattern: string; consumer: AnyConsumer }[] {
    return this.router.entries().map(({ pattern, target }) => ({ pattern, consumer: target }));
  }

  /** Takes over the `upgrade` event of an HTTP server. */
  attach(server: Server): this {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(request, socket, head),
    );
    return this;
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Every upgrade is accepted so that even a refusal can be read by a browser: error frame, then close code.
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    // Consumers see the query without the credential in it.
    const query = new URLSearchParams(url.search);
    query.delete('token');
    const conn = new LiveConnection(ws, query, this.settings);
    this.track(conn, ws);
    void this.open(conn, request, url);
  }

  /**
   * Kept apart from `accept` on purpose: this listener lives as long as the socket, and a closure
   * created there would keep the upgrade request, its headers and the token alive with it.
   */
  private track(conn: LiveConnection, ws: WebSocket): void {
    this.connections.add(conn);
    ws.once('close', (code) => {
      this.connections.delete(conn);
      void conn.onClosed(code);
    });
  }

  private async open(conn: LiveConnection, request: IncomingMessage, url: URL): Promise<void> {
    const timeout = setTimeout(
      () =>
        conn.refuse(
          new WsError(ErrorCode.SERVICE_UNAVAILABLE, 'Connection set-up timed out.', { closeCode: 1013 }),
        ),
      this.limits.connectTimeoutSeconds * 1000,
    );
    try {
      const route = this.router.match(url.pathname);
      const principal = this.options.authenticate ? await this.options.authenticate({ request, url }) : null;
      if (!route)
        throw new WsError(ErrorCode.CHANNEL_NOT_FOUND, `No channel at ${url.pathname.slice(0, 100)}.`);
      await conn.start(route.target, principal ?? { id: conn.id }, route.params);
    } catch (error) {
      conn.refuse(error);
    } finally {
      clearTimeout(timeout);
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private tick(): void {
    const now = Date.now();
    const idleMs = this.limits.idleTimeoutSeconds * 1000;
    for (const conn of this.connections) conn.heartbeat(now, idleMs);
  }

  /** Graceful shutdown: refuse new upgrades, let handlers finish, close every socket with 1001. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.heartbeat);
    const open = [...this.connections];
    await Promise.all(open.map((conn) => conn.shutdown(this.limits.shutdownGraceSeconds * 1000)));
    await waitUntil(() => this.connections.size === 0, this.limits.shutdownGraceSeconds * 1000);
    this.wss.close();
    // What the caller passed in (layer, limiter) is the caller's to close; what was made here is closed here.
    if (!this.options.rateLimiter) await this.settings.rateLimiter.close?.();
    if (this.ownsLayer) await this.layer.close();
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
