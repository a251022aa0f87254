import { MemoryRateLimiter, type RateDecision } from '@switchboard/server';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../src/rate-limiter.ts';
import { eventually, REDIS_URL, redisAvailable, uniquePrefix } from './support/redis.ts';

const redisUp = await redisAvailable();

describe.skipIf(!redisUp)('RedisRateLimiter', () => {
  const open: RedisRateLimiter[] = [];
  afterEach(async () => {
    for (const limiter of open.splice(0)) await limiter.close();
  });

  async function limiter(prefix = uniquePrefix()) {
    const created = new RedisRateLimiter({ url: REDIS_URL, prefix });
    open.push(created);
    await created.ready();
    return created;
  }

  it('decides like MemoryRateLimiter: the first `limit` hits pass, then it refuses with a wait', async () => {
    const redis = await limiter();
    const memory = new MemoryRateLimiter();
    const fromRedis: RateDecision[] = [];
    const fromMemory: RateDecision[] = [];
    for (let i = 0; i < 8; i++) {
      fromRedis.push(await redis.hit('user:1', 5, 60));
      fromMemory.push(memory.hit('user:1', 5, 60));
    }
    await memory.close();
    expect(fromRedis.map((d) => d.allowed)).toEqual(fromMemory.map((d) => d.allowed));
    expect(fromRedis.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    for (const decision of fromRedis.slice(0, 5)) expect(decision.retryAfterSeconds).toBe(0);
    for (const decision of fromRedis.slice(5)) {
      expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(decision.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
  });

  it('peek decides like hit without counting, as MemoryRateLimiter does', async () => {
    const redis = await limiter();
    const memory = new MemoryRateLimiter();
    for (const limiter of [redis, memory]) {
      for (let i = 0; i < 5; i++) expect((await limiter.peek('user:3', 2, 60)).allowed).toBe(true);
      await limiter.hit('user:3', 2, 60);
      expect((await limiter.peek('user:3', 2, 60)).allowed).toBe(true);
      await limiter.hit('user:3', 2, 60);
      const refused = await limiter.peek('user:3', 2, 60);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    await memory.close();
  });

  it('keys are independent', async () => {
    const redis = await limiter();
    expect((await redis.hit('user:1', 1, 60)).allowed).toBe(true);
    expect((await redis.hit('user:1', 1, 60)).allowed).toBe(false);
    expect((await redis.hit('user:2', 1, 60)).allowed).toBe(true);
  });

  it('two limiters on one key share the limit, as two nodes would', async () => {
    const prefix = uniquePrefix();
    const nodeA = await limiter(prefix);
    const nodeB = await limiter(prefix);
    const allowed: boolean[] = [];
    for (let i = 0; i < 8; i++)
      allowed.push((await (i % 2 === 0 ? nodeA : nodeB).hit('user:7', 4, 60)).allowed);
    // Counted per node, each would have allowed four of its own four hits.
    expect(allowed).toEqual([true, true, true, true, false, false, false, false]);
  });

  it('concurrent hits from two limiters never overshoot the limit', async () => {
    const prefix = uniquePrefix();
    const nodes = [await limiter(prefix), await limiter(prefix)];
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => nodes[i % 2]!.hit('user:8', 10, 60)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
  });

  it('the window rolls: hits are allowed again once the oldest leave it', async () => {
    const redis = await limiter();
    expect((await redis.hit('user:3', 2, 0.3)).allowed).toBe(true);
    expect((await redis.hit('user:3', 2, 0.3)).allowed).toBe(true);
    const refused = await redis.hit('user:3', 2, 0.3);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // Refused hits are not counted, so the window empties 0.3 s after the two allowed ones.
    await eventually('the window rolled', async () => (await redis.hit('user:3', 2, 0.3)).allowed);
  });

  it('allows (fails open) while Redis is unreachable', async () => {
    const unreachable = new RedisRateLimiter({ url: 'redis://127.0.0.1:1', prefix: uniquePrefix() });
    open.push(unreachable);
    expect(await unreachable.hit('user:1', 1, 60)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(await unreachable.hit('user:1', 1, 60)).toEqual({ allowed: true, retryAfterSeconds: 0 });
  });
});
