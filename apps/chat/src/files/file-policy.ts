/**
 * What may be uploaded and how a stored file is served back: allowed types, safe file names,
 * and the headers that keep a downloaded file from ever running as part of this site.
 */

/** Image types a browser renders without running anything: the only ones shown inline. */
const INLINE_SAFE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const MAX_NAME_CHARS = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/** Bidirectional overrides turn "report\u202Efdp.exe" into what looks like "reportexe.pdf". */
const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Reserved on Windows, or meaningful to shells and HTTP headers. */
const RESERVED = /[<>:"/\\|?*;]/g;

/** The declared type in canonical form (lower case, no parameters), or undefined if it is not one. */
export function normalizeType(declared: string): string | undefined {
  const type = declared.split(';')[0]!.trim().toLowerCase();
  return MIME_TYPE.test(type) ? type : undefined;
}

/** Whether a normalised type is on the allow list; `image/*` or a trailing `*` matches a prefix. */
export function isAllowedType(type: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) =>
    pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern,
  );
}

/**
 * A name safe to store, show and offer as a download: no directories, no control or bidi
 * characters, nothing reserved, no leading dot, at most 200 characters (the extension is kept).
 */
export function sanitizeFileName(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? '';
  let name = base
    .normalize('NFC')
    .replace(CONTROL, '')
    .replace(BIDI, '')
    .replace(RESERVED, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  const chars = [...name];
  if (chars.length > MAX_NAME_CHARS) {
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 ? [...name.slice(dot)].slice(0, 16).join('') : '';
    name = chars.slice(0, MAX_NAME_CHARS - [...extension].length).join('') + extension;
  }
  return name || 'file';
}

export function isInlineSafe(type: string): boolean {
  return INLINE_SAFE_TYPES.has(type);
}

/**
 * Response headers for serving a stored file. Only the safe image types keep their type, and only
 * they may be inline (for previews); everything else is an opaque download. `nosniff` stops the
 * browser from guessing HTML into a file, and the CSP sandbox disarms one opened directly.
 */
export function downloadHeaders(
  file: { fileName: string; fileType: string; fileSize: number },
  wantInline: boolean,
): Record<string, string> {
  const inline = wantInline && isInlineSafe(file.fileType);
  return {
    'content-type': isInlineSafe(file.fileType) ? file.fileType : 'application/octet-stream',
    'content-length': String(file.fileSize),
    'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', file.fileName),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, max-age=3600',
  };
}

/** RFC 6266: an ASCII fallback name plus the exact name in UTF-8 (RFC 8187). */
function contentDisposition(kind: 'inline' | 'attachment', fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** "25 MB" for 25 * 1024 * 1024. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
