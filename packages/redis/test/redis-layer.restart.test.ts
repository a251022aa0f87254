import type { LayerMessage } from '@switchboard/server';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkState } from '../src/link-health.ts';
import type { Logger } from '../src/logger.ts';
import { RedisChannelLayer } from '../src/redis-layer.ts';
import { RedisServerProcess } from '../src/testing/index.ts';
import { eventually, redisServerAvailable } from './support/redis.ts';

/** One node under test: its layer, the states it reported, and what it logged. */
function node(url: string) {
  const states: LinkState[] = [];
  const logged: { level: string; message: string }[] = [];
  const record =
    (level: string) =>
    (_fields: object, message: string): void =>
      void logged.push({ level, message });
  const logger: Logger = { info: record('info'), warn: record('warn'), error: record('error') };
  const layer = new RedisChannelLayer({
    url,
    prefix: 'restart:',
    logger,
    onStateChange: (state) => states.push(state),
  });
  return { layer, states, logged };
}

function inbox() {
  const received: LayerMessage[] = [];
  return { received, receiver: (message: LayerMessage) => void received.push(message) };
}

describe.skipIf(!redisServerAvailable())('RedisChannelLayer when Redis restarts', () => {
  let server: RedisServerProcess;
  beforeAll(async () => {
    server = await RedisServerProcess.start();
  });
  afterAll(async () => {
    await server?.kill();
  });

  it('reconnects, re-subscribes, keeps serving and reports the outage', async () => {
    const a = node(server.url);
    const b = node(server.url);
    try {
      await Promise.all([a.layer.ready(), b.layer.ready()]);
      const memberA = inbox();
      const memberB = inbox();
      const directB = inbox();
      await a.layer.groupAdd('room', a.layer.addChannel(memberA.receiver));
      await b.layer.groupAdd('room', b.layer.addChannel(memberB.receiver));
      const channelOnB = b.layer.addChannel(directB.receiver);
      await a.layer.groupSend('room', { type: 'before' });
      await eventually('both members got "before"', () => memberB.received.length === 1);

      await server.kill();
      await eventually('both nodes noticed', () => !a.layer.connected && !b.layer.connected);
      // While Redis is away local members are still served; what is for other nodes is counted.
      await a.layer.groupSend('room', { type: 'during' });
      await a.layer.send(channelOnB, { type: 'during' });
      expect(a.layer.stats().droppedUnpublished).toBe(2);

      await server.restart();
      await Promise.all([a.layer.ready(), b.layer.ready()]);
      await b.layer.groupSend('room', { type: 'after' });
      await a.layer.send(channelOnB, { type: 'after' });
      await eventually(
        'the messages after the restart arrived',
        () => memberA.received.length === 3 && memberB.received.length === 2 && directB.received.length === 1,
      );
      expect(memberA.received.map((m) => m.type)).toEqual(['before', 'during', 'after']);
      expect(memberB.received.map((m) => m.type)).toEqual(['before', 'after']);
      expect(directB.received.map((m) => m.type)).toEqual(['after']);

      // The new Redis knows nothing: both nodes subscribed the group again by themselves.
      const probe = new Redis(server.url);
      expect(await probe.pubsub('NUMSUB', 'restart:group:room')).toEqual(['restart:group:room', 2]);
      await probe.quit();

      for (const { layer, states, logged } of [a, b]) {
        expect(states).toEqual(['connected', 'disconnected', 'connected']);
        expect(layer.stats().reconnects).toBe(1);
        expect(logged).toContainEqual({
          level: 'warn',
          message: 'channel layer: Redis connection lost, reconnecting',
        });
        expect(logged).toContainEqual({ level: 'info', message: 'channel layer: Redis connection restored' });
      }
    } finally {
      await Promise.all([a.layer.close(), b.layer.close()]);
    }
  });
});
