/**
 * A room's collaborative documents over REST (members only; the room's host deletes):
 *   GET    /api/rooms/{slug}/docs/              list: name, read_only, size_bytes, updated_at
 *   POST   /api/rooms/{slug}/docs/              create { name, read_only? } (read_only: host only)
 *   GET    /api/rooms/{slug}/docs/{doc}/text    the plain text of the shared Y.Text "content"
 *   DELETE /api/rooms/{slug}/docs/{doc}/        delete; open document sockets close with 4404
 */
import { ErrorCode } from '@switchboard/protocol';
import { WsError } from '@switchboard/server';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RoomDocuments } from '../docs/room-documents.ts';
import type { DocumentRecord } from '../storage/documents.ts';
import { currentUser } from './authenticate.ts';
import { forbidden, HttpError, invalidInput, notFound, roomNotFound } from './http-error.ts';
import { parseInput } from './parse-input.ts';

export interface DocumentRouteDeps {
  documents: RoomDocuments;
}

const newDocument = z.strictObject({ name: z.string(), read_only: z.boolean().optional() });
const params = z.object({ slug: z.string(), doc: z.string().optional() });

export const documentRoutes: FastifyPluginAsync<DocumentRouteDeps> = async (api, { documents }) => {
  const user = (request: Parameters<typeof currentUser>[0]) => {
    const { userId, username } = currentUser(request);
    return { id: userId, username };
  };

  api.get('/rooms/:slug/docs/', async (request) => {
    const { slug } = params.parse(request.params);
    return (await http(documents.list(slug, user(request)))).map(documentJson);
  });

  api.post('/rooms/:slug/docs/', async (request, reply) => {
    const { slug } = params.parse(request.params);
    const input = parseInput(newDocument, request.body);
    const opened = await http(
      documents.open(slug, input.name, user(request), { readOnly: input.read_only ?? false }),
    );
    return reply.status(201).send(documentJson(opened.document));
  });

  api.get('/rooms/:slug/docs/:doc/text', async (request, reply) => {
    const { slug, doc } = params.parse(request.params);
    const text = await http(documents.text(slug, doc ?? '', user(request)));
    return reply.type('text/plain; charset=utf-8').send(text);
  });

  api.delete('/rooms/:slug/docs/:doc/', async (request, reply) => {
    const { slug, doc } = params.parse(request.params);
    await http(documents.remove(slug, doc ?? '', user(request)));
    return reply.status(204).send();
  });
};

function documentJson(document: DocumentRecord) {
  return {
    name: document.name,
    read_only: document.readOnly,
    size_bytes: document.sizeBytes,
    created_at: document.createdAt,
    updated_at: document.updatedAt,
  };
}

/** The domain refuses with socket codes; REST answers them with the matching status. */
async function http<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof WsError)) throw error;
    switch (error.code) {
      case ErrorCode.CHANNEL_NOT_FOUND:
        throw roomNotFound();
      case ErrorCode.NOT_FOUND:
        throw notFound(error.message);
      case ErrorCode.PERMISSION_DENIED:
        throw forbidden(error.message);
      case ErrorCode.INVALID_MESSAGE:
        throw invalidInput(error.message, error.details.field);
      case ErrorCode.SERVICE_UNAVAILABLE:
        throw new HttpError(503, ErrorCode.SERVICE_UNAVAILABLE, error.message);
      default:
        throw error;
    }
  }
}
