/**
 * The chat server: Fastify for REST, metrics and the web app; Switchboard on the same HTTP server
 * for the WebSocket endpoints. Embedded defaults (SQLite, in-memory layer) unless DATABASE_URL /
 * REDIS_URL say otherwise.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import {
  MemoryPresenceStore,
  type PresenceStore,
  RedisChannelLayer,
  RedisPresenceStore,
  RedisRateLimiter,
} from '@switchboard/redis';
import {
  type ChannelLayer,
  jwtAuthenticator,
  MemoryChannelLayer,
  MemoryRateLimiter,
  type RateLimiter,
  Switchboard,
  WsError,
} from '@switchboard/server';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { collectDefaultMetrics } from 'prom-client';
import { chatAsyncApi } from './asyncapi.ts';
import { Revocations } from './auth/revocations.ts';
import { TokenService, tokenClaims } from './auth/tokens.ts';
import type { Config } from './config.ts';
import { chatConsumer } from './consumers/chat-consumer.ts';
import { docsConsumer } from './consumers/docs-consumer.ts';
import { notificationsConsumer } from './consumers/notifications-consumer.ts';
import { statusConsumer } from './consumers/status-consumer.ts';
import { AwarenessRegistry } from './docs/awareness-registry.ts';
import { RoomDocuments } from './docs/room-documents.ts';
import type { ChatRooms } from './domain/chat-rooms.ts';
import { CHAT_ERRORS } from './domain/error-codes.ts';
import { orUnavailable } from './domain/storage-unavailable.ts';
import { UserSignals } from './domain/user-signals.ts';
import { replyWithError } from './http/http-error.ts';
import { metricsRoute } from './http/metrics-route.ts';
import { restApi } from './http/rest-api.ts';
import {
  CONNECTIONS_CHECKING_INTERVAL_MS,
  guardSlowClients,
  SLOW_CLIENT_LIMITS,
} from './http/slow-client-guard.ts';
import { trustedProxies } from './http/trusted-proxies.ts';
import { registerRedisMetrics } from './redis-metrics.ts';
import { type ChatServices, startServices } from './services.ts';
import { openStorage } from './storage/open-storage.ts';
import type { Storage } from './storage/storage.ts';

export interface ChatServer {
  /** `http://host:port` */
  url: string;
  port: number;
  http: FastifyInstance;
  /** `http://host:port/metrics` when METRICS_PORT serves it apart from the app port. */
  metricsUrl: string | undefined;
  switchboard: Switchboard;
  storage: Storage;
  layer: ChannelLayer;
  /** The chat domain (also in `services`). */
  rooms: ChatRooms;
  /** Presence, receipts, notifications and room activity, uploads, Web Push. */
  services: ChatServices;
  /** Collaborative documents of the rooms. */
  documents: RoomDocuments;
  tokens: TokenService;
  logger: Logger;
  /** Graceful: sockets closed with 1001 after in-flight handlers, then HTTP, layer and storage. */
  close(): Promise<void>;
}

const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export async function startChatServer(config: Config): Promise<ChatServer> {
  const logger = pino(
    { level: config.logLevel, base: { pid: process.pid } },
    // A person at a terminal reads lines; everything else (a log shipper, the tests) gets JSON.
    process.stdout.isTTY ? pretty({ ignore: 'pid,hostname', translateTime: 'HH:MM:ss' }) : undefined,
  );
  if (config.jwtSecretGenerated) {
    logger.warn(
      { file: `${config.dataDir}/jwt-secret` },
      'JWT_SECRET is not set: using a generated DEVELOPMENT secret. Set JWT_SECRET in production (and the same on every node).',
    );
  }

  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await storage.migrate();
  await storage.syncAdmins(config.adminUsers);
  let onLayerRestored = () => {};
  const { layer, rateLimiter, presenceStore, roomPresenceStore } = await connectScaleOut(config, logger, () =>
    onLayerRestored(),
  );
  const tokens = new TokenService(config.jwtSecret);
  const revocations = new Revocations(storage, layer);
  const services = await startServices({
    config,
    storage,
    layer,
    presenceStore,
    roomPresenceStore,
    rateLimiter,
    logger,
  });

  const switchboard = new Switchboard({
    errors: CHAT_ERRORS,
    layer,
    rateLimiter,
    logger,
    compression: config.compressionThreshold ? { threshold: config.compressionThreshold } : false,
    limits: {
      maxPayloadBytes: config.maxPayloadBytes,
      rate: config.rate,
      heartbeatSeconds: config.heartbeatSeconds,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      maxBufferedBytes: config.maxBufferedBytes,
      maxConnectionsPerPrincipal: config.maxConnectionsPerUser,
    },
    authenticate: jwtAuthenticator({
      key: config.jwtSecret,
      algorithms: ['HS256'],
      allowedOrigins: config.allowedOrigins,
      // At connect and at every in-band renewal: a revoked user's token opens and renews nothing.
      principal: async (claims) => {
        const user = tokenClaims(claims, 'access');
        if (!user) return null;
        if (!(await orUnavailable(revocations.allows(user))))
          throw new WsError(ErrorCode.AUTHENTICATION_FAILED, 'Token revoked.');
        return { id: user.userId, username: user.username };
      },
    }),
  });
  const { rooms, presence, roomPresence, receipts, notifications, uploads, attachments, quota } = services;
  const chat = chatConsumer({
    rooms,
    presence,
    roomPresence,
    receipts,
    uploads,
    attachments,
    quota,
    typing: {
      throttleMs: config.live.typing.throttleSeconds * 1000,
      timeoutMs: config.live.typing.timeoutSeconds * 1000,
    },
  });
  switchboard.route('/ws/chat/:room/', chat);
  const documents = new RoomDocuments(storage.documents, rooms, layer, logger);
  const awareness = new AwarenessRegistry(layer);
  const docs = docsConsumer(documents, awareness);
  switchboard.route('/ws/docs/:room/:doc/', docs);
  // Changes published while the layer was down never arrived: have every chat socket re-read its
  // room, and every document socket get its document again from storage.
  onLayerRestored = () => {
    chat.catchUpAll();
    docs.resyncAll();
  };
  switchboard.route('/ws/notifications/', notificationsConsumer({ notifications, presence }));
  await revocations.listen((userId) =>
    switchboard.closePrincipal(
      userId,
      new WsError(ErrorCode.AUTHENTICATION_FAILED, 'Token revoked.'),
      'token revoked',
    ),
  );
  // The server API's signals to a user's sockets, wherever they are.
  const userSignals = new UserSignals(layer);
  await userSignals.listen({
    event: (userId, event) => switchboard.sendToPrincipal(userId, { type: 'server_event', event }),
    disconnect: (userId, reason) =>
      switchboard.closePrincipal(
        userId,
        new WsError(ErrorCode.PERMISSION_DENIED, 'Disconnected by the server.', {
          closeCode: CloseCode.DISCONNECTED,
        }),
        reason,
      ),
  });
  switchboard.route('/ws/status/', statusConsumer({ presence }));
  collectDefaultMetrics({ register: switchboard.metrics.registry });
  if (layer instanceof RedisChannelLayer) registerRedisMetrics(switchboard.metrics.registry, layer);

  // Request lines are noise at this volume; HTTP warnings and errors still reach the log.
  const httpLogger = logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger;
  // X-Forwarded-For is believed only from the configured proxies: from anyone else it would let
  // a client pick the address its sign-in attempts are counted against.
  const trustProxy = config.trustProxy.length > 0 ? config.trustProxy : false;
  const http = Fastify({
    loggerInstance: httpLogger,
    trustProxy,
    http: { connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS },
    // Refusals before routing (bad %-encoding, a parameter over 100 characters) answer like every
    // other error, `{error, code}`, not with Fastify's own body.
    frameworkErrors: (error, request, reply) => replyWithError(error, request, reply),
  });
  guardSlowClients(http.server, { ...SLOW_CLIENT_LIMITS, isTrustedProxy: trustedProxies(config.trustProxy) });
  switchboard.attach(http.server);
  await http.register(restApi, {
    storage,
    rooms,
    receipts,
    notifications,
    push: services.push,
    files: services.files,
    uploads,
    attachments,
    quota,
    serviceToken: config.live.serviceToken,
    tokens,
    revocations,
    adminUsers: config.adminUsers,
    rateLimiter,
    authAttemptsPerMinute: config.authAttemptsPerMinute,
    signInFailures: config.signInFailures,
    roomsPerHour: config.roomsPerHour,
    maxMessageLength: config.maxMessageLength,
    documents,
    userSignals,
    roomPresence,
  });
  const metricsHttp = config.metrics.port === undefined ? http : Fastify({ loggerInstance: httpLogger });
  metricsRoute(metricsHttp, switchboard.metrics.registry, config.metrics.token);
  http.get('/asyncapi.json', async () => chatAsyncApi(switchboard));
  http.get('/healthz', async () => ({ status: 'ok' }));
  http.get('/readyz', async (_request, reply) => {
    const checks = { storage: await probe(() => storage.ping()), layer: layerReady(layer) };
    const ready = checks.storage && checks.layer;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
  await serveWebApp(http, config.webDist ?? DEFAULT_WEB_DIST);

  await http.listen({ port: config.port, host: config.host });
  const port = listeningPort(http);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  let metricsUrl: string | undefined;
  if (metricsHttp !== http) {
    await metricsHttp.listen({ port: config.metrics.port, host: config.host });
    metricsUrl = `http://${host}:${listeningPort(metricsHttp)}/metrics`;
  }
  logger.info(
    { url, storage: storage.dialect, layer: config.redisUrl ? 'redis' : 'memory' },
    `switchboard chat server listening at ${url}`,
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    http,
    metricsUrl,
    switchboard,
    storage,
    layer,
    rooms,
    services,
    documents,
    tokens,
    logger,
    close() {
      closing ??= (async () => {
        await switchboard.close();
        revocations.close();
        userSignals.close();
        awareness.close();
        await http.close();
        if (metricsHttp !== http) await metricsHttp.close();
        await services.close();
        await layer.close();
        await presenceStore.close();
        await roomPresenceStore.close();
        await rateLimiter.close?.();
        await storage.close();
      })();
      return closing;
    },
  };
}

async function connectScaleOut(config: Config, logger: Logger, onRestored: () => void) {
  if (!config.redisUrl) {
    const layer = new MemoryChannelLayer({}, (error) =>
      logger.error({ err: error }, 'layer receiver failed'),
    );
    return {
      layer,
      rateLimiter: new MemoryRateLimiter() as RateLimiter,
      presenceStore: new MemoryPresenceStore(),
      roomPresenceStore: new MemoryPresenceStore(),
    };
  }
  let wasDown = false;
  const layer = new RedisChannelLayer({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    logger,
    onStateChange: (state) => {
      if (state === 'disconnected') wasDown = true;
      else if (wasDown) onRestored();
    },
    onError: (error) => logger.error({ err: error }, 'layer receiver failed'),
  });
  const shared = { url: config.redisUrl, prefix: config.redisPrefix, logger };
  const rateLimiter = new RedisRateLimiter(shared);
  const presenceStore = new RedisPresenceStore(shared);
  // Chat sockets per (room, user), for message notifications: its own key namespace.
  const roomPresenceStore = new RedisPresenceStore({ ...shared, prefix: `${config.redisPrefix}room-` });
  await Promise.all([layer.ready(), rateLimiter.ready(), presenceStore.ready(), roomPresenceStore.ready()]);
  return {
    layer: layer as ChannelLayer,
    rateLimiter: rateLimiter as RateLimiter,
    presenceStore: presenceStore as PresenceStore,
    roomPresenceStore: roomPresenceStore as PresenceStore,
  };
}

function listeningPort(server: FastifyInstance): number {
  const address = server.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function layerReady(layer: ChannelLayer): boolean {
  return layer instanceof RedisChannelLayer ? layer.connected : true;
}

async function probe(check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

/** The built web app at `/`, with client-side routes falling back to index.html. */
async function serveWebApp(http: FastifyInstance, dist: string): Promise<void> {
  if (!existsSync(`${dist}/index.html`)) {
    http.get('/', async (_request, reply) =>
      reply.type('text/plain').send('The web app is not built: run `npm run build:web` (npm start does it).'),
    );
    return;
  }
  await http.register(fastifyStatic, { root: dist, wildcard: false });
  http.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (request.method !== 'GET' || /^\/(api|ws|metrics)(\/|$)/.test(path) || /\.[a-z0-9]+$/i.test(path)) {
      return reply.code(404).send({ error: 'Not found.', code: 'NOT_FOUND' });
    }
    return reply.sendFile('index.html');
  });
}
