/**
 * Reconnect delays: exponential backoff with "full jitter" (a uniformly random delay between 0 and
 * the capped exponential), which spreads a crowd of clients that lost the same server over the
 * whole window instead of having them all knock again at the same instant.
 */

export interface BackoffOptions {
  /** Delay scale of the first retry, in ms (default 1 s). */
  baseMs: number;
  /** Upper bound of any delay, in ms (default 30 s). */
  capMs: number;
  /** Consecutive failed connection attempts after which the client gives up (state `failed`). */
  maxAttempts: number;
}

export const defaultBackoff: BackoffOptions = {
  baseMs: 1_000,
  capMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/**
 * The delay before the next attempt, given how many attempts in a row have failed (0 right after
 * a working connection dropped).
 * `random` returns a number in [0, 1), like Math.random; tests inject a fixed one.
 */
export function backoffDelay(
  failures: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  // 2 ** failures overflows to Infinity for long outages; Math.min keeps the cap.
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, failures));
  return Math.floor(random() * ceiling);
}
