/**
 * Document names: 1–100 characters of letters, digits, `-`, `_` and `.`, not starting with `.`.
 * Safe unescaped in a URL path segment, a file name and a log line; `..` can never be a whole name.
 */
const DOCUMENT_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/;

export const DOCUMENT_NAME_RULE =
  'A document name is 1-100 characters of A-Z a-z 0-9 - _ . and does not start with ".".';

export function isDocumentName(name: string): boolean {
  return DOCUMENT_NAME.test(name);
}

/** The shared `Y.Text` every client edits and `GET …/text` returns. */
export const TEXT_NAME = 'content';

/** The channel-layer group of one document's sockets (and each node's awareness registry). */
export const documentGroup = (documentId: number) => `doc.${documentId}`;
