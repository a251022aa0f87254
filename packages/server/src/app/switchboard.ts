/**
 * The Switchboard server: routes WebSocket upgrades of any node `http.Server` to consumers.
 *
 *   const app = new Switchboard({ authenticate: jwtAuthenticator({ key, principal }) });
 *   app.route('/ws/chat/:room/', chatConsumer);
 *   app.attach(httpServer);
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorMapping, FrameworkErrorCode } from '@switchboard/protocol/envelope';
import { type Logger, pino } from 'pino';
import type { Registry } from 'prom-client';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Authenticator, BEARER_SUBPROTOCOL, type Principal } from '../auth/authenticator.ts';
import { FRAMEWORK_FRAMES } from '../connection/frame-decoder.ts';
import { LiveConnection } from '../connection/live-connection.ts';
import type { AnyConsumer, ConsumerSpec, MessageSchemas, RateRule } from '../consumer/consumer.ts';
import { type ApplicationErrorCodes, FRAMEWORK_ERRORS, WsError } from '../errors.ts';
import type { ChannelLayer } from '../layer/channel-layer.ts';
import { MemoryChannelLayer } from '../layer/memory-layer.ts';
import { MemoryRateLimiter, type RateLimiter } from '../limits/rate-limiter.ts';
import { SwitchboardMetrics } from '../metrics.ts';
import { Router } from '../routing/router.ts';
import { upgradeTarget } from './upgrade-target.ts';

export interface Limits {
  /** Largest accepted frame; a bigger one closes the connection with 1009 (default 1 MiB). */
  maxPayloadBytes: number;
  /** Default bucket per user: frames per rolling window (default 60 per minute). */
  rate: RateRule;
  /** Ping interval; a peer that misses one ping is cut off at the next tick (so within two intervals). */
  heartbeatSeconds: number;
  /** Close connections that sent nothing for this long with 4408 (default one hour); 0 disables. */
  idleTimeoutSeconds: number;
  /** Unsent bytes one socket may hold before it is closed with 1013 (slow consumer). */
  maxBufferedBytes: number;
  /** Received frames waiting for their handler before the socket stops being read. */
  maxQueuedFrames: number;
  /** How long authentication plus connect may take before the connection is refused. */
  connectTimeoutSeconds: number;
  /** On close(), how long in-flight handlers get before sockets are closed with 1001. */
  shutdownGraceSeconds: number;
  /**
   * Open sockets one principal may hold on this node; the next is refused with 4429. Each costs a
   * file descriptor and some 20 KiB, and a process has a bounded number of descriptors.
   */
  maxConnectionsPerPrincipal: number;
  /**
   * Frames refused before their handler ran (unparsable, unknown type, failed validation) that a
   * connection may send per window; the next closes it with 4429. Counted apart from the rate
   * limiter (in memory, per connection) because each such frame may have cost a full parse.
   */
  invalidFrames: RateRule;
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
  maxConnectionsPerPrincipal: 50,
  invalidFrames: { limit: 20, windowSeconds: 10 },
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
  /** The HTTP status and close code of each code the application declared (ApplicationErrorCodes). */
  errors?: Readonly<Record<keyof ApplicationErrorCodes, ErrorMapping>>;
}

export class Switchboard {
  readonly layer: ChannelLayer;
  readonly metrics: SwitchboardMetrics;
  readonly logger: Logger;
  readonly limits: Limits;
  private readonly router = new Router<AnyConsumer>();
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<LiveConnection>();
  /** Open connections per principal id on this node, for `maxConnectionsPerPrincipal`. */
  private readonly perPrincipal = new Map<Principal['id'], number>();
  /** The connections counted in `perPrincipal` (their `principal` is set right after the claim). */
  private readonly slotHolders = new WeakSet<LiveConnection>();
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
      invalidFrames: this.limits.invalidFrames,
      fromToken: options.authenticate?.fromToken,
      errors: { ...FRAMEWORK_ERRORS, ...options.errors },
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
    for (const type of Object.keys(FRAMEWORK_FRAMES)) {
      if (Object.hasOwn(consumer.messages, type))
        throw new TypeError(`"${type}" is a framework frame on every endpoint; a consumer cannot declare it`);
    }
    this.router.add(pattern, consumer as unknown as AnyConsumer);
    return this;
  }

  /** Every error code this server may answer with: the framework's and the application's. */
  get errorCodes(): readonly string[] {
    return Object.keys(this.settings.errors);
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

  /**
   * Never throws: this runs inside the server's `upgrade` event, where an exception would end the
   * process. What cannot be a WebSocket request gets a plain HTTP 4xx; everything else is accepted.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = upgradeTarget(request.url);
    if (this.closing || !url) {
      refuseUpgrade(socket, this.closing ? 503 : 400);
      return;
    }
    try {
      // Every upgrade is accepted so that even a refusal can be read by a browser: error frame, then close code.
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, url));
    } catch (error) {
      this.logger.warn({ err: error }, 'upgrade failed');
      socket.destroy();
    }
  }

  private accept(ws: WebSocket, request: IncomingMessage, url: URL): void {
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
      this.releaseSlot(conn);
      void conn.onClosed(code);
    });
  }

  private async open(conn: LiveConnection, request: IncomingMessage, url: URL): Promise<void> {
    const timeout = setTimeout(
      () => conn.refuse(new WsError(FrameworkErrorCode.SERVICE_UNAVAILABLE, 'Connection set-up timed out.')),
      this.limits.connectTimeoutSeconds * 1000,
    );
    try {
      const route = this.router.match(url.pathname);
      const credential = this.options.authenticate
        ? await this.options.authenticate.fromUpgrade({ request, url })
        : null;
      if (!route)
        throw new WsError(
          FrameworkErrorCode.CHANNEL_NOT_FOUND,
          `No channel at ${url.pathname.slice(0, 100)}.`,
        );
      const who = credential?.principal ?? { id: conn.id };
      this.claimSlot(conn, who.id);
      await conn.start(route.target, credential, route.params);
    } catch (error) {
      conn.refuse(error);
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Counts the connection against its principal until its socket closes; refuses one too many. */
  private claimSlot(conn: LiveConnection, id: Principal['id']): void {
    const held = this.perPrincipal.get(id) ?? 0;
    if (held >= this.limits.maxConnectionsPerPrincipal) {
      throw new WsError(
        FrameworkErrorCode.RATE_LIMIT_EXCEEDED,
        `Too many open connections (at most ${this.limits.maxConnectionsPerPrincipal}).`,
      );
    }
    this.perPrincipal.set(id, held + 1);
    this.slotHolders.add(conn);
  }

  private releaseSlot(conn: LiveConnection): void {
    if (!this.slotHolders.delete(conn)) return;
    const id = conn.principal.id;
    const left = (this.perPrincipal.get(id) ?? 1) - 1;
    if (left > 0) this.perPrincipal.set(id, left);
    else this.perPrincipal.delete(id);
  }

  /**
   * Refuses every connection of one principal on this node (error frame, then its close code),
   * e.g. when the application revokes a user; returns how many were closed. To reach every node,
   * call it from a layer group that each node's server listens to.
   */
  closePrincipal(id: Principal['id'], refusal: WsError, reason?: string): number {
    let closed = 0;
    for (const conn of this.connections) {
      if (conn.principal.id !== id) continue;
      conn.refuse(refusal, reason);
      closed++;
    }
    return closed;
  }

  /**
   * Sends one JSON frame to every connection of one principal on this node that speaks JSON; a
   * connection of a binary protocol (a consumer with a binary handler) is skipped, as its client
   * could not parse the frame. Returns how many got it.
   */
  sendToPrincipal(id: Principal['id'], frame: object): number {
    let sent = 0;
    for (const conn of this.connections) {
      if (conn.principal.id !== id || !conn.speaksJson) continue;
      conn.send(frame);
      sent++;
    }
    return sent;
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

function refuseUpgrade(socket: Duplex, status: 400 | 503): void {
  const text = status === 400 ? 'Bad Request' : 'Service Unavailable';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  // A peer that does not read its answer must not keep the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
