/**
 * Bearer-token authentication for the REST routes that need a signed-in user. The hook verifies
 * the access token and that it is not revoked; handlers then read the user with `currentUser(request)`.
 */
import type { FastifyRequest } from 'fastify';
import type { Revocations } from '../auth/revocations.ts';
import { InvalidTokenError, type TokenService, type TokenUser } from '../auth/tokens.ts';
import { unauthenticated } from './http-error.ts';

const signedIn = new WeakMap<FastifyRequest, TokenUser>();

export function bearerAuthentication(tokens: TokenService, revocations: Revocations) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer +([^ ]+) *$/i.exec(header) : null;
    if (!match)
      throw unauthenticated('Authentication required: send "Authorization: Bearer <access token>".');
    let user: TokenUser;
    try {
      user = await tokens.verifyAccess(match[1]!);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw unauthenticated(error.message);
      throw error;
    }
    if (!(await revocations.allows(user))) throw unauthenticated('Token revoked.');
    signedIn.set(request, user);
  };
}

/** The user the request's access token names; only valid behind `bearerAuthentication`. */
export function currentUser(request: FastifyRequest): TokenUser {
  const user = signedIn.get(request);
  if (!user) throw new Error('currentUser() called on a route without bearerAuthentication.');
  return user;
}
