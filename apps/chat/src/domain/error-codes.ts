/**
 * The chat server's error codes beyond the framework's (MESSAGE_TOO_LARGE, CONFLICT,
 * QUOTA_EXCEEDED, NOT_FOUND), declared to the framework so its WsError takes them, with their
 * HTTP status and close code from the protocol's one table (ERRORS in packages/protocol).
 */
import { type ChatErrorCode, ERRORS } from '@switchboard/protocol';

declare module '@switchboard/server' {
  interface ApplicationErrorCodes extends Record<(typeof ChatErrorCode)[keyof typeof ChatErrorCode], true> {}
}

/** For `new Switchboard({ errors })`: every code's mapping (the framework's own are the same). */
export const CHAT_ERRORS = ERRORS;
