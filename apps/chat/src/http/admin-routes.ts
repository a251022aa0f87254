/**
 * Account administration, for admins only (ADMIN_USERS):
 *
 *   POST   /api/admin/users/{username}/disable/   → 200 {username, status: "disabled"}
 *   POST   /api/admin/users/{username}/enable/    → 200 {username, status: "active"}
 *   DELETE /api/admin/users/{username}/           → 204
 *
 * Disabling or deleting revokes every token the user holds, on every node at once: their sockets
 * are closed with 4401 "token revoked" and their access and refresh tokens are refused. Enabling
 * lets them sign in again; tokens from before the revocation stay refused.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Storage, User } from '../storage/storage.ts';
import { currentUser } from './authenticate.ts';
import { forbidden, notFound } from './http-error.ts';
import type { RestDeps } from './rest-api.ts';

export const adminRoutes: FastifyPluginAsync<RestDeps> = async (api, { storage, revocations }) => {
  api.addHook('onRequest', async (request) => {
    const me = await storage.findUserById(currentUser(request).userId);
    if (!me?.isAdmin) throw forbidden('Only admins can manage users.');
  });

  api.post('/users/:username/disable/', async (request) => {
    const user = await targetOf(request, storage);
    await storage.setAccountStatus(user.id, 'disabled', new Date().toISOString());
    await revocations.announce(user.id, true);
    return { username: user.username, status: 'disabled' };
  });

  api.post('/users/:username/enable/', async (request) => {
    const user = await targetOf(request, storage);
    await storage.setAccountStatus(user.id, 'active');
    await revocations.announce(user.id, false);
    return { username: user.username, status: 'active' };
  });

  api.delete('/users/:username/', async (request, reply) => {
    const user = await targetOf(request, storage);
    await storage.setAccountStatus(user.id, 'deleted', new Date().toISOString());
    await revocations.announce(user.id, true);
    return reply.status(204).send();
  });
};

/** The user the path names; a deleted account is as unknown as one that never existed (storage). */
async function targetOf(request: FastifyRequest, storage: Storage): Promise<User> {
  const { username } = request.params as { username: string };
  const user = await storage.findUserByName(username);
  if (!user) throw notFound('User not found.');
  if (user.id === currentUser(request).userId) throw forbidden('Admins cannot revoke themselves.');
  return user;
}
