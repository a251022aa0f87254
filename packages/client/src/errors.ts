/** Why a `send` promise was rejected. Every rejection is one of these classes. */
import type { ErrorFrame } from './frames.ts';

export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
}

/** The server answered the frame with an `error` frame. */
export class ServerError extends SwitchboardError {
  override name = 'ServerError';
  readonly code: ErrorFrame['code'];
  readonly field: string | undefined;
  readonly retryAfter: number | undefined;

  constructor(frame: ErrorFrame) {
    super(frame.error);
    this.code = frame.code;
    this.field = frame.field;
    this.retryAfter = frame.retry_after;
  }
}

/** No reply arrived in time. An idempotent frame (one with a `client_id`) stays queued and is resent. */
export class AckTimeoutError extends SwitchboardError {
  override name = 'AckTimeoutError';
}

/**
 * The connection dropped after the frame was written but before its reply: the server may or may
 * not have applied it. Only frames without a `client_id` get this; idempotent ones are resent.
 */
export class OutcomeUnknownError extends SwitchboardError {
  override name = 'OutcomeUnknownError';
}

/** The connection was closed by the caller or ended for good (4403, 4404, failed reconnects). */
export class ConnectionClosedError extends SwitchboardError {
  override name = 'ConnectionClosedError';
}

/** The offline queue is full; nothing was queued. */
export class QueueFullError extends SwitchboardError {
  override name = 'QueueFullError';
}
