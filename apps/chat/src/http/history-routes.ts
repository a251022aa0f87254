/** A room's message history, newest first, paged by seq. */
import type { FastifyPluginAsync } from 'fastify';
import { currentUser } from './authenticate.ts';
import { historyQuery } from './input-schemas.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';
import { memberRoom } from './room-params.ts';

export const historyRoutes: FastifyPluginAsync<RestDeps> = async (api, { storage }) => {
  api.get('/rooms/:slug/messages/', async (request) => {
    const room = await memberRoom(
      storage,
      request.params,
      currentUser(request).userId,
      'Only members can read this room.',
    );
    const { before_seq, limit } = parseInput(historyQuery, request.query);
    // One extra row tells whether an older page exists, so the last page says null, not a dead cursor.
    const rows = await storage.history(room.id, before_seq ?? null, limit + 1);
    const messages = rows.slice(0, limit);
    return {
      messages,
      next_before_seq: rows.length > limit ? messages[messages.length - 1]!.seq : null,
    };
  });
};
