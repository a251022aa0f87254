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

export const userStatusEvent = z.object({
  type: z.literal('user_status'),
  user_id: id,
  username: z.string(),
  status: presenceStatus,
  last_seen: isoTimestamp.nullable(),
});

export const statusServerFrames = { user_status: userStatusEvent } as const;
