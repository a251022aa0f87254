/**
 * A consumer is the handler of one kind of connection, like a Django Channels consumer: `connect`
 * decides whether the connection may stay and sets up its state, typed handlers answer client
 * frames, event handlers answer channel-layer messages, `disconnect` cleans up.
 */
import type { z } from 'zod';
import type { Principal } from '../auth/authenticator.ts';
import type { WsError } from '../errors.ts';
import type { BinaryLayerMessage, ChannelLayer, LayerMessage } from '../layer/channel-layer.ts';
import type { RouteParams } from '../routing/router.ts';

/** Client frame schemas keyed by their `type` literal. */
export type MessageSchemas = Record<string, z.ZodType<{ type: string }>>;

/** Extra fields of the `ack` a handler's result becomes (when the client frame carried a `ref`). */
export type AckFields = Record<string, unknown>;

export interface RateRule {
  limit: number;
  windowSeconds: number;
}

/** What a consumer may do with its connection before it has state (in `connect`). */
export interface ConnectionContext {
  /** Unique per connection; on every log line about it. */
  readonly id: string;
  /** This connection's channel-layer name: `layer.send(channelName, …)` reaches it from anywhere. */
  readonly channelName: string;
  readonly principal: Principal;
  readonly params: RouteParams;
  readonly query: URLSearchParams;
  readonly log: ConnectionLogger;
  /** The channel layer, to `send` / `groupSend` to others (Django's `self.channel_layer`). */
  readonly layer: ChannelLayer;
  /** Sends one frame to this client. */
  send(frame: object): void;
  /** Sends one binary frame (opcode 2) to this client. */
  sendBinary(data: Uint8Array): void;
  /**
   * Runs `task` once the reply (ack or error) to the frame being handled is written, so that the
   * sender hears "stored" before the room hears the broadcast. Outside a handler it runs at once.
   */
  afterReply(task: () => void | Promise<void>): void;
  /**
   * Resolves once this client's unsent bytes are below half the slow-consumer bound (at once when
   * they are): await it between frames of a long replay so the replay paces itself to the reader
   * instead of tripping the bound.
   */
  whenWritable(): Promise<void>;
  groupAdd(group: string): Promise<void>;
  groupDiscard(group: string): Promise<void>;
  close(code?: number, reason?: string): void;
}

export interface Connection<State> extends ConnectionContext {
  readonly state: State;
}

export interface ConnectionLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

type Handlers<M extends MessageSchemas, S> = {
  [K in keyof M]: (
    conn: Connection<S>,
    message: z.infer<M[K]>,
    // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing must type-check
  ) => AckFields | void | Promise<AckFields | void>;
};

/**
 * Binary frames (opcode 2), for consumers that speak a standard binary protocol (Yjs). The bytes
 * are handed over as they arrived: the protocol is the consumer's to parse. Size and rate limits
 * apply as to JSON frames; a thrown WsError answers through `refusal` and counts as an invalid frame
 * when its code is INVALID_MESSAGE.
 */
export interface BinaryHandler<S> {
  handle(conn: Connection<S>, data: Uint8Array): void | Promise<void>;
  /** The rate bucket of binary frames (default: the server's default bucket). */
  rate?: RateRule;
  /**
   * How a refusal reaches a client of this protocol, which may not read JSON text frames (a Yjs
   * provider throws on one). Returns the binary frame to send, or undefined to send nothing (the
   * close code still says why). Without it refusals are the usual JSON error frame.
   */
  refusal?(error: WsError): Uint8Array | undefined;
}

export interface ConsumerSpec<M extends MessageSchemas, S> {
  /** Every client frame this consumer accepts; anything else is INVALID_MESSAGE. */
  messages: M;
  /**
   * The frames this consumer sends to clients, keyed by `type` — documentation (AsyncAPI) only;
   * `ack` and `error` are implied. Declare them once, next to the schemas clients validate with.
   */
  sends?: MessageSchemas;
  /** A sentence or two on what the endpoint is for, for the AsyncAPI document. */
  description?: string;
  /** Own rate buckets for some types (e.g. typing); the others share the server's default bucket. */
  rateLimits?: Partial<Record<keyof M & string, RateRule>>;
  /** Authorises the connection and builds its state; throw a WsError to refuse it. */
  connect(conn: ConnectionContext): S | Promise<S>;
  handlers: Handlers<M, S>;
  /**
   * Channel-layer messages relayed to the client verbatim, serialised and framed once per node
   * however many members receive them. A function decides per connection (e.g. dropping a
   * change the client already has).
   */
  forward?: Record<string, true | ((conn: Connection<S>, event: LayerMessage) => boolean)>;
  /**
   * Binary frames from clients. Without it a binary frame is answered with INVALID_MESSAGE
   * ("Binary frames are not supported").
   */
  binary?: BinaryHandler<S>;
  /**
   * Channel-layer messages (made with `binaryLayerMessage`) relayed to the client as one binary
   * frame of their bytes, framed once per node as `forward` does for JSON.
   */
  forwardBinary?: Record<string, true | ((conn: Connection<S>, event: BinaryLayerMessage) => boolean)>;
  /** Channel-layer messages that need per-connection work; run one at a time, in order. */
  events?: Record<string, (conn: Connection<S>, event: LayerMessage) => void | Promise<void>>;
  /** Runs once after a successful connect when the socket is gone; groups are left by the framework. */
  disconnect?(conn: Connection<S>, code: number): void | Promise<void>;
}

/** Identity at run time; exists so TypeScript infers handler argument types from the schemas. */
export function defineConsumer<M extends MessageSchemas, S>(spec: ConsumerSpec<M, S>): ConsumerSpec<M, S> {
  return spec;
}

// biome-ignore lint/suspicious/noExplicitAny: a router holds consumers of every state type
export type AnyConsumer = ConsumerSpec<MessageSchemas, any>;
