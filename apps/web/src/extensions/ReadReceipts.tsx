/**
 * Extension point: "Seen by …" under the newest message each member has read (from their read
 * positions and `read_receipt` frames). Never lists the reader themself.
 */
import type { ChatMessage } from '@switchboard/client';
import { useEffect } from 'react';
import { useSignals } from './use-signals.ts';

const NAMES_SHOWN = 3;

export function ReadReceipts({ message }: { message: ChatMessage }) {
  const signals = useSignals();
  useEffect(() => signals?.registerMessage(message.seq), [signals, message.seq]);
  // The author has read their own message: only the others say something.
  const readers = (signals?.readersOf(message.seq) ?? []).filter((user) => user.id !== message.author.id);
  if (readers.length === 0) return null;
  const names = readers.map((user) => user.username);
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  const more = names.length > NAMES_SHOWN ? ` and ${names.length - NAMES_SHOWN} more` : '';
  return (
    <p className="read-receipts" data-testid="read-receipts" title={names.join(', ')}>
      Seen by {shown}
      {more}
    </p>
  );
}
