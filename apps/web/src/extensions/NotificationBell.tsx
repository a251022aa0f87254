/**
 * Extension point: the notification bell in the sidebar header (unread count, list, mark read).
 * Renders nothing until the notifications feature lands; it will connect to `/ws/notifications/`
 * with `new SwitchboardConnection<NotificationClientFrame, NotificationServerFrame>(…)`.
 */
export function NotificationBell() {
  return null;
}
