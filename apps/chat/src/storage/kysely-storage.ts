/**
 * The one implementation of the storage contract, written once in Kysely for both dialects.
 * `open-storage.ts` builds it over SQLite or PostgreSQL; nothing here depends on which.
 */
import type { ChatMessage, Notification } from '@switchboard/protocol';
import { type Kysely, Migrator, sql } from 'kysely';
import { appendMessages, ResendInBatchError } from './append-messages.ts';
import { isForeignKeyViolation, isUniqueViolation } from './db-errors.ts';
import { DocumentStore } from './documents.ts';
import { GroupCommit } from './group-commit.ts';
import { migrationProvider, type SqlDialect } from './migrations/index.ts';
import {
  type MessageRow,
  selectMessages,
  toChatMessage,
  toNotification,
  toPushSubscription,
  toRoom,
  toUser,
  toUserWithSecret,
} from './rows.ts';
import type { Database } from './schema.ts';
import {
  type AccountStatus,
  ConflictError,
  type NewMessage,
  type NewNotification,
  NotFoundError,
  type PeerProfile,
  type PushSubscriptionRecord,
  type ReadPosition,
  type Room,
  type RoomChange,
  type RoomSummary,
  type Storage,
  type StoredFile,
  type StoredMessage,
  type User,
  type UserNotification,
  type UserWithSecret,
} from './storage.ts';

/** Most rows one history, change-log or notification page returns, whatever the caller asks. */
const MAX_PAGE = 1000;
/** Users checked and notified per statement by createNotificationsOnce. */
const NOTIFY_BATCH = 200;
/** Most messages committed in one transaction: bounds statement size and a batch's latency. */
const MAX_APPEND_BATCH = 512;
/** Most appends waiting for the database before new ones are refused. */
const MAX_PENDING_APPENDS = 20_000;

export class KyselyStorage implements Storage {
  private readonly appends: GroupCommit<NewMessage, StoredMessage>;
  readonly documents: DocumentStore;

  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: SqlDialect,
  ) {
    this.documents = new DocumentStore(db);
    this.appends = new GroupCommit((batch) => this.commitAppends(batch), {
      maxBatch: MAX_APPEND_BATCH,
      maxPending: MAX_PENDING_APPENDS,
      isItemError: (e) =>
        e instanceof ResendInBatchError ||
        e instanceof NotFoundError ||
        isUniqueViolation(e) ||
        isForeignKeyViolation(e),
    });
  }

  async migrate(): Promise<void> {
    const { error } = await new Migrator({
      db: this.db,
      provider: migrationProvider(this.dialect),
    }).migrateToLatest();
    if (error) throw error;
  }

  async close(): Promise<void> {
    await this.appends.close();
    await this.documents.close();
    await this.db.destroy();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  // --- users ----------------------------------------------------------------------------------

  async createUser(username: string, passwordHash: string, isAdmin = false): Promise<User> {
    try {
      const row = await this.db
        .insertInto('users')
        .values({
          username,
          password_hash: passwordHash,
          avatar: null,
          is_admin: isAdmin ? 1 : 0,
          created_at: new Date().toISOString(),
          last_seen: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('A user with that username already exists.');
      throw error;
    }
  }

  async findUserByName(username: string): Promise<UserWithSecret | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where(sql<string>`lower(username)`, '=', username.toLowerCase())
      .where('status', '!=', 'deleted')
      .executeTakeFirst();
    return row && toUserWithSecret(row);
  }

  async findUserById(id: number): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .where('status', '!=', 'deleted')
      .executeTakeFirst();
    return row && toUser(row);
  }

  async setLastSeen(userId: number, at: string): Promise<void> {
    await this.db.updateTable('users').set({ last_seen: at }).where('id', '=', userId).execute();
  }

  async syncAdmins(usernames: readonly string[]): Promise<void> {
    const names = usernames.map((name) => name.toLowerCase());
    const lower = sql<string>`lower(username)`;
    await this.db.transaction().execute(async (tx) => {
      const demote = tx.updateTable('users').set({ is_admin: 0 });
      await (names.length > 0 ? demote.where(lower, 'not in', names) : demote).execute();
      if (names.length > 0)
        await tx.updateTable('users').set({ is_admin: 1 }).where(lower, 'in', names).execute();
    });
  }

  async setAccountStatus(userId: number, status: AccountStatus, revokedAt?: string): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ status, ...(revokedAt === undefined ? {} : { revoked_at: revokedAt }) })
      .where('id', '=', userId)
      .execute();
  }

  async lastSeen(userId: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('users')
      .select('last_seen')
      .where('id', '=', userId)
      .executeTakeFirst();
    return row?.last_seen ?? null;
  }

  // --- rooms and membership -------------------------------------------------------------------

  /** The host becomes a member in the same transaction: a room never exists without its host. */
  async createRoom(input: {
    slug: string;
    name: string;
    isPrivate: boolean;
    isDirect: boolean;
    hostId: number;
  }): Promise<Room> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const now = new Date().toISOString();
        const row = await trx
          .insertInto('rooms')
          .values({
            slug: input.slug,
            name: input.name,
            is_private: input.isPrivate ? 1 : 0,
            is_direct: input.isDirect ? 1 : 0,
            host_id: input.hostId,
            last_seq: 0,
            created_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('room_members')
          .values({ room_id: row.id, user_id: input.hostId, last_read_seq: 0, joined_at: now })
          .execute();
        return toRoom(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('A room with that slug already exists.');
      if (isForeignKeyViolation(error)) throw new NotFoundError('User not found.');
      throw error;
    }
  }

  async findRoom(slug: string): Promise<Room | undefined> {
    const row = await this.db.selectFrom('rooms').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row && toRoom(row);
  }

  async addMember(roomId: number, userId: number): Promise<void> {
    try {
      await this.db
        .insertInto('room_members')
        .values({ room_id: roomId, user_id: userId, last_read_seq: 0, joined_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
        .execute();
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError('Room or user not found.');
      throw error;
    }
  }

  async removeMember(roomId: number, userId: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('room_members')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async isMember(roomId: number, userId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('room_members')
      .select('user_id')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Unread counts others' messages after the member's last read seq; deleted ones no longer count. */
  async roomsOf(userId: number, afterId: number | null, limit: number): Promise<RoomSummary[]> {
    const rows = await this.db
      .selectFrom('room_members as rm')
      .innerJoin('rooms as r', 'r.id', 'rm.room_id')
      .selectAll('r')
      .select('rm.last_read_seq')
      .select((eb) =>
        eb
          .selectFrom('messages as m')
          .select(eb.fn.countAll().as('n'))
          .whereRef('m.room_id', '=', 'r.id')
          .whereRef('m.seq', '>', 'rm.last_read_seq')
          .where('m.author_id', '<>', userId)
          .where('m.deleted', '=', 0)
          .as('unread'),
      )
      .where('rm.user_id', '=', userId)
      .$if(afterId !== null, (qb) => qb.where('r.id', '>', afterId!))
      .orderBy('r.id')
      .limit(pageSize(limit))
      .execute();
    return rows.map((row) => ({
      ...toRoom(row),
      unread: Number(row.unread ?? 0),
      lastReadSeq: row.last_read_seq,
    }));
  }

  async memberIds(roomId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('room_members')
      .select('user_id')
      .where('room_id', '=', roomId)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  async roomPeers(userId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('room_members')
      .select('user_id')
      .distinct()
      .where('room_id', 'in', (eb) =>
        eb.selectFrom('room_members').select('room_id').where('user_id', '=', userId),
      )
      .where('user_id', '<>', userId)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  async peerProfiles(userId: number, limit: number): Promise<PeerProfile[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'avatar', 'last_seen'])
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('room_members')
          .select('user_id')
          .where('room_id', 'in', (inner) =>
            inner.selectFrom('room_members').select('room_id').where('user_id', '=', userId),
          ),
      )
      .where('id', '<>', userId)
      .orderBy('id')
      .limit(pageSize(limit))
      .execute();
    return rows.map((r) => ({ id: r.id, username: r.username, avatar: r.avatar, lastSeen: r.last_seen }));
  }

  // --- messages -------------------------------------------------------------------------------

  appendMessage(input: NewMessage): Promise<StoredMessage> {
    return this.appends.submit(input);
  }

  private async commitAppends(batch: NewMessage[]): Promise<StoredMessage[]> {
    try {
      return await appendMessages(this.db, batch);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError('The replied-to message does not exist.');
      throw error;
    }
  }

  async findMessage(id: number): Promise<ChatMessage | undefined> {
    const row = await selectMessages(this.db).where('m.id', '=', id).executeTakeFirst();
    return row && toChatMessage(row);
  }

  async findMessageByClientId(authorId: number, clientId: string): Promise<ChatMessage | undefined> {
    const row = await selectMessages(this.db)
      .where('m.author_id', '=', authorId)
      .where('m.client_id', '=', clientId)
      .executeTakeFirst();
    return row && toChatMessage(row);
  }

  /** The returned message carries the edit's seq, as the `message_edited` frame does. */
  async editMessage(messageId: number, content: string): Promise<ChatMessage> {
    return this.db.transaction().execute(async (trx) => {
      const seq = await claimNextSeq(trx, messageId);
      // Checked after the room's row is locked, so a concurrent delete cannot slip in between.
      const edited = await trx
        .updateTable('messages')
        .set({ content, edited: 1 })
        .where('id', '=', messageId)
        .where('deleted', '=', 0)
        .executeTakeFirst();
      if (edited.numUpdatedRows === 0n) throw new NotFoundError('Message not found.');
      const row = await selectMessages(trx).where('m.id', '=', messageId).executeTakeFirstOrThrow();
      await trx
        .insertInto('room_changes')
        .values({ room_id: seq.roomId, seq: seq.seq, kind: 'edited', message_id: messageId })
        .execute();
      return { ...toChatMessage(row), seq: seq.seq };
    });
  }

  /** Leaves a tombstone: the text and attachments are erased, the id and place in history stay. */
  async deleteMessage(messageId: number): Promise<{ seq: number; roomSlug: string }> {
    return this.db.transaction().execute(async (trx) => {
      const seq = await claimNextSeq(trx, messageId);
      const deleted = await trx
        .updateTable('messages')
        .set({ content: '', attachments: '[]', deleted: 1 })
        .where('id', '=', messageId)
        .where('deleted', '=', 0)
        .executeTakeFirst();
      if (deleted.numUpdatedRows === 0n) throw new NotFoundError('Message not found.');
      await trx
        .insertInto('room_changes')
        .values({ room_id: seq.roomId, seq: seq.seq, kind: 'deleted', message_id: messageId })
        .execute();
      return { seq: seq.seq, roomSlug: seq.roomSlug };
    });
  }

  /** Messages keep the seq of their creation here: their place in the room's history. */
  async history(roomId: number, beforeSeq: number | null, limit: number): Promise<ChatMessage[]> {
    const rows = await selectMessages(this.db)
      .where('m.room_id', '=', roomId)
      .$if(beforeSeq !== null, (qb) => qb.where('m.seq', '<', beforeSeq!))
      .orderBy('m.seq', 'desc')
      .limit(pageSize(limit))
      .execute();
    return rows.map(toChatMessage);
  }

  /**
   * Replays the change log. Each entry shows the message as it is now (a deleted one as a tombstone),
   * and an edit carries the edit's seq, exactly as the live frames did.
   */
  async changesSince(roomId: number, afterSeq: number, limit: number): Promise<RoomChange[]> {
    const rows = await selectMessages(this.db)
      .innerJoin('room_changes as c', 'c.message_id', 'm.id')
      .select(['c.seq as change_seq', 'c.kind'])
      .where('c.room_id', '=', roomId)
      .where('c.seq', '>', afterSeq)
      .orderBy('c.seq')
      .limit(pageSize(limit))
      .execute();
    return rows.map((row) => toRoomChange(row));
  }

  // --- read receipts --------------------------------------------------------------------------

  /** Keeps the highest seq seen, never beyond the room's latest change. */
  async markRoomRead(roomId: number, userId: number, seq: number): Promise<number> {
    const room = await this.db
      .selectFrom('rooms')
      .select('last_seq')
      .where('id', '=', roomId)
      .executeTakeFirst();
    if (!room) throw new NotFoundError('Room not found.');
    const target = Math.min(seq, room.last_seq);
    await this.db
      .updateTable('room_members')
      .set({ last_read_seq: target })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('last_read_seq', '<', target)
      .execute();
    const member = await this.db
      .selectFrom('room_members')
      .select('last_read_seq')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!member) throw new NotFoundError('Not a member of this room.');
    return member.last_read_seq;
  }

  async readPositions(roomId: number, afterUserId: number | null, limit: number): Promise<ReadPosition[]> {
    const rows = await this.db
      .selectFrom('room_members as rm')
      .innerJoin('users as u', 'u.id', 'rm.user_id')
      .select(['u.id', 'u.username', 'u.avatar', 'rm.last_read_seq'])
      .where('rm.room_id', '=', roomId)
      .$if(afterUserId !== null, (qb) => qb.where('u.id', '>', afterUserId!))
      .orderBy('u.id')
      .limit(pageSize(limit))
      .execute();
    return rows.map((r) => ({
      user: { id: r.id, username: r.username, avatar: r.avatar },
      seq: r.last_read_seq,
    }));
  }

  // --- notifications --------------------------------------------------------------------------

  async createNotification(input: NewNotification): Promise<Notification> {
    try {
      const row = await this.db
        .insertInto('notifications')
        .values({
          user_id: input.userId,
          title: input.title,
          message: input.message,
          category: input.category,
          url: input.url,
          created_at: new Date().toISOString(),
          read_at: null,
          room_id: input.source?.roomId ?? null,
          message_id: input.source?.messageId ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toNotification(row);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError('User not found.');
      throw error;
    }
  }

  async createNotificationsOnce(
    userIds: number[],
    content: Omit<NewNotification, 'userId'>,
  ): Promise<UserNotification[]> {
    const created: UserNotification[] = [];
    const wanted = [...new Set(userIds)];
    for (let i = 0; i < wanted.length; i += NOTIFY_BATCH) {
      const batch = wanted.slice(i, i + NOTIFY_BATCH);
      const pending = await this.db
        .selectFrom('notifications')
        .select('user_id')
        .where('user_id', 'in', batch)
        .where('category', '=', content.category)
        .where((eb) => (content.url === null ? eb('url', 'is', null) : eb('url', '=', content.url)))
        .where('read_at', 'is', null)
        .execute();
      const already = new Set(pending.map((r) => r.user_id));
      const fresh = batch.filter((id) => !already.has(id));
      if (fresh.length === 0) continue;
      const now = new Date().toISOString();
      const rows = await this.db
        .insertInto('notifications')
        .values(
          fresh.map((userId) => ({
            user_id: userId,
            title: content.title,
            message: content.message,
            category: content.category,
            url: content.url,
            created_at: now,
            read_at: null,
            room_id: content.source?.roomId ?? null,
            message_id: content.source?.messageId ?? null,
          })),
        )
        .returningAll()
        .execute();
      created.push(...rows.map((row) => ({ userId: row.user_id, notification: toNotification(row) })));
    }
    return created;
  }

  async retextNotifications(messageId: number, category: string, text: string): Promise<UserNotification[]> {
    const rows = await this.db
      .updateTable('notifications')
      .set({ message: text })
      .where('message_id', '=', messageId)
      .where('category', '=', category)
      .where('message', '<>', text)
      .returningAll()
      .execute();
    return rows.map((row) => ({ userId: row.user_id, notification: toNotification(row) }));
  }

  async redactRoomNotifications(roomId: number, userId: number): Promise<UserNotification[]> {
    const rows = await this.db
      .updateTable('notifications')
      .set({ message: '' })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('message', '<>', '')
      .returningAll()
      .execute();
    return rows.map((row) => ({ userId: row.user_id, notification: toNotification(row) }));
  }

  async listNotifications(userId: number, beforeId: number | null, limit: number): Promise<Notification[]> {
    const rows = await this.db
      .selectFrom('notifications')
      .selectAll()
      .where('user_id', '=', userId)
      .$if(beforeId !== null, (qb) => qb.where('id', '<', beforeId!))
      .orderBy('id', 'desc')
      .limit(pageSize(limit))
      .execute();
    return rows.map(toNotification);
  }

  async markNotificationRead(userId: number, notificationId: number): Promise<boolean> {
    const result = await this.db
      .updateTable('notifications')
      .set((eb) => ({ read_at: eb.fn.coalesce('read_at', eb.val(new Date().toISOString())) }))
      .where('id', '=', notificationId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async markAllNotificationsRead(userId: number): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({ read_at: new Date().toISOString() })
      .where('user_id', '=', userId)
      .where('read_at', 'is', null)
      .execute();
  }

  async unreadNotificationCount(userId: number): Promise<number> {
    const row = await this.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('user_id', '=', userId)
      .where('read_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // --- files ----------------------------------------------------------------------------------

  async saveFile(file: StoredFile): Promise<void> {
    try {
      await this.db
        .insertInto('files')
        .values({
          id: file.id,
          room_id: file.roomId,
          uploader_id: file.uploaderId,
          file_name: file.fileName,
          file_type: file.fileType,
          file_size: file.fileSize,
          sha256: file.sha256,
          storage_path: file.storagePath,
          created_at: file.createdAt,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError('A file with that id already exists.');
      if (isForeignKeyViolation(error)) throw new NotFoundError('Room or uploader not found.');
      throw error;
    }
  }

  async findFile(id: string): Promise<StoredFile | undefined> {
    const row = await this.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      row && {
        id: row.id,
        roomId: row.room_id,
        uploaderId: row.uploader_id,
        fileName: row.file_name,
        fileType: row.file_type,
        fileSize: row.file_size,
        sha256: row.sha256,
        storagePath: row.storage_path,
        createdAt: row.created_at,
      }
    );
  }

  async uploadedBytes(userId: number): Promise<number> {
    const row = await this.db
      .selectFrom('files')
      .select((eb) => eb.fn.sum<number | string | null>('file_size').as('bytes'))
      .where('uploader_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.bytes ?? 0);
  }

  async deleteFile(id: string): Promise<void> {
    await this.db.deleteFrom('files').where('id', '=', id).execute();
  }

  // --- web push -------------------------------------------------------------------------------

  /** An endpoint belongs to one browser: re-subscribing moves it to the user who did it last. */
  async savePushSubscription(
    userId: number,
    sub: { endpoint: string; p256dh: string; auth: string },
  ): Promise<void> {
    try {
      await this.db
        .insertInto('push_subscriptions')
        .values({
          user_id: userId,
          endpoint: sub.endpoint,
          p256dh: sub.p256dh,
          auth: sub.auth,
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) =>
          oc.column('endpoint').doUpdateSet({ user_id: userId, p256dh: sub.p256dh, auth: sub.auth }),
        )
        .execute();
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new NotFoundError('User not found.');
      throw error;
    }
  }

  async pushSubscriptionsOf(userId: number): Promise<PushSubscriptionRecord[]> {
    const rows = await this.db
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return rows.map(toPushSubscription);
  }

  async deletePushSubscription(endpoint: string): Promise<void> {
    await this.db.deleteFrom('push_subscriptions').where('endpoint', '=', endpoint).execute();
  }
}

/**
 * Takes the next seq of the room a message lives in. The UPDATE row-locks the room (PostgreSQL) or
 * takes the write lock (SQLite) until the transaction ends, so no other change can take the same seq.
 */
async function claimNextSeq(
  trx: Kysely<Database>,
  messageId: number,
): Promise<{ roomId: number; roomSlug: string; seq: number }> {
  const room = await trx
    .updateTable('rooms')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
    .where('id', '=', (eb) => eb.selectFrom('messages').select('room_id').where('id', '=', messageId))
    .returning(['id', 'slug', 'last_seq'])
    .executeTakeFirst();
  if (!room) throw new NotFoundError('Message not found.');
  return { roomId: room.id, roomSlug: room.slug, seq: room.last_seq };
}

function toRoomChange(row: MessageRow & { change_seq: number; kind: string }): RoomChange {
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

function pageSize(limit: number): number {
  return Math.max(0, Math.min(Math.trunc(limit), MAX_PAGE));
}
