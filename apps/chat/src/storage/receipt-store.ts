/**
 * Read receipts: how far each member has read a room, as the seq of the last change they saw.
 * A member's position only moves forward, and never past the room's latest change.
 */
import type { Kysely } from 'kysely';
import { pageSize } from './paging.ts';
import { toReadPosition } from './rows.ts';
import type { Database } from './schema.ts';
import { NotFoundError, type Storage } from './storage.ts';

export type ReceiptStore = Pick<Storage, 'markRoomRead' | 'readPositions'>;

export function receiptStore(db: Kysely<Database>): ReceiptStore {
  return {
    /** Keeps the highest seq seen (marks can arrive out of order), capped at the room's last seq. */
    async markRoomRead(roomId: number, userId: number, seq: number) {
      const room = await db
        .selectFrom('rooms')
        .select('last_seq')
        .where('id', '=', roomId)
        .executeTakeFirst();
      if (!room) throw new NotFoundError('Room not found.');
      const target = Math.min(seq, room.last_seq);
      await db
        .updateTable('room_members')
        .set({ last_read_seq: target })
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .where('last_read_seq', '<', target)
        .execute();
      const member = await db
        .selectFrom('room_members')
        .select('last_read_seq')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!member) throw new NotFoundError('Not a member of this room.');
      return member.last_read_seq;
    },

    async readPositions(roomId: number, afterUserId: number | null, limit: number) {
      const rows = await db
        .selectFrom('room_members as rm')
        .innerJoin('users as u', 'u.id', 'rm.user_id')
        .select(['u.id', 'u.username', 'u.avatar', 'rm.last_read_seq'])
        .where('rm.room_id', '=', roomId)
        .$if(afterUserId !== null, (qb) => qb.where('u.id', '>', afterUserId!))
        .orderBy('u.id')
        .limit(pageSize(limit))
        .execute();
      return rows.map(toReadPosition);
    },
  };
}
