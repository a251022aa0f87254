/** How far each member has read a room: the starting point for read receipts in a client. */
import type { FastifyPluginAsync } from 'fastify';
import { currentUser } from './authenticate.ts';
import { listQuery } from './input-schemas.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';
import { memberRoom } from './room-params.ts';

export const receiptRoutes: FastifyPluginAsync<RestDeps> = async (api, { storage, receipts }) => {
  api.get('/rooms/:slug/read-receipts/', async (request) => {
    const room = await memberRoom(
      storage,
      request.params,
      currentUser(request).userId,
      'Only members can see who read this room.',
    );
    const { after_id, limit } = parseInput(listQuery, request.query);
    const rows = await receipts.positions(room, after_id ?? null, limit + 1);
    const page = rows.slice(0, limit);
    return { receipts: page, next_after_id: rows.length > limit ? page[page.length - 1]!.user.id : null };
  });
};
