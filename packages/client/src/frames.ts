/**
 * The frame types the SDK speaks, derived from the protocol's zod schemas (type-only imports, so
 * zod itself never reaches the browser bundle).
 */
import type {
  AckFrame,
  Attachment,
  ChatMessage,
  ChatMessageAck,
  chatClientFrames,
  chatServerFrames,
  ErrorFrame,
  notificationClientFrames,
  notificationServerFrames,
  statusClientFrames,
  statusServerFrames,
} from '@switchboard/protocol';
import type { z } from 'zod';

/** The union of the frames a `type`-keyed schema map describes. */
type FrameUnion<Schemas> = {
  [K in keyof Schemas]: Schemas[K] extends z.ZodType ? z.input<Schemas[K]> : never;
}[keyof Schemas];
type ServerFrameUnion<Schemas> = {
  [K in keyof Schemas]: Schemas[K] extends z.ZodType ? z.output<Schemas[K]> : never;
}[keyof Schemas];

/** Omit that distributes over a union (the built-in one collapses it). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Anything with a `type` tag: the common shape of every frame in both directions. */
export interface TypedFrame {
  type: string;
}

/** A client frame as the caller writes it: the SDK assigns `ref` itself. */
export type Outgoing<Frame> = DistributiveOmit<Frame, 'ref'>;

export type ChatClientFrame = FrameUnion<typeof chatClientFrames>;
export type ChatServerFrame = ServerFrameUnion<typeof chatServerFrames>;
export type NotificationClientFrame = FrameUnion<typeof notificationClientFrames>;
export type NotificationServerFrame = ServerFrameUnion<typeof notificationServerFrames>;
export type StatusClientFrame = FrameUnion<typeof statusClientFrames>;
export type StatusServerFrame = ServerFrameUnion<typeof statusServerFrames>;

/** The ack of a stored chat message (its id and seq, or the original's for a resend). */
export type MessageAck = ChatMessageAck;

export type { AckFrame, Attachment, ChatMessage, ErrorFrame };
