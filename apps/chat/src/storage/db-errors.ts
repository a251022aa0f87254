/**
 * Recognises constraint violations from either driver, so callers can turn them into the
 * contract's errors instead of leaking driver messages.
 * better-sqlite3 sets `code` to e.g. 'SQLITE_CONSTRAINT_UNIQUE'; pg sets the SQLSTATE, e.g. '23505'.
 */

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
