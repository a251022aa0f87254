import {
  assertValidName,
  type ChannelLayer,
  DEFAULT_LAYER_OPTIONS,
  type LayerMessage,
  type LayerStats,
  LocalChannels,
  type Receiver,
} from '@switchboard/server';
import { closeConnection, openConnection, type RedisClient, whenMastersConnected } from './connection.ts';
import { LinkHealth, type LinkState } from './link-health.ts';
import { type Logger, silentLogger } from './logger.ts';
import { type PubSub, pubSubOf } from './pubsub.ts';
import { decodeEnvelope, encodeEnvelope, isFrom } from './wire.ts';

export interface RedisLayerOptions {
  /** `redis://…`, `redis+cluster://…` or `redis+sentinel://…` (see redis-target.ts). */
  url: string;
  /** Namespace of every pub/sub channel of the layer; nodes that talk to each other share it. */
  prefix?: string;
  /** Messages that may wait for one busy local channel (see LayerOptions). */
  capacity?: number;
  /** Seconds a waiting message stays deliverable (see LayerOptions). */
  expirySeconds?: number;
  /** Errors thrown by receivers, and payloads on the layer's channels it cannot decode. */
  onError?: (error: unknown) => void;
  /** Told when the layer loses Redis and when it is back with every subscription restored. */
  onStateChange?: (state: LinkState) => void;
  logger?: Logger;
}

export interface RedisLayerStats extends LayerStats {
  /** Messages that never reached Redis: it was unreachable, or refused the PUBLISH. */
  droppedUnpublished: number;
  /** Times the layer came back after losing Redis. */
  reconnects: number;
}

/**
 * The channel layer for several processes sharing one Redis, with two connections per node:
 * one subscribed, one for PUBLISH.
 *
 * Groups: a node SUBSCRIBEs to a group's pub/sub channel while it has local members in it, and
 * `groupSend` is one PUBLISH however many members and nodes there are. The sending node hands the
 * message to its own members directly; every other member node decodes it once and fans the one
 * object out locally. Order holds per sender (all of a node's PUBLISHes to one channel leave on one
 * connection; on a Cluster, a command redirected by MOVED while a slot moves may overtake it);
 * broadcasts of two senders may interleave differently on different nodes, as in channels_redis.
 *
 * Channels: a channel's name starts with its node's prefix, so `send` delivers a local channel
 * directly and PUBLISHes anything else to the owning node's inbox (one pub/sub channel per node).
 * Pub/sub rather than a Redis list per channel (channels_redis) because delivery is at-most-once
 * by contract, so nothing needs to wait in Redis: the only place a message waits is the receiving
 * channel's mailbox, which enforces capacity and expiry and counts what it drops. A list would
 * need a third, blocking connection per node, and would hold messages of dead nodes until expiry.
 * Redis bounds what piles up for a stalled subscriber (client-output-buffer-limit pubsub) by
 * dropping its connection, which this layer reports as an outage.
 *
 * When Redis goes away, local delivery goes on; messages for other nodes are dropped and counted,
 * the outage is logged once and reported through `onStateChange`. On reconnect the layer
 * re-subscribes its inbox and every group it has members in, then reports itself connected.
 */
export class RedisChannelLayer implements ChannelLayer {
  private readonly local: LocalChannels;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly pubsub: PubSub;
  private readonly health: LinkHealth;
  private readonly logger: Logger;
  private readonly onError: (error: unknown) => void;
  /** The prefix of this node's channel names, which also identifies the node on the wire. */
  private readonly node: string;
  private readonly groupTopicPrefix: string;
  private readonly inboxPrefix: string;
  /** The SUBSCRIBE of each group with local members; groupAdd resolves once it is confirmed. */
  private readonly subscriptions = new Map<string, Promise<void>>();
  private droppedUnpublished = 0;
  /**
   * On a Cluster only: the topics handed to ioredis, which keeps its own list and restores it
   * after failovers and reconnects; a reconnect subscribes what is missing from it, nothing twice.
   */
  private readonly handedToCluster = new Set<string>();

  constructor(options: RedisLayerOptions) {
    const prefix = options.prefix ?? 'sb:';
    this.logger = options.logger ?? silentLogger;
    this.onError =
      options.onError ?? ((error) => this.logger.error({ err: error }, 'channel layer: message not handled'));
    this.local = new LocalChannels(
      LocalChannels.randomPrefix(),
      {
        capacity: options.capacity ?? DEFAULT_LAYER_OPTIONS.capacity,
        expirySeconds: options.expirySeconds ?? DEFAULT_LAYER_OPTIONS.expirySeconds,
      },
      this.onError,
    );
    this.node = this.local.prefix;
    this.groupTopicPrefix = `${prefix}group:`;
    this.inboxPrefix = `${prefix}inbox:`;

    this.health = new LinkHealth('channel layer', this.logger, options.onStateChange);
    this.publisher = openConnection(options.url, 'switchboard-layer-publish');
    this.subscriber = openConnection(options.url, 'switchboard-layer-subscribe', { shardedPubSub: true });
    this.pubsub = pubSubOf(this.publisher, this.subscriber);
    // Ready only once it can send to every shard without a connect in between (see connection.ts).
    this.health.watch(this.publisher, () => whenMastersConnected(this.publisher));
    this.health.watch(this.subscriber, () => this.subscribeAll());
    this.subscriber.on(this.pubsub.messageEvent, (topic: string, payload: string) =>
      this.receive(topic, payload),
    );
  }

  /** Resolves once the layer is connected to Redis; messages for other nodes are dropped until then. */
  ready(): Promise<void> {
    return this.health.whenConnected();
  }

  /** Whether both connections are up and every subscription is in place. */
  get connected(): boolean {
    return this.health.connected;
  }

  addChannel(receiver: Receiver): string {
    return this.local.add(receiver);
  }

  removeChannel(channel: string): void {
    for (const group of this.local.remove(channel)) void this.unsubscribe(group);
  }

  async send(channel: string, message: LayerMessage): Promise<void> {
    assertValidName('channel', channel);
    if (this.local.owns(channel)) {
      if (!this.local.deliver(channel, message)) this.local.stats.undeliverable++;
      return;
    }
    const node = channel.slice(0, channel.indexOf('!') + 1);
    const receivers = node
      ? await this.publish(this.inboxPrefix + node, encodeEnvelope(this.node, channel, message))
      : 0;
    if (receivers === 0) this.local.stats.undeliverable++;
  }

  /** Only a channel of this node can be added here: its node is the one that must subscribe. */
  async groupAdd(group: string, channel: string): Promise<void> {
    assertValidName('channel', channel);
    assertValidName('group', group);
    if (!this.local.owns(channel)) {
      throw new Error(`groupAdd: channel ${channel} lives on another node; add it on the node that owns it`);
    }
    // A channel closed meanwhile (groupAdd racing a disconnect) must not keep a subscription alive.
    if (!this.local.has(channel)) return;
    if (this.local.join(group, channel)) this.subscribe(group);
    await this.subscriptions.get(group);
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    if (this.local.discard(group, channel)) await this.unsubscribe(group);
  }

  async groupSend(group: string, message: LayerMessage): Promise<void> {
    assertValidName('group', group);
    // Serialise first: a message that cannot be sent anywhere fails before anyone has seen it.
    const payload = encodeEnvelope(this.node, group, message);
    this.local.fanOut(group, message);
    await this.publish(this.groupTopicPrefix + group, payload);
  }

  stats(): RedisLayerStats {
    return {
      ...this.local.stats,
      droppedUnpublished: this.droppedUnpublished,
      reconnects: this.health.reconnects,
    };
  }

  async close(): Promise<void> {
    this.health.close();
    this.local.clear();
    this.subscriptions.clear();
    this.handedToCluster.clear();
    await Promise.all([closeConnection(this.subscriber), closeConnection(this.publisher)]);
  }

  /** Resolves to the number of nodes that got the payload, or null when it never reached Redis. */
  private async publish(topic: string, payload: string): Promise<number | null> {
    try {
      return await this.pubsub.publish(topic, payload);
    } catch (error) {
      this.droppedUnpublished++;
      // While Redis is away the outage has been reported once; anything else is news.
      if (this.publisher.status === 'ready')
        this.logger.error({ err: error, topic }, 'channel layer: PUBLISH failed');
      return null;
    }
  }

  private receive(topic: string, payload: string): void {
    try {
      if (topic.startsWith(this.groupTopicPrefix)) {
        // This node already delivered its own broadcast to its members.
        if (isFrom(payload, this.node)) return;
        this.local.fanOut(topic.slice(this.groupTopicPrefix.length), decodeEnvelope(payload).message);
        return;
      }
      const { target, message } = decodeEnvelope(payload);
      if (!this.local.owns(target) || !this.local.deliver(target, message)) this.local.stats.undeliverable++;
    } catch (error) {
      this.onError(error);
    }
  }

  /** Starts the group's subscription; while Redis is away, subscribeAll takes it up on reconnect. */
  private subscribe(group: string): void {
    if (this.subscriber.status !== 'ready') {
      this.subscriptions.set(group, Promise.resolve());
      return;
    }
    const topic = this.groupTopicPrefix + group;
    const pending = this.pubsub.subscribe([topic]).then(
      () => {
        if (this.pubsub.restoresItself) this.handedToCluster.add(topic);
      },
      (error: unknown) => this.reportSubscriptionError(error, 'SUBSCRIBE', group),
    );
    this.subscriptions.set(group, pending);
  }

  private async unsubscribe(group: string): Promise<void> {
    this.subscriptions.delete(group);
    this.handedToCluster.delete(this.groupTopicPrefix + group);
    // A connection that is down has no subscriptions left, and the next one starts without this.
    if (this.subscriber.status !== 'ready') return;
    try {
      await this.pubsub.unsubscribe(this.groupTopicPrefix + group);
    } catch (error) {
      this.reportSubscriptionError(error, 'UNSUBSCRIBE', group);
    }
  }

  private reportSubscriptionError(error: unknown, command: string, group: string): void {
    // Failures from a dropped connection are repaired by subscribeAll when it comes back.
    if (this.subscriber.status !== 'ready') return;
    this.logger.error({ err: error, group }, `channel layer: ${command} failed`);
  }

  /** Runs on every (re)connect of the subscriber: the inbox and every group with local members. */
  private async subscribeAll(): Promise<void> {
    let topics = [this.inboxPrefix + this.node];
    for (const group of this.local.localGroups()) topics.push(this.groupTopicPrefix + group);
    if (this.pubsub.restoresItself) topics = topics.filter((topic) => !this.handedToCluster.has(topic));
    const { batchSize } = this.pubsub;
    const batches: Promise<unknown>[] = [];
    for (let i = 0; i < topics.length; i += batchSize) {
      batches.push(this.pubsub.subscribe(topics.slice(i, i + batchSize)));
    }
    await Promise.all(batches);
    if (this.pubsub.restoresItself) for (const topic of topics) this.handedToCluster.add(topic);
  }
}
