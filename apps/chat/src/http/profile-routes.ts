/** The signed-in user's own profile. */
import type { FastifyPluginAsync } from 'fastify';
import { currentUser } from './authenticate.ts';
import { unauthenticated } from './http-error.ts';
import type { RestDeps } from './rest-api.ts';

export const profileRoutes: FastifyPluginAsync<RestDeps> = async (api, { storage, maxMessageLength }) => {
  api.get('/me/', async (request) => {
    const user = await storage.findUserById(currentUser(request).userId);
    if (!user) throw unauthenticated('This account no longer exists.');
    return {
      id: user.id,
      username: user.username,
      avatar: user.avatar,
      is_admin: user.isAdmin,
      created_at: user.createdAt,
      // The limits the chat socket enforces, so a client can show them before sending.
      limits: { max_message_length: maxMessageLength },
    };
  });
};
