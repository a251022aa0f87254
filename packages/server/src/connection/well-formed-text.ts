/**
 * Lone surrogates (`"\\ud800"` in JSON) are valid JSON but not text: UTF-8 storage and every
 * other encoder turn them into U+FFFD, so what was accepted would not be what is stored.
 */

/** The dotted path of the first string (key or value) that is not well-formed UTF-16, if any; `''` is the value itself. */
export function illFormedTextPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.isWellFormed() ? undefined : path;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (!key.isWellFormed()) return at;
    const found = illFormedTextPath(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}
