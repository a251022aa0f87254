/**
 * Collaborative documents (Yjs): one row per document of a room, holding the compacted snapshot,
 * and its append-only updates since that snapshot. Bytes are `blob` in SQLite and `bytea` in
 * PostgreSQL; both drivers read them back as a Buffer.
 */
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { SqlDialect } from './index.ts';

export function documentsSchema(dialect: SqlDialect): Migration {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  const id =
    dialect === 'sqlite'
      ? (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement()
      : (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity();
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('documents')
        .addColumn('id', 'integer', id)
        .addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('read_only', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('snapshot', bytes)
        .addColumn('size_bytes', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('pending_updates', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('compactions', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('documents_room_name', ['room_id', 'name'])
        .execute();
      await db.schema
        .createTable('document_updates')
        .addColumn('id', 'integer', id)
        .addColumn('document_id', 'integer', (c) =>
          c.notNull().references('documents.id').onDelete('cascade'),
        )
        .addColumn('data', bytes, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('document_updates_document')
        .on('document_updates')
        .columns(['document_id', 'id'])
        .execute();
    },
  };
}
