import type { RoomSummary } from '@switchboard/client';
import { roomHref } from '../app/use-hash-route.ts';

interface Props {
  rooms: RoomSummary[] | null;
  error: string | null;
  openSlug: string | null;
}

export function RoomList({ rooms, error, openSlug }: Props) {
  if (!rooms) {
    return <p className="sidebar-note">{error ?? 'Loading rooms…'}</p>;
  }
  if (rooms.length === 0) {
    return <p className="sidebar-note">No rooms yet. Create one or join a public room by its name.</p>;
  }
  return (
    <nav>
      {error && <p className="sidebar-note warning">{error}</p>}
      <ul className="room-list">
        {rooms.map((room) => {
          const open = room.slug === openSlug;
          // The open room is being read right now: its badge would only flicker.
          const unread = open ? 0 : room.unread;
          return (
            <li key={room.slug}>
              <a
                href={roomHref(room.slug)}
                className="room-link"
                aria-current={open ? 'page' : undefined}
                data-testid="room-link"
                data-slug={room.slug}
              >
                <span className="room-icon" aria-hidden="true">
                  {room.is_direct ? '@' : room.is_private ? <LockIcon /> : '#'}
                </span>
                <span className="room-name">{room.name}</span>
                {unread > 0 && (
                  <span className="unread-badge" data-testid="unread">
                    {unread > 99 ? '99+' : unread}
                    <span className="visually-hidden"> unread</span>
                  </span>
                )}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** Drawn rather than an emoji: not every system has an emoji font. */
function LockIcon() {
  return (
    <svg viewBox="0 0 16 16" width="12" height="12" fill="currentColor" aria-hidden="true">
      <path d="M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 13.5v-5A1.5 1.5 0 0 1 3.5 7H4Zm2 0h4V5a2 2 0 1 0-4 0v2Z" />
    </svg>
  );
}
