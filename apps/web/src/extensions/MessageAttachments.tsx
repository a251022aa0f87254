/**
 * Extension point: a message's attachments (`message.attachments`). Renders nothing until the
 * file-upload feature lands; it must validate each URL before linking it.
 */
import type { ChatMessage } from '@switchboard/client';

export function MessageAttachments(_props: { message: ChatMessage }) {
  return null;
}
