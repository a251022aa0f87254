/**
 * Notifications remember the message and room they were made from, so that deleting or editing
 * the message, or leaving a private room, can take its text out of them again.
 */
import type { Kysely, Migration } from 'kysely';

export function notificationSources(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('notifications')
        .addColumn('room_id', 'integer', (c) => c.references('rooms.id').onDelete('cascade'))
        .execute();
      await db.schema
        .alterTable('notifications')
        .addColumn('message_id', 'integer', (c) => c.references('messages.id'))
        .execute();
      await db.schema.createIndex('notifications_message').on('notifications').column('message_id').execute();
      await db.schema
        .createIndex('notifications_room_user')
        .on('notifications')
        .columns(['room_id', 'user_id'])
        .execute();
    },
  };
}
