/**
 * The first schema. The same migration runs on both dialects; the only difference is how an
 * auto-increment id is spelled, which `idColumn` hides.
 */
import { type ColumnDefinitionBuilder, type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialect } from './index.ts';

export function initialSchema(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const idColumn = autoIncrementId(dialect);

      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', idColumn)
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('avatar', 'text')
        .addColumn('is_admin', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text')
        .execute();
      // Usernames are unique regardless of case, so "Alice" cannot impersonate "alice".
      await db.schema
        .createIndex('users_username_lower')
        .on('users')
        .expression(sql`lower(username)`)
        .unique()
        .execute();

      await db.schema
        .createTable('rooms')
        .addColumn('id', 'integer', idColumn)
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('is_private', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('is_direct', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('host_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('room_members')
        .addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('last_read_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('joined_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('room_members_pk', ['room_id', 'user_id'])
        .execute();
      await db.schema.createIndex('room_members_user').on('room_members').column('user_id').execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'integer', idColumn)
        .addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('author_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('reply_to', 'integer', (c) => c.references('messages.id'))
        .addColumn('client_id', 'text')
        .addColumn('attachments', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('edited', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('created_at', 'text', (c) => c.notNull())
        // The room's history in order; also proves no two messages share a seq.
        .addUniqueConstraint('messages_room_seq', ['room_id', 'seq'])
        // Idempotent resends: NULL client ids never conflict, in both dialects.
        .addUniqueConstraint('messages_author_client_id', ['author_id', 'client_id'])
        .execute();

      await db.schema
        .createTable('room_changes')
        .addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('created', 'edited', 'deleted')`))
        .addColumn('message_id', 'integer', (c) => c.notNull().references('messages.id'))
        .addPrimaryKeyConstraint('room_changes_pk', ['room_id', 'seq'])
        .execute();

      await db.schema
        .createTable('notifications')
        .addColumn('id', 'integer', idColumn)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('read_at', 'text')
        .execute();
      await db.schema
        .createIndex('notifications_user_id')
        .on('notifications')
        .columns(['user_id', 'id'])
        .execute();

      await db.schema
        .createTable('files')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('uploader_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('file_type', 'text', (c) => c.notNull())
        .addColumn('file_size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('storage_path', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('push_subscriptions')
        .addColumn('id', 'integer', idColumn)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('endpoint', 'text', (c) => c.notNull().unique())
        .addColumn('p256dh', 'text', (c) => c.notNull())
        .addColumn('auth', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('push_subscriptions_user')
        .on('push_subscriptions')
        .column('user_id')
        .execute();
    },
  };
}

/**
 * SQLite: AUTOINCREMENT so ids are never reused (clients cache them). PostgreSQL: an identity column.
 */
function autoIncrementId(dialect: SqlDialect) {
  return dialect === 'sqlite'
    ? (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()
    : (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity();
}
