/** How far each member has read a room: the starting point for read receipts in a client. */
import type { FastifyPluginAsync } from 'fastify';
import { currentUser } from './authenticate.ts';
import type { LiveApiDeps } from './live-api.ts';
import { memberRoom } from './room-params.ts';

export const receiptRoutes: FastifyPluginAsync<LiveApiDeps> = async (api, { storage, live }) => {
  api.get('/rooms/:slug/read-receipts/', async (request) => {
    const room = await memberRoom(
      storage,
      request.params,
      currentUser(request).userId,
      'Only members can see who read this room.',
    );
    return { receipts: await live.receipts.positions(room) };
  });
};
