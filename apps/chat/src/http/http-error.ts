/**
 * Every REST failure answers `{ error, code }` (plus `field` for invalid input), with the wire
 * protocol's error codes where one fits, so the web app handles REST and socket errors alike.
 */
import { ERRORS, ErrorCode } from '@switchboard/protocol';
import { WsError } from '@switchboard/server';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isStorageUnavailable } from '../domain/storage-unavailable.ts';
import { ConflictError, NotFoundError, OverloadedError } from '../storage/storage.ts';

export type HttpErrorCode = ErrorCode;

/** Each code's HTTP status, from the protocol's one table of codes (ERRORS). */
export const status = (code: ErrorCode) => ERRORS[code].status;

export interface ErrorBody {
  error: string;
  code: HttpErrorCode;
  field?: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly field?: string,
    /** Sent as Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { error: this.message, code: this.code, ...(this.field !== undefined && { field: this.field }) };
  }
}

export const invalidInput = (message: string, field?: string) =>
  new HttpError(status(ErrorCode.INVALID_MESSAGE), ErrorCode.INVALID_MESSAGE, message, field);
export const unauthenticated = (message = 'Authentication required.') =>
  new HttpError(status(ErrorCode.AUTHENTICATION_FAILED), ErrorCode.AUTHENTICATION_FAILED, message);
export const forbidden = (message: string) =>
  new HttpError(status(ErrorCode.PERMISSION_DENIED), ErrorCode.PERMISSION_DENIED, message);
export const roomNotFound = () =>
  new HttpError(status(ErrorCode.CHANNEL_NOT_FOUND), ErrorCode.CHANNEL_NOT_FOUND, 'Room not found.');
export const notFound = (message: string) =>
  new HttpError(status(ErrorCode.NOT_FOUND), ErrorCode.NOT_FOUND, message);
export const conflict = (message: string) =>
  new HttpError(status(ErrorCode.CONFLICT), ErrorCode.CONFLICT, message);
export const tooManyRequests = (retryAfterSeconds: number, what = 'attempts') =>
  new HttpError(
    status(ErrorCode.RATE_LIMIT_EXCEEDED),
    ErrorCode.RATE_LIMIT_EXCEEDED,
    `Too many ${what}. Try again in ${retryAfterSeconds} s.`,
    undefined,
    retryAfterSeconds,
  );

/** Maps anything a route throws to a status and an error body; unexpected errors are logged, not shown. */
export function replyWithError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = toHttpError(error);
  if (known) {
    if (known.status === 401) reply.header('www-authenticate', 'Bearer');
    if (known.retryAfterSeconds !== undefined) reply.header('retry-after', String(known.retryAfterSeconds));
    return reply.status(known.status).send(known.body());
  }
  request.log.error({ err: error }, 'REST request failed');
  return reply
    .status(status(ErrorCode.INTERNAL_ERROR))
    .send({ error: 'Internal server error.', code: ErrorCode.INTERNAL_ERROR } satisfies ErrorBody);
}

function toHttpError(error: unknown): HttpError | null {
  if (error instanceof HttpError) return error;
  if (error instanceof ConflictError) return conflict(error.message);
  if (error instanceof NotFoundError) return notFound(error.message);
  if (error instanceof OverloadedError || isStorageUnavailable(error)) {
    return new HttpError(
      status(ErrorCode.SERVICE_UNAVAILABLE),
      ErrorCode.SERVICE_UNAVAILABLE,
      'Storage is unavailable; try again.',
    );
  }
  // The domain refuses with the same errors on both sides: a socket's error frame, REST's body.
  if (error instanceof WsError) {
    const { field, retryAfter } = error.details;
    return new HttpError(status(error.code), error.code, error.message, field, retryAfter);
  }
  // Fastify's own refusals (malformed JSON, wrong content type, body too large) carry a 4xx status.
  const fastifyStatus = (error as Partial<FastifyError>)?.statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    const code = fastifyStatus === 413 ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.INVALID_MESSAGE;
    const message =
      fastifyStatus === 415
        ? 'Send the body as JSON (content-type: application/json).'
        : (error as Error).message;
    return new HttpError(fastifyStatus, code, message);
  }
  return null;
}
