/**
 * The chat domain: who may read and write a room, and what a change does. Consumers and REST
 * routes call this; it calls storage and the channel layer. Every change is committed before it
 * is broadcast, so a broadcast never announces something a resume could not replay. A database
 * that cannot be reached surfaces as SERVICE_UNAVAILABLE (see storage-unavailable.ts).
 */
import {
  type Attachment,
  type ChatMessage,
  ErrorCode,
  type RoomChange as RoomChangeFrame,
} from '@switchboard/protocol';
import { type ChannelLayer, WsError } from '@switchboard/server';
import type { Room, RoomChange, Storage } from '../storage/storage.ts';
import { roomGroup } from './groups.ts';
import { cleanMessageText } from './message-text.ts';
import { orUnavailable } from './storage-unavailable.ts';

export interface Author {
  id: number;
  username: string;
}

export interface PostInput {
  text: string;
  replyTo?: number | undefined;
  clientId?: string | undefined;
  attachments?: Attachment[];
}

/** What happened to a room after the change was committed, for features that keep copies of it. */
export type RoomEvent =
  | { kind: 'edited'; room: Room; message: ChatMessage }
  | { kind: 'deleted'; room: Room; messageId: number }
  | { kind: 'left'; room: Room; userId: number };

/** Must not throw: the change it hears of is committed whatever it does. */
export type RoomListener = (event: RoomEvent) => Promise<void>;

const NOT_FOUND = 'Message not found.';
/** Layer event (never sent to clients) telling a user's sockets in a room that they left it. */
export const MEMBER_LEFT = 'member.left';
/** Changes replayed per storage round trip on resume. */
const REPLAY_PAGE = 500;

export class ChatRooms {
  private listener: RoomListener = async () => {};

  constructor(
    private readonly storage: Storage,
    private readonly layer: ChannelLayer,
    private readonly maxMessageLength: number,
  ) {}

  /** Hears of every edit, delete and leave, on whatever path it came (socket or REST). */
  listen(listener: RoomListener): void {
    this.listener = listener;
  }

  /**
   * The room, if it exists and `userId` is a member. A private room's outsider is told it is not
   * found, exactly as for a missing one, so room names cannot be probed.
   */
  async enter(slug: string, userId: number): Promise<Room> {
    const room = await orUnavailable(this.storage.findRoom(slug));
    const member = room !== undefined && (await orUnavailable(this.storage.isMember(room.id, userId)));
    if (!room || (room.isPrivate && !member))
      throw new WsError(ErrorCode.CHANNEL_NOT_FOUND, 'Room not found.');
    if (!member) throw new WsError(ErrorCode.PERMISSION_DENIED, 'You are not a member of this room.');
    return room;
  }

  /** The room's current last seq (changes up to it are in storage). */
  async lastSeq(room: Room): Promise<number> {
    return (await orUnavailable(this.storage.findRoom(room.slug)))?.lastSeq ?? room.lastSeq;
  }

  /** Stores a message (once per client_id) and returns it with whether it is new. */
  async post(
    room: Room,
    author: Author,
    input: PostInput,
  ): Promise<{ message: ChatMessage; created: boolean }> {
    const content = input.attachments?.length
      ? input.text
      : cleanMessageText(input.text, this.maxMessageLength);
    if (input.replyTo !== undefined) {
      const target = await orUnavailable(this.storage.findMessage(input.replyTo));
      if (!target || target.room !== room.slug) {
        throw new WsError(ErrorCode.NOT_FOUND, 'The message you reply to was not found.', {
          field: 'reply_to',
        });
      }
    }
    const stored = await orUnavailable(
      this.storage.appendMessage({
        roomId: room.id,
        authorId: author.id,
        content,
        replyTo: input.replyTo ?? null,
        clientId: input.clientId ?? null,
        attachments: input.attachments ?? [],
      }),
    );
    if (stored.message.room !== room.slug) {
      // The client reused a client_id from another room: that key already names another message.
      throw clientIdTaken();
    }
    return stored;
  }

  async edit(room: Room, author: Author, messageId: number, newContent: string): Promise<ChatMessage> {
    const message = await this.ownMessage(room, author, messageId, 'edit');
    const content = cleanMessageText(newContent, this.maxMessageLength);
    if (content === message.content) return message;
    const edited = await orUnavailable(this.storage.editMessage(messageId, content));
    await this.listener({ kind: 'edited', room, message: edited });
    return edited;
  }

  async delete(room: Room, author: Author, messageId: number): Promise<{ seq: number }> {
    await this.ownMessage(room, author, messageId, 'delete');
    const deleted = await orUnavailable(this.storage.deleteMessage(messageId));
    await this.listener({ kind: 'deleted', room, messageId });
    return deleted;
  }

  /**
   * Removes a member and cuts their open sockets to the room on every node: leaving must end
   * reading and writing at once, not at the next reconnect. False if they were not a member.
   */
  async leave(room: Room, userId: number): Promise<boolean> {
    if (!(await this.storage.removeMember(room.id, userId))) return false;
    await this.layer.groupSend(roomGroup(room.id), { type: MEMBER_LEFT, user_id: userId });
    await this.listener({ kind: 'left', room, userId });
    return true;
  }

  /** Broadcasts a committed change to everyone in the room, on every node. */
  async announce(room: Room, frame: RoomChangeFrame): Promise<void> {
    await this.layer.groupSend(roomGroup(room.id), frame);
  }

  /** Every change after `afterSeq`, oldest first, as the frames a live client would have received. */
  async *changesSince(room: Room, afterSeq: number): AsyncGenerator<RoomChangeFrame> {
    for (let from = afterSeq; ; ) {
      const page = await orUnavailable(this.storage.changesSince(room.id, from, REPLAY_PAGE));
      for (const change of page) yield changeFrame(room, change);
      if (page.length < REPLAY_PAGE) return;
      from = page[page.length - 1]!.seq;
    }
  }

  private async ownMessage(room: Room, author: Author, messageId: number, verb: 'edit' | 'delete') {
    const message = await orUnavailable(this.storage.findMessage(messageId));
    if (!message || message.room !== room.slug || message.deleted) {
      throw new WsError(ErrorCode.NOT_FOUND, NOT_FOUND, { field: 'message_id' });
    }
    if (message.author.id !== author.id) {
      throw new WsError(ErrorCode.PERMISSION_DENIED, `You can only ${verb} your own messages.`);
    }
    return message;
  }
}

/** The client reused a client_id from another room: that key already names another message. */
export function clientIdTaken(): WsError {
  return new WsError(ErrorCode.INVALID_MESSAGE, 'client_id was already used for another message.', {
    field: 'client_id',
  });
}

export function changeFrame(room: Room, change: RoomChange): RoomChangeFrame {
  switch (change.kind) {
    case 'created':
      return { type: 'chat_message', message: change.message };
    case 'edited':
      return { type: 'message_edited', message: { ...change.message, seq: change.seq } };
    case 'deleted':
      return { type: 'message_deleted', message_id: change.messageId, seq: change.seq, room: room.slug };
  }
}

/** The seq a room-change frame carries, or undefined for frames that are not history (typing, receipts). */
export function seqOf(frame: { type: string; [key: string]: unknown }): number | undefined {
  if (typeof frame.seq === 'number') return frame.seq;
  const message = frame.message as { seq?: unknown } | undefined;
  return typeof message?.seq === 'number' ? message.seq : undefined;
}
