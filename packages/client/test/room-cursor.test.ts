import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../src/frames.ts';
import { RoomCursor } from '../src/room-cursor.ts';

const message = (id: number, seq: number): ChatMessage => ({
  id,
  seq,
  room: 'lobby',
  content: `m${id}`,
  author: { id: 1, username: 'alice', avatar: null },
  timestamp: new Date(0).toISOString(),
  reply_to: null,
  attachments: [],
  edited: false,
  deleted: false,
  client_id: null,
});

describe('RoomCursor', () => {
  it('admits each change once and advances to the highest seq', () => {
    const cursor = new RoomCursor(2);
    expect(cursor.admit({ type: 'chat_message', message: message(2, 2) })).toBe(false);
    expect(cursor.admit({ type: 'chat_message', message: message(3, 3) })).toBe(true);
    expect(cursor.admit({ type: 'message_edited', message: { ...message(3, 4), edited: true } })).toBe(true);
    expect(cursor.admit({ type: 'chat_message', message: message(3, 3) })).toBe(false);
    expect(cursor.admit({ type: 'message_deleted', message_id: 3, seq: 5, room: 'lobby' })).toBe(true);
    expect(cursor.admit({ type: 'message_deleted', message_id: 3, seq: 5, room: 'lobby' })).toBe(false);
    expect(cursor.lastSeq).toBe(5);
  });

  it('lets frames without a seq through and moves forward on synced', () => {
    const cursor = new RoomCursor(0);
    expect(
      cursor.admit({ type: 'typing', user: { id: 1, username: 'a', avatar: null }, is_typing: true }),
    ).toBe(true);
    expect(cursor.admit({ type: 'synced', room: 'lobby', last_seq: 9 })).toBe(true);
    expect(cursor.lastSeq).toBe(9);
    expect(cursor.admit({ type: 'synced', room: 'lobby', last_seq: 4 })).toBe(true);
    expect(cursor.lastSeq).toBe(9);
  });
});
