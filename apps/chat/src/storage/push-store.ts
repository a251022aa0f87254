/** Web Push subscriptions: the browser endpoints (and their keys) a user's notifications go to. */
import type { Kysely } from 'kysely';
import { withConstraintErrors } from './db-errors.ts';
import { toPushSubscription } from './rows.ts';
import type { Database } from './schema.ts';
import type { Storage } from './storage.ts';

export type PushStore = Pick<
  Storage,
  'savePushSubscription' | 'pushSubscriptionsOf' | 'deletePushSubscription'
>;

export function pushStore(db: Kysely<Database>): PushStore {
  return {
    /** An endpoint belongs to one browser: re-subscribing moves it to the user who did it last. */
    async savePushSubscription(userId: number, sub: { endpoint: string; p256dh: string; auth: string }) {
      await withConstraintErrors({ foreignKey: 'User not found.' }, () =>
        db
          .insertInto('push_subscriptions')
          .values({
            user_id: userId,
            endpoint: sub.endpoint,
            p256dh: sub.p256dh,
            auth: sub.auth,
            created_at: new Date().toISOString(),
          })
          .onConflict((oc) =>
            oc.column('endpoint').doUpdateSet({ user_id: userId, p256dh: sub.p256dh, auth: sub.auth }),
          )
          .execute(),
      );
    },

    async pushSubscriptionsOf(userId: number) {
      const rows = await db
        .selectFrom('push_subscriptions')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('id')
        .execute();
      return rows.map(toPushSubscription);
    },

    /** Called when the push service says the endpoint is gone, or the user unsubscribes. */
    async deletePushSubscription(endpoint: string) {
      await db.deleteFrom('push_subscriptions').where('endpoint', '=', endpoint).execute();
    },
  };
}
