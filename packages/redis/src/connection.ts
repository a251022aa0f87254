import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisTarget } from './redis-target.ts';

/** A connection to one server (or the master Sentinel names) or to a whole Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * The policy every part of this package shares: while Redis is unreachable, commands fail at
 * once instead of waiting in ioredis's offline queue, which has no bound; a command caught in
 * flight by a dropped connection fails rather than being replayed (a replayed PUBLISH could
 * arrive twice); subscriptions are restored by their owner from its own state, not by ioredis
 * from a snapshot of the old connection. ioredis keeps reconnecting with its default backoff
 * (50 ms more per attempt, at most 2 s).
 */
const POLICY = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  autoResubscribe: false,
} satisfies RedisOptions;

/**
 * Opens a connection to what `url` names (see redis-target.ts). On a Cluster, `shardedPubSub`
 * gives the connection one subscriber per master, so SSUBSCRIBE / SPUBLISH of a channel touch only
 * the shard that owns it; ioredis then follows slot moves and failovers for the subscriptions.
 */
export function openConnection(
  url: string,
  name: string,
  options: { shardedPubSub?: boolean } = {},
): RedisClient {
  const target = parseRedisTarget(url);
  switch (target.kind) {
    case 'server':
      return new Redis(url, { connectionName: name, ...POLICY });
    case 'sentinel':
      return new Redis({
        connectionName: name,
        ...POLICY,
        sentinels: target.sentinels,
        name: target.name,
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password !== undefined ? { password: target.password } : {}),
        ...(target.tls ? { tls: {} } : {}),
      });
    case 'cluster': {
      const cluster = new Cluster(target.nodes, {
        enableOfflineQueue: false,
        shardedSubscribers: options.shardedPubSub ?? false,
        // A node that goes away is not retried on its own (ioredis' default): the slot map, refreshed
        // on MOVED and after a failover, says where its slots went. Retrying it would report an
        // outage at every failed attempt.
        clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
        redisOptions: {
          connectionName: name,
          ...POLICY,
          ...(target.username ? { username: target.username } : {}),
          ...(target.password !== undefined ? { password: target.password } : {}),
          ...(target.tls ? { tls: {} } : {}),
        },
      });
      // ioredis opens a node's connection at its first command, and refuses the commands that come
      // while it is still connecting, then retries them 100 ms later: behind the ones that came
      // after. Connecting as soon as a node is known keeps one sender's commands in order.
      if (!options.shardedPubSub) {
        cluster.on('+node', (node: Redis) => {
          if (node.status === 'wait') node.connect().catch(() => {});
        });
      }
      return cluster;
    }
  }
}

/** Resolves once every master of a Cluster has its connection open (at once for one server). */
export async function whenMastersConnected(redis: RedisClient): Promise<void> {
  if (isCluster(redis)) await Promise.all(redis.nodes('master').map((node) => node.ping()));
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/** Quits politely when connected; otherwise just stops the reconnect attempts. */
export async function closeConnection(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // The connection died while quitting: disconnecting below is all that is left to do.
    }
  }
  redis.disconnect();
}
