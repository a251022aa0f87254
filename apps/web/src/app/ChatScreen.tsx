/**
 * The signed-in layout: the room sidebar and the open room. On a phone only one of the two is
 * shown (the room when one is open, with a back link to the list).
 */
import { NotificationBell } from '../extensions/NotificationBell.tsx';
import { RoomView } from '../room/RoomView.tsx';
import { RoomActions } from '../rooms/RoomActions.tsx';
import { RoomList } from '../rooms/RoomList.tsx';
import { useRooms } from '../rooms/use-rooms.ts';
import { api } from './session.ts';
import { openRoom, useOpenRoom } from './use-hash-route.ts';

export function ChatScreen({ username }: { username: string }) {
  const openSlug = useOpenRoom();
  const rooms = useRooms();
  const openSummary = rooms.list?.find((room) => room.slug === openSlug);

  return (
    <div className="chat-screen" data-view={openSlug ? 'room' : 'list'}>
      <aside className="sidebar" aria-label="Rooms">
        <header className="sidebar-header">
          <span className="brand">Switchboard</span>
          <NotificationBell />
          <span className="me" data-testid="me">
            {username}
          </span>
          <button type="button" className="link-button" onClick={() => api.signOut()}>
            Sign out
          </button>
        </header>
        <RoomActions
          onOpened={(slug) => {
            rooms.reload();
            openRoom(slug);
          }}
        />
        <RoomList rooms={rooms.list} error={rooms.error} openSlug={openSlug} />
      </aside>
      <main className="room-pane">
        {openSlug ? (
          <RoomView
            key={openSlug}
            slug={openSlug}
            summary={openSummary}
            username={username}
            onMembershipChange={rooms.reload}
          />
        ) : (
          <div className="empty-pane">
            <p>Pick a room on the left, or create one.</p>
          </div>
        )}
      </main>
    </div>
  );
}
