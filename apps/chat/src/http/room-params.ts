/**
 * Resolves the room a route's `:slug` names, as the signed-in user may see it. A private room the
 * user is not in answers exactly like a missing one (404 CHANNEL_NOT_FOUND, same body), so an
 * outsider cannot probe which private room names exist. A public room is no secret: its
 * non-members are told to join (403).
 */
import type { Room, Storage } from '../storage/storage.ts';
import { forbidden, roomNotFound } from './http-error.ts';
import { slugParams } from './input-schemas.ts';

/** The room and whether `userId` is in it; a malformed slug cannot name a room, so it is a 404 too. */
export async function visibleRoom(
  storage: Storage,
  params: unknown,
  userId: number,
): Promise<{ room: Room; member: boolean }> {
  const parsed = slugParams.safeParse(params);
  const room = parsed.success ? await storage.findRoom(parsed.data.slug) : undefined;
  if (!room) throw roomNotFound();
  const member = await storage.isMember(room.id, userId);
  if (room.isPrivate && !member) throw roomNotFound();
  return { room, member };
}

/** The room, for a route only its members may use; `refusal` tells a public room's outsider why not. */
export async function memberRoom(
  storage: Storage,
  params: unknown,
  userId: number,
  refusal: string,
): Promise<Room> {
  const { room, member } = await visibleRoom(storage, params, userId);
  if (!member) throw forbidden(refusal);
  return room;
}
