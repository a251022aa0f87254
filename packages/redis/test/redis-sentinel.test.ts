/**
 * The Redis layer through Sentinel (`redis+sentinel://`): it finds the primary by asking the
 * Sentinel, and after a failover it reconnects to the promoted replica, reports the outage and
 * its end, and delivers again across nodes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisChannelLayer } from '../src/redis-layer.ts';
import { RedisSentinelProcess } from '../src/testing/index.ts';
import { eventually, redisServerAvailable, uniquePrefix } from './support/redis.ts';

const canRun = redisServerAvailable();
let sentinel: RedisSentinelProcess;

describe.skipIf(!canRun)('Redis Sentinel', () => {
  beforeAll(async () => {
    sentinel = await RedisSentinelProcess.start();
  }, 60_000);
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('delivers across nodes through the primary the Sentinel names, before and after a failover', async () => {
    const prefix = uniquePrefix();
    const states: string[] = [];
    const a = new RedisChannelLayer({ url: sentinel.url, prefix });
    const b = new RedisChannelLayer({
      url: sentinel.url,
      prefix,
      onStateChange: (state) => states.push(state),
    });
    await Promise.all([a.ready(), b.ready()]);
    const got: string[] = [];
    await b.groupAdd(
      'room_9',
      b.addChannel((message) => void got.push(message.type)),
    );
    await a.groupSend('room_9', { type: 'before' });
    await eventually('delivered before the failover', () => got.includes('before'));

    const oldPrimary = await sentinel.primary();
    await sentinel.failover();
    expect(await sentinel.primary()).not.toBe(oldPrimary);
    await eventually(
      'the layer saw the outage and its end',
      () => states.join(',').endsWith('disconnected,connected'),
      20_000,
    );
    await eventually(
      'delivered after the failover',
      async () => {
        await a.groupSend('room_9', { type: 'after' });
        await new Promise((resolve) => setTimeout(resolve, 100));
        return got.includes('after');
      },
      20_000,
    );
    await Promise.all([a.close(), b.close()]);
  }, 60_000);
});
