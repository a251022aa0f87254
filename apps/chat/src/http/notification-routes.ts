/**
 * Notifications over REST: the signed-in user's list (paged, newest first) and marking one read;
 * and sending one, for an admin or a service holding the SERVICE_TOKEN. Sending stores the
 * notification and pushes it through the channel layer to the user's sockets on every node
 * (or by Web Push when they have none): any backend service can notify a user, not only the
 * chat server's own code.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { currentUser } from './authenticate.ts';
import { notFound } from './http-error.ts';
import { cursor } from './input-schemas.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';
import { authorizeService } from './service-auth.ts';

const MAX_PAGE = 100;

const listQuery = z.object({
  before_id: cursor.positive().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(20),
});

const idParams = z.object({ id: cursor.positive() });

/**
 * A link the web app may follow: only a path on this site, so a notification can never send
 * anyone elsewhere. It must not start with `//` or `/\`, which browsers resolve to another host,
 * and may hold no control characters or spaces, which URL parsers drop or rewrite
 * (`/\t/evil.example` is `//evil.example` to a browser).
 */
const SAME_ORIGIN_PATH = /^\/(?![/\\])[^\s\p{Cc}]*$/u;
const link = z
  .string()
  .max(500)
  .refine((url) => SAME_ORIGIN_PATH.test(url), {
    message: 'must be a path on this site ("/" not followed by "/" or "\\")',
  });

const newNotification = z
  .object({
    user_id: z.number().int().positive().optional(),
    username: z.string().min(1).max(64).optional(),
    title: z.string().trim().min(1).max(200),
    message: z.string().max(2000).default(''),
    category: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, "_" and "-", at most 32')
      .default('system'),
    url: link.nullable().default(null),
  })
  .refine((body) => (body.user_id === undefined) !== (body.username === undefined), {
    message: 'give exactly one of user_id and username',
    path: ['user_id'],
  });

export const notificationRoutes: FastifyPluginAsync<RestDeps> = async (api, { notifications }) => {
  api.get('/notifications/', async (request) => {
    const { before_id, limit } = parseInput(listQuery, request.query);
    const me = currentUser(request).userId;
    // One extra row says whether an older page exists.
    const rows = await notifications.list(me, before_id ?? null, limit + 1);
    const page = rows.slice(0, limit);
    return {
      notifications: page,
      next_before_id: rows.length > limit ? page[page.length - 1]!.id : null,
      unread_count: await notifications.unreadCount(me),
    };
  });

  api.post('/notifications/:id/read/', async (request) => {
    const parsed = idParams.safeParse(request.params);
    if (!parsed.success) throw notFound('Notification not found.');
    const count = await notifications.markRead(currentUser(request).userId, parsed.data.id);
    return { notification_id: parsed.data.id, unread_count: count };
  });
};

/** POST /api/notifications/: its own authentication, as a service has no user account. */
export const sendNotificationRoute: FastifyPluginAsync<RestDeps> = async (api, deps) => {
  const { storage, notifications } = deps;

  api.post('/notifications/', async (request, reply) => {
    await authorizeService(request, deps);
    const input = parseInput(newNotification, request.body);
    const user =
      input.user_id !== undefined
        ? await storage.findUserById(input.user_id)
        : await storage.findUserByName(input.username!);
    if (!user) throw notFound('User not found.');
    const notification = await notifications.send({
      userId: user.id,
      title: input.title,
      message: input.message,
      category: input.category,
      url: input.url,
    });
    return reply.status(201).send({ user_id: user.id, notification });
  });
};
