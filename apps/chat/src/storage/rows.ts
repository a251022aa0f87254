/**
 * Turns database rows into the contract's records (and the few whole records that are written back
 * into rows), so each column's name and encoding is decided here once: flags read back as 0/1 or
 * booleans depending on the dialect, attachments are JSON text, counts may come back as strings.
 */
import type { Attachment, ChatMessage, Notification } from '@switchboard/protocol';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type {
  ChangeKind,
  Database,
  FilesTable,
  NotificationsTable,
  PushSubscriptionsTable,
  RoomsTable,
  UsersTable,
} from './schema.ts';
import type {
  NewNotification,
  PeerProfile,
  PushSubscriptionRecord,
  ReadPosition,
  Room,
  RoomChange,
  RoomSummary,
  StoredFile,
  User,
  UserNotification,
  UserWithSecret,
} from './storage.ts';

// --- users and rooms ------------------------------------------------------------------------------

export function toUser(row: Omit<Selectable<UsersTable>, 'password_hash'>): User {
  return {
    id: row.id,
    username: row.username,
    avatar: row.avatar,
    isAdmin: Boolean(row.is_admin),
    createdAt: row.created_at,
    status: row.status,
    revokedAt: row.revoked_at,
  };
}

export function toUserWithSecret(row: Selectable<UsersTable>): UserWithSecret {
  return { ...toUser(row), passwordHash: row.password_hash };
}

export function toRoom(row: Selectable<RoomsTable>): Room {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    isPrivate: Boolean(row.is_private),
    isDirect: Boolean(row.is_direct),
    hostId: row.host_id,
    lastSeq: row.last_seq,
    createdAt: row.created_at,
  };
}

/** A room with the member's read position; `unread` is a count, which PostgreSQL returns as text. */
export function toRoomSummary(
  row: Selectable<RoomsTable> & { last_read_seq: number; unread: number | string | bigint | null },
): RoomSummary {
  return { ...toRoom(row), unread: Number(row.unread ?? 0), lastReadSeq: row.last_read_seq };
}

export function toPeerProfile(
  row: Pick<Selectable<UsersTable>, 'id' | 'username' | 'avatar' | 'last_seen'>,
): PeerProfile {
  return { id: row.id, username: row.username, avatar: row.avatar, lastSeen: row.last_seen };
}

export function toReadPosition(
  row: Pick<Selectable<UsersTable>, 'id' | 'username' | 'avatar'> & { last_read_seq: number },
): ReadPosition {
  return { user: { id: row.id, username: row.username, avatar: row.avatar }, seq: row.last_read_seq };
}

// --- notifications, files, push -------------------------------------------------------------------

/** The row a new notification is stored as; `source` links it to the chat message it quotes. */
export function notificationRow(input: NewNotification, createdAt: string): Insertable<NotificationsTable> {
  return {
    user_id: input.userId,
    title: input.title,
    message: input.message,
    category: input.category,
    url: input.url,
    created_at: createdAt,
    read_at: null,
    room_id: input.source?.roomId ?? null,
    message_id: input.source?.messageId ?? null,
  };
}

export function toNotification(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    title: row.title,
    message: row.message,
    category: row.category,
    url: row.url,
    created_at: row.created_at,
    read_at: row.read_at,
  };
}

export function toUserNotification(row: Selectable<NotificationsTable>): UserNotification {
  return { userId: row.user_id, notification: toNotification(row) };
}

export function fileRow(file: StoredFile): Insertable<FilesTable> {
  return {
    id: file.id,
    room_id: file.roomId,
    uploader_id: file.uploaderId,
    file_name: file.fileName,
    file_type: file.fileType,
    file_size: file.fileSize,
    sha256: file.sha256,
    storage_path: file.storagePath,
    created_at: file.createdAt,
  };
}

export function toStoredFile(row: Selectable<FilesTable>): StoredFile {
  return {
    id: row.id,
    roomId: row.room_id,
    uploaderId: row.uploader_id,
    fileName: row.file_name,
    fileType: row.file_type,
    fileSize: row.file_size,
    sha256: row.sha256,
    storagePath: row.storage_path,
    createdAt: row.created_at,
  };
}

export function toPushSubscription(row: Selectable<PushSubscriptionsTable>): PushSubscriptionRecord {
  return { id: row.id, userId: row.user_id, endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth };
}

// --- messages and the change log ------------------------------------------------------------------

/** A message with its room's slug and its author, as the message queries below select it. */
export function selectMessages(db: Kysely<Database>) {
  return db
    .selectFrom('messages as m')
    .innerJoin('users as u', 'u.id', 'm.author_id')
    .innerJoin('rooms as r', 'r.id', 'm.room_id')
    .select([
      'm.id',
      'm.seq',
      'r.slug as room',
      'm.content',
      'm.author_id',
      'u.username as author_username',
      'u.avatar as author_avatar',
      'm.created_at',
      'm.reply_to',
      'm.attachments',
      'm.edited',
      'm.deleted',
      'm.client_id',
    ]);
}

export interface MessageRow {
  id: number;
  seq: number;
  room: string;
  content: string;
  author_id: number;
  author_username: string;
  author_avatar: string | null;
  created_at: string;
  reply_to: number | null;
  attachments: string;
  edited: number | boolean;
  deleted: number | boolean;
  client_id: string | null;
}

export function toChatMessage(row: MessageRow): ChatMessage {
  return {
    id: row.id,
    seq: row.seq,
    room: row.room,
    content: row.content,
    author: { id: row.author_id, username: row.author_username, avatar: row.author_avatar },
    timestamp: row.created_at,
    reply_to: row.reply_to,
    attachments: JSON.parse(row.attachments) as Attachment[],
    edited: Boolean(row.edited),
    deleted: Boolean(row.deleted),
    client_id: row.client_id,
  };
}

/** A change-log entry joined to its message (as it is now), as `changesSince` selects it. */
export interface ChangeRow extends MessageRow {
  change_seq: number;
  kind: ChangeKind;
}

/**
 * What a resuming client replays: the message as it is now (a deleted one as a tombstone), and an
 * edit carries the edit's seq, exactly as the live `message_edited` frame did.
 */
export function toRoomChange(row: ChangeRow): RoomChange {
  const message = toChatMessage(row);
  switch (row.kind) {
    case 'created':
      return { kind: 'created', seq: row.change_seq, message };
    case 'edited':
      return { kind: 'edited', seq: row.change_seq, message: { ...message, seq: row.change_seq } };
    default:
      return { kind: 'deleted', seq: row.change_seq, messageId: row.id };
  }
}
