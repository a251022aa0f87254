/**
 * The live-feature context of an open room: wraps the room view so the extension components
 * inside it (typing, receipts, presence, attachments) share one RoomSignals, and reports key
 * presses in the room's text box as typing. Renders no box of its own (`display: contents`).
 */
import type { ChatRoomConnection } from '@switchboard/client';
import { createContext, type FormEvent, type ReactNode, useContext, useEffect, useState } from 'react';
import { RoomSignals } from './room-signals.ts';
import './live.css';

const LiveRoomContext = createContext<RoomSignals | null>(null);

interface Props {
  slug: string;
  connection: ChatRoomConnection | null;
  username: string;
  children: ReactNode;
}

export function LiveRoom({ slug, connection, username, children }: Props) {
  const [signals, setSignals] = useState<RoomSignals | null>(null);
  useEffect(() => {
    const created = new RoomSignals(slug, connection, username);
    setSignals(created);
    return () => created.dispose();
  }, [slug, connection, username]);

  // The composer is the room's only text area; editing the invite field is not typing a message.
  const onInput = (event: FormEvent) => {
    if (event.target instanceof HTMLTextAreaElement) signals?.keystroke();
  };
  return (
    <LiveRoomContext.Provider value={signals}>
      <div className="live-room" onInput={onInput}>
        {children}
      </div>
    </LiveRoomContext.Provider>
  );
}

/** The open room's signals, or null outside a LiveRoom (the extensions then render nothing). */
export function useRoomSignals(): RoomSignals | null {
  return useContext(LiveRoomContext);
}
