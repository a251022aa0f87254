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
                  {room.is_direct ? '@' : room.is_private ? '🔒' : '#'}
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
