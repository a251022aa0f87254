/**
 * A room's messages: appending new ones, reading them back (by id, by the client's id, as history
 * pages), editing and deleting them, and replaying the change log to a resuming client.
 *
 * Every write here is a change to the room's history, so it takes the room's next seq through
 * change-log.ts. Appends go through group commit (append-messages.ts): one transaction, one durable
 * sync, for every message that arrived while the previous batch was being written.
 */
import type { Kysely } from 'kysely';
import type { AppendQueue } from './append-messages.ts';
import { changeMessage } from './change-log.ts';
import { pageSize } from './paging.ts';
import { selectMessages, toChatMessage, toRoomChange } from './rows.ts';
import type { Database } from './schema.ts';
import type { NewMessage, Storage } from './storage.ts';

export type MessageLog = Pick<
  Storage,
  | 'appendMessage'
  | 'findMessage'
  | 'findMessageByClientId'
  | 'editMessage'
  | 'deleteMessage'
  | 'history'
  | 'changesSince'
>;

export function messageLog(db: Kysely<Database>, appends: AppendQueue): MessageLog {
  return {
    appendMessage(input: NewMessage) {
      return appends.submit(input);
    },

    async findMessage(id: number) {
      const row = await selectMessages(db).where('m.id', '=', id).executeTakeFirst();
      return row && toChatMessage(row);
    },

    async findMessageByClientId(authorId: number, clientId: string) {
      const row = await selectMessages(db)
        .where('m.author_id', '=', authorId)
        .where('m.client_id', '=', clientId)
        .executeTakeFirst();
      return row && toChatMessage(row);
    },

    /** The returned message carries the edit's seq, as the `message_edited` frame does. */
    async editMessage(messageId: number, content: string) {
      return db.transaction().execute(async (trx) => {
        const { seq } = await changeMessage(trx, messageId, 'edited', { content, edited: 1 });
        const row = await selectMessages(trx).where('m.id', '=', messageId).executeTakeFirstOrThrow();
        return { ...toChatMessage(row), seq };
      });
    },

    /** Leaves a tombstone: the text and attachments are erased, the id and place in history stay. */
    async deleteMessage(messageId: number) {
      return db.transaction().execute(async (trx) => {
        const { seq, roomSlug } = await changeMessage(trx, messageId, 'deleted', {
          content: '',
          attachments: '[]',
          deleted: 1,
        });
        return { seq, roomSlug };
      });
    },

    /** Messages keep the seq of their creation here: their place in the room's history. */
    async history(roomId: number, beforeSeq: number | null, limit: number) {
      const rows = await selectMessages(db)
        .where('m.room_id', '=', roomId)
        .$if(beforeSeq !== null, (qb) => qb.where('m.seq', '<', beforeSeq!))
        .orderBy('m.seq', 'desc')
        .limit(pageSize(limit))
        .execute();
      return rows.map(toChatMessage);
    },

    /** Each entry shows the message as it is now; see toRoomChange. */
    async changesSince(roomId: number, afterSeq: number, limit: number) {
      const rows = await selectMessages(db)
        .innerJoin('room_changes as c', 'c.message_id', 'm.id')
        .select(['c.seq as change_seq', 'c.kind'])
        .where('c.room_id', '=', roomId)
        .where('c.seq', '>', afterSeq)
        .orderBy('c.seq')
        .limit(pageSize(limit))
        .execute();
      return rows.map(toRoomChange);
    },
  };
}
