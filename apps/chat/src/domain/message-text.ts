import { ErrorCode } from '@switchboard/protocol';
import { WsError } from '@switchboard/server';

/**
 * Message bodies are plain text end to end: the server never turns them into HTML and clients
 * render them as text, which is what makes `<script>` harmless (no blocklist of patterns to
 * outwit). Only control characters that no person types are removed.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/**
 * Text that shows nothing: white space, default-ignorable characters (zero-width spaces and
 * joiners, soft hyphens, word joiners, the Hangul fillers), format characters and the blank
 * Braille pattern. A message of only these is empty. They are kept inside real text: the
 * zero-width joiner builds emoji sequences and the bidi marks order right-to-left text.
 */
const INVISIBLE_ONLY = /^[\s\p{Default_Ignorable_Code_Point}\p{Cf}\u2800]*$/u;

export function cleanMessageText(raw: string, maxLength: number): string {
  const text = raw.replace(CONTROL, '');
  if (INVISIBLE_ONLY.test(text)) {
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
