/**
 * Extension point: "alice is typing…" under the messages. The room's connection delivers `typing`
 * frames (`connection.on('typing', …)`) and sends them with `connection.sendEphemeral(…)`, which
 * never queues them offline. Renders nothing until the typing feature lands.
 */
import type { ChatRoomConnection } from '@switchboard/client';

export function TypingIndicator(_props: { connection: ChatRoomConnection | null }) {
  return null;
}
