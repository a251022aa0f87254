/** Users and rooms for a test, made through the real REST API. */
import { createHmac, randomBytes } from 'node:crypto';
import { SwitchboardApi } from '../../src/index.ts';

/** A fresh user, signed in. Names are unique per call so tests never collide. */
export async function signUp(server: string, prefix = 'user'): Promise<SwitchboardApi> {
  const api = new SwitchboardApi({ server });
  const username = `${prefix}_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  await api.register(username, password);
  await api.signIn(username, password);
  return api;
}

export function uniqueSlug(prefix = 'room'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * An access token that expired a minute ago, signed with the server's real secret: what a client
 * holds after its laptop slept past the token's lifetime.
 */
export function expiredAccessToken(secret: string, user: { id: number; username: string }): string {
  const now = Math.floor(Date.now() / 1000);
  return accessToken(secret, user, { issuedAt: now - 3600, expiresAt: now - 60 });
}

/** An access token that lives `seconds` from now, in the server's own format and secret. */
export function shortLivedAccessToken(
  secret: string,
  user: { id: number; username: string },
  seconds: number,
): string {
  const now = Math.floor(Date.now() / 1000);
  return accessToken(secret, user, { issuedAt: now, expiresAt: now + seconds });
}

function accessToken(
  secret: string,
  user: { id: number; username: string },
  times: { issuedAt: number; expiresAt: number },
): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({
    username: user.username,
    typ: 'access',
    sub: String(user.id),
    iat: times.issuedAt,
    exp: times.expiresAt,
  })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
