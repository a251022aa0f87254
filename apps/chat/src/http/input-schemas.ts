/** The shapes REST requests must have. Unknown body fields are ignored; wrong or missing ones are a 400. */
import { roomSlug } from '@switchboard/protocol';
import { z } from 'zod';

export const DIRECT_SLUG_PREFIX = 'dm-';

export const newAccount = z.object({
  username: z
    .string()
    .min(3)
    .max(32)
    .regex(/^[a-zA-Z0-9_.-]+$/, 'only letters, digits, "_", "." and "-"'),
  password: z.string().min(8).max(256),
});

/** Sign-in checks only sizes: the rules for new accounts may change, old accounts must still sign in. */
export const credentials = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

export const refreshRequest = z.object({ refresh: z.string().min(1).max(4096) });

export const newRoom = z.object({
  slug: roomSlug.refine((slug) => !slug.startsWith(DIRECT_SLUG_PREFIX), {
    message: `"${DIRECT_SLUG_PREFIX}" is reserved for direct rooms`,
  }),
  name: z.string().trim().min(1).max(100),
  private: z.boolean().optional(),
});

export const userByName = z.object({ username: z.string().min(1).max(64) });

export const slugParams = z.object({ slug: roomSlug });

/** An id or seq from a query string: the databases' ids are 32-bit, and PostgreSQL refuses more. */
export const cursor = z.coerce
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/** `?after_id=&limit=` of a list in id order (rooms); the answer's `next_after_id` continues it. */
export const MAX_LIST_PAGE = 200;
export const listQuery = z.object({
  after_id: cursor.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_PAGE).default(100),
});

export const publicRoomsQuery = z.object({
  q: z.string().trim().max(64).default(''),
  after_id: cursor.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_PAGE).default(50),
});

export const MAX_HISTORY_PAGE = 200;
export const historyQuery = z.object({
  before_seq: cursor.positive().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE).default(50),
});
