/**
 * Extension point: the notification bell in the sidebar header. A `/ws/notifications/` socket
 * keeps the unread count live; opening the bell lists the newest notifications (REST, paged),
 * new ones appear as they arrive, and a click marks one read and follows its link.
 */
import {
  endpointUrl,
  type NotificationClientFrame,
  type NotificationServerFrame,
  SwitchboardConnection,
} from '@switchboard/client';
import type { Notification } from '@switchboard/protocol';
import { useEffect, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { api } from '../app/session.ts';
import { BellIcon } from './icons.tsx';
import { getJson } from './live-api.ts';
import { PushToggle } from './PushToggle.tsx';
import './live.css';
import { FormError } from '../app/FormError.tsx';

const PAGE = 20;

interface Page {
  notifications: Notification[];
  next_before_id: number | null;
  unread_count: number;
}

type Bell = SwitchboardConnection<NotificationClientFrame, NotificationServerFrame>;

export function NotificationBell() {
  const [connection, setConnection] = useState<Bell | null>(null);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<Notification[] | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const bell: Bell = new SwitchboardConnection({
      url: endpointUrl(location.origin, '/ws/notifications/'),
      token: () => api.accessToken(),
      refreshToken: () => api.refreshAccessToken(),
      outbox: { key: `${api.session?.username ?? ''}/notifications` },
    });
    bell.on('unread_count', (frame) => setUnread(frame.count));
    bell.on('notification', (frame) =>
      setList(
        (current) =>
          current && [frame.notification, ...current.filter((n) => n.id !== frame.notification.id)],
      ),
    );
    // The message it quoted was edited or deleted, or its private room left: show the new text.
    bell.on('notification_updated', (frame) =>
      setList(
        (current) => current?.map((n) => (n.id === frame.notification.id ? frame.notification : n)) ?? null,
      ),
    );
    bell.connect();
    setConnection(bell);
    return () => bell.close();
  }, []);

  async function load(before: number | null) {
    setError(null);
    try {
      const query = before === null ? `?limit=${PAGE}` : `?limit=${PAGE}&before_id=${before}`;
      const page = await getJson<Page>(`/api/notifications/${query}`);
      setList((current) =>
        before === null ? page.notifications : [...(current ?? []), ...page.notifications],
      );
      setCursor(page.next_before_id);
      setUnread(page.unread_count);
    } catch (caught) {
      setError(errorText(caught));
    }
  }

  function toggle() {
    if (!open) void load(null);
    setOpen(!open);
  }

  function markRead(notification: Notification) {
    if (notification.read_at === null) {
      connection?.send({ type: 'mark_read', notification_id: notification.id }).catch(() => {});
      const now = new Date().toISOString();
      setList(
        (current) => current?.map((n) => (n.id === notification.id ? { ...n, read_at: now } : n)) ?? null,
      );
    }
    const target = safeLink(notification.url);
    if (target?.sameSite) {
      location.assign(target.href);
      setOpen(false);
    } else if (target) {
      window.open(target.href, '_blank', 'noopener,noreferrer');
    }
  }

  function markAllRead() {
    connection?.send({ type: 'mark_all_read' }).catch(() => {});
    const now = new Date().toISOString();
    setList((current) => current?.map((n) => ({ ...n, read_at: n.read_at ?? now })) ?? null);
  }

  return (
    <div className="notification-bell">
      <button
        type="button"
        className="link-button bell-button"
        aria-expanded={open}
        aria-label={`Notifications, ${unread} unread`}
        data-testid="notification-bell"
        onClick={toggle}
      >
        <BellIcon />
        {unread > 0 && (
          <span className="unread-badge" data-testid="notification-count">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {open && (
        <div className="notification-panel" role="dialog" aria-label="Notifications">
          <header>
            <strong>Notifications</strong>
            <button type="button" className="link-button" onClick={markAllRead} disabled={unread === 0}>
              Mark all read
            </button>
          </header>
          <FormError message={error} />
          {list === null && !error && <p className="sidebar-note">Loading…</p>}
          {list?.length === 0 && <p className="sidebar-note">Nothing yet.</p>}
          <ul>
            {list?.map((notification) => (
              <li key={notification.id} className={notification.read_at ? 'read' : 'unread'}>
                <button type="button" className="notification-item" onClick={() => markRead(notification)}>
                  <span className="notification-title">{notification.title}</span>
                  {notification.message && <span className="notification-text">{notification.message}</span>}
                  <time dateTime={notification.created_at}>
                    {new Date(notification.created_at).toLocaleString()}
                  </time>
                </button>
              </li>
            ))}
          </ul>
          {cursor !== null && (
            <button type="button" className="link-button" onClick={() => void load(cursor)}>
              Older
            </button>
          )}
          <PushToggle />
        </div>
      )}
    </div>
  );
}

/**
 * A notification's link, if it is one to follow: resolved the way the browser will resolve it
 * (`/\evil.example/` is another host), and same-site only if the result has this origin.
 */
function safeLink(url: string | null): { href: string; sameSite: boolean } | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url, location.origin);
  } catch {
    return null; // not a URL: nothing to follow
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  return { href: parsed.href, sameSite: parsed.origin === location.origin };
}
