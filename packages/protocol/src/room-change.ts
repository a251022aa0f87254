/**
 * A change to a room's history — a new, edited or deleted message — as a frame, and the one rule
 * for the `seq` it carries. The server's sequencer and the client SDK's resume cursor both read a
 * change's seq through `changeSeq`, so they cannot disagree on it. No zod at run time (type-only
 * imports): the client SDK imports this from the browser.
 */
import type { z } from 'zod';
import type { chatMessageEvent, messageDeletedEvent, messageEditedEvent } from './chat.ts';

/** Each carries the room's next `seq`: a resuming client replays every change after its last one. */
export type RoomChangeFrame =
  | z.infer<typeof chatMessageEvent>
  | z.infer<typeof messageEditedEvent>
  | z.infer<typeof messageDeletedEvent>;

/**
 * The seq of a room-change frame: the message's for a new or edited one, the frame's own for a
 * delete (a tombstone has no message). Undefined for any other frame (typing, read receipts, …),
 * which is not history: it is never replayed and never moves a cursor.
 */
export function changeSeq(frame: { type: string }): number | undefined {
  if (!isRoomChange(frame)) return undefined;
  return frame.type === 'message_deleted' ? frame.seq : frame.message.seq;
}

function isRoomChange(frame: { type: string }): frame is RoomChangeFrame {
  return frame.type === 'chat_message' || frame.type === 'message_edited' || frame.type === 'message_deleted';
}
