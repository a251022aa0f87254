import type { LayerMessage } from '@switchboard/server';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisChannelLayer } from '../src/redis-layer.ts';
import { eventually, REDIS_URL, redisAvailable, uniquePrefix, watchCommands } from './support/redis.ts';

const redisUp = await redisAvailable();

describe.skipIf(!redisUp)('RedisChannelLayer routing through Redis', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function nodes(prefix: string, count = 2, onError?: (error: unknown) => void) {
    const layers = Array.from(
      { length: count },
      () => new RedisChannelLayer({ url: REDIS_URL, prefix, ...(onError ? { onError } : {}) }),
    );
    for (const layer of layers) cleanups.push(() => layer.close());
    await Promise.all(layers.map((layer) => layer.ready()));
    return layers;
  }

  async function monitor(prefix: string) {
    const watch = await watchCommands(REDIS_URL, prefix);
    cleanups.push(() => watch.stop());
    return watch;
  }

  async function numsub(topic: string): Promise<number> {
    const redis = new Redis(REDIS_URL);
    try {
      const [, count] = (await redis.pubsub('NUMSUB', topic)) as [string, number];
      return Number(count);
    } finally {
      await redis.quit();
    }
  }

  it('groupSend to 100 members on two nodes is one PUBLISH, decoded once per node', async () => {
    const prefix = uniquePrefix();
    const [a, b] = await nodes(prefix);
    const watch = await monitor(prefix);
    const receivedOnA: LayerMessage[] = [];
    const receivedOnB: LayerMessage[] = [];
    for (let i = 0; i < 50; i++) {
      await a!.groupAdd(
        'big',
        a!.addChannel((message) => void receivedOnA.push(message)),
      );
      await b!.groupAdd(
        'big',
        b!.addChannel((message) => void receivedOnB.push(message)),
      );
    }
    const message = { type: 'chat', text: 'to everyone' };
    await a!.groupSend('big', message);
    await eventually('all 100 members got it', () => receivedOnA.length + receivedOnB.length === 100);
    await watch.settled();

    expect(watch.count('publish', `${prefix}group:big`)).toBe(1);
    expect(watch.commands.filter(([command]) => command === 'publish')).toHaveLength(1);
    // The sender's members share the sender's object; the other node's share one decoded copy.
    expect(new Set(receivedOnA)).toEqual(new Set([message]));
    expect(new Set(receivedOnB).size).toBe(1);
    expect(receivedOnB[0]).toEqual(message);
  });

  it('subscribes once per group per node and unsubscribes when the last local member leaves', async () => {
    const prefix = uniquePrefix();
    const topic = `${prefix}group:room`;
    const [a, b] = await nodes(prefix);
    const watch = await monitor(prefix);
    const onA = Array.from({ length: 20 }, () => a!.addChannel(() => {}));
    const onB = Array.from({ length: 20 }, () => b!.addChannel(() => {}));
    for (const channel of onA) await a!.groupAdd('room', channel);
    for (const channel of onB) await b!.groupAdd('room', channel);
    await watch.settled();
    expect(watch.count('subscribe', topic)).toBe(2);
    expect(await numsub(topic)).toBe(2);

    // All but one of a's members leave: a stays subscribed.
    for (const channel of onA.slice(1)) await a!.groupDiscard('room', channel);
    await watch.settled();
    expect(watch.count('unsubscribe', topic)).toBe(0);
    expect(await numsub(topic)).toBe(2);

    // The last one closes its channel: a unsubscribes without being asked.
    a!.removeChannel(onA[0]!);
    await eventually('a unsubscribed', async () => (await numsub(topic)) === 1);
    for (const channel of onB) await b!.groupDiscard('room', channel);
    expect(await numsub(topic)).toBe(0);
    await watch.settled();
    expect(watch.count('unsubscribe', topic)).toBe(2);

    // Rejoining subscribes again, and only the node that rejoined.
    await a!.groupAdd(
      'room',
      a!.addChannel(() => {}),
    );
    expect(await numsub(topic)).toBe(1);
  });

  it('a message for a channel of a node that is gone is counted as undeliverable', async () => {
    const prefix = uniquePrefix();
    const [a, b] = await nodes(prefix);
    const channelOnB = b!.addChannel(() => {});
    await b!.close();
    await a!.send(channelOnB, { type: 'late' });
    await a!.send('no-node-prefix', { type: 'lost' });
    expect(a!.stats().undeliverable).toBe(2);
  });

  it('refuses to add a channel of another node to a group', async () => {
    const [a, b] = await nodes(uniquePrefix());
    await expect(
      a!.groupAdd(
        'room',
        b!.addChannel(() => {}),
      ),
    ).rejects.toThrow(/lives on another node/);
  });

  it('a message that cannot be serialised is refused before any member sees it', async () => {
    const [a] = await nodes(uniquePrefix(), 1);
    const received: LayerMessage[] = [];
    await a!.groupAdd(
      'room',
      a!.addChannel((message) => void received.push(message)),
    );
    await expect(a!.groupSend('room', { type: 'bad', n: 1n })).rejects.toThrow(/BigInt/);
    expect(received).toEqual([]);
  });

  it('reports a foreign payload on its channels instead of crashing', async () => {
    const prefix = uniquePrefix();
    const errors: unknown[] = [];
    const [a] = await nodes(prefix, 1, (error) => errors.push(error));
    const received: LayerMessage[] = [];
    await a!.groupAdd(
      'room',
      a!.addChannel((message) => void received.push(message)),
    );
    const intruder = new Redis(REDIS_URL);
    cleanups.push(() => intruder.quit());
    await intruder.publish(`${prefix}group:room`, 'not a layer message');
    await intruder.publish(`${prefix}group:room`, 'x!1 room {"no":"type"}');
    await eventually('both payloads reported', () => errors.length === 2);
    expect(String(errors[0])).toMatch(/malformed layer payload/);
    expect(String(errors[1])).toMatch(/without a message type/);
    expect(received).toEqual([]);
  });
});
