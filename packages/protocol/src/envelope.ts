/**
 * The wire envelope shared by every Switchboard endpoint: error codes, close codes and the
 * `ack` / `error` replies. The framework (packages/server) speaks only this part of the protocol;
 * the chat frames live beside it. No Node imports: browsers load this file too.
 */
import { z } from 'zod';

export const ErrorCode = {
  AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  CHANNEL_NOT_FOUND: 'CHANNEL_NOT_FOUND',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** REST only: the username or room slug is taken. */
  CONFLICT: 'CONFLICT',
  /** A message, notification or upload named by id does not exist (seed 001: "Message not found."). */
  NOT_FOUND: 'NOT_FOUND',
  /** A dependency (database, Redis) is down; nothing was stored, the client may retry. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** A handler failed unexpectedly; the text is generic, the stack is in the server log. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Close codes. 4xxx mirror HTTP statuses so a browser, which cannot read an HTTP refusal, can still tell why. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  IDLE_TIMEOUT: 4408,
  RATE_LIMITED: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client must not reconnect on its own. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.NORMAL,
  CloseCode.FORBIDDEN,
  CloseCode.NOT_FOUND,
]);

/** Correlates one client frame with its single `ack` or `error` reply. */
export const ref = z.string().min(1).max(64);

export const ackFrame = z.looseObject({ type: z.literal('ack'), ref });
export type AckFrame = z.infer<typeof ackFrame>;

export const errorFrame = z.object({
  type: z.literal('error'),
  ref: ref.optional(),
  code: z.enum(ErrorCode),
  error: z.string(),
  /** The offending field of an INVALID_MESSAGE, as a dotted path. */
  field: z.string().optional(),
  /** Seconds until a RATE_LIMIT_EXCEEDED sender may try again. */
  retry_after: z.number().optional(),
});
export type ErrorFrame = z.infer<typeof errorFrame>;
