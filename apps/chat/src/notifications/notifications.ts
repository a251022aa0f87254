/**
 * Notifications: stored per user, delivered live to the user's notification sockets on every
 * node through the channel layer (so any code — an HTTP handler, a timer — can send one), and
 * by Web Push when the user has no socket open at all.
 *
 * Every change of a user's unread count is followed by an `unread_count` to all their sockets,
 * so several devices agree. The count travels in the layer message: one query per change, not
 * one per socket.
 */
import { ErrorCode, type Notification } from '@switchboard/protocol';
import { type ChannelLayer, WsError } from '@switchboard/server';
import { userGroup } from '../domain/groups.ts';
import type { NewNotification, Storage, UserNotification } from '../storage/storage.ts';

export interface PushDelivery {
  /** Queues `notifications` for the user's push subscriptions; never throws. */
  deliver(userId: number, notifications: Notification[]): void;
}

export interface OnlineCheck {
  isOnline(userId: number): Promise<boolean>;
}

export class Notifications {
  constructor(
    private readonly storage: Storage,
    private readonly layer: ChannelLayer,
    private readonly online: OnlineCheck,
    private readonly push: PushDelivery,
  ) {}

  /** Stores one notification and delivers it (the send-from-anywhere entry point). */
  async send(input: NewNotification): Promise<Notification> {
    const notification = await this.storage.createNotification(input);
    await this.deliver(input.userId, [notification]);
    return notification;
  }

  /** Sends `content` to each user who has no unread notification like it yet. */
  async sendOnce(userIds: number[], content: Omit<NewNotification, 'userId'>): Promise<void> {
    if (userIds.length === 0) return;
    const created = await this.storage.createNotificationsOnce(userIds, content);
    await Promise.all(created.map(({ userId, notification }) => this.deliver(userId, [notification])));
  }

  /** Sets the text of a message's notifications of `category` (an edit, a delete) on every device. */
  async retext(messageId: number, category: string, text: string): Promise<void> {
    await this.announceUpdates(await this.storage.retextNotifications(messageId, category, text));
  }

  /** A user left a private room: their notifications from it no longer show its messages. */
  async redactRoom(roomId: number, userId: number): Promise<void> {
    await this.announceUpdates(await this.storage.redactRoomNotifications(roomId, userId));
  }

  private async announceUpdates(changed: UserNotification[]): Promise<void> {
    for (const { userId, notification } of changed) {
      await this.layer.groupSend(userGroup(userId), { type: 'notification_updated', notification });
    }
  }

  async list(userId: number, beforeId: number | null, limit: number): Promise<Notification[]> {
    return this.storage.listNotifications(userId, beforeId, limit);
  }

  unreadCount(userId: number): Promise<number> {
    return this.storage.unreadNotificationCount(userId);
  }

  /** Marks one of the user's own notifications read; anyone else's is "not found". */
  async markRead(userId: number, notificationId: number): Promise<number> {
    if (!(await this.storage.markNotificationRead(userId, notificationId))) {
      throw new WsError(ErrorCode.NOT_FOUND, 'Notification not found.', { field: 'notification_id' });
    }
    return this.announceCount(userId);
  }

  async markAllRead(userId: number): Promise<number> {
    await this.storage.markAllNotificationsRead(userId);
    return this.announceCount(userId);
  }

  private async deliver(userId: number, notifications: Notification[]): Promise<void> {
    const group = userGroup(userId);
    for (const notification of notifications) {
      await this.layer.groupSend(group, { type: 'notification', notification });
    }
    await this.announceCount(userId);
    if (!(await this.online.isOnline(userId))) this.push.deliver(userId, notifications);
  }

  private async announceCount(userId: number): Promise<number> {
    const count = await this.storage.unreadNotificationCount(userId);
    await this.layer.groupSend(userGroup(userId), { type: 'unread_count', count });
    return count;
  }
}
