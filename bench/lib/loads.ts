/**
 * The loads the cases share, defined once so the single-node and the scale-out figures measure
 * the same thing.
 */

/** One room, 1,000 subscribers, publishers at max rate with a bounded in-flight window. */
export const FAN_OUT_LOAD = {
  subscribers: 1000,
  publishers: 4,
  /**
   * Messages in flight (not yet at every subscriber) at max rate. Enough that the server always
   * has work queued; small enough that latency stays a measure of the server, not of the queue.
   */
  window: 16,
  warmUpSeconds: 2,
  maxRateSeconds: 10,
  halfLoadSeconds: 5,
} as const;

/** Acked chat messages into one room whose members all send, each with a bounded window. */
export const CHAT_LOAD = {
  members: 100,
  window: 8,
  warmUpSeconds: 2,
  measureSeconds: 10,
} as const;
