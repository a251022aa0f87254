/**
 * One behaviour suite for the storage contract, run against a SQLite file and a fresh PostgreSQL
 * database. PostgreSQL is skipped with a message when it is not reachable, except under CI=true.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attachment } from '@switchboard/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../src/storage/open-storage.ts';
import { ConflictError, type NewMessage, NotFoundError, type Storage } from '../src/storage/storage.ts';

/** A database that lives for one suite run: `open` may be called many times (several writers). */
interface TestDatabase {
  open(): Promise<Storage>;
  drop(): Promise<void>;
}

const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function sqliteDatabase(): TestDatabase {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-storage-'));
  return {
    open: () => openStorage({ dataDir }),
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function postgresDatabase(): Promise<TestDatabase> {
  const name = `switchboard_storage_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    open: () => openStorage({ databaseUrl: url.toString(), dataDir: tmpdir() }),
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

let counter = 0;
/** Names unique within a run, so tests sharing one database never collide. */
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

function storageSuite(label: string, createDatabase: () => Promise<TestDatabase>): void {
  describe(`storage on ${label}`, () => {
    let database: TestDatabase;
    let storage: Storage;
    const extraInstances: Storage[] = [];

    beforeAll(async () => {
      database = await createDatabase();
      storage = await database.open();
      await storage.migrate();
    });

    afterAll(async () => {
      for (const s of extraInstances) await s.close();
      await storage?.close();
      await database?.drop();
    });

    /** Another Storage on the same database: a second connection (SQLite) or pool (PostgreSQL). */
    async function secondWriter(): Promise<Storage> {
      const other = await database.open();
      extraInstances.push(other);
      await other.migrate();
      return other;
    }

    async function user(name = 'user') {
      return storage.createUser(unique(name), 'hash');
    }

    async function roomWith(...memberIds: number[]) {
      const room = await storage.createRoom({
        slug: unique('room-'),
        name: 'A room',
        isPrivate: false,
        isDirect: false,
        hostId: memberIds[0]!,
      });
      for (const id of memberIds.slice(1)) await storage.addMember(room.id, id);
      return room;
    }

    function message(
      roomId: number,
      authorId: number,
      content: string,
      extra: Partial<NewMessage> = {},
    ): NewMessage {
      return { roomId, authorId, content, replyTo: null, clientId: null, attachments: [], ...extra };
    }

    it('reports the dialect, answers ping, and migrates again without harm', async () => {
      expect(storage.dialect).toBe(label === 'SQLite' ? 'sqlite' : 'postgres');
      await storage.ping();
      await storage.migrate();
    });

    describe('users', () => {
      it('creates users and finds them by name (any case) and id, with the hash', async () => {
        const name = unique('Alice');
        const created = await storage.createUser(name, 'scrypt$hash', true);
        expect(created).toMatchObject({ username: name, avatar: null, isAdmin: true });
        expect(Number.isInteger(created.id)).toBe(true);
        expect(await storage.findUserById(created.id)).toEqual(created);
        expect(await storage.findUserByName(name.toLowerCase())).toEqual({
          ...created,
          passwordHash: 'scrypt$hash',
        });
        expect(await storage.findUserByName('nobody-here')).toBeUndefined();
        expect(await storage.findUserById(987_654)).toBeUndefined();
      });

      it('refuses a duplicate username, also in another case, with ConflictError', async () => {
        const name = unique('bob');
        await storage.createUser(name, 'h');
        await expect(storage.createUser(name, 'h')).rejects.toBeInstanceOf(ConflictError);
        await expect(storage.createUser(name.toUpperCase(), 'h')).rejects.toBeInstanceOf(ConflictError);
      });

      it('stores last seen', async () => {
        const u = await user();
        expect(await storage.lastSeen(u.id)).toBeNull();
        await storage.setLastSeen(u.id, '2030-01-02T03:04:05.000Z');
        expect(await storage.lastSeen(u.id)).toBe('2030-01-02T03:04:05.000Z');
      });

      it('makes exactly the listed users admins, whatever the case of their names', async () => {
        const [a, b, c] = [await user('Root'), await user('ops'), await user('plain')];
        await storage.syncAdmins([a.username.toUpperCase(), b.username]);
        expect((await storage.findUserById(a.id))?.isAdmin).toBe(true);
        expect((await storage.findUserById(b.id))?.isAdmin).toBe(true);
        expect((await storage.findUserById(c.id))?.isAdmin).toBe(false);
        await storage.syncAdmins([b.username]);
        expect((await storage.findUserById(a.id))?.isAdmin).toBe(false);
        await storage.syncAdmins([]);
        expect((await storage.findUserById(b.id))?.isAdmin).toBe(false);
      });

      it('stores an account status and the moment its tokens were revoked', async () => {
        const u = await user();
        expect(await storage.findUserById(u.id)).toMatchObject({ status: 'active', revokedAt: null });
        await storage.setAccountStatus(u.id, 'disabled', '2030-01-02T03:04:05.000Z');
        expect(await storage.findUserById(u.id)).toMatchObject({
          status: 'disabled',
          revokedAt: '2030-01-02T03:04:05.000Z',
        });
        // Enabling keeps the revocation: tokens from before it stay refused.
        await storage.setAccountStatus(u.id, 'active');
        expect(await storage.findUserByName(u.username)).toMatchObject({
          status: 'active',
          revokedAt: '2030-01-02T03:04:05.000Z',
        });
        // A deleted account is gone for every lookup, but its name stays taken.
        await storage.setAccountStatus(u.id, 'deleted', '2030-01-03T00:00:00.000Z');
        expect(await storage.findUserById(u.id)).toBeUndefined();
        expect(await storage.findUserByName(u.username)).toBeUndefined();
        await expect(storage.createUser(u.username, 'h')).rejects.toBeInstanceOf(ConflictError);
      });
    });

    describe('rooms and membership', () => {
      it('creates a room whose host is a member, and refuses a duplicate slug', async () => {
        const host = await user();
        const slug = unique('general-');
        const room = await storage.createRoom({
          slug,
          name: 'General',
          isPrivate: true,
          isDirect: false,
          hostId: host.id,
        });
        expect(room).toMatchObject({
          slug,
          name: 'General',
          isPrivate: true,
          isDirect: false,
          hostId: host.id,
          lastSeq: 0,
        });
        expect(await storage.findRoom(slug)).toEqual(room);
        expect(await storage.isMember(room.id, host.id)).toBe(true);
        await expect(
          storage.createRoom({ slug, name: 'Other', isPrivate: false, isDirect: false, hostId: host.id }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await storage.findRoom('no-such-room')).toBeUndefined();
      });

      it('finds public rooms by name or slug, any case, LIKE wildcards literal, paged by id', async () => {
        const host = await user('directory');
        const tag = unique('dir')
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '');
        const make = (slug: string, name: string, isPrivate = false) =>
          storage.createRoom({ slug, name, isPrivate, isDirect: false, hostId: host.id });
        const first = await make(`${tag}-one`, 'Gardening Club');
        const second = await make(`${tag}-two`, `${tag.toUpperCase()} 100% cotton`);
        await make(`${tag}-secret`, `${tag} secret`, true);
        expect((await storage.publicRooms(tag, null, 10)).map((r) => r.slug)).toEqual([
          first.slug,
          second.slug,
        ]);
        expect((await storage.publicRooms(`${tag} 100%`, null, 10)).map((r) => r.slug)).toEqual([
          second.slug,
        ]);
        expect(await storage.publicRooms(`${tag}_`, null, 10)).toEqual([]);
        expect((await storage.publicRooms(tag, first.id, 10)).map((r) => r.slug)).toEqual([second.slug]);
        expect((await storage.publicRooms(tag, null, 1)).map((r) => r.slug)).toEqual([first.slug]);
      });

      it('adds members idempotently, lists them, removes them, and finds peers', async () => {
        const [a, b, c, loner] = [await user(), await user(), await user(), await user()];
        const room1 = await roomWith(a.id, b.id);
        const room2 = await roomWith(c.id);
        await storage.addMember(room2.id, a.id);
        await storage.addMember(room2.id, a.id);
        expect(await storage.memberIds(room1.id)).toEqual([a.id, b.id]);
        expect(await storage.memberIds(room2.id)).toEqual([a.id, c.id].sort((x, y) => x - y));
        expect(await storage.roomPeers(a.id)).toEqual([b.id, c.id]);
        expect(await storage.roomPeers(loner.id)).toEqual([]);

        expect(await storage.removeMember(room1.id, b.id)).toBe(true);
        expect(await storage.removeMember(room1.id, b.id)).toBe(false);
        expect(await storage.isMember(room1.id, b.id)).toBe(false);
        expect(await storage.roomPeers(b.id)).toEqual([]);
        await expect(storage.addMember(room1.id, 999_999)).rejects.toBeInstanceOf(NotFoundError);
      });

      it('lists peers with name and last seen, lowest id first, bounded by the limit', async () => {
        const [a, b, c, loner] = [await user(), await user(), await user(), await user()];
        await roomWith(a.id, b.id);
        await roomWith(c.id, a.id);
        await storage.setLastSeen(b.id, '2024-01-02T03:04:05.000Z');
        expect(await storage.peerProfiles(a.id, 10)).toEqual([
          { id: b.id, username: b.username, avatar: null, lastSeen: '2024-01-02T03:04:05.000Z' },
          { id: c.id, username: c.username, avatar: null, lastSeen: null },
        ]);
        expect((await storage.peerProfiles(a.id, 1)).map((p) => p.id)).toEqual([b.id]);
        expect(await storage.peerProfiles(b.id, 10)).toEqual([expect.objectContaining({ id: a.id })]);
        expect(await storage.peerProfiles(loner.id, 10)).toEqual([]);
      });

      it("lists my rooms with unread counts of others' live messages after my last read", async () => {
        const [alice, bob] = [await user(), await user()];
        const room = await roomWith(alice.id, bob.id);
        const own = await roomWith(alice.id);
        const m1 = await storage.appendMessage(message(room.id, bob.id, 'one'));
        await storage.appendMessage(message(room.id, bob.id, 'two'));
        const m3 = await storage.appendMessage(message(room.id, bob.id, 'three'));
        await storage.appendMessage(message(room.id, alice.id, 'mine'));

        let rooms = await storage.roomsOf(alice.id, null, 100);
        expect(rooms.map((r) => r.slug)).toEqual([room.slug, own.slug]);
        expect(rooms[0]).toMatchObject({ id: room.id, unread: 3, lastReadSeq: 0, lastSeq: 4 });
        expect(rooms[1]).toMatchObject({ unread: 0, lastSeq: 0 });

        await storage.markRoomRead(room.id, alice.id, m1.message.seq);
        await storage.deleteMessage(m3.message.id);
        rooms = await storage.roomsOf(alice.id, null, 100);
        expect(rooms[0]).toMatchObject({ unread: 1, lastReadSeq: m1.message.seq });
        expect((await storage.roomsOf(bob.id, null, 100))[0]).toMatchObject({ unread: 1 });
      });
    });

    describe('messages', () => {
      it('stores a message with its author, room, attachments and the next seq', async () => {
        const alice = await user('alice');
        const room = await roomWith(alice.id);
        const attachments: Attachment[] = [
          { id: 'f1', file_name: 'a.png', file_size: 12, file_type: 'image/png', url: '/api/files/f1/' },
        ];
        const first = await storage.appendMessage(message(room.id, alice.id, 'hello', { clientId: 'c-1' }));
        const reply = await storage.appendMessage(
          message(room.id, alice.id, 'see file', { replyTo: first.message.id, attachments }),
        );
        expect(first.created).toBe(true);
        expect(first.message).toMatchObject({
          seq: 1,
          room: room.slug,
          content: 'hello',
          author: { id: alice.id, username: alice.username, avatar: null },
          reply_to: null,
          attachments: [],
          edited: false,
          deleted: false,
          client_id: 'c-1',
        });
        expect(new Date(first.message.timestamp).toISOString()).toBe(first.message.timestamp);
        expect(reply.message).toMatchObject({ seq: 2, reply_to: first.message.id, attachments });
        expect(await storage.findMessage(reply.message.id)).toEqual(reply.message);
        expect(await storage.findMessage(999_999)).toBeUndefined();
        expect((await storage.findRoom(room.slug))?.lastSeq).toBe(2);
      });

      it('keeps seq gapless and unique under 200 concurrent appends from two writers', async () => {
        const other = await secondWriter();
        const [a, b] = [await user(), await user()];
        const room = await roomWith(a.id, b.id);
        const writes = Array.from({ length: 200 }, (_, i) =>
          (i % 2 === 0 ? storage : other).appendMessage(message(room.id, i % 2 === 0 ? a.id : b.id, `m${i}`)),
        );
        const results = await Promise.all(writes);

        const seqs = results.map((r) => r.message.seq).sort((x, y) => x - y);
        expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        expect(new Set(results.map((r) => r.message.id)).size).toBe(200);
        expect((await other.findRoom(room.slug))?.lastSeq).toBe(200);
        const changes = await storage.changesSince(room.id, 0, 1000);
        expect(changes.map((c) => c.seq)).toEqual(seqs);
        expect(changes.every((c) => c.kind === 'created')).toBe(true);
      });

      it('stores concurrent resends of one client_id once, from two writers, without a seq gap', async () => {
        const other = await secondWriter();
        const alice = await user();
        const room = await roomWith(alice.id);
        const first = message(room.id, alice.id, 'once', { clientId: 'offline-7' });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? storage : other).appendMessage(first)),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
        expect(results.every((r) => r.message.seq === 1 && r.message.content === 'once')).toBe(true);

        // A later resend, even with other text, returns the original untouched.
        const late = await storage.appendMessage({ ...first, content: 'changed' });
        expect(late).toEqual({ created: false, message: results[0]!.message });

        const next = await other.appendMessage(message(room.id, alice.id, 'next'));
        expect(next.message.seq).toBe(2);
        expect((await storage.changesSince(room.id, 0, 10)).map((c) => c.seq)).toEqual([1, 2]);
      });

      it('mixes resends and new messages in one burst: new ones stored in order, no gap', async () => {
        const alice = await user();
        const room = await roomWith(alice.id);
        await storage.appendMessage(message(room.id, alice.id, 'stored', { clientId: 'k0' }));
        const burst = await Promise.all([
          storage.appendMessage(message(room.id, alice.id, 'n1', { clientId: 'k1' })),
          storage.appendMessage(message(room.id, alice.id, 'stored', { clientId: 'k0' })),
          storage.appendMessage(message(room.id, alice.id, 'n2', { clientId: 'k2' })),
          storage.appendMessage(message(room.id, alice.id, 'n1', { clientId: 'k1' })),
          storage.appendMessage(message(room.id, alice.id, 'n3')),
        ]);
        expect(burst.map((r) => [r.message.content, r.message.seq, r.created])).toEqual([
          ['n1', 2, true],
          ['stored', 1, false],
          ['n2', 3, true],
          ['n1', 2, false],
          ['n3', 4, true],
        ]);
        expect((await storage.findRoom(room.slug))?.lastSeq).toBe(4);
      });

      it('fails only the bad message of a burst, with NotFoundError, and burns no seq', async () => {
        const alice = await user();
        const room = await roomWith(alice.id);
        const burst = await Promise.allSettled([
          storage.appendMessage(message(room.id, alice.id, 'good 1')),
          storage.appendMessage(message(room.id, alice.id, 'bad reply', { replyTo: 999_999 })),
          storage.appendMessage(message(999_999, alice.id, 'no such room')),
          storage.appendMessage(message(room.id, 999_999, 'no such author')),
          storage.appendMessage(message(room.id, alice.id, 'good 2')),
        ]);
        expect(burst.map((r) => r.status)).toEqual([
          'fulfilled',
          'rejected',
          'rejected',
          'rejected',
          'fulfilled',
        ]);
        for (const r of burst) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(NotFoundError);
        const stored = burst.flatMap((r) => (r.status === 'fulfilled' ? [r.value.message.seq] : []));
        expect(stored).toEqual([1, 2]);
        expect((await storage.findRoom(room.slug))?.lastSeq).toBe(2);
      });

      it('gives edits and deletes the next seq and replays every change in order', async () => {
        const alice = await user();
        const room = await roomWith(alice.id);
        const [m1, m2, m3] = [
          await storage.appendMessage(message(room.id, alice.id, 'first')),
          await storage.appendMessage(message(room.id, alice.id, 'second')),
          await storage.appendMessage(message(room.id, alice.id, 'third')),
        ].map((r) => r.message);

        const edited = await storage.editMessage(m2!.id, 'second, edited');
        expect(edited).toMatchObject({ id: m2!.id, seq: 4, content: 'second, edited', edited: true });
        expect(await storage.deleteMessage(m3!.id)).toEqual({ seq: 5, roomSlug: room.slug });

        const changes = await storage.changesSince(room.id, 0, 100);
        expect(changes.map((c) => [c.kind, c.seq])).toEqual([
          ['created', 1],
          ['created', 2],
          ['created', 3],
          ['edited', 4],
          ['deleted', 5],
        ]);
        // Replays show the current state: the edited text, and the deleted message as a tombstone.
        expect(changes[1]).toMatchObject({
          message: { id: m2!.id, seq: 2, content: 'second, edited', edited: true },
        });
        expect(changes[2]).toMatchObject({ message: { id: m3!.id, seq: 3, content: '', deleted: true } });
        expect(changes[3]).toMatchObject({ message: { id: m2!.id, seq: 4, content: 'second, edited' } });
        expect(changes[4]).toEqual({ kind: 'deleted', seq: 5, messageId: m3!.id });

        expect((await storage.changesSince(room.id, 3, 100)).map((c) => c.seq)).toEqual([4, 5]);
        expect((await storage.changesSince(room.id, 0, 2)).map((c) => c.seq)).toEqual([1, 2]);
        expect(await storage.changesSince(room.id, 5, 100)).toEqual([]);
        expect(m1!.seq).toBe(1);
      });

      it('refuses to edit or delete a deleted or unknown message without taking a seq', async () => {
        const alice = await user();
        const room = await roomWith(alice.id);
        const { message: m } = await storage.appendMessage(message(room.id, alice.id, 'x'));
        await storage.deleteMessage(m.id);
        await expect(storage.editMessage(m.id, 'again')).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.deleteMessage(m.id)).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.editMessage(999_999, 'x')).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.deleteMessage(999_999)).rejects.toBeInstanceOf(NotFoundError);
        expect((await storage.findRoom(room.slug))?.lastSeq).toBe(2);
      });

      it('leaves a tombstone on delete: no text, no attachments, same id and place', async () => {
        const alice = await user();
        const room = await roomWith(alice.id);
        const attachments: Attachment[] = [
          { id: 'f', file_name: 'n', file_size: 1, file_type: 't', url: '/u' },
        ];
        const { message: secret } = await storage.appendMessage(
          message(room.id, alice.id, 'my secret text', { attachments }),
        );
        await storage.appendMessage(message(room.id, alice.id, 'after'));
        await storage.deleteMessage(secret.id);

        const tombstone = { id: secret.id, seq: secret.seq, content: '', attachments: [], deleted: true };
        expect(await storage.findMessage(secret.id)).toMatchObject(tombstone);
        expect((await storage.history(room.id, null, 10))[1]).toMatchObject(tombstone);
        const everything = JSON.stringify([
          await storage.history(room.id, null, 10),
          await storage.changesSince(room.id, 0, 10),
        ]);
        expect(everything).not.toContain('my secret text');
      });

      it('pages history newest first by seq', async () => {
        const alice = await user();
        const room = await roomWith(alice.id);
        for (let i = 1; i <= 5; i++) await storage.appendMessage(message(room.id, alice.id, `m${i}`));
        await storage.editMessage((await storage.history(room.id, null, 1))[0]!.id, 'm5 edited');

        const page1 = await storage.history(room.id, null, 2);
        expect(page1.map((m) => [m.content, m.seq])).toEqual([
          ['m5 edited', 5],
          ['m4', 4],
        ]);
        const page2 = await storage.history(room.id, page1[1]!.seq, 2);
        expect(page2.map((m) => m.content)).toEqual(['m3', 'm2']);
        const page3 = await storage.history(room.id, page2[1]!.seq, 2);
        expect(page3.map((m) => m.content)).toEqual(['m1']);
        expect(await storage.history(room.id, 1, 2)).toEqual([]);
        expect(await storage.history(room.id, null, 0)).toEqual([]);
      });
    });

    describe('read receipts', () => {
      it("keeps the highest seq, bounded by the room's latest change, for members only", async () => {
        const [alice, stranger] = [await user(), await user()];
        const room = await roomWith(alice.id);
        for (let i = 0; i < 5; i++) await storage.appendMessage(message(room.id, alice.id, `m${i}`));
        expect(await storage.markRoomRead(room.id, alice.id, 3)).toBe(3);
        expect(await storage.markRoomRead(room.id, alice.id, 2)).toBe(3);
        expect(await storage.markRoomRead(room.id, alice.id, 4)).toBe(4);
        expect(await storage.markRoomRead(room.id, alice.id, 1_000)).toBe(5);
        expect((await storage.roomsOf(alice.id, null, 100))[0]?.lastReadSeq).toBe(5);
        await expect(storage.markRoomRead(room.id, stranger.id, 1)).rejects.toBeInstanceOf(NotFoundError);
        await expect(storage.markRoomRead(999_999, alice.id, 1)).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    describe('read positions', () => {
      it("lists every member's last read seq with the member", async () => {
        const [alice, bob] = [await user(), await user()];
        const room = await roomWith(alice.id, bob.id);
        for (let i = 0; i < 3; i++) await storage.appendMessage(message(room.id, alice.id, `m${i}`));
        await storage.markRoomRead(room.id, bob.id, 2);
        expect(await storage.readPositions(room.id, null, 10)).toEqual([
          { user: { id: alice.id, username: alice.username, avatar: null }, seq: 0 },
          { user: { id: bob.id, username: bob.username, avatar: null }, seq: 2 },
        ]);
        const [first] = await storage.readPositions(room.id, null, 1);
        expect(await storage.readPositions(room.id, first!.user.id, 10)).toHaveLength(1);
      });
    });

    describe('notifications', () => {
      it('creates, lists newest first with paging, and counts unread', async () => {
        const alice = await user();
        const created = [];
        for (let i = 1; i <= 3; i++) {
          created.push(
            await storage.createNotification({
              userId: alice.id,
              title: `t${i}`,
              message: `m${i}`,
              category: 'mention',
              url: i === 1 ? '/rooms/x' : null,
            }),
          );
        }
        expect(created[0]).toMatchObject({
          title: 't1',
          message: 'm1',
          category: 'mention',
          url: '/rooms/x',
          read_at: null,
        });
        const page = await storage.listNotifications(alice.id, null, 2);
        expect(page.map((n) => n.title)).toEqual(['t3', 't2']);
        expect((await storage.listNotifications(alice.id, page[1]!.id, 2)).map((n) => n.title)).toEqual([
          't1',
        ]);
        expect(await storage.unreadNotificationCount(alice.id)).toBe(3);
        await expect(
          storage.createNotification({ userId: 999_999, title: 't', message: 'm', category: 'c', url: null }),
        ).rejects.toBeInstanceOf(NotFoundError);
      });

      it('creates a notification once per user while an unread one with the same category and url exists', async () => {
        const [alice, bob, carol] = [await user(), await user(), await user()];
        const content = { title: 'New messages', message: 'm', category: 'message', url: '/#/rooms/x' };
        const first = await storage.createNotificationsOnce([alice.id, bob.id, bob.id], content);
        expect(first.map((n) => [n.userId, n.notification.title])).toEqual([
          [alice.id, 'New messages'],
          [bob.id, 'New messages'],
        ]);
        expect(await storage.createNotificationsOnce([alice.id, bob.id, carol.id], content)).toEqual([
          {
            userId: carol.id,
            notification: expect.objectContaining({ category: 'message', url: '/#/rooms/x', read_at: null }),
          },
        ]);
        expect(await storage.unreadNotificationCount(bob.id)).toBe(1);
        // Another room (url) or category is a different notification; reading one allows the next.
        expect(
          await storage.createNotificationsOnce([alice.id], { ...content, url: '/#/rooms/y' }),
        ).toHaveLength(1);
        expect(await storage.createNotificationsOnce([alice.id], { ...content, url: null })).toHaveLength(1);
        expect(await storage.createNotificationsOnce([alice.id], { ...content, url: null })).toHaveLength(0);
        await storage.markAllNotificationsRead(bob.id);
        expect(await storage.createNotificationsOnce([bob.id], content)).toHaveLength(1);
        expect(await storage.createNotificationsOnce([], content)).toEqual([]);
      });

      it('rewrites the text of the notifications made from a message, or from a room for one user', async () => {
        const [alice, bob] = [await user(), await user()];
        const room = await roomWith(alice.id, bob.id);
        const other = await roomWith(alice.id, bob.id);
        const { message: posted } = await storage.appendMessage(message(room.id, alice.id, 'secret'));
        const { message: elsewhere } = await storage.appendMessage(message(other.id, alice.id, 'kept'));
        const from = (m: { id: number }, roomId: number) => ({ roomId, messageId: m.id });
        const base = { title: 't', url: null };
        const mention = await storage.createNotification({
          ...base,
          userId: bob.id,
          message: 'secret',
          category: 'mention',
          source: from(posted, room.id),
        });
        const [coalesced] = await storage.createNotificationsOnce([alice.id, bob.id], {
          ...base,
          message: 'a: secret',
          category: 'message',
          source: from(posted, room.id),
        });
        const unrelated = await storage.createNotification({
          ...base,
          userId: bob.id,
          message: 'kept',
          category: 'mention',
          source: from(elsewhere, other.id),
        });
        const service = await storage.createNotification({
          ...base,
          userId: bob.id,
          message: 'm',
          category: 'ci',
        });

        const retexted = await storage.retextNotifications(posted.id, 'mention', 'edited');
        expect(retexted).toEqual([{ userId: bob.id, notification: { ...mention, message: 'edited' } }]);
        expect(await storage.retextNotifications(posted.id, 'mention', 'edited')).toEqual([]);
        const emptied = await storage.retextNotifications(posted.id, 'message', '');
        expect(emptied.map((n) => n.userId).sort()).toEqual([alice.id, bob.id].sort((x, y) => x - y));
        expect(emptied[0]!.notification.message).toBe('');

        const redacted = await storage.redactRoomNotifications(room.id, bob.id);
        expect(redacted).toEqual([{ userId: bob.id, notification: { ...mention, message: '' } }]);
        const bobs = await storage.listNotifications(bob.id, null, 10);
        expect(bobs.find((n) => n.id === unrelated.id)?.message).toBe('kept');
        expect(bobs.find((n) => n.id === service.id)?.message).toBe('m');
        expect(coalesced).toBeDefined();
      });

      it('lets only the owner mark a notification read', async () => {
        const [alice, mallory] = [await user(), await user()];
        const n = await storage.createNotification({
          userId: alice.id,
          title: 't',
          message: 'm',
          category: 'c',
          url: null,
        });
        await storage.createNotification({
          userId: alice.id,
          title: 't2',
          message: 'm',
          category: 'c',
          url: null,
        });
        expect(await storage.markNotificationRead(mallory.id, n.id)).toBe(false);
        expect(await storage.unreadNotificationCount(alice.id)).toBe(2);
        expect(await storage.markNotificationRead(alice.id, n.id)).toBe(true);
        expect(await storage.markNotificationRead(alice.id, n.id)).toBe(true);
        expect(await storage.markNotificationRead(alice.id, 999_999)).toBe(false);
        expect(await storage.unreadNotificationCount(alice.id)).toBe(1);
        const [readOne] = (await storage.listNotifications(alice.id, null, 10)).filter((x) => x.id === n.id);
        expect(readOne?.read_at).toEqual(expect.any(String));

        await storage.markAllNotificationsRead(alice.id);
        expect(await storage.unreadNotificationCount(alice.id)).toBe(0);
      });
    });

    describe('files', () => {
      it('saves and finds file records; a duplicate id conflicts', async () => {
        const alice = await user();
        const room = await roomWith(alice.id);
        const file = {
          id: unique('file-'),
          roomId: room.id,
          uploaderId: alice.id,
          fileName: 'report.pdf',
          fileType: 'application/pdf',
          fileSize: 123_456,
          sha256: 'a'.repeat(64),
          storagePath: 'ab/abcdef',
          createdAt: new Date().toISOString(),
        };
        await storage.saveFile(file);
        expect(await storage.findFile(file.id)).toEqual(file);
        expect(await storage.findFile('missing')).toBeUndefined();
        await expect(storage.saveFile(file)).rejects.toBeInstanceOf(ConflictError);
        await expect(
          storage.saveFile({ ...file, id: unique('file-'), roomId: 999_999 }),
        ).rejects.toBeInstanceOf(NotFoundError);
        await storage.deleteFile(file.id);
        expect(await storage.findFile(file.id)).toBeUndefined();
        await storage.deleteFile(file.id);
      });

      it('finds a message by its author and client id, in any room', async () => {
        const [alice, bob] = [await user(), await user()];
        const room = await roomWith(alice.id, bob.id);
        const stored = await storage.appendMessage(message(room.id, alice.id, 'hi', { clientId: 'c-1' }));
        const found = await storage.findMessageByClientId(alice.id, 'c-1');
        expect(found).toEqual(stored.message);
        expect(await storage.findMessageByClientId(bob.id, 'c-1')).toBeUndefined();
        expect(await storage.findMessageByClientId(alice.id, 'c-2')).toBeUndefined();
      });
    });

    describe('push subscriptions', () => {
      it('saves, lists, moves an endpoint to its latest user, and deletes', async () => {
        const [alice, bob] = [await user(), await user()];
        const endpoint = `https://push.example/${unique('ep')}`;
        await storage.savePushSubscription(alice.id, { endpoint, p256dh: 'k1', auth: 'a1' });
        await storage.savePushSubscription(alice.id, { endpoint: `${endpoint}-2`, p256dh: 'k2', auth: 'a2' });
        expect(await storage.pushSubscriptionsOf(alice.id)).toMatchObject([
          { userId: alice.id, endpoint, p256dh: 'k1', auth: 'a1' },
          { userId: alice.id, endpoint: `${endpoint}-2` },
        ]);

        await storage.savePushSubscription(bob.id, { endpoint, p256dh: 'k3', auth: 'a3' });
        expect((await storage.pushSubscriptionsOf(alice.id)).map((s) => s.endpoint)).toEqual([
          `${endpoint}-2`,
        ]);
        expect(await storage.pushSubscriptionsOf(bob.id)).toMatchObject([
          { endpoint, p256dh: 'k3', auth: 'a3' },
        ]);

        await storage.deletePushSubscription(endpoint);
        expect(await storage.pushSubscriptionsOf(bob.id)).toEqual([]);
      });
    });

    describe('durability', () => {
      it('keeps acknowledged writes across close and reopen', async () => {
        const writer = await database.open();
        await writer.migrate();
        const alice = await writer.createUser(unique('durable'), 'h');
        const room = await writer.createRoom({
          slug: unique('durable-'),
          name: 'D',
          isPrivate: false,
          isDirect: false,
          hostId: alice.id,
        });
        const acked = await Promise.all(
          Array.from({ length: 20 }, (_, i) => writer.appendMessage(message(room.id, alice.id, `d${i}`))),
        );
        await writer.editMessage(acked[0]!.message.id, 'd0 edited');
        await writer.close();

        const reader = await database.open();
        try {
          await reader.migrate();
          expect(await reader.findUserByName(alice.username)).toMatchObject({ id: alice.id });
          expect((await reader.findRoom(room.slug))?.lastSeq).toBe(21);
          const history = await reader.history(room.id, null, 100);
          expect(history).toHaveLength(20);
          expect(history.at(-1)?.content).toBe('d0 edited');
        } finally {
          await reader.close();
        }
      });
    });
  });
}

storageSuite('SQLite', async () => sqliteDatabase());

const pgUp = await postgresReachable();
if (!pgUp && process.env.CI !== 'true') {
  console.warn(
    `PostgreSQL storage suite skipped: no PostgreSQL at ${PG_ADMIN_URL} (set CI=true to make this fail).`,
  );
} else {
  // Under CI=true an unreachable PostgreSQL fails the suite's setup instead of skipping it.
  storageSuite('PostgreSQL', postgresDatabase);
}
