/**
 * Extension point: who in this room is around, as dots in the room header (from the shared
 * `/ws/status/` socket; the member list comes with the room's read positions).
 */
import type { UserStatus } from '@switchboard/protocol';
import { useSyncExternalStore } from 'react';
import { currentStatuses, subscribeStatuses } from './status-store.ts';
import { useSignals } from './use-signals.ts';

const DOTS_SHOWN = 6;
const RANK: Record<UserStatus['status'], number> = { online: 0, busy: 1, away: 2, offline: 3 };

export function RoomPresence(_props: { room: string }) {
  const statuses = useSyncExternalStore(subscribeStatuses, currentStatuses);
  const members = useSignals()?.members() ?? [];
  if (members.length === 0) return null;
  const people = members
    .map((user) => ({
      user,
      status: statuses.get(user.id)?.status ?? 'offline',
      seen: statuses.get(user.id),
    }))
    .sort((a, b) => RANK[a.status] - RANK[b.status] || a.user.username.localeCompare(b.user.username));
  const around = people.filter((p) => p.status !== 'offline').length;
  return (
    <div className="room-presence" data-testid="room-presence">
      <ul aria-label="Members">
        {people.slice(0, DOTS_SHOWN).map(({ user, status, seen }) => (
          <li key={user.id} title={describe(user.username, status, seen?.last_seen ?? null)}>
            <span className={`presence-dot ${status}`} aria-hidden="true" />
            <span className="presence-name">{user.username}</span>
            <span className="visually-hidden"> ({status})</span>
          </li>
        ))}
      </ul>
      <span className="presence-count">{around} online</span>
    </div>
  );
}

function describe(username: string, status: string, lastSeen: string | null): string {
  if (status !== 'offline' || !lastSeen) return `${username}: ${status}`;
  return `${username}: last seen ${new Date(lastSeen).toLocaleString()}`;
}
