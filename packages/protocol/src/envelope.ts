/**
 * The wire envelope shared by every Switchboard endpoint: error codes, close codes and the
 * `ack` / `error` replies. The framework (packages/server) speaks only this part of the protocol;
 * the chat frames live beside it. No Node imports: browsers load this file too.
 */
import { z } from 'zod';

export {
  CloseCode,
  type ErrorMapping,
  FINAL_CLOSE_CODES,
  FRAMEWORK_ERRORS,
  FrameworkErrorCode,
} from './codes.ts';

/** Correlates one client frame with its single `ack` or `error` reply. */
export const ref = z.string().min(1).max(64);

/**
 * Framework-level, on every endpoint: renews the connection's credential in band, before it
 * expires, without reconnecting. Answered by an `ack` with `expires_at` (unix seconds, null when
 * the new credential does not expire); a token that is invalid or names another principal gets an
 * AUTHENTICATION_FAILED error and the socket is closed with 4401.
 */
export const authFrame = z.strictObject({
  type: z.literal('auth'),
  token: z.string().min(1).max(8192),
  ref: ref.optional(),
});
export type AuthFrame = z.infer<typeof authFrame>;

/** Frames one batch may carry; more is INVALID_MESSAGE for the whole batch. */
export const MAX_BATCH_FRAMES = 32;

/**
 * Framework-level, on every endpoint: several client frames in one. Each inner frame is
 * validated, rate-limited and handled in order exactly as if it had been sent alone, and answers
 * its own `ref`; a bad one is answered without dropping the others. The batch's own `ref` gets an
 * `ack` with `count` once all of them are done.
 */
export const batchFrame = z.strictObject({
  type: z.literal('batch'),
  frames: z.array(z.unknown()).min(1).max(MAX_BATCH_FRAMES),
  ref: ref.optional(),
});
export type BatchFrame = z.infer<typeof batchFrame>;

export const ackFrame = z.looseObject({ type: z.literal('ack'), ref });
export type AckFrame = z.infer<typeof ackFrame>;

export const errorFrame = z.object({
  type: z.literal('error'),
  ref: ref.optional(),
  /** One of the framework's codes or one the application adds (the chat server's are in codes.ts). */
  code: z.string().min(1),
  error: z.string(),
  /** The offending field of an INVALID_MESSAGE, as a dotted path. */
  field: z.string().optional(),
  /** Seconds until a RATE_LIMIT_EXCEEDED sender may try again. */
  retry_after: z.number().optional(),
});
export type ErrorFrame = z.infer<typeof errorFrame>;
