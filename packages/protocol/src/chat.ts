/** Frames of `/ws/chat/{room}/`: messages, edits, deletes, typing, read receipts, attachments. */
import { z } from 'zod';
import { clientId, id, isoTimestamp, roomSlug, userRef } from './common.ts';
import { ref } from './envelope.ts';

export const attachment = z.object({
  id: z.string(),
  file_name: z.string(),
  file_size: z.number().int().nonnegative(),
  file_type: z.string(),
  url: z.string(),
});
export type Attachment = z.infer<typeof attachment>;

export const chatMessage = z.object({
  id,
  seq: id,
  room: roomSlug,
  content: z.string(),
  author: userRef,
  timestamp: isoTimestamp,
  reply_to: id.nullable(),
  attachments: z.array(attachment),
  edited: z.boolean(),
  deleted: z.boolean(),
  client_id: clientId.nullable(),
});
export type ChatMessage = z.infer<typeof chatMessage>;

// --- client → server -------------------------------------------------------------------------

export const sendChatMessage = z.strictObject({
  type: z.literal('chat_message'),
  message: z.string(),
  reply_to: id.optional(),
  client_id: clientId.optional(),
  ref: ref.optional(),
});
export const editMessage = z.strictObject({
  type: z.literal('edit_message'),
  message_id: id,
  new_content: z.string(),
  ref: ref.optional(),
});
export const deleteMessage = z.strictObject({
  type: z.literal('delete_message'),
  message_id: id,
  ref: ref.optional(),
});
export const sendTyping = z.strictObject({
  type: z.literal('typing'),
  is_typing: z.boolean(),
  ref: ref.optional(),
});
export const markRoomRead = z.strictObject({
  type: z.literal('mark_read'),
  seq: z.number().int().nonnegative(),
  ref: ref.optional(),
});
export const uploadFile = z.strictObject({
  type: z.literal('upload_file'),
  file_name: z.string().min(1).max(255),
  file_size: z.number().int().positive(),
  file_type: z.string().min(1).max(127),
  /** Hex sha256 of the whole file; checked when the last chunk arrives. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Text sent with the attachment once the upload completes. */
  message: z.string().optional(),
  client_id: clientId.optional(),
  ref: ref.optional(),
});
export const uploadChunk = z.strictObject({
  type: z.literal('upload_chunk'),
  upload_id: z.string().min(1).max(64),
  chunk_index: z.number().int().nonnegative(),
  chunk_data: z.string(),
  ref: ref.optional(),
});

/** Every frame a client may send on the chat endpoint, keyed by `type`. */
export const chatClientFrames = {
  chat_message: sendChatMessage,
  edit_message: editMessage,
  delete_message: deleteMessage,
  typing: sendTyping,
  mark_read: markRoomRead,
  upload_file: uploadFile,
  upload_chunk: uploadChunk,
} as const;

// --- server → client -------------------------------------------------------------------------

export const chatMessageEvent = z.object({ type: z.literal('chat_message'), message: chatMessage });
export const messageEditedEvent = z.object({ type: z.literal('message_edited'), message: chatMessage });
export const messageDeletedEvent = z.object({
  type: z.literal('message_deleted'),
  message_id: id,
  seq: id,
  room: roomSlug,
});
export const typingEvent = z.object({ type: z.literal('typing'), user: userRef, is_typing: z.boolean() });
export const readReceiptEvent = z.object({ type: z.literal('read_receipt'), user: userRef, seq: z.number() });
export const uploadProgressEvent = z.object({
  type: z.literal('upload_progress'),
  upload_id: z.string(),
  received_bytes: z.number(),
  total_bytes: z.number(),
  complete: z.boolean(),
});
/** Sent once after the `after_seq` replay: everything from here on is live. */
export const syncedEvent = z.object({ type: z.literal('synced'), room: roomSlug, last_seq: z.number() });

// --- acks: the result fields a `ref`'d client frame's ack carries -----------------------------

/** Ack of `chat_message` (and of the last `upload_chunk`, which posts one): only once it is stored. */
export const chatMessageAck = z.object({
  type: z.literal('ack'),
  ref,
  message_id: id,
  seq: id,
  client_id: clientId.nullable(),
  /** True when this client_id was already stored: nothing new was written, these are the original's id and seq. */
  duplicate: z.boolean(),
});
export type ChatMessageAck = z.infer<typeof chatMessageAck>;

/** Ack of `edit_message` and `delete_message`: the change's seq. */
export const messageChangeAck = z.object({ type: z.literal('ack'), ref, message_id: id, seq: id });
export type MessageChangeAck = z.infer<typeof messageChangeAck>;

/** Result fields of an ack, as a handler returns them (the framework adds `type` and `ref`). */
export type AckResult<A> = Omit<A, 'type' | 'ref'>;

export const chatServerFrames = {
  chat_message: chatMessageEvent,
  message_edited: messageEditedEvent,
  message_deleted: messageDeletedEvent,
  typing: typingEvent,
  read_receipt: readReceiptEvent,
  upload_progress: uploadProgressEvent,
  synced: syncedEvent,
} as const;

export type ChatServerFrame = {
  [K in keyof typeof chatServerFrames]: z.infer<(typeof chatServerFrames)[K]>;
}[keyof typeof chatServerFrames];
