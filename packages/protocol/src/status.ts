/** Frames of `/ws/status/`: presence of the users one shares a room with. */
import { z } from 'zod';
import { id, isoTimestamp } from './common.ts';
import { ref } from './envelope.ts';

export const presenceStatus = z.enum(['online', 'away', 'busy', 'offline']);
export type PresenceStatus = z.infer<typeof presenceStatus>;

export const statusUpdate = z.strictObject({
  type: z.literal('status_update'),
  status: presenceStatus,
  ref: ref.optional(),
});

export const statusClientFrames = { status_update: statusUpdate } as const;

/** One user's presence: `last_seen` is null while they are online, the time they left otherwise. */
export const userStatus = z.object({
  user_id: id,
  username: z.string(),
  status: presenceStatus,
  last_seen: isoTimestamp.nullable(),
});
export type UserStatus = z.infer<typeof userStatus>;

export const userStatusEvent = z.object({ type: z.literal('user_status'), ...userStatus.shape });
/** Sent once on connect: the current status of the user and of everyone who shares a room with them. */
export const statusSnapshotEvent = z.object({
  type: z.literal('status_snapshot'),
  users: z.array(userStatus),
});

export const statusServerFrames = {
  user_status: userStatusEvent,
  status_snapshot: statusSnapshotEvent,
} as const;
