/**
 * `/ws/status/`: the online status of everyone the user shares a room with. On connect the
 * socket gets a `status_snapshot` (the user and their peers), then a `user_status` whenever one
 * of them comes online, goes offline (after the grace period) or sets a status. `status_update`
 * sets the user's own status (online, away, busy, or offline to appear offline).
 *
 * Like every authenticated socket, a status socket counts as the user being online.
 */
import { statusClientFrames, statusServerFrames } from '@switchboard/protocol';
import { defineConsumer } from '@switchboard/server';
import type { Author } from '../domain/chat-rooms.ts';
import { statusGroup } from '../domain/groups.ts';
import { userOf } from '../domain/principal.ts';
import type { PresenceTracker } from '../presence/presence-tracker.ts';

export interface StatusConnectionState {
  user: Author;
}

export function statusConsumer({ presence }: { presence: PresenceTracker }) {
  return defineConsumer({
    description:
      'Presence of the users who share a room with you: a snapshot on connect, then every change; set your own status.',
    sends: statusServerFrames,
    messages: statusClientFrames,
    rateLimits: { status_update: { limit: 20, windowSeconds: 60 } },

    async connect(conn): Promise<StatusConnectionState> {
      const user = userOf(conn.principal);
      // Join first, then read: a change made meanwhile arrives after the snapshot and wins.
      await conn.groupAdd(statusGroup(user.id));
      await presence.connected(user, conn.id);
      try {
        conn.send({ type: 'status_snapshot', users: await presence.snapshot(user) });
      } catch (error) {
        // A refused connection never reaches disconnect: unregister here.
        await presence.disconnected(user, conn.id);
        throw error;
      }
      return { user };
    },

    handlers: {
      async status_update(conn, frame) {
        await presence.setStatus(conn.state.user, frame.status);
        return { status: frame.status };
      },
    },

    forward: { user_status: true },

    disconnect(conn) {
      return presence.disconnected(conn.state.user, conn.id);
    },
  });
}
