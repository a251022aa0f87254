/**
 * The signed-in user: one SwitchboardApi for the whole app, its token pair kept in localStorage so
 * a reload stays signed in, and a hook that re-renders when the session changes.
 */
import { type Session, SwitchboardApi } from '@switchboard/client';
import { useSyncExternalStore } from 'react';

const STORAGE_KEY = 'switchboard:session';
const listeners = new Set<() => void>();

export const api = new SwitchboardApi({
  session: loadSession(),
  onSessionChange(session) {
    try {
      if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Storage disabled: the session lasts as long as the page.
    }
    for (const listener of listeners) listener();
  },
});

export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, () => api.session);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function loadSession(): Session | null {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Session> | null;
    if (
      saved &&
      typeof saved.username === 'string' &&
      typeof saved.access === 'string' &&
      typeof saved.refresh === 'string'
    ) {
      return { username: saved.username, access: saved.access, refresh: saved.refresh };
    }
  } catch {
    // A damaged entry means signed out.
  }
  return null;
}
