import { CloseCode, ErrorCode } from '@switchboard/protocol/envelope';

/**
 * An expected refusal. Thrown from a message handler it becomes an `error` frame (the connection
 * stays open); thrown from `connect` the error frame is followed by `closeCode`.
 */
export class WsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfter?: number; closeCode?: number } = {},
  ) {
    super(message);
    this.name = 'WsError';
  }

  get closeCode(): number {
    return this.details.closeCode ?? defaultCloseCode(this.code);
  }
}

function defaultCloseCode(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.AUTHENTICATION_FAILED:
      return CloseCode.UNAUTHORIZED;
    case ErrorCode.PERMISSION_DENIED:
      return CloseCode.FORBIDDEN;
    case ErrorCode.CHANNEL_NOT_FOUND:
    case ErrorCode.NOT_FOUND:
      return CloseCode.NOT_FOUND;
    case ErrorCode.RATE_LIMIT_EXCEEDED:
      return CloseCode.RATE_LIMITED;
    case ErrorCode.SERVICE_UNAVAILABLE:
      return CloseCode.TRY_AGAIN_LATER;
    default:
      return 1011;
  }
}
