/** Frames of `/ws/notifications/`. */
import { z } from 'zod';
import { id, isoTimestamp } from './common.ts';
import { ref } from './envelope.ts';

export const notification = z.object({
  id,
  title: z.string(),
  message: z.string(),
  category: z.string(),
  url: z.string().nullable(),
  created_at: isoTimestamp,
  read_at: isoTimestamp.nullable(),
});
export type Notification = z.infer<typeof notification>;

export const markNotificationRead = z.strictObject({
  type: z.literal('mark_read'),
  notification_id: id,
  ref: ref.optional(),
});
export const markAllNotificationsRead = z.strictObject({
  type: z.literal('mark_all_read'),
  ref: ref.optional(),
});

export const notificationClientFrames = {
  mark_read: markNotificationRead,
  mark_all_read: markAllNotificationsRead,
} as const;

export const notificationEvent = z.object({ type: z.literal('notification'), notification });
export const unreadCountEvent = z.object({
  type: z.literal('unread_count'),
  count: z.number().int().nonnegative(),
});

/** A notification's text changed: the message it quoted was edited, deleted, or its room left. */
export const notificationUpdatedEvent = z.object({ type: z.literal('notification_updated'), notification });

export const notificationServerFrames = {
  notification: notificationEvent,
  notification_updated: notificationUpdatedEvent,
  unread_count: unreadCountEvent,
} as const;
