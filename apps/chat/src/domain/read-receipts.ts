/**
 * Read receipts: how far each member has read a room. The position only moves forward (the
 * storage keeps the highest seq, bounded by the room's latest change); each advance is announced
 * to the room as `read_receipt`, and the room list's unread counts follow from it.
 */
import { ErrorCode } from '@switchboard/protocol';
import { type ChannelLayer, WsError } from '@switchboard/server';
import { NotFoundError, type ReadPosition, type Room, type Storage } from '../storage/storage.ts';
import type { Author } from './chat-rooms.ts';
import { roomGroup } from './groups.ts';
import { orUnavailable } from './storage-unavailable.ts';

export class ReadReceipts {
  constructor(
    private readonly storage: Storage,
    private readonly layer: ChannelLayer,
  ) {}

  /** Stores `seq` as read (if it is further) and returns the member's read position. */
  async markRead(room: Room, user: Author, seq: number): Promise<number> {
    try {
      return await orUnavailable(this.storage.markRoomRead(room.id, user.id, seq));
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new WsError(ErrorCode.PERMISSION_DENIED, 'You are not a member of this room.');
      }
      throw error;
    }
  }

  announce(room: Room, user: Author, seq: number): Promise<void> {
    return this.layer.groupSend(roomGroup(room.id), {
      type: 'read_receipt',
      user: { id: user.id, username: user.username, avatar: null },
      seq,
    });
  }

  /** Members' positions, lowest user id first, after `afterUserId`. */
  positions(room: Room, afterUserId: number | null, limit: number): Promise<ReadPosition[]> {
    return this.storage.readPositions(room.id, afterUserId, limit);
  }
}
