/**
 * The user's rooms with unread counts. Refreshed on a timer, when the window regains focus, and
 * on demand (after creating, joining or leaving a room).
 */
import type { RoomSummary } from '@switchboard/client';
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { api } from '../app/session.ts';

const REFRESH_MS = 15_000;

export interface Rooms {
  list: RoomSummary[] | null;
  error: string | null;
  reload: () => void;
}

export function useRooms(): Rooms {
  const [list, setList] = useState<RoomSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(() => {
    api.rooms().then(
      (rooms) => {
        setList(rooms);
        setError(null);
      },
      (caught: unknown) => setError(errorText(caught)),
    );
  }, []);

  useEffect(() => {
    reload();
    const timer = setInterval(reload, REFRESH_MS);
    window.addEventListener('focus', reload);
    window.addEventListener('online', reload);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', reload);
      window.removeEventListener('online', reload);
    };
  }, [reload]);

  return { list, error, reload };
}
