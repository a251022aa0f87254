/**
 * Tells "the database cannot be reached right now" apart from every other storage failure, so a
 * client hears SERVICE_UNAVAILABLE (nothing stored, retry later) instead of INTERNAL_ERROR, and a
 * connecting socket is closed with 1013 (try again later) rather than looking like a server bug.
 */
import { ErrorCode } from '@switchboard/protocol';
import { WsError } from '@switchboard/server';
import { OverloadedError } from '../storage/storage.ts';

/** Socket errors of a database connection that is refused, cut or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs meaning the server cannot serve now: class 08 (connection exception),
 * 53 (insufficient resources, e.g. too many connections), 57P01-57P03 (shutting down, starting up).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53...|57P0[123])$/;

/** node-postgres reports a lost or never-made connection with plain Errors that carry no code. */
const PG_CONNECTION_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Client has encountered a connection error|Query read timeout)/;

export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof OverloadedError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message)) return true;
  // pg-pool wraps the socket error in `cause`; a host with several addresses fails with an AggregateError.
  if (cause !== undefined && isStorageUnavailable(cause)) return true;
  return Array.isArray(errors) && errors.some(isStorageUnavailable);
}

/** Awaits a storage call, turning "database unreachable" into SERVICE_UNAVAILABLE; other errors pass. */
export async function orUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isStorageUnavailable(error)) throw error;
    const refusal = new WsError(
      ErrorCode.SERVICE_UNAVAILABLE,
      error instanceof OverloadedError
        ? error.message
        : 'Storage is unavailable; nothing was stored. Try again.',
    );
    throw Object.assign(refusal, { cause: error });
  }
}
