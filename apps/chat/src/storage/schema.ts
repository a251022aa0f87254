/**
 * The tables as Kysely sees them. One schema for SQLite and PostgreSQL, so a few choices favour
 * what both store identically:
 * - timestamps are ISO-8601 UTC text (`toISOString()`): they round-trip unchanged and sort as text;
 * - flags are `boolean` columns written as 0/1 (better-sqlite3 cannot bind JS booleans, PostgreSQL
 *   parses '0'/'1' as boolean) and read back as 0/1 (SQLite) or false/true (PostgreSQL);
 * - attachments are a JSON array in a text column.
 */
import type { ColumnType, Generated } from 'kysely';
import type { AccountStatus } from './storage.ts';

/** Written as 0/1, read as whatever the dialect returns; convert with `Boolean()`. */
export type Flag = ColumnType<number | boolean, number, number>;

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  avatar: string | null;
  is_admin: Flag;
  created_at: string;
  last_seen: string | null;
  status: ColumnType<AccountStatus, AccountStatus | undefined, AccountStatus>;
  /** Tokens issued before this moment are refused (ISO-8601); null: none revoked. */
  revoked_at: string | null;
}

export interface RoomsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  is_private: Flag;
  is_direct: Flag;
  host_id: number;
  /** The seq of the room's latest change; the next change takes last_seq + 1. */
  last_seq: number;
  created_at: string;
}

export interface RoomMembersTable {
  room_id: number;
  user_id: number;
  last_read_seq: number;
  joined_at: string;
}

export interface MessagesTable {
  id: Generated<number>;
  room_id: number;
  author_id: number;
  /** The seq of the message's creation: its place in the room's history. */
  seq: number;
  content: string;
  reply_to: number | null;
  client_id: string | null;
  attachments: string;
  edited: Flag;
  deleted: Flag;
  created_at: string;
}

export type ChangeKind = 'created' | 'edited' | 'deleted';

/** One row per history change of a room, keyed by (room_id, seq): what a resuming client replays. */
export interface RoomChangesTable {
  room_id: number;
  seq: number;
  kind: ChangeKind;
  message_id: number;
}

export interface NotificationsTable {
  id: Generated<number>;
  user_id: number;
  title: string;
  message: string;
  category: string;
  url: string | null;
  created_at: string;
  read_at: string | null;
  /** The room and message a notification was made from (null for one a service sent). */
  room_id: number | null;
  message_id: number | null;
}

export interface FilesTable {
  id: string;
  room_id: number;
  uploader_id: number;
  file_name: string;
  file_type: string;
  file_size: number;
  sha256: string;
  storage_path: string;
  created_at: string;
}

export interface PushSubscriptionsTable {
  id: Generated<number>;
  user_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: string;
}

/** A room's collaborative document: its compacted Yjs snapshot plus bookkeeping for listings. */
export interface DocumentsTable {
  id: Generated<number>;
  room_id: number;
  name: string;
  read_only: Flag;
  /** `Y.mergeUpdates` of every update compacted so far; null before the first compaction. */
  snapshot: Uint8Array | null;
  /** Bytes of the snapshot plus the updates since. */
  size_bytes: number;
  /** Updates stored since the snapshot: compaction is due when it grows large. */
  pending_updates: number;
  /** Bumped by every compaction: a compaction writes only over the snapshot it started from. */
  compactions: number;
  created_at: string;
  updated_at: string;
}

/** One Yjs update, append-only until compaction folds it into the snapshot. */
export interface DocumentUpdatesTable {
  id: Generated<number>;
  document_id: number;
  data: Uint8Array;
}

export interface Database {
  users: UsersTable;
  rooms: RoomsTable;
  room_members: RoomMembersTable;
  messages: MessagesTable;
  room_changes: RoomChangesTable;
  notifications: NotificationsTable;
  files: FilesTable;
  push_subscriptions: PushSubscriptionsTable;
  documents: DocumentsTable;
  document_updates: DocumentUpdatesTable;
}
