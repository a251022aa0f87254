/**
 * Authentication of a caller that is a service rather than a person: the SERVICE_TOKEN, or an
 * admin's access token. For the routes any program may call (notifications, the server API).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Revocations } from '../auth/revocations.ts';
import { InvalidTokenError, type TokenService, type TokenUser } from '../auth/tokens.ts';
import type { Storage } from '../storage/storage.ts';
import { forbidden, unauthenticated } from './http-error.ts';

export interface ServiceAuthDeps {
  tokens: TokenService;
  revocations: Revocations;
  storage: Storage;
  /** Unset: only admins may call. */
  serviceToken: string | undefined;
}

/** Returns when the caller is the service or an admin; throws 401 / 403 otherwise. */
export async function authorizeService(request: FastifyRequest, deps: ServiceAuthDeps): Promise<void> {
  const match = /^Bearer +([^ ]+) *$/i.exec(request.headers.authorization ?? '');
  if (!match) {
    throw unauthenticated('Send "Authorization: Bearer <admin access token or SERVICE_TOKEN>".');
  }
  const presented = match[1]!;
  if (deps.serviceToken && sameSecret(presented, deps.serviceToken)) return;
  let who: TokenUser;
  try {
    who = await deps.tokens.verifyAccess(presented);
  } catch (error) {
    if (error instanceof InvalidTokenError) throw unauthenticated(error.message);
    throw error;
  }
  if (!(await deps.revocations.allows(who))) throw unauthenticated('Token revoked.');
  const user = await deps.storage.findUserById(who.userId);
  if (!user) throw unauthenticated('Unknown user.');
  if (!user.isAdmin) throw forbidden('Only admins and services may call this.');
}

/** Constant-time comparison, so the service token cannot be guessed byte by byte from timings. */
function sameSecret(presented: string, secret: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
