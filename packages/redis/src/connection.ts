import { Redis } from 'ioredis';

/**
 * Opens a connection with the policy every part of this package shares: while Redis is
 * unreachable, commands fail at once instead of waiting in ioredis's offline queue, which has no
 * bound; a command caught in flight by a dropped connection fails rather than being replayed (a
 * replayed PUBLISH could arrive twice); subscriptions are restored by their owner from its own
 * state, not by ioredis from a snapshot of the old connection. ioredis keeps reconnecting with
 * its default backoff (50 ms more per attempt, at most 2 s).
 */
export function openConnection(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
  });
}

/** Quits politely when connected; otherwise just stops the reconnect attempts. */
export async function closeConnection(redis: Redis): Promise<void> {
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
