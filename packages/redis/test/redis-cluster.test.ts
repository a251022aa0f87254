/**
 * The Redis layer, limiter and presence store on a real Redis Cluster (3 masters, 3 replicas on
 * loopback ports): the conformance suite over sharded pub/sub, each group's traffic on its own
 * shard only, and the loss of a master with its replica promoted.
 */

import { channelLayerConformance } from '@switchboard/server/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisPresenceStore } from '../src/presence-store.ts';
import { RedisRateLimiter } from '../src/rate-limiter.ts';
import { RedisChannelLayer } from '../src/redis-layer.ts';
import { RedisClusterProcess } from '../src/testing/index.ts';
import { eventually, redisServerAvailable, uniquePrefix } from './support/redis.ts';

const canRun = redisServerAvailable();
let cluster: RedisClusterProcess;

describe.skipIf(!canRun)('Redis Cluster', () => {
  beforeAll(async () => {
    cluster = await RedisClusterProcess.start(3, 1);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  channelLayerConformance('redis cluster, two nodes', async (options) => {
    const prefix = uniquePrefix();
    const a = new RedisChannelLayer({ url: cluster.url, prefix, ...options });
    const b = new RedisChannelLayer({ url: cluster.url, prefix, ...options });
    await Promise.all([a.ready(), b.ready()]);
    return { a, b };
  });

  it('publishes a group send on the shard that owns it only (sharded pub/sub)', async () => {
    const prefix = uniquePrefix();
    const a = new RedisChannelLayer({ url: cluster.url, prefix });
    const b = new RedisChannelLayer({ url: cluster.url, prefix });
    await Promise.all([a.ready(), b.ready()]);
    const got: unknown[] = [];
    await b.groupAdd(
      'room_1',
      b.addChannel((message) => void got.push(message)),
    );
    const masters = await cluster.masters();
    const before = await Promise.all(masters.map((port) => commandCount(port, 'spublish')));
    const classicBefore = await Promise.all(masters.map((port) => commandCount(port, 'publish')));
    for (let i = 0; i < 20; i++) await a.groupSend('room_1', { type: 'tick', i });
    await eventually('all 20 delivered', () => got.length === 20);
    const after = await Promise.all(masters.map((port) => commandCount(port, 'spublish')));
    const classicAfter = await Promise.all(masters.map((port) => commandCount(port, 'publish')));
    const grown = after.map((count, i) => count - before[i]!);
    // Exactly one master took all 20; the others saw none of them, and nobody used PUBLISH.
    expect(grown.sort((x, y) => y - x)).toEqual([20, 0, 0]);
    expect(classicAfter).toEqual(classicBefore);
    await Promise.all([a.close(), b.close()]);
  });

  it('runs the limiter and presence scripts on the cluster', async () => {
    const prefix = uniquePrefix();
    const limiter = new RedisRateLimiter({ url: cluster.url, prefix });
    const presence = new RedisPresenceStore({ url: cluster.url, prefix });
    await Promise.all([limiter.ready(), presence.ready()]);
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push((await limiter.hit('u1:default', 3, 60)).allowed);
    expect(decisions).toEqual([true, true, true, false]);
    // Users whose keys land on different slots, refreshed in one heartbeat.
    for (let user = 1; user <= 50; user++) expect(await presence.connect(user, `c${user}`)).toBe(true);
    await presence.heartbeat();
    await presence.setStatus(7, 'busy');
    expect(await presence.getStatus(7)).toBe('busy');
    expect(await presence.disconnect(7, 'c7')).toBe(true);
    expect(await presence.isOnline(8)).toBe(true);
    await Promise.all([limiter.close(), presence.close()]);
  });

  it('survives the loss of a master: the replica takes over, the layer reports the outage and delivers again', async () => {
    const prefix = uniquePrefix();
    const states: string[] = [];
    const a = new RedisChannelLayer({ url: cluster.url, prefix });
    const b = new RedisChannelLayer({
      url: cluster.url,
      prefix,
      onStateChange: (state) => states.push(state),
    });
    await Promise.all([a.ready(), b.ready()]);
    const got: string[] = [];
    const groups = Array.from({ length: 12 }, (_, i) => `g${i}`);
    const channel = b.addChannel((message) => void got.push(message.type));
    for (const group of groups) await b.groupAdd(group, channel);

    const [victim] = await cluster.masters();
    await cluster.failMaster(victim!);
    await eventually('the layer saw the outage end', () => states.includes('connected'), 15_000);

    // Every group, whichever shard it is on, reaches its member again.
    await eventually(
      'every group delivers after the failover',
      async () => {
        got.length = 0;
        for (const group of groups) await a.groupSend(group, { type: group });
        await new Promise((resolve) => setTimeout(resolve, 100));
        return groups.every((group) => got.includes(group));
      },
      15_000,
    );
    expect(states).toContain('disconnected');
    await Promise.all([a.close(), b.close()]);
  }, 60_000);
});

async function commandCount(port: number, command: string): Promise<number> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: false });
  try {
    const stats = await redis.info('commandstats');
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats);
    return match ? Number(match[1]) : 0;
  } finally {
    redis.disconnect();
  }
}
