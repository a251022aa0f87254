/** The upload quota sums a user's files on every upload: index them by uploader. */
import type { Kysely, Migration } from 'kysely';

export function filesByUploader(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('files_uploader').on('files').column('uploader_id').execute();
    },
  };
}
