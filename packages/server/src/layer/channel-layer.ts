/**
 * The channel layer contract (Django Channels semantics, push-shaped for Node).
 *
 * Every connection owns one channel; `send` reaches that one channel wherever it lives, groups
 * broadcast to all their member channels. Delivery is at-most-once: durability comes from
 * storage and resume, never from the layer. Every queue is bounded and every drop is counted.
 */

/** What travels through a layer: a JSON-serialisable object routed by its `type`. */
export interface LayerMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

/**
 * Receives the messages of one local channel. A receiver that returns a promise is busy until it
 * settles; messages that arrive meanwhile wait in the channel's bounded mailbox, in order.
 */
export type Receiver = (message: LayerMessage) => void | Promise<void>;

export interface LayerOptions {
  /** Messages that may wait for one busy channel before new ones are dropped (channels_redis: 100). */
  capacity: number;
  /** Seconds a waiting message stays deliverable (channels_redis: 60). */
  expirySeconds: number;
}

export const DEFAULT_LAYER_OPTIONS: LayerOptions = { capacity: 100, expirySeconds: 60 };

export interface LayerStats {
  /** Messages refused because a channel's mailbox was full. */
  droppedOverCapacity: number;
  /** Messages dropped because they waited longer than the expiry. */
  droppedExpired: number;
  /** Messages sent to a channel or group that no longer has a receiver anywhere reachable. */
  undeliverable: number;
}

export interface ChannelLayer {
  /** Opens a channel that lives in this process; returns its unique name. */
  addChannel(receiver: Receiver): string;
  /**
   * Closes a local channel: it leaves every group it is in, and messages still waiting for it are
   * discarded. The layer is the one place that knows a channel's groups; callers need not
   * `groupDiscard` first.
   */
  removeChannel(channel: string): void;

  send(channel: string, message: LayerMessage): Promise<void>;
  groupAdd(group: string, channel: string): Promise<void>;
  groupDiscard(group: string, channel: string): Promise<void>;
  groupSend(group: string, message: LayerMessage): Promise<void>;

  stats(): LayerStats;
  close(): Promise<void>;
}

/** Group and channel names: printable ASCII, bounded, so they are safe as Redis keys and log fields. */
const NAME = /^[A-Za-z0-9_.\-:!]{1,200}$/;

export function assertValidName(kind: 'group' | 'channel', name: string): void {
  if (!NAME.test(name)) {
    throw new TypeError(`invalid ${kind} name ${JSON.stringify(name)}: use 1-200 of A-Z a-z 0-9 _ . - : !`);
  }
}
