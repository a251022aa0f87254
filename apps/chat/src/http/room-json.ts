/** How rooms look on the wire (snake_case, as every frame and REST body). */
import type { Room, RoomSummary } from '../storage/storage.ts';

export interface RoomJson {
  id: number;
  slug: string;
  name: string;
  is_private: boolean;
  is_direct: boolean;
  host_id: number;
  last_seq: number;
  created_at: string;
  unread: number;
  last_read_seq: number;
}

export function roomJson(room: RoomSummary): RoomJson {
  return {
    id: room.id,
    slug: room.slug,
    name: room.name,
    is_private: room.isPrivate,
    is_direct: room.isDirect,
    host_id: room.hostId,
    last_seq: room.lastSeq,
    created_at: room.createdAt,
    unread: room.unread,
    last_read_seq: room.lastReadSeq,
  };
}

/** A room the user has just entered: nothing read yet, so everything is unread. */
export function freshRoomJson(room: Room, unread = 0): RoomJson {
  return roomJson({ ...room, unread, lastReadSeq: 0 });
}
