/**
 * Rooms and who is in them: creating and finding rooms, joining and leaving, a user's room list
 * with unread counts, and the people a user shares rooms with (whom presence tells about them).
 */
import { type Kysely, sql } from 'kysely';
import { withConstraintErrors } from './db-errors.ts';
import { pageSize } from './paging.ts';
import { toPeerProfile, toRoom, toRoomSummary } from './rows.ts';
import type { Database } from './schema.ts';
import type { Storage } from './storage.ts';

export type RoomStore = Pick<
  Storage,
  | 'createRoom'
  | 'findRoom'
  | 'addMember'
  | 'removeMember'
  | 'isMember'
  | 'roomsOf'
  | 'publicRooms'
  | 'memberIds'
  | 'roomPeers'
  | 'peerProfiles'
>;

export function roomStore(db: Kysely<Database>): RoomStore {
  /** Ids of the users sharing at least one room with `userId` (`userId` among them). */
  const sharingARoomWith = (userId: number) =>
    db
      .selectFrom('room_members')
      .select('user_id')
      .where('room_id', 'in', db.selectFrom('room_members').select('room_id').where('user_id', '=', userId));

  return {
    /** The host becomes a member in the same transaction: a room never exists without its host. */
    async createRoom(input: {
      slug: string;
      name: string;
      isPrivate: boolean;
      isDirect: boolean;
      hostId: number;
    }) {
      const violations = { unique: 'A room with that slug already exists.', foreignKey: 'User not found.' };
      return withConstraintErrors(violations, () =>
        db.transaction().execute(async (trx) => {
          const now = new Date().toISOString();
          const row = await trx
            .insertInto('rooms')
            .values({
              slug: input.slug,
              name: input.name,
              is_private: input.isPrivate ? 1 : 0,
              is_direct: input.isDirect ? 1 : 0,
              host_id: input.hostId,
              last_seq: 0,
              created_at: now,
            })
            .returningAll()
            .executeTakeFirstOrThrow();
          await trx
            .insertInto('room_members')
            .values({ room_id: row.id, user_id: input.hostId, last_read_seq: 0, joined_at: now })
            .execute();
          return toRoom(row);
        }),
      );
    },

    async findRoom(slug: string) {
      const row = await db.selectFrom('rooms').selectAll().where('slug', '=', slug).executeTakeFirst();
      return row && toRoom(row);
    },

    /** Joining twice is joining once: the second insert does nothing. */
    async addMember(roomId: number, userId: number) {
      await withConstraintErrors({ foreignKey: 'Room or user not found.' }, () =>
        db
          .insertInto('room_members')
          .values({ room_id: roomId, user_id: userId, last_read_seq: 0, joined_at: new Date().toISOString() })
          .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
          .execute(),
      );
    },

    async removeMember(roomId: number, userId: number) {
      const result = await db
        .deleteFrom('room_members')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async isMember(roomId: number, userId: number) {
      const row = await db
        .selectFrom('room_members')
        .select('user_id')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Unread counts others' messages after the member's last read seq; deleted ones no longer count. */
    async roomsOf(userId: number, afterId: number | null, limit: number) {
      const rows = await db
        .selectFrom('room_members as rm')
        .innerJoin('rooms as r', 'r.id', 'rm.room_id')
        .selectAll('r')
        .select('rm.last_read_seq')
        .select((eb) =>
          eb
            .selectFrom('messages as m')
            .select(eb.fn.countAll().as('n'))
            .whereRef('m.room_id', '=', 'r.id')
            .whereRef('m.seq', '>', 'rm.last_read_seq')
            .where('m.author_id', '<>', userId)
            .where('m.deleted', '=', 0)
            .as('unread'),
        )
        .where('rm.user_id', '=', userId)
        .$if(afterId !== null, (qb) => qb.where('r.id', '>', afterId!))
        .orderBy('r.id')
        .limit(pageSize(limit))
        .execute();
      return rows.map(toRoomSummary);
    },

    async publicRooms(query: string, afterId: number | null, limit: number) {
      // LIKE's own wildcards in the query are matched literally.
      const pattern = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      let select = db
        .selectFrom('rooms')
        .selectAll()
        .where('is_private', '=', 0)
        .where('is_direct', '=', 0)
        .where((eb) =>
          eb.or([
            eb(sql`lower(name)`, 'like', sql`${pattern} escape '\\'`),
            eb(sql`lower(slug)`, 'like', sql`${pattern} escape '\\'`),
          ]),
        )
        .orderBy('id')
        .limit(pageSize(limit));
      if (afterId !== null) select = select.where('id', '>', afterId);
      return (await select.execute()).map(toRoom);
    },

    async memberIds(roomId: number) {
      const rows = await db
        .selectFrom('room_members')
        .select('user_id')
        .where('room_id', '=', roomId)
        .orderBy('user_id')
        .execute();
      return rows.map((r) => r.user_id);
    },

    async roomPeers(userId: number) {
      const rows = await sharingARoomWith(userId)
        .distinct()
        .where('user_id', '<>', userId)
        .orderBy('user_id')
        .execute();
      return rows.map((r) => r.user_id);
    },

    async peerProfiles(userId: number, limit: number) {
      const rows = await db
        .selectFrom('users')
        .select(['id', 'username', 'avatar', 'last_seen'])
        .where('id', 'in', sharingARoomWith(userId))
        .where('id', '<>', userId)
        .orderBy('id')
        .limit(pageSize(limit))
        .execute();
      return rows.map(toPeerProfile);
    },
  };
}
