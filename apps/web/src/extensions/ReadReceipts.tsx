/**
 * Extension point: who has read up to a message (from `read_receipt` frames). Rendered under
 * every message; renders nothing until the read-receipts feature lands.
 */
import type { ChatMessage } from '@switchboard/client';

export function ReadReceipts(_props: { message: ChatMessage }) {
  return null;
}
