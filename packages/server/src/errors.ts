import { FRAMEWORK_ERRORS, FrameworkErrorCode } from '@switchboard/protocol/envelope';

/**
 * The codes an application adds to the framework's, by declaration merging (as with Principal):
 *
 *   declare module '@switchboard/server' {
 *     interface ApplicationErrorCodes { NOT_FOUND: true }
 *   }
 *
 * and their HTTP status and close code go to `new Switchboard({ errors })`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by applications through declaration merging
export interface ApplicationErrorCodes {}

/** A code a WsError may carry: the framework's, or one the application declared. */
export type ErrorCode = FrameworkErrorCode | (keyof ApplicationErrorCodes & string);

/**
 * An expected refusal. Thrown from a message handler it becomes an `error` frame (the connection
 * stays open); thrown from `connect` the error frame is followed by the close code the error
 * table gives its code (or `details.closeCode`).
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
}

export { FRAMEWORK_ERRORS, FrameworkErrorCode };
