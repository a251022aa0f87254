import type { Principal } from '@switchboard/server';
import type { Author } from './chat-rooms.ts';

declare module '@switchboard/server' {
  interface Principal {
    /** Set by the chat server's authenticator. */
    username?: string;
  }
}

/** The chat user behind an authenticated connection (the authenticator puts a numeric id there). */
export function userOf(principal: Principal): Author {
  return { id: Number(principal.id), username: principal.username ?? String(principal.id) };
}
