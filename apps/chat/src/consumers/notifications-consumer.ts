/**
 * `/ws/notifications/`: one user's notifications, live. On connect the socket joins the user's
 * group (`user.<id>`, reachable from any node and any code through the channel layer) and gets
 * the unread count; then every new notification and every change of the count, on all of the
 * user's devices. The client marks one or all read.
 */
import { notificationClientFrames, notificationServerFrames } from '@switchboard/protocol';
import { defineConsumer } from '@switchboard/server';
import type { Author } from '../domain/chat-rooms.ts';
import { userGroup } from '../domain/groups.ts';
import { userOf } from '../domain/principal.ts';
import type { Notifications } from '../notifications/notifications.ts';
import type { PresenceTracker } from '../presence/presence-tracker.ts';

export interface NotificationsConnectionState {
  user: Author;
}

export function notificationsConsumer({
  notifications,
  presence,
}: {
  notifications: Notifications;
  presence: PresenceTracker;
}) {
  return defineConsumer({
    description:
      "One user's notifications: the unread count on connect, then every new notification and count change; mark one or all read.",
    sends: notificationServerFrames,
    messages: notificationClientFrames,

    async connect(conn): Promise<NotificationsConnectionState> {
      const user = userOf(conn.principal);
      // Join first, then count: a notification stored meanwhile brings its own newer count.
      await conn.groupAdd(userGroup(user.id));
      conn.send({ type: 'unread_count', count: await notifications.unreadCount(user.id) });
      await presence.connected(user, conn.id);
      return { user };
    },

    handlers: {
      async mark_read(conn, frame) {
        const count = await notifications.markRead(conn.state.user.id, frame.notification_id);
        return { notification_id: frame.notification_id, unread_count: count };
      },
      async mark_all_read(conn) {
        return { unread_count: await notifications.markAllRead(conn.state.user.id) };
      },
    },

    forward: { notification: true, notification_updated: true, unread_count: true },

    disconnect(conn) {
      return presence.disconnected(conn.state.user, conn.id);
    },
  });
}
