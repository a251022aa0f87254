/** The open room lives in the URL hash (`#/rooms/lobby`), so reload and back/forward keep it. */
import { useSyncExternalStore } from 'react';

const ROOM_PREFIX = '#/rooms/';

export function useOpenRoom(): string | null {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return hash.startsWith(ROOM_PREFIX) ? decodeURIComponent(hash.slice(ROOM_PREFIX.length)) || null : null;
}

export function roomHref(slug: string): string {
  return `${ROOM_PREFIX}${encodeURIComponent(slug)}`;
}

export function openRoom(slug: string | null): void {
  location.hash = slug ? roomHref(slug) : '#/';
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}
