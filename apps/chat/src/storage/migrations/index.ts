/**
 * The schema's history, in code (no migration files to locate at run time). Append new migrations;
 * never edit one that has shipped. Names sort in the order they apply.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { initialSchema } from './0001-initial-schema.ts';
import { accountStanding } from './0002-account-standing.ts';
import { notificationSources } from './0003-notification-sources.ts';
import { filesByUploader } from './0004-files-by-uploader.ts';
import { documentsSchema } from './0005-documents.ts';

export type SqlDialect = 'sqlite' | 'postgres';

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '0001-initial-schema': initialSchema(dialect),
        '0002-account-standing': accountStanding(),
        '0003-notification-sources': notificationSources(),
        '0004-files-by-uploader': filesByUploader(),
        '0005-documents': documentsSchema(dialect),
      };
    },
  };
}
