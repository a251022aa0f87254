/**
 * The REST side of the live features, one Fastify plugin under /api beside the main REST API:
 *
 *   GET  /api/notifications/?before_id=&limit=      POST /api/notifications/{id}/read/
 *   POST /api/notifications/                        (an admin's token or the SERVICE_TOKEN)
 *   GET  /api/push/vapid-public-key                 (no token needed)
 *   GET|POST|DELETE /api/push/subscriptions/
 *   GET  /api/rooms/{slug}/read-receipts/
 *   POST /api/rooms/{slug}/files/                   (multipart upload)
 *   GET  /api/files/{id}/                           (download; ?inline=1 previews safe images)
 *
 * Errors are `{error, code}` like the rest of the API; a refusal from a live-feature service
 * (a WsError) keeps its code and gets the matching HTTP status.
 */
import { WsError } from '@switchboard/server';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Revocations } from '../auth/revocations.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { LiveFeatures } from '../live-features.ts';
import type { Storage } from '../storage/storage.ts';
import { bearerAuthentication } from './authenticate.ts';
import { fileRoutes } from './file-routes.ts';
import { HTTP_STATUS, HttpError, replyWithError } from './http-error.ts';
import { notificationRoutes, sendNotificationRoute } from './notification-routes.ts';
import { pushRoutes, vapidKeyRoute } from './push-routes.ts';
import { receiptRoutes } from './receipt-routes.ts';

export interface LiveApiDeps {
  storage: Storage;
  tokens: TokenService;
  revocations: Revocations;
  live: LiveFeatures;
}

/** JSON bodies here are a few short fields. */
const MAX_JSON_BODY_BYTES = 16 * 1024;

export const liveApi: FastifyPluginAsync<LiveApiDeps> = async (app, deps) => {
  await app.register(
    async (api) => {
      api.setErrorHandler(replyWithLiveError);
      api.addHook('onRoute', (route) => {
        route.bodyLimit ??= MAX_JSON_BODY_BYTES;
      });
      await api.register(vapidKeyRoute, deps);
      await api.register(sendNotificationRoute, deps);
      await api.register(async (signedIn) => {
        signedIn.addHook('onRequest', bearerAuthentication(deps.tokens, deps.revocations));
        await signedIn.register(notificationRoutes, deps);
        await signedIn.register(pushRoutes, deps);
        await signedIn.register(receiptRoutes, deps);
        await signedIn.register(fileRoutes, deps);
      });
    },
    { prefix: '/api' },
  );
};

function replyWithLiveError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof WsError) {
    return replyWithError(
      new HttpError(
        HTTP_STATUS[error.code],
        error.code,
        error.message,
        error.details.field,
        error.details.retryAfter,
      ),
      request,
      reply,
    );
  }
  return replyWithError(error, request, reply);
}
