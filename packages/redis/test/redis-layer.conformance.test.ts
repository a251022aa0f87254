import { channelLayerConformance } from '@switchboard/server/testing';
import { describe } from 'vitest';
import { RedisChannelLayer } from '../src/redis-layer.ts';
import { REDIS_URL, redisAvailable, uniquePrefix } from './support/redis.ts';

const redisUp = await redisAvailable();

describe.skipIf(!redisUp)('RedisChannelLayer', () => {
  // Two nodes sharing one Redis namespace, fresh for every test.
  channelLayerConformance('redis, two nodes', async (options) => {
    const prefix = uniquePrefix();
    const a = new RedisChannelLayer({ url: REDIS_URL, prefix, ...options });
    const b = new RedisChannelLayer({ url: REDIS_URL, prefix, ...options });
    await Promise.all([a.ready(), b.ready()]);
    return { a, b };
  });
});
