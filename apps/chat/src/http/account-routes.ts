/** Sign-up and sign-in: the routes that work without a token. */
import type { FastifyPluginAsync } from 'fastify';
import { hashPassword, spendPasswordCheck, verifyPassword } from '../auth/passwords.ts';
import { afterRevocationSecond } from '../auth/revocations.ts';
import { InvalidTokenError } from '../auth/tokens.ts';
import { tooManyRequests, unauthenticated } from './http-error.ts';
import { credentials, newAccount, refreshRequest } from './input-schemas.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';

export const accountRoutes: FastifyPluginAsync<RestDeps> = async (api, deps) => {
  const { storage, tokens, revocations, adminUsers, rateLimiter, authAttemptsPerMinute } = deps;
  // Password guessing and sign-up floods: attempts per client address per minute.
  if (rateLimiter && authAttemptsPerMinute) {
    api.addHook('onRequest', async (request, reply) => {
      const decision = await rateLimiter.hit(`http-auth:${request.ip}`, authAttemptsPerMinute, 60);
      if (!decision.allowed) {
        reply.header('retry-after', String(decision.retryAfterSeconds));
        throw tooManyRequests(decision.retryAfterSeconds);
      }
    });
  }

  api.post('/register/', async (request, reply) => {
    const { username, password } = parseInput(newAccount, request.body);
    const user = await storage.createUser(username, await hashPassword(password));
    return reply.status(201).send({ id: user.id, username: user.username });
  });

  api.post('/token/', async (request) => {
    const { username, password } = parseInput(credentials, request.body);
    const user = await storage.findUserByName(username);
    if (!user) {
      await spendPasswordCheck(password);
      throw unauthenticated('Invalid username or password.');
    }
    if (!(await verifyPassword(password, user.passwordHash)))
      throw unauthenticated('Invalid username or password.');
    if (user.status === 'disabled') throw unauthenticated('This account is disabled.');
    // A name added to ADMIN_USERS since start-up (or registered since) takes effect now.
    if (adminUsers.includes(user.username.toLowerCase()) !== user.isAdmin)
      await storage.syncAdmins(adminUsers);
    await afterRevocationSecond(user);
    return tokens.issue(user);
  });

  api.post('/token/refresh/', async (request) => {
    const { refresh } = parseInput(refreshRequest, request.body);
    try {
      const who = await tokens.verifyRefresh(refresh);
      if (!(await revocations.allows(who))) throw unauthenticated('Token revoked.');
      return { access: await tokens.refresh(refresh) };
    } catch (error) {
      if (error instanceof InvalidTokenError) throw unauthenticated(error.message);
      throw error;
    }
  });
};
