/** Sign-up and sign-in: the routes that work without a token. */
import type { RateDecision } from '@switchboard/server';
import type { FastifyPluginAsync } from 'fastify';
import { hashPassword, spendPasswordCheck, verifyPassword } from '../auth/passwords.ts';
import { afterRevocationSecond } from '../auth/revocations.ts';
import { InvalidTokenError } from '../auth/tokens.ts';
import { tooManyRequests, unauthenticated } from './http-error.ts';
import { credentials, newAccount, refreshRequest } from './input-schemas.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';

export const accountRoutes: FastifyPluginAsync<RestDeps> = async (api, deps) => {
  const { storage, tokens, revocations, adminUsers, rateLimiter, authAttemptsPerMinute, signInFailures } =
    deps;
  // Password guessing and sign-up floods: attempts per client address per minute. The address is
  // the socket's unless the request came through a proxy listed in TRUST_PROXY.
  if (rateLimiter && authAttemptsPerMinute) {
    api.addHook('onRequest', async (request) => {
      refuseIfLimited(await rateLimiter.hit(`http-auth:${request.ip}`, authAttemptsPerMinute, 60));
    });
  }
  // Guessing one account's password from many addresses: failures per username, checked before
  // the password is (so a locked account cannot be probed) and counted only when it is wrong.
  // Concurrent attempts that pass the check together may overshoot the limit by their number.
  const failures = rateLimiter && signInFailures && { limiter: rateLimiter, ...signInFailures };
  const failureKey = (username: string) => `signin-fail:${username.toLowerCase()}`;

  api.post('/register/', async (request, reply) => {
    const { username, password } = parseInput(newAccount, request.body);
    const user = await storage.createUser(username, await hashPassword(password));
    return reply.status(201).send({ id: user.id, username: user.username });
  });

  api.post('/token/', async (request) => {
    const { username, password } = parseInput(credentials, request.body);
    if (failures)
      refuseIfLimited(
        await failures.limiter.peek(failureKey(username), failures.limit, failures.windowSeconds),
      );
    const user = await storage.findUserByName(username);
    const valid = user
      ? await verifyPassword(password, user.passwordHash)
      : await spendPasswordCheck(password).then(() => false);
    if (!user || !valid) {
      if (failures) await failures.limiter.hit(failureKey(username), failures.limit, failures.windowSeconds);
      throw unauthenticated('Invalid username or password.');
    }
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

/** 429 with the wait in the body's text and in Retry-After. */
function refuseIfLimited(decision: RateDecision): void {
  if (!decision.allowed) throw tooManyRequests(decision.retryAfterSeconds);
}
