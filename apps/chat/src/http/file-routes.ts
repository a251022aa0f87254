/**
 * Files over HTTP: the download route (members of the file's room only) and a plain multipart
 * upload for large files, which streams to disk under the same limits as the socket's chunked
 * upload and ends the same way: a chat message with the file attached, broadcast to the room.
 *
 *   POST /api/rooms/{slug}/files/   multipart/form-data: optional fields `message`, `client_id`,
 *                                   `sha256` first, then the `file` part → 201 {file_id, message}
 *   GET  /api/files/{id}/           the bytes, as an attachment; `?inline=1` shows a safe image
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart, { type MultipartFields } from '@fastify/multipart';
import { type ChatMessage, clientId, ErrorCode } from '@switchboard/protocol';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Caption } from '../files/attachments.ts';
import type { CompletedFile } from '../files/chunked-uploads.ts';
import { downloadHeaders, sanitizeFileName } from '../files/file-policy.ts';
import { currentUser } from './authenticate.ts';
import { HttpError, invalidInput, notFound } from './http-error.ts';
import { parseInput } from './parse-input.ts';
import type { RestDeps } from './rest-api.ts';
import { memberRoom } from './room-params.ts';

const fileParams = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{8,64}$/) });
const downloadQuery = z.object({ inline: z.enum(['0', '1']).optional() });
const uploadFields = z.object({
  message: z.string().max(10_000).optional(),
  client_id: clientId.optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
    .optional(),
});
/** Room for the multipart framing and the text fields around the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

export const fileRoutes: FastifyPluginAsync<RestDeps> = async (api, deps) => {
  const { storage, rooms, files, uploads, attachments, quota } = deps;
  const maxBytes = uploads.limits.maxBytes;
  await api.register(multipart, { throwFileSizeLimit: false });

  api.get('/files/:id/', async (request, reply) => {
    const params = fileParams.safeParse(request.params);
    const file = params.success ? await storage.findFile(params.data.id) : undefined;
    // A non-member is told what a wrong id gets: whether a file exists is the room's secret.
    if (!file || !(await storage.isMember(file.roomId, currentUser(request).userId))) {
      throw notFound('File not found.');
    }
    const { inline } = parseInput(downloadQuery, request.query);
    const bytes = await files.open(file.storagePath);
    if (!bytes) throw notFound('The file is no longer stored.');
    reply.headers(downloadHeaders(file, inline === '1'));
    return reply.send(bytes);
  });

  api.post('/rooms/:slug/files/', { bodyLimit: maxBytes + MULTIPART_OVERHEAD }, async (request, reply) => {
    const me = currentUser(request);
    const user = { id: me.userId, username: me.username };
    const room = await memberRoom(storage, request.params, user.id, 'Only members can post files here.');
    if (!request.isMultipart()) {
      throw new HttpError(
        415,
        ErrorCode.INVALID_MESSAGE,
        'Send the file as multipart/form-data, field "file".',
      );
    }
    const length = Number(request.headers['content-length']) || 0;
    if (length > maxBytes + MULTIPART_OVERHEAD) throw uploads.tooLarge();
    // The file is a little smaller than the request: a fair early check; the exact one follows.
    await quota.admit(user.id, Math.max(0, length - MULTIPART_OVERHEAD));

    uploads.reserveSlot(user.id);
    const id = randomUUID();
    const path = files.partialPath(id);
    try {
      const part = await request
        .file({ limits: { fileSize: maxBytes, files: 1, fields: 3, fieldSize: 16_384 } })
        .catch(asClientError);
      if (!part) throw invalidInput('No file: send it in the "file" field.', 'file');
      let fileType: string;
      let fields: z.infer<typeof uploadFields>;
      let caption: Caption;
      let earlier: ChatMessage | undefined;
      try {
        fileType = uploads.checkFile(part.mimetype, undefined);
        fields = parseInput(uploadFields, textFields(part.fields));
        caption = attachments.caption(fields.message, fields.client_id);
        // A resend of an upload that already went through is answered with it, storing nothing.
        earlier = await attachments.earlier(room, user, caption);
      } catch (error) {
        part.file.resume(); // discard the bytes so the answer reaches the client
        throw error;
      }
      if (earlier) {
        part.file.resume();
        return reply.status(200).send(uploaded(earlier));
      }

      const hash = createHash('sha256');
      let size = 0;
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      // A body cut short fails the part's stream with a parser error: the client's fault. A
      // system error (a full disk, a permission) stays the server's.
      await pipeline(part.file, measure, createWriteStream(path, { mode: 0o600 })).catch((error: unknown) => {
        throw (error as { syscall?: unknown })?.syscall === undefined ? asClientError(error) : error;
      });
      if (part.file.truncated) throw uploads.tooLarge();
      if (size === 0) throw invalidInput('The file is empty.', 'file');
      const sha256 = hash.digest('hex');
      if (fields.sha256 && fields.sha256 !== sha256) {
        throw invalidInput('The file does not match its sha256: upload it again.', 'sha256');
      }

      const file: CompletedFile = {
        id,
        fileName: sanitizeFileName(part.filename),
        fileType,
        fileSize: size,
        sha256,
        storagePath: await files.commit(path, id),
      };
      const posted = await attachments.post(room, user, file, caption);
      await rooms.publish(room, posted);
      // Not new: the same upload won a race to it, and this copy was discarded.
      return reply.status(posted.isNew ? 201 : 200).send(uploaded(posted.change.message));
    } finally {
      uploads.releaseSlot(user.id);
      await files.discard(path); // nothing left once committed; the partial bytes otherwise
    }
  });
};

/** The answer to an upload: the message and the file it carries. */
function uploaded(message: ChatMessage) {
  return { file_id: message.attachments[0]?.id ?? null, message };
}

/**
 * The multipart parser refuses a malformed body (no boundary, a boundary that never comes, a body
 * cut short) with plain errors: those are the client's mistake, a 400, not a 500. Errors that
 * already carry a status (limits, content type) keep it.
 */
function asClientError(error: unknown): never {
  if (error instanceof HttpError || typeof (error as { statusCode?: unknown })?.statusCode === 'number')
    throw error;
  const reason = error instanceof Error ? error.message : String(error);
  throw invalidInput(`Malformed multipart/form-data body (${reason.slice(0, 100)}).`);
}

/** The text fields that came before the file part, as plain strings. */
function textFields(fields: MultipartFields): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, field] of Object.entries(fields)) {
    const one = Array.isArray(field) ? field[0] : field;
    if (one?.type === 'field' && typeof one.value === 'string') values[name] = one.value;
  }
  return values;
}
