/**
 * The chat server's storage contract. Consumers and REST routes talk to this interface (through
 * the domain services), never to SQL. Implemented once with Kysely over SQLite (default) and
 * PostgreSQL; one test suite runs against both.
 *
 * Every method that changes a room's history assigns the room's next `seq` in the same
 * transaction, so `seq` is gapless and unique per room even with several writers (nodes).
 * Resolving a promise means the change is durably committed.
 */

import type { Attachment, ChatMessage, Notification, PresenceStatus, UserRef } from '@switchboard/protocol';
import type { DocumentStore } from './documents.ts';

/** `disabled` can be enabled again; `deleted` is for good (the name stays taken, the history stays). */
export type AccountStatus = 'active' | 'disabled' | 'deleted';

export interface User {
  id: number;
  username: string;
  avatar: string | null;
  isAdmin: boolean;
  createdAt: string;
  status: AccountStatus;
  /** Tokens issued before this moment (ISO-8601) are refused; null when none were revoked. */
  revokedAt: string | null;
}

export interface UserWithSecret extends User {
  passwordHash: string;
}

export interface Room {
  id: number;
  slug: string;
  name: string;
  isPrivate: boolean;
  isDirect: boolean;
  hostId: number;
  lastSeq: number;
  createdAt: string;
}

export interface RoomSummary extends Room {
  /** Changes after the member's last read seq that are new messages by others. */
  unread: number;
  lastReadSeq: number;
}

/** One entry of a room's change log: what a resuming client replays. */
export type RoomChange =
  | { kind: 'created'; seq: number; message: ChatMessage }
  | { kind: 'edited'; seq: number; message: ChatMessage }
  | { kind: 'deleted'; seq: number; messageId: number };

export interface NewMessage {
  roomId: number;
  authorId: number;
  content: string;
  replyTo: number | null;
  clientId: string | null;
  attachments: Attachment[];
}

/** `created: false` means the (author, client_id) pair was already stored: the original is returned. */
export interface StoredMessage {
  message: ChatMessage;
  created: boolean;
}

export interface NewNotification {
  userId: number;
  title: string;
  message: string;
  category: string;
  url: string | null;
  /** The chat message it copies text from, so that text can be taken out again. */
  source?: { roomId: number; messageId: number };
}

/** A notification and the user it belongs to. */
export interface UserNotification {
  userId: number;
  notification: Notification;
}

export interface StoredFile {
  id: string;
  roomId: number;
  uploaderId: number;
  fileName: string;
  fileType: string;
  fileSize: number;
  sha256: string;
  /** Path relative to the files directory. */
  storagePath: string;
  createdAt: string;
}

/** A user sharing a room with someone, as presence shows them. */
export interface PeerProfile {
  id: number;
  username: string;
  avatar: string | null;
  lastSeen: string | null;
}

/** How far one member has read a room. */
export interface ReadPosition {
  user: UserRef;
  seq: number;
}

export interface PushSubscriptionRecord {
  id: number;
  userId: number;
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface Storage {
  readonly dialect: 'sqlite' | 'postgres';
  /** Collaborative documents (Yjs updates and snapshots); see documents.ts. */
  readonly documents: DocumentStore;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;

  // users
  createUser(username: string, passwordHash: string, isAdmin?: boolean): Promise<User>; // throws ConflictError on duplicate
  /** Deleted accounts are not found (their name stays taken: createUser still refuses it). */
  findUserByName(username: string): Promise<UserWithSecret | undefined>;
  findUserById(id: number): Promise<User | undefined>;
  setLastSeen(userId: number, at: string): Promise<void>;
  /** Makes exactly the listed usernames (any case) admins: ADMIN_USERS is the one source of that fact. */
  syncAdmins(usernames: readonly string[]): Promise<void>;
  /** Sets the account's status; `revokedAt` (when given) refuses every token issued before it. */
  setAccountStatus(userId: number, status: AccountStatus, revokedAt?: string): Promise<void>;
  lastSeen(userId: number): Promise<string | null>;

  // rooms and membership
  createRoom(input: {
    slug: string;
    name: string;
    isPrivate: boolean;
    isDirect: boolean;
    hostId: number;
  }): Promise<Room>; // ConflictError on duplicate slug
  findRoom(slug: string): Promise<Room | undefined>;
  addMember(roomId: number, userId: number): Promise<void>; // idempotent
  /** False when the user was not a member. */
  removeMember(roomId: number, userId: number): Promise<boolean>;
  isMember(roomId: number, userId: number): Promise<boolean>;
  /** The user's rooms with id > afterId, lowest id first, at most `limit`. */
  roomsOf(userId: number, afterId: number | null, limit: number): Promise<RoomSummary[]>;
  /**
   * Public rooms (not private, not direct) whose name or slug contains `query` (any case; every
   * room for an empty one), by id after `afterId`, at most `limit`.
   */
  publicRooms(query: string, afterId: number | null, limit: number): Promise<Room[]>;
  memberIds(roomId: number): Promise<number[]>;
  /** Users sharing at least one room with userId (excluding userId). */
  roomPeers(userId: number): Promise<number[]>;
  /** The same users with name and last-seen time, lowest id first, at most `limit`. */
  peerProfiles(userId: number, limit: number): Promise<PeerProfile[]>;

  // messages: each call commits the change with the room's next seq
  appendMessage(input: NewMessage): Promise<StoredMessage>;
  findMessage(id: number): Promise<ChatMessage | undefined>;
  /** The message `authorId` stored with `clientId`, in any room. */
  findMessageByClientId(authorId: number, clientId: string): Promise<ChatMessage | undefined>;
  editMessage(messageId: number, content: string): Promise<ChatMessage>; // returns the message with its new seq
  deleteMessage(messageId: number): Promise<{ seq: number; roomSlug: string }>;
  /** Current state of messages, newest first, with seq < beforeSeq. Deleted ones are tombstones (content ''). */
  history(roomId: number, beforeSeq: number | null, limit: number): Promise<ChatMessage[]>;
  /** Every change with seq > afterSeq, oldest first, at most `limit`. */
  changesSince(roomId: number, afterSeq: number, limit: number): Promise<RoomChange[]>;

  // read receipts
  markRoomRead(roomId: number, userId: number, seq: number): Promise<number>; // returns the stored (max) seq
  /** Members' last read seq, lowest user id first, user ids above afterUserId, at most `limit`. */
  readPositions(roomId: number, afterUserId: number | null, limit: number): Promise<ReadPosition[]>;

  // notifications
  createNotification(input: NewNotification): Promise<Notification>;
  /**
   * Creates `content` for each of `userIds` who has no unread notification with the same category
   * and url yet, so a busy room notifies an absent member once rather than per message. Returns the
   * notifications created with their users. Best effort under concurrency: two writers may both
   * create one.
   */
  createNotificationsOnce(
    userIds: number[],
    content: Omit<NewNotification, 'userId'>,
  ): Promise<UserNotification[]>;
  /** Sets the text of the `category` notifications made from a message; returns those that changed. */
  retextNotifications(messageId: number, category: string, text: string): Promise<UserNotification[]>;
  /** Empties the text of a user's notifications made from a room's messages; returns those that changed. */
  redactRoomNotifications(roomId: number, userId: number): Promise<UserNotification[]>;
  listNotifications(userId: number, beforeId: number | null, limit: number): Promise<Notification[]>;
  /** Marks one read if it belongs to userId; false if no such notification of theirs. */
  markNotificationRead(userId: number, notificationId: number): Promise<boolean>;
  markAllNotificationsRead(userId: number): Promise<void>;
  unreadNotificationCount(userId: number): Promise<number>;

  // files
  saveFile(file: StoredFile): Promise<void>;
  findFile(id: string): Promise<StoredFile | undefined>;
  /** Bytes of every file the user uploaded. */
  uploadedBytes(userId: number): Promise<number>;
  /** Forgets a file record (one attached to nothing); no error if there is none. */
  deleteFile(id: string): Promise<void>;

  // web push
  savePushSubscription(
    userId: number,
    sub: { endpoint: string; p256dh: string; auth: string },
  ): Promise<void>;
  pushSubscriptionsOf(userId: number): Promise<PushSubscriptionRecord[]>;
  deletePushSubscription(endpoint: string): Promise<void>;
}

export class ConflictError extends Error {}
export class NotFoundError extends Error {}
/** Too many writes are queued; nothing was stored and the caller may retry (SERVICE_UNAVAILABLE). */
export class OverloadedError extends Error {}

export type { PresenceStatus };
