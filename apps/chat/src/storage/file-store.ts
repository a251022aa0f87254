/**
 * Records of uploaded files: which room a file was posted to, who uploaded it, and where its bytes
 * are. The bytes themselves live in the files directory (files/), not in the database.
 */
import type { Kysely } from 'kysely';
import { withConstraintErrors } from './db-errors.ts';
import { fileRow, toStoredFile } from './rows.ts';
import type { Database } from './schema.ts';
import type { Storage, StoredFile } from './storage.ts';

export type FileStore = Pick<Storage, 'saveFile' | 'findFile' | 'uploadedBytes' | 'deleteFile'>;

export function fileStore(db: Kysely<Database>): FileStore {
  return {
    async saveFile(file: StoredFile) {
      const violations = {
        unique: 'A file with that id already exists.',
        foreignKey: 'Room or uploader not found.',
      };
      await withConstraintErrors(violations, () => db.insertInto('files').values(fileRow(file)).execute());
    },

    async findFile(id: string) {
      const row = await db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toStoredFile(row);
    },

    /** What the upload quota counts; SUM comes back as text from PostgreSQL and null for none. */
    async uploadedBytes(userId: number) {
      const row = await db
        .selectFrom('files')
        .select((eb) => eb.fn.sum<number | string | null>('file_size').as('bytes'))
        .where('uploader_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.bytes ?? 0);
    },

    async deleteFile(id: string) {
      await db.deleteFrom('files').where('id', '=', id).execute();
    },
  };
}
