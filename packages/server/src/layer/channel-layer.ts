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
 * A layer message carrying bytes for a binary frame. The bytes travel as base64 inside the JSON
 * message, so every layer (memory, Redis, yours) carries them unchanged and the Redis wire format
 * stays one format. Base64 costs a third more bytes on the wire and an encode per publish plus a
 * decode per node; a 30-byte Yjs keystroke update grows to 40 characters, next to a ~100-byte
 * envelope (measured in `npm run bench`, docs scenario).
 */
export interface BinaryLayerMessage extends LayerMessage {
  readonly bytes: string;
}

/** Wraps bytes (and any JSON `fields`, e.g. who sent them) as a layer message of `type`. */
export function binaryLayerMessage(
  type: string,
  bytes: Uint8Array,
  fields: Record<string, unknown> = {},
): BinaryLayerMessage {
  return {
    ...fields,
    type,
    bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  };
}

/** The bytes of a binary layer message, or undefined when it carries none. */
export function layerMessageBytes(message: LayerMessage): Buffer | undefined {
  return typeof message.bytes === 'string' ? Buffer.from(message.bytes, 'base64') : undefined;
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
