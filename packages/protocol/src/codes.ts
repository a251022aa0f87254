/**
 * Error and close codes as plain constants, without zod, so a browser bundle that needs only
 * these (the client SDK) stays small.
 */
/** The framework's own codes: what any Switchboard endpoint may answer, whatever the application. */
export const FrameworkErrorCode = {
  AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  /** Nothing answers at this path, or what the path names (a room, say) does not exist. */
  CHANNEL_NOT_FOUND: 'CHANNEL_NOT_FOUND',
  /** A dependency (database, Redis) is down; nothing was stored, the client may retry. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** A handler failed unexpectedly; the text is generic, the stack is in the server log. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type FrameworkErrorCode = (typeof FrameworkErrorCode)[keyof typeof FrameworkErrorCode];

/** The chat application's codes, on top of the framework's. */
export const ChatErrorCode = {
  /** A message body over the length limit (500 code points by default). */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** The username or room slug is taken. */
  CONFLICT: 'CONFLICT',
  /** The user's stored uploads would exceed their byte quota; delete files or ask an operator. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** A message, notification or upload named by id does not exist ("Message not found."). */
  NOT_FOUND: 'NOT_FOUND',
} as const;

/** Every code the chat server answers with. */
export const ErrorCode = { ...FrameworkErrorCode, ...ChatErrorCode } as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Close codes. 4xxx mirror HTTP statuses so a browser, which cannot read an HTTP refusal, can still tell why. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  /** A connection parameter is invalid (e.g. `after_seq=abc`); retrying the same URL cannot help. */
  INVALID_REQUEST: 4400,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  IDLE_TIMEOUT: 4408,
  CONFLICT: 4409,
  /** The application ended the user's sessions (an operator, a server API call); do not retry. */
  DISCONNECTED: 4410,
  QUOTA_EXCEEDED: 4413,
  RATE_LIMITED: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client must not reconnect on its own. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.NORMAL,
  CloseCode.INVALID_REQUEST,
  CloseCode.FORBIDDEN,
  CloseCode.NOT_FOUND,
  CloseCode.DISCONNECTED,
]);

/** How a code is told over HTTP, and the close code of a connection refused with it. */
export interface ErrorMapping {
  readonly status: number;
  readonly close: number;
}

/** The framework's codes: the one table the framework maps refusals through. */
export const FRAMEWORK_ERRORS: Readonly<Record<FrameworkErrorCode, ErrorMapping>> = {
  AUTHENTICATION_FAILED: { status: 401, close: CloseCode.UNAUTHORIZED },
  RATE_LIMIT_EXCEEDED: { status: 429, close: CloseCode.RATE_LIMITED },
  INVALID_MESSAGE: { status: 400, close: CloseCode.INVALID_REQUEST },
  PERMISSION_DENIED: { status: 403, close: CloseCode.FORBIDDEN },
  CHANNEL_NOT_FOUND: { status: 404, close: CloseCode.NOT_FOUND },
  SERVICE_UNAVAILABLE: { status: 503, close: CloseCode.TRY_AGAIN_LATER },
  INTERNAL_ERROR: { status: 500, close: CloseCode.INTERNAL_ERROR },
};

/**
 * Every code of the chat server with its HTTP status and close code: REST answers through it,
 * and the chat server hands it to the framework for the codes the framework does not know.
 */
export const ERRORS: Readonly<Record<ErrorCode, ErrorMapping>> = {
  ...FRAMEWORK_ERRORS,
  MESSAGE_TOO_LARGE: { status: 413, close: CloseCode.MESSAGE_TOO_BIG },
  CONFLICT: { status: 409, close: CloseCode.CONFLICT },
  QUOTA_EXCEEDED: { status: 413, close: CloseCode.QUOTA_EXCEEDED },
  NOT_FOUND: { status: 404, close: CloseCode.NOT_FOUND },
};
