/**
 * `/ws/chat/{room}/`: one room's live stream. On connect the client is authorised, joins the
 * room's group, receives every change after its `after_seq` and a `synced` marker, then live
 * changes in seq order. Frames: send, edit and delete messages.
 */
import { CloseCode, chatClientFrames, chatServerFrames, ErrorCode } from '@switchboard/protocol';
import { type Connection, defineConsumer, WsError } from '@switchboard/server';
import { type Author, type ChatRooms, MEMBER_LEFT } from '../chat/chat-rooms.ts';
import { roomGroup } from '../chat/groups.ts';
import { userOf } from '../chat/principal.ts';
import type { Room } from '../storage/storage.ts';
import {
  admitInOrder,
  type FillGap,
  newSequencer,
  type SequencerState,
  stopSequencer,
} from './room-sequencer.ts';

export interface ChatConnectionState {
  room: Room;
  user: Author;
  seq: SequencerState;
}

export function chatConsumer(rooms: ChatRooms) {
  const fillFor =
    (conn: Connection<ChatConnectionState>): FillGap =>
    (afterSeq) =>
      rooms.changesSince(conn.state.room, afterSeq);
  const inOrder = (conn: Connection<ChatConnectionState>, event: Parameters<typeof admitInOrder>[1]) =>
    admitInOrder(conn, event, fillFor(conn));

  return defineConsumer({
    description:
      "One chat room's live stream: send, edit and delete messages; on connect, every change after `after_seq`, then `synced`, then live changes in seq order.",
    sends: chatServerFrames,
    messages: {
      chat_message: chatClientFrames.chat_message,
      edit_message: chatClientFrames.edit_message,
      delete_message: chatClientFrames.delete_message,
    },

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
          conn.send(change);
          lastSeq = Math.max(lastSeq, change.type === 'message_deleted' ? change.seq : change.message.seq);
        }
      }
      conn.send({ type: 'synced', room: room.slug, last_seq: lastSeq });
      return { room, user, seq: newSequencer(lastSeq) };
    },

    handlers: {
      async chat_message(conn, frame) {
        const { room, user } = conn.state;
        const { message, created } = await rooms.post(room, user, {
          text: frame.message,
          replyTo: frame.reply_to,
          clientId: frame.client_id,
        });
        if (created) conn.afterReply(() => rooms.announce(room, { type: 'chat_message', message }));
        return {
          message_id: message.id,
          seq: message.seq,
          client_id: message.client_id,
          duplicate: !created,
        };
      },

      async edit_message(conn, frame) {
        const { room, user } = conn.state;
        const message = await rooms.edit(room, user, frame.message_id, frame.new_content);
        conn.afterReply(() => rooms.announce(room, { type: 'message_edited', message }));
        return { message_id: message.id, seq: message.seq };
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
        return { message_id: frame.message_id, seq };
      },
    },

    forward: {
      chat_message: inOrder,
      message_edited: inOrder,
      message_deleted: inOrder,
    },

    events: {
      [MEMBER_LEFT]: (conn, event) => {
        if (event.user_id === conn.state.user.id) {
          conn.send({ type: 'error', code: ErrorCode.PERMISSION_DENIED, error: 'You left this room.' });
          conn.close(CloseCode.FORBIDDEN, 'left the room');
        }
      },
    },

    disconnect(conn) {
      stopSequencer(conn.state.seq);
    },
  });
}

function parseAfterSeq(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new WsError(ErrorCode.INVALID_MESSAGE, 'after_seq must be a whole number.', {
      field: 'after_seq',
      closeCode: 4400,
    });
  }
  return Number(raw);
}
