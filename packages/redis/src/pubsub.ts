import { isCluster, type RedisClient } from './connection.ts';

/**
 * Pub/sub as the layer uses it, on one server or on a Cluster. On a Cluster, classic PUBLISH is
 * broadcast over the cluster bus to every node, so each message costs every shard; sharded
 * pub/sub (Redis 7: SSUBSCRIBE / SPUBLISH) keeps a channel's traffic on the shard that owns its
 * slot. A batch of channels in one SSUBSCRIBE must share a slot, so there it is one per channel.
 */
export interface PubSub {
  readonly messageEvent: 'message' | 'smessage';
  /** Channels one SUBSCRIBE may carry. */
  readonly batchSize: number;
  /** Whether the connection restores its own subscriptions after failovers and slot moves. */
  readonly restoresItself: boolean;
  subscribe(channels: string[]): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** Resolves to how many subscribers got the message (on a Cluster: on the owning shard). */
  publish(channel: string, payload: string): Promise<number>;
}

export function pubSubOf(publisher: RedisClient, subscriber: RedisClient): PubSub {
  if (isCluster(subscriber)) {
    return {
      messageEvent: 'smessage',
      batchSize: 1,
      restoresItself: true,
      subscribe: (channels) => Promise.all(channels.map((channel) => subscriber.ssubscribe(channel))),
      unsubscribe: (channel) => subscriber.sunsubscribe(channel),
      publish: (channel, payload) => publisher.spublish(channel, payload) as Promise<number>,
    };
  }
  return {
    messageEvent: 'message',
    batchSize: 1000,
    restoresItself: false,
    subscribe: (channels) => subscriber.subscribe(...channels),
    unsubscribe: (channel) => subscriber.unsubscribe(channel),
    publish: (channel, payload) => publisher.publish(channel, payload),
  };
}
