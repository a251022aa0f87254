/** Turns database rows into the contract's records; the only place that knows column names. */
import type { Attachment, ChatMessage, Notification } from '@switchboard/protocol';
import type { Kysely, Selectable } from 'kysely';
import type {
  Database,
  NotificationsTable,
  PushSubscriptionsTable,
  RoomsTable,
  UsersTable,
} from './schema.ts';
import type { PushSubscriptionRecord, Room, User, UserWithSecret } from './storage.ts';

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

export function toPushSubscription(row: Selectable<PushSubscriptionsTable>): PushSubscriptionRecord {
  return { id: row.id, userId: row.user_id, endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth };
}

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
