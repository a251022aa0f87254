/** Resolves the room a route's `:slug` names. */
import type { Room, Storage } from '../storage/storage.ts';
import { roomNotFound } from './http-error.ts';
import { slugParams } from './input-schemas.ts';

/** The room a `:slug` names; a malformed slug cannot name a room, so it is a 404 as well. */
export async function roomFromParams(storage: Storage, params: unknown): Promise<Room> {
  const parsed = slugParams.safeParse(params);
  const room = parsed.success ? await storage.findRoom(parsed.data.slug) : undefined;
  if (!room) throw roomNotFound();
  return room;
}
