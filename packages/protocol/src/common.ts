import { z } from 'zod';

export const id = z.number().int().positive();
export const isoTimestamp = z.string();
/** A client-chosen key that makes a resend idempotent. */
export const clientId = z.string().min(1).max(64);
export const roomSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, "-" and "_", at most 64');

export const userRef = z.object({ id, username: z.string(), avatar: z.string().nullable() });
export type UserRef = z.infer<typeof userRef>;
