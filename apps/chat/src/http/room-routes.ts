/** Rooms and membership: create, list, join, invite, leave, and direct rooms between two users. */
import type { FastifyPluginAsync } from 'fastify';
import type { Room, Storage } from '../storage/storage.ts';
import { ConflictError } from '../storage/storage.ts';
import { currentUser } from './authenticate.ts';
import { forbidden, invalidInput, notFound, tooManyRequests } from './http-error.ts';
import { DIRECT_SLUG_PREFIX, listQuery, newRoom, publicRoomsQuery, userByName } from './input-schemas.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';
import { freshRoomJson, roomJson } from './room-json.ts';
import { memberRoom, visibleRoom } from './room-params.ts';

export const roomRoutes: FastifyPluginAsync<RestDeps> = async (api, deps) => {
  const { storage, rooms, rateLimiter, roomsPerHour } = deps;
  /** Rooms a user creates (named or direct) per rolling hour: a script cannot fill the database. */
  const countNewRoom = async (userId: number) => {
    if (!rateLimiter || !roomsPerHour) return;
    const decision = await rateLimiter.hit(`rooms-created:${userId}`, roomsPerHour, 3600);
    if (!decision.allowed) throw tooManyRequests(decision.retryAfterSeconds, 'new rooms');
  };
  api.get('/rooms/', async (request) => {
    const { after_id, limit } = parseInput(listQuery, request.query);
    // One extra row tells whether another page exists, so the last page says null.
    const rows = await storage.roomsOf(currentUser(request).userId, after_id ?? null, limit + 1);
    const page = rows.slice(0, limit);
    return {
      rooms: page.map(roomJson),
      next_after_id: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  });

  /** The directory of public rooms, so a room can be found without knowing its slug. */
  api.get('/rooms/public/', async (request) => {
    const { q, after_id, limit } = parseInput(publicRoomsQuery, request.query);
    const rows = await storage.publicRooms(q, after_id ?? null, limit + 1);
    const page = rows.slice(0, limit);
    return {
      rooms: page.map((room) => ({ id: room.id, slug: room.slug, name: room.name })),
      next_after_id: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  });

  api.post('/rooms/', async (request, reply) => {
    const input = parseInput(newRoom, request.body);
    await countNewRoom(currentUser(request).userId);
    const room = await storage.createRoom({
      slug: input.slug,
      name: input.name,
      isPrivate: input.private ?? false,
      isDirect: false,
      hostId: currentUser(request).userId,
    });
    return reply.status(201).send(freshRoomJson(room));
  });

  api.post('/rooms/:slug/join/', async (request) => {
    const me = currentUser(request).userId;
    // A private room one is not invited to cannot be joined, nor told apart from a missing one.
    const { room, member } = await visibleRoom(storage, request.params, me);
    if (!member) await storage.addMember(room.id, me);
    return summaryFor(storage, me, room);
  });

  api.post('/rooms/:slug/members/', async (request) => {
    const room = await memberRoom(
      storage,
      request.params,
      currentUser(request).userId,
      'Only members can invite others to this room.',
    );
    const { username } = parseInput(userByName, request.body);
    if (room.isDirect) throw forbidden('A direct room is only for its two users.');
    const invitee = await storage.findUserByName(username);
    if (!invitee) throw notFound('User not found.');
    await storage.addMember(room.id, invitee.id);
    return { room: room.slug, user: { id: invitee.id, username: invitee.username, avatar: invitee.avatar } };
  });

  api.delete('/rooms/:slug/members/me/', async (request, reply) => {
    const me = currentUser(request).userId;
    const { room } = await visibleRoom(storage, request.params, me);
    // Only a member's leaving is announced; anyone else has nothing to leave.
    if (!(await rooms.leave(room, me))) throw notFound('You are not a member of this room.');
    return reply.status(204).send();
  });

  api.post('/direct/', async (request, reply) => {
    const me = currentUser(request);
    const { username } = parseInput(userByName, request.body);
    const other = await storage.findUserByName(username);
    if (!other) throw notFound('User not found.');
    if (other.id === me.userId) throw invalidInput('A direct room needs another user.', 'username');

    const [first, second] = me.userId < other.id ? [me, other] : [other, me];
    const slug = `${DIRECT_SLUG_PREFIX}${Math.min(me.userId, other.id)}-${Math.max(me.userId, other.id)}`;
    let room = await storage.findRoom(slug);
    let created = false;
    if (!room) {
      await countNewRoom(me.userId);
      try {
        room = await storage.createRoom({
          slug,
          name: `${first.username}, ${second.username}`,
          isPrivate: true,
          isDirect: true,
          hostId: me.userId,
        });
        created = true;
      } catch (error) {
        // Both users opened it at the same moment: the other request created it.
        if (!(error instanceof ConflictError)) throw error;
        room = await storage.findRoom(slug);
        if (!room) throw error;
      }
    }
    // Whoever left a direct room is back in it when either side opens it again.
    await storage.addMember(room.id, me.userId);
    await storage.addMember(room.id, other.id);
    return reply.status(created ? 201 : 200).send(await summaryFor(storage, me.userId, room));
  });
};

async function summaryFor(storage: Storage, userId: number, room: Room) {
  // The page that starts at this room's id holds just this room, if the user is in it.
  const [summary] = (await storage.roomsOf(userId, room.id - 1, 1)).filter((r) => r.id === room.id);
  return summary ? roomJson(summary) : freshRoomJson(room);
}
