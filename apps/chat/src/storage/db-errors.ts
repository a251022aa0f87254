/**
 * Recognises constraint violations from either driver, so callers can turn them into the
 * contract's errors instead of leaking driver messages.
 * better-sqlite3 sets `code` to e.g. 'SQLITE_CONSTRAINT_UNIQUE'; pg sets the SQLSTATE, e.g. '23505'.
 */
import { ConflictError, NotFoundError } from './storage.ts';

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = errorCode(error);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function isForeignKeyViolation(error: unknown): boolean {
  const code = errorCode(error);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * Runs a write and turns the constraint it broke into the contract's error, with the caller's text:
 * a unique violation into ConflictError, a foreign-key violation into NotFoundError. A violation the
 * caller gave no text for, and every other error, passes through unchanged.
 */
export async function withConstraintErrors<T>(
  messages: { unique?: string; foreignKey?: string },
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (messages.unique !== undefined && isUniqueViolation(error)) throw new ConflictError(messages.unique);
    if (messages.foreignKey !== undefined && isForeignKeyViolation(error)) {
      throw new NotFoundError(messages.foreignKey);
    }
    throw error;
  }
}
