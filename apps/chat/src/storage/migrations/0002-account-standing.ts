/**
 * Accounts can be disabled and deleted, and their tokens revoked: `status` says whether the
 * account may sign in at all, `revoked_at` refuses every token issued before it (also after the
 * account is enabled again, so a token stolen before the disable stays dead).
 */
import { type Kysely, type Migration, sql } from 'kysely';

export function accountStanding(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('users')
        .addColumn('status', 'text', (c) =>
          c.notNull().defaultTo('active').check(sql`status in ('active', 'disabled', 'deleted')`),
        )
        .execute();
      await db.schema.alterTable('users').addColumn('revoked_at', 'text').execute();
    },
  };
}
