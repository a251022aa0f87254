/**
 * Extension point: "alice is typing…" under the messages, from the room's `typing` frames
 * (kept and expired by RoomSignals; the typist never sees their own).
 */
import type { ChatRoomConnection } from '@switchboard/client';
import { useSignals } from './use-signals.ts';

export function TypingIndicator(_props: { connection: ChatRoomConnection | null }) {
  const typing = useSignals()?.typing() ?? [];
  return (
    <p className="typing-indicator" aria-live="polite" data-testid="typing-indicator">
      {typingText(typing.map((user) => user.username))}
    </p>
  );
}

function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
