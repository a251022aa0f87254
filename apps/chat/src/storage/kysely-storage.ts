/**
 * The storage contract, written once in Kysely for both dialects; `open-storage.ts` builds it over
 * SQLite or PostgreSQL, and nothing below depends on which.
 *
 * The facade owns the lifecycle (migrations, the append queue, the connection) and composes one
 * module per concern, each of which implements its slice of `Storage` and nothing else:
 *
 *   user-store.ts          users and account standing (status, token revocation, admins)
 *   room-store.ts          rooms and membership
 *   message-log.ts         messages: append, history, edit/delete, change-log replay
 *     append-messages.ts     group commit of new messages
 *     change-log.ts          every change's seq and change-log row
 *   receipt-store.ts       read positions
 *   notification-store.ts  notifications
 *   file-store.ts          uploaded files' records
 *   push-store.ts          Web Push subscriptions
 *
 * Why compose rather than a class that forwards each of ~40 calls: the forwarding would write every
 * signature a third time (interface, module, facade) and bury the map above under boilerplate.
 * The spread is kept honest by the types: each module returns an object literal typed by its own
 * slice (`Pick<Storage, …>`), so it cannot bring a method it does not own (excess-property check),
 * and this function's `Storage` return type fails to compile if any method is missing. The modules
 * close over `db` and never use `this`, since the result is a plain object.
 */
import { type Kysely, Migrator, sql } from 'kysely';
import { appendQueue } from './append-messages.ts';
import { fileStore } from './file-store.ts';
import { messageLog } from './message-log.ts';
import { migrationProvider, type SqlDialect } from './migrations/index.ts';
import { notificationStore } from './notification-store.ts';
import { pushStore } from './push-store.ts';
import { receiptStore } from './receipt-store.ts';
import { roomStore } from './room-store.ts';
import type { Database } from './schema.ts';
import type { Storage } from './storage.ts';
import { userStore } from './user-store.ts';

export function kyselyStorage(db: Kysely<Database>, dialect: SqlDialect): Storage {
  const appends = appendQueue(db);
  return {
    dialect,

    async migrate() {
      const { error } = await new Migrator({ db, provider: migrationProvider(dialect) }).migrateToLatest();
      if (error) throw error;
    },

    /** Appends already accepted are committed (or fail) before the connection goes. */
    async close() {
      await appends.close();
      await db.destroy();
    },

    async ping() {
      await sql`select 1`.execute(db);
    },

    ...userStore(db),
    ...roomStore(db),
    ...messageLog(db, appends),
    ...receiptStore(db),
    ...notificationStore(db),
    ...fileStore(db),
    ...pushStore(db),
  };
}
