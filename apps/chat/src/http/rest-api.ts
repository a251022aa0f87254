/**
 * The chat server's REST API as one Fastify plugin, mounted under /api. This context owns what
 * every route shares (the error and not-found handlers, JSON only, the body limit, the bearer
 * check); the feature modules only add routes:
 *
 *   POST /api/register/  POST /api/token/  POST /api/token/refresh/      (no token needed)
 *   GET  /api/push/vapid-public-key  POST /api/notifications/          (no token / service token)
 *   GET  /api/me/
 *   GET  /api/rooms/  POST /api/rooms/  POST /api/rooms/:slug/join/
 *   POST /api/rooms/:slug/members/  DELETE /api/rooms/:slug/members/me/  POST /api/direct/
 *   GET  /api/rooms/:slug/messages/?before_seq=&limit=  GET /api/rooms/:slug/read-receipts/
 *   POST /api/rooms/:slug/files/  GET /api/files/:id/
 *   GET  /api/notifications/  POST /api/notifications/:id/read/  GET|POST|DELETE /api/push/subscriptions/
 *   POST /api/admin/users/:username/disable/  POST …/enable/  DELETE /api/admin/users/:username/
 *   /api/server/…  the server API for services (server-routes.ts)
 *
 * Every error is JSON `{error, code}`, with the status the protocol's table gives its code.
 */
import type { RateLimiter } from '@switchboard/server';
import type { FastifyPluginAsync } from 'fastify';
import type { Revocations } from '../auth/revocations.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { RoomDocuments } from '../docs/room-documents.ts';
import type { ChatRooms } from '../domain/chat-rooms.ts';
import type { ReadReceipts } from '../domain/read-receipts.ts';
import type { UserSignals } from '../domain/user-signals.ts';
import type { Attachments, Caption } from '../files/attachments.ts';
import type { ChunkedUploads } from '../files/chunked-uploads.ts';
import type { FileStore } from '../files/file-store.ts';
import type { UploadQuota } from '../files/upload-quota.ts';
import type { Notifications } from '../notifications/notifications.ts';
import type { RoomPresence } from '../presence/room-presence.ts';
import type { PushSender } from '../push/push-sender.ts';
import type { Storage } from '../storage/storage.ts';
import { accountRoutes } from './account-routes.ts';
import { adminRoutes } from './admin-routes.ts';
import { bearerAuthentication } from './authenticate.ts';
import { documentRoutes } from './document-routes.ts';
import { fileRoutes } from './file-routes.ts';
import { historyRoutes } from './history-routes.ts';
import { notFound, replyWithError } from './http-error.ts';
import { notificationRoutes, sendNotificationRoute } from './notification-routes.ts';
import { profileRoutes } from './profile-routes.ts';
import { pushRoutes, vapidKeyRoute } from './push-routes.ts';
import { receiptRoutes } from './receipt-routes.ts';
import { roomRoutes } from './room-routes.ts';
import { serverRoutes } from './server-routes.ts';

export interface RestDeps {
  storage: Storage;
  /** The chat domain, for changes that must reach live sockets (leaving a room, posting a file). */
  rooms: ChatRooms;
  receipts: ReadReceipts;
  notifications: Notifications;
  push: PushSender;
  files: FileStore;
  /** Limits and slots shared with the socket's chunked uploads. */
  uploads: ChunkedUploads<Caption>;
  attachments: Attachments;
  quota: UploadQuota;
  /** Lets a service send notifications (SERVICE_TOKEN); unset, only admins can. */
  serviceToken: string | undefined;
  tokens: TokenService;
  /** Refuses revoked tokens, and tells every node when an admin revokes a user. */
  revocations: Revocations;
  /** Lower-cased usernames of the admins (ADMIN_USERS), applied again at every sign-in. */
  adminUsers: readonly string[];
  /** The chat socket's message limit, published in GET /api/me/ for clients. */
  maxMessageLength: number;
  /** Bounds sign-in and sign-up attempts per client address; shared across nodes when it is Redis. */
  rateLimiter?: RateLimiter;
  /** Sign-in, sign-up and refresh attempts per client address per minute. */
  authAttemptsPerMinute?: number;
  /** Failed sign-ins per username per window, from any address (needs rateLimiter). */
  signInFailures?: { limit: number; windowSeconds: number };
  /** Rooms one user may create per rolling hour (needs rateLimiter). */
  roomsPerHour?: number;
  /** The rooms' collaborative documents (GET/POST/DELETE /api/rooms/{slug}/docs/…). */
  documents?: RoomDocuments;
  /** For the server API: events and disconnects to a user's sockets on every node. */
  userSignals: UserSignals;
  /** For the server API: who has a room open. */
  roomPresence: RoomPresence;
}

/** No REST body is more than a few short fields. */
const MAX_BODY_BYTES = 16 * 1024;

export const restApi: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  await app.register(
    async (api) => {
      api.setErrorHandler(replyWithError);
      api.setNotFoundHandler((request, reply) =>
        replyWithError(notFound(`No route ${request.method} ${request.url.split('?')[0]}.`), request, reply),
      );
      // JSON only: any other body type is a 415, not a string that fails validation later.
      api.removeContentTypeParser('text/plain');
      api.addHook('onRoute', (route) => {
        route.bodyLimit ??= MAX_BODY_BYTES;
      });

      await api.register(accountRoutes, deps);
      await api.register(vapidKeyRoute, deps);
      await api.register(sendNotificationRoute, deps);
      await api.register(serverRoutes, { ...deps, prefix: '/server' });
      await api.register(async (signedIn) => {
        signedIn.addHook('onRequest', bearerAuthentication(deps.tokens, deps.revocations));
        await signedIn.register(profileRoutes, deps);
        await signedIn.register(adminRoutes, { ...deps, prefix: '/admin' });
        await signedIn.register(roomRoutes, deps);
        await signedIn.register(historyRoutes, deps);
        await signedIn.register(notificationRoutes, deps);
        await signedIn.register(pushRoutes, deps);
        await signedIn.register(receiptRoutes, deps);
        await signedIn.register(fileRoutes, deps);
        const { documents } = deps;
        if (documents) await signedIn.register(documentRoutes, { documents });
      });
    },
    { prefix: '/api' },
  );
};
