/**
 * `/ws/chat/{room}/`: one room's live stream. On connect the client is authorised, joins the
 * room's group, receives every change after its `after_seq` and a `synced` marker, then live
 * changes in seq order. Frames: send, edit and delete messages; typing (ephemeral, throttled),
 * mark_read (read receipts), and chunked file uploads that end in a message with an attachment.
 */
import {
  type AckResult,
  type ChatMessageAck,
  CloseCode,
  changeSeq,
  chatClientFrames,
  chatServerFrames,
  ErrorCode,
  type MessageChangeAck,
  type UserRef,
} from '@switchboard/protocol';
import { type Connection, defineConsumer, type LayerMessage, WsError } from '@switchboard/server';
import { type Author, type ChatRooms, MEMBER_LEFT } from '../domain/chat-rooms.ts';
import { roomGroup } from '../domain/groups.ts';
import { userOf } from '../domain/principal.ts';
import type { ReadReceipts } from '../domain/read-receipts.ts';
import type { Attachments, Caption } from '../files/attachments.ts';
import type { ChunkedUploads } from '../files/chunked-uploads.ts';
import type { UploadQuota } from '../files/upload-quota.ts';
import type { PresenceTracker } from '../presence/presence-tracker.ts';
import type { RoomPresence } from '../presence/room-presence.ts';
import { TypingSignal, type TypingTiming } from '../presence/typing-signal.ts';
import type { Room } from '../storage/storage.ts';
import { RoomSequencer } from './room-sequencer.ts';

export interface ChatConsumerDeps {
  rooms: ChatRooms;
  /** Every socket counts as its user being online. */
  presence: PresenceTracker;
  /** Who has the room open: they are not notified of its new messages. */
  roomPresence: RoomPresence;
  receipts: ReadReceipts;
  uploads: ChunkedUploads<Caption>;
  attachments: Attachments;
  quota: UploadQuota;
  typing: TypingTiming;
}

export interface ChatConnectionState {
  room: Room;
  user: Author;
  /** Sends this socket the room's changes gapless and in seq order. */
  sequencer: RoomSequencer;
  typing: TypingSignal;
  /** The highest read position this socket announced. */
  readSeq: number;
}

/** Own rate buckets: typing and read positions are frequent and tiny, chunks come in bursts. */
const RATE_LIMITS = {
  typing: { limit: 60, windowSeconds: 30 },
  mark_read: { limit: 60, windowSeconds: 60 },
  upload_chunk: { limit: 600, windowSeconds: 60 },
};

/** Typing events reach everyone in the room but their typist (on any of their devices). */
const notFromSelf = (conn: Connection<ChatConnectionState>, event: LayerMessage) =>
  (event.user as UserRef).id !== conn.state.user.id;

export function chatConsumer(deps: ChatConsumerDeps) {
  const { rooms, presence, roomPresence, receipts, uploads, attachments, quota } = deps;
  const inOrder = (conn: Connection<ChatConnectionState>, event: LayerMessage) =>
    conn.state.sequencer.admit(event);
  /** This node's chat connections, for `catchUpAll`. */
  const connected = new Set<Connection<ChatConnectionState>>();

  const consumer = defineConsumer({
    description:
      "One chat room's live stream: send, edit and delete messages; on connect, every change after `after_seq`, then `synced`, then live changes in seq order.",
    sends: chatServerFrames,
    messages: {
      chat_message: chatClientFrames.chat_message,
      edit_message: chatClientFrames.edit_message,
      delete_message: chatClientFrames.delete_message,
      typing: chatClientFrames.typing,
      mark_read: chatClientFrames.mark_read,
      upload_file: chatClientFrames.upload_file,
      upload_chunk: chatClientFrames.upload_chunk,
    },
    rateLimits: RATE_LIMITS,

    async connect(conn): Promise<ChatConnectionState> {
      const user = userOf(conn.principal);
      const afterSeq = parseAfterSeq(conn.query.get('after_seq'));
      const room = await rooms.enter(conn.params.room ?? '', user.id);
      // Join first, then read: a change committed meanwhile is in the replay, the group, or both
      // (the sequencer drops the duplicate), never in neither.
      await conn.groupAdd(roomGroup(room.id));
      const current = await rooms.lastSeq(room);
      let lastSeq = current;
      if (afterSeq !== undefined && afterSeq < current) {
        lastSeq = afterSeq;
        for await (const change of rooms.changesSince(room, afterSeq)) {
          await conn.whenWritable();
          conn.send(change);
          lastSeq = Math.max(lastSeq, changeSeq(change)!);
        }
      }
      conn.send({ type: 'synced', room: room.slug, last_seq: lastSeq });
      const typing = new TypingSignal(
        (isTyping) =>
          conn.layer.groupSend(roomGroup(room.id), {
            type: 'typing',
            user: { id: user.id, username: user.username, avatar: null },
            is_typing: isTyping,
          }),
        deps.typing,
      );
      await presence.connected(user, conn.id);
      await roomPresence.enter(room.id, user.id, conn.id);
      const sequencer = new RoomSequencer(conn, lastSeq, (after) => rooms.changesSince(room, after));
      // The framework sets `state` from this return value before anything else can run.
      connected.add(conn as Connection<ChatConnectionState>);
      return { room, user, sequencer, typing, readSeq: 0 };
    },

    handlers: {
      async chat_message(conn, frame) {
        const { room, user } = conn.state;
        const posted = await rooms.post(room, user, {
          text: frame.message,
          replyTo: frame.reply_to,
          clientId: frame.client_id,
        });
        conn.afterReply(() => rooms.publish(room, posted));
        // Sending ends the typing indicator at once rather than at its timeout.
        conn.afterReply(() => conn.state.typing.stop());
        const { message } = posted.change;
        return {
          message_id: message.id,
          seq: message.seq,
          client_id: message.client_id,
          duplicate: !posted.isNew,
        } satisfies AckResult<ChatMessageAck>;
      },

      async edit_message(conn, frame) {
        const { room, user } = conn.state;
        const edited = await rooms.edit(room, user, frame.message_id, frame.new_content);
        conn.afterReply(() => rooms.publish(room, edited));
        const { message } = edited.change;
        return { message_id: message.id, seq: message.seq } satisfies AckResult<MessageChangeAck>;
      },

      async delete_message(conn, frame) {
        const { room, user } = conn.state;
        const deleted = await rooms.delete(room, user, frame.message_id);
        conn.afterReply(() => rooms.publish(room, deleted));
        return {
          message_id: frame.message_id,
          seq: deleted.change.seq,
        } satisfies AckResult<MessageChangeAck>;
      },

      async typing(conn, frame) {
        await conn.state.typing.update(frame.is_typing);
      },

      async mark_read(conn, frame) {
        const { room, user } = conn.state;
        const seq = await receipts.markRead(room, user, frame.seq);
        if (seq > conn.state.readSeq) {
          conn.state.readSeq = seq;
          conn.afterReply(() => receipts.announce(room, user, seq));
        }
        return { seq };
      },

      async upload_file(conn, frame) {
        const { room, user } = conn.state;
        const caption = attachments.caption(frame.message, frame.client_id);
        await quota.admit(user.id, frame.file_size);
        return uploads.start(user, room.id, frame, caption);
      },

      async upload_chunk(conn, frame) {
        const { room, user } = conn.state;
        const { progress, done } = await uploads.chunk(
          user,
          room.id,
          frame.upload_id,
          frame.chunk_index,
          frame.chunk_data,
        );
        conn.send({ type: 'upload_progress', ...progress });
        if (!done) return { ...progress };
        const posted = await attachments.post(room, user, done.file, done.extra).catch((error) => {
          uploads.forget(done.file.id); // the file was discarded with the refusal
          throw error;
        });
        conn.afterReply(() => rooms.publish(room, posted));
        const { message } = posted.change;
        return { ...progress, file_id: done.file.id, message_id: message.id, seq: message.seq };
      },
    },

    forward: {
      chat_message: inOrder,
      message_edited: inOrder,
      message_deleted: inOrder,
      typing: notFromSelf,
      read_receipt: true,
      // From the server API: every socket of the room, as is.
      server_event: true,
    },

    events: {
      [MEMBER_LEFT]: (conn, event) => {
        if (event.user_id === conn.state.user.id) {
          conn.send({ type: 'error', code: ErrorCode.PERMISSION_DENIED, error: 'You left this room.' });
          conn.close(CloseCode.FORBIDDEN, 'left the room');
        }
      },
    },

    async disconnect(conn) {
      const { room, user, sequencer, typing } = conn.state;
      connected.delete(conn);
      sequencer.stop();
      await typing.stop().catch(() => {});
      await roomPresence.leave(room.id, user.id, conn.id);
      await presence.disconnected(user, conn.id);
    },
  });

  return Object.assign(consumer, {
    /** Every connection of this node re-reads its room from storage (after a channel-layer outage). */
    catchUpAll(): void {
      for (const conn of connected) conn.state.sequencer.catchUp();
    },
  });
}

function parseAfterSeq(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new WsError(ErrorCode.INVALID_MESSAGE, 'after_seq must be a whole number.', {
      field: 'after_seq',
      closeCode: CloseCode.INVALID_REQUEST,
    });
  }
  return Number(raw);
}
