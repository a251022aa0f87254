/**
 * Web Push subscriptions. The browser subscribes with the server's VAPID public key and posts the
 * resulting PushSubscription here; notifications then reach it while the user has no socket open.
 * Only HTTPS endpoints of the configured push services are accepted (PUSH_ALLOWED_HOSTS).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { currentUser } from './authenticate.ts';
import { invalidInput, notFound } from './http-error.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';

/** P-256 public key (65 bytes) and auth secret (16 bytes), base64url as PushSubscription.toJSON() gives them. */
const subscription = z.object({
  endpoint: z.string().url().max(1000),
  keys: z.object({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{86,88}=*$/, 'must be a base64url P-256 public key'),
    auth: z.string().regex(/^[A-Za-z0-9_-]{21,24}=*$/, 'must be a base64url 16-byte secret'),
  }),
  expirationTime: z.number().nullable().optional(),
});
const endpointOnly = z.object({ endpoint: z.string().min(1).max(1000) });
/**
 * Subscriptions kept per user: one per browser is what a person has. Beyond it the oldest goes
 * (browsers renew subscriptions and leave the old ones dead), so the list, and the pushes sent
 * per notification, stay bounded whatever a client posts.
 */
export const MAX_PUSH_SUBSCRIPTIONS = 10;

export const vapidKeyRoute: FastifyPluginAsync<RestDeps> = async (api, { push }) => {
  api.get('/push/vapid-public-key', async () => ({ public_key: push.publicKey }));
};

export const pushRoutes: FastifyPluginAsync<RestDeps> = async (api, { storage, push }) => {
  api.get('/push/subscriptions/', async (request) => {
    const mine = await storage.pushSubscriptionsOf(currentUser(request).userId);
    return { subscriptions: mine.map((s) => ({ endpoint: s.endpoint })) };
  });

  api.post('/push/subscriptions/', async (request, reply) => {
    const input = parseInput(subscription, request.body);
    if (!push.isAllowedEndpoint(input.endpoint)) {
      throw invalidInput('endpoint: not an HTTPS URL of an allowed push service', 'endpoint');
    }
    const me = currentUser(request).userId;
    await storage.savePushSubscription(me, {
      endpoint: input.endpoint,
      p256dh: input.keys.p256dh,
      auth: input.keys.auth,
    });
    const mine = await storage.pushSubscriptionsOf(me);
    for (const old of mine.slice(0, Math.max(0, mine.length - MAX_PUSH_SUBSCRIPTIONS))) {
      await storage.deletePushSubscription(old.endpoint);
    }
    return reply.status(201).send({ endpoint: input.endpoint });
  });

  api.delete('/push/subscriptions/', async (request, reply) => {
    const { endpoint } = parseInput(endpointOnly, request.body);
    const mine = await storage.pushSubscriptionsOf(currentUser(request).userId);
    if (!mine.some((s) => s.endpoint === endpoint)) throw notFound('Subscription not found.');
    await storage.deletePushSubscription(endpoint);
    return reply.status(204).send();
  });
};
