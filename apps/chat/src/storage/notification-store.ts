/**
 * A user's notifications: created by services or from chat messages (then linked to the message,
 * so an edit can retext them and leaving a room can empty them), listed newest first, marked read.
 */
import type { Kysely } from 'kysely';
import { withConstraintErrors } from './db-errors.ts';
import { pageSize } from './paging.ts';
import { notificationRow, toNotification, toUserNotification } from './rows.ts';
import type { Database } from './schema.ts';
import type { NewNotification, Storage, UserNotification } from './storage.ts';

export type NotificationStore = Pick<
  Storage,
  | 'createNotification'
  | 'createNotificationsOnce'
  | 'retextNotifications'
  | 'redactRoomNotifications'
  | 'listNotifications'
  | 'markNotificationRead'
  | 'markAllNotificationsRead'
  | 'unreadNotificationCount'
>;

/** Users checked and notified per statement by createNotificationsOnce: bounds the bound parameters. */
const NOTIFY_BATCH = 200;

export function notificationStore(db: Kysely<Database>): NotificationStore {
  return {
    async createNotification(input: NewNotification) {
      return withConstraintErrors({ foreignKey: 'User not found.' }, async () => {
        const row = await db
          .insertInto('notifications')
          .values(notificationRow(input, new Date().toISOString()))
          .returningAll()
          .executeTakeFirstOrThrow();
        return toNotification(row);
      });
    },

    async createNotificationsOnce(userIds: number[], content: Omit<NewNotification, 'userId'>) {
      const created: UserNotification[] = [];
      const wanted = [...new Set(userIds)];
      for (let i = 0; i < wanted.length; i += NOTIFY_BATCH) {
        const batch = wanted.slice(i, i + NOTIFY_BATCH);
        const pending = await db
          .selectFrom('notifications')
          .select('user_id')
          .where('user_id', 'in', batch)
          .where('category', '=', content.category)
          .where((eb) => (content.url === null ? eb('url', 'is', null) : eb('url', '=', content.url)))
          .where('read_at', 'is', null)
          .execute();
        const already = new Set(pending.map((r) => r.user_id));
        const fresh = batch.filter((id) => !already.has(id));
        if (fresh.length === 0) continue;
        const now = new Date().toISOString();
        const rows = await db
          .insertInto('notifications')
          .values(fresh.map((userId) => notificationRow({ ...content, userId }, now)))
          .returningAll()
          .execute();
        created.push(...rows.map(toUserNotification));
      }
      return created;
    },

    // The two below touch only the rows whose text changes, so callers push exactly those again.
    async retextNotifications(messageId: number, category: string, text: string) {
      const rows = await db
        .updateTable('notifications')
        .set({ message: text })
        .where('message_id', '=', messageId)
        .where('category', '=', category)
        .where('message', '<>', text)
        .returningAll()
        .execute();
      return rows.map(toUserNotification);
    },

    async redactRoomNotifications(roomId: number, userId: number) {
      const rows = await db
        .updateTable('notifications')
        .set({ message: '' })
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .where('message', '<>', '')
        .returningAll()
        .execute();
      return rows.map(toUserNotification);
    },

    async listNotifications(userId: number, beforeId: number | null, limit: number) {
      const rows = await db
        .selectFrom('notifications')
        .selectAll()
        .where('user_id', '=', userId)
        .$if(beforeId !== null, (qb) => qb.where('id', '<', beforeId!))
        .orderBy('id', 'desc')
        .limit(pageSize(limit))
        .execute();
      return rows.map(toNotification);
    },

    /** Reading one twice keeps the first read time. */
    async markNotificationRead(userId: number, notificationId: number) {
      const result = await db
        .updateTable('notifications')
        .set((eb) => ({ read_at: eb.fn.coalesce('read_at', eb.val(new Date().toISOString())) }))
        .where('id', '=', notificationId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async markAllNotificationsRead(userId: number) {
      await db
        .updateTable('notifications')
        .set({ read_at: new Date().toISOString() })
        .where('user_id', '=', userId)
        .where('read_at', 'is', null)
        .execute();
    },

    async unreadNotificationCount(userId: number) {
      const row = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', userId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
