/**
 * Random identifiers for `client_id` and `ref`. crypto.getRandomValues exists in every browser
 * (also on plain-http pages, unlike crypto.randomUUID) and in Node ≥ 19 as a global.
 */
export function randomId(bytes = 12): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  let id = '';
  for (const byte of buffer) id += byte.toString(16).padStart(2, '0');
  return id;
}
