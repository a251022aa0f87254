/**
 * Users and their account standing: sign-up, lookup by name or id, admin rights, last-seen time,
 * and the status and revocation time that decide whether a user's tokens are still honoured.
 */
import { type Kysely, sql } from 'kysely';
import { withConstraintErrors } from './db-errors.ts';
import { toUser, toUserWithSecret } from './rows.ts';
import type { Database } from './schema.ts';
import type { AccountStatus, Storage } from './storage.ts';

export type UserStore = Pick<
  Storage,
  | 'createUser'
  | 'findUserByName'
  | 'findUserById'
  | 'setLastSeen'
  | 'syncAdmins'
  | 'setAccountStatus'
  | 'lastSeen'
>;

/** Usernames are unique and looked up in any case. */
const lowerUsername = sql<string>`lower(username)`;

export function userStore(db: Kysely<Database>): UserStore {
  return {
    async createUser(username: string, passwordHash: string, isAdmin = false) {
      return withConstraintErrors({ unique: 'A user with that username already exists.' }, async () => {
        const row = await db
          .insertInto('users')
          .values({
            username,
            password_hash: passwordHash,
            avatar: null,
            is_admin: isAdmin ? 1 : 0,
            created_at: new Date().toISOString(),
            last_seen: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toUser(row);
      });
    },

    // A deleted account's row stays (its name stays taken, its messages keep their author), but
    // neither lookup finds it: to everything that signs in or resolves a user, it is gone.
    async findUserByName(username: string) {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where(lowerUsername, '=', username.toLowerCase())
        .where('status', '!=', 'deleted')
        .executeTakeFirst();
      return row && toUserWithSecret(row);
    },

    async findUserById(id: number) {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', id)
        .where('status', '!=', 'deleted')
        .executeTakeFirst();
      return row && toUser(row);
    },

    async setLastSeen(userId: number, at: string) {
      await db.updateTable('users').set({ last_seen: at }).where('id', '=', userId).execute();
    },

    async lastSeen(userId: number) {
      const row = await db
        .selectFrom('users')
        .select('last_seen')
        .where('id', '=', userId)
        .executeTakeFirst();
      return row?.last_seen ?? null;
    },

    /** One transaction: a reader sees the old set of admins or the new one, never a mix. */
    async syncAdmins(usernames: readonly string[]) {
      const names = usernames.map((name) => name.toLowerCase());
      await db.transaction().execute(async (tx) => {
        const demote = tx.updateTable('users').set({ is_admin: 0 });
        await (names.length > 0 ? demote.where(lowerUsername, 'not in', names) : demote).execute();
        if (names.length > 0)
          await tx.updateTable('users').set({ is_admin: 1 }).where(lowerUsername, 'in', names).execute();
      });
    },

    async setAccountStatus(userId: number, status: AccountStatus, revokedAt?: string) {
      await db
        .updateTable('users')
        .set({ status, ...(revokedAt === undefined ? {} : { revoked_at: revokedAt }) })
        .where('id', '=', userId)
        .execute();
    },
  };
}
