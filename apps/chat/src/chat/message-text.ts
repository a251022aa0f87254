import { ErrorCode } from '@switchboard/protocol';
import { WsError } from '@switchboard/server';

/**
 * Message bodies are plain text end to end: the server never turns them into HTML and clients
 * render them as text, which is what makes `<script>` harmless (no blocklist of patterns to
 * outwit). Only control characters that no person types are removed.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

export function cleanMessageText(raw: string, maxLength: number): string {
  const text = raw.replace(CONTROL, '');
  if (text.trim().length === 0) {
    throw new WsError(ErrorCode.INVALID_MESSAGE, 'Message cannot be empty.', { field: 'message' });
  }
  // Counted in code points, as a person counts characters (an emoji is one, not two).
  let length = 0;
  for (const _ of text) if (++length > maxLength) break;
  if (length > maxLength) {
    throw new WsError(ErrorCode.MESSAGE_TOO_LARGE, `Message exceeds ${maxLength} characters.`, {
      field: 'message',
    });
  }
  return text;
}
