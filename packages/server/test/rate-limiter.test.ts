/** MemoryRateLimiter: a rolling window per key; `peek` says what `hit` would say, counting nothing. */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../src/limits/rate-limiter.ts';

describe('MemoryRateLimiter', () => {
  it('allows `limit` hits per window, then says how long to wait; peek never counts', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    for (let i = 0; i < 5; i++) expect(limiter.peek('k', 2, 10).allowed).toBe(true);
    expect(limiter.hit('k', 2, 10).allowed).toBe(true);
    now += 4000;
    expect(limiter.hit('k', 2, 10).allowed).toBe(true);
    expect(limiter.peek('k', 2, 10)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(limiter.hit('k', 2, 10)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(limiter.peek('other', 2, 10).allowed).toBe(true);
    now += 6000; // the first hit leaves the window
    expect(limiter.peek('k', 2, 10).allowed).toBe(true);
    expect(limiter.hit('k', 2, 10).allowed).toBe(true);
    expect(limiter.peek('k', 2, 10)).toEqual({ allowed: false, retryAfterSeconds: 4 });
    await limiter.close();
  });
});
