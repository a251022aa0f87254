import { randomBytes } from 'node:crypto';
import type { RateDecision, RateLimiter } from '@switchboard/server';
import { closeConnection, openConnection, type RedisClient } from './connection.ts';
import { LinkHealth } from './link-health.ts';
import { type Logger, silentLogger } from './logger.ts';

export interface RedisRateLimiterOptions {
  /** `redis://…`, `redis+cluster://…` or `redis+sentinel://…` (see redis-target.ts). */
  url: string;
  /** Namespace of the limiter's keys; every node that shares limits uses the same one. */
  prefix?: string;
  logger?: Logger;
}

/**
 * One hit against a rolling window, atomically: a sorted set per key holds the time of every
 * allowed hit in the window. Time is Redis's own clock, so nodes with skewed clocks still count
 * one window. Refused hits are not recorded (as in MemoryRateLimiter), and the key expires with
 * its window, so idle keys cost nothing.
 *
 * KEYS[1] the key's set; ARGV[1] limit, ARGV[2] window in ms, ARGV[3] a member unique to this hit.
 * Returns { 1, 0 } when allowed, { 0, ms until the oldest hit leaves the window } when refused.
 */
const SLIDING_WINDOW_HIT = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return { 1, 0 }
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
if oldest == nil then return { 0, window } end
return { 0, tonumber(oldest) + window - now }
`;

/** The same decision without recording a hit. KEYS[1] the key's set; ARGV[1] limit, ARGV[2] window in ms. */
const SLIDING_WINDOW_PEEK = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = redis.call('ZCOUNT', KEYS[1], now - window + 1, '+inf')
if count < limit then return { 1, 0 } end
local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], now - window + 1, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)[2]
if oldest == nil then return { 0, window } end
return { 0, tonumber(oldest) + window - now }
`;

type LimiterRedis = RedisClient & {
  slidingWindowHit(key: string, limit: number, windowMs: number, member: string): Promise<[number, number]>;
  slidingWindowPeek(key: string, limit: number, windowMs: number): Promise<[number, number]>;
};

/**
 * The cluster-wide twin of MemoryRateLimiter: same decisions, counted in Redis, so a limit per
 * user holds across all of the user's connections on every node. One round trip per hit.
 *
 * While Redis is unreachable every hit is allowed (fail open) and the outage is reported once:
 * losing Redis must not lock every user out.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: LimiterRedis;
  private readonly health: LinkHealth;
  private readonly logger: Logger;
  private readonly keyPrefix: string;
  /** Makes each allowed hit a distinct member of its set, even within one millisecond. */
  private readonly instance = randomBytes(6).toString('hex');
  private counter = 0;

  constructor(options: RedisRateLimiterOptions) {
    this.keyPrefix = `${options.prefix ?? 'sb:'}rate:`;
    const redis = openConnection(options.url, 'switchboard-rate-limiter');
    redis.defineCommand('slidingWindowHit', { numberOfKeys: 1, lua: SLIDING_WINDOW_HIT });
    redis.defineCommand('slidingWindowPeek', { numberOfKeys: 1, lua: SLIDING_WINDOW_PEEK });
    this.redis = redis as LimiterRedis;
    this.logger = options.logger ?? silentLogger;
    this.health = new LinkHealth('rate limiter', this.logger);
    this.health.watch(redis);
  }

  /** Resolves once connected; until then every hit is allowed. */
  ready(): Promise<void> {
    return this.health.whenConnected();
  }

  hit(key: string, limit: number, windowSeconds: number): Promise<RateDecision> {
    const member = `${this.instance}:${(++this.counter).toString(36)}`;
    return this.decide(key, windowSeconds, (k, windowMs) =>
      this.redis.slidingWindowHit(k, limit, windowMs, member),
    );
  }

  peek(key: string, limit: number, windowSeconds: number): Promise<RateDecision> {
    return this.decide(key, windowSeconds, (k, windowMs) => this.redis.slidingWindowPeek(k, limit, windowMs));
  }

  private async decide(
    key: string,
    windowSeconds: number,
    script: (key: string, windowMs: number) => Promise<[number, number]>,
  ): Promise<RateDecision> {
    const windowMs = Math.max(1, Math.round(windowSeconds * 1000));
    let allowed: number;
    let waitMs: number;
    try {
      [allowed, waitMs] = await script(this.keyPrefix + key, windowMs);
    } catch (error) {
      // Connection failures are reported once per outage by the link's health; anything else is news.
      if (this.redis.status === 'ready') this.logger.error({ err: error, key }, 'rate limiter: hit failed');
      return { allowed: true, retryAfterSeconds: 0 };
    }
    if (allowed === 1) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  async close(): Promise<void> {
    this.health.close();
    await closeConnection(this.redis);
  }
}
