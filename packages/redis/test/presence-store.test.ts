import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryPresenceStore, type PresenceStore, RedisPresenceStore } from '../src/presence-store.ts';
import { RedisServerProcess } from '../src/testing/index.ts';
import {
  eventually,
  REDIS_URL,
  redisAvailable,
  redisServerAvailable,
  uniquePrefix,
} from './support/redis.ts';

const redisUp = await redisAvailable();

/** The behaviour both stores share, on one node. */
function presenceContract(name: string, makeStore: () => Promise<PresenceStore>) {
  describe(`presence store contract: ${name}`, () => {
    const open: PresenceStore[] = [];
    const store = async () => {
      const created = await makeStore();
      open.push(created);
      return created;
    };
    afterEach(async () => {
      for (const created of open.splice(0)) await created.close();
    });

    it("tells the user's first and last connection apart", async () => {
      const presence = await store();
      expect(await presence.isOnline(1)).toBe(false);
      expect(await presence.connect(1, 'tab-1')).toBe(true);
      expect(await presence.connect(1, 'tab-2')).toBe(false);
      expect(await presence.isOnline(1)).toBe(true);
      expect(await presence.disconnect(1, 'tab-1')).toBe(false);
      expect(await presence.isOnline(1)).toBe(true);
      expect(await presence.disconnect(1, 'tab-2')).toBe(true);
      expect(await presence.isOnline(1)).toBe(false);
    });

    it('a connection counted twice or removed twice changes nothing', async () => {
      const presence = await store();
      expect(await presence.connect(2, 'tab')).toBe(true);
      expect(await presence.connect(2, 'tab')).toBe(false);
      expect(await presence.disconnect(2, 'tab')).toBe(true);
      expect(await presence.disconnect(2, 'tab')).toBe(false);
      expect(await presence.disconnect(3, 'never-connected')).toBe(false);
    });

    it('users are counted separately', async () => {
      const presence = await store();
      await presence.connect(4, 'a');
      expect(await presence.isOnline(5)).toBe(false);
      expect(await presence.connect(5, 'a')).toBe(true);
    });

    it('keeps an explicit status only while the user is connected', async () => {
      const presence = await store();
      await presence.setStatus(6, 'busy');
      expect(await presence.getStatus(6)).toBeNull();
      await presence.connect(6, 'tab');
      expect(await presence.getStatus(6)).toBeNull();
      await presence.setStatus(6, 'away');
      expect(await presence.getStatus(6)).toBe('away');
      await presence.disconnect(6, 'tab');
      expect(await presence.getStatus(6)).toBeNull();
      await presence.connect(6, 'tab');
      expect(await presence.getStatus(6)).toBeNull();
    });
  });
}

presenceContract('memory', async () => new MemoryPresenceStore());

describe.skipIf(!redisUp)('RedisPresenceStore', () => {
  presenceContract('redis', async () => {
    const store = new RedisPresenceStore({ url: REDIS_URL, prefix: uniquePrefix() });
    await store.ready();
    return store;
  });

  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const closable of open.splice(0)) await closable.close();
  });

  async function nodes(prefix: string, ttlSeconds = 30) {
    const stores = [1, 2].map(() => new RedisPresenceStore({ url: REDIS_URL, prefix, ttlSeconds }));
    open.push(...stores);
    await Promise.all(stores.map((store) => store.ready()));
    return stores as [RedisPresenceStore, RedisPresenceStore];
  }

  it('counts a user across nodes: first and last are cluster-wide', async () => {
    const [a, b] = await nodes(uniquePrefix());
    expect(await a.connect(10, 'a-1')).toBe(true);
    expect(await b.connect(10, 'b-1')).toBe(false);
    expect(await b.isOnline(10)).toBe(true);
    await a.setStatus(10, 'busy');
    expect(await b.getStatus(10)).toBe('busy');
    expect(await a.disconnect(10, 'a-1')).toBe(false);
    expect(await b.getStatus(10)).toBe('busy');
    expect(await b.disconnect(10, 'b-1')).toBe(true);
    expect(await a.isOnline(10)).toBe(false);
    expect(await a.getStatus(10)).toBeNull();
  });

  it("a heartbeat pushes its connections' expiry forward", async () => {
    const prefix = uniquePrefix();
    const [a] = await nodes(prefix);
    await a.connect(11, 'tab');
    const redis = new Redis(REDIS_URL);
    open.push({ close: () => redis.quit() });
    const key = `${prefix}presence:{11}`;
    const liveUntil = Number(await redis.zscore(key, 'tab'));
    const connectedAt = liveUntil - 30_000;
    // Let Redis's clock move past the connect, so that a refresh has to land later.
    await eventually('Redis time moved on', async () => {
      const [seconds, micros] = await redis.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) > connectedAt;
    });
    await a.heartbeat();
    expect(Number(await redis.zscore(key, 'tab'))).toBeGreaterThan(liveUntil);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it('the connections of a SIGKILLed node stop counting after the ttl', async () => {
    const prefix = uniquePrefix();
    const [observer] = await nodes(prefix);
    const script = fileURLToPath(new URL('./support/presence-node.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', script, REDIS_URL, prefix, '12', 'doomed', '1'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = once(child, 'exit');
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await eventually('the node registered its connection', () => output.includes('registered'), 15_000);
      expect(await observer.isOnline(12)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    await eventually(
      "the dead node's connection expired",
      async () => !(await observer.isOnline(12)),
      10_000,
    );
    // The next connection anywhere is the user's first again.
    expect(await observer.connect(12, 'fresh')).toBe(true);
  });
});

describe.skipIf(!redisServerAvailable())('RedisPresenceStore when Redis restarts', () => {
  it("re-registers the node's connections, including one made during the outage", async () => {
    const server = await RedisServerProcess.start();
    const store = new RedisPresenceStore({ url: server.url, prefix: 'restart:' });
    try {
      await store.ready();
      await store.connect(20, 'before');
      await server.kill();
      await eventually('the store noticed', async () => {
        try {
          await store.isOnline(20);
          return false;
        } catch {
          return true;
        }
      });
      await expect(store.connect(21, 'during')).rejects.toThrow();
      await server.restart();
      await store.ready();
      expect(await store.isOnline(20)).toBe(true);
      expect(await store.isOnline(21)).toBe(true);
    } finally {
      await store.close();
      await server.kill();
    }
  });
});
