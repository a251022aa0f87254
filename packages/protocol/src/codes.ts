/**
 * Error and close codes as plain constants, without zod, so a browser bundle that needs only
 * these (the client SDK) stays small.
 */
export const ErrorCode = {
  AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  CHANNEL_NOT_FOUND: 'CHANNEL_NOT_FOUND',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** REST only: the username or room slug is taken. */
  CONFLICT: 'CONFLICT',
  /** The user's stored uploads would exceed their byte quota; delete files or ask an operator. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
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
  /** A connection parameter is invalid (e.g. `after_seq=abc`); retrying the same URL cannot help. */
  INVALID_REQUEST: 4400,
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
  CloseCode.INVALID_REQUEST,
  CloseCode.FORBIDDEN,
  CloseCode.NOT_FOUND,
]);
