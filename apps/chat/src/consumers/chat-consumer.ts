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
import type { LiveFeatures } from '../live-features.ts';
import { TypingSignal } from '../presence/typing-signal.ts';
import type { Room } from '../storage/storage.ts';
import {
  admitInOrder,
  catchUp,
  type FillGap,
  newSequencer,
  type SequencerState,
  stopSequencer,
} from './room-sequencer.ts';

export interface ChatConnectionState {
  room: Room;
  user: Author;
  seq: SequencerState;
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

export function chatConsumer(rooms: ChatRooms, live: LiveFeatures) {
  const fillFor =
    (conn: Connection<ChatConnectionState>): FillGap =>
    (afterSeq) =>
      rooms.changesSince(conn.state.room, afterSeq);
  const inOrder = (conn: Connection<ChatConnectionState>, event: Parameters<typeof admitInOrder>[1]) =>
    admitInOrder(conn, event, fillFor(conn));
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
          lastSeq = Math.max(lastSeq, change.type === 'message_deleted' ? change.seq : change.message.seq);
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
        live.typing,
      );
      await live.socketOpened(user, conn.id, room);
      // The framework sets `state` from this return value before anything else can run.
      connected.add(conn as Connection<ChatConnectionState>);
      return { room, user, seq: newSequencer(lastSeq), typing, readSeq: 0 };
    },

    handlers: {
      async chat_message(conn, frame) {
        const { room, user } = conn.state;
        const { message, created } = await rooms.post(room, user, {
          text: frame.message,
          replyTo: frame.reply_to,
          clientId: frame.client_id,
        });
        if (created) conn.afterReply(() => live.publish(room, message));
        // Sending ends the typing indicator at once rather than at its timeout.
        conn.afterReply(() => conn.state.typing.stop());
        return {
          message_id: message.id,
          seq: message.seq,
          client_id: message.client_id,
          duplicate: !created,
        } satisfies AckResult<ChatMessageAck>;
      },

      async edit_message(conn, frame) {
        const { room, user } = conn.state;
        const message = await rooms.edit(room, user, frame.message_id, frame.new_content);
        conn.afterReply(() => rooms.announce(room, { type: 'message_edited', message }));
        return { message_id: message.id, seq: message.seq } satisfies AckResult<MessageChangeAck>;
      },

      async delete_message(conn, frame) {
        const { room, user } = conn.state;
        const { seq } = await rooms.delete(room, user, frame.message_id);
        conn.afterReply(() =>
          rooms.announce(room, {
            type: 'message_deleted',
            message_id: frame.message_id,
            seq,
            room: room.slug,
          }),
        );
        return { message_id: frame.message_id, seq } satisfies AckResult<MessageChangeAck>;
      },

      async typing(conn, frame) {
        await conn.state.typing.update(frame.is_typing);
      },

      async mark_read(conn, frame) {
        const { room, user } = conn.state;
        const seq = await live.receipts.markRead(room, user, frame.seq);
        if (seq > conn.state.readSeq) {
          conn.state.readSeq = seq;
          conn.afterReply(() => live.receipts.announce(room, user, seq));
        }
        return { seq };
      },

      async upload_file(conn, frame) {
        const { room, user } = conn.state;
        const caption = live.attachments.caption(frame.message, frame.client_id);
        await live.quota.admit(user.id, frame.file_size);
        return live.uploads.start(user, room.id, frame, caption);
      },

      async upload_chunk(conn, frame) {
        const { room, user } = conn.state;
        const { progress, done } = await live.uploads.chunk(
          user,
          room.id,
          frame.upload_id,
          frame.chunk_index,
          frame.chunk_data,
        );
        conn.send({ type: 'upload_progress', ...progress });
        if (!done) return { ...progress };
        const { message, created } = await live.attachments
          .post(room, user, done.file, done.extra)
          .catch((error) => {
            live.uploads.forget(done.file.id); // the file was discarded with the refusal
            throw error;
          });
        if (created) conn.afterReply(() => live.publish(room, message));
        return { ...progress, file_id: done.file.id, message_id: message.id, seq: message.seq };
      },
    },

    forward: {
      chat_message: inOrder,
      message_edited: inOrder,
      message_deleted: inOrder,
      typing: notFromSelf,
      read_receipt: true,
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
      connected.delete(conn);
      stopSequencer(conn.state.seq);
      await conn.state.typing.stop().catch(() => {});
      await live.socketClosed(conn.state.user, conn.id, conn.state.room);
    },
  });

  return Object.assign(consumer, {
    /** Every connection of this node re-reads its room from storage (after a channel-layer outage). */
    catchUpAll(): void {
      for (const conn of connected) catchUp(conn, fillFor(conn));
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
