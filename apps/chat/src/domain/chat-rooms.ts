/**
 * The chat domain: who may read and write a room, and what a change does. Consumers and REST
 * routes call this; it calls storage, the channel layer and room activity (notifications).
 *
 * Every write returns the room change it committed (`Outcome`), and `publish` is the one way a
 * change leaves the domain: it builds the frame with `changeFrame` — the builder the resume
 * replay (`changesSince`) uses too, so a live frame and a replayed one cannot differ — sends it to
 * the room group, then tells room activity. A change is committed before it is published, so a
 * broadcast never announces something a resume could not replay. A database that cannot be
 * reached surfaces as SERVICE_UNAVAILABLE (see storage-unavailable.ts).
 */
import { type Attachment, ErrorCode, type RoomChangeFrame } from '@switchboard/protocol';
import { type ChannelLayer, WsError } from '@switchboard/server';
import type { RoomActivity } from '../notifications/room-activity.ts';
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

/**
 * What a write did: the room change it stands for, and whether it made that change now. A resent
 * message (same client_id) or an edit to the same text did not: it was published when it was made.
 */
export interface Outcome<C extends RoomChange = RoomChange> {
  change: C;
  isNew: boolean;
}
export type MessageCreated = Extract<RoomChange, { kind: 'created' }>;
export type MessageEdited = Extract<RoomChange, { kind: 'edited' }>;
export type MessageDeleted = Extract<RoomChange, { kind: 'deleted' }>;

const NOT_FOUND = 'Message not found.';
/** Layer event (never sent to clients) telling a user's sockets in a room that they left it. */
export const MEMBER_LEFT = 'member.left';
/** Changes replayed per storage round trip on resume. */
const REPLAY_PAGE = 500;

export class ChatRooms {
  constructor(
    private readonly storage: Storage,
    private readonly layer: ChannelLayer,
    /** Hears of every published change and every leave, whichever path it came on (socket or REST). */
    private readonly activity: Pick<RoomActivity, 'changed' | 'left'>,
    private readonly maxMessageLength: number,
  ) {}

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

  /** Stores a message, once per client_id: a resend gets the original back, not new. */
  async post(room: Room, author: Author, input: PostInput): Promise<Outcome<MessageCreated>> {
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
    const { message, created } = await orUnavailable(
      this.storage.appendMessage({
        roomId: room.id,
        authorId: author.id,
        content,
        replyTo: input.replyTo ?? null,
        clientId: input.clientId ?? null,
        attachments: input.attachments ?? [],
      }),
    );
    if (message.room !== room.slug) {
      // The client reused a client_id from another room: that key already names another message.
      throw clientIdTaken();
    }
    return { change: { kind: 'created', seq: message.seq, message }, isNew: created };
  }

  /** Only the author edits a message; the edit takes the room's next seq. */
  async edit(
    room: Room,
    author: Author,
    messageId: number,
    newContent: string,
  ): Promise<Outcome<MessageEdited>> {
    const message = await this.ownMessage(room, author, messageId, 'edit');
    const content = cleanMessageText(newContent, this.maxMessageLength);
    if (content === message.content) {
      return { change: { kind: 'edited', seq: message.seq, message }, isNew: false };
    }
    const edited = await orUnavailable(this.storage.editMessage(messageId, content));
    return { change: { kind: 'edited', seq: edited.seq, message: edited }, isNew: true };
  }

  /** Only the author deletes a message; it stays as a tombstone, and the delete takes the next seq. */
  async delete(room: Room, author: Author, messageId: number): Promise<Outcome<MessageDeleted>> {
    await this.ownMessage(room, author, messageId, 'delete');
    const { seq } = await orUnavailable(this.storage.deleteMessage(messageId));
    return { change: { kind: 'deleted', seq, messageId }, isNew: true };
  }

  /**
   * The one way a change leaves the domain: to everyone in the room on every node (serialised once
   * per node), then to room activity. Call it once the writer has its answer, so the sender hears
   * "stored" before the room hears the change.
   *
   * A resent message (created, not new) is announced again, without room activity: when the node
   * that stored the original lost the database's reply to its commit, or died before its
   * broadcast, nobody was told, and in a quiet room nothing else would reveal the gap. Connections
   * that already have it drop the repeat (each admits a seq once).
   */
  async publish(room: Room, { change, isNew }: Outcome): Promise<void> {
    if (!isNew) {
      if (change.kind === 'created')
        await this.layer.groupSend(roomGroup(room.id), changeFrame(room, change));
      return;
    }
    try {
      await this.layer.groupSend(roomGroup(room.id), changeFrame(room, change));
    } finally {
      // Committed whether or not the broadcast got out: a delete must empty notifications anyway.
      await this.activity.changed(room, change);
    }
  }

  /**
   * An event from a service to every chat socket of the room, on every node; not stored, so a
   * socket that is not open misses it (`server_event` in docs/protocol.md).
   */
  async sendEvent(room: Room, event: Record<string, unknown>): Promise<void> {
    await this.layer.groupSend(roomGroup(room.id), { type: 'server_event', room: room.slug, event });
  }

  /**
   * Removes a member and cuts their open sockets to the room on every node: leaving must end
   * reading and writing at once, not at the next reconnect. False if they were not a member.
   */
  async leave(room: Room, userId: number): Promise<boolean> {
    if (!(await this.storage.removeMember(room.id, userId))) return false;
    await this.layer.groupSend(roomGroup(room.id), { type: MEMBER_LEFT, user_id: userId });
    await this.activity.left(room, userId);
    return true;
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

/** The frame of a room change, live (`publish`) and replayed (`changesSince`) alike. */
function changeFrame(room: Room, change: RoomChange): RoomChangeFrame {
  switch (change.kind) {
    case 'created':
      return { type: 'chat_message', message: change.message };
    case 'edited':
      return { type: 'message_edited', message: { ...change.message, seq: change.seq } };
    case 'deleted':
      return { type: 'message_deleted', message_id: change.messageId, seq: change.seq, room: room.slug };
  }
}
