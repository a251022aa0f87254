/**
 * The server API: what a program in any language (a job queue worker, a deploy script, another
 * service) may do to live users, over HTTP, with the SERVICE_TOKEN or an admin's token:
 *
 *   POST /api/server/rooms/{slug}/messages/      a stored chat message from a bot author
 *   POST /api/server/rooms/{slug}/events/        an event to every chat socket of the room (not stored)
 *   POST /api/server/users/{username}/events/    an event to every socket of the user
 *   POST /api/server/users/{username}/disconnect/  close every socket of the user (4410, not retried)
 *   GET  /api/server/rooms/{slug}/presence/      who has the room open, across nodes
 *
 * A bot is a user named `bot:<name>`: no person can hold such a name (a colon is not allowed in
 * usernames) or sign in as it, and the name in every frame says what it is.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Author } from '../domain/chat-rooms.ts';
import type { UserSignals } from '../domain/user-signals.ts';
import type { RoomPresence } from '../presence/room-presence.ts';
import { ConflictError, type Room } from '../storage/storage.ts';
import { notFound, roomNotFound, tooManyRequests } from './http-error.ts';
import { slugParams, userByName } from './input-schemas.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';
import { authorizeService } from './service-auth.ts';

export interface ServerApiDeps extends RestDeps {
  userSignals: UserSignals;
  roomPresence: RoomPresence;
}

/** Calls per caller per minute: generous for a service, bounded for a runaway loop. */
const CALLS_PER_MINUTE = 600;
/** An event is any JSON object, up to this size once serialised. */
const MAX_EVENT_BYTES = 8 * 1024;
/** Listed in one presence answer. */
const MAX_PRESENCE = 1000;

const BOT_PREFIX = 'bot:';
const botName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,31}$/, 'must be 1-32 of a-z 0-9 _ . - (lowercase)');

const botMessage = z.strictObject({
  author: botName,
  message: z.string().min(1).max(4000),
  idempotency_key: z.string().min(1).max(64).optional(),
});
const event = z
  .record(z.string(), z.unknown())
  .refine(
    (value) => JSON.stringify(value).length <= MAX_EVENT_BYTES,
    `must be at most ${MAX_EVENT_BYTES} bytes`,
  );
const eventBody = z.strictObject({ event });
const disconnectBody = z.strictObject({
  reason: z.string().min(1).max(100).default('disconnected by the server'),
});

export const serverRoutes: FastifyPluginAsync<ServerApiDeps> = async (api, deps) => {
  const { storage, rooms, rateLimiter, userSignals, roomPresence } = deps;

  // After the body is parsed, as on every other route: a too-large body is refused (413) as soon
  // as its length is known, before the caller has written it all into a connection nobody reads.
  api.addHook('preHandler', async (request) => {
    await authorizeService(request, deps);
    const token = request.headers.authorization ?? '';
    const decision = await rateLimiter?.hit(`server-api:${token.slice(-16)}`, CALLS_PER_MINUTE, 60);
    if (decision && !decision.allowed) throw tooManyRequests(decision.retryAfterSeconds, 'server API calls');
  });

  const roomOf = async (params: unknown): Promise<Room> => {
    const parsed = slugParams.safeParse(params);
    const room = parsed.success ? await storage.findRoom(parsed.data.slug) : undefined;
    if (!room) throw roomNotFound();
    return room;
  };
  const userOf = async (params: unknown) => {
    const parsed = userByName.safeParse(params);
    const user = parsed.success ? await storage.findUserByName(parsed.data.username) : undefined;
    if (!user) throw notFound('User not found.');
    return user;
  };
  /** The bot's user, made on first use; two first uses at once both end with the one row. */
  const botAuthor = async (name: string): Promise<Author> => {
    const username = `${BOT_PREFIX}${name}`;
    const found = await storage.findUserByName(username);
    if (found) return { id: found.id, username: found.username };
    try {
      // No password hash can match "!": nobody signs in as a bot.
      const created = await storage.createUser(username, '!');
      return { id: created.id, username: created.username };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const raced = await storage.findUserByName(username);
      if (!raced) throw error;
      return { id: raced.id, username: raced.username };
    }
  };

  api.post('/rooms/:slug/messages/', async (request, reply) => {
    const room = await roomOf(request.params);
    const input = parseInput(botMessage, request.body);
    const author = await botAuthor(input.author);
    const outcome = await rooms.post(room, author, { text: input.message, clientId: input.idempotency_key });
    await rooms.publish(room, outcome);
    return reply
      .status(outcome.isNew ? 201 : 200)
      .send({ message: outcome.change.message, duplicate: !outcome.isNew });
  });

  api.post('/rooms/:slug/events/', async (request, reply) => {
    const room = await roomOf(request.params);
    const input = parseInput(eventBody, request.body);
    await rooms.sendEvent(room, input.event);
    return reply.status(202).send({ room: room.slug });
  });

  api.post('/users/:username/events/', async (request, reply) => {
    const user = await userOf(request.params);
    const input = parseInput(eventBody, request.body);
    await userSignals.event(user.id, input.event);
    return reply.status(202).send({ user_id: user.id });
  });

  api.post('/users/:username/disconnect/', async (request, reply) => {
    const user = await userOf(request.params);
    const input = parseInput(disconnectBody, request.body ?? {});
    await userSignals.disconnect(user.id, input.reason);
    return reply.status(202).send({ user_id: user.id });
  });

  api.get('/rooms/:slug/presence/', async (request) => {
    const room = await roomOf(request.params);
    const members = await storage.memberIds(room.id);
    const absent = new Set(await roomPresence.absent(room.id, members));
    const here = members.filter((id) => !absent.has(id)).slice(0, MAX_PRESENCE);
    const online = [];
    for (const id of here) {
      const user = await storage.findUserById(id);
      if (user) online.push({ user_id: user.id, username: user.username });
    }
    return { online };
  });
};
