/**
 * When to renew an access token in band, before the server closes the socket at its expiry.
 * The server states the expiry of every renewal (`expires_at` in the `auth` ack); for the token a
 * socket opened with, the SDK reads the JWT's `exp` (a token that is not a JWT is renewed only
 * after the server has named its expiry, or on the 4401 that ends it).
 */

/** Renew this long before expiry at the latest... */
const LEAD_MS = 30_000;
/** ...and at this share of the remaining lifetime at the latest, whichever comes first. */
const SHARE = 0.8;

/**
 * Milliseconds from `now` until the renewal: 80 % of the remaining lifetime or 30 s before the
 * expiry, whichever is sooner, but never before half of it has passed, so that short-lived
 * tokens do not renew in a tight loop.
 */
export function renewalDelay(expiresAt: number, now: number): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  return Math.min(SHARE * remaining, Math.max(remaining - LEAD_MS, remaining / 2));
}

/** The `exp` of a JWT in ms since the epoch; undefined when the token is not a JWT with one. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
