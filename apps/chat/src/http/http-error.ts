/**
 * Every REST failure answers `{ error, code }` (plus `field` for invalid input), with the wire
 * protocol's error codes where one fits, so the web app handles REST and socket errors alike.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isStorageUnavailable } from '../chat/storage-unavailable.ts';
import { ConflictError, NotFoundError, OverloadedError } from '../storage/storage.ts';

/** REST-only code: the protocol has none for "already exists". */
export const CONFLICT = 'CONFLICT';
export type HttpErrorCode = ErrorCode | typeof CONFLICT;

/** The HTTP status of each code: the one table REST answers and socket refusals map through. */
export const HTTP_STATUS: Record<HttpErrorCode, number> = {
  [ErrorCode.INVALID_MESSAGE]: 400,
  [ErrorCode.AUTHENTICATION_FAILED]: 401,
  [ErrorCode.PERMISSION_DENIED]: 403,
  [ErrorCode.CHANNEL_NOT_FOUND]: 404,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.MESSAGE_TOO_LARGE]: 413,
  [ErrorCode.QUOTA_EXCEEDED]: 413,
  [ErrorCode.RATE_LIMIT_EXCEEDED]: 429,
  [ErrorCode.INTERNAL_ERROR]: 500,
  [ErrorCode.SERVICE_UNAVAILABLE]: 503,
};

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
  new HttpError(HTTP_STATUS.INVALID_MESSAGE, ErrorCode.INVALID_MESSAGE, message, field);
export const unauthenticated = (message = 'Authentication required.') =>
  new HttpError(HTTP_STATUS.AUTHENTICATION_FAILED, ErrorCode.AUTHENTICATION_FAILED, message);
export const forbidden = (message: string) =>
  new HttpError(HTTP_STATUS.PERMISSION_DENIED, ErrorCode.PERMISSION_DENIED, message);
export const roomNotFound = () =>
  new HttpError(HTTP_STATUS.CHANNEL_NOT_FOUND, ErrorCode.CHANNEL_NOT_FOUND, 'Room not found.');
export const notFound = (message: string) =>
  new HttpError(HTTP_STATUS.NOT_FOUND, ErrorCode.NOT_FOUND, message);
export const conflict = (message: string) => new HttpError(HTTP_STATUS.CONFLICT, CONFLICT, message);
export const tooManyRequests = (retryAfterSeconds: number, what = 'attempts') =>
  new HttpError(
    HTTP_STATUS.RATE_LIMIT_EXCEEDED,
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
    .status(HTTP_STATUS.INTERNAL_ERROR)
    .send({ error: 'Internal server error.', code: ErrorCode.INTERNAL_ERROR } satisfies ErrorBody);
}

function toHttpError(error: unknown): HttpError | null {
  if (error instanceof HttpError) return error;
  if (error instanceof ConflictError) return conflict(error.message);
  if (error instanceof NotFoundError) return notFound(error.message);
  if (error instanceof OverloadedError || isStorageUnavailable(error)) {
    return new HttpError(
      HTTP_STATUS.SERVICE_UNAVAILABLE,
      ErrorCode.SERVICE_UNAVAILABLE,
      'Storage is unavailable; try again.',
    );
  }
  // Fastify's own refusals (malformed JSON, wrong content type, body too large) carry a 4xx status.
  const status = (error as Partial<FastifyError>)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 413 ? ErrorCode.MESSAGE_TOO_LARGE : ErrorCode.INVALID_MESSAGE;
    const message =
      status === 415 ? 'Send the body as JSON (content-type: application/json).' : (error as Error).message;
    return new HttpError(status, code, message);
  }
  return null;
}
